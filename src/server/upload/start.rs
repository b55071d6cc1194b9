//! Starting uploads: each file checked against the policy, its key chosen, its plan
//! made; a multipart upload created, or a small file's PUT signed with its checksum.

use crate::api::error::ApiError;
use crate::api::types::{Answer, SignedPart, StartRequest, UploadStart};
use crate::core::checksum::is_crc32c;
use crate::core::key::{Date, object_key, upload_id_at};
use crate::core::plan::PartPlan;
use crate::core::policy::{UploadPolicy, check_folder};
use crate::server::state::{AppState, app_state};
use crate::server::system;
use crate::server::token::Claims;
use crate::server::upload::{each_entry, request_host, url_expiry};

/// The rules files are checked against, for the page to show and pre-check.
pub async fn upload_policy() -> Result<UploadPolicy, ApiError> {
    Ok(app_state()?.policy)
}

pub async fn start_upload(request: StartRequest) -> Result<UploadStart, ApiError> {
    let state = app_state()?;
    start_one(&state, request_host().as_deref(), request).await
}

pub async fn start_uploads(files: Vec<StartRequest>) -> Result<Vec<Answer<UploadStart>>, ApiError> {
    each_entry(files, start_one).await
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
    let plan = PartPlan::new(request.size, state.policy.part_size)
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
    let (upload_id, put, full_object) = if plan.is_single_put() {
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

fn today() -> Date {
    let date = time::OffsetDateTime::now_utc().date();
    Date {
        year: date.year(),
        month: u8::from(date.month()),
        day: date.day(),
    }
}
