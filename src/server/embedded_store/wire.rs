//! What the store's S3 face shares in reading and writing S3's wire: the checks S3 makes
//! of every request, and the conversions between the wire's shapes (sizes, times,
//! headers, encoded keys) and the storage layer's.

use std::time::{Duration, UNIX_EPOCH};

use s3s::access::{S3Access, S3AccessContext};
use s3s::dto::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, ETagCondition, Metadata, Owner, StreamingBlob,
    Timestamp, TimestampFormat,
};
use s3s::{S3Result, TrailingHeaders, s3_error};

use super::body::Incoming;
use super::checksums::{Algorithm, Checksums};
use super::error::Error;
use crate::core::checksum::is_composite;
use crate::core::limits::{MAX_LIST_PAGE, MAX_PRESIGN_SECS};

/// What S3 refuses before any operation, once the signature is checked: anonymous
/// requests, and presigned URLs that claim to live more than seven days (s3s checks a
/// URL's signature and whether it has expired, not how long it claims to live).
pub struct RequestRules;

#[async_trait::async_trait]
impl S3Access for RequestRules {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_none() {
            return Err(s3_error!(AccessDenied, "Signature is required"));
        }
        let claimed = cx.uri().query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("X-Amz-Expires="))
        });
        match claimed.map(str::parse::<u64>) {
            Some(Ok(seconds)) if seconds > MAX_PRESIGN_SECS => Err(s3_error!(
                AuthorizationQueryParametersError,
                "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_SECS}"
            )),
            Some(Err(_)) => Err(s3_error!(
                AuthorizationQueryParametersError,
                "X-Amz-Expires should be a number"
            )),
            _ => Ok(()),
        }
    }
}

/// A request's body and its trailer's checksums, for the storage layer.
pub(super) fn incoming(
    body: Option<StreamingBlob>,
    trailers: Option<TrailingHeaders>,
) -> S3Result<Incoming> {
    let body = body.ok_or_else(|| s3_error!(IncompleteBody, "the request has no body"))?;
    Ok(Incoming {
        bytes: Box::pin(body),
        trailer: Box::new(move || {
            let mut checksums = Checksums::default();
            let Some(headers) = trailers.and_then(|t| t.take()) else {
                return Ok(checksums);
            };
            for algorithm in Algorithm::ALL {
                let header = format!("x-amz-checksum-{}", algorithm.name());
                if let Some(value) = headers.get(header.as_str()) {
                    let value = value.to_str().map_err(|_| {
                        Error::InvalidArgument(format!("{header} is not a checksum"))
                    })?;
                    checksums.set(algorithm, value.to_owned());
                }
            }
            Ok(checksums)
        }),
    })
}

pub(super) fn content_length(length: Option<i64>) -> S3Result<Option<u64>> {
    length
        .map(|n| {
            u64::try_from(n).map_err(|_| s3_error!(InvalidArgument, "negative Content-Length"))
        })
        .transpose()
}

pub(super) fn algorithm(algorithm: ChecksumAlgorithm) -> S3Result<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(algorithm.as_str()))
        .ok_or_else(|| s3_error!(InvalidArgument, "unsupported checksum algorithm"))
}

/// The algorithm an AWS SDK names in `x-amz-sdk-checksum-algorithm`.
pub(super) fn sdk_algorithm(headers: &axum::http::HeaderMap) -> Option<S3Result<Algorithm>> {
    let named = headers.get("x-amz-sdk-checksum-algorithm")?.to_str().ok()?;
    Some(algorithm(ChecksumAlgorithm::from(named.to_owned())))
}

pub(super) fn content_type(sent: Option<String>) -> String {
    sent.unwrap_or_else(|| "application/octet-stream".into())
}

/// A listing's page size: what the request asks for, at most S3's 1,000.
pub(super) fn page_size(asked: Option<i32>) -> u32 {
    asked.map_or(MAX_LIST_PAGE, |n| {
        u32::try_from(n).unwrap_or(0).min(MAX_LIST_PAGE)
    })
}

/// The checksums a read answers: S3 gives them only to a request that asks for them
/// (`x-amz-checksum-mode: ENABLED`).
pub(super) fn asked_for(mode: Option<&ChecksumMode>, checksums: Checksums) -> Checksums {
    match mode {
        Some(mode) if mode.as_str() == ChecksumMode::ENABLED => checksums,
        _ => Checksums::default(),
    }
}

/// The kind of checksum an object's CRC32C is, as reads answer it: S3's composite of
/// the parts' (`…-N`) or the whole object's. `None` without one.
pub(super) fn checksum_type(checksums: &Checksums) -> Option<ChecksumType> {
    let value = checksums.crc32c.as_deref()?;
    Some(ChecksumType::from_static(if is_composite(value) {
        ChecksumType::COMPOSITE
    } else {
        ChecksumType::FULL_OBJECT
    }))
}

