//! The record of uploads, kept in the `uploads` table: each upload's life from its start
//! (reserved against its link's limits in the same transaction) to stored, cancelled,
//! failed or expired (what it held given back), and a stored file's deletion. One transaction per batch call; signing
//! parts never comes here. The store stays the truth about bytes; this is what the
//! operator looks at.

pub mod listing;

use sqlx::{Any, Row, Transaction};

use crate::api::types::{LinkInfo, UploadState};
use crate::core::link::{LinkRefusal, check_open};
use crate::server::database::{Database, from_db, to_db};
use crate::server::links::{self, LinksError};

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
pub async fn starts(
    db: &Database,
    sender: &Sender,
    files: &[Starting],
    now: u64,
) -> Result<Vec<Result<(), LinkRefusal>>, LinksError> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = db.pool().begin().await?;
    let mut answers = Vec::with_capacity(files.len());
    match &sender.link {
        None => {
            for file in files {
                insert(&mut tx, sender, file, now).await?;
                answers.push(Ok(()));
            }
        }
        Some(link) => {
            let held_now = links::hold(&mut tx, &link.id).await?;
            let open = held_now
                .as_ref()
                .ok_or(LinkRefusal::Revoked)
                .and_then(|l| check_open(l.expires_at, l.revoked_at, now).map(|()| l));
            let current = match open {
                Ok(current) => current,
                Err(refusal) => return Ok(vec![Err(refusal); files.len()]),
            };
            let mut held = current.held;
            for file in files {
                let answer =
                    current
                        .limits
                        .reserve(held, &file.name, &file.content_type, file.size);
                if let Ok(after) = answer {
                    held = after;
                    insert(&mut tx, sender, file, now).await?;
                }
                answers.push(answer.map(|_| ()));
            }
            if held != current.held {
                links::set_held(&mut tx, &link.id, held, Some(now)).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(answers)
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    sender: &Sender,
    file: &Starting,
    now: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO uploads (key, link_id, name, folder, size, content_type, uploader, \
         client, state, started_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'started', $9, $10)",
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

/// Records files stored, with their CRC32C, in one transaction. A file recorded
/// stored already (a completion asked again) stays as it is.
pub async fn stored(
    db: &Database,
    files: &[(String, Option<String>)],
    now: u64,
) -> Result<(), sqlx::Error> {
    if files.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool().begin().await?;
    for (key, crc32c) in files {
        sqlx::query(
            "UPDATE uploads SET state = 'stored', crc32c = $2, finished_at = $3, \
             upload_id = NULL WHERE key = $1 AND state = 'started'",
        )
        .bind(key)
        .bind(crc32c.clone())
        .bind(to_db(now))
        .execute(&mut *tx)
        .await?;
    }
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
    let mut tx = db.pool().begin().await?;
    let mut ended = Vec::new();
    for key in keys {
        let row = sqlx::query(
            "UPDATE uploads SET state = $2, reason = $3, finished_at = $4 \
             WHERE key = $1 AND state = 'started' RETURNING link_id, size, upload_id",
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
        ended.push(Ended {
            key: key.clone(),
            upload_id: row.try_get("upload_id")?,
        });
    }
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
