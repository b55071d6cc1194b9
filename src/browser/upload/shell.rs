//! The shell around the transfer state machine ([`crate::core::transfer`]): the machine
//! decides what to sign, send, cancel and when to wake; the [`Shell`] performs each
//! command with the browser's means (batched server calls, PUTs over the page's shared
//! connections, timers) and hands back the events they end in, with the person's
//! pause, resume and cancel.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::{AbortHandle, Abortable, Either, select};
use futures::stream::LocalBoxStream;
use futures::{FutureExt, StreamExt};
use gloo_file::File;
use web_sys::Blob;

use super::session::Session;
use crate::api::{self, ApiError, CompletedPart, PartToSign, SignedPart};
use crate::browser::file_bytes::{part_crc32c, slice};
use crate::browser::put::put;
use crate::browser::runtime::{now_ms, sleep};
use crate::browser::slots::{Connections, Slots};
use crate::core::retry::{self, Failure};
use crate::core::transfer::{Command, Control, Event, SentPart};

/// What signing left for each part, by part number: filled by signing tasks, read when
/// a part is sent.
type Prepared = Rc<RefCell<PreparedParts>>;

#[derive(Default)]
struct PreparedParts {
    /// Each part's URL, the headers its PUT must carry (its signed checksum) and when it
    /// arrived (seconds since the epoch, for its expiry).
    signatures: HashMap<u32, (SignedPart, f64)>,
    /// Each part's CRC32C, so a part signed again is not read again. The bytes read for
    /// it are not kept for the PUT, which sends a slice of the file (see [`put`]).
    crc32c: HashMap<u32, String>,
}

/// How a transfer ended.
pub enum Outcome {
    /// Every part is stored; each with its CRC32C when this page signed it.
    Complete(Vec<CompletedPart>),
    Cancelled,
    Failed(String),
}

/// Performs one file's transfer commands, and gathers what the machine is told next.
pub struct Shell<'a> {
    connections: &'a Connections,
    file: &'a File,
    session: &'a Session,
    prepared: Prepared,
    /// Where tasks send the events they end in.
    events: UnboundedSender<Event>,
    /// Those events, and the person's controls.
    incoming: LocalBoxStream<'a, Event>,
    /// Every task started here is aborted when the shell is dropped.
    tasks: Tasks,
    /// When the machine asked to be woken (a retry's delay), in ms since the epoch.
    wake_at: Option<f64>,
}

/// What the machine is told next.
pub enum Next {
    Event(Event),
    /// The time it asked to be woken at has come.
    Woken,
    /// Nothing can arrive any more.
    Closed,
}

impl<'a> Shell<'a> {
    pub fn new(
        connections: &'a Connections,
        file: &'a File,
        session: &'a Session,
        controls: &'a mut UnboundedReceiver<Control>,
    ) -> Self {
        let (events, from_tasks) = mpsc::unbounded::<Event>();
        let prepared = Prepared::default();
        if let Some(signed) = &session.presigned {
            let received_at = now_ms() / 1_000.0;
            (prepared.borrow_mut().signatures).insert(1, (signed.clone(), received_at));
        }
        Self {
            connections,
            file,
            session,
            prepared,
            events,
            incoming: futures::stream::select(from_tasks, controls.map(Event::from)).boxed_local(),
            tasks: Tasks::default(),
            wake_at: None,
        }
    }

    /// What the machine learns before its first step: the single PUT's URL, when the
    /// upload's start signed it.
    pub fn presigned(&self) -> Option<Event> {
        let signed = self.session.presigned.as_ref()?;
        Some(Event::Signed(vec![(1, signed.url.clone())]))
    }

    /// Performs `command`; one that ends the transfer answers how it ended.
    pub fn perform(&mut self, command: Command) -> Option<Outcome> {
        match command {
            Command::Sign(part_numbers) => self.sign(&part_numbers),
            Command::Send {
                part_number,
                url,
                start,
                end,
            } => self.send(part_number, url, start, end),
            Command::Cancel(part_number) => self.tasks.cancel(part_number),
            Command::WakeAt(at) => self.wake_at = Some(at),
            Command::Complete(parts) => return Some(Outcome::Complete(self.completed(parts))),
            Command::Abort => return Some(Outcome::Cancelled),
            Command::Fail(reason) => return Some(Outcome::Failed(reason)),
        }
        None
    }

    /// Waits for the next event, or for the time the machine asked to be woken at.
    pub async fn next(&mut self) -> Next {
        let event = match self.wake_at.take() {
            Some(at) => {
                match select(self.incoming.next(), sleep(at - now_ms()).boxed_local()).await {
                    Either::Left((event, _)) => {
                        self.wake_at = Some(at);
                        event
                    }
                    Either::Right(((), _)) => return Next::Woken,
                }
            }
            None => self.incoming.next().await,
        };
        event.map_or(Next::Closed, Next::Event)
    }

    fn sign(&mut self, part_numbers: &[u32]) {
        let parts = part_numbers
            .iter()
            .map(|&n| {
                let (start, end) = self.session.plan.range(n).unwrap_or_default();
                (n, slice(self.file, start, end))
            })
            .collect();
        let signing = sign_parts(self.session.token.clone(), parts, self.prepared.clone());
        self.tasks
            .spawn(None, report_to(self.events.clone(), signing));
    }

