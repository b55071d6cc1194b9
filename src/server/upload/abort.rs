//! Aborting an upload, so the store keeps nothing of it.

use crate::api::error::ApiError;
use crate::server::state::app_state;
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
    state.metrics.aborted.inc();
    tracing::info!(key = %claims.key, "upload aborted");
    Ok(())
}
