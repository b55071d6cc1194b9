//! Receiving a request body: streamed to a temporary file, never held whole in memory,
//! while its ETag and any checksums the request names are computed; then checked against
//! what the request promised before the caller may publish it.

use std::path::PathBuf;

use futures::StreamExt;
use md5::{Digest, Md5};
use s3s::checksum::ChecksumHasher;
use s3s::dto::{ChecksumAlgorithm, StreamingBlob};
use s3s::{S3Result, TrailingHeaders, s3_error};
use tokio::fs;
use tokio::io::{AsyncWriteExt, BufWriter};
use xxhash_rust::xxh3::Xxh3;

use super::checksums::{Algorithm, Checksums};
use super::layout::{self, Layout};
use super::wire::OrInternal;

/// Write buffer size: large enough that a part costs few system calls.
const WRITE_BUFFER: usize = 1 << 20;

/// What a request promised about its body.
#[derive(Debug)]
pub struct Promised {
    pub content_length: Option<i64>,
    pub content_md5: Option<String>,
    pub algorithm: Option<ChecksumAlgorithm>,
    /// The checksums the request's headers carry.
    pub checksums: Checksums,
}

impl Promised {
    /// Refuses a body announced as longer than `limit` before reading any of it.
    pub fn check_length(&self, limit: u64) -> S3Result<()> {
        match self.content_length.map(u64::try_from) {
            Some(Ok(length)) if length > limit => Err(s3_error!(EntityTooLarge)),
            Some(Err(_)) => Err(s3_error!(InvalidArgument, "negative Content-Length")),
            _ => Ok(()),
        }
    }
}

/// How a body's ETag is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtagOf {
    /// The MD5 in hex, as S3 gives objects written in one PUT (tools compare it with
    /// the file's MD5).
    Md5,
    /// The MD5 when the request sent `Content-MD5` (its writer can compare), otherwise
    /// the content's 128-bit XXH3 in hex: a fingerprint at a fiftieth of MD5's CPU cost
    /// (MD5 was 70% of the store's CPU per byte received). S3 does not promise that part
    /// ETags are MD5s; clients pass them back as they are.
    Fingerprint,
}

/// A body on disk, verified, waiting to be published.
#[derive(Debug)]
pub struct Received {
    pub tmp: PathBuf,
    pub size: u64,
    /// The ETag, in hex, without quotes.
    pub etag: String,
    /// The verified checksums.
    pub checksums: Checksums,
}

/// Streams `body` to a temporary file and verifies it; on any failure the file is removed.
pub async fn receive(
    layout: &Layout,
    body: Option<StreamingBlob>,
    mut promised: Promised,
    trailers: Option<TrailingHeaders>,
    etag_of: EtagOf,
) -> S3Result<Received> {
    let body = body.ok_or_else(|| s3_error!(IncompleteBody, "the request has no body"))?;
    let tmp = layout.tmp_file();
    let result = async {
        let mut hasher = hasher_for(&promised)?;
        let mut digest = if etag_of == EtagOf::Md5 || promised.content_md5.is_some() {
            BodyDigest::Md5(Md5::new())
        } else {
            BodyDigest::Xxh3(Box::default())
        };
        let size = write_body(&tmp, body, &mut hasher, &mut digest).await?;
        if let Some(trailers) = trailers.and_then(|t| t.take()) {
            for algorithm in Algorithm::ALL {
                let header = format!("x-amz-checksum-{}", algorithm.name());
                if let Some(value) = trailers.get(header.as_str()) {
                    let value = value.to_str().map_err(|_| s3_error!(InvalidArgument))?;
                    promised.checksums.set(algorithm, value.to_owned());
                }
            }
        }
        let etag = match digest {
            BodyDigest::Md5(md5) => {
                let md5 = md5.finalize();
                check_content_md5(&promised, &md5)?;
                hex::encode(md5)
            }
            BodyDigest::Xxh3(xxh3) => hex::encode(xxh3.digest128().to_be_bytes()),
        };
        let checksums = verify(&promised, size, hasher)?;
        Ok(Received {
            tmp: tmp.clone(),
            size,
            etag,
            checksums,
        })
    }
    .await;
    if result.is_err() {
        let _ = layout::remove_file(&tmp).await;
    }
    result
}

