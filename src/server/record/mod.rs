//! The record of uploads, kept in the `uploads` table: each upload's life from its start
//! (reserved against its link's limits in the same transaction) to stored, cancelled,
//! failed or expired (what it held given back), and a stored file's deletion. One
//! transaction per batch call, which also writes the events it tells hooks (the outbox);
//! signing parts never comes here. The store stays the truth about bytes; this is what
//! the operator looks at.

pub mod drops;
pub mod listing;

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::api::types::{DropTag, LinkInfo, UploadState};
use crate::core::link::{Held, LinkRefusal, check_open};
use crate::core::webhook::EventType;
use crate::server::database::{Database, from_db, to_db};
use crate::server::hooks::{LinkRef, Listeners, link_refs};
use crate::server::links::{self, LinksError};
use crate::server::system;

/// How long past its token's expiry a started upload is left before it is counted as
/// expired: a completion that began just before the expiry may still be finishing.
pub const EXPIRY_GRACE_SECS: u64 = 5 * 60;

/// Who is sending a batch: through which link (or the open drop), under what name,
/// from where.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    pub link: Option<LinkInfo>,
    pub uploader: Option<String>,
    pub client: Option<String>,
}

/// A file about to start, as the record keeps it.
#[derive(Debug, Clone)]
pub struct Starting {
    pub key: String,
    pub name: String,
    pub folder: String,
    pub size: u64,
    pub content_type: String,
    /// When its token expires.
    pub expires_at: u64,
    /// The drop it came in, if its sender named one.
    pub drop: Option<DropTag>,
}

/// An upload that ended unstored: what is left to clear from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub key: String,
    /// Its multipart upload, when one was in flight (to abort).
    pub upload_id: Option<String>,
}

/// Records a batch of starts in one transaction. Through a link, the link's turn is
/// taken first and each file reserved against its limits in order; a refused file is
/// answered with why, the others start. (A link gone, revoked or expired refuses all.)
/// The drops the files name are joined, counting `refused_before` (the drops of files
/// refused before they reached the record); a link that became full is told.
pub async fn starts(
    db: &Database,
    sender: &Sender,
    files: &[Starting],
    refused_before: &[&DropTag],
    now: u64,
) -> Result<Vec<Result<(), LinkRefusal>>, LinksError> {
    if files.is_empty() && refused_before.is_empty() {
        return Ok(Vec::new());
    }
    let listeners = Listeners::of(db).await?;
    let mut tx = db.pool().begin().await?;
    let held_now = match &sender.link {
        Some(link) => Some(links::hold(&mut tx, &link.id).await?),
        None => None,
    };
    let tags: Vec<(&DropTag, bool)> = files
        .iter()
        .filter_map(|f| Some((f.drop.as_ref()?, false)))
        .chain(refused_before.iter().map(|tag| (*tag, true)))
        .collect();
    let link = sender.link.as_ref().map(|l| l.id.as_str());
    let (uploader, client) = (sender.uploader.as_deref(), sender.client.as_deref());
    let joined = drops::open(&mut tx, link, uploader, client, &tags, now).await?;
    let drop_of = |file: &Starting| {
        file.drop
            .as_ref()
            .map(|tag| tag.id.clone())
            .filter(|id| joined.contains(id))
    };
    let mut answers = Vec::with_capacity(files.len());
    match (&sender.link, held_now) {
        (None, _) | (_, None) => {
            for file in files {
                insert(&mut tx, sender, file, drop_of(file), now).await?;
                answers.push(Ok(()));
            }
        }
        (Some(link), Some(held_now)) => {
            let open = held_now
                .as_ref()
                .ok_or(LinkRefusal::Revoked)
                .and_then(|l| check_open(l.expires_at, l.revoked_at, now).map(|()| l));
            let current = match open {
                Ok(current) => current,
                Err(refusal) => {
                    answers = vec![Err(refusal); files.len()];
                    refuse_in_drops(&mut tx, files, &answers, &drop_of).await?;
                    drops::settle(&mut tx, &listeners, &joined, false, now).await?;
                    tx.commit().await?;
                    return Ok(answers);
                }
            };
            let mut held = current.held;
            for file in files {
                let answer =
                    current
                        .limits
                        .reserve(held, &file.name, &file.content_type, file.size);
                if let Ok(after) = answer {
                    held = after;
                    insert(&mut tx, sender, file, drop_of(file), now).await?;
                }
                answers.push(answer.map(|_| ()));
            }
            if held != current.held {
                links::set_held(&mut tx, &link.id, held, Some(now)).await?;
            }
            refuse_in_drops(&mut tx, files, &answers, &drop_of).await?;
            if is_full(current, held, &answers) {
                tell_full(&mut tx, &listeners, current, held, now).await?;
            }
        }
    }
    drops::settle(&mut tx, &listeners, &joined, false, now).await?;
    tx.commit().await?;
    Ok(answers)
}

