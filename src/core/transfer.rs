//! The multipart transfer state machine: which parts to sign, which to send, when to
//! retry, and when the upload is ready to complete.
//!
//! It takes events (a batch of URLs signed, a part's progress, a part sent or failed)
//! and the current time, and answers with commands for the browser shell to perform.
//! It performs nothing itself, so every path through it is tested natively.

use super::plan::PartPlan;
use super::retry::{self, Failure, Verdict};

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
    /// Step the machine again at this time (milliseconds), when a retry is due.
    WakeAt(f64),
    /// Every part is stored: complete the upload with these parts, in order.
    Complete(Vec<SentPart>),
    /// The transfer cannot go on; the text says why.
    Fail(String),
}

/// What happened, reported by the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The server presigned these parts.
    Signed(Vec<(u32, String)>),
    /// The server refused or failed to sign.
    SignFailed(String),
    /// `loaded` bytes of a part have been sent so far.
    Progress { part_number: u32, loaded: u64 },
    /// The store accepted a part.
    PartSent { part_number: u32, etag: String },
    /// A part's PUT failed.
    PartFailed { part_number: u32, failure: Failure },
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Needs a presigned URL (first time, or after the old one was refused).
    Unsigned { failures: u32 },
    /// In a sign request now.
    Signing { failures: u32 },
    /// Has a URL and may be sent from `not_before` on.
    Ready {
        url: String,
        failures: u32,
        not_before: f64,
    },
    /// Its PUT is in flight.
    Sending {
        url: String,
        failures: u32,
        loaded: u64,
    },
    /// The store holds it.
    Sent { etag: String },
}

/// One multipart upload's parts, from first signature to completion.
#[derive(Debug, Clone)]
pub struct Transfer {
    plan: PartPlan,
    parts: Vec<Part>,
    parts_in_flight: usize,
    sign_batch: usize,
    signing: bool,
    finished: bool,
    failure: Option<String>,
}

