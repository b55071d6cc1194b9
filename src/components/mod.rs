//! The page's components. They render on the server and hydrate in the browser; the
//! uploads themselves run in the browser shell (`crate::browser`).

pub mod file_row;
pub mod stored_files;
pub mod text;
pub mod upload_page;

/// A byte count for people: `512 B`, `1.5 KiB`, `40.0 MiB`. Integer arithmetic: float
/// formatting would add its code to the WASM bundle for this one use.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let bytes = u128::from(bytes);
    let (mut unit, mut scale) = (0, 1024);
    while bytes >= scale * 1024 && unit + 1 < UNITS.len() {
        scale *= 1024;
        unit += 1;
    }
    // Tenths of the unit, rounded to the nearest.
    let tenths = (bytes * 10 + scale / 2) / scale;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// How much of `total` is `sent`, in thousandths (what the progress bars show).
pub fn permille(sent: u64, total: u64) -> u64 {
    match total {
        0 => 0,
        _ => (u128::from(sent.min(total)) * 1_000 / u128::from(total)) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::{format_bytes, permille};

    #[test]
    fn bytes_for_people() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(40 * 1024 * 1024), "40.0 MiB");
        assert_eq!(format_bytes(u64::MAX), "16384.0 PiB");
        assert_eq!(format_bytes(1024 * 1024 - 1), "1024.0 KiB");
        assert_eq!(format_bytes(1024 + 51), "1.0 KiB");
        assert_eq!(format_bytes(1024 + 52), "1.1 KiB");
    }

    #[test]
    fn thousandths() {
        assert_eq!(permille(0, 0), 0);
        assert_eq!(permille(1, 3), 333);
        assert_eq!(permille(3, 3), 1_000);
        assert_eq!(permille(u64::MAX, u64::MAX), 1_000);
        assert_eq!(permille(5, 3), 1_000);
    }
}
