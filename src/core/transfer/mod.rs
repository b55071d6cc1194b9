//! The transfer state machine: which parts to sign, which to send, when to retry, slow
//! down, pause, resume or cancel, and when the upload is ready to complete.
//!
//! It takes events (a batch of URLs signed, a part's progress, a part sent or failed, a
//! person pausing) with the current time, and answers with commands for the browser
//! shell to perform. It performs nothing itself, so every path through it is tested
//! natively. A single-PUT upload is a plan of one part, so both kinds share it.

use super::concurrency::Window;
use super::plan::PartPlan;
use super::retry::{self, Failure, Verdict};

/// A part that makes no upload progress for this long is cancelled and retried.
pub const STALL_MS: f64 = 30_000.0;

/// A part the store holds: its number and the `ETag` the store gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPart {
    pub part_number: u32,
    pub etag: String,
}

/// What the shell is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ask the server to presign these parts (one call for the batch).
    Sign(Vec<u32>),
    /// PUT bytes `[start, end)` of the file to `url` as part `part_number`.
    Send {
        part_number: u32,
        url: String,
        start: u64,
        end: u64,
    },
    /// Stop the PUT of this part now (it stalled, or the transfer paused or stopped).
    Cancel(u32),
    /// Step the machine again at this time (milliseconds): a retry or a stall check is due.
    WakeAt(f64),
    /// Every part is stored: complete the upload with these parts, in order.
    Complete(Vec<SentPart>),
    /// The person cancelled: abort the upload in the store.
    Abort,
    /// The transfer cannot go on; the text says why.
    Fail(String),
}

/// What happened, reported by the shell (or asked for by the person).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The server presigned these parts.
    Signed(Vec<(u32, String)>),
    /// The server did not sign; `transient` when trying again later may work,
    /// `throttled` when it asked the page to slow down (429).
    SignFailed {
        reason: String,
        transient: bool,
        throttled: bool,
    },
    /// A part's PUT has its connection and begins (it may wait for one after `Send`:
    /// the page's connections are shared by every file).
    Connected { part_number: u32 },
    /// `loaded` bytes of a part have been sent so far.
    Progress { part_number: u32, loaded: u64 },
    /// The store accepted a part.
    PartSent { part_number: u32, etag: String },
    /// A part's PUT failed.
    PartFailed { part_number: u32, failure: Failure },
    /// Stop sending for now, keeping every part already stored.
    Pause,
    /// Go on after a pause.
    Resume,
    /// Give the upload up and remove it from the store.
    Cancel,
}

/// What a person can ask of a running upload: the only events from outside the
/// transfer's own work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Cancel,
}

impl From<Control> for Event {
    fn from(control: Control) -> Self {
        match control {
            Control::Pause => Self::Pause,
            Control::Resume => Self::Resume,
            Control::Cancel => Self::Cancel,
        }
    }
}

/// Where the transfer stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Sending parts (or waiting to retry some).
    Running,
    /// Paused by the person or because the browser went offline.
    Paused,
    /// Every part is stored; `Complete` was issued.
    Complete,
    /// Cancelled; `Abort` was issued.
    Cancelled,
    /// Failed; `Fail` was issued with this reason.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Needs a presigned URL (first time, or after the old one was refused).
    Unsigned { failures: u32, not_before: f64 },
    /// In a sign request now.
    Signing { failures: u32 },
    /// Has a URL and may be sent from `not_before` on.
    Ready {
        url: String,
        failures: u32,
        not_before: f64,
    },
    /// Its PUT is in flight; `last_progress` is `None` while it waits for a connection
    /// (waiting is not stalling).
    Sending {
        url: String,
        failures: u32,
        loaded: u64,
        last_progress: Option<f64>,
    },
    /// The store holds it.
    Sent { etag: String },
}

#[derive(Debug, Clone, PartialEq)]
enum Signing {
    Idle,
    InFlight,
    RetryAt(f64),
}

/// One upload's parts, from first signature to completion.
#[derive(Debug, Clone)]
pub struct Transfer {
    plan: PartPlan,
    parts: Vec<Part>,
    /// The parts allowed in flight now: fewer while the store asks to slow down.
    window: Window,
    sign_batch: usize,
    signing: Signing,
    sign_failures: u32,
    phase: Phase,
    /// Whether the phase's closing command (`Complete`, `Abort`, `Fail`) was issued.
    announced: bool,
    /// Parts whose PUT the shell must stop.
    to_cancel: Vec<u32>,
    /// State of the jitter generator (xorshift), seeded by the shell.
    rng: u64,
    /// The last failure, for the page to say why progress went back or paused.
    last_failure: Option<String>,
    /// How many times each part's PUT was started.
    sends: Vec<u32>,
}

