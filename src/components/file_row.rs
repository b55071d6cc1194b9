//! One file in the queue: a thumbnail or type label, name, size, a progress bar, its
//! state in words, and its pause, resume, cancel and retry buttons.

use leptos::either::Either;
use leptos::prelude::*;

use super::text::{self, format_bytes, progress_line};
use crate::browser::runtime::now_ms;
use crate::browser::upload::{Controller, FileStatus};
use crate::core::speed::Speed;

/// A file on the page: what it is, where its upload stands, and how to steer it.
#[derive(Debug, Clone)]
pub struct QueuedFile {
    pub id: usize,
    /// Its name, with the folder it was in (`photos/a.jpg`).
    pub name: String,
    pub size: u64,
    /// An object URL of the image itself, for images.
    pub thumbnail: Option<String>,
    pub status: RwSignal<FileStatus>,
    pub controller: Controller,
    /// Paused by the person (going back online does not resume it).
    pub held: RwSignal<bool>,
}

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
    let detail = move || match status.get() {
        FileStatus::Queued if held.get() => text::PAUSED_BEFORE_START.to_owned(),
        FileStatus::Queued => text::WAITING.to_owned(),
        FileStatus::Uploading { sent, total, note } => {
            // Runs only in the browser: on the server a row is always still queued.
            speed.update_value(|s| s.record(now_ms(), sent));
            let line = speed.with_value(|s| progress_line(s, sent, total));
            match note {
                Some(note) => format!("{line} · {note}"),
                None => line,
            }
        }
        FileStatus::Paused { sent, total } => {
            text::paused_at(sent, total, offline.get() && !held.get())
        }
        FileStatus::Completing => text::FINISHING.to_owned(),
        FileStatus::Done(stored) => text::uploaded(stored.crc32c.as_deref()),
        FileStatus::Failed(reason) => text::failed(&reason),
        FileStatus::Refused(reason) => text::refused(&reason),
        FileStatus::Cancelled => text::CANCELLED.to_owned(),
    };
    let (name, size) = (file.name.clone(), file.size);
    view! {
        <li class="file" data-state=move || status.with(state_name)>
            <Picture name=name.clone() thumbnail=file.thumbnail.clone() />
            <div class="file-body">
                <div class="file-head">
                    <span class="file-name">{name.clone()}</span>
                    <span class="file-size">{format_bytes(size)}</span>
                </div>
                <progress max="1" value=move || status.with(sent_fraction) aria-label=text::upload_of(&name)></progress>
                <div class="file-foot">
                    <span class="file-state">{detail}</span>
                    <RowActions file offline on_retry />
                </div>
            </div>
        </li>
    }
}

/// An image's own thumbnail, else a label of the file's type.
#[component]
fn Picture(name: String, thumbnail: Option<String>) -> impl IntoView {
    match thumbnail {
        Some(url) => Either::Left(view! { <img class="thumb" src=url alt="" /> }),
        None => Either::Right(view! {
            <span class="thumb type-label" aria-hidden="true">{text::type_label(&name)}</span>
        }),
    }
}

/// What can be done with a file: download it once stored; pause, resume or cancel it
/// while it runs; retry it once it failed.
#[component]
fn RowActions(
    file: QueuedFile,
    offline: RwSignal<bool>,
    on_retry: Callback<usize>,
) -> impl IntoView {
    let (status, held, id) = (file.status, file.held, file.id);
    let link = move || match status.get() {
        FileStatus::Done(stored) => Some(view! {
            <a
                class="download"
                href=stored.download_url
                download=stored.name.clone()
                aria-label=text::action_on(text::DOWNLOAD, &stored.name)
            >
                {text::DOWNLOAD}
            </a>
        }),
        _ => None,
    };
    let [pause_label, resume_label, cancel_label, retry_label] =
        [text::PAUSE, text::RESUME, text::CANCEL, text::RETRY]
            .map(|action| text::action_on(action, &file.name));
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
    view! {
        <span class="file-actions">
            {link}
            <Show when=move || running() && !held.get()>
                <button type="button" class="link" aria-label=pause_label.clone() on:click=pause.clone()>
                    {text::PAUSE}
                </button>
            </Show>
            <Show when=move || running() && held.get()>
                <button type="button" class="link" aria-label=resume_label.clone() on:click=resume.clone()>
                    {text::RESUME}
                </button>
            </Show>
            <Show when=running>
                <button type="button" class="link danger" aria-label=cancel_label.clone() on:click=cancel.clone()>
                    {text::CANCEL}
                </button>
            </Show>
            <Show when=move || status.with(|s| matches!(s, FileStatus::Failed(_)))>
                <button type="button" class="link" aria-label=retry_label.clone() on:click=move |_| on_retry.run(id)>
                    {text::RETRY}
                </button>
            </Show>
        </span>
    }
}

/// The row's state as its `data-state` says it (styles and scripts read it).
fn state_name(status: &FileStatus) -> &'static str {
    match status {
        FileStatus::Queued => "queued",
        FileStatus::Uploading { .. } | FileStatus::Completing => "uploading",
        FileStatus::Paused { .. } => "paused",
        FileStatus::Done(_) => "done",
        FileStatus::Failed(_) | FileStatus::Refused(_) => "failed",
        FileStatus::Cancelled => "cancelled",
    }
}

/// How much of the file is sent, for its bar.
fn sent_fraction(status: &FileStatus) -> f64 {
    match *status {
        FileStatus::Uploading { sent, total, .. } | FileStatus::Paused { sent, total }
            if total > 0 =>
        {
            sent as f64 / total as f64
        }
        FileStatus::Completing | FileStatus::Done(_) => 1.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rows_state_and_bar_follow_its_status() {
        let uploading = |sent, total| FileStatus::Uploading {
            sent,
            total,
            note: None,
        };
        let cases = [
            (FileStatus::Queued, "queued", 0.0),
            (uploading(0, 0), "uploading", 0.0),
            (uploading(1, 4), "uploading", 0.25),
            (FileStatus::Paused { sent: 3, total: 4 }, "paused", 0.75),
            (FileStatus::Completing, "uploading", 1.0),
            (FileStatus::Failed("x".into()), "failed", 0.0),
            (FileStatus::Refused("x".into()), "failed", 0.0),
            (FileStatus::Cancelled, "cancelled", 0.0),
        ];
        for (status, state, fraction) in cases {
            assert_eq!(state_name(&status), state, "{status:?}");
            assert_eq!(sent_fraction(&status), fraction, "{status:?}");
        }
    }
}
