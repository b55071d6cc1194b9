//! What operators run s3drop with: a log line per request with a request id, `/healthz`
//! (the process is up), `/readyz` (the store answers) and `/metrics` (Prometheus).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::server::http::metrics::{CONTENT_TYPE, Metrics};
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

/// The store answers: the bucket exists and the credentials work.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.storage.check().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {} failed: {err}\n", err.operation()),
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
