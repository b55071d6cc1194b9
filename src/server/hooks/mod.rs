//! Webhooks, kept in `hooks` and `deliveries`: the hooks the operator sets (the whole
//! deployment's, or one link's), and the outbox their events wait in. An event is
//! written by [`Listeners::tell`] inside the transaction that records what it tells, so
//! it exists exactly when its record does; `deliver` sends it in the background, at
//! least once. The signatures' rules are `core::webhook`'s.

pub mod deliver;
pub mod pre_start;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::api::types::{CreatedHook, DeliveryInfo, DeliveryState, HookInfo};
use crate::core::webhook::{EventType, SECRET_BYTES, Secret, WebhookError, check_url};
use crate::server::database::{Database, from_db, to_db};
use crate::server::system;

/// Why a hook call failed.
#[derive(Debug, thiserror::Error)]
pub enum HooksError {
    #[error("there is no hook {0}")]
    NotFound(String),
    #[error("there is no delivery {0}")]
    NoDelivery(String),
    #[error("there is no upload link {0}")]
    NoLink(String),
    #[error("{0}")]
    Invalid(#[from] WebhookError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// How many deliveries of a hook the operator is shown at most.
pub const MAX_DELIVERIES_SHOWN: u32 = 200;

/// A link as events name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkRef {
    pub id: String,
    pub label: String,
}

/// A hook as the operator asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHook {
    pub url: String,
    pub link_id: Option<String>,
    pub events: Vec<EventType>,
}

/// Makes a hook with a fresh secret; answers it with the secret, shown this once.
pub async fn create(db: &Database, new: NewHook, now: u64) -> Result<CreatedHook, HooksError> {
    let url = new.url.trim().to_owned();
    check_url(&url)?;
    if let Some(link) = &new.link_id {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM links WHERE id = $1")
            .bind(link)
            .fetch_optional(db.pool())
            .await?;
        if found.is_none() {
            return Err(HooksError::NoLink(link.chars().take(40).collect()));
        }
    }
    let id = format!("hook_{}", system::random_hex(8));
    let secret = Secret::from_bytes(system::random_bytes::<SECRET_BYTES>().to_vec()).to_text();
    let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
    sqlx::query(
        "INSERT INTO hooks (id, url, secret, link_id, events, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&url)
    .bind(&secret)
    .bind(new.link_id.clone())
    .bind(events.join(","))
    .bind(to_db(now))
    .execute(db.pool())
    .await?;
    Ok(CreatedHook {
        hook: find(db, &id).await?,
        secret,
    })
}

const COLUMNS: &str = "h.id, h.url, h.link_id, h.events, h.created_at, \
     (SELECT COUNT(*) FROM deliveries d WHERE d.hook_id = h.id AND d.state = 'pending') \
       AS pending, \
     (SELECT COUNT(*) FROM deliveries d WHERE d.hook_id = h.id AND d.state = 'delivered') \
       AS delivered, \
     (SELECT COUNT(*) FROM deliveries d WHERE d.hook_id = h.id AND d.state = 'failed') \
       AS failed";

/// Every hook not removed, newest first, with its deliveries counted.
pub async fn list(db: &Database) -> Result<Vec<HookInfo>, HooksError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM hooks h WHERE h.removed_at IS NULL \
         ORDER BY h.created_at DESC, h.id"
    ))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| read(row).map_err(Into::into))
        .collect()
}

/// Hook `id`, if it is not removed.
pub async fn find(db: &Database, id: &str) -> Result<HookInfo, HooksError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM hooks h WHERE h.id = $1 AND h.removed_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| HooksError::NotFound(id.chars().take(40).collect()))?;
    Ok(read(&row)?)
}

/// Removes a hook: it hears nothing more, and what it had pending is given up.
pub async fn remove(db: &Database, id: &str, now: u64) -> Result<HookInfo, HooksError> {
    let hook = find(db, id).await?;
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE hooks SET removed_at = $2 WHERE id = $1 AND removed_at IS NULL")
        .bind(id)
        .bind(to_db(now))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE deliveries SET state = 'failed', last_error = 'the hook was removed', \
         finished_at = $2 WHERE hook_id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(to_db(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(hook)
}

const DELIVERY_COLUMNS: &str = "id, hook_id, event, state, attempts, created_at, \
     next_attempt_at, last_status, last_error, finished_at";

/// A hook's latest deliveries, newest first.
pub async fn deliveries(
    db: &Database,
    hook_id: &str,
    limit: u32,
) -> Result<Vec<DeliveryInfo>, HooksError> {
    find(db, hook_id).await?;
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE hook_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(hook_id)
    .bind(i64::from(limit.min(MAX_DELIVERIES_SHOWN)))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| read_delivery(row).map_err(Into::into))
        .collect()
}

/// Sends a delivery again, whatever became of it: it is pending from `now`, with a new
/// retry window, under the same `webhook-id` (a receiver that has it already knows it).
pub async fn resend(db: &Database, id: &str, now: u64) -> Result<DeliveryInfo, HooksError> {
    let done = sqlx::query(
        "UPDATE deliveries SET state = 'pending', created_at = $2, next_attempt_at = $2, \
         finished_at = NULL WHERE id = $1 \
         AND hook_id IN (SELECT id FROM hooks WHERE removed_at IS NULL)",
    )
    .bind(id)
    .bind(to_db(now))
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(HooksError::NoDelivery(id.chars().take(40).collect()));
    }
    let row = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(db.pool())
    .await?;
    Ok(read_delivery(&row)?)
}

