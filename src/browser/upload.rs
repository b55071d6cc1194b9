//! Runs one file's upload: start it (or resume it from IndexedDB and ListParts), run the
//! transfer state machine with its [`super::shell`] performing what it decides, and
//! complete (or abort) the upload, reporting each change of status.
//!
//! Every upload on the page shares one [`Uploader`]: its queue, its batched starts and
//! completions, and the browser's connections to each origin.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::FutureExt;
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::LocalBoxFuture;
use gloo_file::File;

use super::batch::Batcher;
use super::dropped::Given;
use super::handles::Handle;
use super::saved::{self, Journal, KeptFile, SavedUpload, StartedFile};
use super::shell::{Next, Outcome, Session, Shell, part_crc32c, slice};
use super::slots::{Connections, Slots};
use super::{now_ms, queue::UploadQueue, sleep};
use crate::api::{
    self, ApiError, CompletedPart, Completion, StartRequest, StoredObject, UploadStart,
};
use crate::core::limits::{MIN_PART_SIZE, PARTS_IN_FLIGHT, SIGN_BATCH};
use crate::core::plan::PartPlan;
use crate::core::retry;
use crate::core::transfer::{Control, Phase, SentPart, Transfer};

/// Where a file's upload stands, as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum FileStatus {
    /// Waiting for its turn.
    Queued,
    /// Bytes are on their way; `note` says why progress went back, when it did.
    Uploading {
        sent: u64,
        total: u64,
        note: Option<String>,
    },
    /// Paused by the person or because the browser is offline.
    Paused { sent: u64, total: u64 },
    /// Every byte is stored; the server is completing the upload.
    Completing,
    /// Stored.
    Done(StoredObject),
    /// Stopped; the text says why.
    Failed(String),
    /// Not started: the file breaks the upload policy (trying again cannot help).
    Refused(String),
    /// Cancelled by the person; nothing is left in the store.
    Cancelled,
}

impl FileStatus {
    /// Whether the upload has ended, one way or another.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            Self::Done(_) | Self::Failed(_) | Self::Refused(_) | Self::Cancelled
        )
    }
}

/// Lets the page pause, resume or cancel one file's upload, queued or running.
#[derive(Debug, Clone)]
pub struct Controller(UnboundedSender<Control>);

impl Controller {
    /// A controller and the receiver its upload listens to.
    pub fn new() -> (Self, UnboundedReceiver<Control>) {
        let (sender, receiver) = mpsc::unbounded();
        (Self(sender), receiver)
    }

    pub fn pause(&self) {
        let _ = self.0.unbounded_send(Control::Pause);
    }

    pub fn resume(&self) {
        let _ = self.0.unbounded_send(Control::Resume);
    }

    pub fn cancel(&self) {
        let _ = self.0.unbounded_send(Control::Cancel);
    }
}

/// How often, at most, a running upload's byte count is shown anew.
const PROGRESS_EVERY_MS: f64 = 100.0;

/// How long a start waits for others to share its call, in milliseconds (the queue
/// lets files in by the dozen, so most come together anyway).
const START_GATHER_MS: f64 = 20.0;
/// How long a finished file waits for others to share the completion call: a folder's
/// files finish one by one, and nobody waits on a completion but the file's row.
const COMPLETE_GATHER_MS: f64 = 150.0;
/// How many files are read for their checksums at once (each is read whole).
const CHECKSUMS_AT_ONCE: usize = 4;

/// What every upload on the page shares.
#[derive(Clone)]
pub struct Uploader {
    queue: UploadQueue,
    shared: Shared,
}

#[derive(Clone)]
struct Shared {
    starts: Batcher<StartRequest, UploadStart>,
    completes: Batcher<Completion, StoredObject>,
    /// The browser's connections to each origin, shared by every PUT.
    connections: Connections,
    checksums: Slots,
    /// Files up to this size go in one PUT: their checksum goes with their start.
    single_put_max: Rc<Cell<u64>>,
    /// Small files started before the page was reloaded, read once from IndexedDB.
    started_before: futures::future::Shared<LocalBoxFuture<'static, StartedFiles>>,
    /// Small files started now, kept for after a reload.
    journal: Journal,
    /// The handles of files not yet uploaded, kept for after a reload.
    kept: Journal,
}

