//! The list of uploads a reload or a crash left unfinished, with its controls. Where the
//! page kept the files' handles, one click ("Resume all", or "Resume" on a row) opens
//! them again (once per folder) and queues those as they were: each goes on from what
//! the store holds. Elsewhere the person adds the same files again. "Discard" forgets
//! an upload, its parts aborted in the store.

use std::collections::HashSet;

use leptos::prelude::*;

use super::file_queue::FileQueue;
use super::text::{self, format_bytes};
use crate::browser::handles::Unopened;
use crate::browser::upload::unfinished::{self, NotResumed, Unfinished};

/// How many unfinished uploads are listed (a folder may have left thousands).
const ROWS_LISTED: usize = 50;

/// The list, with its controls; drawn while it holds anything.
#[component]
pub fn UnfinishedUploads(queue: FileQueue) -> impl IntoView {
    let unfinished = queue.unfinished;
    let resumable = move || {
        unfinished.with(|all| {
            all.iter()
                .filter(|u| u.kept.is_some() && u.problem.is_none())
                .count()
        })
    };
    let any_not_kept = move || unfinished.with(|all| all.iter().any(|u| u.kept.is_none()));
    let listed =
        move || unfinished.with(|all| all.iter().take(ROWS_LISTED).cloned().collect::<Vec<_>>());
    let more = move || unfinished.with(Vec::len).saturating_sub(ROWS_LISTED);
    let resume_all = move |_| {
        let all = unfinished.get_untracked();
        resume(queue, all);
    };
    let discard_all = move |_| discard(unfinished, unfinished.get_untracked());
    view! {
        <Show when=move || !unfinished.with(Vec::is_empty)>
            <section class="unfinished" aria-labelledby="unfinished-title">
                <h2 id="unfinished-title">{text::UNFINISHED_TITLE}</h2>
                <Show when=move || { resumable() > 0 }>
                    <p>{text::UNFINISHED_KEPT_HELP}</p>
                </Show>
                <Show when=any_not_kept>
                    <p>{text::UNFINISHED_HELP}</p>
                </Show>
                <div class="queue-controls">
                    <Show when=move || { resumable() > 0 }>
                        <button type="button" data-testid="resume-unfinished" on:click=resume_all>
                            {text::RESUME_ALL}
                        </button>
                    </Show>
                    <button type="button" class="danger" data-testid="discard-unfinished" on:click=discard_all>
                        {text::DISCARD_ALL}
                    </button>
                </div>
                <ul>
                    <For each=listed key=|u| (u.fingerprint.clone(), u.problem) let:item>
                        <UnfinishedRow item queue />
                    </For>
                </ul>
                <Show when=move || { more() > 0 }>
                    <p class="queue-more">{move || text::more_unfinished(more())}</p>
                </Show>
            </section>
        </Show>
    }
}

/// One unfinished upload: what it was, how far it got, and what can be done with it.
#[component]
fn UnfinishedRow(item: Unfinished, queue: FileQueue) -> impl IntoView {
    let progress = match &item.upload {
        Some(upload) => text::parts_sent(upload.sent.len(), upload.plan.part_count),
        None => text::NOT_SENT_YET.to_owned(),
    };
    let can_resume = item.kept.is_some() && item.problem.is_none();
    let (name, size, problem) = (item.path.clone(), item.size, item.problem.map(not_resumed));
    let resume_label = text::action_on(text::RESUME, &name);
    let discard_label = text::action_on(text::DISCARD, &name);
    let this = item.clone();
    let on_resume = move |_| resume(queue, vec![this.clone()]);
    let on_discard = move |_| discard(queue.unfinished, vec![item.clone()]);
    view! {
        <li class="unfinished-file" data-problem=problem.is_some().then_some("true")>
            <span class="file-name">{name}</span>
            <span class="file-size">{format_bytes(size)} " · " {progress}</span>
            {problem.map(|p| view! { <span class="file-error" role="status">{p}</span> })}
            {can_resume
                .then(|| {
                    view! {
                        <button type="button" class="link" aria-label=resume_label on:click=on_resume>
                            {text::RESUME}
                        </button>
                    }
                })}
            <button type="button" class="link" aria-label=discard_label on:click=on_discard>
                {text::DISCARD}
            </button>
        </li>
    }
}

/// Opens the kept files of `items` again and queues those that are as they were; the
/// others stay listed with the reason. Runs from a click: the browser lets the page ask
/// for permission only just after one.
fn resume(queue: FileQueue, items: Vec<Unfinished>) {
    leptos::task::spawn_local(async move {
        let (given, problems) = unfinished::reopen(items).await;
        queue.unfinished.update(|all| {
            for item in all.iter_mut() {
                if let Some(problem) = problems.get(&item.fingerprint) {
                    item.problem = Some(*problem);
                }
            }
        });
        queue.add(given);
    });
}

/// Takes `items` off the list, and discards their uploads.
fn discard(listed: RwSignal<Vec<Unfinished>>, items: Vec<Unfinished>) {
    let gone: HashSet<&str> = items.iter().map(|i| i.fingerprint.as_str()).collect();
    listed.update(|all| all.retain(|u| !gone.contains(u.fingerprint.as_str())));
    leptos::task::spawn_local(unfinished::discard(items));
}

/// Why a kept file was not resumed, in the page's words.
fn not_resumed(problem: NotResumed) -> &'static str {
    match problem {
        NotResumed::Changed => text::KEPT_CHANGED,
        NotResumed::Unopened(Unopened::Gone) => text::KEPT_GONE,
        NotResumed::Unopened(Unopened::NotAllowed) => text::KEPT_NOT_ALLOWED,
        NotResumed::Unopened(Unopened::Unreadable) => text::KEPT_UNREADABLE,
    }
}
