//! The HTTP surface: the page, the server functions, the login, the operators'
//! endpoints, the site's static files and, when used, the embedded store on the app's
//! own origin, each mounted with the layers that guard it.

use axum::Router;
use axum::error_handling::HandleError;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodFilter, any, get, on, post};
use leptos::prelude::*;
use leptos::server_fn;
use s3s::HttpError;
use s3s::service::S3Service;
use tower::ServiceExt;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::shell;
use crate::components::route::PagePath;
use crate::components::text;
use crate::server::http::MAX_CALL_BODY;
use crate::server::http::access::{
    Gate, LinkGuesses, identify, login, login_page, logout, require_login_for_home,
    require_operator,
};
use crate::server::http::health::{
    MetricsToken, healthz, metrics_page, readyz, require_metrics_token, time_calls, trace_requests,
};
use crate::server::http::openapi::{refuse_unknown_fields, serve_document};
use crate::server::http::plain_page::plain_page;
use crate::server::http::rate_limit::{ApiLimit, limit};
use crate::server::http::record_export::{export_csv, export_json};
use crate::server::http::security_headers::{Policy, provide_page_nonce, secure};
use crate::server::state::AppState;

/// The embedded store and the bucket path it answers under.
pub struct StoreRoute {
    /// The bucket's name: the store answers `/{bucket}` and everything below it.
    pub bucket: String,
    /// The S3 service.
    pub service: S3Service,
}

/// What guards the routes: security headers on all, the operator's login and the rate
/// limit on the app.
pub struct Guards {
    /// Security headers and the pages' Content Security Policy.
    pub security: Policy,
    /// Who is the operator, who may upload without a link, and who each client is.
    pub gate: Gate,
    /// Per-client rate limits on server functions.
    pub limit: ApiLimit,
    /// Who may read `/metrics`.
    pub metrics: MetricsToken,
}

/// Builds the app's router from its parts, each with its own layers, so what guards a
/// route follows from where it is mounted:
///
/// - public: health, readiness, the embedded store (presigned URLs authorise
///   themselves), the site's files and the not-found page;
/// - the metrics, behind their token;
/// - the login form and logout;
/// - the app: the home page (the operator's, behind the login, unless the drop is open),
///   an upload link's page, and the server functions (told who calls, rate-limited);
/// - the record's exports, behind the operator's session.
///
/// The store is mounted with `route_service`, never `nest`: SigV4 signs the full path, so
/// the store must see the path the client signed.
pub fn router(
    leptos_options: LeptosOptions,
    state: AppState,
    store: Option<StoreRoute>,
    guards: Guards,
) -> Router {
    let Guards {
        security,
        gate,
        limit: api_limit,
        metrics: metrics_token,
    } = guards;
    // Leptos runs the page's and the server functions' tasks on tokio.
    let _ = any_spawner::Executor::init_tokio();
    let metrics = state.metrics.clone();
    let context = {
        let (state, options) = (state.clone(), leptos_options.clone());
        let guesses = LinkGuesses::default();
        move || {
            provide_context(state.clone());
            provide_context(options.clone());
            provide_context(guesses.clone());
            // The page renders the route its path names (there is no router).
            if let Some(parts) = use_context::<axum::http::request::Parts>() {
                provide_context(PagePath(parts.uri.path().to_owned()));
            }
            provide_page_nonce();
        }
    };

    let calls = server_fn::axum::server_fn_paths().fold(Router::new(), |router, (path, method)| {
        let context = context.clone();
        let handler = move |request: Request| {
            leptos_axum::handle_server_fns_with_context(context.clone(), request)
        };
        let method = MethodFilter::try_from(method).unwrap_or(MethodFilter::POST);
        router.route(path, on(method, handler))
    });
    let calls = calls
        // Server function arguments are small; parts never pass through here.
        .layer(DefaultBodyLimit::max(MAX_CALL_BODY))
        .layer(from_fn_with_state(metrics, time_calls))
        .layer(from_fn(refuse_unknown_fields))
        .layer(from_fn_with_state(api_limit, limit))
        .layer(from_fn_with_state(gate.clone(), identify));
    let page = {
        let options = leptos_options.clone();
        leptos_axum::render_app_to_stream_with_context(context, move || shell(options.clone()))
    };
    let home = Router::new()
        .route("/", get(page.clone()))
        .layer(from_fn_with_state(gate.clone(), require_login_for_home));
    // An upload link's page: the secret in its path is checked by the calls it makes.
    let link_page = Router::new().route("/l/{secret}", get(page));
    let exports = Router::new()
        .route("/record.csv", get(export_csv))
        .route("/record.json", get(export_json))
        .layer(from_fn_with_state(gate.clone(), require_operator))
        .with_state(state.clone());
    let login = Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .with_state(gate.access);

    let metrics_page = Router::new()
        .route("/metrics", get(metrics_page))
        .layer(from_fn_with_state(metrics_token, require_metrics_token))
        .with_state(state.clone());
    let mut public = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/openapi.json", get(serve_document))
        .with_state(state);
    let mut signed_to_store = None;
    if let Some(StoreRoute { bucket, service }) = store {
        let service = HandleError::new(service, store_failure);
        for path in [
            format!("/{bucket}"),
            format!("/{bucket}/"),
            format!("/{bucket}/{{*key}}"),
        ] {
            public = public.route_service(&path, service.clone());
        }
        signed_to_store = Some(Router::new().fallback_service(service));
    }
    let files = Router::new().fallback_service(site_files(&leptos_options.site_root));

    public
        .merge(metrics_page)
        .merge(login)
        .merge(home)
        .merge(link_page)
        .merge(exports)
        .merge(calls)
        .merge(files)
        .layer(from_fn_with_state(signed_to_store, s3_requests_to_store))
        .layer(from_fn_with_state(security, secure))
        .layer(from_fn(trace_requests))
}

