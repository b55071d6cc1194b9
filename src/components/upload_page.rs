//! The drop page: a drop zone that also opens the file picker, the queue of files with
//! controls for each and for all, and the unfinished uploads a reload left behind.

use leptos::prelude::*;
use web_sys::{DragEvent, FileList, HtmlInputElement};

use super::file_row::FileRow;
use super::format_bytes;
use crate::api;
use crate::browser::queue::UploadQueue;
use crate::browser::saved::{self, SavedUpload};
use crate::browser::upload::{Controller, FileStatus, enqueue};

/// A file on the page: what it is, where its upload stands, and how to steer it.
#[derive(Debug, Clone)]
pub struct QueuedFile {
    pub id: usize,
    pub name: String,
    pub size: u64,
    pub status: RwSignal<FileStatus>,
    pub controller: Controller,
    /// Paused by the person (going back online does not resume it).
    pub held: RwSignal<bool>,
}

/// The page people upload from.
#[component]
pub fn UploadPage() -> impl IntoView {
    let files = RwSignal::new(Vec::<QueuedFile>::new());
    let unfinished = RwSignal::new(Vec::<SavedUpload>::new());
    let dragging = RwSignal::new(false);
    let offline = RwSignal::new(false);
    let next_id = StoredValue::new(0usize);
    let queue = StoredValue::new_local(UploadQueue::default());
    // The server's rules, fetched in the browser: shown up front, and checked before a
    // byte is sent (the server checks again, whatever the page does).
    let policy = LocalResource::new(api::fetch_policy);

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

    let add = move |list: FileList| {
        for index in 0..list.length() {
            let Some(file) = list.get(index).map(gloo_file::File::from) else {
                continue;
            };
            let id = next_id.get_value();
            next_id.set_value(id + 1);
            let refusal = policy.get_untracked().and_then(Result::ok).and_then(|p| {
                p.check(&file.name(), file.size(), &file.raw_mime_type())
                    .err()
            });
            let status = RwSignal::new(match &refusal {
                Some(reason) => FileStatus::Failed(format!("not accepted: {reason}")),
                None => FileStatus::Queued,
            });
            let (controller, controls) = Controller::new();
            if offline.get_untracked() {
                controller.pause();
            }
            // Adding a file again picks up its unfinished upload, if there is one.
            let name = file.name();
            let size = file.size();
            unfinished.update(|u| u.retain(|s| !(s.name == name && s.size == size)));
            files.update(|all| {
                all.push(QueuedFile {
                    id,
                    name,
                    size,
                    status,
                    controller,
                    held: RwSignal::new(false),
                });
            });
            if refusal.is_none() {
                queue.with_value(|queue| enqueue(queue, file, controls, move |s| status.set(s)));
            }
        }
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

    let on_drop = move |event: DragEvent| {
        event.prevent_default();
        dragging.set(false);
        if let Some(list) = event.data_transfer().and_then(|d| d.files()) {
            add(list);
        }
    };
    let on_pick = move |event: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&event);
        if let Some(list) = input.files() {
            add(list);
        }
        // Picking the same file again should upload it again.
        input.set_value("");
    };

    let active = move || {
        files.with(|all| {
            all.iter()
                .filter(|f| !f.status.with(FileStatus::is_finished))
                .count()
        })
    };
    let for_all = move |act: &dyn Fn(&QueuedFile)| {
        files.with_untracked(|all| {
            all.iter()
                .filter(|f| !f.status.with_untracked(FileStatus::is_finished))
                .for_each(act)
        })
    };

    view! {
        <header class="masthead">
            <h1>"s3drop"</h1>
            <p>"Files go straight from your browser to the store."</p>
        </header>
        <section
            class="drop-zone"
            class:dragging=move || dragging.get()
            data-testid="drop-zone"
            on:dragenter=move |e: DragEvent| {
                e.prevent_default();
                dragging.set(true);
            }
            on:dragover=move |e: DragEvent| e.prevent_default()
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <p class="drop-hint">"Drop files here"</p>
            <p class="drop-or">"or"</p>
            <label class="button">
                "Choose files"
                <input type="file" multiple class="visually-hidden" on:change=on_pick />
            </label>
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
            <p class="notice" role="status">
                "You are offline. Uploads are paused and will continue when you are back online."
            </p>
        </Show>
        <Show when=move || !unfinished.with(Vec::is_empty)>
            <section class="unfinished" aria-labelledby="unfinished-title">
                <h2 id="unfinished-title">"Unfinished uploads"</h2>
                <p>"Add the same file again to continue where it stopped."</p>
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
            <div class="queue-controls">
                <button type="button" on:click=move |_| for_all(&|f| {
                    f.held.set(true);
                    f.controller.pause();
                })>"Pause all"</button>
                <button type="button" on:click=move |_| for_all(&|f| {
                    f.held.set(false);
                    if !offline.get_untracked() {
                        f.controller.resume();
                    }
                })>"Resume all"</button>
                <button type="button" class="danger" on:click=move |_| for_all(&|f| f.controller.cancel())>
                    "Cancel all"
                </button>
            </div>
        </Show>
        <ul class="queue" aria-live="polite">
            <For each=move || files.get() key=|file| file.id let:file>
                <FileRow file offline />
            </For>
        </ul>
    }
}

/// An upload a reload left unfinished: what it was, and a way to discard it.
#[component]
fn UnfinishedRow(upload: SavedUpload, unfinished: RwSignal<Vec<SavedUpload>>) -> impl IntoView {
    let parts = format!(
        "{} of {} parts sent",
        upload.sent.len(),
        upload.plan.part_count
    );
    let (name, size) = (upload.name.clone(), upload.size);
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
            <button type="button" class="link" on:click=discard>"Discard"</button>
        </li>
    }
}
