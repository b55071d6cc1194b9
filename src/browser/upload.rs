//! Runs one file's upload: start it, send the bytes (one PUT, or parts as the transfer
//! state machine decides), and complete it, reporting each change of status.

use futures::channel::mpsc;
use futures::future::{AbortHandle, Abortable, Either, select};
use futures::{FutureExt, StreamExt};
use gloo_file::File;
use gloo_timers::future::TimeoutFuture;

use super::now_ms;
use super::put::put_blob;
use crate::api::{self, CompletedPart, StartRequest, StoredObject, UploadMethod, UploadStart};
use crate::core::limits::{PARTS_IN_FLIGHT, SIGN_BATCH};
use crate::core::plan::PartPlan;
use crate::core::retry::{self, Verdict};
use crate::core::transfer::{Command, Event, Transfer};

/// Where a file's upload stands, as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum FileStatus {
    /// Waiting for its turn.
    Queued,
    /// Bytes are on their way; `retrying` parts are waiting to be sent again.
    Uploading {
        sent: u64,
        total: u64,
        retrying: usize,
    },
    /// Every byte is stored; the server is completing the upload.
    Completing,
    /// Stored.
    Done(StoredObject),
    /// Stopped; the text says why.
    Failed(String),
}

/// Uploads `file`, calling `report` with every change of status.
pub async fn upload_file(file: File, report: impl Fn(FileStatus) + Clone + 'static) {
    let total = file.size();
    report(FileStatus::Uploading {
        sent: 0,
        total,
        retrying: 0,
    });
    let result = async {
        let start = api::start_upload(StartRequest {
            name: file.name(),
            size: total,
            content_type: file.raw_mime_type(),
        })
        .await
        .map_err(|e| e.to_string())?;
        let UploadStart { token, method, .. } = start;
        let parts = match method {
            UploadMethod::Single { url, headers } => {
                send_whole(&file, &url, &headers, report.clone()).await?;
                Vec::new()
            }
            UploadMethod::Multipart { plan, .. } => {
                match send_parts(&file, plan, &token, report.clone()).await {
                    Ok(parts) => parts,
                    Err(reason) => {
                        // Leave nothing behind in the store.
                        let _ = api::abort_upload(token).await;
                        return Err(reason);
                    }
                }
            }
        };
        report(FileStatus::Completing);
        api::complete_upload(token, parts)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    report(match result {
        Ok(stored) => FileStatus::Done(stored),
        Err(reason) => FileStatus::Failed(reason),
    });
}

/// One PUT of the whole file, retried as the retry policy says.
async fn send_whole(
    file: &File,
    url: &str,
    headers: &[(String, String)],
    report: impl Fn(FileStatus) + Clone + 'static,
) -> Result<(), String> {
    let total = file.size();
    let mut failures = 0;
    loop {
        let progress = {
            let report = report.clone();
            move |sent| {
                report(FileStatus::Uploading {
                    sent,
                    total,
                    retrying: 0,
                })
            }
        };
        let failure = match put_blob(url, headers, file.as_ref(), progress).await {
            Ok(_) => return Ok(()),
            Err(failure) => failure,
        };
        failures += 1;
        match retry::decide(failure, failures) {
            Verdict::RetryAfter(delay) => {
                report(FileStatus::Uploading {
                    sent: 0,
                    total,
                    retrying: 1,
                });
                TimeoutFuture::new(u32::try_from(delay).unwrap_or(u32::MAX)).await;
            }
            // A single PUT's URL cannot be re-signed without starting again.
            Verdict::Resign => return Err(retry::describe(failure)),
            Verdict::GiveUp(reason) => return Err(reason),
        }
    }
}

/// Sends every part of a multipart upload; answers the parts to complete it with.
async fn send_parts(
    file: &File,
    plan: PartPlan,
    token: &str,
    report: impl Fn(FileStatus) + 'static,
) -> Result<Vec<CompletedPart>, String> {
    let mut transfer = Transfer::new(plan, PARTS_IN_FLIGHT, SIGN_BATCH, &[]);
    let (events, mut incoming) = mpsc::unbounded::<Event>();
    // Every task this loop starts is aborted when it returns (done, failed or dropped).
    let mut tasks = TaskSet::default();
    let mut wake_at: Option<f64> = None;
    loop {
        for command in transfer.step(now_ms()) {
            match command {
                Command::Sign(part_numbers) => {
                    let events = events.clone();
                    let token = token.to_owned();
                    tasks.spawn(async move {
                        let event = match api::sign_parts(token, part_numbers).await {
                            Ok(signed) => Event::Signed(
                                signed.into_iter().map(|s| (s.part_number, s.url)).collect(),
                            ),
                            Err(err) => Event::SignFailed(err.to_string()),
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
                    // Slicing copies nothing: the browser reads the range when sending.
                    let blob = file.slice(start, end);
                    tasks.spawn(async move {
                        let progress = {
                            let events = events.clone();
                            move |loaded| {
                                let _ = events.unbounded_send(Event::Progress {
                                    part_number,
                                    loaded,
                                });
                            }
                        };
                        let event = match put_blob(&url, &[], blob.as_ref(), progress).await {
                            Ok(Some(etag)) => Event::PartSent { part_number, etag },
                            Ok(None) => Event::PartFailed {
                                part_number,
                                failure: retry::Failure::MissingEtag,
                            },
                            Err(failure) => Event::PartFailed {
                                part_number,
                                failure,
                            },
                        };
                        let _ = events.unbounded_send(event);
                    });
                }
                Command::WakeAt(at) => wake_at = Some(at),
                Command::Complete(parts) => {
                    return Ok(parts
                        .into_iter()
                        .map(|p| CompletedPart {
                            part_number: p.part_number,
                            etag: p.etag,
                        })
                        .collect());
                }
                Command::Fail(reason) => return Err(reason),
            }
        }
        let (sent, total) = transfer.progress();
        report(FileStatus::Uploading {
            sent,
            total,
            retrying: transfer.retrying(),
        });

        let event = match wake_at {
            Some(at) => {
                let delay = (at - now_ms()).max(0.0).min(f64::from(u32::MAX));
                // The delay is clamped to u32's range above.
                let timer = TimeoutFuture::new(delay as u32);
                match select(incoming.next(), timer).await {
                    Either::Left((event, _)) => event,
                    Either::Right(((), _)) => {
                        wake_at = None;
                        continue;
                    }
                }
            }
            None => incoming.next().await,
        };
        match event {
            Some(event) => transfer.handle(event, now_ms()),
            None => return Err("the upload stopped unexpectedly".into()),
        }
    }
}

/// Tasks spawned on the page's executor, aborted together when the set is dropped.
#[derive(Default)]
struct TaskSet {
    handles: Vec<AbortHandle>,
}

impl TaskSet {
    fn spawn(&mut self, task: impl std::future::Future<Output = ()> + 'static) {
        let (handle, registration) = AbortHandle::new_pair();
        self.handles.retain(|h| !h.is_aborted());
        self.handles.push(handle);
        leptos::task::spawn_local(Abortable::new(task, registration).map(|_| ()));
    }
}

impl Drop for TaskSet {
    fn drop(&mut self) {
        for handle in &self.handles {
            handle.abort();
        }
    }
}