/// Counts the refused files of each drop.
async fn refuse_in_drops(
    tx: &mut Transaction<'_, Any>,
    files: &[Starting],
    answers: &[Result<(), LinkRefusal>],
    drop_of: &impl Fn(&Starting) -> Option<String>,
) -> Result<(), sqlx::Error> {
    let mut refused: HashMap<String, u64> = HashMap::new();
    for (file, answer) in files.iter().zip(answers) {
        if let (Err(_), Some(id)) = (answer, drop_of(file)) {
            *refused.entry(id).or_default() += 1;
        }
    }
    for (id, count) in refused {
        drops::refused(tx, &id, count).await?;
    }
    Ok(())
}

/// Whether a link is full after a batch: its file or byte limit reached, or a file
/// refused for want of room.
fn is_full(link: &LinkInfo, held: Held, answers: &[Result<(), LinkRefusal>]) -> bool {
    let limits = &link.limits;
    limits.max_files.is_some_and(|most| held.files >= most)
        || limits.max_bytes.is_some_and(|most| held.bytes >= most)
        || answers.iter().any(|a| {
            matches!(
                a,
                Err(LinkRefusal::NoRoom { .. } | LinkRefusal::NoFilesLeft { .. })
            )
        })
}

/// What `link.limit_reached` and `link.expired` tell.
#[derive(Debug, Serialize)]
struct LinkEvent {
    link: LinkRef,
    folder: String,
    max_files: Option<u64>,
    max_bytes: Option<u64>,
    /// What it holds: files in flight or stored.
    files_held: u64,
    bytes_held: u64,
    expires_at: String,
}

impl LinkEvent {
    fn of(link: &LinkInfo, held: Held) -> Self {
        Self {
            link: LinkRef {
                id: link.id.clone(),
                label: link.label.clone(),
            },
            folder: link.folder.clone(),
            max_files: link.limits.max_files,
            max_bytes: link.limits.max_bytes,
            files_held: held.files,
            bytes_held: held.bytes,
            expires_at: system::utc(link.expires_at),
        }
    }
}

/// Tells `link.limit_reached` once each time a link becomes full (it has room again
/// when a file it held ends unstored).
async fn tell_full(
    tx: &mut Transaction<'_, Any>,
    listeners: &Listeners,
    link: &LinkInfo,
    held: Held,
    now: u64,
) -> Result<(), sqlx::Error> {
    let became = sqlx::query("UPDATE links SET full_at = $2 WHERE id = $1 AND full_at IS NULL")
        .bind(&link.id)
        .bind(to_db(now))
        .execute(&mut **tx)
        .await?;
    if became.rows_affected() == 1 {
        let event = LinkEvent::of(link, held);
        listeners
            .tell(tx, EventType::LinkLimitReached, Some(&link.id), &event, now)
            .await?;
    }
    Ok(())
}

