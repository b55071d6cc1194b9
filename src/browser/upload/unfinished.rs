//! The uploads a reload or a crash left unfinished: read from IndexedDB, opened again
//! where the page kept the files' handles (each checked to be the file it was, then
//! queued to go on from what the store holds), or discarded (their parts aborted in the
//! store, their records forgotten).

use std::collections::HashMap;

use crate::api;
use crate::browser::given::Given;
use crate::browser::handles::{self, Unopened};
use crate::browser::saved::{self, KeptFile, SavedUpload};

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
    pub problem: Option<NotResumed>,
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

/// Why a kept file was not resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotResumed {
    /// Its size or modification time differ from when it was added.
    Changed,
    /// It could not be opened again.
    Unopened(Unopened),
}

/// Opens the kept files of `items` again: answers those that are as they were, and why
/// each other one is not, by fingerprint. Runs from a click: the browser lets the page
/// ask for permission only just after one.
pub async fn reopen(items: Vec<Unfinished>) -> (Vec<Given>, HashMap<String, NotResumed>) {
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
            Ok(_) => NotResumed::Changed,
            Err(unopened) => NotResumed::Unopened(unopened),
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

/// Forgets `items`: their multipart uploads are aborted (the store keeps nothing of
/// them) and their records removed.
pub async fn discard(items: Vec<Unfinished>) {
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
}
