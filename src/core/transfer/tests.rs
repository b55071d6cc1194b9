//! Every path through the transfer state machine, driven with events and a fake clock.

use super::*;
use crate::core::limits::MIB;

fn plan(parts: u64) -> PartPlan {
    PartPlan::new(parts * 5 * MIB, 5 * MIB).expect("plannable")
}

fn transfer(parts: u64, in_flight: usize, batch: usize) -> Transfer {
    Transfer::new(plan(parts), in_flight, batch, &[], 42)
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

fn cancels(commands: &[Command]) -> Vec<u32> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Cancel(n) => Some(*n),
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

fn failed(n: u32, failure: Failure) -> Event {
    Event::PartFailed {
        part_number: n,
        failure,
    }
}

/// Signs every part and starts as many as allowed; answers the parts sent.
fn start(t: &mut Transfer, parts: u32) -> Vec<u32> {
    t.step(0.0);
    t.handle(signed(&(1..=parts).collect::<Vec<_>>()), 0.0);
    sends(&t.step(0.0))
}

#[test]
fn signs_in_batches_and_bounds_parts_in_flight() {
    let mut t = transfer(10, 3, 4);
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
fn signs_the_next_batch_while_a_round_of_sends_is_still_in_stock() {
    let mut t = transfer(20, 2, 4);
    assert_eq!(t.step(0.0), vec![Command::Sign(vec![1, 2, 3, 4])]);
    t.handle(signed(&[1, 2, 3, 4]), 1.0);
    let commands = t.step(1.0);
    assert_eq!(sends(&commands), vec![1, 2]);
    // Parts 3 and 4 are enough for the next round, but not for the time a batch takes.
    assert!(
        commands.contains(&Command::Sign(vec![5, 6, 7, 8])),
        "{commands:?}"
    );
}

#[test]
fn completes_once_with_every_part_in_order() {
    let mut t = transfer(3, 4, 8);
    assert_eq!(start(&mut t, 3), vec![1, 2, 3]);
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
    assert_eq!(t.phase(), &Phase::Complete);
    assert_eq!(t.step(0.0), vec![], "completes once");
}

#[test]
fn a_single_put_is_a_plan_of_one_presigned_part() {
    let one = PartPlan::new(1_000, 5 * MIB).expect("plannable");
    let mut t = Transfer::new(one, 4, 8, &[], 1);
    // The URL came with the start of the upload: no sign call is needed.
    t.handle(Event::Signed(vec![(1, "put".into())]), 0.0);
    let commands = t.step(0.0);
    assert_eq!(
        commands,
        vec![Command::Send {
            part_number: 1,
            url: "put".into(),
            start: 0,
            end: 1_000
        }]
    );
    // The stall clock runs once the PUT has its connection.
    t.handle(Event::Connected { part_number: 1 }, 5.0);
    assert_eq!(t.step(5.0), vec![Command::WakeAt(5.0 + STALL_MS)]);
}

#[test]
fn a_part_waiting_for_a_connection_does_not_stall() {
    let mut t = transfer(2, 4, 8);
    start(&mut t, 2);
    t.handle(Event::Connected { part_number: 2 }, 0.0);
    let commands = t.step(10.0 * STALL_MS);
    assert_eq!(cancels(&commands), vec![2], "part 2 stalled once connected");
    assert!(
        !cancels(&commands).contains(&1),
        "part 1 still waits for a connection"
    );
    t.handle(Event::Connected { part_number: 1 }, 10.0 * STALL_MS);
    assert_eq!(cancels(&t.step(11.0 * STALL_MS)), vec![1]);
}

#[test]
fn a_transient_failure_is_retried_after_its_delay() {
    let mut t = transfer(1, 4, 8);
    start(&mut t, 1);
    // The first retry is immediate, the second waits a second (and a little jitter).
    t.handle(failed(1, Failure::Status(500)), 10.0);
    assert_eq!(sends(&t.step(10.0)), vec![1]);
    t.handle(failed(1, Failure::Network), 20.0);
    assert_eq!(t.retrying(), 1);
    assert!(t.last_failure().is_some_and(|f| f.contains("retrying")));
    let commands = t.step(20.0);
    let [Command::WakeAt(at)] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert!((1_020.0..=1_270.0).contains(at), "{at}");
    assert_eq!(sends(&t.step(at - 1.0)), Vec::<u32>::new());
    assert_eq!(sends(&t.step(*at)), vec![1]);
    t.handle(sent(1), 2_000.0);
    assert!(matches!(t.step(2_000.0).as_slice(), [Command::Complete(_)]));
}

#[test]
fn every_status_gets_its_verdict() {
    let cases = [
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (504, "retry"),
        (408, "retry"),
        (409, "retry"),
        (429, "retry"),
        (403, "resign"),
        (400, "fail"),
        (404, "fail"),
        (411, "fail"),
        (413, "fail"),
    ];
    for (status, verdict) in cases {
        let mut t = transfer(2, 4, 8);
        start(&mut t, 2);
        t.handle(failed(1, Failure::Status(status)), 0.0);
        let commands = t.step(0.0);
        let outcome = if sends(&commands) == [1] {
            "retry"
        } else if commands.contains(&Command::Sign(vec![1])) {
            "resign"
        } else if matches!(commands.last(), Some(Command::Fail(_))) {
            "fail"
        } else {
            "other"
        };
        assert_eq!(outcome, verdict, "HTTP {status}: {commands:?}");
    }
}

#[test]
fn a_fatal_failure_stops_the_other_parts_and_fails_once() {
    let mut t = transfer(3, 4, 8);
    start(&mut t, 3);
    t.handle(failed(1, Failure::Status(400)), 0.0);
    let commands = t.step(0.0);
    assert_eq!(cancels(&commands), vec![2, 3]);
    assert!(matches!(commands.last(), Some(Command::Fail(r)) if r.starts_with("part 1:")));
    assert!(matches!(t.phase(), Phase::Failed(_)));
    assert_eq!(t.step(0.0), vec![]);
}

#[test]
fn retries_run_out() {
    let mut t = transfer(1, 4, 8);
    start(&mut t, 1);
    let mut now = 0.0;
    let mut attempts = 1;
    loop {
        t.handle(failed(1, Failure::Status(500)), now);
        now += 60_000.0;
        let commands = t.step(now);
        if let Some(Command::Fail(_)) = commands.last() {
            break;
        }
        assert_eq!(sends(&commands), vec![1]);
        attempts += 1;
    }
    assert_eq!(attempts, 1 + retry::RETRY_DELAYS_MS.len());
}

#[test]
fn slow_down_halves_parts_in_flight_then_ramps_up() {
    let mut t = transfer(20, 4, 20);
    assert_eq!(start(&mut t, 20), vec![1, 2, 3, 4]);
    t.handle(
        failed(
            1,
            Failure::Throttled {
                status: 503,
                retry_after_secs: None,
            },
        ),
        0.0,
    );
    assert_eq!(t.limit(), 2);
    t.handle(
        failed(
            2,
            Failure::Throttled {
                status: 429,
                retry_after_secs: Some(1),
            },
        ),
        0.0,
    );
    assert_eq!(t.limit(), 1);
    // Parts 3 and 4 are still in flight: nothing new starts until fewer than one are.
    assert_eq!(sends(&t.step(0.0)), Vec::<u32>::new());
    t.handle(sent(3), 1.0);
    t.handle(sent(4), 1.0);
    // Two successes at a limit of one: back up to two, then three after two more…
    assert_eq!(t.limit(), 2);
    assert_eq!(sends(&t.step(5_000.0)).len(), 2);
}

#[test]
fn forbidden_parts_are_signed_again() {
    let mut t = transfer(2, 4, 8);
    start(&mut t, 2);
    t.handle(failed(2, Failure::Status(403)), 5.0);
    let commands = t.step(5.0);
    assert!(commands.contains(&Command::Sign(vec![2])), "{commands:?}");
    assert_eq!(sends(&commands), Vec::<u32>::new());
    t.handle(Event::Signed(vec![(2, "fresh".into())]), 6.0);
    let commands = t.step(6.0);
    assert!(matches!(&commands[0], Command::Send { part_number: 2, url, .. } if url == "fresh"));
}

#[test]
fn a_stalled_part_is_cancelled_and_retried() {
    let mut t = transfer(2, 4, 8);
    start(&mut t, 2);
    t.handle(Event::Connected { part_number: 1 }, 0.0);
    t.handle(
        Event::Progress {
            part_number: 2,
            loaded: 100,
        },
        20_000.0,
    );
    // Part 1 made no progress for STALL_MS; part 2 did, more recently.
    let commands = t.step(STALL_MS);
    assert_eq!(cancels(&commands), vec![1]);
    assert_eq!(sends(&commands), vec![1], "retried at once");
    assert_eq!(t.progress().0, 100);
}

#[test]
fn signing_failures_are_retried_when_transient() {
    let mut t = transfer(2, 4, 8);
    assert_eq!(t.step(0.0), vec![Command::Sign(vec![1, 2])]);
    t.handle(
        Event::SignFailed {
            reason: "the store is unavailable".into(),
            transient: true,
            throttled: false,
        },
        0.0,
    );
    // First retry at once.
    assert_eq!(t.step(0.0), vec![Command::Sign(vec![1, 2])]);
    t.handle(
        Event::SignFailed {
            reason: "again".into(),
            transient: true,
            throttled: false,
        },
        0.0,
    );
    let commands = t.step(0.0);
    assert!(
        matches!(commands.as_slice(), [Command::WakeAt(at)] if *at >= 1_000.0),
        "{commands:?}"
    );
    assert_eq!(t.step(2_000.0), vec![Command::Sign(vec![1, 2])]);

    let mut t = transfer(2, 4, 8);
    t.step(0.0);
    t.handle(
        Event::SignFailed {
            reason: "the upload token has expired".into(),
            transient: false,
            throttled: false,
        },
        0.0,
    );
    assert_eq!(
        t.step(0.0),
        vec![Command::Fail(
            "could not sign parts: the upload token has expired".into()
        )]
    );
}

#[test]
fn pause_stops_parts_and_resume_sends_them_again() {
    let mut t = transfer(3, 2, 8);
    assert_eq!(start(&mut t, 3), vec![1, 2]);
    t.handle(sent(1), 0.0);
    t.handle(Control::Pause.into(), 1.0);
    assert_eq!(t.phase(), &Phase::Paused);
    let commands = t.step(1.0);
    assert_eq!(cancels(&commands), vec![2]);
    assert_eq!(sends(&commands), Vec::<u32>::new());
    assert_eq!(t.step(100_000.0), vec![], "nothing happens while paused");
    // A part that reached the store just before the pause is kept.
    t.handle(sent(2), 2.0);
    t.handle(Control::Resume.into(), 3.0);
    assert_eq!(sends(&t.step(3.0)), vec![3]);
    t.handle(sent(3), 4.0);
    assert!(matches!(t.step(4.0).as_slice(), [Command::Complete(p)] if p.len() == 3));
}

#[test]
fn pause_during_a_retry_waits_for_resume() {
    let mut t = transfer(1, 4, 8);
    start(&mut t, 1);
    t.handle(failed(1, Failure::Network), 0.0);
    t.handle(failed(1, Failure::Network), 0.0);
    t.handle(Control::Pause.into(), 0.0);
    assert_eq!(t.step(10_000.0), vec![]);
    t.handle(Control::Resume.into(), 10_000.0);
    assert_eq!(sends(&t.step(10_000.0)), vec![1]);
}

#[test]
fn cancel_stops_everything_and_aborts_once() {
    let mut t = transfer(3, 4, 8);
    start(&mut t, 3);
    t.handle(Control::Cancel.into(), 0.0);
    let commands = t.step(0.0);
    assert_eq!(cancels(&commands), vec![1, 2, 3]);
    assert_eq!(commands.last(), Some(&Command::Abort));
    assert_eq!(t.step(0.0), vec![]);
    // Events after the end change nothing.
    t.handle(Control::Resume.into(), 0.0);
    t.handle(sent(1), 0.0);
    assert_eq!(t.step(0.0), vec![]);
    assert_eq!(t.phase(), &Phase::Cancelled);
}

#[test]
fn progress_counts_each_part_once() {
    let mut t = transfer(3, 2, 8);
    assert_eq!(t.progress(), (0, 15 * MIB));
    start(&mut t, 3);
    t.handle(
        Event::Progress {
            part_number: 1,
            loaded: 1_000,
        },
        0.0,
    );
    t.handle(sent(2), 0.0);
    t.handle(sent(2), 0.0);
    assert_eq!(t.progress(), (5 * MIB + 1_000, 15 * MIB));
    assert_eq!(t.parts_sent(), (1, 3));
    // A failed part's bytes no longer count; the failure says why.
    t.handle(failed(1, Failure::Network), 0.0);
    assert_eq!(t.progress(), (5 * MIB, 15 * MIB));
    assert!(t.last_failure().is_some());
}

#[test]
fn resumes_with_parts_already_stored() {
    let stored = [SentPart {
        part_number: 2,
        etag: "e2".into(),
    }];
    let mut t = Transfer::new(plan(3), 4, 8, &stored, 7);
    assert_eq!(t.progress(), (5 * MIB, 15 * MIB));
    assert_eq!(t.step(0.0), vec![Command::Sign(vec![1, 3])]);
    // Unknown parts in an answer are ignored; parts left out are asked for again.
    t.handle(Event::Signed(vec![(1, "u1".into()), (9, "u9".into())]), 0.0);
    let commands = t.step(0.0);
    assert_eq!(sends(&commands), vec![1]);
    assert!(commands.contains(&Command::Sign(vec![3])));

    let all: Vec<SentPart> = (1..=3)
        .map(|n| SentPart {
            part_number: n,
            etag: format!("e{n}"),
        })
        .collect();
    let mut done = Transfer::new(plan(3), 4, 8, &all, 7);
    assert_eq!(done.step(0.0), vec![Command::Complete(all)]);
}

#[test]
fn a_throttled_part_or_signing_waits_what_it_was_told_or_a_second() {
    // (Retry-After, when the part goes again): a store that says nothing is not asked
    // again at once.
    for (retry_after_secs, at) in [(None, 1_000.0), (Some(3), 3_000.0), (Some(0), 0.0)] {
        let mut t = transfer(2, 4, 8);
        start(&mut t, 2);
        let throttle = Failure::Throttled {
            status: 429,
            retry_after_secs,
        };
        t.handle(failed(1, throttle), 0.0);
        if at > 0.0 {
            assert_eq!(
                sends(&t.step(at - 1.0)),
                Vec::<u32>::new(),
                "{retry_after_secs:?}"
            );
        }
        assert_eq!(sends(&t.step(at)), vec![1], "{retry_after_secs:?}");
    }
    // A sign call the server answered 429 waits a second, where other failures retry
    // at once.
    let mut t = transfer(2, 4, 8);
    assert_eq!(t.step(0.0), vec![Command::Sign(vec![1, 2])]);
    t.handle(
        Event::SignFailed {
            reason: "too many requests".into(),
            transient: true,
            throttled: true,
        },
        0.0,
    );
    assert!(matches!(t.step(0.0).as_slice(), [Command::WakeAt(at)] if *at >= 1_000.0));
    assert_eq!(t.step(1_250.0), vec![Command::Sign(vec![1, 2])]);
}

#[test]
fn parts_started_more_than_once_are_named() {
    // Four parts, all in flight: 1 lands at once; 2 fails and is sent again; 3 stalls and
    // is sent again; 4 lands after a pause that did not stop it.
    let mut t = transfer(4, 4, 8);
    assert_eq!(start(&mut t, 4), vec![1, 2, 3, 4]);
    assert_eq!(
        t.sent_more_than_once(),
        Vec::<u32>::new(),
        "each sent once so far"
    );
    t.handle(Event::Connected { part_number: 3 }, 0.0);
    t.handle(sent(1), 1.0);
    t.handle(failed(2, Failure::Status(500)), 2.0);
    assert_eq!(sends(&t.step(2.0)), vec![2]);
    for n in [2, 4] {
        t.handle(
            Event::Progress {
                part_number: n,
                loaded: 100,
            },
            20_000.0,
        );
    }
    assert_eq!(sends(&t.step(STALL_MS)), vec![3], "3 stalled");
    for n in [2, 3, 4] {
        t.handle(sent(n), STALL_MS + 1.0);
    }
    assert!(matches!(t.step(STALL_MS + 1.0).as_slice(), [Command::Complete(p)] if p.len() == 4));
    assert_eq!(t.sent_more_than_once(), vec![2, 3]);

    // A PUT stopped by a pause is a try too: the store may have part of it.
    let mut t = transfer(2, 2, 8);
    start(&mut t, 2);
    t.handle(sent(1), 0.0);
    t.handle(Control::Pause.into(), 1.0);
    assert_eq!(cancels(&t.step(1.0)), vec![2]);
    t.handle(Control::Resume.into(), 2.0);
    assert_eq!(sends(&t.step(2.0)), vec![2]);
    assert_eq!(t.sent_more_than_once(), vec![2]);

    // Parts stored before (a resume) were not sent by this transfer at all.
    let mut t = Transfer::new(
        plan(2),
        4,
        8,
        &[SentPart {
            part_number: 1,
            etag: "e1".into(),
        }],
        42,
    );
    t.step(0.0);
    t.handle(signed(&[2]), 0.0);
    assert_eq!(sends(&t.step(0.0)), vec![2]);
    assert_eq!(t.sent_more_than_once(), Vec::<u32>::new());
}
