//! The server functions' bodies: the policy, key naming, tokens and the store wired
//! together. Each checks everything it is sent before it touches the store.

use axum::http::header::HOST;
use axum::http::request::Parts;
use futures::{StreamExt, stream};
use leptos::prelude::use_context;

use crate::api::error::ApiError;
use crate::api::types::{
    Answer, CompletedPart, Completion, PartToSign, SignedPart, StartRequest, StoredObject,
    StoredPart, UploadStart,
};
use crate::core::checksum::{composite_crc32c, full_object_crc32c, is_crc32c};
use crate::core::key::{Date, attachment_disposition, object_key, upload_id_at, uploaded_path};
use crate::core::limits::MAX_BATCH;
use crate::core::plan::PartPlan;
use crate::core::policy::{UploadPolicy, check_folder};
use crate::server::s3::client::{ListedPart, PartToComplete};
use crate::server::state::{AppState, app_state};
use crate::server::system;
use crate::server::token::{Claims, TokenError};

/// The most parts one `sign_parts` call may ask for.
pub const MAX_SIGN_BATCH: usize = 100;

/// How many entries of a batch the server works on at once: enough to hide a store's
/// latency (CreateMultipartUpload, HeadObject), few enough not to flood it.
const STORE_CALLS_AT_ONCE: usize = 16;

/// The `Host` the browser used, when it is a plain authority (for presigned URLs on the
/// app's own origin).
pub(super) fn request_host() -> Option<String> {
    let parts = use_context::<Parts>()?;
    let host = parts.headers.get(HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    plain.then(|| host.to_owned())
}

fn verify(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    state
        .tokens
        .verify(token, system::now_secs())
        .map_err(|e| match e {
            TokenError::Invalid => ApiError::BadToken,
            TokenError::Expired => ApiError::TokenExpired,
        })
}

fn multipart_id(claims: &Claims) -> Result<&str, ApiError> {
    claims
        .upload_id
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("this upload is a single PUT; it has no parts".into()))
}

pub async fn upload_policy() -> Result<UploadPolicy, ApiError> {
    Ok(app_state()?.policy)
}

pub async fn delete_file(key: String) -> Result<(), ApiError> {
    let state = app_state()?;
    if !(state.files.list && state.files.delete) {
        return Err(ApiError::Refused(
            "deleting files is not allowed here".into(),
        ));
    }
    if uploaded_path(&state.key_prefix, &key).is_none() {
        return Err(ApiError::BadRequest("not a file s3drop uploaded".into()));
    }
    state.storage.delete(&key).await?;
    tracing::info!(%key, "file deleted");
    Ok(())
}

pub async fn start_upload(request: StartRequest) -> Result<UploadStart, ApiError> {
    let state = app_state()?;
    start_one(&state, request_host().as_deref(), request).await
}

pub async fn start_uploads(files: Vec<StartRequest>) -> Result<Vec<Answer<UploadStart>>, ApiError> {
    each_entry(files, start_one).await
}

/// Answers each entry of a batch (between one and [`MAX_BATCH`]) with `answer`, a few
/// at once, in the order of the batch.
async fn each_entry<T, R>(
    entries: Vec<T>,
    answer: impl AsyncFn(&AppState, Option<&str>, T) -> Answer<R>,
) -> Result<Vec<Answer<R>>, ApiError> {
    if !(1..=MAX_BATCH).contains(&entries.len()) {
        return Err(ApiError::BadRequest(format!(
            "send between 1 and {MAX_BATCH} entries per call"
        )));
    }
    let state = app_state()?;
    let host = request_host();
    let host = host.as_deref();
    Ok(stream::iter(entries)
        .map(|entry| answer(&state, host, entry))
        .buffered(STORE_CALLS_AT_ONCE)
        .collect()
        .await)
}

