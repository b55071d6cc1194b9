//! What the server functions do: check each request against the policy and the token,
//! then ask the store; and the list of stored files. Here a store's failure becomes
//! what the browser may know of it.

pub mod calls;
pub mod file_list;

use crate::api::error::ApiError;
use crate::core::limits::{MIB, MIN_PART_SIZE};
use crate::server::s3::error::StoreError;

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
