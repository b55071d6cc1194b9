//! The operator and everyone else. With `--access-password` (the operator's password),
//! a correct password earns a session cookie (HttpOnly, SameSite=Strict, signed with the
//! server's secret, so any instance accepts it and nobody can forge it), and the home
//! page needs it unless `--open-drop` keeps a drop open there.
//!
//! The server functions are reachable by all: [`identify`] tells each call who is
//! calling ([`Visitor`]), and each function decides. Starting an upload needs the
//! operator, the open drop or an upload link; the calls after it carry the upload's
//! token; the operator's calls need the session, or an API token (`Authorization:
//! Bearer s3d_…`, for scripts). Presigned URLs authorise themselves;
//! `/healthz`, `/readyz`, the site's assets, the login form and an upload link's page are
//! public, and `/metrics` has its own bearer token (`--metrics-token`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::api::error::ApiError;
use crate::components::text;
use crate::server::api_tokens::Verifier;
use crate::server::http::plain_page::plain_page;
use crate::server::http::rate_limit::{Clients, Guesses};
use crate::server::signing::Signer;
use crate::server::system;

/// The session cookie's name.
pub const COOKIE: &str = "s3drop_session";
/// How long a login lasts.
pub const SESSION_SECS: u64 = 7 * 24 * 60 * 60;
/// Wrong passwords a client may try in a row…
pub const GUESSES_AT_ONCE: f64 = 5.0;
/// …and then one every this many seconds: a few a minute, so a password cannot be
/// guessed, while a person who mistyped it waits seconds, never a lockout.
pub const SECONDS_PER_GUESS: f64 = 12.0;
/// Wrong passwords from every client together, a minute (the operator's login and the
/// links' passwords each): many addresses guess no faster than a few.
pub const EVERYONES_GUESSES_PER_MINUTE: f64 = 30.0;

/// The wrong-password limits of the login, or of the links' passwords.
fn guesses() -> Guesses {
    Guesses::new(
        GUESSES_AT_ONCE,
        SECONDS_PER_GUESS,
        EVERYONES_GUESSES_PER_MINUTE,
    )
}

/// What private mode needs: the password and the key sessions are signed with.
#[derive(Clone)]
pub struct Access {
    password: String,
    signer: Signer,
    /// Whether cookies are marked `Secure` (the public URL is https).
    secure: bool,
    /// Wrong passwords, by client.
    guesses: Arc<Guesses>,
    clients: Clients,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access").finish_non_exhaustive()
    }
}

impl Access {
    /// Private mode with `password`, sessions signed with `key`; wrong passwords are
    /// counted per client as `clients` tells them apart.
    pub fn new(password: String, key: &[u8], secure: bool, clients: Clients) -> Self {
        Self {
            password,
            signer: Signer::new(b"s3drop session\0", key),
            secure,
            guesses: Arc::new(guesses()),
            clients,
        }
    }

    /// A session cookie value valid until `expires_at` (Unix seconds).
    pub fn session(&self, expires_at: u64) -> String {
        let tag = self.signer.tag(expires_at.to_string().as_bytes());
        format!("{expires_at}.{tag}")
    }

    /// Whether a cookie value is a session this server signed, still valid at `now`.
    pub fn is_valid_session(&self, value: &str, now: u64) -> bool {
        let Some((expires_at, tag)) = value.split_once('.') else {
            return false;
        };
        let Ok(expiry) = expires_at.parse::<u64>() else {
            return false;
        };
        self.signer.verify(expires_at.as_bytes(), tag) && now < expiry
    }

    /// Whether `given` is the password, compared in constant time.
    pub fn is_password(&self, given: &str) -> bool {
        self.signer.same(given.as_bytes(), self.password.as_bytes())
    }

    fn cookie(&self, value: &str, max_age: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
    }
}

fn session_cookie(request: &Request) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Wrong guesses at upload links' passwords: slowed as the login's are.
#[derive(Clone, Debug)]
pub struct LinkGuesses(pub Arc<Guesses>);

impl Default for LinkGuesses {
    fn default() -> Self {
        Self(Arc::new(guesses()))
    }
}

/// Who is calling, as [`identify`] found: what the server functions decide on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visitor {
    /// Whether the request carries the operator's valid session.
    pub operator: bool,
    /// The client's address (behind a trusted proxy, the one it names).
    pub client: IpAddr,
}

/// What [`identify`] and the home page's guard need.
#[derive(Clone, Debug)]
pub struct Gate {
    /// The operator's login, when a password is set.
    pub access: Option<Access>,
    /// Checks the API tokens scripts call with (as the operator).
    pub tokens: Verifier,
    /// How clients are told apart.
    pub clients: Clients,
    /// Whether the home page's drop is open to all.
    pub open_drop: bool,
}

impl Gate {
    /// Who sent `request`.
    fn visitor(&self, request: &Request) -> Visitor {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Visitor {
            operator: self.access.as_ref().is_some_and(|access| {
                session_cookie(request)
                    .is_some_and(|value| access.is_valid_session(&value, system::now_secs()))
            }),
            client: self.clients.of(peer, request.headers()),
        }
    }
}

