//! The uploads a reload or a crash left unfinished. Where the page kept the files'
//! handles, one click ("Resume all", or "Resume" on a row) asks the browser to let it
//! read them again (once per folder), checks each is the file it was, and queues them:
//! each goes on from what the store holds. Elsewhere the person adds the same files
//! again. "Discard" aborts an upload's parts in the store and forgets the file.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;

use super::file_queue::FileQueue;
use super::{format_bytes, text};
use crate::api;
use crate::browser::dropped::Given;
use crate::browser::handles::{self, Unopened};
use crate::browser::saved::{self, KeptFile, SavedUpload};

/// How many unfinished uploads are listed (a folder may have left thousands).
const ROWS_LISTED: usize = 50;

/// An upload a reload or a crash left unfinished, as the page lists it.
#[derive(Debug, Clone)]
pub struct Unfinished {
    pub fingerprint: String,
    /// `folder/name`.
    pub path: String,
    pub size: u64,
    /// Its multipart upload, where one had started.
    pub upload: Option<SavedUpload>,
    /// Its handle, where the browser gave one: the page can open it again.
    pub kept: Option<KeptFile>,
    /// Why it was not resumed, once that was tried.
    pub problem: Option<&'static str>,
}

/// What IndexedDB holds of unfinished uploads at `now_secs`, the expired forgotten:
/// the saved multipart uploads and the kept files, one entry per file.
pub async fn load(now_secs: f64) -> Vec<Unfinished> {
    let mut uploads = HashMap::new();
    for upload in saved::all().await {
        if (upload.expires_at as f64) > now_secs {
            uploads.insert(upload.fingerprint.clone(), upload);
        } else {
            saved::remove(&upload.fingerprint).await;
        }
    }
    let mut listed: Vec<Unfinished> = saved::kept_files(now_secs)
        .await
        .into_iter()
        .map(|kept| Unfinished {
            fingerprint: kept.fingerprint.clone(),
            path: kept.path.clone(),
            size: kept.size,
            upload: uploads.remove(&kept.fingerprint),
            kept: Some(kept),
            problem: None,
        })
        .collect();
    listed.extend(uploads.into_values().map(|upload| Unfinished {
        fingerprint: upload.fingerprint.clone(),
        path: upload.name.clone(),
        size: upload.size,
        upload: Some(upload),
        kept: None,
        problem: None,
    }));
    // Those with parts in the store first: they hold the most that would be lost.
    listed.sort_by(|a, b| (a.upload.is_none(), &a.path).cmp(&(b.upload.is_none(), &b.path)));
    listed
}

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
    let (name, size, problem) = (item.path.clone(), item.size, item.problem);
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
        let (given, problems) = reopen(items).await;
        queue.unfinished.update(|all| {
            for item in all.iter_mut() {
                if let Some(problem) = problems.get(&item.fingerprint) {
                    item.problem = Some(problem);
                }
            }
        });
        queue.add(given);
    });
}

async fn reopen(items: Vec<Unfinished>) -> (Vec<Given>, HashMap<String, &'static str>) {
    // One permission per drop or pick: a folder's files share their folder's.
    let mut allowed: HashMap<String, bool> = HashMap::new();
    let (mut given, mut problems) = (Vec::new(), HashMap::new());
    for item in items {
        let Some(kept) = item.kept.filter(|_| item.problem.is_none()) else {
            continue;
        };
        let root = &kept.handle;
        let allowed = match allowed.get(&root.root_id) {
            Some(&allowed) => allowed,
            None => {
                let granted = handles::ask_to_read(&root.root).await;
                allowed.insert(root.root_id.clone(), granted);
                granted
            }
        };
        let opened = if allowed {
            handles::open(&kept.handle.file).await
        } else {
            Err(Unopened::NotAllowed)
        };
        let problem = match opened {
            Ok(file) if is_as_kept(&file, &kept) => {
                given.push(Given {
                    file,
                    folder: kept.folder,
                    handle: Some(kept.handle),
                });
                continue;
            }
            Ok(_) => text::KEPT_CHANGED,
            Err(Unopened::Gone) => text::KEPT_GONE,
            Err(Unopened::NotAllowed) => text::KEPT_NOT_ALLOWED,
            Err(Unopened::Unreadable) => text::KEPT_UNREADABLE,
        };
        problems.insert(item.fingerprint, problem);
    }
    (given, problems)
}

/// Whether `file` is the file that was kept: same size and modification time (its
/// first part is checked against the store's when its upload resumes).
fn is_as_kept(file: &web_sys::File, kept: &KeptFile) -> bool {
    // Modification times are whole milliseconds; the kept one went through a Duration.
    file.size() as u64 == kept.size && (file.last_modified() - kept.modified_ms).abs() < 1.0
}

/// Takes `items` off the list: their multipart uploads are aborted (the store keeps
/// nothing of them) and their records forgotten.
fn discard(unfinished: RwSignal<Vec<Unfinished>>, items: Vec<Unfinished>) {
    let gone: HashSet<&str> = items.iter().map(|i| i.fingerprint.as_str()).collect();
    unfinished.update(|all| all.retain(|u| !gone.contains(u.fingerprint.as_str())));
    leptos::task::spawn_local(async move {
        let mut kept = Vec::new();
        for item in items {
            if let Some(upload) = item.upload {
                let _ = api::abort_upload(upload.token.clone()).await;
                saved::remove(&upload.fingerprint).await;
            }
            if item.kept.is_some() {
                kept.push(item.fingerprint);
            }
        }
        saved::forget_kept(&kept).await;
    });
}
