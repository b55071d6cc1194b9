//! The pre-start hook: before a batch's files start, the operator's URL is asked (signed
//! as every delivery is) whether each may, and may refuse one with a reason the person
//! is shown. tusd's `pre-create` is the model. A receiver that does not answer in time
//! (or cannot be reached) counts as the operator chose; an answer that is not the
//! documented JSON refuses the batch, saying so: a broken rule must not let files by.

use std::time::Duration;

use serde::Serialize;

use crate::core::webhook::{Secret, read_pre_start};
use crate::server::hooks::LinkRef;
use crate::server::system;

/// What a pre-start hook that does not answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    Accept,
    Refuse,
}

/// The configured pre-start hook.
#[derive(Debug, Clone)]
pub struct PreStart {
    url: String,
    secret: Secret,
    on_timeout: OnTimeout,
    timeout: Duration,
    http: reqwest::Client,
}

/// A file as the pre-start hook is asked about it.
#[derive(Debug, Clone, Serialize)]
pub struct Asked {
    pub name: String,
    pub folder: String,
    pub size: u64,
    pub content_type: String,
}

/// Who sends the batch, as the pre-start hook is told.
#[derive(Debug, Clone, Serialize)]
pub struct AskedBy {
    pub link: Option<LinkRef>,
    pub uploader: Option<String>,
    pub client: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    event: &'static str,
    timestamp: String,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    #[serde(flatten)]
    by: &'a AskedBy,
    files: &'a [Asked],
}

impl PreStart {
    pub fn new(url: String, secret: Secret, timeout: Duration, on_timeout: OnTimeout) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!(
                "s3drop/",
                env!("CARGO_PKG_VERSION"),
                " (pre-start hook)"
            ))
            .build()
            .expect("the TLS provider is installed before the server starts");
        Self {
            url,
            secret,
            on_timeout,
            timeout,
            http,
        }
    }

    /// Asks about `files`: for each, `Ok` to start it or the reason it is refused.
    pub async fn ask(&self, by: &AskedBy, files: &[Asked]) -> Vec<Result<(), String>> {
        if files.is_empty() {
            return Vec::new();
        }
        let now = system::now_secs();
        let body = Body {
            event: "upload.pre_start",
            timestamp: system::utc(now),
            data: Data { by, files },
        };
        let body = match serde_json::to_string(&body) {
            Ok(body) => body,
            Err(_) => {
                return vec![Err("the pre-start check could not be asked".into()); files.len()];
            }
        };
        let id = format!("msg_{}", system::random_id());
        let answer = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", now.to_string())
            .header(
                "webhook-signature",
                self.secret.sign(&id, now, body.as_bytes()),
            )
            .body(body)
            .send()
            .await;
        let answer = match answer {
            Ok(answer) if answer.status().is_success() => answer.bytes().await,
            Ok(answer) => {
                tracing::warn!(status = %answer.status(), "the pre-start hook refused to answer");
                return self.refuse_all(files.len(), "the server's pre-start check failed");
            }
            Err(err) => return self.unanswered(files.len(), &err),
        };
        let verdicts = match answer {
            Ok(body) => read_pre_start(&body, files.len()),
            Err(err) => return self.unanswered(files.len(), &err),
        };
        match verdicts {
            Ok(verdicts) => verdicts
                .into_iter()
                .map(|v| match v.accept {
                    true => Ok(()),
                    false => Err(v
                        .reason
                        .unwrap_or_else(|| "refused by the server's rules".into())),
                })
                .collect(),
            Err(err) => {
                tracing::warn!(%err, "the pre-start hook's answer was not understood");
                self.refuse_all(files.len(), "the server's pre-start check failed")
            }
        }
    }

    /// No answer (in time, or at all): what the operator chose.
    fn unanswered(&self, count: usize, err: &reqwest::Error) -> Vec<Result<(), String>> {
        tracing::warn!(%err, on_timeout = ?self.on_timeout, "the pre-start hook did not answer");
        match self.on_timeout {
            OnTimeout::Accept => vec![Ok(()); count],
            OnTimeout::Refuse => self.refuse_all(
                count,
                &format!(
                    "the server's pre-start check did not answer within {} s; try again later",
                    self.timeout.as_secs_f64()
                ),
            ),
        }
    }

    fn refuse_all(&self, count: usize, why: &str) -> Vec<Result<(), String>> {
        vec![Err(why.to_owned()); count]
    }
}
