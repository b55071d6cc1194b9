//! The embedded store's files: where objects, uploads and parts live under the data
//! directory, and the one way anything becomes visible there (write aside, fsync,
//! rename), so a crash never leaves a half-written object or part in view.
//!
//! ```text
//! store/tmp/                                  files being written (emptied at start)
//! store/buckets/<bucket>/<h2>/<h>.json        object metadata: the commit point
//! store/buckets/<bucket>/<h2>/<h>.<id>.data   object bytes, named by the metadata
//! store/buckets/<bucket>/<h2>/<h>.<id>.<n>.data  or, for an object completed from
//!                                             parts, its parts' files (linked, not copied)
//! store/uploads/<upload id>/upload.json       a multipart upload's bucket, key and type
//! store/uploads/<upload id>/<n>.json          part n's metadata: the commit point
//! store/uploads/<upload id>/<n>.<id>.data     part n's bytes, named by the metadata
//! ```
//!
//! `<h>` is the SHA-256 of the key, so any key S3 allows maps to a safe file name.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::fs;

use super::checksums::Checksums;

/// What the store records of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// The `ETag` value without quotes: an MD5 in hex, or `md5-N` for multipart objects
    /// (the MD5 of the parts' ETags).
    pub etag: String,
    pub content_type: String,
    /// Seconds since the Unix epoch.
    pub last_modified: u64,
    /// Where the bytes are.
    #[serde(flatten)]
    pub data: ObjectData,
    /// Checksums the writer supplied and the store verified.
    #[serde(default)]
    pub checksums: Checksums,
    /// What the writer said of it besides its type (metadata, caching, download name).
    #[serde(default, skip_serializing_if = "ObjectHeaders::is_empty")]
    pub headers: ObjectHeaders,
}

/// What a writer says of an object besides its type and bytes, answered back on every
/// read as S3 does: `x-amz-meta-*` (sync tools keep modification times there) and the
/// standard headers caches and downloads use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHeaders {
    /// `x-amz-meta-<name>` by name (lower case, as S3 keeps them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    /// `Expires`, as an HTTP date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

impl ObjectHeaders {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// An object's data files, beside its metadata file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ObjectData {
    /// The data files, in order, of an object completed from parts: each part's file
    /// becomes the object's by a hard link, so completing costs no copy of the bytes.
    /// (Tried first: earlier versions wrote an empty `data` beside the segments.)
    Segments { segments: Vec<Segment> },
    /// One data file (an object written in one PUT).
    File { data: String },
}

/// One data file of an object completed from parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub data: String,
    pub size: u64,
}

impl ObjectMeta {
    /// The object's data files and their sizes, in order.
    pub fn files(&self) -> Vec<(&str, u64)> {
        match &self.data {
            ObjectData::File { data } => vec![(data.as_str(), self.size)],
            ObjectData::Segments { segments } => {
                segments.iter().map(|s| (s.data.as_str(), s.size)).collect()
            }
        }
    }
}

/// What the store records of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadMeta {
    pub bucket: String,
    pub key: String,
    pub content_type: String,
    /// Seconds since the Unix epoch.
    pub initiated: u64,
    /// What the object completed from it will carry.
    #[serde(default, skip_serializing_if = "ObjectHeaders::is_empty")]
    pub headers: ObjectHeaders,
    /// Created with S3's full-object checksum type (CRC32C): the object records the
    /// CRC32C of its whole content, combined from the parts', rather than S3's
    /// composite of them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_object_crc32c: bool,
}

/// What the store records of one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartMeta {
    pub part_number: u32,
    pub size: u64,
    /// In hex, without quotes (see [`super::body::EtagOf::Fingerprint`]).
    pub etag: String,
    pub last_modified: u64,
    pub data: String,
    #[serde(default)]
    pub checksums: Checksums,
}

