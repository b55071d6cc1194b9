//! The drop: where files come in ([`super::drop_zone`]); the unfinished uploads a
//! reload left behind ([`super::unfinished`]); the queue with its controls
//! ([`super::queue_view`]); the stored files ([`super::stored_files`]), on the home page.
//! The home page and an upload link's page each put their own heading above it.

use leptos::prelude::*;

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
/// `stored_files` (on the home page, if the operator lists them).
#[component]
pub fn UploadPage(
    #[prop(optional)] link: Option<(LinkPass, Limits)>,
    stored_files: bool,
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
        <UnfinishedUploads queue />
        <Overall queue />
        <QueueRows queue />
        <Show when=move || stored_files>
            <StoredFiles uploads_done />
        </Show>
    }
}