type StartedFiles = Rc<RefCell<HashMap<String, StartedFile>>>;

impl Default for Uploader {
    fn default() -> Self {
        Self {
            queue: UploadQueue::default(),
            shared: Shared {
                starts: Batcher::new(START_GATHER_MS, api::start_uploads),
                completes: Batcher::new(COMPLETE_GATHER_MS, api::complete_uploads),
                connections: Connections::default(),
                checksums: Slots::new(CHECKSUMS_AT_ONCE),
                // Until the policy says: no part is smaller than S3's minimum.
                single_put_max: Rc::new(Cell::new(MIN_PART_SIZE)),
                // Read when the first file needs it (never on the server).
                started_before: async {
                    Rc::new(RefCell::new(saved::started_files(now_ms() / 1_000.0).await))
                }
                .boxed_local()
                .shared(),
                journal: Journal::new(saved::FILES),
                kept: Journal::new(saved::KEPT),
            },
        }
    }
}

impl Uploader {
    /// The server's single-PUT size, from its policy.
    pub fn set_single_put_max(&self, size: u64) {
        self.shared.single_put_max.set(size);
    }

    /// Uploads `picked` in its turn, obeying `controls` and calling `report` with every
    /// change of status.
    pub fn enqueue(
        &self,
        picked: Picked,
        controls: UnboundedReceiver<Control>,
        report: impl Fn(FileStatus) + Clone + 'static,
    ) {
        let size = picked.size;
        // A file with a handle is kept until its upload ends, however it ends: after a
        // reload, the page can open it again, even if it had not started yet.
        let kept = picked.kept().map(|kept| {
            self.shared.kept.keep(&kept);
            (self.shared.kept.clone(), kept.fingerprint)
        });
        let job = upload_file(self.shared.clone(), picked, controls, report);
        self.queue.push(size, async move {
            job.await;
            if let Some((journal, fingerprint)) = kept {
                journal.forget(&fingerprint);
            }
        });
    }
}

/// A file as the person gave it: the file, and the folder it was in when they dropped or
/// picked a folder (`photos/2024`; empty for a file on its own).
#[derive(Debug, Clone)]
pub struct Picked {
    pub file: File,
    pub folder: String,
    /// The file's size and modification time (ms since the epoch), read once: for a
    /// file on disk each read of them is a synchronous trip to the browser's process.
    pub size: u64,
    pub modified_ms: f64,
    /// Its handle, where the browser gave one.
    pub handle: Option<Handle>,
}

impl Picked {
    /// A file the person gave, its size and modification time read.
    pub fn new(
        Given {
            file,
            folder,
            handle,
        }: Given,
    ) -> Self {
        let file = File::from(file);
        let modified_ms = file
            .last_modified_time()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1_000.0)
            .unwrap_or_default();
        Self {
            size: file.size(),
            modified_ms,
            file,
            folder,
            handle,
        }
    }

    /// What the page keeps of a file it was given a handle for.
    fn kept(&self) -> Option<KeptFile> {
        Some(KeptFile {
            fingerprint: file_fingerprint(self),
            path: self.path(),
            folder: self.folder.clone(),
            size: self.size,
            modified_ms: self.modified_ms,
            handle: self.handle.clone()?,
            until: now_ms() / 1_000.0 + saved::KEPT_FOR_SECS,
        })
    }

    /// `folder/name`, or the name alone: how the page shows the file.
    pub fn path(&self) -> String {
        match self.folder.as_str() {
            "" => self.file.name(),
            folder => format!("{folder}/{}", self.file.name()),
        }
    }
}