    fn send(&mut self, part_number: u32, url: String, start: u64, end: u64) {
        let prepared = self.prepared.borrow();
        let (headers, received_at, expires_at) = prepared
            .signatures
            .get(&part_number)
            .map(|(s, at)| (s.headers.clone(), *at, s.expires_at))
            .unwrap_or_default();
        drop(prepared);
        // A slice copies nothing: the browser reads the range as it sends.
        let body = slice(self.file, start, end);
        let connections = self.connections.to(&url);
        let part = PartPut {
            part_number,
            url,
            headers,
            received_at,
            expires_at,
            body,
        };
        let sending = send_part(connections, part, self.events.clone());
        self.tasks
            .spawn(Some(part_number), report_to(self.events.clone(), sending));
    }

    /// The CRC32C of part `part_number`, once this page has read it.
    pub fn crc32c(&self, part_number: u32) -> Option<String> {
        self.prepared.borrow().crc32c.get(&part_number).cloned()
    }

    /// The parts to complete with, each with the CRC32C it was signed with (or the one
    /// the store listed for a part sent before a reload).
    fn completed(&self, parts: Vec<SentPart>) -> Vec<CompletedPart> {
        let prepared = self.prepared.borrow();
        parts
            .into_iter()
            .map(|p| CompletedPart {
                crc32c: (prepared.signatures.get(&p.part_number))
                    .and_then(|(s, _)| signed_crc32c(&s.headers))
                    .or_else(|| self.session.stored_crc32c.get(&p.part_number).cloned()),
                part_number: p.part_number,
                etag: p.etag,
            })
            .collect()
    }
}

/// Runs `task` and hands the event it ends with to the transfer.
async fn report_to(events: UnboundedSender<Event>, task: impl Future<Output = Event>) {
    let event = task.await;
    let _ = events.unbounded_send(event);
}

/// Signs `parts` (with their checksums) and keeps each signature's headers and expiry
/// for the part's PUT; answers what the transfer is told.
async fn sign_parts(token: String, parts: Vec<(u32, Blob)>, prepared: Prepared) -> Event {
    match sign(token, parts, &prepared).await {
        Ok(signed) => {
            let received_at = now_ms() / 1_000.0;
            let signatures = &mut prepared.borrow_mut().signatures;
            let urls = signed
                .into_iter()
                .map(|s| {
                    let url = (s.part_number, s.url.clone());
                    signatures.insert(s.part_number, (s, received_at));
                    url
                })
                .collect();
            Event::Signed(urls)
        }
        Err(err) => Event::SignFailed {
            transient: err.is_transient(),
            throttled: err.is_throttle(),
            reason: err.to_string(),
        },
    }
}

/// One part's PUT, as signed.
struct PartPut {
    part_number: u32,
    url: String,
    headers: Vec<(String, String)>,
    /// When the URL arrived (seconds since the epoch, by the browser's clock).
    received_at: f64,
    /// When the URL stops working (seconds since the epoch, by the server's; 0 when
    /// unknown).
    expires_at: u64,
    body: Blob,
}

/// Sends a part when one of `connections` (its store's) is free, telling the transfer
/// when it starts and how far it got, and the window how the store took it; answers the
/// outcome.
async fn send_part(connections: Slots, part: PartPut, events: UnboundedSender<Event>) -> Event {
    let PartPut {
        part_number,
        url,
        headers,
        received_at,
        expires_at,
        body,
    } = part;
    let mut connection = connections.acquire().await;
    let _ = events.unbounded_send(Event::Connected { part_number });
    let progress = move |loaded| {
        let _ = events.unbounded_send(Event::Progress {
            part_number,
            loaded,
        });
    };
    // A URL that waited too long for its turn is signed again.
    let sent = if retry::is_expiring(now_ms() / 1_000.0, received_at, expires_at) {
        Err(Failure::Expired)
    } else {
        put(&url, &headers, &body, progress).await
    };
    match &sent {
        Ok(_) => connection.succeeded(),
        Err(failure) if retry::is_throttle(*failure) => connection.throttled(),
        Err(_) => {}
    }
    drop(connection);
    match sent {
        Ok(Some(etag)) => Event::PartSent { part_number, etag },
        // The URL only creates its key, which is this upload's alone: the object is
        // there because an earlier try stored it (its answer lost). Completing checks it.
        Err(Failure::Status(412)) if creates_only(&headers) => Event::PartSent {
            part_number,
            etag: String::new(),
        },
        Ok(None) => Event::PartFailed {
            part_number,
            failure: Failure::MissingEtag,
        },
        Err(failure) => Event::PartFailed {
            part_number,
            failure,
        },
    }
}

/// Whether a PUT was signed to create its key only (`If-None-Match: *`).
fn creates_only(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .any(|(name, value)| name.eq_ignore_ascii_case("if-none-match") && value == "*")
}

/// The CRC32C signed into a part's URL, from the headers its PUT carries.
fn signed_crc32c(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-checksum-crc32c"))
        .map(|(_, value)| value.clone())
}

/// Reads each part for its CRC32C (one part at a time; a part read before is not read
/// again), then asks the server to sign them all in one call, checksums bound into the
/// URLs.
async fn sign(
    token: String,
    parts: Vec<(u32, Blob)>,
    prepared: &Prepared,
) -> Result<Vec<SignedPart>, ApiError> {
    let mut to_sign = Vec::with_capacity(parts.len());
    for (part_number, blob) in parts {
        let known = prepared.borrow().crc32c.get(&part_number).cloned();
        let crc32c = match known {
            Some(crc32c) => crc32c,
            None => {
                let crc32c = part_crc32c(&blob).await?;
                let known = &mut prepared.borrow_mut().crc32c;
                known.insert(part_number, crc32c.clone());
                crc32c
            }
        };
        to_sign.push(PartToSign {
            part_number,
            crc32c: Some(crc32c),
        });
    }
    api::sign_parts(token, to_sign).await
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
