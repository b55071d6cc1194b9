//! The operator's calls: managing upload links, webhooks and API tokens, and reading
//! the record. Each needs the
//! operator's session (`--access-password`); without a password set there is no
//! operator on the page, and links and hooks are managed with `s3drop links` and
//! `s3drop hooks`.

pub mod hooks;
pub mod links;
pub mod record;
pub mod tokens;

use crate::api::error::ApiError;
use crate::api::types::Visit;
use crate::server::state::app_state;
use crate::server::upload::visitor;

/// What the page shows this visitor: the operator's rooms, the open drop, or only the
/// way to log in.
pub async fn visit() -> Result<Visit, ApiError> {
    let state = app_state()?;
    let operator = visitor().is_some_and(|v| v.operator);
    Ok(Visit {
        operator,
        has_operator: state.has_operator,
        open_drop: state.open_drop,
        can_delete: operator && state.files.delete,
        stored_files: state.files.listed_to(state.has_operator, operator),
    })
}