async fn upload_file(
    shared: Shared,
    picked: Picked,
    controls: UnboundedReceiver<Control>,
    report: impl Fn(FileStatus) + Clone + 'static,
) {
    let file = &picked.file;
    let total = picked.size;
    report(FileStatus::Uploading {
        sent: 0,
        total,
        note: None,
    });
    if let Some(stored) = stored_before(&shared, &picked).await {
        return report(FileStatus::Done(stored));
    }
    let session = match resume(&picked).await {
        Resumed::Session(session) => *session,
        Resumed::Changed { token } => {
            // Its parts in the store are of another file: they must not be completed.
            let _ = api::abort_upload(token).await;
            saved::remove(&file_fingerprint(&picked)).await;
            return report(FileStatus::Failed(CHANGED.into()));
        }
        Resumed::Fresh => match start(&shared, &picked).await {
            Ok(session) => session,
            Err(ApiError::Refused(reason)) => return report(FileStatus::Refused(reason)),
            Err(err) => return report(FileStatus::Failed(err.to_string())),
        },
    };
    if session.multipart {
        saved::save(&record(&session, &session.stored, |_| None)).await;
    } else {
        shared.journal.remember(&StartedFile {
            fingerprint: session.fingerprint.clone(),
            token: session.token.clone(),
            expires_at: session.expires_at,
        });
    }
    let outcome = transfer(&shared, file, &session, controls, report.clone()).await;
    let status = match outcome {
        Outcome::Complete(parts) => {
            report(FileStatus::Completing);
            let token = session.token.clone();
            let completed = if session.multipart {
                // Its own call: a large file's list of parts is long.
                let parts = with_checksums(file, &session.plan, parts).await;
                retrying(|| api::complete_upload(token.clone(), parts.clone())).await
            } else {
                let completion = Completion {
                    token,
                    parts: Vec::new(),
                };
                retrying(|| shared.completes.call(completion.clone())).await
            };
            match completed {
                Ok(stored) => FileStatus::Done(stored),
                Err(err) => FileStatus::Failed(err.to_string()),
            }
        }
        Outcome::Cancelled => match abort(&shared, &session).await {
            Some(stored) => FileStatus::Done(stored),
            None => FileStatus::Cancelled,
        },
        // Nothing a retry could fix: leave nothing behind in the store.
        Outcome::Failed(reason) => match abort(&shared, &session).await {
            Some(stored) => FileStatus::Done(stored),
            None => FileStatus::Failed(reason),
        },
    };
    if session.multipart {
        saved::remove(&session.fingerprint).await;
    } else if !matches!(status, FileStatus::Done(_)) {
        shared.journal.forget(&session.fingerprint);
    }
    report(status);
}

/// Aborts the upload, leaving nothing of it in the store; answers the stored file
/// instead when it turns out to be there whole (a small file's PUT that landed just as
/// it was stopped: it has finished, and the person is shown so, not told it is gone).
async fn abort(shared: &Shared, session: &Session) -> Option<StoredObject> {
    match api::abort_upload(session.token.clone()).await {
        Err(ApiError::Finished) => {
            let completion = Completion {
                token: session.token.clone(),
                parts: Vec::new(),
            };
            shared.completes.call(completion).await.ok()
        }
        _ => None,
    }
}

/// The object of a small file this page started before it was reloaded, when its PUT
/// had landed: completing that upload again finds it, and nothing is sent.
async fn stored_before(shared: &Shared, picked: &Picked) -> Option<StoredObject> {
    if picked.size > shared.single_put_max.get() {
        return None;
    }
    let fingerprint = file_fingerprint(picked);
    let started = shared.started_before.clone().await;
    let before = started.borrow_mut().remove(&fingerprint)?;
    let completion = Completion {
        token: before.token,
        parts: Vec::new(),
    };
    match retrying(|| shared.completes.call(completion.clone())).await {
        Ok(stored) => Some(stored),
        Err(_) => {
            shared.journal.forget(&fingerprint);
            None
        }
    }
}

fn file_fingerprint(picked: &Picked) -> String {
    saved::fingerprint(&picked.path(), picked.size, picked.modified_ms)
}

/// What a file's upload told when the file changed between its start and its resume.
const CHANGED: &str = "this file changed since its upload began (a part the store holds \
    is not the file's), so the unfinished upload was discarded: Retry uploads it as it is now";

/// How a saved upload of a file was picked up.
enum Resumed {
    /// It goes on from the parts the store holds.
    Session(Box<Session>),
    /// There is none, or it can no longer go on: a new upload starts.
    Fresh,
    /// The file is not the one the store holds parts of (same name, size and
    /// modification time, but a stored part differs): the upload with `token` is void.
    Changed { token: String },
}

