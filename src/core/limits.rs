//! S3's hard limits, each defined once, and s3drop's defaults within them.

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;
/// One gibibyte.
pub const GIB: u64 = 1024 * MIB;

/// The smallest size of every part but the last (S3 answers `EntityTooSmall` below it).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// The largest size of a single part.
pub const MAX_PART_SIZE: u64 = 5 * GIB;
/// The highest part number S3 accepts; part numbers start at 1.
pub const MAX_PARTS: u32 = 10_000;
/// The largest object a single PUT may carry.
pub const MAX_SINGLE_PUT_SIZE: u64 = 5 * GIB;
/// The largest object S3 stores.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * GIB;
/// ListParts, ListMultipartUploads and ListObjectsV2 answer at most this many entries a page.
pub const MAX_LIST_PAGE: u32 = 1_000;
/// SigV4 presigned URLs live at most seven days.
pub const MAX_PRESIGN_SECS: u64 = 7 * 24 * 60 * 60;

/// The part size s3drop prefers: large enough to keep request overhead low, small
/// enough that a failed part costs little to send again.
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;
/// The most files one batch call (`start_uploads`, `complete_uploads`) may carry.
pub const MAX_BATCH: usize = 100;

/// How many part URLs the browser asks for in one call.
pub const SIGN_BATCH: usize = 8;
/// How many parts of one file are in flight at once.
pub const PARTS_IN_FLIGHT: usize = 4;
