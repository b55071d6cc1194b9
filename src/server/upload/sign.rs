//! Signing parts (each bound to its length and CRC32C), and telling what the store
//! already holds of an upload.

use crate::api::error::ApiError;
use crate::api::types::{PartToSign, SignedPart, StoredPart};
use crate::core::checksum::is_crc32c;
use crate::server::state::app_state;
use crate::server::system;
use crate::server::upload::{multipart_id, refuse_if_stored, request_host, url_expiry, verify};

/// The most parts one `sign_parts` call may ask for.
pub const MAX_SIGN_BATCH: usize = 100;

pub async fn sign_parts(
    token: String,
    parts: Vec<PartToSign>,
) -> Result<Vec<SignedPart>, ApiError> {
    let state = app_state()?;
    let claims = verify(&state, &token)?;
    if parts.is_empty() || parts.len() > MAX_SIGN_BATCH {
        return Err(ApiError::BadRequest(format!(
            "ask for between 1 and {MAX_SIGN_BATCH} parts per call"
        )));
    }
    if claims.upload_id.is_none() {
        refuse_if_stored(&state, &claims).await?;
    }
    let host = request_host();
    let mut signed = Vec::with_capacity(parts.len());
    for PartToSign {
        part_number,
        crc32c,
    } in parts
    {
        let length = claims.plan.part_len(part_number).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "part {part_number} is outside this upload's {} parts",
                claims.plan.part_count
            ))
        })?;
        match &crc32c {
            Some(value) if !is_crc32c(value) => {
                return Err(ApiError::BadRequest(format!(
                    "part {part_number}'s CRC32C is not four bytes in base64"
                )));
            }
            // The store records each part's checksum and the object's from them.
            None if claims.upload_id.is_some() => {
                return Err(ApiError::BadRequest(format!(
                    "part {part_number} needs its CRC32C (`crc32c`): every part of a \
                     multipart upload is checked by the store"
                )));
            }
            _ => {}
        }
        let presigned = match &claims.upload_id {
            Some(upload_id) => {
                state
                    .storage
                    .presign_part(
                        host.as_deref(),
                        &claims.key,
                        upload_id,
                        part_number,
                        length,
                        crc32c.as_deref(),
                    )
                    .await?
            }
            // A single PUT's one "part" is the whole object: a fresh PutObject URL.
            None => {
                state
                    .storage
                    .presign_put(
                        host.as_deref(),
                        &claims.key,
                        &claims.content_type,
                        length,
                        crc32c.as_deref(),
                    )
                    .await?
            }
        };
        signed.push(SignedPart {
            part_number,
            url: presigned.url,
            headers: presigned.headers,
            expires_at: url_expiry(&state, system::now_secs()),
        });
    }
    Ok(signed)
}

pub async fn list_parts(token: String) -> Result<Vec<StoredPart>, ApiError> {
    let state = app_state()?;
    let claims = verify(&state, &token)?;
    let listed = state
        .storage
        .list_parts(&claims.key, multipart_id(&claims)?)
        .await?;
    Ok(listed
        .into_iter()
        .map(|p| StoredPart {
            part_number: p.number,
            etag: p.etag,
            size: p.size,
            crc32c: p.crc32c,
        })
        .collect())
}