/// Picks up a saved upload of the same file, if the store still has it. Only multipart
/// uploads are saved, and a small file is never one.
async fn resume(picked: &Picked) -> Resumed {
    if picked.size <= MIN_PART_SIZE {
        return Resumed::Fresh;
    }
    let fingerprint = file_fingerprint(picked);
    let Some(saved) = saved::load(&fingerprint).await else {
        return Resumed::Fresh;
    };
    let fresh = (saved.expires_at as f64) * 1_000.0 > now_ms() + 60_000.0;
    let parts = if fresh && saved.size == picked.size {
        api::list_parts(saved.token.clone()).await.ok()
    } else {
        None
    };
    let Some(parts) = parts else {
        saved::remove(&fingerprint).await;
        return Resumed::Fresh;
    };
    // The store is the authority; a part of the wrong size is sent again.
    let parts: Vec<_> = parts
        .into_iter()
        .filter(|p| saved.plan.part_len(p.part_number) == Some(p.size))
        .collect();
    let stored_crc32c = parts
        .iter()
        .filter_map(|p| Some((p.part_number, p.crc32c.clone()?)))
        .collect::<HashMap<_, _>>();
    // The same file: the first of the parts the store holds, which the upload would be
    // completed with, still holds the file's bytes (read again: one part costs little
    // beside the rest of the file). Its checksum is the store's, or this page's record
    // of it; a file that cannot be shown to be the same is not resumed on top of them.
    if let Some(check) = parts.iter().map(|p| p.part_number).min() {
        let recorded = (saved.checked_part.as_ref())
            .filter(|(n, _)| *n == check)
            .map(|(_, crc32c)| crc32c);
        let same = match (
            stored_crc32c.get(&check).or(recorded),
            saved.plan.range(check),
        ) {
            (Some(stored), Some((start, end))) => {
                match part_crc32c(&slice(&picked.file, start, end)).await {
                    Ok(crc32c) => crc32c == *stored,
                    // A file that cannot be read fails when its parts are sent, saying so.
                    Err(_) => true,
                }
            }
            _ => false,
        };
        if !same {
            return Resumed::Changed { token: saved.token };
        }
    }
    let stored = parts
        .into_iter()
        .map(|p| SentPart {
            part_number: p.part_number,
            etag: p.etag,
        })
        .collect();
    Resumed::Session(Box::new(Session {
        fingerprint,
        name: saved.name,
        key: saved.key,
        token: saved.token,
        expires_at: saved.expires_at,
        plan: saved.plan,
        multipart: true,
        presigned: None,
        stored,
        stored_crc32c,
    }))
}

async fn start(shared: &Shared, picked: &Picked) -> Result<Session, ApiError> {
    let file = &picked.file;
    // A small file's checksum goes with its start, so its PUT comes back signed.
    let crc32c = if picked.size <= shared.single_put_max.get() {
        let _reading = shared.checksums.acquire().await;
        Some(part_crc32c(file.as_ref()).await?)
    } else {
        None
    };
    let request = StartRequest {
        name: file.name(),
        size: picked.size,
        content_type: file.raw_mime_type(),
        folder: picked.folder.clone(),
        crc32c,
    };
    let start = retrying(|| shared.starts.call(request.clone())).await?;
    let (plan, multipart, presigned) = (start.plan, start.is_multipart(), start.put);
    Ok(Session {
        fingerprint: file_fingerprint(picked),
        name: picked.path(),
        key: start.key,
        token: start.token,
        expires_at: start.expires_at,
        plan,
        multipart,
        presigned,
        stored: Vec::new(),
        stored_crc32c: HashMap::new(),
    })
}

