//! Upload speed and time left, from progress samples over a sliding window, so the
//! figures follow the connection without jumping at every progress event.

use std::collections::VecDeque;

/// How far back samples count, in milliseconds.
pub const WINDOW_MS: f64 = 5_000.0;

/// Progress samples of one upload (or of all of them).
#[derive(Debug, Clone, Default)]
pub struct Speed {
    /// (time in ms, bytes sent so far), oldest first.
    samples: VecDeque<(f64, u64)>,
}

impl Speed {
    /// Records that `sent` bytes had been sent at `now` (milliseconds).
    pub fn record(&mut self, now: f64, sent: u64) {
        // Progress that went back (a part sent again) restarts the window.
        if self.samples.back().is_some_and(|&(_, last)| sent < last) {
            self.samples.clear();
        }
        self.samples.push_back((now, sent));
        while self
            .samples
            .front()
            .is_some_and(|&(at, _)| now - at > WINDOW_MS)
            && self.samples.len() > 2
        {
            self.samples.pop_front();
        }
    }

    /// Bytes per second over the window, once there is a second's worth of samples.
    pub fn bytes_per_second(&self) -> Option<f64> {
        let (&(t0, b0), &(t1, b1)) = (self.samples.front()?, self.samples.back()?);
        let elapsed = t1 - t0;
        // Byte counts are far below 2^53: exact in f64.
        (elapsed >= 1_000.0).then(|| (b1 - b0) as f64 * 1_000.0 / elapsed)
    }

    /// Seconds until `total` bytes are sent at the current speed.
    pub fn seconds_left(&self, total: u64) -> Option<f64> {
        let (_, sent) = *self.samples.back()?;
        let speed = self.bytes_per_second().filter(|s| *s > 0.0)?;
        Some(total.saturating_sub(sent) as f64 / speed)
    }
}

/// A duration for people: `8 s`, `3 min`, `2 h 5 min`.
pub fn format_seconds(seconds: f64) -> String {
    // Rounded up to whole seconds; saturates for absurd values.
    let s = seconds.max(0.0).ceil() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s.div_ceil(60)),
        _ => format!("{} h {} min", s / 3_600, (s % 3_600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_needs_a_second_of_samples() {
        let mut speed = Speed::default();
        speed.record(0.0, 0);
        speed.record(500.0, 1_000);
        assert_eq!(speed.bytes_per_second(), None);
        speed.record(1_000.0, 2_000);
        assert_eq!(speed.bytes_per_second(), Some(2_000.0));
        assert_eq!(speed.seconds_left(10_000), Some(4.0));
    }

    #[test]
    fn old_samples_leave_the_window_and_setbacks_restart_it() {
        let mut speed = Speed::default();
        speed.record(0.0, 0);
        speed.record(1_000.0, 100_000);
        for t in 2u32..=10 {
            speed.record(f64::from(t) * 1_000.0, 100_000 + u64::from(t - 1) * 1_000);
        }
        // The fast first second has left the window.
        assert_eq!(speed.bytes_per_second(), Some(1_000.0));
        speed.record(11_000.0, 50_000);
        assert_eq!(speed.bytes_per_second(), None, "a part sent again restarts");
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(format_seconds(0.2), "1 s");
        assert_eq!(format_seconds(59.0), "59 s");
        assert_eq!(format_seconds(61.0), "2 min");
        assert_eq!(format_seconds(7_500.0), "2 h 5 min");
        assert_eq!(format_seconds(-3.0), "0 s");
    }
}
