//! Sends the outbox: each server takes the deliveries that are due (holding each for a
//! while, so no other server sends it meanwhile), POSTs them signed, a few dozen at a
//! time, and notes what the receiver answered. A delivery that fails is tried again
//! later, ever more slowly, until its retry window closes. Nothing here is on an
//! upload's path: a slow receiver only keeps its own deliveries waiting.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sqlx::Row;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::core::key::attachment_disposition;
use crate::core::webhook::{EventType, Secret, retry_delay, still_tried};
use crate::server::database::{Database, from_db, to_db};
use crate::server::s3::client::Storage;
use crate::server::system;

/// How deliveries are sent.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// The wait before the second try; it doubles with each failure, up to an hour.
    pub retry_first: Duration,
    /// How long after its event a delivery is still tried.
    pub retry_for: Duration,
    /// How many deliveries one server has in flight at most.
    pub at_once: usize,
    /// How often the outbox is looked at when nothing wakes the sender (events written
    /// by other servers, retries falling due).
    pub poll: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            retry_first: Duration::from_secs(5),
            retry_for: Duration::from_secs(24 * 60 * 60),
            at_once: 32,
            poll: Duration::from_secs(1),
        }
    }
}

/// Wakes the sender when an event was written, so it goes out at once.
#[derive(Debug, Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn now(&self) {
        self.0.notify_one();
    }
}

/// The background sender of one server.
pub struct Deliverer {
    db: Database,
    storage: Storage,
    http: reqwest::Client,
    settings: Settings,
    wake: Wake,
}

/// A delivery taken from the outbox, with its hook.
struct Due {
    id: String,
    event: Option<EventType>,
    payload: String,
    created_at: u64,
    attempts: u64,
    hook: Option<Hook>,
}

#[derive(Clone)]
struct Hook {
    url: String,
    secret: Secret,
}

/// What one try came to.
enum Outcome {
    Delivered(u16),
    Failed {
        status: Option<u16>,
        error: String,
    },
    /// Its hook is gone (removed, or its secret unreadable): not tried again.
    Abandoned(String),
}

