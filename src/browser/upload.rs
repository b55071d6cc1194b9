//! Runs one file's upload: start it (or resume it from IndexedDB and ListParts), let the
//! transfer state machine decide what to sign, send, retry, pause or cancel, perform
//! that, and complete (or abort) the upload, reporting each change of status.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::{AbortHandle, Abortable, Either, select};
use futures::{FutureExt, StreamExt};
use gloo_file::File;
use gloo_timers::future::TimeoutFuture;
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;

use super::put::put_blob;
use super::saved::{self, SavedUpload};
use super::{now_ms, queue::UploadQueue};
use crate::api::{
    self, ApiError, CompletedPart, PartToSign, SignedPart, StartRequest, StoredObject, UploadMethod,
};
use crate::core::checksum::Crc32c;
use crate::core::limits::{PARTS_IN_FLIGHT, SIGN_BATCH};
use crate::core::plan::PartPlan;
use crate::core::retry::{self, Failure};
use crate::core::transfer::{Command, Event, Phase, SentPart, Transfer};

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
pub struct Controller(UnboundedSender<Event>);

impl Controller {
    /// A controller and the receiver its upload listens to.
    pub fn new() -> (Self, UnboundedReceiver<Event>) {
        let (sender, receiver) = mpsc::unbounded();
        (Self(sender), receiver)
    }

    pub fn pause(&self) {
        let _ = self.0.unbounded_send(Event::Pause);
    }

    pub fn resume(&self) {
        let _ = self.0.unbounded_send(Event::Resume);
    }

    pub fn cancel(&self) {
        let _ = self.0.unbounded_send(Event::Cancel);
    }
}

/// How often, at most, a running upload's byte count is shown anew.
const PROGRESS_EVERY_MS: f64 = 100.0;

/// The headers each part's PUT must carry (its signed checksum), by part number; filled
/// by signing tasks, read when a part is sent.
type PartHeaders = Rc<RefCell<HashMap<u32, Vec<(String, String)>>>>;

/// How a transfer ended.
enum Outcome {
    /// Every part is stored; each with its CRC32C when this page signed it.
    Complete(Vec<CompletedPart>),
    Cancelled,
    Failed(String),
}

/// One upload in progress: what the server said when it started (or what was saved).
struct Session {
    fingerprint: String,
    name: String,
    key: String,
    token: String,
    expires_at: u64,
    plan: PartPlan,
    /// Whether this is a multipart upload (saved for resuming) or a single PUT.
    multipart: bool,
    /// Parts the store already holds (a resumed upload).
    stored: Vec<SentPart>,
    /// Their CRC32Cs, where the store listed them.
    stored_crc32c: HashMap<u32, String>,
}

/// A file as the person gave it: the file, and the folder it was in when they dropped or
/// picked a folder (`photos/2024`; empty for a file on its own).
#[derive(Debug, Clone)]
pub struct Picked {
    pub file: File,
    pub folder: String,
}

impl Picked {
    /// `folder/name`, or the name alone: how the page shows the file.
    pub fn path(&self) -> String {
        match self.folder.as_str() {
            "" => self.file.name(),
            folder => format!("{folder}/{}", self.file.name()),
        }
    }
}

/// Uploads `picked` in its turn on `queue`, obeying `controls` and calling `report` with
/// every change of status.
pub fn enqueue(
    queue: &UploadQueue,
    picked: Picked,
    controls: UnboundedReceiver<Event>,
    report: impl Fn(FileStatus) + Clone + 'static,
) {
    queue.push(upload_file(picked, controls, report));
}

