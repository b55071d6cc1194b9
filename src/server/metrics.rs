//! Prometheus metrics: counters of uploads and bytes, and latency histograms of the
//! server functions, served at `/metrics` in Prometheus' text format (0.0.4), kept
//! and written by the `prometheus-client` crate.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `Content-Type` of what [`Metrics::render`] writes.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// How an upload was started.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Method {
    method: &'static str,
}

/// Which server function a latency is of.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Function {
    r#fn: String,
}

/// The server's metrics; shared through the app state.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    started: Family<Method, Counter>,
    /// Uploads completed.
    pub completed: Counter,
    /// Bytes in completed uploads.
    pub bytes_completed: Counter,
    /// Uploads aborted (cancelled, or given up by the browser).
    pub aborted: Counter,
    /// Completions refused (parts or size not as planned, upload gone).
    pub failed: Counter,
    /// Stale multipart uploads aborted by the sweeper.
    pub stale_swept: Counter,
    latencies: Family<Function, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let started = Family::<Method, Counter>::default();
        let completed = Counter::default();
        let bytes_completed = Counter::default();
        let aborted = Counter::default();
        let failed = Counter::default();
        let stale_swept = Counter::default();
        let latencies: Family<Function, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(BUCKETS));
        // Both ways of starting are shown from the first scrape, at zero.
        for method in ["single", "multipart"] {
            let _ = started.get_or_create(&Method { method });
        }
        registry.register("s3drop_uploads_started", "Uploads started", started.clone());
        registry.register(
            "s3drop_uploads_completed",
            "Uploads completed",
            completed.clone(),
        );
        registry.register(
            "s3drop_bytes_completed",
            "Bytes in completed uploads",
            bytes_completed.clone(),
        );
        registry.register("s3drop_uploads_aborted", "Uploads aborted", aborted.clone());
        registry.register(
            "s3drop_uploads_failed",
            "Completions refused",
            failed.clone(),
        );
        registry.register(
            "s3drop_stale_uploads_swept",
            "Stale multipart uploads aborted by the sweeper",
            stale_swept.clone(),
        );
        registry.register(
            "s3drop_server_fn_duration_seconds",
            "Latency of server function calls",
            latencies.clone(),
        );
        Self {
            registry,
            started,
            completed,
            bytes_completed,
            aborted,
            failed,
            stale_swept,
            latencies,
        }
    }
}

impl Metrics {
    /// Counts an upload started, in one PUT or in parts.
    pub fn started(&self, multipart: bool) {
        let method = if multipart { "multipart" } else { "single" };
        self.started.get_or_create(&Method { method }).inc();
    }

    /// Records how long a call to server function `name` took.
    pub fn observe(&self, name: &str, elapsed: Duration) {
        let function = Function {
            r#fn: name.to_owned(),
        };
        self.latencies
            .get_or_create(&function)
            .observe(elapsed.as_secs_f64());
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.started(true);
        metrics.completed.inc();
        metrics.bytes_completed.inc_by(42);
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