impl Deliverer {
    pub fn new(db: Database, storage: Storage, settings: Settings, wake: Wake) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .user_agent(concat!("s3drop/", env!("CARGO_PKG_VERSION"), " (webhooks)"))
            .build()
            .expect("the TLS provider is installed before the sender starts");
        Self {
            db,
            storage,
            http,
            settings,
            wake,
        }
    }

    /// Sends for as long as the server runs: up to `at_once` deliveries in flight; more
    /// taken once half of them have finished (one query for many), as events are
    /// written, and at each poll; the tries that finished together noted together (one
    /// transaction), so a fast receiver costs the database little.
    pub async fn run(self) {
        let this = Arc::new(self);
        let mut in_flight: JoinSet<(Due, Outcome)> = JoinSet::new();
        loop {
            if in_flight.len() <= this.settings.at_once / 2 {
                let room = this.settings.at_once - in_flight.len();
                match this.take_due(room).await {
                    Ok(due) => {
                        for delivery in due {
                            let this = this.clone();
                            in_flight.spawn(async move {
                                let outcome = this.deliver(&delivery).await;
                                (delivery, outcome)
                            });
                        }
                    }
                    Err(err) => tracing::warn!(%err, "could not read the webhook outbox"),
                }
            }
            tokio::select! {
                Some(first) = in_flight.join_next(), if !in_flight.is_empty() => {
                    let mut done: Vec<(Due, Outcome)> = first.into_iter().collect();
                    while let Some(more) = in_flight.try_join_next() {
                        done.extend(more);
                    }
                    if let Err(err) = this.note(&done).await {
                        // Their leases run out, and they are tried again.
                        tracing::warn!(%err, "could not note webhook deliveries");
                    }
                }
                () = this.wake.0.notified() => {}
                () = tokio::time::sleep(this.settings.poll) => {}
            }
        }
    }

    /// Takes up to `room` due deliveries, holding each (from any other server) for
    /// longer than a try can take.
    async fn take_due(&self, room: usize) -> Result<Vec<Due>, sqlx::Error> {
        let now = system::now_secs();
        let held_until = now + self.settings.timeout.as_secs() * 2 + 30;
        // The conditions are asked again of each row as it is updated: PostgreSQL
        // re-reads a row another server updated meanwhile, so each is taken once.
        let rows = sqlx::query(
            "UPDATE deliveries SET leased_until = $2 \
             WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' \
               AND next_attempt_at <= $1 AND leased_until <= $1 \
               ORDER BY next_attempt_at, id LIMIT $3) \
             AND state = 'pending' AND next_attempt_at <= $1 AND leased_until <= $1 \
             RETURNING id, hook_id, event, payload, created_at, attempts",
        )
        .bind(to_db(now))
        .bind(to_db(held_until))
        .bind(i64::try_from(room).unwrap_or(i64::MAX))
        .fetch_all(self.db.pool())
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let hooks = self.hooks().await?;
        rows.iter()
            .map(|row| {
                let hook_id: String = row.try_get("hook_id")?;
                let event: String = row.try_get("event")?;
                Ok(Due {
                    id: row.try_get("id")?,
                    event: EventType::parse(&event),
                    payload: row.try_get("payload")?,
                    created_at: from_db(row.try_get("created_at")?),
                    attempts: from_db(row.try_get("attempts")?),
                    hook: hooks.get(&hook_id).cloned(),
                })
            })
            .collect()
    }

    /// The hooks not removed whose secrets read.
    async fn hooks(&self) -> Result<HashMap<String, Hook>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, url, secret FROM hooks WHERE removed_at IS NULL")
            .fetch_all(self.db.pool())
            .await?;
        let mut hooks = HashMap::new();
        for row in rows {
            let secret: String = row.try_get("secret")?;
            if let Ok(secret) = Secret::parse(&secret) {
                let url = row.try_get("url")?;
                hooks.insert(row.try_get("id")?, Hook { url, secret });
            }
        }
        Ok(hooks)
    }

    /// One try of one delivery.
    async fn deliver(&self, due: &Due) -> Outcome {
        match &due.hook {
            None => Outcome::Abandoned("the hook was removed".into()),
            Some(hook) => self.send(hook, due).await,
        }
    }

    /// POSTs the delivery's body, signed, as the Standard Webhooks specification says.
    async fn send(&self, hook: &Hook, due: &Due) -> Outcome {
        let body = self.body(due).await;
        let timestamp = system::now_secs();
        let signature = hook.secret.sign(&due.id, timestamp, body.as_bytes());
        let sent = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &due.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => {
                Outcome::Delivered(answer.status().as_u16())
            }
            Ok(answer) => {
                let status = answer.status();
                let error = match status.is_redirection() {
                    true => format!("answered {status}: hooks do not follow redirects"),
                    false => {
                        let text = answer.text().await.unwrap_or_default();
                        let text: String =
                            text.chars().filter(|c| !c.is_control()).take(200).collect();
                        format!("answered {status}: {text}").trim().to_owned()
                    }
                };
                Outcome::Failed {
                    status: Some(status.as_u16()),
                    error,
                }
            }
            Err(err) => Outcome::Failed {
                status: None,
                error: self.transport_error(&err),
            },
        }
    }

    fn transport_error(&self, err: &reqwest::Error) -> String {
        if err.is_timeout() {
            return format!(
                "did not answer within {} s",
                self.settings.timeout.as_secs_f64()
            );
        }
        let mut text = if err.is_connect() {
            "could not connect".to_owned()
        } else {
            "the request failed".to_owned()
        };
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        text
    }

    /// The body to send: as written, with a fresh download URL for a stored file (one
    /// written with the event would have expired by a later try).
    async fn body(&self, due: &Due) -> String {
        if due.event != Some(EventType::UploadCompleted) {
            return due.payload.clone();
        }
        let Ok(mut body) = serde_json::from_str::<Value>(&due.payload) else {
            return due.payload.clone();
        };
        let data = &body["data"];
        let (Some(key), Some(name)) = (data["key"].as_str(), data["name"].as_str()) else {
            return due.payload.clone();
        };
        match self
            .storage
            .presign_get(None, key, &attachment_disposition(name))
            .await
        {
            Ok(url) => body["data"]["download_url"] = Value::String(url),
            Err(err) => tracing::warn!(%key, %err, "could not sign a webhook's download URL"),
        }
        body.to_string()
    }

    /// Notes tries, in one transaction: delivered; failed, with when to try again (or
    /// given up, once the retry window closes); or abandoned.
    async fn note(&self, done: &[(Due, Outcome)]) -> Result<(), sqlx::Error> {
        let now = system::now_secs();
        let mut tx = self.db.pool().begin().await?;
        for (due, outcome) in done {
            let attempts = due.attempts + 1;
            let (state, status, error, next) = match outcome {
                Outcome::Delivered(status) => ("delivered", Some(*status), None, now),
                Outcome::Abandoned(why) => ("failed", None, Some(why.clone()), now),
                Outcome::Failed { status, error } => {
                    let jitter = f64::from(system::random_bytes::<1>()[0]) / 256.0;
                    let first = self.settings.retry_first.as_secs();
                    let attempt = u32::try_from(attempts).unwrap_or(u32::MAX);
                    let next = now.saturating_add(retry_delay(attempt, first, jitter));
                    let window = self.settings.retry_for.as_secs();
                    let state = match still_tried(due.created_at, next, window) {
                        true => "pending",
                        false => "failed",
                    };
                    (state, *status, Some(error.clone()), next)
                }
            };
            match (state, &error) {
                ("delivered", _) => tracing::debug!(delivery = %due.id, "webhook delivered"),
                (state, Some(error)) => {
                    tracing::warn!(delivery = %due.id, attempts, state, %error, "webhook not delivered");
                }
                _ => {}
            }
            sqlx::query(
                "UPDATE deliveries SET state = $2, attempts = $3, last_status = $4, \
                 last_error = $5, next_attempt_at = $6, leased_until = 0, \
                 finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $7 END \
                 WHERE id = $1 AND state = 'pending'",
            )
            .bind(&due.id)
            .bind(state)
            .bind(to_db(attempts))
            .bind(status.map(i64::from))
            .bind(error)
            .bind(to_db(next))
            .bind(to_db(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}