/// What is saved of an upload whose store holds `sent`; `crc32c` answers the checksum
/// this page read of a part, if it has.
fn record(
    session: &Session,
    sent: &[SentPart],
    crc32c: impl Fn(u32) -> Option<String>,
) -> SavedUpload {
    let lowest = sent.iter().map(|p| p.part_number).min();
    let checked_part = lowest.and_then(|n| {
        let crc32c = crc32c(n).or_else(|| session.stored_crc32c.get(&n).cloned())?;
        Some((n, crc32c))
    });
    SavedUpload {
        fingerprint: session.fingerprint.clone(),
        name: session.name.clone(),
        size: session.plan.size,
        key: session.key.clone(),
        token: session.token.clone(),
        plan: session.plan,
        sent: sent
            .iter()
            .map(|p| (p.part_number, p.etag.clone()))
            .collect(),
        expires_at: session.expires_at,
        checked_part,
    }
}

/// Makes a server call, trying again a few times (with the retry policy's delays) while
/// the failure is transient: the server or store briefly away, or a rate limit.
async fn retrying<T, F, Fut>(mut call: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Err(err) if err.is_transient() => {
                match retry::call_delay(attempt, js_sys::Math::random(), err.is_throttle()) {
                    Some(delay) => sleep(delay).await,
                    None => return Err(err),
                }
            }
            result => return result,
        }
    }
}

/// Runs the transfer state machine until it completes, is cancelled or fails: the
/// shell performs each step's commands and brings the machine its next event.
async fn transfer(
    shared: &Shared,
    file: &File,
    session: &Session,
    controls: UnboundedReceiver<Control>,
    report: impl Fn(FileStatus) + 'static,
) -> Outcome {
    // Truncation is fine: the seed only spreads retry jitter.
    let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    let mut machine = Transfer::new(
        session.plan,
        PARTS_IN_FLIGHT,
        SIGN_BATCH,
        &session.stored,
        seed,
    );
    let mut shell = Shell::new(&shared.connections, file, session, controls);
    if let Some(signed) = shell.presigned() {
        machine.handle(signed, now_ms());
    }
    let mut saved_parts = session.stored.len();
    let (mut reported, mut reported_at) = (FileStatus::Queued, f64::NEG_INFINITY);
    loop {
        for command in machine.step(now_ms()) {
            if let Some(outcome) = shell.perform(command) {
                return outcome;
            }
        }

        let sent_parts = machine.sent_parts();
        if session.multipart && sent_parts.len() != saved_parts {
            saved_parts = sent_parts.len();
            let saving = record(session, &sent_parts, |n| shell.crc32c(n));
            leptos::task::spawn_local(async move { saved::save(&saving).await });
        }
        let status = status_of(&machine);
        // Byte counts arrive dozens of times a second per part; the page redraws them
        // a few times a second, and any other change at once.
        let now = now_ms();
        let routine = |s: &FileStatus| matches!(s, FileStatus::Uploading { note: None, .. });
        if !(routine(&status) && routine(&reported) && now - reported_at < PROGRESS_EVERY_MS) {
            report(status.clone());
            (reported, reported_at) = (status, now);
        }

        match shell.next().await {
            Next::Event(event) => machine.handle(event, now_ms()),
            Next::Woken => {}
            Next::Closed => return Outcome::Failed("the upload stopped unexpectedly".into()),
        }
    }
}

/// Where a running transfer stands, as its row shows it.
fn status_of(machine: &Transfer) -> FileStatus {
    let (sent, total) = machine.progress();
    match machine.phase() {
        Phase::Paused => FileStatus::Paused { sent, total },
        _ => FileStatus::Uploading {
            sent,
            total,
            note: (machine.retrying() > 0)
                .then(|| machine.last_failure().map(str::to_owned))
                .flatten(),
        },
    }
}

/// Fills in the CRC32C of parts sent before a reload to a store that does not list part
/// checksums, reading those parts again (one at a time); the store needs every part's
/// checksum to complete.
async fn with_checksums(
    file: &File,
    plan: &PartPlan,
    mut parts: Vec<CompletedPart>,
) -> Vec<CompletedPart> {
    for part in parts.iter_mut().filter(|p| p.crc32c.is_none()) {
        let Some((start, end)) = plan.range(part.part_number) else {
            continue;
        };
        if let Ok(crc) = part_crc32c(&slice(file, start, end)).await {
            part.crc32c = Some(crc);
        }
    }
    parts
}
