//! What the server asks of the operating system: the clock, randomness, and files
//! written whole. Kept apart so pure code receives time and ids as arguments.

use std::io::{self, Write};
use std::path::Path;

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// A Unix time as `2026-12-04T08:30:00Z`.
pub fn utc(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A time in Unix milliseconds as `2026-12-04T08:30:00.123Z`.
pub fn utc_ms(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// A random 128-bit identifier in hex, safe in keys, file names and URLs.
pub fn random_id() -> String {
    random_hex(16)
}

/// `len` random bytes in hex.
pub fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    fill_random(&mut bytes);
    hex::encode(bytes)
}

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes);
    bytes
}

fn fill_random(bytes: &mut [u8]) {
    // Without the OS random source no id, key or secret can be trusted: stop loudly.
    getrandom::fill(bytes).expect("the OS random source is available");
}

/// Writes `bytes` to `path` so that after a crash it is either whole or as it was:
/// to `aside` first (on the same file system), fsync, rename over `path`, fsync the
/// folder. `private` files are readable by their owner only.
pub fn write_atomically(aside: &Path, path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(aside)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    match path.parent() {
        Some(folder) => {
            std::fs::create_dir_all(folder)?;
            std::fs::rename(aside, path)?;
            std::fs::File::open(folder)?.sync_all()
        }
        None => std::fs::rename(aside, path),
    }
}

/// Installs the process-wide TLS crypto provider (aws-lc-rs, the AWS SDK's own) that
/// reqwest's rustls needs; later calls do nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc() {
        let cases = [
            (0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
            (
                1_796_384_275,
                "2026-12-04T11:37:55Z",
                "2026-12-04T11:37:55.123Z",
            ),
        ];
        for (secs, text, text_ms) in cases {
            assert_eq!(utc(secs), text);
            assert_eq!(utc_ms(secs * 1_000 + 123 * u64::from(secs > 0)), text_ms);
        }
        assert_eq!(utc(u64::MAX), "");
    }
}
