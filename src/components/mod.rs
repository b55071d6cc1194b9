//! The page's components. They render on the server and hydrate in the browser; the
//! uploads themselves run in the browser shell (`crate::browser`).

pub mod file_queue;
pub mod file_row;
pub mod stored_files;
pub mod tally;
pub mod text;
pub mod unfinished;
pub mod upload_page;

use crate::core::speed::Speed;

/// A byte count for people: `512 B`, `1.5 KiB`, `40.0 MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Display only: f64's precision is ample for one decimal.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `3.0 MiB of 10.0 MiB · 1.2 MiB/s · 6 s left`: how an upload (or all of them) is
/// going, speed and time left once `speed` has seen enough to tell.
pub fn progress_line(speed: &Speed, sent: u64, total: u64) -> String {
    let mut line = text::progress(sent, total);
    if let Some(rate) = speed.bytes_per_second() {
        // Display only: rounding to whole bytes per second is fine.
        line += &text::speed(rate as u64);
    }
    if let Some(left) = speed.seconds_left(total) {
        line += &text::time_left(left);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::{Speed, format_bytes, progress_line};

    #[test]
    fn progress_lines_add_speed_and_time_left_when_known() {
        let mut speed = Speed::default();
        speed.record(0.0, 0);
        assert_eq!(progress_line(&speed, 0, 2048), "0 B of 2.0 KiB");
        speed.record(1_000.0, 1024);
        assert_eq!(
            progress_line(&speed, 1024, 2048),
            "1.0 KiB of 2.0 KiB · 1.0 KiB/s · 1 s left"
        );
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(40 * 1024 * 1024), "40.0 MiB");
        assert_eq!(format_bytes(u64::MAX), "16384.0 PiB");
    }
}
