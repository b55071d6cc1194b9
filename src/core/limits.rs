//! S3's hard limits, each defined once, s3drop's defaults within them, and sizes as
//! people write them (`20GiB`).

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

/// Parses a byte size: a number with an optional unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a size like 500MB or 10GiB"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return Err(format!("\"{unit}\" is not a size unit (use B, MB, GiB, …)")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("\"{text}\" is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("500 MB"), Ok(500_000_000));
        assert_eq!(parse_size("5TiB"), Ok(5 << 40));
        assert!(parse_size("").is_err());
        assert!(parse_size("12XB").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999999TiB").is_err());
    }
}
