//! API tokens managed from the page: made (the token shown once), listed, revoked.

use crate::api::error::ApiError;
use crate::api::types::{ApiTokenInfo, CreatedApiToken};
use crate::server::api_tokens;
use crate::server::state::app_state;
use crate::server::system;
use crate::server::upload::require_operator;

pub async fn list_tokens() -> Result<Vec<ApiTokenInfo>, ApiError> {
    require_operator()?;
    Ok(api_tokens::list(&app_state()?.database).await?)
}

pub async fn create_token(name: String) -> Result<CreatedApiToken, ApiError> {
    require_operator()?;
    let created = api_tokens::create(&app_state()?.database, &name, system::now_secs()).await?;
    tracing::info!(token = %created.token.id, name = %created.token.name, "API token created");
    Ok(created)
}

pub async fn revoke_token(id: String) -> Result<ApiTokenInfo, ApiError> {
    require_operator()?;
    let state = app_state()?;
    let token = api_tokens::revoke(&state.database, &id, system::now_secs()).await?;
    state.api_tokens.forget();
    tracing::info!(token = %token.id, "API token revoked");
    Ok(token)
}
