//! The drop page: files dropped anywhere on it, picked (files or a folder) or pasted;
//! the queue of files with controls for each and for all; the unfinished uploads a
//! reload left behind ([`super::unfinished`]); the stored files.

use leptos::prelude::*;
use web_sys::{ClipboardEvent, DragEvent, HtmlInputElement};

use super::file_queue::FileQueue;
use super::file_row::FileRow;
use super::stored_files::StoredFiles;
use super::tally::Tally;
use super::text::{self, format_bytes, progress_line};
use super::unfinished::UnfinishedUploads;
use crate::api;
use crate::browser::dropped::{self, DropContents};
use crate::browser::handles;
use crate::browser::runtime::now_ms;
use crate::browser::upload::unfinished;
use crate::core::speed::Speed;

/// How many rows of the queue are drawn at first, and how many more each "Show more"
/// draws: a folder of 10,000 files must not make 10,000 rows.
const ROWS_AT_ONCE: usize = 500;

/// The page people upload from.
#[component]
pub fn UploadPage() -> impl IntoView {
    let queue = FileQueue::default();
    let FileQueue {
        files,
        tally,
        offline,
        ..
    } = queue;
    let rows = RwSignal::new(ROWS_AT_ONCE);
    let dragging = RwSignal::new(false);
    // The server's rules, fetched in the browser: shown up front, and checked before a
    // byte is sent (the server checks again, whatever the page does).
    let policy = LocalResource::new(api::fetch_policy);
    Effect::new(move || {
        if let Some(Ok(policy)) = policy.get() {
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

    let retry = Callback::new(move |id: usize| queue.retry(id));
    let _ = window_event_listener(leptos::ev::offline, move |_| queue.went_offline());
    let _ = window_event_listener(leptos::ev::online, move |_| queue.came_online());

    // Files may be dropped anywhere on the page; while dragging, the whole page shows
    // it is a target. Folders are walked, keeping each file's path.
    let _ = window_event_listener(leptos::ev::dragover, move |event: DragEvent| {
        event.prevent_default();
        dragging.set(true);
    });
    let _ = window_event_listener(leptos::ev::dragleave, move |event: DragEvent| {
        // Only when the pointer leaves the window, not when it crosses an element.
        if event.related_target().is_none() {
            dragging.set(false);
        }
    });
    let _ = window_event_listener(leptos::ev::drop, move |event: DragEvent| {
        event.prevent_default();
        dragging.set(false);
        let Some(transfer) = event.data_transfer() else {
            return;
        };
        let contents = DropContents::take(&transfer);
        leptos::task::spawn_local(async move { queue.add(contents.files().await) });
    });
    // Pasted files (a screenshot, files copied in a file manager).
    let _ = window_event_listener(leptos::ev::paste, move |event: ClipboardEvent| {
        let Some(list) = event.clipboard_data().and_then(|d| d.files()) else {
            return;
        };
        if list.length() > 0 {
            event.prevent_default();
            queue.add(dropped::from_list(&list));
        }
    });
    // Where the browser gives handles, its own pickers stand in for the inputs' (the
    // inputs stay for the keyboard, labels and scripts): the page keeps what is picked.
    let pick_with_handles = move |folder: bool| {
        move |event: leptos::ev::MouseEvent| {
            if !handles::supported() {
                return;
            }
            event.prevent_default();
            leptos::task::spawn_local(async move {
                let picked = if folder {
                    handles::pick_folder().await
                } else {
                    handles::pick_files().await
                };
                queue.add(picked);
            });
        }
    };
    let on_pick = move |event: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&event);
        if let Some(list) = input.files() {
            queue.add(dropped::from_list(&list));
        }
        // Picking the same file again should upload it again.
        input.set_value("");
    };

    let active = move || tally.with(|t| t.unfinished);
    // Every file not failed or cancelled counts toward the overall progress.
    let overall_speed = StoredValue::new(Speed::default());
    let overall = Memo::new(move |_| {
        let t = tally.get();
        overall_speed.update_value(|s| s.record(now_ms(), t.sent));
        let files = text::files_done(t.done, t.accepted());
        let line = overall_speed.with_value(|s| progress_line(s, t.sent, t.total));
        // Display only: a fraction for the bar.
        let fraction = if t.total > 0 {
            t.sent as f64 / t.total as f64
        } else {
            0.0
        };
        (fraction, format!("{files} · {line}"))
    });
    let finished = move || tally.with(Tally::any_finished);
    // The stored files' list is refreshed as uploads finish.
    let uploads_done = Signal::derive(move || tally.with(|t| t.done));
    let shown = move || files.with(|all| all.iter().take(rows.get()).cloned().collect::<Vec<_>>());
    let hidden = move || files.with(Vec::len).saturating_sub(rows.get());

    view! {
        <div class="drop-overlay" class:visible=move || dragging.get() aria-hidden="true">
            <p>{text::DROP_TARGET}</p>
        </div>
        <header class="masthead">
            <h1>{text::TITLE}</h1>
            <p>{text::TAGLINE}</p>
        </header>
        <section class="drop-zone" class:dragging=move || dragging.get() data-testid="drop-zone">
            <p class="drop-hint">{text::DROP_HINT}</p>
            <p class="drop-or">{text::DROP_OR}</p>
            <div class="pickers">
                <label class="button">
                    {text::CHOOSE_FILES}
                    <input
                        type="file"
                        multiple
                        class="visually-hidden"
                        data-testid="file-picker"
                        on:click=pick_with_handles(false)
                        on:change=on_pick
                    />
                </label>
                <label class="button secondary">
                    {text::CHOOSE_FOLDER}
                    <input
                        type="file"
                        prop:webkitdirectory=true
                        class="visually-hidden"
                        data-testid="folder-picker"
                        on:click=pick_with_handles(true)
                        on:change=on_pick
                    />
                </label>
            </div>
            <p class="paste-hint">{text::PASTE_HINT}</p>
            <p class="limits" data-testid="limits">
                {move || {
                    policy
                        .get()
                        .and_then(Result::ok)
                        .map(|p| p.describe(format_bytes))
                        .unwrap_or_default()
                }}
            </p>
        </section>
        <Show when=move || offline.get()>
            <p class="notice" role="status">{text::OFFLINE}</p>
        </Show>
        <UnfinishedUploads queue />
        <Show when=move || { active() > 0 }>
            <div class="overall" data-testid="overall">
                <progress max="1" value=move || overall.get().0 aria-label=text::ALL_UPLOADS></progress>
                <span class="file-state">{move || overall.get().1}</span>
            </div>
            <div class="queue-controls">
                <button type="button" on:click=move |_| queue.pause_all()>{text::PAUSE_ALL}</button>
                <button type="button" on:click=move |_| queue.resume_all()>{text::RESUME_ALL}</button>
                <button type="button" class="danger" on:click=move |_| queue.cancel_all()>
                    {text::CANCEL_ALL}
                </button>
            </div>
        </Show>
        // The counts are there for scripts too (tests, the benchmark): only some rows are drawn.
        <ul
            class="queue"
            aria-live="polite"
            aria-label=text::QUEUE_LABEL
            data-files=move || tally.with(Tally::files)
            data-done=move || tally.with(|t| t.done)
            data-failed=move || tally.with(|t| t.failed)
        >
            <For each=shown key=|file| file.id let:file>
                <FileRow file offline on_retry=retry />
            </For>
        </ul>
        <Show when=move || { hidden() > 0 }>
            <p class="queue-more" data-testid="more-files">
                {move || text::more_files(hidden())}
                " "
                <button type="button" class="link" on:click=move |_| rows.update(|r| *r += ROWS_AT_ONCE)>
                    {text::SHOW_MORE}
                </button>
            </p>
        </Show>
        <Show when=finished>
            <div class="queue-controls">
                <button type="button" on:click=move |_| queue.clear_finished()>
                    {text::CLEAR_FINISHED}
                </button>
            </div>
        </Show>
        <StoredFiles uploads_done />
    }
}