impl Transfer {
    /// A transfer of `plan` with at most `max_in_flight` PUTs at once, signing up to
    /// `sign_batch` parts per call. `already_sent` are parts the store holds (a resume);
    /// `seed` drives the retry jitter.
    pub fn new(
        plan: PartPlan,
        max_in_flight: usize,
        sign_batch: usize,
        already_sent: &[SentPart],
        seed: u64,
    ) -> Self {
        let mut parts: Vec<Part> = (0..plan.part_count)
            .map(|_| Part::Unsigned {
                failures: 0,
                not_before: 0.0,
            })
            .collect();
        for sent in already_sent {
            if let Some(part) = index(sent.part_number).and_then(|i| parts.get_mut(i)) {
                *part = Part::Sent {
                    etag: sent.etag.clone(),
                };
            }
        }
        Self {
            plan,
            parts,
            window: Window::new(max_in_flight),
            sign_batch: sign_batch.max(1),
            signing: Signing::Idle,
            sign_failures: 0,
            phase: Phase::Running,
            announced: false,
            to_cancel: Vec::new(),
            rng: seed | 1,
            last_failure: None,
            sends: vec![0; plan.part_count as usize],
        }
    }

    /// Where the transfer stands.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The most recent failure that was retried, if any, in words.
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    /// The parts whose PUT was started more than once (after a failure, a stall or a
    /// pause): a store may keep an unfinished try of such a part beside the one that
    /// landed, and complete with it (Garage does), so these are the parts to send again.
    pub fn sent_more_than_once(&self) -> Vec<u32> {
        (self.sends.iter().enumerate())
            .filter(|(_, sends)| **sends > 1)
            .map(|(i, _)| part_number(i))
            .collect()
    }

    /// How many parts are allowed in flight now.
    pub fn limit(&self) -> usize {
        self.window.limit()
    }

    /// Applies an event that happened at `now` (milliseconds).
    pub fn handle(&mut self, event: Event, now: f64) {
        match event {
            Event::Signed(urls) => self.signed(urls, now),
            Event::SignFailed {
                reason,
                transient,
                throttled,
            } => self.sign_failed(reason, transient, throttled, now),
            Event::Connected { part_number } => {
                if let Some(Part::Sending { last_progress, .. }) = self.part_mut(part_number) {
                    *last_progress = Some(now);
                }
            }
            Event::Progress {
                part_number,
                loaded: now_loaded,
            } => {
                if let Some(Part::Sending {
                    loaded,
                    last_progress,
                    ..
                }) = self.part_mut(part_number)
                {
                    *loaded = now_loaded;
                    *last_progress = Some(now);
                }
            }
            Event::PartSent { part_number, etag } => self.part_sent(part_number, etag),
            Event::PartFailed {
                part_number,
                failure,
            } => self.part_failed(part_number, failure, now),
            Event::Pause => {
                if self.phase == Phase::Running {
                    self.phase = Phase::Paused;
                    self.stop_sending();
                }
            }
            Event::Resume => {
                if self.phase == Phase::Paused {
                    self.phase = Phase::Running;
                }
            }
            Event::Cancel => {
                if matches!(self.phase, Phase::Running | Phase::Paused) {
                    self.phase = Phase::Cancelled;
                    self.stop_sending();
                }
            }
        }
    }

    fn signed(&mut self, urls: Vec<(u32, String)>, now: f64) {
        self.signing = Signing::Idle;
        self.sign_failures = 0;
        for (part_number, url) in urls {
            if let Some(part) = self.part_mut(part_number)
                && let Part::Signing { failures } | Part::Unsigned { failures, .. } = *part
            {
                *part = Part::Ready {
                    url,
                    failures,
                    not_before: now,
                };
            }
        }
        // Parts the answer left out wait for the next batch.
        self.unsign_pending(now);
    }

    fn sign_failed(&mut self, reason: String, transient: bool, throttled: bool, now: f64) {
        self.unsign_pending(now);
        self.sign_failures += 1;
        let jitter = self.jitter();
        match retry::call_delay(self.sign_failures, jitter, throttled) {
            Some(delay) if transient => {
                self.signing = Signing::RetryAt(now + delay);
                self.last_failure = Some(format!("could not sign parts: {reason}"));
            }
            _ => {
                self.signing = Signing::Idle;
                self.fail(format!("could not sign parts: {reason}"));
            }
        }
    }

