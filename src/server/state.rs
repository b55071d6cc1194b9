//! The one app state, built in `main` from the configuration and handed to every
//! server function through Leptos context.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::use_context;

use super::api_tokens::Verifier;
use super::database::Database;
use super::hooks::deliver::Wake;
use super::hooks::pre_start::PreStart;
use super::metrics::Metrics;
use super::s3::client::Storage;
use super::signing::Signer;
use super::token::TokenSigner;
use crate::api::error::ApiError;
use crate::core::policy::UploadPolicy;

/// Everything a server function needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Which files are accepted.
    pub policy: UploadPolicy,
    /// Prefix of every key the server chooses.
    pub key_prefix: String,
    /// How long an upload token stays valid.
    pub token_ttl: Duration,
    /// Signs and verifies upload tokens.
    pub tokens: TokenSigner,
    /// The bucket, and the client that reaches it.
    pub storage: Storage,
    /// Counters and latencies for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Whether the page lists the store's files, and whether it may delete them.
    pub files: FileAccess,
    /// Upload links and the record of uploads.
    pub database: Database,
    /// Whether an operator's password is set: then only the operator lists or deletes
    /// stored files, manages links and reads the record.
    pub has_operator: bool,
    /// Whether anyone who reaches the page may upload without a link.
    pub open_drop: bool,
    /// Signs the proof that a link's password was given (`links::grant`).
    pub grants: Signer,
    /// The operator's pre-start hook, when one is set.
    pub pre_start: Option<PreStart>,
    /// Wakes the webhook sender when events were written.
    pub deliveries: Wake,
    /// Checks API tokens (and forgets its answers when one is revoked here).
    pub api_tokens: Verifier,
}

/// What the page may do with the files already in the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileAccess {
    pub list: bool,
    pub delete: bool,
}

impl FileAccess {
    /// Whether the page lists the store's files to a visitor: when the list is on, and
    /// in a drop with an operator's password, to the operator only.
    pub fn listed_to(self, has_operator: bool, operator: bool) -> bool {
        self.list && (operator || !has_operator)
    }
}

/// The app state of the current request.
pub fn app_state() -> Result<AppState, ApiError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("the app state was not provided to a server function");
        ApiError::Internal
    })
}

#[cfg(test)]
mod tests {
    use super::FileAccess;

    #[test]
    fn the_list_is_shown_when_on_and_to_the_operator_where_there_is_one() {
        let off = FileAccess::default();
        let on = FileAccess { list: true, ..off };
        for (access, has_operator, operator, listed) in [
            (off, false, false, false),
            (off, true, true, false),
            (on, false, false, true),
            (on, true, false, false),
            (on, true, true, true),
        ] {
            let case = format!("{access:?}, password {has_operator}, operator {operator}");
            assert_eq!(access.listed_to(has_operator, operator), listed, "{case}");
        }
    }
}
