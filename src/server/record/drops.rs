//! Drops, kept in `drops`: the files one person dropped or picked together, as the
//! sender tags them (`DropTag`). A drop finishes once as many of its files have ended
//! (stored, failed, cancelled, expired) or been refused as it said it holds, and then
//! `batch.completed` is told, once, in the transaction that ended its last file. A drop
//! left short (files taken off the queue, a tab closed) finishes once it has been quiet
//! for [`QUIET_SECS`] with nothing in flight.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::api::types::DropTag;
use crate::core::key::is_drop_id;
use crate::core::webhook::EventType;
use crate::server::database::{Database, from_db, to_db};
use crate::server::hooks::{LinkRef, Listeners, link_refs};
use crate::server::system;

/// How long a drop that is short of files waits, with nothing in flight and no new
/// start, before it is finished as it is.
pub const QUIET_SECS: u64 = 60 * 60;

/// What `batch.completed` tells.
#[derive(Debug, Serialize)]
struct Finished {
    drop: String,
    link: Option<LinkRef>,
    uploader: Option<String>,
    client: Option<String>,
    /// How many files the sender said the drop holds.
    files: u64,
    stored: u64,
    failed: u64,
    cancelled: u64,
    expired: u64,
    /// Refused at their start (by a limit, the policy or the pre-start hook).
    refused: u64,
    bytes_stored: u64,
    /// Whether every file the sender named has ended: false for a drop finished after
    /// it had been quiet.
    whole: bool,
    started_at: String,
    finished_at: String,
}

/// Opens (or joins) the drops a batch's files name, inside `tx`: made by their first
/// file, the count the largest any start names, the files refused before the record
/// counted. A tag naming a drop made through another link (or none) is left out. Answers
/// the drops joined.
pub async fn open(
    tx: &mut Transaction<'_, Any>,
    link: Option<&str>,
    uploader: Option<&str>,
    client: Option<&str>,
    tags: &[(&DropTag, bool)],
    now: u64,
) -> Result<BTreeSet<String>, sqlx::Error> {
    let link = link.map(str::to_owned);
    let mut named: BTreeMap<&str, (u32, u64)> = BTreeMap::new();
    for (tag, refused) in tags.iter().filter(|(t, _)| is_drop_id(&t.id)) {
        let entry = named.entry(&tag.id).or_default();
        entry.0 = entry.0.max(tag.files);
        entry.1 += u64::from(*refused);
    }
    let mut joined = BTreeSet::new();
    for (id, (files, refused)) in named {
        sqlx::query(
            "INSERT INTO drops (id, link_id, uploader, client, files_expected, files_refused, \
             started_at, last_start_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(link.clone())
        .bind(uploader)
        .bind(client)
        .bind(i64::from(files))
        .bind(to_db(now))
        .execute(&mut **tx)
        .await?;
        let owner: Option<String> = sqlx::query_scalar("SELECT link_id FROM drops WHERE id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        if owner != link {
            continue;
        }
        sqlx::query(
            "UPDATE drops SET files_refused = files_refused + $2, last_start_at = $3, \
             files_expected = CASE WHEN files_expected < $4 THEN $4 ELSE files_expected END \
             WHERE id = $1",
        )
        .bind(id)
        .bind(to_db(refused))
        .bind(to_db(now))
        .bind(i64::from(files))
        .execute(&mut **tx)
        .await?;
        joined.insert(id.to_owned());
    }
    Ok(joined)
}

/// Counts more of a drop's files refused (by its link's limits, inside the transaction
/// that recorded the others).
pub async fn refused(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    count: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE drops SET files_refused = files_refused + $2 WHERE id = $1")
        .bind(id)
        .bind(to_db(count))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Finishes those of `ids` whose files have all ended or been refused (or, `quiet`,
/// those with nothing in flight), telling `batch.completed` once for each. Each drop is
/// taken in turn (its row written first, as a link's is): the transaction that ends a
/// drop's last file sees every other file's end.
pub async fn settle(
    tx: &mut Transaction<'_, Any>,
    listeners: &Listeners,
    ids: &BTreeSet<String>,
    quiet: bool,
    now: u64,
) -> Result<(), sqlx::Error> {
    for id in ids {
        let turn = sqlx::query(
            "UPDATE drops SET files_refused = files_refused WHERE id = $1 AND finished_at IS NULL",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?;
        if turn.rows_affected() == 0 {
            continue;
        }
        let drop = sqlx::query(
            "SELECT link_id, uploader, client, files_expected, files_refused, started_at \
             FROM drops WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
        let counts = sqlx::query(
            "SELECT state, COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes \
             FROM uploads WHERE drop_id = $1 GROUP BY state",
        )
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        let mut by_state: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for row in &counts {
            let n: i64 = row.try_get("n")?;
            let bytes: i64 = row.try_get("bytes")?;
            by_state.insert(row.try_get("state")?, (from_db(n), from_db(bytes)));
        }
        let count = |state: &str| by_state.get(state).map_or(0, |c| c.0);
        let expected = from_db(drop.try_get("files_expected")?);
        let refused = from_db(drop.try_get("files_refused")?);
        let in_flight = count("started");
        let ended: u64 = by_state.values().map(|c| c.0).sum::<u64>() - in_flight;
        let whole = ended + refused >= expected;
        if !(whole || quiet && in_flight == 0) {
            continue;
        }
        sqlx::query("UPDATE drops SET finished_at = $2 WHERE id = $1")
            .bind(id)
            .bind(to_db(now))
            .execute(&mut **tx)
            .await?;
        let link_id: Option<String> = drop.try_get("link_id")?;
        let link = link_refs(tx, link_id.iter()).await?.into_values().next();
        let finished = Finished {
            drop: id.clone(),
            link,
            uploader: drop.try_get("uploader")?,
            client: drop.try_get("client")?,
            files: expected,
            // A stored file the operator deleted since was stored.
            stored: count("stored") + count("deleted"),
            failed: count("failed"),
            cancelled: count("cancelled"),
            expired: count("expired"),
            refused,
            bytes_stored: by_state.get("stored").map_or(0, |c| c.1)
                + by_state.get("deleted").map_or(0, |c| c.1),
            whole,
            started_at: system::utc(from_db(drop.try_get("started_at")?)),
            finished_at: system::utc(now),
        };
        listeners
            .tell(
                tx,
                EventType::BatchCompleted,
                link_id.as_deref(),
                &finished,
                now,
            )
            .await?;
    }
    Ok(())
}

/// Finishes the drops that have been quiet for `quiet_secs` ([`QUIET_SECS`] but in
/// tests) with nothing in flight, a few hundred a sweep; answers how many were looked at.
pub async fn finish_quiet(db: &Database, quiet_secs: u64, now: u64) -> Result<usize, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT d.id FROM drops d WHERE d.finished_at IS NULL AND d.last_start_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.drop_id = d.id AND u.state = 'started') \
         LIMIT 500",
    )
    .bind(to_db(now.saturating_sub(quiet_secs)))
    .fetch_all(db.pool())
    .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let listeners = Listeners::of(db).await?;
    let mut tx = db.pool().begin().await?;
    let ids: BTreeSet<String> = ids.into_iter().collect();
    settle(&mut tx, &listeners, &ids, true, now).await?;
    tx.commit().await?;
    Ok(ids.len())
}
