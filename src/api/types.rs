//! The wire types of the upload protocol, in S3's vocabulary.

use serde::{Deserialize, Serialize};

use crate::core::link::{Held, Limits};
use crate::core::plan::PartPlan;
use crate::core::webhook::EventType;

/// What the browser knows of a file it wants to upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
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
    /// The drop the file came in (the files a person dropped or picked together), so
    /// hooks hear once when all of them have ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<DropTag>,
}

/// Names the drop a file came in: an id the sender made (16 to 64 letters, digits, `-`
/// or `_`; random, so nobody else's drop is named by chance) and how many files the
/// drop holds that the sender will start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DropTag {
    pub id: String,
    pub files: u32,
}

/// The server's answer to `start_upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartToSign {
    pub part_number: u32,
    /// The part's CRC32C (`x-amz-checksum-crc32c` form); signed into the URL, so the
    /// store refuses bytes that do not match it.
    #[serde(default)]
    pub crc32c: Option<String>,
}

/// A presigned URL for one part, and the headers the PUT must carry (signed with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletedPart {
    pub part_number: u32,
    pub etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
}

/// One upload to finish in a batch: its token and, for a multipart upload, its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    pub token: String,
    #[serde(default)]
    pub parts: Vec<CompletedPart>,
}

/// One entry of a batch's answer, in the order of the request: what the call gives
/// for that file, or why that file alone was refused (the others are not affected).
pub type Answer<T> = Result<T, super::error::ApiError>;

/// An object in the store, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FilePage {
    pub files: Vec<ListedFile>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
    /// Whether the operator lets people delete files.
    pub can_delete: bool,
}

/// An upload link as the operator sees it (never its secret, which only its creation
/// shows once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkInfo {
    pub id: String,
    /// Shown to the uploader as the page's title.
    pub label: String,
    /// Shown to the uploader above the drop.
    pub message: Option<String>,
    /// Where its files go, under the key prefix.
    pub folder: String,
    /// When it was made, expires and (if it was) was revoked, in Unix seconds.
    pub created_at: u64,
    pub expires_at: u64,
    pub revoked_at: Option<u64>,
    pub limits: Limits,
    /// Whether the uploader must give the link's own password.
    pub has_password: bool,
    /// Whether the uploader is asked their name before they drop.
    pub ask_name: bool,
    /// What it holds: files in flight or stored.
    pub held: Held,
    /// What of that is stored.
    pub stored: Held,
    pub last_upload_at: Option<u64>,
}

/// A new link, and the secret that makes its URL (shown this once: only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedLink {
    pub link: LinkInfo,
    pub secret: String,
}

/// What an uploader sends with each start through a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkPass {
    /// The secret from the link's URL.
    pub secret: String,
    /// Proof the link's password was given (from `open_link`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// The uploader's name, when the link asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploader: Option<String>,
}

/// Where an upload's life stands in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    Started,
    Stored,
    Cancelled,
    Failed,
    Expired,
    /// Stored, then deleted by the operator.
    Deleted,
}

impl UploadState {
    /// Every state, in the order the operator's filter lists them.
    pub const ALL: [UploadState; 6] = [
        Self::Started,
        Self::Stored,
        Self::Cancelled,
        Self::Failed,
        Self::Expired,
        Self::Deleted,
    ];

    /// The word kept in the database and shown in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Stored => "stored",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::Expired => "expired",
            Self::Deleted => "deleted",
        }
    }

    /// The state a word names.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// One upload in the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordedUpload {
    pub key: String,
    pub name: String,
    pub folder: String,
    pub size: u64,
    pub content_type: String,
    pub crc32c: Option<String>,
    /// The link it came through; `None` for the open drop or the operator's own.
    pub link_id: Option<String>,
    pub uploader: Option<String>,
    /// The client's address, as the server saw it (behind a trusted proxy, the client's).
    pub client: Option<String>,
    pub state: UploadState,
    /// Why it was cancelled or failed.
    pub reason: Option<String>,
    pub started_at: u64,
    pub finished_at: Option<u64>,
    /// A short-lived download link, for a stored file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
}