async fn upload_file(
    picked: Picked,
    controls: UnboundedReceiver<Event>,
    report: impl Fn(FileStatus) + Clone + 'static,
) {
    let file = &picked.file;
    let total = file.size();
    report(FileStatus::Uploading {
        sent: 0,
        total,
        note: None,
    });
    let session = match resume(&picked).await {
        Some(session) => session,
        None => match start(&picked).await {
            Ok(session) => session,
            Err(ApiError::Refused(reason)) => return report(FileStatus::Refused(reason)),
            Err(err) => return report(FileStatus::Failed(err.to_string())),
        },
    };
    if session.multipart {
        saved::save(&record(&session, &session.stored)).await;
    }
    let outcome = transfer(file, &session, controls, report.clone()).await;
    let status = match outcome {
        Outcome::Complete(parts) => {
            report(FileStatus::Completing);
            let parts = if session.multipart {
                with_checksums(file, &session.plan, parts).await
            } else {
                Vec::new()
            };
            let token = session.token.clone();
            match retrying(|| api::complete_upload(token.clone(), parts.clone())).await {
                Ok(stored) => FileStatus::Done(stored),
                Err(err) => FileStatus::Failed(err.to_string()),
            }
        }
        Outcome::Cancelled => {
            let _ = api::abort_upload(session.token.clone()).await;
            FileStatus::Cancelled
        }
        Outcome::Failed(reason) => {
            // Nothing a retry could fix: leave nothing behind in the store.
            let _ = api::abort_upload(session.token.clone()).await;
            FileStatus::Failed(reason)
        }
    };
    saved::remove(&session.fingerprint).await;
    report(status);
}

fn file_fingerprint(picked: &Picked) -> String {
    let modified = picked
        .file
        .last_modified_time()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1_000.0)
        .unwrap_or_default();
    saved::fingerprint(&picked.path(), picked.file.size(), modified)
}

/// Picks up a saved upload of the same file, if the store still has it.
async fn resume(picked: &Picked) -> Option<Session> {
    let file = &picked.file;
    let fingerprint = file_fingerprint(picked);
    let saved = saved::load(&fingerprint).await?;
    let fresh = (saved.expires_at as f64) * 1_000.0 > now_ms() + 60_000.0;
    let parts = if fresh && saved.size == file.size() {
        api::list_parts(saved.token.clone()).await.ok()
    } else {
        None
    };
    let Some(parts) = parts else {
        saved::remove(&fingerprint).await;
        return None;
    };
    // The store is the authority; a part of the wrong size is sent again.
    let parts: Vec<_> = parts
        .into_iter()
        .filter(|p| saved.plan.part_len(p.part_number) == Some(p.size))
        .collect();
    let stored_crc32c = parts
        .iter()
        .filter_map(|p| Some((p.part_number, p.crc32c.clone()?)))
        .collect();
    let stored = parts
        .into_iter()
        .map(|p| SentPart {
            part_number: p.part_number,
            etag: p.etag,
        })
        .collect();
    Some(Session {
        fingerprint,
        name: saved.name,
        key: saved.key,
        token: saved.token,
        expires_at: saved.expires_at,
        plan: saved.plan,
        multipart: true,
        stored,
        stored_crc32c,
    })
}

async fn start(picked: &Picked) -> Result<Session, ApiError> {
    let file = &picked.file;
    let request = StartRequest {
        name: file.name(),
        size: file.size(),
        content_type: file.raw_mime_type(),
        folder: picked.folder.clone(),
    };
    let start = retrying(|| api::start_upload(request.clone())).await?;
    // A single PUT is a plan of one part. Its URL is signed again with the file's
    // checksum, like every part, rather than used as it came.
    let (plan, multipart) = match start.method {
        UploadMethod::Single { .. } => {
            let plan = PartPlan {
                size: file.size(),
                part_size: file.size(),
                part_count: 1,
            };
            (plan, false)
        }
        UploadMethod::Multipart { plan, .. } => (plan, true),
    };
    Ok(Session {
        fingerprint: file_fingerprint(picked),
        name: picked.path(),
        key: start.key,
        token: start.token,
        expires_at: start.expires_at,
        plan,
        multipart,
        stored: Vec::new(),
        stored_crc32c: HashMap::new(),
    })
}

fn record(session: &Session, sent: &[SentPart]) -> SavedUpload {
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
            Err(err) if err.is_transient() => match retry::delay(attempt, js_sys::Math::random()) {
                Some(delay) => sleep(delay).await,
                None => return Err(err),
            },
            result => return result,
        }
    }
}

