//! What the server functions do, a file per call: check each request against the
//! policy and the token, then ask the store ([`start`], [`sign`], [`complete`],
//! [`abort`], and the [`stored_files`] list). Here, what every call shares: the token
//! checked, batches answered entry by entry, and a store's failure made what the
//! browser may know of it.

pub mod abort;
pub mod complete;
pub mod sign;
pub mod start;
pub mod stored_files;

use axum::http::header::HOST;
use axum::http::request::Parts;
use futures::{StreamExt, stream};
use leptos::prelude::use_context;

use crate::api::error::ApiError;
use crate::api::types::Answer;
use crate::core::limits::{MAX_BATCH, MIB, MIN_PART_SIZE};
use crate::server::s3::error::StoreError;
use crate::server::state::{AppState, app_state};
use crate::server::system;
use crate::server::token::{Claims, TokenError};

/// What the browser is told of a failed store call; the details are logged here, once.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        let known = match err.code().unwrap_or_default() {
            _ if err.is_no_such_upload() => Some(ApiError::NotFound(
                "the upload is no longer in the store (it was aborted or expired)".into(),
            )),
            _ if err.is_not_found() => {
                Some(ApiError::NotFound("the object is not in the store".into()))
            }
            "EntityTooSmall" => Some(ApiError::BadRequest(format!(
                "a part other than the last is smaller than {} MiB",
                MIN_PART_SIZE / MIB
            ))),
            "BadDigest" | "InvalidDigest" => Some(ApiError::BadRequest(
                "a part's checksum does not match what the store holds".into(),
            )),
            "InvalidPart" | "InvalidPartOrder" => Some(ApiError::BadRequest(
                "the parts do not match what the store holds".into(),
            )),
            "SlowDown" | "ServiceUnavailable" => Some(ApiError::StoreUnavailable),
            _ => None,
        };
        if let Some(known) = known {
            return known;
        }
        match &err {
            StoreError::Unreachable { operation, detail } => {
                tracing::error!(operation, detail, "store unreachable");
                ApiError::StoreUnavailable
            }
            StoreError::Refused {
                operation,
                status,
                code,
                message,
            } => {
                tracing::error!(operation, code, status, ?message, "store refused a call");
                ApiError::Internal
            }
            StoreError::Invalid { operation, detail } => {
                tracing::error!(operation, detail, "store call not sent");
                ApiError::Internal
            }
        }
    }
}

/// How many entries of a batch the server works on at once: enough to hide a store's
/// latency (CreateMultipartUpload, HeadObject), few enough not to flood it.
const STORE_CALLS_AT_ONCE: usize = 16;

/// The `Host` the browser used, when it is a plain authority (for presigned URLs on the
/// app's own origin).
pub fn request_host() -> Option<String> {
    let parts = use_context::<Parts>()?;
    let host = parts.headers.get(HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    plain.then(|| host.to_owned())
}

/// The claims of `token`, or why it is refused.
pub fn verify(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    state
        .tokens
        .verify(token, system::now_secs())
        .map_err(|e| match e {
            TokenError::Invalid => ApiError::BadToken,
            TokenError::Expired => ApiError::TokenExpired,
        })
}

/// The upload id of a multipart upload's claims; a single PUT has none.
pub fn multipart_id(claims: &Claims) -> Result<&str, ApiError> {
    claims
        .upload_id
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("this upload is a single PUT; it has no parts".into()))
}

/// Answers each entry of a batch (between one and [`MAX_BATCH`]) with `answer`, a few
/// at once, in the order of the batch.
pub async fn each_entry<T, R>(
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

/// When a URL presigned at `now` stops working.
pub fn url_expiry(state: &AppState, now: u64) -> u64 {
    now.saturating_add(state.storage.url_ttl().as_secs())
}

/// Refuses a call on a single PUT's token once its file is stored: a PUT is whole or
/// nothing, so a stored file is a finished upload, which the token may no longer
/// replace (its URLs only create, and none is signed again) or remove. (A multipart
/// upload is final once completed: the store forgets its id.)
pub async fn refuse_if_stored(state: &AppState, claims: &Claims) -> Result<(), ApiError> {
    match state.storage.exists(&claims.key).await? {
        true => Err(ApiError::Finished),
        false => Ok(()),
    }
}
