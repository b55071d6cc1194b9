//! Webhooks managed from the page: made (the secret shown once), listed with their
//! deliveries counted, removed; a hook's deliveries shown, and one sent again.

use crate::api::error::ApiError;
use crate::api::types::{CreatedHook, DeliveryInfo, HookInfo, NewHookRequest};
use crate::server::hooks::{self, MAX_DELIVERIES_SHOWN, NewHook};
use crate::server::state::app_state;
use crate::server::system;
use crate::server::upload::require_operator;

pub async fn list_hooks() -> Result<Vec<HookInfo>, ApiError> {
    require_operator()?;
    Ok(hooks::list(&app_state()?.database).await?)
}

pub async fn create_hook(request: NewHookRequest) -> Result<CreatedHook, ApiError> {
    require_operator()?;
    let state = app_state()?;
    let new = NewHook {
        url: request.url,
        link_id: request.link_id.filter(|l| !l.is_empty()),
        events: request.events,
    };
    let created = hooks::create(&state.database, new, system::now_secs()).await?;
    tracing::info!(hook = %created.hook.id, url = %created.hook.url, "webhook created");
    Ok(created)
}

pub async fn remove_hook(id: String) -> Result<HookInfo, ApiError> {
    require_operator()?;
    let hook = hooks::remove(&app_state()?.database, &id, system::now_secs()).await?;
    tracing::info!(hook = %hook.id, "webhook removed");
    Ok(hook)
}

pub async fn list_deliveries(hook_id: String, limit: u32) -> Result<Vec<DeliveryInfo>, ApiError> {
    require_operator()?;
    let limit = limit.clamp(1, MAX_DELIVERIES_SHOWN);
    Ok(hooks::deliveries(&app_state()?.database, &hook_id, limit).await?)
}

pub async fn resend_delivery(id: String) -> Result<DeliveryInfo, ApiError> {
    require_operator()?;
    let state = app_state()?;
    let delivery = hooks::resend(&state.database, &id, system::now_secs()).await?;
    state.deliveries.now();
    tracing::info!(delivery = %delivery.id, "webhook delivery sent again");
    Ok(delivery)
}