/// Runs the transfer state machine until it completes, is cancelled or fails.
async fn transfer(
    file: &File,
    session: &Session,
    controls: UnboundedReceiver<Event>,
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
    let headers = PartHeaders::default();
    let (events, incoming) = mpsc::unbounded::<Event>();
    let mut incoming = futures::stream::select(incoming, controls);
    // Every task started here is aborted when this returns or is dropped.
    let mut tasks = Tasks::default();
    let mut wake_at: Option<f64> = None;
    let mut saved_parts = session.stored.len();
    let (mut reported, mut reported_at) = (FileStatus::Queued, f64::NEG_INFINITY);
    loop {
        for command in machine.step(now_ms()) {
            match command {
                Command::Sign(part_numbers) => {
                    let events = events.clone();
                    let token = session.token.clone();
                    let headers = headers.clone();
                    let parts: Vec<_> = part_numbers
                        .iter()
                        .map(|&n| {
                            let (start, end) = session.plan.range(n).unwrap_or_default();
                            (n, file.slice(start, end))
                        })
                        .collect();
                    tasks.spawn(None, async move {
                        let event = match sign(token, parts).await {
                            Ok(signed) => {
                                let mut headers = headers.borrow_mut();
                                let urls = signed
                                    .into_iter()
                                    .map(|s| {
                                        headers.insert(s.part_number, s.headers);
                                        (s.part_number, s.url)
                                    })
                                    .collect();
                                Event::Signed(urls)
                            }
                            Err(err) => Event::SignFailed {
                                transient: err.is_transient(),
                                reason: err.to_string(),
                            },
                        };
                        let _ = events.unbounded_send(event);
                    });
                }
                Command::Send {
                    part_number,
                    url,
                    start,
                    end,
                } => {
                    let events = events.clone();
                    let headers = headers
                        .borrow()
                        .get(&part_number)
                        .cloned()
                        .unwrap_or_default();
                    // Slicing copies nothing: the browser reads the range as it sends.
                    let blob = file.slice(start, end);
                    tasks.spawn(Some(part_number), async move {
                        let progress = {
                            let events = events.clone();
                            move |loaded| {
                                let _ = events.unbounded_send(Event::Progress {
                                    part_number,
                                    loaded,
                                });
                            }
                        };
                        let event = match put_blob(&url, &headers, blob.as_ref(), progress).await {
                            Ok(Some(etag)) => Event::PartSent { part_number, etag },
                            Ok(None) => Event::PartFailed {
                                part_number,
                                failure: Failure::MissingEtag,
                            },
                            Err(failure) => Event::PartFailed {
                                part_number,
                                failure,
                            },
                        };
                        let _ = events.unbounded_send(event);
                    });
                }
                Command::Cancel(part_number) => tasks.cancel(part_number),
                Command::WakeAt(at) => wake_at = Some(at),
                Command::Complete(parts) => {
                    let signed = headers.borrow();
                    let parts = parts
                        .into_iter()
                        .map(|p| CompletedPart {
                            crc32c: signed
                                .get(&p.part_number)
                                .and_then(|h| signed_crc32c(h))
                                .or_else(|| session.stored_crc32c.get(&p.part_number).cloned()),
                            part_number: p.part_number,
                            etag: p.etag,
                        })
                        .collect();
                    return Outcome::Complete(parts);
                }
                Command::Abort => return Outcome::Cancelled,
                Command::Fail(reason) => return Outcome::Failed(reason),
            }
        }

        let sent_parts = machine.sent_parts();
        if session.multipart && sent_parts.len() != saved_parts {
            saved_parts = sent_parts.len();
            let saving = record(session, &sent_parts);
            leptos::task::spawn_local(async move { saved::save(&saving).await });
        }
        let (sent, total) = machine.progress();
        let status = match machine.phase() {
            Phase::Paused => FileStatus::Paused { sent, total },
            _ => FileStatus::Uploading {
                sent,
                total,
                note: (machine.retrying() > 0)
                    .then(|| machine.last_failure().map(str::to_owned))
                    .flatten(),
            },
        };
        // Byte counts arrive dozens of times a second per part; the page redraws them
        // a few times a second, and any other change at once.
        let now = now_ms();
        let routine = |s: &FileStatus| matches!(s, FileStatus::Uploading { note: None, .. });
        if !(routine(&status) && routine(&reported) && now - reported_at < PROGRESS_EVERY_MS) {
            report(status.clone());
            (reported, reported_at) = (status, now);
        }

        let next = match wake_at.take() {
            Some(at) => match select(incoming.next(), sleep(at - now_ms()).boxed_local()).await {
                Either::Left((event, _)) => {
                    wake_at = Some(at);
                    event
                }
                Either::Right(((), _)) => continue,
            },
            None => incoming.next().await,
        };
        match next {
            Some(event) => machine.handle(event, now_ms()),
            None => return Outcome::Failed("the upload stopped unexpectedly".into()),
        }
    }
}