/// Checks one file against the policy, chooses its key and starts its upload.
async fn start_one(
    state: &AppState,
    host: Option<&str>,
    request: StartRequest,
) -> Result<UploadStart, ApiError> {
    let content_type = state
        .policy
        .check(&request.name, request.size, &request.content_type)
        .map_err(|e| ApiError::Refused(e.to_string()))?;
    let plan = PartPlan::new(request.size, state.part_size)
        .map_err(|e| ApiError::Refused(e.to_string()))?;
    check_folder(&request.folder).map_err(|e| ApiError::Refused(e.to_string()))?;
    if request.crc32c.as_deref().is_some_and(|c| !is_crc32c(c)) {
        return Err(ApiError::BadRequest(
            "the file's CRC32C is not four bytes in base64".into(),
        ));
    }
    let key = object_key(
        &state.key_prefix,
        today(),
        &upload_id_at(system::now_ms(), &system::random_id()),
        &request.folder,
        &request.name,
    );
    let started_at = system::now_secs();
    let expires_at = started_at.saturating_add(state.token_ttl.as_secs());
    let (upload_id, put, full_object) = if plan.part_count == 1 {
        // Signed now only when it can be bound to the file's checksum: the page would
        // throw an unbound URL away and sign part 1 with its checksum.
        let put = match request.crc32c.as_deref() {
            Some(crc32c) => {
                let put = state
                    .storage
                    .presign_put(host, &key, &content_type, request.size, Some(crc32c))
                    .await?;
                Some(SignedPart {
                    part_number: 1,
                    url: put.url,
                    headers: put.headers,
                    expires_at: url_expiry(state, started_at),
                })
            }
            None => None,
        };
        (None, put, false)
    } else {
        let (upload_id, full_object) = state.storage.create_multipart(&key, &content_type).await?;
        (Some(upload_id), None, full_object)
    };
    state.metrics.started(upload_id.is_some());
    let kind = if upload_id.is_some() {
        "multipart"
    } else {
        "single"
    };
    tracing::info!(%key, size = plan.size, kind, parts = plan.part_count, "upload started");
    let token = state.tokens.sign(&Claims {
        key: key.clone(),
        name: request.name,
        content_type,
        upload_id,
        plan,
        full_object,
        started_at,
        expires_at,
    });
    Ok(UploadStart {
        key,
        token,
        expires_at,
        plan,
        put,
    })
}

/// When a URL presigned at `now` stops working.
fn url_expiry(state: &AppState, now: u64) -> u64 {
    now.saturating_add(state.storage.url_ttl().as_secs())
}

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

pub async fn complete_upload(
    token: String,
    parts: Vec<CompletedPart>,
) -> Result<StoredObject, ApiError> {
    let state = app_state()?;
    complete_one(
        &state,
        request_host().as_deref(),
        Completion { token, parts },
    )
    .await
}

pub async fn complete_uploads(
    uploads: Vec<Completion>,
) -> Result<Vec<Answer<StoredObject>>, ApiError> {
    each_entry(uploads, complete_one).await
}

/// Verifies one upload's token, completes it, and counts and logs the outcome.
async fn complete_one(
    state: &AppState,
    host: Option<&str>,
    Completion { token, parts }: Completion,
) -> Result<StoredObject, ApiError> {
    let claims = verify(state, &token)?;
    let result = finish(state, host, &claims, parts).await;
    match &result {
        Ok(stored) => {
            state.metrics.completed.inc();
            state.metrics.bytes_completed.inc_by(stored.size);
            let seconds = system::now_secs().saturating_sub(claims.started_at);
            let crc32c = stored.crc32c.as_deref().unwrap_or("none");
            tracing::info!(key = %claims.key, size = stored.size, seconds, crc32c, "upload completed");
        }
        Err(err) => {
            state.metrics.failed.inc();
            tracing::warn!(key = %claims.key, reason = %err, "upload completion refused");
        }
    }
    result
}

