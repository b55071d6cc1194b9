//! The home page: the drop, and for the operator their rooms beneath it (upload links,
//! the record of what arrived, webhooks, API tokens) and a way to log out.
//!
//! The rooms are a WASM chunk of their own ([`super::chunk`]), fetched the first time an
//! operator's page shows them: everyone else, the people who only drop files, never
//! downloads them.

use leptos::prelude::*;

use super::chunk::{self, SplitLoaderError, browser_built, wasm_split};
use super::hooks_panel::HooksPanel;
use super::links_panel::LinksPanel;
use super::record_panel::RecordPanel;
use super::text;
use super::tokens_panel::TokensPanel;
use super::upload_page::UploadPage;
use crate::api::{self, RecordFilter};

/// The page at `/`.
#[component]
pub fn HomePage() -> impl IntoView {
    // Asked in the browser: the page renders the same for everyone on the server.
    let visit = LocalResource::new(api::fetch_visit);
    let seen = move || visit.get().and_then(Result::ok).unwrap_or_default();
    let operator = move || seen().operator;
    let can_delete = Signal::derive(move || seen().can_delete);
    let stored_files = Signal::derive(move || seen().stored_files);
    // The record's filter: a link's "Show its uploads" sets it.
    let filter = RwSignal::new(RecordFilter::default());
    view! {
        <header class="masthead">
            <h1>{text::TITLE}</h1>
            <p>{text::TAGLINE}</p>
            <Show when=operator>
                <form method="post" action="/logout" class="logout">
                    <button type="submit" class="link">{text::LOG_OUT}</button>
                </form>
            </Show>
        </header>
        <UploadPage stored_files />
        <Show when=operator>
            {chunk::shown(move || operator_rooms(filter, can_delete))}
        </Show>
    }
}

/// The operator's rooms.
#[wasm_split(operator_rooms, wasm_split_path = ::leptos::wasm_split, fallible)]
fn operator_rooms(
    filter: RwSignal<RecordFilter>,
    can_delete: Signal<bool>,
) -> Result<AnyView, SplitLoaderError> {
    Ok(browser_built(view! {
        <LinksPanel filter />
        <RecordPanel filter can_delete />
        <HooksPanel />
        <TokensPanel />
    }))
}