/// Tells the request who sent it (a [`Visitor`] among its extensions). A request with an
/// API token acts as the operator; one with a token that is not valid is refused here,
/// saying so (a script whose token was revoked mid-run learns why at its next call).
pub async fn identify(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    let mut visitor = gate.visitor(&request);
    if let Some(token) = api_token(&request) {
        if !gate.tokens.is_valid(&token).await {
            tracing::warn!(client = %visitor.client, "refused a call with an API token that is not valid");
            return ApiError::BadApiToken.into_response();
        }
        visitor.operator = true;
    }
    request.extensions_mut().insert(visitor);
    next.run(request).await
}

/// The API token a request's `Authorization` header carries, if any.
fn api_token(request: &Request) -> Option<String> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    crate::core::api_token::from_header(value).map(str::to_owned)
}

/// In front of the operator's own routes (the record's exports): without the session or
/// an API token, 401 and the API's error.
pub async fn require_operator(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let operator = match api_token(&request) {
        Some(token) => gate.tokens.is_valid(&token).await,
        None => gate.visitor(&request).operator,
    };
    match operator {
        true => next.run(request).await,
        false => ApiError::OperatorOnly.into_response(),
    }
}

/// In front of the home page: a private drop's page is the operator's; without a
/// session, to the login form.
pub async fn require_login_for_home(
    State(gate): State<Gate>,
    request: Request,
    next: Next,
) -> Response {
    if gate.open_drop || gate.visitor(&request).operator {
        return next.run(request).await;
    }
    Redirect::to("/login").into_response()
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct Login {
    password: String,
}

/// The login form.
pub async fn login_page() -> Html<String> {
    Html(login_html(None))
}

/// Checks the password; on success sets the session cookie and goes to the page. After
/// a few wrong ones in a row, a client waits before its next try (429, `Retry-After`).
pub async fn login(
    State(access): State<Option<Access>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Login>,
) -> Response {
    let Some(access) = access else {
        return Redirect::to("/").into_response();
    };
    let client = access.clients.of(peer.ip(), &headers);
    let now = Instant::now();
    let wait = access.guesses.wait(client, now);
    if !wait.is_zero() {
        let seconds = wait.as_secs_f64().ceil().max(1.0);
        tracing::warn!(%client, seconds, "login refused: too many wrong passwords");
        let message = text::too_many_guesses(seconds);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            Html(login_html(Some(&message))),
        )
            .into_response();
    }
    if !access.is_password(&form.password) {
        access.guesses.wrong(client, now);
        tracing::warn!(%client, "failed login");
        tokio::time::sleep(Duration::from_millis(300)).await;
        return (
            StatusCode::UNAUTHORIZED,
            Html(login_html(Some(text::WRONG_PASSWORD))),
        )
            .into_response();
    }
    let value = access.session(system::now_secs() + SESSION_SECS);
    let mut response = Redirect::to("/").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&access.cookie(&value, SESSION_SECS)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Ends the session.
pub async fn logout(State(access): State<Option<Access>>) -> Response {
    let mut response = Redirect::to("/login").into_response();
    if let Some(access) = access
        && let Ok(cookie) = HeaderValue::from_str(&access.cookie("", 0))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn login_html(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"notice\" role=\"alert\">{e}</p>"))
        .unwrap_or_default();
    let main = format!(
        "<header class=\"masthead\"><h1>{}</h1><p>{}</p></header>{error}\
         <form method=\"post\" action=\"/login\" class=\"login\">\
         <label for=\"password\">{}</label>\
         <input id=\"password\" name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required autofocus>\
         <button type=\"submit\" class=\"button\">{}</button></form>",
        text::TITLE,
        text::LOGIN_HELP,
        text::PASSWORD,
        text::LOG_IN,
    );
    plain_page(text::LANGUAGE, text::LOGIN_TITLE, &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        Access::new("correct horse".into(), b"key", false, Clients::default())
    }

    #[test]
    fn sessions_verify_until_they_expire_and_cannot_be_forged() {
        let a = access();
        let value = a.session(1_000);
        assert!(a.is_valid_session(&value, 999));
        assert!(!a.is_valid_session(&value, 1_000));
        let other = Access::new(
            "correct horse".into(),
            b"other key",
            false,
            Clients::default(),
        );
        assert!(!other.is_valid_session(&value, 0));
        // Moving the expiry breaks the signature.
        let tag = value.split_once('.').expect("two halves").1;
        assert!(!a.is_valid_session(&format!("9999999999.{tag}"), 0));
        for junk in ["", ".", "abc", "1.%%", "x.y"] {
            assert!(!a.is_valid_session(junk, 0), "{junk:?}");
        }
    }

    #[test]
    fn passwords_and_cookies() {
        let a = access();
        assert!(a.is_password("correct horse"));
        assert!(!a.is_password("correct horse "));
        assert!(!a.is_password(""));
        assert!(a.cookie("v", 5).contains("HttpOnly; SameSite=Strict"));
    }
}
