//! Where files come in: dropped anywhere on the page (the whole page shows it is a
//! target while dragging), pasted, or picked (files or a folder), with the rules shown
//! up front. Folders are walked, keeping each file's path.

use leptos::prelude::*;
use web_sys::{ClipboardEvent, DragEvent, HtmlInputElement};

use super::file_queue::FileQueue;
use super::text::{self, format_bytes};
use crate::browser::dropped::{self, DropContents};
use crate::browser::handles;
use crate::core::policy::UploadPolicy;

/// The drop zone with its pickers and the rules; drops and pastes anywhere on the page
/// go to `queue` too.
#[component]
pub fn DropZone(queue: FileQueue, policy: Signal<Option<UploadPolicy>>) -> impl IntoView {
    let dragging = RwSignal::new(false);
    take_drops_and_pastes(queue, dragging);
    let limits = move || {
        policy
            .get()
            .map(|p| p.describe(format_bytes))
            .unwrap_or_default()
    };
    view! {
        <div class="drop-overlay" class:visible=move || dragging.get() aria-hidden="true">
            <p>{text::DROP_TARGET}</p>
        </div>
        <section class="drop-zone" class:dragging=move || dragging.get() data-testid="drop-zone">
            <p class="drop-hint">{text::DROP_HINT}</p>
            <p class="drop-or">{text::DROP_OR}</p>
            <div class="pickers">
                <Picker queue folder=false />
                <Picker queue folder=true />
            </div>
            <p class="paste-hint">{text::PASTE_HINT}</p>
            <p class="limits" data-testid="limits">{limits}</p>
        </section>
    }
}

/// A picker of files, or of a folder. Where the browser gives handles, its own picker
/// stands in for the input's (the input stays for the keyboard, labels and scripts):
/// the page keeps what is picked.
#[component]
fn Picker(queue: FileQueue, folder: bool) -> impl IntoView {
    let pick_with_handles = move |event: leptos::ev::MouseEvent| {
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
    };
    let on_pick = move |event: leptos::ev::Event| {
        let input: HtmlInputElement = event_target(&event);
        if let Some(list) = input.files() {
            queue.add(dropped::from_list(&list));
        }
        // Picking the same file again should upload it again.
        input.set_value("");
    };
    let (label, class, test_id) = match folder {
        false => (text::CHOOSE_FILES, "button", "file-picker"),
        true => (text::CHOOSE_FOLDER, "button secondary", "folder-picker"),
    };
    view! {
        <label class=class>
            {label}
            <input
                type="file"
                multiple=!folder
                prop:webkitdirectory=folder
                class="visually-hidden"
                data-testid=test_id
                on:click=pick_with_handles
                on:change=on_pick
            />
        </label>
    }
}

/// Files dropped anywhere on the page, or pasted (a screenshot, files copied in a file
/// manager), go to `queue`; `dragging` is true while something is dragged over it.
fn take_drops_and_pastes(queue: FileQueue, dragging: RwSignal<bool>) {
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
    let _ = window_event_listener(leptos::ev::paste, move |event: ClipboardEvent| {
        let Some(list) = event.clipboard_data().and_then(|d| d.files()) else {
            return;
        };
        if list.length() > 0 {
            event.prevent_default();
            queue.add(dropped::from_list(&list));
        }
    });
}