impl Transfer {
    /// A transfer of `plan` with at most `parts_in_flight` PUTs at once, signing up to
    /// `sign_batch` parts per call. `already_sent` are parts the store holds (a resume).
    pub fn new(
        plan: PartPlan,
        parts_in_flight: usize,
        sign_batch: usize,
        already_sent: &[SentPart],
    ) -> Self {
        let mut parts: Vec<Part> = (0..plan.part_count)
            .map(|_| Part::Unsigned { failures: 0 })
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
            parts_in_flight: parts_in_flight.max(1),
            sign_batch: sign_batch.max(1),
            signing: false,
            finished: false,
            failure: None,
        }
    }

    /// Applies an event that happened at `now` (milliseconds).
    pub fn handle(&mut self, event: Event, now: f64) {
        match event {
            Event::Signed(urls) => {
                self.signing = false;
                for (part_number, url) in urls {
                    if let Some(part) = self.part_mut(part_number)
                        && let Part::Signing { failures } = *part
                    {
                        *part = Part::Ready {
                            url,
                            failures,
                            not_before: now,
                        };
                    }
                }
                // Parts the answer left out go back to wait for the next batch.
                for part in &mut self.parts {
                    if let Part::Signing { failures } = *part {
                        *part = Part::Unsigned { failures };
                    }
                }
            }
            Event::SignFailed(reason) => {
                self.signing = false;
                self.fail(format!("could not sign parts: {reason}"));
            }
            Event::Progress {
                part_number,
                loaded: now_loaded,
            } => {
                if let Some(Part::Sending { loaded, .. }) = self.part_mut(part_number) {
                    *loaded = now_loaded;
                }
            }
            Event::PartSent { part_number, etag } => {
                if let Some(part) = self.part_mut(part_number)
                    && matches!(part, Part::Sending { .. })
                {
                    *part = Part::Sent { etag };
                }
            }
            Event::PartFailed {
                part_number,
                failure,
            } => self.part_failed(part_number, failure, now),
        }
    }

    fn part_failed(&mut self, part_number: u32, failure: Failure, now: f64) {
        let Some(part) = self.part_mut(part_number) else {
            return;
        };
        let Part::Sending { url, failures, .. } = part else {
            return;
        };
        let failures = *failures + 1;
        match retry::decide(failure, failures) {
            Verdict::RetryAfter(delay) => {
                *part = Part::Ready {
                    url: std::mem::take(url),
                    failures,
                    // Delays are at most seconds: exact in f64.
                    not_before: now + delay as f64,
                };
            }
            Verdict::Resign => *part = Part::Unsigned { failures },
            Verdict::GiveUp(reason) => self.fail(format!("part {part_number}: {reason}")),
        }
    }

    /// The commands to perform now; call after every event and at each `WakeAt`.
    pub fn step(&mut self, now: f64) -> Vec<Command> {
        if self.finished {
            return Vec::new();
        }
        if let Some(reason) = self.failure.clone() {
            self.finished = true;
            return vec![Command::Fail(reason)];
        }
        if self.parts.iter().all(|p| matches!(p, Part::Sent { .. })) {
            self.finished = true;
            return vec![Command::Complete(self.sent_parts())];
        }
        let mut commands = Vec::new();
        self.send_ready(now, &mut commands);
        self.sign_ahead(&mut commands);
        let next_retry = self
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Ready { not_before, .. } if *not_before > now => Some(*not_before),
                _ => None,
            })
            .reduce(f64::min);
        if let Some(at) = next_retry {
            commands.push(Command::WakeAt(at));
        }
        commands
    }

    /// Keeps enough signed parts in stock that a free slot never waits for a signature.
    fn sign_ahead(&mut self, commands: &mut Vec<Command>) {
        let ready = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Ready { .. }))
            .count();
        if self.signing || ready >= self.parts_in_flight {
            return;
        }
        let mut batch = Vec::new();
        for (i, part) in self.parts.iter_mut().enumerate() {
            if batch.len() == self.sign_batch {
                break;
            }
            if let Part::Unsigned { failures } = *part {
                *part = Part::Signing { failures };
                batch.push(part_number(i));
            }
        }
        if !batch.is_empty() {
            self.signing = true;
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
            if in_flight >= self.parts_in_flight {
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
                };
                in_flight += 1;
            }
        }
    }

    /// Bytes the store holds or has received so far, and the file's size.
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

    /// How many parts are waiting for a retry, for the page to say so.
    pub fn retrying(&self) -> usize {
        self.parts
            .iter()
            .filter(|p| match p {
                Part::Ready { failures, .. }
                | Part::Unsigned { failures }
                | Part::Signing { failures }
                | Part::Sending { failures, .. } => *failures > 0,
                Part::Sent { .. } => false,
            })
            .count()
    }

    fn sent_parts(&self) -> Vec<SentPart> {
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
        self.failure.get_or_insert(reason);
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
mod tests {
    use super::*;
    use crate::core::limits::MIB;

    fn plan(parts: u64) -> PartPlan {
        PartPlan::new(parts * 5 * MIB, 5 * MIB).expect("plannable")
    }

    fn signed(numbers: &[u32]) -> Event {
        Event::Signed(numbers.iter().map(|&n| (n, format!("url{n}"))).collect())
    }

    fn sends(commands: &[Command]) -> Vec<u32> {
        commands
            .iter()
            .filter_map(|c| match c {
                Command::Send { part_number, .. } => Some(*part_number),
                _ => None,
            })
            .collect()
    }

    fn sent(n: u32) -> Event {
        Event::PartSent {
            part_number: n,
            etag: format!("e{n}"),
        }
    }

    #[test]
    fn signs_in_batches_and_bounds_parts_in_flight() {
        let mut t = Transfer::new(plan(10), 3, 4, &[]);
        assert_eq!(t.step(0.0), vec![Command::Sign(vec![1, 2, 3, 4])]);
        // Only one sign call at a time.
        assert_eq!(t.step(0.0), vec![]);
        t.handle(signed(&[1, 2, 3, 4]), 1.0);
        let commands = t.step(1.0);
        assert_eq!(sends(&commands), vec![1, 2, 3]);
        // One URL is in stock (< 3), so the next batch is signed ahead of need.
        assert!(
            commands.contains(&Command::Sign(vec![5, 6, 7, 8])),
            "{commands:?}"
        );
        assert_eq!(
            commands[1],
            Command::Send {
                part_number: 2,
                url: "url2".into(),
                start: 5 * MIB,
                end: 10 * MIB
            }
        );
        t.handle(sent(2), 2.0);
        assert_eq!(sends(&t.step(2.0)), vec![4]);
        assert_eq!(sends(&t.step(2.0)), Vec::<u32>::new());
    }

    #[test]
    fn completes_with_every_part_in_order() {
        let mut t = Transfer::new(plan(3), 4, 8, &[]);
        t.step(0.0);
        t.handle(signed(&[1, 2, 3]), 0.0);
        assert_eq!(sends(&t.step(0.0)), vec![1, 2, 3]);
        for n in [3, 1, 2] {
            t.handle(sent(n), 0.0);
        }
        let parts = (1..=3)
            .map(|n| SentPart {
                part_number: n,
                etag: format!("e{n}"),
            })
            .collect();
        assert_eq!(t.step(0.0), vec![Command::Complete(parts)]);
        assert_eq!(t.step(0.0), vec![], "completes once");
    }

    #[test]
    fn a_transient_failure_is_retried_after_its_delay() {
        let mut t = Transfer::new(plan(1), 4, 8, &[]);
        t.step(0.0);
        t.handle(signed(&[1]), 0.0);
        t.step(0.0);
        // The first retry is immediate, the second waits a second.
        t.handle(
            Event::PartFailed {
                part_number: 1,
                failure: Failure::Status(503),
            },
            10.0,
        );
        assert_eq!(sends(&t.step(10.0)), vec![1]);
        t.handle(
            Event::PartFailed {
                part_number: 1,
                failure: Failure::Network,
            },
            20.0,
        );
        assert_eq!(t.retrying(), 1);
        assert_eq!(t.step(20.0), vec![Command::WakeAt(1_020.0)]);
        assert_eq!(sends(&t.step(1_020.0)), vec![1]);
        t.handle(sent(1), 1_100.0);
        assert!(matches!(t.step(1_100.0).as_slice(), [Command::Complete(_)]));
    }

    #[test]
    fn forbidden_parts_are_signed_again() {
        let mut t = Transfer::new(plan(2), 4, 8, &[]);
        t.step(0.0);
        t.handle(signed(&[1, 2]), 0.0);
        t.step(0.0);
        t.handle(
            Event::PartFailed {
                part_number: 2,
                failure: Failure::Status(403),
            },
            5.0,
        );
        assert_eq!(t.step(5.0), vec![Command::Sign(vec![2])]);
    }

    #[test]
    fn fatal_and_exhausted_failures_fail_the_transfer_once() {
        let mut t = Transfer::new(plan(2), 4, 8, &[]);
        t.step(0.0);
        t.handle(signed(&[1, 2]), 0.0);
        t.step(0.0);
        t.handle(
            Event::PartFailed {
                part_number: 1,
                failure: Failure::Status(400),
            },
            0.0,
        );
        let commands = t.step(0.0);
        assert!(matches!(commands.as_slice(), [Command::Fail(r)] if r.starts_with("part 1:")));
        assert_eq!(t.step(0.0), vec![]);

        let mut t = Transfer::new(plan(1), 4, 8, &[]);
        t.step(0.0);
        t.handle(signed(&[1]), 0.0);
        let mut now = 0.0;
        let mut failures = 0;
        loop {
            let commands = t.step(now);
            if let [Command::Fail(_)] = commands.as_slice() {
                break;
            }
            if !sends(&commands).is_empty() {
                failures += 1;
                t.handle(
                    Event::PartFailed {
                        part_number: 1,
                        failure: Failure::Status(500),
                    },
                    now,
                );
            }
            now += 1_000.0;
            assert!(failures <= 5, "gives up after the last delay");
        }
        assert_eq!(failures, 5);
    }

    #[test]
    fn a_sign_failure_fails_the_transfer() {
        let mut t = Transfer::new(plan(2), 4, 8, &[]);
        t.step(0.0);
        t.handle(Event::SignFailed("token expired".into()), 0.0);
        assert_eq!(
            t.step(0.0),
            vec![Command::Fail("could not sign parts: token expired".into())]
        );
    }

    #[test]
    fn progress_counts_sent_and_in_flight_bytes() {
        let mut t = Transfer::new(plan(3), 2, 8, &[]);
        assert_eq!(t.progress(), (0, 15 * MIB));
        t.step(0.0);
        t.handle(signed(&[1, 2, 3]), 0.0);
        t.step(0.0);
        t.handle(
            Event::Progress {
                part_number: 1,
                loaded: 1_000,
            },
            0.0,
        );
        t.handle(sent(2), 0.0);
        assert_eq!(t.progress(), (5 * MIB + 1_000, 15 * MIB));
        // A failed part's bytes no longer count.
        t.handle(
            Event::PartFailed {
                part_number: 1,
                failure: Failure::Network,
            },
            0.0,
        );
        assert_eq!(t.progress(), (5 * MIB, 15 * MIB));
    }

    #[test]
    fn resumes_with_parts_already_stored() {
        let stored = [SentPart {
            part_number: 2,
            etag: "e2".into(),
        }];
        let mut t = Transfer::new(plan(3), 4, 8, &stored);
        assert_eq!(t.step(0.0), vec![Command::Sign(vec![1, 3])]);
        // Unknown parts in an answer are ignored; parts left out are asked for again.
        t.handle(Event::Signed(vec![(1, "u1".into()), (9, "u9".into())]), 0.0);
        let commands = t.step(0.0);
        assert_eq!(sends(&commands), vec![1]);
        assert!(commands.contains(&Command::Sign(vec![3])));
    }
}
