//! The drop: where files come in ([`super::drop_zone`]); the unfinished uploads a
//! reload left behind ([`super::unfinished`]); the queue with its controls
//! ([`super::queue_view`]); the stored files ([`super::stored_files`]), on the home page
//! where the server lists them to the visitor. The home page and an upload link's page
//! each put their own heading above it.

use leptos::prelude::*;

use super::chunk::{self, SplitLoaderError, browser_built, wasm_split};
use super::drop_zone::DropZone;
use super::file_queue::FileQueue;
use super::queue_view::{Overall, QueueRows};
use super::stored_files::StoredFiles;
use super::text;
use super::unfinished::UnfinishedUploads;
use crate::api::{self, LinkPass};
use crate::browser::runtime::now_ms;
use crate::browser::upload::unfinished;
use crate::core::link::Limits;

/// Where people upload: through `link` when given (on its page, whose `limits` narrow
/// what the page pre-checks), and with the store's files listed below when
/// `stored_files` (on the home page, once the server says it lists them to the visitor:
/// never on the server, so never hydrated).
#[component]
pub fn UploadPage(
    #[prop(optional)] link: Option<(LinkPass, Limits)>,
    #[prop(optional)] stored_files: Signal<bool>,
) -> impl IntoView {
    let queue = FileQueue::default();
    let limits = link.as_ref().map(|(_, limits)| limits.clone());
    if let Some((pass, _)) = link {
        queue.set_link(pass);
    }
    // The server's rules, fetched in the browser: shown up front, and checked before a
    // byte is sent (the server checks again, whatever the page does).
    let fetched = LocalResource::new(api::fetch_policy);
    let policy = Signal::derive(move || {
        let policy = fetched.get().and_then(Result::ok)?;
        Some(match &limits {
            Some(limits) => limits.narrow(policy),
            None => policy,
        })
    });
    Effect::new(move || {
        if let Some(policy) = policy.get() {
            queue.set_policy(policy);
        }
    });
    // In the browser only: list what a reload or crash left unfinished.
    Effect::new(move || {
        leptos::task::spawn_local(async move {
            let listed = unfinished::load(now_ms() / 1_000.0).await;
            queue.unfinished.set(listed);
        });
    });
    let _ = window_event_listener(leptos::ev::offline, move |_| queue.went_offline());
    let _ = window_event_listener(leptos::ev::online, move |_| queue.came_online());
    // The stored files' list is refreshed as uploads finish.
    let uploads_done = Signal::derive(move || queue.tally.with(|t| t.done));

    view! {
        <DropZone queue policy />
        <Show when=move || queue.offline.get()>
            <p class="notice" role="status">{text::OFFLINE}</p>
        </Show>
        <Show when=move || !queue.unfinished.with(Vec::is_empty)>
            {chunk::shown(move || unfinished_list(queue))}
        </Show>
        <Overall queue />
        <QueueRows queue />
        <Show when=move || stored_files.get()>
            {chunk::shown(move || stored_files_list(uploads_done))}
        </Show>
    }
}

/// The unfinished uploads' list: a WASM chunk of its own ([`super::chunk`]), fetched
/// only when a reload or crash left some (found in the browser, so never hydrated).
#[wasm_split(unfinished_list, wasm_split_path = ::leptos::wasm_split, fallible)]
fn unfinished_list(queue: FileQueue) -> Result<AnyView, SplitLoaderError> {
    Ok(browser_built(view! { <UnfinishedUploads queue /> }))
}

/// The stored files' list: a WASM chunk of its own ([`super::chunk`]), fetched only
/// where the server lists files to the visitor (the list is off unless the operator
/// turns it on).
#[wasm_split(stored_files_list, wasm_split_path = ::leptos::wasm_split, fallible)]
fn stored_files_list(uploads_done: Signal<usize>) -> Result<AnyView, SplitLoaderError> {
    Ok(browser_built(view! { <StoredFiles uploads_done /> }))
}
