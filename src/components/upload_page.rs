//! The drop page: a drop zone that also opens the file picker, the queue of files with
//! controls for each and for all, and the unfinished uploads a reload left behind.

use std::collections::HashMap;

use leptos::prelude::*;
use web_sys::{DragEvent, FileList, HtmlInputElement};

use super::file_row::FileRow;
use super::format_bytes;
use crate::api;
use crate::browser::now_ms;
use crate::browser::queue::UploadQueue;
use crate::browser::saved::{self, SavedUpload};
use crate::browser::upload::{Controller, FileStatus, enqueue};
use crate::core::speed::{Speed, format_seconds};

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

    // The files themselves, by id, to start them again after a failure.
    let sources = StoredValue::new_local(HashMap::<usize, gloo_file::File>::new());
    let launch = move |file: gloo_file::File, status: RwSignal<FileStatus>| {
        let (controller, controls) = Controller::new();
        if offline.get_untracked() {
            controller.pause();
        }
        queue.with_value(|queue| enqueue(queue, file, controls, move |s| status.set(s)));
        controller
    };
    let retry = Callback::new(move |id: usize| {
        let Some(file) = sources.with_value(|all| all.get(&id).cloned()) else {
            return;
        };
        files.update(|all| {
            if let Some(entry) = all.iter_mut().find(|f| f.id == id) {
                entry.status.set(FileStatus::Queued);
                entry.held.set(false);
                entry.controller = launch(file, entry.status);
            }
        });
    });
    let clear_finished = move |_| {
        files.update(|all| all.retain(|f| !f.status.with_untracked(FileStatus::is_finished)));
        let kept: Vec<usize> = files.with_untracked(|all| all.iter().map(|f| f.id).collect());
        sources.update_value(|all| all.retain(|id, _| kept.contains(id)));
    };

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
                Some(reason) => FileStatus::Refused(reason.to_string()),
                None => FileStatus::Queued,
            });
            // Adding a file again picks up its unfinished upload, if there is one.
            let name = file.name();
            let size = file.size();
            unfinished.update(|u| u.retain(|s| !(s.name == name && s.size == size)));
            sources.update_value(|all| {
                all.insert(id, file.clone());
            });
            let controller = match refusal {
                None => launch(file, status),
                Some(_) => Controller::new().0,
            };
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
    // Every file not failed or cancelled counts toward the overall progress.
    let overall_speed = StoredValue::new(Speed::default());
    let overall = Memo::new(move |_| {
        let (sent, total) = files.with(|all| {
            all.iter()
                .fold((0, 0), |(sent, total), f| match f.status.get() {
                    FileStatus::Uploading { sent: s, .. } | FileStatus::Paused { sent: s, .. } => {
                        (sent + s, total + f.size)
                    }
                    FileStatus::Completing | FileStatus::Done(_) => (sent + f.size, total + f.size),
                    FileStatus::Queued => (sent, total + f.size),
                    FileStatus::Failed(_) | FileStatus::Refused(_) | FileStatus::Cancelled => {
                        (sent, total)
                    }
                })
        });
        overall_speed.update_value(|s| s.record(now_ms(), sent));
        let mut text = format!("{} of {}", format_bytes(sent), format_bytes(total));
        if let Some(rate) = overall_speed.with_value(Speed::bytes_per_second) {
            // Display only.
            text += &format!(" · {}/s", format_bytes(rate as u64));
        }
        if let Some(left) = overall_speed.with_value(|s| s.seconds_left(total)) {
            text += &format!(" · {} left", format_seconds(left));
        }
        // Display only: a fraction for the bar.
        let fraction = if total > 0 {
            sent as f64 / total as f64
        } else {
            0.0
        };
        (fraction, text)
    });
    let finished =
        move || files.with(|all| all.iter().any(|f| f.status.with(FileStatus::is_finished)));

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
            <div class="overall" data-testid="overall">
                <progress max="1" value=move || overall.get().0 aria-label="All uploads"></progress>
                <span class="file-state">{move || overall.get().1}</span>
            </div>
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
                <FileRow file offline on_retry=retry />
            </For>
        </ul>
        <Show when=finished>
            <div class="queue-controls">
                <button type="button" on:click=clear_finished>"Clear finished"</button>
            </div>
        </Show>
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
