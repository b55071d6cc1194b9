//! What the server functions do, a file per call: check who calls and each request
//! against the policy and the token, record it, then ask the store ([`start`], [`sign`],
//! [`complete`], [`abort`], and the [`stored_files`] list). Here, what every call
//! shares: who is calling, the token checked, a batch's size, and a store's or the
//! database's failure made what the browser may know of it.

pub mod abort;
pub mod complete;
pub mod open_link;
pub mod sign;
pub mod start;
pub mod stored_files;

use axum::http::header::HOST;
use axum::http::request::Parts;
use leptos::prelude::use_context;

use crate::api::error::ApiError;
use crate::core::limits::{MAX_BATCH, MIB, MIN_PART_SIZE};
use crate::server::api_tokens::TokensError;
use crate::server::hooks::HooksError;
use crate::server::http::access::Visitor;
use crate::server::links::LinksError;
use crate::server::s3::error::StoreError;
use crate::server::state::AppState;
use crate::server::system;
use crate::server::token::{Claims, TokenError};

/// What the browser is told of a failed link or record call; the details are logged here.
impl From<LinksError> for ApiError {
    fn from(err: LinksError) -> Self {
        match err {
            LinksError::NotFound(_) => ApiError::NotFound(err.to_string()),
            LinksError::Invalid(invalid) => ApiError::BadRequest(invalid.to_string()),
            LinksError::Database(err) => err.into(),
        }
    }
}

impl From<HooksError> for ApiError {
    fn from(err: HooksError) -> Self {
        match err {
            HooksError::NotFound(_) | HooksError::NoDelivery(_) | HooksError::NoLink(_) => {
                ApiError::NotFound(err.to_string())
            }
            HooksError::Invalid(invalid) => ApiError::BadRequest(invalid.to_string()),
            HooksError::Database(err) => err.into(),
        }
    }
}

impl From<TokensError> for ApiError {
    fn from(err: TokensError) -> Self {
        match err {
            TokensError::NotFound(_) => ApiError::NotFound(err.to_string()),
            TokensError::Invalid(why) => ApiError::BadRequest(why),
            TokensError::Database(err) => err.into(),
        }
    }
}

/// A database failure: logged, and told as the server's own.
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(%err, "database call failed");
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => ApiError::Unavailable,
            _ => ApiError::Internal,
        }
    }
}

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
            StoreError::Unsigned { operation, detail } => {
                tracing::error!(operation, detail, "store call not signed: no credentials");
                ApiError::StoreUnavailable
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
pub const STORE_CALLS_AT_ONCE: usize = 16;

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

/// Refuses a batch of no entries or more than [`MAX_BATCH`].
pub fn check_batch(entries: usize) -> Result<(), ApiError> {
    match (1..=MAX_BATCH).contains(&entries) {
        true => Ok(()),
        false => Err(ApiError::BadRequest(format!(
            "send between 1 and {MAX_BATCH} entries per call"
        ))),
    }
}

/// Who is calling ([`identify`](crate::server::http::access::identify) said), when the
/// call came through the router.
pub fn visitor() -> Option<Visitor> {
    use_context::<Parts>()?.extensions.get::<Visitor>().copied()
}

/// Refuses a call from anyone but the operator.
pub fn require_operator() -> Result<(), ApiError> {
    match visitor().is_some_and(|v| v.operator) {
        true => Ok(()),
        false => Err(ApiError::OperatorOnly),
    }
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
