//! Receiving a request body: streamed to a temporary file, never held whole in memory,
//! while its ETag and any checksums the request names are computed; then checked against
//! what the request promised before the caller may publish it.

use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::{Digest, Md5};
// s3s's hasher computes S3's five checksums with the crates S3 clients use themselves.
use s3s::checksum::ChecksumHasher;
use tokio::fs;
use tokio::io::{AsyncWriteExt, BufWriter};
use xxhash_rust::xxh3::Xxh3;

use super::checksums::{Algorithm, Checksums};
use super::error::{Error, Result};
use super::layout::{self, Layout};

/// Write buffer size: large enough that a part costs few system calls.
const WRITE_BUFFER: usize = 1 << 20;

/// A request body as it arrives: its bytes, then the checksums its trailer carries
/// (aws-chunked bodies send them after the data, so they are read once the data is).
pub struct Incoming {
    pub bytes: Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>,
    pub trailer: Box<dyn FnOnce() -> Result<Checksums> + Send>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a request promised about its body.
#[derive(Debug, Default)]
pub struct Promised {
    pub content_length: Option<u64>,
    pub content_md5: Option<String>,
    /// The algorithm the client asked the store to compute.
    pub algorithm: Option<Algorithm>,
    /// The checksums the request's headers carry.
    pub checksums: Checksums,
}

impl Promised {
    /// Refuses a body announced as longer than `limit` before reading any of it.
    pub fn check_length(&self, limit: u64) -> Result<()> {
        match self.content_length {
            Some(length) if length > limit => Err(Error::EntityTooLarge),
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
    body: Incoming,
    mut promised: Promised,
    etag_of: EtagOf,
) -> Result<Received> {
    let tmp = layout.tmp_file();
    let result = async {
        let mut hasher = hasher_for(&promised);
        let mut digest = if etag_of == EtagOf::Md5 || promised.content_md5.is_some() {
            BodyDigest::Md5(Md5::new())
        } else {
            BodyDigest::Xxh3(Box::default())
        };
        let size = write_body(&tmp, body.bytes, &mut hasher, &mut digest).await?;
        for (algorithm, value) in (body.trailer)()?.iter() {
            promised.checksums.set(algorithm, value.to_owned());
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

fn hasher_for(promised: &Promised) -> ChecksumHasher {
    let mut hasher = ChecksumHasher::default();
    let wanted = promised.checksums.iter().map(|(a, _)| a);
    for algorithm in wanted.chain(promised.algorithm) {
        match algorithm {
            Algorithm::Crc32 => hasher.crc32 = Some(Default::default()),
            Algorithm::Crc32c => hasher.crc32c = Some(Default::default()),
            Algorithm::Sha1 => hasher.sha1 = Some(Default::default()),
            Algorithm::Sha256 => hasher.sha256 = Some(Default::default()),
            Algorithm::Crc64Nvme => hasher.crc64nvme = Some(Default::default()),
        }
    }
    hasher
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
    mut bytes: Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>,
    hasher: &mut ChecksumHasher,
    digest: &mut BodyDigest,
) -> Result<u64> {
    let file = fs::File::create(tmp).await?;
    let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut size: u64 = 0;
    while let Some(chunk) = bytes.next().await {
        let chunk =
            chunk.map_err(|e| Error::IncompleteBody(format!("the body was cut short: {e}")))?;
        digest.update(&chunk);
        hasher.update(&chunk);
        size += chunk.len() as u64;
        writer.write_all(&chunk).await?;
    }
    writer.flush().await?;
    // Durable before it can become visible: publishing renames it into place.
    writer.into_inner().sync_data().await?;
    Ok(size)
}

/// Refuses a body whose MD5 differs from the `Content-MD5` the request sent.
fn check_content_md5(promised: &Promised, md5: &[u8]) -> Result<()> {
    let Some(content_md5) = &promised.content_md5 else {
        return Ok(());
    };
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(content_md5)
        .map_err(|_| Error::InvalidDigest)?;
    if expected != md5 {
        return Err(Error::BadDigest(
            "the Content-MD5 does not match the body".into(),
        ));
    }
    Ok(())
}

fn verify(promised: &Promised, size: u64, hasher: ChecksumHasher) -> Result<Checksums> {
    if let Some(length) = promised.content_length
        && length != size
    {
        return Err(Error::IncompleteBody(format!(
            "received {size} bytes; Content-Length said {length}"
        )));
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
            return Err(Error::BadDigest(format!(
                "the {} checksum you specified did not match the body",
                algorithm.name()
            )));
        }
    }
    Ok(verified)
}
