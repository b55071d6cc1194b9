//! The drop page: a drop zone that also opens the file picker, and the queue of files.

use leptos::prelude::*;
use web_sys::{DragEvent, FileList, HtmlInputElement};

use super::file_row::FileRow;
use crate::browser::queue::UploadQueue;
use crate::browser::upload::{FileStatus, upload_file};

/// A file on the page: what it is and where its upload stands.
#[derive(Debug, Clone)]
pub struct QueuedFile {
    pub id: usize,
    pub name: String,
    pub size: u64,
    pub status: RwSignal<FileStatus>,
}

/// The page people upload from.
#[component]
pub fn UploadPage() -> impl IntoView {
    let files = RwSignal::new(Vec::<QueuedFile>::new());
    let dragging = RwSignal::new(false);
    let next_id = StoredValue::new(0usize);
    let queue = StoredValue::new_local(UploadQueue::default());

    let add = move |list: FileList| {
        for index in 0..list.length() {
            let Some(file) = list.get(index).map(gloo_file::File::from) else {
                continue;
            };
            let id = next_id.get_value();
            next_id.set_value(id + 1);
            let status = RwSignal::new(FileStatus::Queued);
            files.update(|all| {
                all.push(QueuedFile {
                    id,
                    name: file.name(),
                    size: file.size(),
                    status,
                });
            });
            queue.with_value(|queue| {
                queue.push(upload_file(file, move |s| status.set(s)));
            });
        }
    };

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
        </section>
        <ul class="queue" aria-live="polite">
            <For each=move || files.get() key=|file| file.id let:file>
                <FileRow file />
            </For>
        </ul>
    }
}
