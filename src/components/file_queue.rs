//! The page's queue of files and what can be done with it: take files in (each checked
//! against the policy, counted and started), retry one, pause, resume or cancel them all,
//! follow the browser going offline and back, clear the finished ones. The page draws
//! it; every status change passes through here, so the tally stays true.

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;

use super::file_row::QueuedFile;
use super::tally::Tally;
use crate::api::{DropTag, LinkPass};
use crate::browser::given::Given;
use crate::browser::page::keep_in_list;
use crate::browser::runtime::sleep;
use crate::browser::upload::unfinished::Unfinished;
use crate::browser::upload::{Controller, FileStatus, Picked, Uploader};
use crate::core::policy::UploadPolicy;

/// Images up to this size get a thumbnail (the browser decodes it).
const THUMBNAIL_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// How many added files are taken in per task of the page.
const ADD_CHUNK: usize = 50;

/// A new drop's id: the time and 64 random bits, unlike any other drop's.
fn new_drop_id() -> String {
    let random = (js_sys::Math::random() * 18_446_744_073_709_551_616.0) as u64;
    format!("d{:x}{random:016x}", js_sys::Date::now() as u64)
}

/// The name of the list of keys this browser stored through the link with `secret`.
pub fn sent_list_of(secret: &str) -> String {
    format!("s3drop-sent-{secret}")
}

/// The queue; a handle of signals, copied into every event handler that needs it.
#[derive(Clone, Copy)]
pub struct FileQueue {
    /// The files, in the order they came.
    pub files: RwSignal<Vec<QueuedFile>>,
    /// Their counts and bytes by state.
    pub tally: RwSignal<Tally>,
    /// Whether the browser is offline (every upload is paused meanwhile).
    pub offline: RwSignal<bool>,
    /// The server's rules, once fetched: checked before a byte is sent.
    policy: RwSignal<Option<UploadPolicy>>,
    /// Uploads a reload left unfinished; a file added again is taken off the list.
    pub unfinished: RwSignal<Vec<Unfinished>>,
    next_id: StoredValue<usize>,
    uploader: StoredValue<Uploader, LocalStorage>,
    /// The files themselves, by id, to start them again after a failure.
    sources: StoredValue<HashMap<usize, Picked>, LocalStorage>,
    /// On a link's page: the list the stored files' keys are kept in, for later visits.
    sent_list: StoredValue<Option<String>>,
}

/// An empty queue, and no unfinished uploads listed yet.
impl Default for FileQueue {
    fn default() -> Self {
        Self {
            files: RwSignal::new(Vec::new()),
            tally: RwSignal::new(Tally::default()),
            offline: RwSignal::new(false),
            policy: RwSignal::new(None),
            unfinished: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
            uploader: StoredValue::new_local(Uploader::default()),
            sources: StoredValue::new_local(HashMap::new()),
            sent_list: StoredValue::new(None),
        }
    }
}

impl FileQueue {
    /// The server's rules, when they arrive.
    pub fn set_policy(self, policy: UploadPolicy) {
        self.uploader
            .with_value(|u| u.set_part_size(policy.part_size));
        self.policy.set(Some(policy));
    }

    /// The upload link the files start through (its page sets it once it is open); what
    /// is stored through it is kept in this browser's list for the link
    /// ([`sent_list_of`]).
    pub fn set_link(self, pass: LinkPass) {
        self.sent_list.set_value(Some(sent_list_of(&pass.secret)));
        self.uploader.with_value(|u| u.set_link(pass));
    }

    /// Takes `given` in: each file checked at once (cheap: its name, size and type), so
    /// the drop's count is known before its first file starts; then a chunk per task,
    /// since a folder may hold 10,000 files and the page shows the first ones (and
    /// starts them) at once and never freezes.
    pub fn add(self, given: Vec<Given>) {
        let mut picked: Vec<Picked> = given.into_iter().map(Picked::new).collect();
        let refusals = self.refusals(&picked);
        let files = refusals.iter().filter(|r| r.is_none()).count();
        let tag = DropTag {
            id: new_drop_id(),
            files: u32::try_from(files).unwrap_or(u32::MAX),
        };
        for file in &mut picked {
            file.drop = Some(tag.clone());
        }
        leptos::task::spawn_local(async move {
            let mut checked = picked.into_iter().zip(refusals).peekable();
            while checked.peek().is_some() {
                self.add_chunk(checked.by_ref().take(ADD_CHUNK).collect());
                sleep(0.0).await;
            }
        });
    }

    /// Why each of `picked` is refused by the policy (and the count of files the page
    /// takes at a time), if it is.
    fn refusals(self, picked: &[Picked]) -> Vec<Option<String>> {
        let mut accepted = self.tally.with_untracked(Tally::accepted);
        let policy = self.policy.get_untracked();
        picked
            .iter()
            .map(|picked| {
                let file = &picked.file;
                let refusal = policy.as_ref().and_then(|p| {
                    p.check_count(accepted)
                        .and_then(|()| p.check(&file.name(), picked.size, &file.raw_mime_type()))
                        .err()
                });
                if refusal.is_none() {
                    accepted += 1;
                }
                refusal.map(|r| r.to_string())
            })
            .collect()
    }