    fn unsign_pending(&mut self, now: f64) {
        for part in &mut self.parts {
            if let Part::Signing { failures } = *part {
                *part = Part::Unsigned {
                    failures,
                    not_before: now,
                };
            }
        }
    }

    fn part_sent(&mut self, part_number: u32, etag: String) {
        let Some(part) = self.part_mut(part_number) else {
            return;
        };
        // A part stopped by a pause may still have reached the store: keep it.
        if matches!(part, Part::Sending { .. } | Part::Ready { .. }) {
            *part = Part::Sent { etag };
            self.window.succeeded();
        }
    }

    fn part_failed(&mut self, part_number: u32, failure: Failure, now: f64) {
        let jitter = self.jitter();
        let Some(part) = self.part_mut(part_number) else {
            return;
        };
        let Part::Sending { url, failures, .. } = part else {
            return;
        };
        let failures = *failures + 1;
        let url = std::mem::take(url);
        match retry::decide(failure, failures, jitter) {
            Verdict::RetryAfter(delay) => {
                *part = Part::Ready {
                    url,
                    failures,
                    not_before: now + delay,
                };
            }
            Verdict::Resign => {
                *part = Part::Unsigned {
                    failures,
                    not_before: now,
                }
            }
            Verdict::GiveUp(reason) => {
                // Its PUT is over; the part only waits for the transfer to end.
                *part = Part::Ready {
                    url,
                    failures,
                    not_before: f64::INFINITY,
                };
                self.fail(format!("part {part_number}: {reason}"));
                return;
            }
        }
        if retry::is_throttle(failure) {
            self.window.throttled();
        }
        self.last_failure = Some(format!(
            "part {part_number}: {}; retrying",
            retry::describe(failure)
        ));
    }

    /// Puts every part in flight back to wait (its URL kept) and asks the shell to stop it.
    fn stop_sending(&mut self) {
        for (i, part) in self.parts.iter_mut().enumerate() {
            if let Part::Sending { url, failures, .. } = part {
                *part = Part::Ready {
                    url: std::mem::take(url),
                    failures: *failures,
                    not_before: 0.0,
                };
                self.to_cancel.push(part_number(i));
            }
        }
    }

    /// The commands to perform now; call after every event and at each `WakeAt`.
    pub fn step(&mut self, now: f64) -> Vec<Command> {
        let mut commands: Vec<Command> = self.to_cancel.drain(..).map(Command::Cancel).collect();
        match self.phase.clone() {
            Phase::Paused => {}
            Phase::Running => {
                self.cancel_stalled(now, &mut commands);
                if self.phase == Phase::Running {
                    self.run(now, &mut commands);
                }
            }
            _ => {}
        }
        if !self.announced {
            let closing = match &self.phase {
                Phase::Complete => Some(Command::Complete(self.sent_parts())),
                Phase::Cancelled => Some(Command::Abort),
                Phase::Failed(reason) => Some(Command::Fail(reason.clone())),
                Phase::Running | Phase::Paused => None,
            };
            if let Some(closing) = closing {
                // A closing transfer stops every PUT still in flight.
                self.stop_sending();
                commands.extend(self.to_cancel.drain(..).map(Command::Cancel));
                commands.push(closing);
                self.announced = true;
            }
        }
        commands
    }

    fn run(&mut self, now: f64, commands: &mut Vec<Command>) {
        if self.parts.iter().all(|p| matches!(p, Part::Sent { .. })) {
            self.phase = Phase::Complete;
            return;
        }
        self.send_ready(now, commands);
        self.sign_ahead(now, commands);
        let retries = self.parts.iter().filter_map(|p| match p {
            Part::Ready { not_before, .. } | Part::Unsigned { not_before, .. }
                if *not_before > now =>
            {
                Some(*not_before)
            }
            Part::Sending {
                last_progress: Some(at),
                ..
            } => Some(*at + STALL_MS),
            _ => None,
        });
        let sign_retry = match self.signing {
            Signing::RetryAt(at) if at > now => Some(at),
            _ => None,
        };
        if let Some(at) = retries.chain(sign_retry).reduce(f64::min) {
            commands.push(Command::WakeAt(at));
        }
    }