/// A link as the operator asks for it on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLinkRequest {
    pub label: String,
    #[serde(default)]
    pub message: Option<String>,
    /// Where its files go, under the key prefix; empty for the prefix itself.
    #[serde(default)]
    pub folder: String,
    /// A duration from now (`7d`), a date (`2026-12-31`) or a time (RFC 3339).
    pub expires: String,
    #[serde(default)]
    pub limits: Limits,
    /// The link's own password, if it has one.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub ask_name: bool,
}

/// What an upload link's page shows. Behind a password, only the label until the
/// password is given; then the rest, and the grant to send with each start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkView {
    pub label: String,
    pub needs_password: bool,
    /// Proof the password was given, for [`LinkPass::grant`].
    pub grant: Option<String>,
    /// The rest, once the link is open to this visitor.
    pub details: Option<LinkDetails>,
}

/// An open link's terms, shown before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinkDetails {
    pub message: Option<String>,
    pub expires_at: u64,
    pub limits: Limits,
    /// What is left of its limits: bytes, files (`None`: no limit of that kind).
    pub bytes_left: Option<u64>,
    pub files_left: Option<u64>,
    pub ask_name: bool,
}

/// Which uploads the operator asks the record for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFilter {
    #[serde(default)]
    pub link_id: Option<String>,
    #[serde(default)]
    pub state: Option<UploadState>,
    /// Part of the name or folder, any case.
    #[serde(default)]
    pub name: Option<String>,
}

/// A page of the record, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordPage {
    pub uploads: Vec<RecordedUpload>,
    /// Where the next page starts, when there is one.
    pub next: Option<String>,
}

/// Who the page is shown to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Visit {
    /// Whether the visitor is the logged-in operator.
    pub operator: bool,
    /// Whether this deployment has an operator (a password is set).
    pub has_operator: bool,
    /// Whether anyone may upload here without a link.
    pub open_drop: bool,
    /// Whether the visitor may delete stored files from the record (`--allow-delete`).
    pub can_delete: bool,
    /// Whether the page lists the store's files to the visitor (`--list-files`; the
    /// operator only, where there is one): `files/list` answers them, not `null`.
    #[serde(default)]
    pub stored_files: bool,
}

/// A file this browser stored through an upload link, as its page lists it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SentFile {
    pub key: String,
    /// `folder/name` as it was sent.
    pub path: String,
    pub size: u64,
    /// When it was stored, in Unix seconds.
    pub stored_at: u64,
    /// A short-lived download link that keeps the file's name.
    pub download_url: String,
}

/// A webhook as the operator sees it (its secret is shown once, when it is made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HookInfo {
    pub id: String,
    pub url: String,
    /// The link whose events it hears; `None` hears the whole deployment.
    pub link_id: Option<String>,
    /// The events it hears; empty hears all.
    pub events: Vec<EventType>,
    pub created_at: u64,
    /// Its deliveries by state.
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
}

/// A webhook as the operator asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHookRequest {
    /// Where deliveries are POSTed: http or https.
    pub url: String,
    /// Only this link's events; `None` for the whole deployment's.
    #[serde(default)]
    pub link_id: Option<String>,
    /// Only these events; empty for all.
    #[serde(default)]
    pub events: Vec<EventType>,
}

/// A new webhook, and its `whsec_` secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedHook {
    pub hook: HookInfo,
    pub secret: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first or next try.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: the retry window passed, or the hook was removed.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == word)
    }
}

/// One event's delivery to one hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryInfo {
    /// Its `webhook-id`, the same on every try.
    pub id: String,
    pub hook_id: String,
    pub event: EventType,
    pub state: DeliveryState,
    pub attempts: u64,
    pub created_at: u64,
    /// When it is tried next, while pending.
    pub next_attempt_at: u64,
    /// The receiver's last HTTP status, and what went wrong last.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub finished_at: Option<u64>,
}

/// An API token as the operator sees it (the token itself is shown once, when made).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiTokenInfo {
    pub id: String,
    /// What uses it, as the operator named it.
    pub name: String,
    pub created_at: u64,
    pub revoked_at: Option<u64>,
    /// When a server last checked it (to within a few seconds).
    pub last_used_at: Option<u64>,
}

/// A new API token, and the token itself (`s3d_…`), shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedApiToken {
    pub token: ApiTokenInfo,
    pub secret: String,
}