/// Checks the stored parts (or single object) against the plan and completes.
async fn finish(
    state: &AppState,
    host: Option<&str>,
    claims: &Claims,
    parts: Vec<CompletedPart>,
) -> Result<StoredObject, ApiError> {
    // The whole file's checksum from the parts, for stores that do not record one.
    let mut from_parts = None;
    match &claims.upload_id {
        None if !parts.is_empty() => {
            return Err(ApiError::BadRequest(
                "a single-PUT upload is completed without parts".into(),
            ));
        }
        None => {}
        Some(upload_id) => {
            check_parts(&claims.plan, &parts)?;
            match state.storage.list_parts(&claims.key, upload_id).await {
                Ok(stored) => {
                    let parts = check_stored(&claims.plan, &parts, &stored)?;
                    // The whole file's CRC32C, combined from the parts' (no second read).
                    let whole = full_object_crc32c(parts.iter().map(|p| {
                        let len = claims.plan.part_len(p.part_number).unwrap_or_default();
                        (p.crc32c.as_deref(), len)
                    }));
                    from_parts = match claims.full_object {
                        true => whole.clone(),
                        false => composite_crc32c(parts.iter().map(|p| p.crc32c.as_deref())),
                    };
                    let parts: Vec<PartToComplete> = parts
                        .into_iter()
                        .map(|p| PartToComplete {
                            number: p.part_number,
                            etag: p.etag,
                            crc32c: p.crc32c,
                        })
                        .collect();
                    let full_object_crc32c = whole.filter(|_| claims.full_object);
                    state
                        .storage
                        .complete_multipart(
                            &claims.key,
                            upload_id,
                            &parts,
                            full_object_crc32c.as_deref(),
                        )
                        .await?;
                }
                // Completed already (a retried call whose first answer was lost): the
                // object itself is checked below, so completing is idempotent.
                Err(err) if err.is_no_such_upload() => {}
                Err(other) => return Err(other.into()),
            }
        }
    }
    let info = state
        .storage
        .head(&claims.key)
        .await
        .map_err(|e| match e.is_not_found() {
            true => ApiError::NotFound("the file has not been uploaded".into()),
            false => e.into(),
        })?;
    if info.size != claims.plan.size {
        return Err(ApiError::BadRequest(format!(
            "the store holds {} bytes but the file has {}",
            info.size, claims.plan.size
        )));
    }
    let download_url = state
        .storage
        .presign_get(host, &claims.key, &attachment_disposition(&claims.name))
        .await?;
    Ok(StoredObject {
        key: claims.key.clone(),
        name: claims.name.clone(),
        size: info.size,
        content_type: claims.content_type.clone(),
        etag: info.etag,
        crc32c: info.crc32c.or(from_parts),
        download_url,
    })
}

pub async fn abort_upload(token: String) -> Result<(), ApiError> {
    let state = app_state()?;
    let claims = verify(&state, &token)?;
    match &claims.upload_id {
        Some(upload_id) => {
            state
                .storage
                .abort_multipart(&claims.key, upload_id)
                .await?
        }
        // Nothing to remove: a single PUT's upload has stored nothing until its file is
        // stored whole, and then it has finished.
        None => refuse_if_stored(&state, &claims).await?,
    }
    state.metrics.aborted.inc();
    tracing::info!(key = %claims.key, "upload aborted");
    Ok(())
}

/// Refuses a call on a single PUT's token once its file is stored: a PUT is whole or
/// nothing, so a stored file is a finished upload, which the token may no longer
/// replace (its URLs only create, and none is signed again) or remove. (A multipart
/// upload is final once completed: the store forgets its id.)
async fn refuse_if_stored(state: &AppState, claims: &Claims) -> Result<(), ApiError> {
    match state.storage.exists(&claims.key).await? {
        true => Err(ApiError::Finished),
        false => Ok(()),
    }
}

/// The parts the browser lists must be exactly 1..=count, in order, each with an ETag.
fn check_parts(plan: &PartPlan, parts: &[CompletedPart]) -> Result<(), ApiError> {
    if parts.len() != plan.part_count as usize {
        return Err(ApiError::BadRequest(format!(
            "the upload has {} parts; {} were listed",
            plan.part_count,
            parts.len()
        )));
    }
    for (expected, part) in (1..).zip(parts) {
        if part.part_number != expected {
            return Err(ApiError::BadRequest(format!(
                "parts must be listed once each, in order: expected part {expected}, got {}",
                part.part_number
            )));
        }
        if part.etag.trim().is_empty() {
            return Err(ApiError::BadRequest(format!("part {expected} has no ETag")));
        }
        if part.crc32c.as_deref().is_some_and(|c| !is_crc32c(c)) {
            return Err(ApiError::BadRequest(format!(
                "part {expected}'s CRC32C is not four bytes in base64"
            )));
        }
    }
    Ok(())
}