/// The hooks listening when a transaction began, to tell them its events. (Read before
/// it begins: an SQLite transaction must write first, or another server's write may
/// leave it unable to.)
pub struct Listeners {
    hooks: Vec<(String, Option<String>, Vec<EventType>)>,
}

/// An event as every delivery's body has it (the Standard Webhooks shape).
#[derive(Serialize)]
struct Body<'a, T> {
    #[serde(rename = "type")]
    event: &'static str,
    timestamp: String,
    data: &'a T,
}

impl Listeners {
    /// The hooks not removed.
    pub async fn of(db: &Database) -> Result<Self, sqlx::Error> {
        let rows = sqlx::query("SELECT id, link_id, events FROM hooks WHERE removed_at IS NULL")
            .fetch_all(db.pool())
            .await?;
        let hooks = rows
            .iter()
            .map(|row| {
                let events: String = row.try_get("events")?;
                Ok((
                    row.try_get("id")?,
                    row.try_get("link_id")?,
                    parse_events(&events),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Self { hooks })
    }

    /// Writes `event` with `data` into the outbox inside `tx`, once for each hook that
    /// hears it: the deployment's, and `link`'s own. Answers how many were written.
    pub async fn tell<T: Serialize>(
        &self,
        tx: &mut Transaction<'_, Any>,
        event: EventType,
        link: Option<&str>,
        data: &T,
        now: u64,
    ) -> Result<usize, sqlx::Error> {
        let hearing: Vec<&str> = self
            .hooks
            .iter()
            .filter(|(_, only, events)| {
                (only.is_none() || only.as_deref() == link)
                    && (events.is_empty() || events.contains(&event))
            })
            .map(|(id, _, _)| id.as_str())
            .collect();
        if hearing.is_empty() {
            return Ok(0);
        }
        let body = serde_json::to_string(&Body {
            event: event.as_str(),
            // To the millisecond: receivers measure how late it arrives.
            timestamp: system::utc_ms(system::now_ms()),
            data,
        })
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        for hook in &hearing {
            sqlx::query(
                "INSERT INTO deliveries (id, hook_id, event, payload, created_at, state, \
                 attempts, next_attempt_at, leased_until) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, $5, 0)",
            )
            .bind(format!("msg_{}", system::random_id()))
            .bind(*hook)
            .bind(event.as_str())
            .bind(&body)
            .bind(to_db(now))
            .execute(&mut **tx)
            .await?;
        }
        Ok(hearing.len())
    }
}

/// The links `ids` as events name them.
pub async fn link_refs<'a>(
    tx: &mut Transaction<'_, Any>,
    ids: impl Iterator<Item = &'a String>,
) -> Result<HashMap<String, LinkRef>, sqlx::Error> {
    let mut refs = HashMap::new();
    for id in ids.collect::<BTreeSet<_>>() {
        let label: Option<String> = sqlx::query_scalar("SELECT label FROM links WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(label) = label {
            let link = LinkRef {
                id: id.clone(),
                label,
            };
            refs.insert(id.clone(), link);
        }
    }
    Ok(refs)
}

/// The events a hook's row lists (unknown words, from a later version, are skipped).
fn parse_events(text: &str) -> Vec<EventType> {
    text.split(',').filter_map(EventType::parse).collect()
}

fn read(row: &AnyRow) -> Result<HookInfo, sqlx::Error> {
    let count = |name: &str| -> Result<u64, sqlx::Error> { Ok(from_db(row.try_get(name)?)) };
    let events: String = row.try_get("events")?;
    Ok(HookInfo {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        link_id: row.try_get("link_id")?,
        events: parse_events(&events),
        created_at: count("created_at")?,
        pending: count("pending")?,
        delivered: count("delivered")?,
        failed: count("failed")?,
    })
}

fn read_delivery(row: &AnyRow) -> Result<DeliveryInfo, sqlx::Error> {
    let count = |name: &str| -> Result<u64, sqlx::Error> { Ok(from_db(row.try_get(name)?)) };
    let word = |name: &str| -> Result<String, sqlx::Error> { row.try_get(name) };
    let unknown = |what: &str, value: String| sqlx::Error::Decode(format!("{what} {value}").into());
    let event = word("event")?;
    let state = word("state")?;
    Ok(DeliveryInfo {
        id: word("id")?,
        hook_id: word("hook_id")?,
        event: EventType::parse(&event).ok_or_else(|| unknown("event", event))?,
        state: DeliveryState::parse(&state).ok_or_else(|| unknown("state", state))?,
        attempts: count("attempts")?,
        created_at: count("created_at")?,
        next_attempt_at: count("next_attempt_at")?,
        last_status: row
            .try_get::<Option<i64>, _>("last_status")?
            .and_then(|s| u16::try_from(s).ok()),
        last_error: row.try_get("last_error")?,
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(from_db),
    })
}
