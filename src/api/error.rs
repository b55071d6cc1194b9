//! The API's one error type: variants the page can act on, each with a clear message
//! and an HTTP status. It never carries a store's or SDK's own text to the browser.

use super::codec::WireJson;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function call failed.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, utoipa::ToSchema,
)]
pub enum ApiError {
    /// The file breaks the upload policy (name, size or type); nothing was created.
    #[error("{0}")]
    Refused(String),
    /// The request is malformed or outside the upload's plan.
    #[error("{0}")]
    BadRequest(String),
    /// The upload token was forged, tampered with, or is for another upload.
    #[error("the upload token is not valid")]
    BadToken,
    /// This drop is private: log in first.
    #[error("this drop is private: log in first")]
    LoginRequired,
    /// This upload link has a password of its own, and it was not given.
    #[error("this upload link needs its password")]
    PasswordRequired,
    /// The password given was not the upload link's.
    #[error("that is not this link's password")]
    WrongPassword,
    /// Only the operator may do this: log in first.
    #[error("only the operator may do this: log in first")]
    OperatorOnly,
    /// The API token sent is not one (revoked, or mistyped).
    #[error("this API token is not valid: it was revoked, or is mistyped")]
    BadApiToken,
    /// Too many calls from this client; trying again in a moment works.
    #[error("too many requests; slowing down")]
    RateLimited,
    /// The upload token has expired; the upload must start again.
    #[error("the upload token has expired; start the upload again")]
    TokenExpired,
    /// The upload's file is stored: its token can no longer replace or remove it.
    #[error(
        "this upload has finished: its file is stored, and its token can no longer replace or remove it"
    )]
    Finished,
    /// Every part matched the store's list, yet the store refused to complete: it keeps
    /// an unfinished try of a part (one whose connection was cut) beside the one that
    /// landed, and completes with that (Garage does). Sending the parts that were sent
    /// more than once again, then completing, finishes the upload.
    #[error("the store kept an unfinished copy of a part: it must be sent again")]
    PartToSendAgain,
    /// The store has no such upload or object (aborted, expired, or never sent).
    #[error("{0}")]
    NotFound(String),
    /// The store could not be reached or is failing; trying again later may work.
    #[error("the store is unavailable right now; try again shortly")]
    StoreUnavailable,
    /// The server's database is busy or unreachable; trying again later may work.
    #[error("the server is busy right now; try again shortly")]
    Unavailable,
    /// Something failed inside the server; the details are in the server's log.
    #[error("the server could not complete the request")]
    Internal,
    /// The call did not reach the server, or its answer could not be read.
    #[error("could not reach the server: {0}")]
    Transport(String),
}

impl ApiError {
    /// The HTTP status the server answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Refused(_) => 422,
            Self::BadRequest(_) | Self::Transport(_) => 400,
            Self::LoginRequired
            | Self::PasswordRequired
            | Self::WrongPassword
            | Self::OperatorOnly
            | Self::BadApiToken => 401,
            Self::RateLimited => 429,
            Self::BadToken | Self::TokenExpired => 403,
            Self::NotFound(_) => 404,
            Self::Finished | Self::PartToSendAgain => 409,
            Self::StoreUnavailable | Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// Whether the server asked the page to slow down: its `Retry-After` says a second,
    /// and a retry waits at least that long (server functions do not show the page the
    /// header itself).
    pub fn is_throttle(&self) -> bool {
        matches!(self, Self::RateLimited)
    }

    /// Whether trying the same call again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::StoreUnavailable | Self::Unavailable | Self::Transport(_) | Self::RateLimited
        )
    }
}

impl ApiError {
    /// A request the server could not read is answered with its status too.
    fn on_server(self) -> Self {
        #[cfg(feature = "ssr")]
        return self.respond();
        #[cfg(not(feature = "ssr"))]
        self
    }
}

impl FromServerFnError for ApiError {
    type Encoder = WireJson;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(text) | ServerFnErrorErr::MissingArg(text) => {
                Self::BadRequest(text).on_server()
            }
            // On the server, a body that does not decode is the caller's mistake. In the
            // page, an answer that does not decode was not s3drop's: a proxy's 502 page
            // while a server restarts, a cut connection. Worth trying again.
            ServerFnErrorErr::Deserialization(text) if cfg!(feature = "ssr") => {
                Self::BadRequest(text).on_server()
            }
            ServerFnErrorErr::Deserialization(text) => {
                Self::Transport(format!("an unexpected answer from the network: {text}"))
            }
            other => Self::Transport(other.to_string()),
        }
    }
}

/// On the server, an error knows its answer: its status and itself as JSON.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        let status = axum::http::StatusCode::from_u16(self.status())
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self)).into_response()
    }
}

#[cfg(feature = "ssr")]
impl ApiError {
    /// Sets this error's status on the server function's answer (server functions
    /// answer 500 for every error unless told otherwise), and passes it on.
    pub fn respond(self) -> Self {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = axum::http::StatusCode::from_u16(self.status())
        {
            response.set_status(status);
        }
        self
    }
}
