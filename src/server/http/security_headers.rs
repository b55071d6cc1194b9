//! Security headers for every response, and for pages a Content Security Policy that
//! lets only the page's own scripts (the WASM bundle and its nonce-tagged loader) run,
//! only the app's origin and the store be contacted, and no one frame the page.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::Nonce;

use crate::server::system;

/// What the policy needs to know: where presigned URLs point (`'self'` for the embedded
/// store on the app's origin).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Origins, besides the app's own, that the page may send requests to.
    pub store_origins: Vec<String>,
}

/// The nonce of the page being rendered, handed from this layer to the renderer.
#[derive(Debug, Clone)]
pub struct PageNonce(pub String);

/// Adds the headers; pages get a fresh nonce for their inline loader script.
pub async fn secure(State(policy): State<Policy>, mut request: Request, next: Next) -> Response {
    let nonce = system::random_id();
    request.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Presigned URLs must not leak to other sites through Referer.
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    let is_page = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_page {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if let Ok(value) = HeaderValue::from_str(&content_security_policy(&policy, &nonce)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    response
}

/// The page's policy for this `nonce`.
pub fn content_security_policy(policy: &Policy, nonce: &str) -> String {
    let connect: String = policy
        .store_origins
        .iter()
        .map(|origin| format!(" {origin}"))
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self'{connect}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Gives the renderer this request's nonce (call inside the Leptos render context).
pub fn provide_page_nonce() {
    if let Some(parts) = leptos::prelude::use_context::<axum::http::request::Parts>()
        && let Some(PageNonce(nonce)) = parts.extensions.get::<PageNonce>()
    {
        leptos::prelude::provide_context(Nonce::from_value(nonce.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_nonce_and_the_store() {
        let policy = Policy {
            store_origins: vec!["https://bucket.s3.eu-west-1.amazonaws.com".into()],
        };
        let csp = content_security_policy(&policy, "abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(csp.contains("connect-src 'self' https://bucket.s3.eu-west-1.amazonaws.com;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
