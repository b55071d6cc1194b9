//! The wire types of the upload protocol, in S3's vocabulary.

use serde::{Deserialize, Serialize};

use crate::core::plan::PartPlan;

/// What the browser knows of a file it wants to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    /// The file's name as the person's system gave it (never used as a key as is).
    pub name: String,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's MIME type as the browser guessed it; may be empty.
    pub content_type: String,
    /// The folder the file was in, relative to what was dropped or picked
    /// (`photos/2024`); empty for a file on its own. Kept in the key.
    #[serde(default)]
    pub folder: String,
    /// The whole file's CRC32C (`x-amz-checksum-crc32c` form), which the page computes
    /// for small files: a file that goes in one PUT then gets its URL with its start,
    /// bound to this checksum, and needs no `sign_parts` call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
}

/// The server's answer to `start_upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadStart {
    /// The key the server chose for the object.
    pub key: String,
    /// The upload token, carried by every later call for this upload.
    pub token: String,
    /// When the token expires, in seconds since the Unix epoch (the upload must finish by then).
    pub expires_at: u64,
    /// How the file is cut: one part goes in a single PUT, more as a multipart upload.
    pub plan: PartPlan,
    /// A single PUT's URL, signed with the start when the request carried the file's
    /// CRC32C (and bound to it); otherwise `sign_parts` signs part 1 like any part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub put: Option<SignedPart>,
}

impl UploadStart {
    /// Whether the file goes as a multipart upload.
    pub fn is_multipart(&self) -> bool {
        !self.plan.is_single_put()
    }
}

/// A part the browser asks to have signed, with its checksum when it computed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartToSign {
    pub part_number: u32,
    /// The part's CRC32C (`x-amz-checksum-crc32c` form); signed into the URL, so the
    /// store refuses bytes that do not match it.
    #[serde(default)]
    pub crc32c: Option<String>,
}

/// A presigned URL for one part, and the headers the PUT must carry (signed with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedPart {
    pub part_number: u32,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// When the URL stops working, in seconds since the epoch: a part that waited
    /// longer is signed again rather than sent.
    #[serde(default)]
    pub expires_at: u64,
}

/// A part the store holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPart {
    pub part_number: u32,
    pub etag: String,
    pub size: u64,
    /// The part's CRC32C, when it was sent with one.
    #[serde(default)]
    pub crc32c: Option<String>,
}

/// A part the browser sent, with the `ETag` the store answered and the CRC32C it was
/// signed with (some stores do not list part checksums, yet need them to complete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedPart {
    pub part_number: u32,
    pub etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
}

/// One upload to finish in a batch: its token and, for a multipart upload, its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub token: String,
    #[serde(default)]
    pub parts: Vec<CompletedPart>,
}

/// One entry of a batch's answer, in the order of the request: what the call gives
/// for that file, or why that file alone was refused (the others are not affected).
pub type Answer<T> = Result<T, super::error::ApiError>;

/// An object in the store, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObject {
    pub key: String,
    /// The original file name, for display and for the download's file name.
    pub name: String,
    pub size: u64,
    pub content_type: String,
    pub etag: String,
    /// The whole object's CRC32C (S3's `…-N` composite for a multipart object), when
    /// every byte was sent with a checksum.
    #[serde(default)]
    pub crc32c: Option<String>,
    /// A short-lived presigned GET that downloads the object under its original name.
    pub download_url: String,
}

/// A file in the store, as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedFile {
    pub key: String,
    /// `folder/name` as it was uploaded.
    pub path: String,
    pub size: u64,
    /// When it was stored, in seconds since the epoch.
    pub modified: i64,
    /// A short-lived download link that keeps the file's name.
    pub download_url: String,
}

/// One page of the store's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePage {
    pub files: Vec<ListedFile>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
    /// Whether the operator lets people delete files.
    pub can_delete: bool,
}