/// What the store holds must match the plan's sizes and the browser's ETags and
/// checksums; answers the parts to complete with, each with its CRC32C (the store's,
/// or the browser's where the store lists none).
fn check_stored(
    plan: &PartPlan,
    parts: &[CompletedPart],
    stored: &[ListedPart],
) -> Result<Vec<CompletedPart>, ApiError> {
    parts
        .iter()
        .map(|part| {
            let n = part.part_number;
            let held = stored
                .iter()
                .find(|s| s.number == n)
                .ok_or_else(|| ApiError::BadRequest(format!("part {n} is not in the store")))?;
            let planned = plan.part_len(n).unwrap_or_default();
            if held.size != planned {
                return Err(ApiError::BadRequest(format!(
                    "part {n} in the store is {} bytes; the plan says {planned}",
                    held.size
                )));
            }
            if held.etag.trim_matches('"') != part.etag.trim_matches('"') {
                return Err(ApiError::BadRequest(format!(
                    "part {n}'s ETag does not match the store's"
                )));
            }
            let crc32c = match (&held.crc32c, &part.crc32c) {
                (Some(held), Some(sent)) if held != sent => {
                    return Err(ApiError::BadRequest(format!(
                        "part {n}'s CRC32C does not match the store's"
                    )));
                }
                (Some(value), _) | (None, Some(value)) => Some(value.clone()),
                (None, None) => None,
            };
            Ok(CompletedPart {
                crc32c,
                ..part.clone()
            })
        })
        .collect()
}

fn today() -> Date {
    let date = time::OffsetDateTime::now_utc().date();
    Date {
        year: date.year(),
        month: u8::from(date.month()),
        day: date.day(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::limits::MIB;

    fn plan() -> PartPlan {
        PartPlan::new(12 * MIB, 5 * MIB).expect("plannable")
    }

    fn listed(numbers: &[u32]) -> Vec<CompletedPart> {
        numbers
            .iter()
            .map(|&n| CompletedPart {
                part_number: n,
                etag: format!("\"e{n}\""),
                crc32c: Some(crate::core::checksum::crc32c(&[n as u8])),
            })
            .collect()
    }

    #[test]
    fn listed_parts_must_match_the_plan() {
        assert_eq!(check_parts(&plan(), &listed(&[1, 2, 3])), Ok(()));
        for bad in [
            &[1, 2][..],
            &[1, 2, 3, 4],
            &[1, 3, 2],
            &[1, 1, 3],
            &[0, 1, 2],
            &[2, 3, 4],
        ] {
            assert!(check_parts(&plan(), &listed(bad)).is_err(), "{bad:?}");
        }
        let mut no_etag = listed(&[1, 2, 3]);
        no_etag[1].etag = " ".into();
        assert!(check_parts(&plan(), &no_etag).is_err());
    }

    #[test]
    fn stored_parts_must_match_sizes_etags_and_checksums() {
        let stored = |sizes: [u64; 3]| -> Vec<ListedPart> {
            (1..=3)
                .zip(sizes)
                .map(|(n, size)| ListedPart {
                    number: n,
                    etag: format!("e{n}"),
                    size,
                    crc32c: None,
                })
                .collect()
        };
        let parts = listed(&[1, 2, 3]);
        // A store that lists no checksums: the browser's are used.
        assert_eq!(
            check_stored(&plan(), &parts, &stored([5 * MIB, 5 * MIB, 2 * MIB])),
            Ok(parts.clone())
        );
        // A store that lists them: they must agree; the store's are used.
        let mut listing = stored([5 * MIB, 5 * MIB, 2 * MIB]);
        listing[0].crc32c = parts[0].crc32c.clone();
        let mut unsent = parts.clone();
        unsent[0].crc32c = None;
        assert_eq!(check_stored(&plan(), &unsent, &listing), Ok(parts.clone()));
        listing[0].crc32c = Some("BBBBBB==".into());
        assert!(check_stored(&plan(), &parts, &listing).is_err());
        assert!(check_stored(&plan(), &parts, &stored([5 * MIB, 5 * MIB, 2 * MIB + 1])).is_err());
        assert!(check_stored(&plan(), &parts, &stored([5 * MIB, 5 * MIB, 2 * MIB])[..2]).is_err());
        let mut wrong = stored([5 * MIB, 5 * MIB, 2 * MIB]);
        wrong[0].etag = "other".into();
        assert!(check_stored(&plan(), &parts, &wrong).is_err());
    }
}
