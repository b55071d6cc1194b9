//! The storage layer's one error type: what S3 refuses a request for, and faults below
//! the protocol. `From<Error> for S3Error` is the one way either reaches the wire.

use std::io;

use s3s::{S3Error, S3ErrorCode};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a storage operation did not happen; each refusal is named as S3 names it, so
/// clients see the codes they know. Messages, where given, are shown to the client.
#[derive(Debug)]
pub enum Error {
    NoSuchBucket,
    BucketAlreadyOwnedByYou,
    NoSuchKey,
    NoSuchUpload,
    EntityTooLarge,
    EntityTooSmall(String),
    InvalidPart(String),
    InvalidPartOrder,
    InvalidDigest,
    BadDigest(String),
    IncompleteBody(String),
    InvalidArgument(String),
    InvalidRequest(String),
    MalformedXml(String),
    NotImplemented(String),
    /// A conditional write (`If-None-Match: *`) found the key taken.
    PreconditionFailed,
    /// A fault of the disk or the runtime: s3s logs it, and the client learns only that
    /// the store failed.
    Internal(io::Error),
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Self::Internal(error)
    }
}

impl From<Error> for S3Error {
    fn from(error: Error) -> Self {
        use S3ErrorCode as Code;
        let (code, message): (Code, String) = match error {
            Error::Internal(error) => return S3Error::internal_error(error),
            // S3's own words for the refusals that carry no detail.
            Error::NoSuchBucket => (Code::NoSuchBucket, BUCKET_MISSING.into()),
            Error::BucketAlreadyOwnedByYou => (Code::BucketAlreadyOwnedByYou, BUCKET_OWNED.into()),
            Error::NoSuchKey => (Code::NoSuchKey, KEY_MISSING.into()),
            Error::NoSuchUpload => (Code::NoSuchUpload, UPLOAD_MISSING.into()),
            Error::EntityTooLarge => (Code::EntityTooLarge, TOO_LARGE.into()),
            Error::InvalidPartOrder => (Code::InvalidPartOrder, PART_ORDER.into()),
            Error::InvalidDigest => (Code::InvalidDigest, BAD_MD5.into()),
            Error::PreconditionFailed => (Code::PreconditionFailed, PRECONDITION.into()),
            Error::EntityTooSmall(message) => (Code::EntityTooSmall, message),
            Error::InvalidPart(message) => (Code::InvalidPart, message),
            Error::BadDigest(message) => (Code::BadDigest, message),
            Error::IncompleteBody(message) => (Code::IncompleteBody, message),
            Error::InvalidArgument(message) => (Code::InvalidArgument, message),
            Error::InvalidRequest(message) => (Code::InvalidRequest, message),
            Error::MalformedXml(message) => (Code::MalformedXML, message),
            Error::NotImplemented(message) => (Code::NotImplemented, message),
        };
        S3Error::with_message(code, message)
    }
}

const BUCKET_MISSING: &str = "The specified bucket does not exist";
const BUCKET_OWNED: &str =
    "Your previous request to create the named bucket succeeded and you already own it.";
const KEY_MISSING: &str = "The specified key does not exist.";
const UPLOAD_MISSING: &str = "The specified upload does not exist. The upload ID may be invalid, \
                              or the upload may have been aborted or completed.";
const TOO_LARGE: &str = "Your proposed upload exceeds the maximum allowed size";
const PART_ORDER: &str =
    "The list of parts was not in ascending order. Parts must be ordered by part number.";
const BAD_MD5: &str = "The Content-MD5 you specified was invalid.";
const PRECONDITION: &str = "At least one of the pre-conditions you specified did not hold";
