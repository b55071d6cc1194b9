//! What operators run s3drop with: a log line per request with a request id, `/healthz`
//! (the process is up), `/readyz` (the store answers) and `/metrics` (Prometheus, for
//! the holder of the metrics token).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::server::metrics::{CONTENT_TYPE, Metrics};
use crate::server::state::AppState;
use crate::server::system;

/// Where the server functions' endpoints start (Leptos' default prefix).
const API_PREFIX: &str = "/api/";

/// The header that carries a request's id, from a proxy in front or made up here.
pub const REQUEST_ID: &str = "x-request-id";

/// Logs one line per request (method, path, status, duration; never the query string,
/// which carries presigned signatures) and tags everything logged meanwhile with a
/// request id.
pub async fn trace_requests(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| system::random_id()[..16].to_owned(), str::to_owned);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", id = %id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            %method,
            %path,
            status = response.status().as_u16(),
            ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "request"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Records each server function's latency, under its endpoint's name.
pub async fn time_calls(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let name = path.strip_prefix(API_PREFIX).unwrap_or(&path);
    metrics.observe(name, started.elapsed());
    response
}

/// The process is up and serving.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The store answers: the bucket exists, and the credentials may list s3drop's prefix.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (store, database) = tokio::join!(
        state.storage.check(&state.key_prefix),
        state.database.ping()
    );
    let problem = match (store, database) {
        (Ok(()), Ok(())) => return (StatusCode::OK, "ready\n").into_response(),
        (Err(err), _) => format!("{} failed: {err}", err.operation()),
        (_, Err(err)) => format!("the database {} failed: {err}", state.database.place()),
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("not ready: {problem}\n"),
    )
        .into_response()
}

/// Who may read `/metrics`: whoever sends the operator's token as a bearer token;
/// nobody when no token is set, so the page's visitors never see the counters.
#[derive(Clone, Default)]
pub struct MetricsToken(Option<Arc<str>>);

impl MetricsToken {
    pub fn new(token: Option<&str>) -> Self {
        Self(token.map(Arc::from))
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(..)")
    }
}

/// What a request for `/metrics` is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// No token is set: the metrics are off.
    Off,
    Refused,
    Admitted,
}

/// Whether an `Authorization` header carries `expected` as its bearer token, compared in
/// constant time.
fn verdict(expected: Option<&str>, authorization: Option<&str>) -> Verdict {
    use subtle::ConstantTimeEq;
    let Some(expected) = expected else {
        return Verdict::Off;
    };
    let sent = authorization.and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    match sent {
        Some(sent) if bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) => Verdict::Admitted,
        _ => Verdict::Refused,
    }
}

/// Lets through to `/metrics` only the holder of the metrics token.
pub async fn require_metrics_token(
    State(token): State<MetricsToken>,
    request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match verdict(token.0.as_deref(), authorization) {
        Verdict::Admitted => next.run(request).await,
        Verdict::Off => (
            StatusCode::NOT_FOUND,
            "metrics are off: start s3drop with --metrics-token\n",
        )
            .into_response(),
        Verdict::Refused => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "send the metrics token: Authorization: Bearer <token>\n",
        )
            .into_response(),
    }
}

/// The metrics in Prometheus' text format.
pub async fn metrics_page(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bearer_of_the_token_reads_the_metrics() {
        let token = Some("a-metrics-token-of-16+");
        let cases: [(Option<&str>, Option<&str>, Verdict); 8] = [
            (None, None, Verdict::Off),
            (None, Some("Bearer anything"), Verdict::Off),
            (token, None, Verdict::Refused),
            (token, Some("Bearer wrong"), Verdict::Refused),
            (
                token,
                Some("Basic a-metrics-token-of-16+"),
                Verdict::Refused,
            ),
            (
                token,
                Some("Bearer a-metrics-token-of-16"),
                Verdict::Refused,
            ),
            (
                token,
                Some("Bearer a-metrics-token-of-16+"),
                Verdict::Admitted,
            ),
            (
                token,
                Some("bearer  a-metrics-token-of-16+ "),
                Verdict::Admitted,
            ),
        ];
        for (expected, sent, verdict_wanted) in cases {
            assert_eq!(verdict(expected, sent), verdict_wanted, "{sent:?}");
        }
    }
}
