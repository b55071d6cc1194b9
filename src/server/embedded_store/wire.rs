//! What the store's operations share in speaking S3's wire types: the one way a fault
//! below the protocol (a file that cannot be written) becomes S3's `InternalError`,
//! sizes and times as the wire carries them.

use std::time::{Duration, UNIX_EPOCH};

use s3s::dto::Timestamp;
use s3s::{S3Error, S3Result};

/// Turns a fault of the disk or the runtime into S3's `InternalError` (s3s logs it);
/// the client learns only that the store failed.
pub trait OrInternal<T> {
    fn or_internal(self) -> S3Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> OrInternal<T> for Result<T, E> {
    fn or_internal(self) -> S3Result<T> {
        self.map_err(S3Error::internal_error)
    }
}

/// A size as S3's wire types carry it.
pub fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Seconds since the epoch as an S3 timestamp.
pub fn timestamp(secs: u64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(secs))
}