fn hasher_for(promised: &Promised) -> S3Result<ChecksumHasher> {
    let mut hasher = ChecksumHasher::default();
    let mut wanted: Vec<Algorithm> = promised.checksums.iter().map(|(a, _)| a).collect();
    if let Some(algorithm) = &promised.algorithm {
        wanted.push(match algorithm.as_str() {
            ChecksumAlgorithm::CRC32 => Algorithm::Crc32,
            ChecksumAlgorithm::CRC32C => Algorithm::Crc32c,
            ChecksumAlgorithm::SHA1 => Algorithm::Sha1,
            ChecksumAlgorithm::SHA256 => Algorithm::Sha256,
            ChecksumAlgorithm::CRC64NVME => Algorithm::Crc64Nvme,
            _ => return Err(s3_error!(InvalidArgument, "unsupported checksum algorithm")),
        });
    }
    for algorithm in wanted {
        match algorithm {
            Algorithm::Crc32 => hasher.crc32 = Some(Default::default()),
            Algorithm::Crc32c => hasher.crc32c = Some(Default::default()),
            Algorithm::Sha1 => hasher.sha1 = Some(Default::default()),
            Algorithm::Sha256 => hasher.sha256 = Some(Default::default()),
            Algorithm::Crc64Nvme => hasher.crc64nvme = Some(Default::default()),
        }
    }
    Ok(hasher)
}

/// The digest an ETag is made of.
enum BodyDigest {
    Md5(Md5),
    Xxh3(Box<Xxh3>),
}

impl BodyDigest {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Md5(md5) => md5.update(bytes),
            Self::Xxh3(xxh3) => xxh3.update(bytes),
        }
    }
}

async fn write_body(
    tmp: &PathBuf,
    mut body: StreamingBlob,
    hasher: &mut ChecksumHasher,
    digest: &mut BodyDigest,
) -> S3Result<u64> {
    let file = fs::File::create(tmp).await.or_internal()?;
    let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| s3_error!(IncompleteBody, "the body was cut short: {e}"))?;
        digest.update(&chunk);
        hasher.update(&chunk);
        size += chunk.len() as u64;
        writer.write_all(&chunk).await.or_internal()?;
    }
    writer.flush().await.or_internal()?;
    // Durable before it can become visible: publishing renames it into place.
    writer.into_inner().sync_data().await.or_internal()?;
    Ok(size)
}

/// Refuses a body whose MD5 differs from the `Content-MD5` the request sent.
fn check_content_md5(promised: &Promised, md5: &[u8]) -> S3Result<()> {
    let Some(content_md5) = &promised.content_md5 else {
        return Ok(());
    };
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(content_md5)
        .map_err(|_| s3_error!(InvalidDigest))?;
    if expected != md5 {
        return Err(s3_error!(
            BadDigest,
            "the Content-MD5 does not match the body"
        ));
    }
    Ok(())
}

fn verify(promised: &Promised, size: u64, hasher: ChecksumHasher) -> S3Result<Checksums> {
    if let Some(length) = promised.content_length
        && u64::try_from(length).ok() != Some(size)
    {
        return Err(s3_error!(
            IncompleteBody,
            "received {size} bytes; Content-Length said {length}"
        ));
    }
    let computed = hasher.finalize();
    let verified = Checksums {
        crc32: computed.checksum_crc32,
        crc32c: computed.checksum_crc32c,
        sha1: computed.checksum_sha1,
        sha256: computed.checksum_sha256,
        crc64nvme: computed.checksum_crc64nvme,
    };
    for (algorithm, value) in verified.iter() {
        if promised
            .checksums
            .get(algorithm)
            .is_some_and(|sent| sent != value)
        {
            return Err(s3_error!(
                BadDigest,
                "the {} checksum you specified did not match the body",
                algorithm.name()
            ));
        }
    }
    Ok(verified)
}
