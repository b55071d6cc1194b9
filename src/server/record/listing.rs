//! Reading the record: pages newest first, filtered by link, state or name, each page
//! starting where the last ended (a cursor of the last row's start time and key, so a
//! page costs the same however deep it is). Within one second, keys in ascending order:
//! an upload's id counts down with its start (`core::key::upload_id_at`), so under one
//! prefix that is newest first too.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::api::types::{RecordedUpload, UploadState};
use crate::server::database::{Database, from_db, to_db};

/// Which uploads the operator asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub link_id: Option<String>,
    pub state: Option<UploadState>,
    /// Part of the name (or folder), any case.
    pub name: Option<String>,
}

/// Where a page starts: after the upload started at `started_at` with `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub started_at: u64,
    pub key: String,
}

impl Cursor {
    /// As the page carries it: `started_at:key`.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.started_at, self.key)
    }

    /// A cursor the page sent back, or `None` for junk.
    pub fn decode(text: &str) -> Option<Self> {
        let (at, key) = text.split_once(':')?;
        Some(Self {
            started_at: at.parse().ok()?,
            key: key.to_owned(),
        })
    }
}

/// The most uploads one page holds.
pub const MAX_PAGE: u32 = 500;

/// A page of uploads matching `filter`, newest first, after `after`; with the cursor
/// of the next page when there is one.
pub async fn page(
    db: &Database,
    filter: &Filter,
    after: Option<&Cursor>,
    limit: u32,
) -> Result<(Vec<RecordedUpload>, Option<Cursor>), sqlx::Error> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut clauses = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if filter.link_id.is_some() {
        clauses.push(format!("link_id = {}", next()));
    }
    if filter.state.is_some() {
        clauses.push(format!("state = {}", next()));
    }
    if filter.name.is_some() {
        let p = next();
        clauses.push(format!(
            "(LOWER(name) LIKE {p} ESCAPE '\\' OR LOWER(folder) LIKE {p} ESCAPE '\\')"
        ));
    }
    if after.is_some() {
        let (at, key) = (next(), next());
        clauses.push(format!(
            "(started_at < {at} OR (started_at = {at} AND key > {key}))"
        ));
    }
    let limit_param = next();
    let filter_sql = match clauses.is_empty() {
        true => String::new(),
        false => format!("WHERE {}", clauses.join(" AND ")),
    };
    let sql = format!(
        "SELECT key, name, folder, size, content_type, crc32c, link_id, uploader, client, \
         state, reason, started_at, finished_at FROM uploads {filter_sql} \
         ORDER BY started_at DESC, key LIMIT {limit_param}"
    );
    let mut query = sqlx::query(&sql);
    if let Some(link_id) = &filter.link_id {
        query = query.bind(link_id.clone());
    }
    if let Some(state) = filter.state {
        query = query.bind(state.as_str());
    }
    if let Some(name) = &filter.name {
        query = query.bind(like_pattern(name));
    }
    if let Some(after) = after {
        query = query.bind(to_db(after.started_at)).bind(after.key.clone());
    }
    // One more than the page, to know whether another follows.
    let rows = query
        .bind(i64::from(limit) + 1)
        .fetch_all(db.pool())
        .await?;
    let mut uploads = rows.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    let more = uploads.len() > limit as usize;
    uploads.truncate(limit as usize);
    let next = more.then(|| uploads.last()).flatten().map(|last| Cursor {
        started_at: last.started_at,
        key: last.key.clone(),
    });
    Ok((uploads, next))
}

/// The most keys one question of [`stored_through`] may carry.
pub const MAX_KEYS: usize = 500;

/// Of `keys`, those stored through link `link_id`, newest first.
pub async fn stored_through(
    db: &Database,
    link_id: &str,
    keys: &[String],
) -> Result<Vec<RecordedUpload>, sqlx::Error> {
    let keys = &keys[..keys.len().min(MAX_KEYS)];
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let places: Vec<String> = (2..keys.len() + 2).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT key, name, folder, size, content_type, crc32c, link_id, uploader, client, \
         state, reason, started_at, finished_at FROM uploads \
         WHERE link_id = $1 AND state = 'stored' AND key IN ({}) \
         ORDER BY started_at DESC, key",
        places.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(link_id.to_owned());
    for key in keys {
        query = query.bind(key.clone());
    }
    query.fetch_all(db.pool()).await?.iter().map(read).collect()
}

/// `%text%`, lower-cased, with `LIKE`'s own characters escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn read(row: &AnyRow) -> Result<RecordedUpload, sqlx::Error> {
    let state: String = row.try_get("state")?;
    Ok(RecordedUpload {
        key: row.try_get("key")?,
        name: row.try_get("name")?,
        folder: row.try_get("folder")?,
        size: from_db(row.try_get("size")?),
        content_type: row.try_get("content_type")?,
        crc32c: row.try_get("crc32c")?,
        link_id: row.try_get("link_id")?,
        uploader: row.try_get("uploader")?,
        client: row.try_get("client")?,
        state: UploadState::parse(&state)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown upload state {state:?}").into()))?,
        reason: row.try_get("reason")?,
        started_at: from_db(row.try_get("started_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(from_db),
        download_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let cursor = Cursor {
            started_at: 1_700_000_000,
            key: "uploads/2026/01/01/abc/a:b.txt".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        for junk in ["", "abc", ":x", "-1:x", "1.5:x"] {
            assert_eq!(Cursor::decode(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn like_patterns_match_the_text_itself() {
        assert_eq!(like_pattern("Photo"), "%photo%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