/// The store's directory tree.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The tree under `root` (created when missing).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub fn buckets_dir(&self) -> PathBuf {
        self.root.join("buckets")
    }

    pub fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.buckets_dir().join(bucket)
    }

    pub fn uploads_dir(&self) -> PathBuf {
        self.root.join("uploads")
    }

    /// The directory of an upload; `None` for an id the store could not have issued.
    pub fn upload_dir(&self, upload_id: &str) -> Option<PathBuf> {
        let well_formed = !upload_id.is_empty()
            && upload_id.len() <= 64
            && upload_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        well_formed.then(|| self.uploads_dir().join(upload_id))
    }

    /// The directory and file stem of an object's files.
    fn object_stem(&self, bucket: &str, key: &str) -> (PathBuf, String) {
        let hash = hex::encode(Sha256::digest(key.as_bytes()));
        (self.bucket_dir(bucket).join(&hash[..2]), hash)
    }

    /// The directory of an object's files (its metadata and data side by side).
    pub fn object_dir(&self, bucket: &str, key: &str) -> PathBuf {
        self.object_stem(bucket, key).0
    }

    /// An object's metadata file: the commit point of each of its versions.
    pub fn object_meta(&self, bucket: &str, key: &str) -> PathBuf {
        let (dir, stem) = self.object_stem(bucket, key);
        dir.join(format!("{stem}.json"))
    }

    /// A fresh name for an object's data file, in [`Self::object_dir`].
    pub fn new_object_data(&self, bucket: &str, key: &str) -> String {
        let (_, stem) = self.object_stem(bucket, key);
        format!("{stem}.{}.data", random_id())
    }

    /// Fresh names for the data files of an object completed from parts, one per part
    /// number, in [`Self::object_dir`].
    pub fn new_object_segments(&self, bucket: &str, key: &str, parts: &[u32]) -> Vec<String> {
        let (_, stem) = self.object_stem(bucket, key);
        let version = random_id();
        parts
            .iter()
            .map(|n| format!("{stem}.{version}.{n:05}.data"))
            .collect()
    }

    /// A multipart upload's own record, in its directory.
    pub fn upload_meta(upload_dir: &Path) -> PathBuf {
        upload_dir.join("upload.json")
    }

    /// Part `n`'s metadata file, in its upload's directory: the part's commit point.
    pub fn part_meta(upload_dir: &Path, n: u32) -> PathBuf {
        upload_dir.join(format!("{n:05}.json"))
    }

    /// Whether a file name in an upload's directory is a part's metadata.
    pub fn is_part_meta(name: &str) -> bool {
        name.ends_with(".json") && name != "upload.json"
    }

    /// A fresh name for part `n`'s data file, in its upload's directory.
    pub fn new_part_data(n: u32) -> String {
        format!("{n:05}.{}.data", random_id())
    }

    /// A fresh path in the temporary directory.
    pub fn tmp_file(&self) -> PathBuf {
        self.tmp_dir().join(random_id())
    }
}

use crate::server::system::write_atomically;
pub use crate::server::system::{now_secs, random_id};

/// Writes `value` as JSON to `path` atomically: aside, fsync, rename, fsync the directory.
pub async fn write_json<T: Serialize>(layout: &Layout, path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    let (tmp, path) = (layout.tmp_file(), path.to_owned());
    tokio::task::spawn_blocking(move || write_atomically(&tmp, &path, &bytes, false))
        .await
        .map_err(io::Error::other)?
}

/// Moves a finished temporary file to `path`, creating its directory, and makes the
/// rename durable.
pub async fn publish(tmp: &Path, path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).await?;
        fs::rename(tmp, path).await?;
        sync_dir(dir).await
    } else {
        fs::rename(tmp, path).await
    }
}

/// Moves a finished temporary file to `path` in a directory that must already exist
/// (a part's upload, which an abort may just have removed), and makes it durable.
pub async fn publish_into_existing(tmp: &Path, path: &Path) -> io::Result<()> {
    fs::rename(tmp, path).await?;
    match path.parent() {
        Some(dir) => sync_dir(dir).await,
        None => Ok(()),
    }
}

pub async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

/// Reads a JSON file; `Ok(None)` when it does not exist.
pub async fn read_json<T: DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Removes a file, treating "already gone" as done.
pub async fn remove_file(path: &Path) -> io::Result<()> {
    match fs::remove_file(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_earlier_versions_wrote_still_reads() {
        let single = r#"{"key":"a","size":3,"etag":"e","content_type":"text/plain",
            "last_modified":1,"data":"h.1.data","checksums":{"crc32c":"AAAAAA=="}}"#;
        let meta: ObjectMeta = serde_json::from_str(single).expect("a single PUT's");
        assert_eq!(meta.files(), [("h.1.data", 3)]);
        assert_eq!(meta.checksums.crc32c.as_deref(), Some("AAAAAA=="));
        let parts = r#"{"key":"b","size":5,"etag":"e-2","content_type":"","last_modified":1,
            "data":"","segments":[{"data":"s1","size":3},{"data":"s2","size":2}]}"#;
        let meta: ObjectMeta = serde_json::from_str(parts).expect("a completed upload's");
        assert_eq!(meta.files(), [("s1", 3), ("s2", 2)]);
        // And what this version writes reads back the same.
        let again: ObjectMeta =
            serde_json::from_str(&serde_json::to_string(&meta).expect("json")).expect("read");
        assert_eq!(again, meta);
    }
}
