//! Aborting uploads, so the store keeps nothing of them: one the page cancels, and
//! those the record finds abandoned (their tokens expired, or their links closed).

use crate::api::error::ApiError;
use crate::api::types::UploadState;
use crate::server::record;
use crate::server::state::{AppState, app_state};
use crate::server::system;
use crate::server::upload::{refuse_if_stored, verify};

pub async fn abort_upload(token: String) -> Result<(), ApiError> {
    let state = app_state()?;
    let claims = verify(&state, &token)?;
    match &claims.upload_id {
        Some(upload_id) => {
            state
                .storage
                .abort_multipart(&claims.key, upload_id)
                .await?
        }
        // Nothing to remove: a single PUT's upload has stored nothing until its file is
        // stored whole, and then it has finished.
        None => refuse_if_stored(&state, &claims).await?,
    }
    let keys = [claims.key.clone()];
    let reason = "cancelled by the uploader";
    record::ended(
        &state.database,
        &keys,
        UploadState::Cancelled,
        reason,
        system::now_secs(),
    )
    .await?;
    state.metrics.aborted.inc();
    tracing::info!(key = %claims.key, "upload aborted");
    Ok(())
}

/// Leaves nothing in the store of an upload that will not finish: its multipart upload
/// aborted, or its single PUT's object (sent, never completed) removed.
pub async fn clear(state: &AppState, key: &str, upload_id: Option<&str>) -> Result<(), ApiError> {
    let cleared = match upload_id {
        Some(upload_id) => state.storage.abort_multipart(key, upload_id).await,
        None => state.storage.delete(key).await,
    };
    match cleared {
        Err(err) if !(err.is_no_such_upload() || err.is_not_found()) => Err(err.into()),
        _ => Ok(()),
    }
}

/// Ends what the record finds abandoned at `now`: uploads whose tokens expired, and
/// uploads in flight through links since revoked or expired; each one's hold on its link
/// given back, and the store cleared of it. Answers how many ended. Also tells hooks of
/// links that expired and finishes drops left quiet.
pub async fn end_abandoned(state: &AppState, now: u64) -> Result<usize, ApiError> {
    let db = &state.database;
    let expired = record::expired(db, now).await?;
    let reason = "its upload token expired before it finished";
    let mut ended = record::ended(db, &expired, UploadState::Expired, reason, now).await?;
    // An expired single PUT may have been stored and never completed: the store keeps
    // it (the stale-upload sweep clears expired multipart uploads anyway).
    ended.retain(|e| e.upload_id.is_some());
    let closed = record::behind_closed_links(db, now).await?;
    let reason = "its upload link was revoked or expired";
    ended.extend(record::ended(db, &closed, UploadState::Cancelled, reason, now).await?);
    for upload in &ended {
        if let Err(err) = clear(state, &upload.key, upload.upload_id.as_deref()).await {
            tracing::warn!(key = %upload.key, %err, "could not clear an abandoned upload");
        }
    }
    // Hooks hear of links that expired and of drops left short.
    record::tell_expired_links(db, now).await?;
    record::drops::finish_quiet(db, record::drops::QUIET_SECS, now).await?;
    state.deliveries.now();
    Ok(expired.len() + closed.len())
}
