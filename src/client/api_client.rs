//! The API as a script calls it: a JSON POST per call, with an API token or an upload
//! link's pass, retried as the page retries (transient failures and 429s, with growing
//! jittered delays), each refusal read back as the API's own error.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::ApiError;
use crate::core::retry::call_delay;

/// Where the server is and how to call it.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    pub http: reqwest::Client,
}

impl Api {
    /// The API at `base` (`https://drop.example.com`), as the holder of `token` (or of
    /// a link's pass, which goes in each start's arguments).
    pub fn new(base: &str, token: Option<String>) -> Result<Self, String> {
        // The process's TLS provider (the server installs the same at its start).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("s3drop-upload/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("could not make an HTTP client: {e}"))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    /// Calls `endpoint` with `body`; retries what may pass on a later try.
    pub async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        let mut attempt = 0;
        loop {
            let err = match self.once(endpoint, body).await {
                Ok(answer) => return Ok(answer),
                Err(err) => err,
            };
            attempt += 1;
            if !err.is_transient() {
                return Err(err);
            }
            let jitter = random_fraction();
            match call_delay(attempt, jitter, err.is_throttle()) {
                Some(ms) => tokio::time::sleep(Duration::from_millis(ms as u64)).await,
                None => return Err(err),
            }
        }
    }

    async fn once<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        let body = serde_json::to_vec(body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        let mut request = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let answer = request
            .send()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .map_err(|e| ApiError::Transport(e.to_string()))?;
        if status.is_success() {
            return serde_json::from_str(&text)
                .map_err(|e| ApiError::Transport(format!("an answer that is not the API's: {e}")));
        }
        Err(
            serde_json::from_str(&text).unwrap_or_else(|_| match status.as_u16() {
                429 => ApiError::RateLimited,
                502..=504 => ApiError::Unavailable,
                _ => ApiError::Transport(format!(
                    "the server answered {status}: {}",
                    text.chars().take(200).collect::<String>()
                )),
            }),
        )
    }
}

/// A number in `[0, 1)` for jitter.
pub fn random_fraction() -> f64 {
    let mut byte = [0u8; 2];
    let _ = getrandom::fill(&mut byte);
    f64::from(u16::from_le_bytes(byte)) / 65_536.0
}
