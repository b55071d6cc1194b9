//! The store's files as the page lists them (newest first, a page at a time, with a
//! download link each), and deleting one where the operator allows it; in a drop with
//! an operator's password, for the operator only.
//!
//! S3 lists keys in order only. Keys are `{prefix}YYYY/MM/DD/{id}/…` and ids count down
//! with time (`upload_id_at`), so within a day key order is newest first; the days
//! themselves are walked from the newest back through the date "folders" (a few
//! ListObjectsV2 calls with a delimiter). The cursor is the last key listed, so any
//! server can serve the next page.

use crate::api::error::ApiError;
use crate::api::types::{FilePage, ListedFile};
use crate::core::key::{attachment_disposition, display_name, uploaded_path};
use crate::server::s3::client::{ObjectSummary, Storage};
use crate::server::state::app_state;
use crate::server::upload::{request_host, require_operator, visitor};

/// The most files one page of the list may hold.
pub const MAX_LIST_LIMIT: u32 = 100;

pub async fn list_files(after: Option<String>, limit: u32) -> Result<Option<FilePage>, ApiError> {
    let state = app_state()?;
    let operator = visitor().is_some_and(|v| v.operator);
    if !state.files.listed_to(state.has_operator, operator) {
        return Ok(None);
    }
    let limit = limit.clamp(1, MAX_LIST_LIMIT);
    // Only what s3drop uploaded (not a check's probe, not others' objects).
    let prefix = state.key_prefix.as_str();
    let ours = |key: &str| uploaded_path(prefix, key).is_some();
    let (objects, next) = newest_first(&state.storage, prefix, after, limit, ours).await?;
    let host = request_host();
    let mut files = Vec::with_capacity(objects.len());
    for object in objects {
        let Some(path) = uploaded_path(prefix, &object.key) else {
            continue;
        };
        let download_url = state
            .storage
            .presign_get(
                host.as_deref(),
                &object.key,
                &attachment_disposition(display_name(path)),
            )
            .await?;
        files.push(ListedFile {
            path: path.to_owned(),
            key: object.key,
            size: object.size,
            modified: object.modified,
            download_url,
        });
    }
    Ok(Some(FilePage {
        files,
        next,
        can_delete: state.files.delete,
    }))
}

/// Up to `limit` objects under `prefix` whose keys it `keep`s, newest day first, from
/// just after the key `after`; and the cursor of the next page, when there is more.
async fn newest_first(
    storage: &Storage,
    prefix: &str,
    after: Option<String>,
    limit: u32,
    keep: impl Fn(&str) -> bool,
) -> Result<(Vec<ObjectSummary>, Option<String>), ApiError> {
    let mut day = match &after {
        Some(key) => Some(day_of(prefix, key).ok_or_else(|| {
            ApiError::BadRequest("`after` is not a place in the list of files".into())
        })?),
        None => latest_day(storage, prefix, None).await?,
    };
    let mut start_after = after;
    let mut objects = Vec::new();
    while let Some(this_day) = day {
        let room = limit - objects.len() as u32;
        let (listed, more_today) = storage
            .list_objects(&this_day, start_after.take(), room)
            .await?;
        let last_listed = listed.last().map(|o| o.key.clone());
        objects.extend(listed.into_iter().filter(|o| keep(&o.key)));
        let earlier = if more_today {
            None
        } else {
            latest_day(storage, prefix, Some(&this_day)).await?
        };
        if objects.len() as u32 >= limit {
            let more = more_today || earlier.is_some();
            return Ok((objects, more.then_some(last_listed).flatten()));
        }
        // More of this day (a store may answer fewer keys than asked, and some were not
        // kept): again from its last key; else the day before, from its start.
        if more_today {
            start_after = last_listed;
            day = Some(this_day);
        } else {
            day = earlier;
        }
    }
    Ok((objects, None))
}

/// The day prefix (`{prefix}YYYY/MM/DD/`) a key s3drop made is under.
fn day_of(prefix: &str, key: &str) -> Option<String> {
    let rest = key.strip_prefix(prefix)?;
    let day = rest.get(..11)?;
    let shaped = day.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 | 10 => b == b'/',
        _ => b.is_ascii_digit(),
    });
    shaped.then(|| format!("{prefix}{day}"))
}

/// The latest day prefix under `prefix` that sorts before the day prefix `before` (any
/// day when `None`).
async fn latest_day(
    storage: &Storage,
    prefix: &str,
    before: Option<&str>,
) -> Result<Option<String>, ApiError> {
    // A folder is worth opening if it holds days before `before`: it sorts before it,
    // or `before` is inside it.
    let worth = |folder: &str| before.is_none_or(|b| b.starts_with(folder) || folder < b);
    for year in dated_folders(storage, prefix, 4).await?.iter().rev() {
        if !worth(year) {
            continue;
        }
        for month in dated_folders(storage, year, 2).await?.iter().rev() {
            if !worth(month) {
                continue;
            }
            let days = dated_folders(storage, month, 2).await?;
            if let Some(day) = days
                .into_iter()
                .rev()
                .find(|d| before.is_none_or(|b| d.as_str() < b))
            {
                return Ok(Some(day));
            }
        }
    }
    Ok(None)
}

/// The folders right under `prefix` named with `digits` digits, in order.
async fn dated_folders(
    storage: &Storage,
    prefix: &str,
    digits: usize,
) -> Result<Vec<String>, ApiError> {
    let mut folders = storage.list_folders(prefix).await?;
    folders.retain(|folder| {
        folder
            .strip_prefix(prefix)
            .and_then(|name| name.strip_suffix('/'))
            .is_some_and(|name| name.len() == digits && name.bytes().all(|b| b.is_ascii_digit()))
    });
    Ok(folders)
}

pub async fn delete_file(key: String) -> Result<(), ApiError> {
    let state = app_state()?;
    if state.has_operator {
        require_operator()?;
    }
    if !(state.files.list && state.files.delete) {
        return Err(ApiError::Refused(
            "deleting files is not allowed here".into(),
        ));
    }
    if uploaded_path(&state.key_prefix, &key).is_none() {
        return Err(ApiError::BadRequest("not a file s3drop uploaded".into()));
    }
    state.storage.delete(&key).await?;
    tracing::info!(%key, "file deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::day_of;

    #[test]
    fn a_cursor_names_its_day() {
        let key = "up/2026/12/01/fffffffffc170123456789abcdef0123/a.txt";
        assert_eq!(day_of("up/", key).as_deref(), Some("up/2026/12/01/"));
        for junk in [
            "up/2026/12/1/x/a",
            "other/2026/12/01/x/a",
            "up/2026-12-01/x",
            "up/",
            "up/2026/12/01",
        ] {
            assert_eq!(day_of("up/", junk), None, "{junk}");
        }
    }
}
