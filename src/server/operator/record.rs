//! The record as the operator reads it: pages newest first, filtered, each stored file
//! with a download link; and a stored file deleted, where the operator allows it.

use crate::api::error::ApiError;
use crate::api::types::{RecordFilter, RecordPage, UploadState};
use crate::core::key::attachment_disposition;
use crate::server::record;
use crate::server::record::listing::{self, Cursor, Filter};
use crate::server::state::app_state;
use crate::server::system;
use crate::server::upload::{request_host, require_operator};

pub async fn list_record(
    filter: RecordFilter,
    after: Option<String>,
    limit: u32,
) -> Result<RecordPage, ApiError> {
    require_operator()?;
    let state = app_state()?;
    let after = match after.as_deref() {
        Some(text) => Some(
            Cursor::decode(text)
                .ok_or_else(|| ApiError::BadRequest("the page cursor is not valid".into()))?,
        ),
        None => None,
    };
    let filter = Filter {
        link_id: filter.link_id,
        state: filter.state,
        name: filter.name.filter(|n| !n.trim().is_empty()),
    };
    let (mut uploads, next) =
        listing::page(&state.database, &filter, after.as_ref(), limit).await?;
    let host = request_host();
    for upload in uploads
        .iter_mut()
        .filter(|u| u.state == UploadState::Stored)
    {
        let disposition = attachment_disposition(&upload.name);
        upload.download_url = Some(
            state
                .storage
                .presign_get(host.as_deref(), &upload.key, &disposition)
                .await?,
        );
    }
    Ok(RecordPage {
        uploads,
        next: next.as_ref().map(Cursor::encode),
    })
}

/// Deletes a stored file from the store and records it deleted (with `--allow-delete`).
pub async fn delete_recorded(key: String) -> Result<(), ApiError> {
    require_operator()?;
    let state = app_state()?;
    if !state.files.delete {
        return Err(ApiError::Refused(
            "deleting files is not allowed here (--allow-delete)".into(),
        ));
    }
    if record::state_of(&state.database, &key).await? != Some(UploadState::Stored) {
        return Err(ApiError::NotFound(
            "the record holds no such stored file".into(),
        ));
    }
    state.storage.delete(&key).await?;
    record::deleted(&state.database, &key, system::now_secs()).await?;
    tracing::info!(%key, "file deleted from the record");
    Ok(())
}
