//! The drop page: files dropped anywhere on it, picked (files or a folder) or pasted;
//! the queue of files with controls for each and for all; and the unfinished uploads a
//! reload left behind.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use web_sys::{ClipboardEvent, DragEvent, HtmlInputElement};

use super::file_row::{FileRow, QueuedFile};
use super::stored_files::StoredFiles;
use super::tally::Tally;
use super::{format_bytes, progress_line, text};
use crate::api;
use crate::browser::dropped::{self, Given};
use crate::browser::saved::{self, SavedUpload};
use crate::browser::upload::{Controller, FileStatus, Picked, Uploader};
use crate::browser::{now_ms, sleep};
use crate::core::speed::Speed;

/// Images up to this size get a thumbnail (the browser decodes it).
const THUMBNAIL_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// How many rows of the queue are drawn at first, and how many more each "Show more"
/// draws: a folder of 10,000 files must not make 10,000 rows.
const ROWS_AT_ONCE: usize = 500;
/// How many added files are taken in per task of the page.
const ADD_CHUNK: usize = 50;

/// The page people upload from.
#[component]
pub fn UploadPage() -> impl IntoView {
    let files = RwSignal::new(Vec::<QueuedFile>::new());
    // Every status change passes through `set_status`, which keeps the tally.
    let tally = RwSignal::new(Tally::default());
    let set_status = move |status: RwSignal<FileStatus>, size: u64, new: FileStatus| {
        let old = status.get_untracked();
        if old != new {
            tally.update(|t| t.change(&old, &new, size));
            status.set(new);
        }
    };
    let rows = RwSignal::new(ROWS_AT_ONCE);
    let unfinished = RwSignal::new(Vec::<SavedUpload>::new());
    let dragging = RwSignal::new(false);
    let offline = RwSignal::new(false);
    let next_id = StoredValue::new(0usize);
    let uploader = StoredValue::new_local(Uploader::default());
    // The server's rules, fetched in the browser: shown up front, and checked before a
    // byte is sent (the server checks again, whatever the page does).
    let policy = LocalResource::new(api::fetch_policy);
    Effect::new(move || {
        if let Some(Ok(policy)) = policy.get() {
            uploader.with_value(|u| u.set_single_put_max(policy.single_put_max));
        }
    });

    // In the browser only: list what a reload or crash left unfinished.
    Effect::new(move || {
        leptos::task::spawn_local(async move {
            let now_secs = crate::browser::now_ms() / 1_000.0;
            let mut usable = Vec::new();
            for upload in saved::all().await {
                if (upload.expires_at as f64) > now_secs {
                    usable.push(upload);
                } else {
                    saved::remove(&upload.fingerprint).await;
                }
            }
            unfinished.set(usable);
        });
    });

    // The files themselves, by id, to start them again after a failure.
    let sources = StoredValue::new_local(HashMap::<usize, Picked>::new());
    let launch = move |picked: Picked, status: RwSignal<FileStatus>| {
        let (controller, controls) = Controller::new();
        if offline.get_untracked() {
            controller.pause();
        }
        let size = picked.size;
        uploader.with_value(|u| u.enqueue(picked, controls, move |s| set_status(status, size, s)));
        controller
    };
    let retry = Callback::new(move |id: usize| {
        let Some(file) = sources.with_value(|all| all.get(&id).cloned()) else {
            return;
        };
        files.update(|all| {
            if let Some(entry) = all.iter_mut().find(|f| f.id == id) {
                set_status(entry.status, entry.size, FileStatus::Queued);
                entry.held.set(false);
                entry.controller = launch(file, entry.status);
            }
        });
    });
    let clear_finished = move |_| {
        let mut cleared = Tally::default();
        files.update(|all| {
            all.retain(|f| {
                let keep = !f.status.with_untracked(FileStatus::is_finished);
                if !keep {
                    f.status.with_untracked(|s| cleared.add(s, f.size));
                    if let Some(url) = &f.thumbnail {
                        let _ = web_sys::Url::revoke_object_url(url);
                    }
                }
                keep
            })
        });
        tally.update(|t| t.subtract(&cleared));
        let kept: HashSet<usize> = files.with_untracked(|all| all.iter().map(|f| f.id).collect());
        sources.update_value(|all| all.retain(|id, _| kept.contains(id)));
    };

    // Adds a chunk of files: each read, checked, counted and queued, the page updated once.
    let add_chunk = move |given: Vec<Given>| {
        let picked: Vec<Picked> = given.into_iter().map(Picked::new).collect();
        let mut accepted = tally.with_untracked(Tally::accepted);
        let mut counted = Tally::default();
        let mut picked_by_id = Vec::with_capacity(picked.len());
        let policy = policy.get_untracked().and_then(Result::ok);
        let mut added = Vec::with_capacity(picked.len());
        for picked in picked {
            let (file, size) = (&picked.file, picked.size);
            let id = next_id.get_value();
            next_id.set_value(id + 1);
            let refusal = policy.as_ref().and_then(|p| {
                p.check_count(accepted)
                    .and_then(|()| p.check(&file.name(), size, &file.raw_mime_type()))
                    .err()
            });
            if refusal.is_none() {
                accepted += 1;
            }
            let first = match &refusal {
                Some(reason) => FileStatus::Refused(reason.to_string()),
                None => FileStatus::Queued,
            };
            counted.add(&first, size);
            let status = RwSignal::new(first);
            let name = picked.path();
            let thumbnail = (file.raw_mime_type().starts_with("image/")
                && size <= THUMBNAIL_MAX_BYTES)
                .then(|| web_sys::Url::create_object_url_with_blob(file.as_ref()).ok())
                .flatten();
            picked_by_id.push((id, picked.clone()));
            let controller = match refusal {
                None => launch(picked, status),
                Some(_) => Controller::new().0,
            };
            added.push(QueuedFile {
                id,
                name,
                size,
                thumbnail,
                status,
                controller,
                held: RwSignal::new(false),
            });
        }
        tally.update(|t| t.extend(&counted));
        sources.update_value(|all| all.extend(picked_by_id));
        // Adding a file again picks up its unfinished upload, if there is one.
        let again: HashSet<(&str, u64)> = added.iter().map(|f| (f.name.as_str(), f.size)).collect();
        unfinished.update(|u| u.retain(|s| !again.contains(&(s.name.as_str(), s.size))));
        files.update(|all| all.extend(added));
    };
    // A folder may hold 10,000 files: they are added a chunk per task, so the page
    // shows the first ones (and starts them) at once and never freezes.
    let add = move |given: Vec<Given>| {
        leptos::task::spawn_local(async move {
            let mut given = given.into_iter().peekable();
            while given.peek().is_some() {
                add_chunk(given.by_ref().take(ADD_CHUNK).collect());
                sleep(0.0).await;
            }
        });
    };

    // Offline pauses every upload; online resumes those the person did not pause.
    let _ = window_event_listener(leptos::ev::offline, move |_| {
        offline.set(true);
        files.with_untracked(|all| all.iter().for_each(|f| f.controller.pause()));
    });
    let _ = window_event_listener(leptos::ev::online, move |_| {
        offline.set(false);
        files.with_untracked(|all| {
            all.iter()
                .filter(|f| !f.held.get_untracked())
                .for_each(|f| f.controller.resume())
        });
    });

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
        let entries = dropped::entries(&transfer);
        leptos::task::spawn_local(async move { add(dropped::files(entries).await) });
    });
    // Pasted files (a screenshot, files copied in a file manager).
    let _ = window_event_listener(leptos::ev::paste, move |event: ClipboardEvent| {
        let Some(list) = event.clipboard_data().and_then(|d| d.files()) else {
            return;
        };
        if list.length() > 0 {
            event.prevent_default();
            add(dropped::from_list(&list));
        }
    });
    let on_pick = move |event: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&event);
        if let Some(list) = input.files() {
            add(dropped::from_list(&list));
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

    let for_all = move |act: &dyn Fn(&QueuedFile)| {
        files.with_untracked(|all| {
            all.iter()
                .filter(|f| !f.status.with_untracked(FileStatus::is_finished))
                .for_each(act)
        })
    };

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
        <Show when=move || !unfinished.with(Vec::is_empty)>
            <section class="unfinished" aria-labelledby="unfinished-title">
                <h2 id="unfinished-title">{text::UNFINISHED_TITLE}</h2>
                <p>{text::UNFINISHED_HELP}</p>
                <ul>
                    <For
                        each=move || unfinished.get()
                        key=|u| u.fingerprint.clone()
                        let:upload
                    >
                        <UnfinishedRow upload unfinished />
                    </For>
                </ul>
            </section>
        </Show>
        <Show when=move || { active() > 0 }>
            <div class="overall" data-testid="overall">
                <progress max="1" value=move || overall.get().0 aria-label=text::ALL_UPLOADS></progress>
                <span class="file-state">{move || overall.get().1}</span>
            </div>
            <div class="queue-controls">
                <button type="button" on:click=move |_| for_all(&|f| {
                    f.held.set(true);
                    f.controller.pause();
                })>{text::PAUSE_ALL}</button>
                <button type="button" on:click=move |_| for_all(&|f| {
                    f.held.set(false);
                    if !offline.get_untracked() {
                        f.controller.resume();
                    }
                })>{text::RESUME_ALL}</button>
                <button type="button" class="danger" on:click=move |_| for_all(&|f| f.controller.cancel())>
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
                <button type="button" on:click=clear_finished>{text::CLEAR_FINISHED}</button>
            </div>
        </Show>
        <StoredFiles uploads_done />
    }
}

/// An upload a reload left unfinished: what it was, and a way to discard it.
#[component]
fn UnfinishedRow(upload: SavedUpload, unfinished: RwSignal<Vec<SavedUpload>>) -> impl IntoView {
    let parts = text::parts_sent(upload.sent.len(), upload.plan.part_count);
    let (name, size) = (upload.name.clone(), upload.size);
    let upload_name = name.clone();
    let discard = move |_| {
        let upload = upload.clone();
        unfinished.update(|u| u.retain(|s| s.fingerprint != upload.fingerprint));
        leptos::task::spawn_local(async move {
            let _ = api::abort_upload(upload.token.clone()).await;
            saved::remove(&upload.fingerprint).await;
        });
    };
    view! {
        <li class="unfinished-file">
            <span class="file-name">{name}</span>
            <span class="file-size">{format_bytes(size)} " · " {parts}</span>
            <button type="button" class="link" aria-label=text::action_on(text::DISCARD, &upload_name) on:click=discard>
                {text::DISCARD}
            </button>
        </li>
    }
}
