//! The queue as the page draws it: the overall progress and the controls for every
//! file while any is running, a row per file (the first few hundred, more on request),
//! and "Clear finished".

use leptos::prelude::*;

use super::file_queue::FileQueue;
use super::file_row::FileRow;
use super::tally::Tally;
use super::text::{self, progress_line};
use crate::browser::runtime::now_ms;
use crate::core::speed::Speed;

/// How many rows of the queue are drawn at first, and how many more each "Show more"
/// draws: a folder of 10,000 files must not make 10,000 rows.
const ROWS_AT_ONCE: usize = 500;

/// Every file's progress in one bar, and Pause, Resume and Cancel all; while any file
/// is unfinished.
#[component]
pub fn Overall(queue: FileQueue) -> impl IntoView {
    let tally = queue.tally;
    let active = move || tally.with(|t| t.unfinished);
    // Every file not failed or cancelled counts toward the overall progress.
    let speed = StoredValue::new(Speed::default());
    let overall = Memo::new(move |_| {
        let t = tally.get();
        speed.update_value(|s| s.record(now_ms(), t.sent));
        let files = text::files_done(t.done, t.accepted());
        let line = speed.with_value(|s| progress_line(s, t.sent, t.total));
        // Display only: a fraction for the bar.
        let fraction = if t.total > 0 {
            t.sent as f64 / t.total as f64
        } else {
            0.0
        };
        (fraction, format!("{files} · {line}"))
    });
    view! {
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
    }
}

/// A row per file, the first [`ROWS_AT_ONCE`] and more on request, and "Clear finished".
#[component]
pub fn QueueRows(queue: FileQueue) -> impl IntoView {
    let FileQueue {
        files,
        tally,
        offline,
        ..
    } = queue;
    let rows = RwSignal::new(ROWS_AT_ONCE);
    let retry = Callback::new(move |id: usize| queue.retry(id));
    let shown = move || files.with(|all| all.iter().take(rows.get()).cloned().collect::<Vec<_>>());
    let hidden = move || files.with(Vec::len).saturating_sub(rows.get());
    let finished = move || tally.with(Tally::any_finished);
    view! {
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
    }
}
