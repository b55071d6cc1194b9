//! The HTTP surface in one router: the page, the server functions, the site's static
//! files and, when used, the embedded store on the app's own origin.

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleError;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::Uri;
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use s3s::HttpError;
use s3s::service::S3Service;

use crate::api::error::ApiError;
use crate::app::{App, shell};
use crate::components::text;
use crate::server::http::access::{Access, login, login_page, logout, require_login};
use crate::server::http::health::{healthz, metrics, readyz, trace_requests};
use crate::server::http::rate_limit::{ApiLimit, limit};
use crate::server::http::security_headers::{Policy, provide_page_nonce, secure};
use crate::server::state::AppState;

/// The largest server-function request body: a batch of 100 starts with the longest
/// names and folders is ~110 KiB, the completion of a 10,000-part upload ~900 KiB.
const MAX_CALL_BODY: usize = 2 * 1024 * 1024;

/// Larger error bodies are not server function errors and pass through untouched.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The embedded store and the bucket path it answers under.
pub struct StoreRoute {
    /// The bucket's name: the store answers `/{bucket}` and everything below it.
    pub bucket: String,
    /// The S3 service.
    pub service: S3Service,
}

/// What stands in front of every route.
pub struct Guards {
    /// Security headers and the pages' Content Security Policy.
    pub security: Policy,
    /// Private mode's login, when configured.
    pub access: Option<Access>,
    /// Per-client rate limits on server functions.
    pub limit: ApiLimit,
}

/// Builds the app's router. The store is mounted with `route_service`, never `nest`:
/// SigV4 signs the full path, so the store must see the path the client signed.
pub fn router(
    leptos_options: LeptosOptions,
    state: AppState,
    store: Option<StoreRoute>,
    guards: Guards,
) -> Router {
    let Guards {
        security,
        access,
        limit: api_limit,
    } = guards;
    let routes = generate_route_list(App);
    let operations = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state.clone());
    let login = Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .with_state(access.clone());
    let mut router = Router::new();
    if let Some(StoreRoute { bucket, service }) = store {
        let service = HandleError::new(service, store_failure);
        for path in [
            format!("/{bucket}"),
            format!("/{bucket}/"),
            format!("/{bucket}/{{*key}}"),
        ] {
            router = router.route_service(&path, service.clone());
        }
    }
    let metrics = state.metrics.clone();
    router
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || {
                provide_context(state.clone());
                provide_page_nonce();
            },
            {
                let options = leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(file_or_not_found)
        .layer(map_response(api_error_status))
        // Server function arguments are small; parts never pass through here.
        .layer(DefaultBodyLimit::max(MAX_CALL_BODY))
        .with_state(leptos_options)
        .merge(operations)
        .merge(login)
        .layer(from_fn_with_state(access, require_login))
        .layer(from_fn_with_state(api_limit, limit))
        .layer(from_fn_with_state(security, secure))
        .layer(from_fn_with_state(metrics, trace_requests))
}

/// Server functions answer every error with 500; this gives each [`ApiError`] its own
/// status (422 for a refused file, 403 for a bad token, …), so clients and logs can tell
/// a caller's mistake from a server fault.
async fn api_error_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::from("the server failed"));
    };
    if let Ok(error) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A failure below the S3 protocol (the protocol's own errors are already S3 answers).
async fn store_failure(err: HttpError) -> (StatusCode, &'static str) {
    tracing::error!(?err, "embedded store failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the store failed to answer",
    )
}

/// The site's files (WASM, JS, CSS, assets); any other path is no page of s3drop's.
async fn file_or_not_found(uri: Uri, state: State<LeptosOptions>, request: Request) -> Response {
    let files = leptos_axum::file_and_error_handler(shell);
    let response = files(uri, state, request).await;
    if response.status() != StatusCode::NOT_FOUND {
        return response;
    }
    let page = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/pkg/s3drop.css\"></head>\
         <body><main><p>{} <a href=\"/\">{}</a></p></main></body></html>",
        text::LANGUAGE,
        text::TITLE,
        text::NOT_FOUND,
        text::GO_TO_PAGE,
    );
    (StatusCode::NOT_FOUND, Html(page)).into_response()
}
