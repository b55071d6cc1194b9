//! One file's upload from start to end: start it (or resume it, [`super::resume`]), run
//! the transfer state machine with its [`super::shell`] performing what it decides, and
//! complete (or abort) the upload, reporting each change of status.

use std::collections::HashMap;

use futures::channel::mpsc::UnboundedReceiver;
use gloo_file::File;

use super::calls::retrying;
use super::picked::{Picked, file_fingerprint};
use super::resume::{CHANGED, Resumed, resume, stored_before, with_checksums};
use super::session::{Session, record};
use super::shared::Shared;
use super::shell::{Next, Outcome, Shell};
use super::status::FileStatus;
use crate::api::{self, ApiError, CompletedPart, Completion, StartRequest, StoredObject};
use crate::browser::file_bytes::part_crc32c;
use crate::browser::runtime::now_ms;
use crate::browser::saved::{self, StartedFile};
use crate::core::limits::{PARTS_IN_FLIGHT, SIGN_BATCH};
use crate::core::transfer::{Control, Phase, Transfer};

/// How often, at most, a running upload's byte count is shown anew.
const PROGRESS_EVERY_MS: f64 = 100.0;

/// Uploads `picked` to the end, one way or another, telling `report` each change.
pub async fn upload_file(
    shared: Shared,
    picked: Picked,
    mut controls: UnboundedReceiver<Control>,
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
    let mut session = match resume(&shared, &picked).await {
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
    let (mut outcome, mut sent_twice) =
        transfer(&shared, file, &session, &mut controls, report.clone()).await;
    // A store that completes with an unfinished try of a part is given the parts sent
    // more than once again, once.
    let mut may_send_again = true;
    let status = loop {
        match outcome {
            Outcome::Complete(parts) => {
                report(FileStatus::Completing);
                let parts = match session.multipart {
                    // Its own call: a large file's list of parts is long.
                    true => with_checksums(file, &session.plan, parts).await,
                    false => Vec::new(),
                };
                match complete(&shared, &session, &parts).await {
                    Ok(stored) => break FileStatus::Done(stored),
                    Err(ApiError::PartToSendAgain) if session.multipart && may_send_again => {
                        may_send_again = false;
                        session.send_again(&parts, &sent_twice);
                        (outcome, sent_twice) =
                            transfer(&shared, file, &session, &mut controls, report.clone()).await;
                    }
                    Err(err) => break FileStatus::Failed(err.to_string()),
                }
            }
            Outcome::Cancelled => {
                break match abort(&shared, &session).await {
                    Some(stored) => FileStatus::Done(stored),
                    None => FileStatus::Cancelled,
                };
            }
            // Nothing a retry could fix: leave nothing behind in the store.
            Outcome::Failed(reason) => {
                break match abort(&shared, &session).await {
                    Some(stored) => FileStatus::Done(stored),
                    None => FileStatus::Failed(reason),
                };
            }
        }
    };
    if session.multipart {
        saved::remove(&session.fingerprint).await;
    } else if !matches!(status, FileStatus::Done(_)) {
        shared.journal.forget(&session.fingerprint);
    }
    report(status);
}

/// Completes the upload with `parts` (none for a single PUT, whose completion travels
/// in a batch with other files').
async fn complete(
    shared: &Shared,
    session: &Session,
    parts: &[CompletedPart],
) -> Result<StoredObject, ApiError> {
    let token = session.token.clone();
    match session.multipart {
        true => retrying(|| api::complete_upload(token.clone(), parts.to_vec())).await,
        false => {
            let completion = Completion {
                token,
                parts: Vec::new(),
            };
            retrying(|| shared.completes.call(completion.clone())).await
        }
    }
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

/// Starts a new upload of `picked`: the server checks it, names its key and plans it.
async fn start(shared: &Shared, picked: &Picked) -> Result<Session, ApiError> {
    let file = &picked.file;
    // A small file's checksum goes with its start, so its PUT comes back signed.
    let crc32c = if shared.goes_in_one_put(picked.size) {
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
        drop: picked.drop.clone(),
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

/// Runs the transfer state machine until it completes, is cancelled or fails: the
/// shell performs each step's commands and brings the machine its next event. Answers
/// how it ended, and the parts it sent more than once.
async fn transfer(
    shared: &Shared,
    file: &File,
    session: &Session,
    controls: &mut UnboundedReceiver<Control>,
    report: impl Fn(FileStatus) + 'static,
) -> (Outcome, Vec<u32>) {
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
                return (outcome, machine.sent_more_than_once());
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
            Next::Closed => {
                let outcome = Outcome::Failed("the upload stopped unexpectedly".into());
                return (outcome, Vec::new());
            }
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