    fn cancel_stalled(&mut self, now: f64, commands: &mut Vec<Command>) {
        let stalled: Vec<u32> = self
            .parts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Part::Sending {
                    last_progress: Some(at),
                    ..
                } if now - at >= STALL_MS => Some(part_number(i)),
                _ => None,
            })
            .collect();
        for part_number in stalled {
            commands.push(Command::Cancel(part_number));
            self.part_failed(part_number, Failure::Stalled, now);
        }
    }

    /// Keeps enough signed parts in stock that a free slot never waits for a signature.
    fn sign_ahead(&mut self, now: f64, commands: &mut Vec<Command>) {
        match self.signing {
            Signing::InFlight => return,
            Signing::RetryAt(at) if at > now => return,
            _ => {}
        }
        let ready = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Ready { .. }))
            .count();
        // Preparing a batch takes time (the browser reads each part for its checksum):
        // sign the next one while a full round of sends and a batch are still in stock.
        if ready >= self.window.limit() + self.sign_batch {
            return;
        }
        let mut batch = Vec::new();
        for (i, part) in self.parts.iter_mut().enumerate() {
            if batch.len() == self.sign_batch {
                break;
            }
            if let Part::Unsigned {
                failures,
                not_before,
            } = *part
                && not_before <= now
            {
                *part = Part::Signing { failures };
                batch.push(part_number(i));
            }
        }
        if !batch.is_empty() {
            self.signing = Signing::InFlight;
            commands.push(Command::Sign(batch));
        }
    }

    fn send_ready(&mut self, now: f64, commands: &mut Vec<Command>) {
        let mut in_flight = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Sending { .. }))
            .count();
        for (i, part) in self.parts.iter_mut().enumerate() {
            if in_flight >= self.window.limit() {
                break;
            }
            if let Part::Ready {
                url,
                failures,
                not_before,
            } = part
                && *not_before <= now
            {
                let part_number = part_number(i);
                let (start, end) = self.plan.range(part_number).unwrap_or_default();
                if let Some(sends) = self.sends.get_mut(i) {
                    *sends += 1;
                }
                commands.push(Command::Send {
                    part_number,
                    url: url.clone(),
                    start,
                    end,
                });
                *part = Part::Sending {
                    url: std::mem::take(url),
                    failures: *failures,
                    loaded: 0,
                    last_progress: None,
                };
                in_flight += 1;
            }
        }
    }

    /// Bytes the store holds or has received so far, and the file's size. Each part
    /// counts once, however often it was sent.
    pub fn progress(&self) -> (u64, u64) {
        let sent = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, part)| match part {
                Part::Sent { .. } => self.plan.part_len(part_number(i)).unwrap_or_default(),
                Part::Sending { loaded, .. } => *loaded,
                _ => 0,
            })
            .sum();
        (sent, self.plan.size)
    }

    /// How many parts the store holds, and how many there are.
    pub fn parts_sent(&self) -> (u32, u32) {
        let sent = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Sent { .. }))
            .count();
        (
            u32::try_from(sent).unwrap_or(u32::MAX),
            self.plan.part_count,
        )
    }

    /// How many parts are waiting to be sent again after a failure.
    pub fn retrying(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| match p {
                Part::Ready { failures, .. }
                | Part::Unsigned { failures, .. }
                | Part::Signing { failures }
                | Part::Sending { failures, .. } => *failures > 0,
                Part::Sent { .. } => false,
            })
            .count()
    }

    /// The parts the store holds, in order.
    pub fn sent_parts(&self) -> Vec<SentPart> {
        self.parts
            .iter()
            .enumerate()
            .filter_map(|(i, part)| match part {
                Part::Sent { etag } => Some(SentPart {
                    part_number: part_number(i),
                    etag: etag.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    fn fail(&mut self, reason: String) {
        if matches!(self.phase, Phase::Running | Phase::Paused) {
            self.phase = Phase::Failed(reason);
        }
    }

    /// A number in `[0, 1)` from the seeded xorshift generator.
    fn jitter(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        // 53 random bits make an exact f64 in [0, 1).
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn part_mut(&mut self, part_number: u32) -> Option<&mut Part> {
        index(part_number).and_then(|i| self.parts.get_mut(i))
    }
}

fn index(part_number: u32) -> Option<usize> {
    usize::try_from(part_number).ok()?.checked_sub(1)
}

fn part_number(index: usize) -> u32 {
    // A plan has at most 10,000 parts.
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