/// Hands every SigV4-signed request to the embedded store, whatever its path, so an S3
/// client that names another bucket, or lists buckets at `/`, gets S3's own answer
/// (`NoSuchBucket`, `ListBuckets`) rather than the page. The page and its server
/// functions never sign their requests; the store's bucket is routed above as well, for
/// the refusals of unsigned requests.
async fn s3_requests_to_store(
    State(store): State<Option<Router>>,
    request: Request,
    next: Next,
) -> Response {
    match store {
        Some(store) if is_s3_signed(&request) => match store.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        _ => next.run(request).await,
    }
}

/// Whether a request carries an S3 (SigV4) signature, in its headers or its query.
fn is_s3_signed(request: &Request) -> bool {
    let in_header = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 "));
    let in_query = request
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("X-Amz-Signature=")));
    in_header || in_query
}

/// A failure below the S3 protocol (the protocol's own errors are already S3 answers).
async fn store_failure(err: HttpError) -> (StatusCode, &'static str) {
    tracing::error!(?err, "embedded store failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "the store failed to answer",
    )
}

/// The site's files (WASM, JS, CSS, assets) from `root`: the `.br` or `.gz` beside a
/// file when the browser takes it (the release build makes them), revalidated on each
/// use (their names do not change between releases) and answered 304 when unchanged.
/// Any other path is no page of s3drop's: the small not-found page, nothing rendered.
fn site_files(root: &str) -> Router {
    let files = ServeDir::new(root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
        .call_fallback_on_method_not_allowed(true)
        .fallback(any(not_found));
    Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
}

async fn not_found() -> Response {
    let main = format!(
        "<p>{} <a href=\"/\">{}</a></p>",
        text::NOT_FOUND,
        text::GO_TO_PAGE
    );
    let page = plain_page(text::LANGUAGE, text::TITLE, &main);
    (StatusCode::NOT_FOUND, Html(page)).into_response()
}
