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
    MalformedXml(String),
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
        let (code, message) = match error {
            Error::Internal(error) => return S3Error::internal_error(error),
            Error::NoSuchBucket => return S3Error::new(Code::NoSuchBucket),
            Error::BucketAlreadyOwnedByYou => return S3Error::new(Code::BucketAlreadyOwnedByYou),
            Error::NoSuchKey => return S3Error::new(Code::NoSuchKey),
            Error::NoSuchUpload => return S3Error::new(Code::NoSuchUpload),
            Error::EntityTooLarge => return S3Error::new(Code::EntityTooLarge),
            Error::InvalidPartOrder => return S3Error::new(Code::InvalidPartOrder),
            Error::InvalidDigest => return S3Error::new(Code::InvalidDigest),
            Error::EntityTooSmall(message) => (Code::EntityTooSmall, message),
            Error::InvalidPart(message) => (Code::InvalidPart, message),
            Error::BadDigest(message) => (Code::BadDigest, message),
            Error::IncompleteBody(message) => (Code::IncompleteBody, message),
            Error::InvalidArgument(message) => (Code::InvalidArgument, message),
            Error::MalformedXml(message) => (Code::MalformedXML, message),
        };
        S3Error::with_message(code, message)
    }
}