/// Tells `link.expired` for the links whose expiry has passed by `now` (not revoked
/// ones: the operator ended those), once each.
pub async fn tell_expired_links(db: &Database, now: u64) -> Result<usize, LinksError> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM links WHERE expires_at <= $1 AND revoked_at IS NULL          AND expiry_told_at IS NULL LIMIT 500",
    )
    .bind(to_db(now))
    .fetch_all(db.pool())
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let listeners = Listeners::of(db).await?;
    let mut tx = db.pool().begin().await?;
    let mut told = 0;
    for id in &ids {
        let first = sqlx::query(
            "UPDATE links SET expiry_told_at = $2 WHERE id = $1 AND expiry_told_at IS NULL",
        )
        .bind(id)
        .bind(to_db(now))
        .execute(&mut *tx)
        .await?;
        if first.rows_affected() == 0 {
            continue;
        }
        if let Some(link) = links::hold(&mut tx, id).await? {
            let event = LinkEvent::of(&link, link.held);
            listeners
                .tell(&mut tx, EventType::LinkExpired, Some(id), &event, now)
                .await?;
            told += 1;
        }
    }
    tx.commit().await?;
    Ok(told)
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    sender: &Sender,
    file: &Starting,
    drop: Option<String>,
    now: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO uploads (key, link_id, name, folder, size, content_type, uploader, \
         client, state, started_at, expires_at, drop_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'started', $9, $10, $11)",
    )
    .bind(&file.key)
    .bind(sender.link.as_ref().map(|l| l.id.clone()))
    .bind(&file.name)
    .bind(&file.folder)
    .bind(to_db(file.size))
    .bind(&file.content_type)
    .bind(sender.uploader.clone())
    .bind(sender.client.clone())
    .bind(to_db(now))
    .bind(to_db(file.expires_at))
    .bind(drop)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Notes the multipart upload ids of started files (to abort them if their link is
/// revoked), in one transaction.
pub async fn multipart_ids(db: &Database, ids: &[(String, String)]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool().begin().await?;
    for (key, upload_id) in ids {
        sqlx::query("UPDATE uploads SET upload_id = $2 WHERE key = $1 AND state = 'started'")
            .bind(key)
            .bind(upload_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// What `upload.completed` tells (its download URL is added as it is sent).
#[derive(Debug, Serialize)]
struct StoredEvent {
    key: String,
    name: String,
    folder: String,
    size: u64,
    content_type: String,
    crc32c: Option<String>,
    link: Option<LinkRef>,
    uploader: Option<String>,
    client: Option<String>,
    drop: Option<String>,
    started_at: String,
    stored_at: String,
}

/// Records files stored, with their CRC32C, in one transaction, telling the hooks of
/// each (and of each drop it finished). A file recorded stored already (a completion
/// asked again) stays as it is, and is not told again.
pub async fn stored(
    db: &Database,
    files: &[(String, Option<String>)],
    now: u64,
) -> Result<(), sqlx::Error> {
    if files.is_empty() {
        return Ok(());
    }
    let listeners = Listeners::of(db).await?;
    let mut tx = db.pool().begin().await?;
    let mut events = Vec::new();
    for (key, crc32c) in files {
        let row = sqlx::query(
            "UPDATE uploads SET state = 'stored', crc32c = $2, finished_at = $3, \
             upload_id = NULL WHERE key = $1 AND state = 'started' \
             RETURNING link_id, name, folder, size, content_type, uploader, client, \
             started_at, drop_id",
        )
        .bind(key)
        .bind(crc32c.clone())
        .bind(to_db(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { continue };
        let link_id: Option<String> = row.try_get("link_id")?;
        let event = StoredEvent {
            key: key.clone(),
            name: row.try_get("name")?,
            folder: row.try_get("folder")?,
            size: from_db(row.try_get("size")?),
            content_type: row.try_get("content_type")?,
            crc32c: crc32c.clone(),
            link: None,
            uploader: row.try_get("uploader")?,
            client: row.try_get("client")?,
            drop: row.try_get("drop_id")?,
            started_at: system::utc(from_db(row.try_get("started_at")?)),
            stored_at: system::utc(now),
        };
        events.push((link_id, event));
    }
    let refs = link_refs(&mut tx, events.iter().filter_map(|(l, _)| l.as_ref())).await?;
    let mut finished = BTreeSet::new();
    for (link_id, mut event) in events {
        event.link = link_id.as_ref().and_then(|id| refs.get(id).cloned());
        let link = link_id.as_deref();
        listeners
            .tell(&mut tx, EventType::UploadCompleted, link, &event, now)
            .await?;
        finished.extend(event.drop);
    }
    drops::settle(&mut tx, &listeners, &finished, false, now).await?;
    tx.commit().await
}

/// Ends started uploads unstored (`state` is cancelled, failed or expired), each with
/// why, giving back what they held of their links; one transaction. Answers those that
/// were still started (an upload ends once, whoever ends it first).
pub async fn ended(
    db: &Database,
    keys: &[String],
    state: UploadState,
    reason: &str,
    now: u64,
) -> Result<Vec<Ended>, LinksError> {
    let listeners = Listeners::of(db).await?;
    let mut tx = db.pool().begin().await?;
    let mut ended = Vec::new();
    let mut drops = BTreeSet::new();
    for key in keys {
        let row = sqlx::query(
            "UPDATE uploads SET state = $2, reason = $3, finished_at = $4 \
             WHERE key = $1 AND state = 'started' RETURNING link_id, size, upload_id, drop_id",
        )
        .bind(key)
        .bind(state.as_str())
        .bind(reason)
        .bind(to_db(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { continue };
        let link_id: Option<String> = row.try_get("link_id")?;
        let size: i64 = row.try_get("size")?;
        if let Some(link_id) = link_id {
            links::release(&mut tx, &link_id, from_db(size)).await?;
        }
        drops.extend(row.try_get::<Option<String>, _>("drop_id")?);
        ended.push(Ended {
            key: key.clone(),
            upload_id: row.try_get("upload_id")?,
        });
    }
    drops::settle(&mut tx, &listeners, &drops, false, now).await?;
    tx.commit().await?;
    Ok(ended)
}

/// Records a stored file deleted by the operator, giving back what it held of its link;
/// answers whether it was stored (a file is deleted once).
pub async fn deleted(db: &Database, key: &str, now: u64) -> Result<bool, LinksError> {
    let mut tx = db.pool().begin().await?;
    let row = sqlx::query(
        "UPDATE uploads SET state = 'deleted', reason = 'deleted by the operator', \
         finished_at = $2 WHERE key = $1 AND state = 'stored' RETURNING link_id, size",
    )
    .bind(key)
    .bind(to_db(now))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let link_id: Option<String> = row.try_get("link_id")?;
    if let Some(link_id) = link_id {
        let size: i64 = row.try_get("size")?;
        links::release(&mut tx, &link_id, from_db(size)).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Where the upload with `key` stands, if the record has it.
pub async fn state_of(db: &Database, key: &str) -> Result<Option<UploadState>, sqlx::Error> {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM uploads WHERE key = $1")
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
    Ok(state.as_deref().and_then(UploadState::parse))
}

/// How many abandoned uploads one sweep ends at most (the next sweep ends the rest), so
/// a sweep's transaction stays short.
pub const SWEEP_BATCH: u32 = 500;

/// The started uploads whose tokens expired (with [`EXPIRY_GRACE_SECS`]) by `now`.
pub async fn expired(db: &Database, now: u64) -> Result<Vec<String>, sqlx::Error> {
    keys(
        db,
        &format!(
            "SELECT key FROM uploads WHERE state = 'started' AND expires_at <= $1 \
             LIMIT {SWEEP_BATCH}"
        ),
        now.saturating_sub(EXPIRY_GRACE_SECS),
    )
    .await
}

/// The started uploads whose link was revoked or has expired by `now`.
pub async fn behind_closed_links(db: &Database, now: u64) -> Result<Vec<String>, sqlx::Error> {
    keys(
        db,
        &format!(
            "SELECT u.key FROM uploads u JOIN links l ON l.id = u.link_id \
             WHERE u.state = 'started' AND (l.revoked_at IS NOT NULL OR l.expires_at <= $1) \
             LIMIT {SWEEP_BATCH}"
        ),
        now,
    )
    .await
}

async fn keys(db: &Database, query: &str, at: u64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(query)
        .bind(to_db(at))
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| row.try_get("key"))
        .collect()
}
