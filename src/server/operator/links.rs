//! Upload links managed from the page: made, listed, extended and revoked; revoking one
//! cancels its uploads in flight at once.

use crate::api::error::ApiError;
use crate::api::types::{CreatedLink, LinkInfo, NewLinkRequest};
use crate::server::links::expiry::parse_expiry;
use crate::server::links::{self, NewLink};
use crate::server::state::app_state;
use crate::server::system;
use crate::server::upload::abort::end_abandoned;
use crate::server::upload::require_operator;

pub async fn list_links() -> Result<Vec<LinkInfo>, ApiError> {
    require_operator()?;
    Ok(links::list(&app_state()?.database).await?)
}

pub async fn create_link(request: NewLinkRequest) -> Result<CreatedLink, ApiError> {
    require_operator()?;
    let state = app_state()?;
    let now = system::now_secs();
    let new = NewLink {
        label: request.label,
        message: request.message,
        folder: request.folder,
        expires_at: parse_expiry(&request.expires, now).map_err(ApiError::BadRequest)?,
        limits: request.limits,
        password: request.password.filter(|p| !p.is_empty()),
        ask_name: request.ask_name,
    };
    let created = links::create(&state.database, new, now).await?;
    tracing::info!(link = %created.link.id, label = %created.link.label, "upload link created");
    Ok(created)
}

pub async fn extend_link(id: String, expires: String) -> Result<LinkInfo, ApiError> {
    require_operator()?;
    let state = app_state()?;
    let now = system::now_secs();
    let expires_at = parse_expiry(&expires, now).map_err(ApiError::BadRequest)?;
    let link = links::extend(&state.database, &id, expires_at, now).await?;
    tracing::info!(link = %link.id, expires_at, "upload link extended");
    Ok(link)
}

pub async fn revoke_link(id: String) -> Result<LinkInfo, ApiError> {
    require_operator()?;
    let state = app_state()?;
    let now = system::now_secs();
    let link = links::revoke(&state.database, &id, now).await?;
    tracing::info!(link = %link.id, "upload link revoked");
    // Its uploads in flight end now rather than at the next sweep.
    end_abandoned(&state, now).await?;
    links::find(&state.database, &id).await.map_err(Into::into)
}