/// The CRC32C signed into a part's URL, from the headers its PUT carries.
fn signed_crc32c(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-checksum-crc32c"))
        .map(|(_, value)| value.clone())
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
        if let Ok(crc) = part_crc32c(file.slice(start, end).as_ref()).await {
            part.crc32c = Some(crc);
        }
    }
    parts
}

/// Computes each part's CRC32C (one part read at a time), then asks the server to sign
/// them all in one call, checksums bound into the URLs.
async fn sign(token: String, parts: Vec<(u32, File)>) -> Result<Vec<SignedPart>, ApiError> {
    let mut to_sign = Vec::with_capacity(parts.len());
    for (part_number, blob) in parts {
        to_sign.push(PartToSign {
            part_number,
            crc32c: Some(part_crc32c(blob.as_ref()).await?),
        });
    }
    api::sign_parts(token, to_sign).await
}

/// How much of a part is copied into WASM memory at a time for its checksum.
const CHECKSUM_CHUNK: u32 = 256 * 1024;

/// A part's CRC32C. The browser reads the part into its own memory once; only a small
/// window of it at a time is copied into WASM's, so the page's memory does not grow
/// with the part size.
async fn part_crc32c(blob: &Blob) -> Result<String, ApiError> {
    let unreadable =
        |e: JsValue| ApiError::Transport(format!("the browser could not read the file: {e:?}"));
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(unreadable)?;
    let bytes = Uint8Array::new(&buffer);
    let mut window = vec![0; CHECKSUM_CHUNK as usize];
    let mut crc = Crc32c::new();
    let mut at = 0;
    while at < bytes.length() {
        let end = (at + CHECKSUM_CHUNK).min(bytes.length());
        let piece = &mut window[..(end - at) as usize];
        bytes.subarray(at, end).copy_to(piece);
        crc.update(piece);
        at = end;
    }
    Ok(crc.finish())
}

async fn sleep(ms: f64) {
    // Clamped to u32's range; delays are at most minutes.
    TimeoutFuture::new(ms.clamp(0.0, f64::from(u32::MAX)) as u32).await;
}

/// Tasks spawned on the page's executor; a part's PUT can be stopped on its own, and
/// all are stopped when the set is dropped.
#[derive(Default)]
struct Tasks {
    parts: HashMap<u32, AbortHandle>,
    others: Vec<AbortHandle>,
}

impl Tasks {
    fn spawn(&mut self, part_number: Option<u32>, task: impl Future<Output = ()> + 'static) {
        let (handle, registration) = AbortHandle::new_pair();
        match part_number {
            Some(n) => {
                if let Some(old) = self.parts.insert(n, handle) {
                    old.abort();
                }
            }
            None => self.others.push(handle),
        }
        leptos::task::spawn_local(Abortable::new(task, registration).map(|_| ()));
    }

    /// Stops a part's PUT (dropping it aborts the XHR).
    fn cancel(&mut self, part_number: u32) {
        if let Some(handle) = self.parts.remove(&part_number) {
            handle.abort();
        }
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for handle in self.parts.values().chain(&self.others) {
            handle.abort();
        }
    }
}
