//! Prometheus metrics: counters of uploads and bytes, and latency histograms of the
//! server functions, rendered in the text exposition format at `/metrics`.
//!
//! A handful of atomics is all s3drop needs; no registry crate is involved.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The server's metrics; shared through the app state.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Uploads started, as single PUTs.
    pub started_single: AtomicU64,
    /// Uploads started, as multipart uploads.
    pub started_multipart: AtomicU64,
    /// Uploads completed.
    pub completed: AtomicU64,
    /// Bytes in completed uploads.
    pub bytes_completed: AtomicU64,
    /// Uploads aborted (cancelled, or given up by the browser).
    pub aborted: AtomicU64,
    /// Completions refused (parts or size not as planned, upload gone).
    pub failed: AtomicU64,
    /// Stale multipart uploads aborted by the sweeper.
    pub stale_swept: AtomicU64,
    /// Server function latencies, by function.
    latencies: Mutex<BTreeMap<String, Histogram>>,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    /// Adds one to a counter.
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long a call to server function `name` took.
    pub fn observe(&self, name: &str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut latencies = self
            .latencies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let histogram = latencies.entry(name.to_owned()).or_default();
        for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        counter(
            &mut out,
            "s3drop_uploads_started_total",
            "Uploads started.",
            &[
                ("method=\"single\"", load(&self.started_single)),
                ("method=\"multipart\"", load(&self.started_multipart)),
            ],
        );
        let plain = [
            (
                "s3drop_uploads_completed_total",
                "Uploads completed.",
                &self.completed,
            ),
            (
                "s3drop_bytes_completed_total",
                "Bytes in completed uploads.",
                &self.bytes_completed,
            ),
            (
                "s3drop_uploads_aborted_total",
                "Uploads aborted.",
                &self.aborted,
            ),
            (
                "s3drop_uploads_failed_total",
                "Completions refused.",
                &self.failed,
            ),
            (
                "s3drop_stale_uploads_swept_total",
                "Stale multipart uploads aborted by the sweeper.",
                &self.stale_swept,
            ),
        ];
        for (name, help, value) in plain {
            counter(&mut out, name, help, &[("", load(value))]);
        }
        let name = "s3drop_server_fn_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Latency of server function calls.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let latencies = self
            .latencies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (function, h) in latencies.iter() {
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{fn=\"{function}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{fn=\"{function}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "{name}_sum{{fn=\"{function}\"}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{fn=\"{function}\"}} {}", h.count);
        }
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, values: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    for (labels, value) in values {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_as_prometheus_text() {
        let metrics = Metrics::default();
        Metrics::count(&metrics.started_multipart);
        Metrics::count(&metrics.completed);
        metrics.bytes_completed.fetch_add(42, Ordering::Relaxed);
        metrics.observe("uploads/start", Duration::from_millis(30));
        metrics.observe("uploads/start", Duration::from_secs(20));
        let text = metrics.render();
        for line in [
            "s3drop_uploads_started_total{method=\"single\"} 0",
            "s3drop_uploads_started_total{method=\"multipart\"} 1",
            "s3drop_uploads_completed_total 1",
            "s3drop_bytes_completed_total 42",
            "s3drop_server_fn_duration_seconds_bucket{fn=\"uploads/start\",le=\"0.025\"} 0",
            "s3drop_server_fn_duration_seconds_bucket{fn=\"uploads/start\",le=\"0.05\"} 1",
            "s3drop_server_fn_duration_seconds_bucket{fn=\"uploads/start\",le=\"10\"} 1",
            "s3drop_server_fn_duration_seconds_bucket{fn=\"uploads/start\",le=\"+Inf\"} 2",
            "s3drop_server_fn_duration_seconds_count{fn=\"uploads/start\"} 2",
            "# TYPE s3drop_uploads_aborted_total counter",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