/// Whether a CreateMultipartUpload asks for a full-object CRC32C: the store combines
/// CRC32Cs only, so other full-object algorithms are not implemented, and a checksum
/// type needs an algorithm, as S3 says.
pub(super) fn full_object_kind(
    kind: Option<&ChecksumType>,
    algorithm: Option<&ChecksumAlgorithm>,
) -> Result<bool, Error> {
    let Some(kind) = kind.map(ChecksumType::as_str) else {
        return Ok(false);
    };
    match (kind, algorithm.map(ChecksumAlgorithm::as_str)) {
        (ChecksumType::COMPOSITE, _) => Ok(false),
        (ChecksumType::FULL_OBJECT, Some(ChecksumAlgorithm::CRC32C)) => Ok(true),
        (ChecksumType::FULL_OBJECT, Some(other)) => Err(Error::NotImplemented(format!(
            "This store keeps full-object checksums of CRC32C only, not {other}"
        ))),
        (_, None) => Err(Error::InvalidRequest(
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
                .into(),
        )),
        (other, _) => Err(Error::InvalidArgument(format!(
            "Value for x-amz-checksum-type header is invalid: {other}"
        ))),
    }
}

/// Whether a PutObject may only create its key (`If-None-Match: *`, S3's conditional
/// write). The other conditions S3 knows are refused rather than ignored, so no client
/// takes an unconditional write for a checked one.
pub(super) fn only_if_new(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> Result<bool, Error> {
    match (if_match, if_none_match) {
        (None, None) => Ok(false),
        (None, Some(ETagCondition::Any)) => Ok(true),
        (None, Some(ETagCondition::ETag(_))) => Err(Error::NotImplemented(
            "If-None-Match on a write takes only *".into(),
        )),
        (Some(_), _) => Err(Error::NotImplemented(
            "This store does not take If-Match on writes".into(),
        )),
    }
}

/// User metadata as the wire carries it (no header when there is none).
pub(super) fn metadata_out(
    metadata: std::collections::BTreeMap<String, String>,
) -> Option<Metadata> {
    (!metadata.is_empty()).then(|| metadata.into_iter().collect())
}

/// The owner every listed object has: the store has one account.
pub(super) fn owner() -> Owner {
    Owner {
        id: Some(OWNER_ID.into()),
        display_name: Some("s3drop".into()),
    }
}

/// The canonical id of the store's one account (a constant: the store has no others).
const OWNER_ID: &str = "5d3c6b1e8f0a4e27b9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d";

/// `text` with every byte but S3's unreserved ones and `/` percent-encoded, as S3
/// encodes keys for `encoding-type=url`.
pub(super) fn url_encode(text: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(text, KEEP).to_string()
}

/// A `Content-Encoding` as S3 keeps it: without `aws-chunked`, which only says how the
/// request's body was framed.
pub(super) fn stored_encoding(sent: String) -> Option<String> {
    let kept: Vec<&str> = sent
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

/// An `Expires` timestamp as the HTTP date it is stored as.
pub(super) fn http_date(expires: &Timestamp) -> Option<String> {
    let mut out = Vec::new();
    expires.format(TimestampFormat::HttpDate, &mut out).ok()?;
    String::from_utf8(out).ok()
}

pub(super) fn parse_http_date(text: &str) -> Option<Timestamp> {
    Timestamp::parse(TimestampFormat::HttpDate, text).ok()
}

/// A size as S3's wire types carry it.
pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Seconds since the epoch as an S3 timestamp.
pub(super) fn timestamp(secs: u64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_url_encoded_as_s3_encodes_them() {
        let cases = [
            ("plain/key.txt", "plain/key.txt"),
            ("a b+c/ü.txt", "a%20b%2Bc/%C3%BC.txt"),
            ("x~y_z-1.2", "x~y_z-1.2"),
            ("q?&=#%", "q%3F%26%3D%23%25"),
        ];
        for (key, encoded) in cases {
            assert_eq!(url_encode(key), encoded, "{key}");
        }
    }

    #[test]
    fn aws_chunked_is_not_kept_as_a_content_encoding() {
        let cases = [
            ("aws-chunked", None),
            ("aws-chunked, gzip", Some("gzip")),
            ("gzip,aws-chunked", Some("gzip")),
            ("br", Some("br")),
        ];
        for (sent, kept) in cases {
            assert_eq!(stored_encoding(sent.to_owned()).as_deref(), kept, "{sent}");
        }
    }
}