    /// Adds a chunk of checked files: each counted and queued, the page updated once.
    fn add_chunk(self, checked: Vec<(Picked, Option<String>)>) {
        let mut counted = Tally::default();
        let mut picked_by_id = Vec::with_capacity(checked.len());
        let mut added = Vec::with_capacity(checked.len());
        for (picked, refusal) in checked {
            let (file, size) = (&picked.file, picked.size);
            let id = self.next_id.get_value();
            self.next_id.set_value(id + 1);
            let first = match &refusal {
                Some(reason) => FileStatus::Refused(reason.clone()),
                None => FileStatus::Queued,
            };
            counted.add(&first, size);
            let status = RwSignal::new(first);
            let name = picked.path();
            let thumbnail = (file.raw_mime_type().starts_with("image/")
                && size <= THUMBNAIL_MAX_BYTES)
                .then(|| web_sys::Url::create_object_url_with_blob(file.as_ref()).ok())
                .flatten();
            picked_by_id.push((id, picked.clone()));
            let controller = match refusal {
                None => self.launch(picked, status),
                Some(_) => Controller::new().0,
            };
            added.push(QueuedFile {
                id,
                name,
                size,
                thumbnail,
                status,
                controller,
                held: RwSignal::new(false),
            });
        }
        self.tally.update(|t| t.extend(&counted));
        self.sources.update_value(|all| all.extend(picked_by_id));
        // Adding a file again picks up its unfinished upload, if there is one.
        let again: HashSet<(&str, u64)> = added.iter().map(|f| (f.name.as_str(), f.size)).collect();
        self.unfinished
            .update(|u| u.retain(|s| !again.contains(&(s.path.as_str(), s.size))));
        self.files.update(|all| all.extend(added));
    }

    /// Queues `picked`'s upload, its status kept in `status`; answers its controller.
    fn launch(self, picked: Picked, status: RwSignal<FileStatus>) -> Controller {
        let (controller, controls) = Controller::new();
        if self.offline.get_untracked() {
            controller.pause();
        }
        let size = picked.size;
        self.uploader.with_value(|u| {
            u.enqueue(picked, controls, move |new| {
                self.set_status(status, size, new)
            })
        });
        controller
    }

    /// Every status change, so the tally follows (and a link's page keeps what it stored).
    fn set_status(self, status: RwSignal<FileStatus>, size: u64, new: FileStatus) {
        let old = status.get_untracked();
        if let (FileStatus::Done(stored), Some(list)) = (&new, self.sent_list.get_value()) {
            keep_in_list(&list, &stored.key);
        }
        if old != new {
            self.tally.update(|t| t.change(&old, &new, size));
            status.set(new);
        }
    }

    /// Starts file `id`'s upload again (after it failed).
    pub fn retry(self, id: usize) {
        let Some(file) = self.sources.with_value(|all| all.get(&id).cloned()) else {
            return;
        };
        self.files.update(|all| {
            if let Some(entry) = all.iter_mut().find(|f| f.id == id) {
                self.set_status(entry.status, entry.size, FileStatus::Queued);
                entry.held.set(false);
                entry.controller = self.launch(file, entry.status);
            }
        });
    }

    /// Takes the finished files (done, failed, refused, cancelled) off the queue.
    pub fn clear_finished(self) {
        let mut cleared = Tally::default();
        self.files.update(|all| {
            all.retain(|f| {
                let keep = !f.status.with_untracked(FileStatus::is_finished);
                if !keep {
                    f.status.with_untracked(|s| cleared.add(s, f.size));
                    if let Some(url) = &f.thumbnail {
                        let _ = web_sys::Url::revoke_object_url(url);
                    }
                }
                keep
            })
        });
        self.tally.update(|t| t.subtract(&cleared));
        let kept: HashSet<usize> = self
            .files
            .with_untracked(|all| all.iter().map(|f| f.id).collect());
        self.sources
            .update_value(|all| all.retain(|id, _| kept.contains(id)));
    }

    /// Pauses every unfinished file; going back online does not resume them.
    pub fn pause_all(self) {
        self.for_unfinished(|f| {
            f.held.set(true);
            f.controller.pause();
        });
    }

    /// Resumes every unfinished file (when online; else they resume when it is back).
    pub fn resume_all(self) {
        let offline = self.offline.get_untracked();
        self.for_unfinished(|f| {
            f.held.set(false);
            if !offline {
                f.controller.resume();
            }
        });
    }

    /// Cancels every unfinished file; the store keeps nothing of them.
    pub fn cancel_all(self) {
        self.for_unfinished(|f| f.controller.cancel());
    }

    /// The browser went offline: every upload pauses.
    pub fn went_offline(self) {
        self.offline.set(true);
        self.files
            .with_untracked(|all| all.iter().for_each(|f| f.controller.pause()));
    }

    /// The browser is back: uploads resume, except those the person paused.
    pub fn came_online(self) {
        self.offline.set(false);
        self.files.with_untracked(|all| {
            all.iter()
                .filter(|f| !f.held.get_untracked())
                .for_each(|f| f.controller.resume())
        });
    }

    fn for_unfinished(self, act: impl Fn(&QueuedFile)) {
        self.files.with_untracked(|all| {
            all.iter()
                .filter(|f| !f.status.with_untracked(FileStatus::is_finished))
                .for_each(act)
        })
    }
}
