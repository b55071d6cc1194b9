//! One file in the queue: name, size, a progress bar, its state in words, and its
//! pause, resume and cancel buttons.

use leptos::prelude::*;

use super::format_bytes;
use super::upload_page::QueuedFile;
use crate::browser::now_ms;
use crate::browser::upload::FileStatus;
use crate::core::speed::{Speed, format_seconds};

/// A file's row in the queue.
#[component]
pub fn FileRow(
    file: QueuedFile,
    offline: RwSignal<bool>,
    /// Starts a failed upload again.
    on_retry: Callback<usize>,
) -> impl IntoView {
    let status = file.status;
    let held = file.held;
    let speed = StoredValue::new(Speed::default());
    let state = move || match status.get() {
        FileStatus::Queued => "queued",
        FileStatus::Uploading { .. } | FileStatus::Completing => "uploading",
        FileStatus::Paused { .. } => "paused",
        FileStatus::Done(_) => "done",
        FileStatus::Failed(_) | FileStatus::Refused(_) => "failed",
        FileStatus::Cancelled => "cancelled",
    };
    let fraction = move || match status.get() {
        FileStatus::Uploading { sent, total, .. } | FileStatus::Paused { sent, total }
            if total > 0 =>
        {
            sent as f64 / total as f64
        }
        FileStatus::Completing | FileStatus::Done(_) => 1.0,
        _ => 0.0,
    };
    let detail = move || match status.get() {
        FileStatus::Queued if held.get() => "Paused before starting".to_owned(),
        FileStatus::Queued => "Waiting".to_owned(),
        FileStatus::Uploading { sent, total, note } => {
            // Runs only in the browser: on the server a row is always still queued.
            speed.update_value(|s| s.record(now_ms(), sent));
            let mut text = format!("{} of {}", format_bytes(sent), format_bytes(total));
            if let Some(rate) = speed.with_value(Speed::bytes_per_second) {
                // Display only: rounding to whole bytes per second is fine.
                text += &format!(" · {}/s", format_bytes(rate as u64));
            }
            if let Some(left) = speed.with_value(|s| s.seconds_left(total)) {
                text += &format!(" · {} left", format_seconds(left));
            }
            match note {
                Some(note) => format!("{text} · {note}"),
                None => text,
            }
        }
        FileStatus::Paused { sent, total } => {
            let why = if offline.get() && !held.get() {
                " while offline"
            } else {
                ""
            };
            format!(
                "Paused{why} at {} of {}",
                format_bytes(sent),
                format_bytes(total)
            )
        }
        FileStatus::Completing => "Finishing…".to_owned(),
        FileStatus::Done(stored) => match stored.crc32c {
            Some(crc) => format!("Uploaded · CRC32C {crc}"),
            None => "Uploaded".to_owned(),
        },
        FileStatus::Failed(reason) => format!("Failed: {reason}"),
        FileStatus::Refused(reason) => format!("Not accepted: {reason}"),
        FileStatus::Cancelled => "Cancelled".to_owned(),
    };
    let link = move || match status.get() {
        FileStatus::Done(stored) => Some(view! {
            <a class="download" href=stored.download_url download=stored.name.clone()>
                "Download"
            </a>
        }),
        _ => None,
    };
    let running = move || !status.with(FileStatus::is_finished);
    let pause = {
        let controller = file.controller.clone();
        move |_| {
            held.set(true);
            controller.pause();
        }
    };
    let resume = {
        let controller = file.controller.clone();
        move |_| {
            held.set(false);
            if !offline.get_untracked() {
                controller.resume();
            }
        }
    };
    let cancel = {
        let controller = file.controller.clone();
        move |_| controller.cancel()
    };
    let name = file.name.clone();
    view! {
        <li class="file" data-state=state>
            <div class="file-head">
                <span class="file-name">{file.name.clone()}</span>
                <span class="file-size">{format_bytes(file.size)}</span>
            </div>
            <progress max="1" value=fraction aria-label=format!("Upload of {name}")></progress>
            <div class="file-foot">
                <span class="file-state">{detail}</span>
                <span class="file-actions">
                    {link}
                    <Show when=move || running() && !held.get()>
                        <button type="button" class="link" on:click=pause.clone()>"Pause"</button>
                    </Show>
                    <Show when=move || running() && held.get()>
                        <button type="button" class="link" on:click=resume.clone()>"Resume"</button>
                    </Show>
                    <Show when=running>
                        <button type="button" class="link danger" on:click=cancel.clone()>"Cancel"</button>
                    </Show>
                    <Show when=move || status.with(|s| matches!(s, FileStatus::Failed(_)))>
                        <button type="button" class="link" on:click=move |_| on_retry.run(file.id)>
                            "Retry"
                        </button>
                    </Show>
                </span>
            </div>
        </li>
    }
}
