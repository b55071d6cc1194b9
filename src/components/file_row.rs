//! One file in the queue: name, size, a progress bar and its state in words.

use leptos::prelude::*;

use super::format_bytes;
use super::upload_page::QueuedFile;
use crate::browser::upload::FileStatus;

/// A file's row in the queue.
#[component]
pub fn FileRow(file: QueuedFile) -> impl IntoView {
    let status = file.status;
    let state = move || match status.get() {
        FileStatus::Queued => "queued",
        FileStatus::Uploading { .. } | FileStatus::Completing => "uploading",
        FileStatus::Done(_) => "done",
        FileStatus::Failed(_) => "failed",
    };
    let fraction = move || match status.get() {
        FileStatus::Uploading { sent, total, .. } if total > 0 => sent as f64 / total as f64,
        FileStatus::Uploading { .. } | FileStatus::Queued => 0.0,
        FileStatus::Completing | FileStatus::Done(_) => 1.0,
        FileStatus::Failed(_) => 0.0,
    };
    let detail = move || match status.get() {
        FileStatus::Queued => "Waiting".to_owned(),
        FileStatus::Uploading {
            sent,
            total,
            retrying,
        } => {
            let progress = format!("{} of {}", format_bytes(sent), format_bytes(total));
            if retrying > 0 {
                format!("{progress} · retrying")
            } else {
                progress
            }
        }
        FileStatus::Completing => "Finishing…".to_owned(),
        FileStatus::Done(_) => "Uploaded".to_owned(),
        FileStatus::Failed(reason) => format!("Failed: {reason}"),
    };
    let link = move || match status.get() {
        FileStatus::Done(stored) => Some(view! {
            <a class="download" href=stored.download_url download=stored.name.clone()>
                "Download"
            </a>
        }),
        _ => None,
    };
    view! {
        <li class="file" data-state=state>
            <div class="file-head">
                <span class="file-name">{file.name.clone()}</span>
                <span class="file-size">{format_bytes(file.size)}</span>
            </div>
            <progress max="1" value=fraction aria-label=format!("Upload of {}", file.name)></progress>
            <div class="file-foot">
                <span class="file-state">{detail}</span>
                {link}
            </div>
        </li>
    }
}
