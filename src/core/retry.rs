//! Retry policy for PUTs and signing calls, after Uppy's S3 uploader: quick retries with
//! growing, jittered delays for transient failures; a fresh signature when the store
//! refuses one (it may have expired); giving up at once on errors that sending the same
//! request again cannot fix.

/// The delays before each retry, in milliseconds (before jitter); after the last, the
/// upload fails. About a minute and a half in all: longer outages are the browser going
/// offline, which pauses the queue instead.
pub const RETRY_DELAYS_MS: [u64; 7] = [0, 1_000, 3_000, 5_000, 10_000, 20_000, 45_000];

/// How much a delay may grow at random (a quarter), so many clients that failed together
/// do not all retry together.
pub const JITTER: f64 = 0.25;

/// How a request to the store failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection failed or was aborted before an answer arrived.
    Network,
    /// The request made no progress for too long and was cancelled.
    Stalled,
    /// The store answered with this HTTP status.
    Status(u16),
    /// The store asked to slow down (429, or 503 as S3's SlowDown), saying how many
    /// seconds to wait when it sent `Retry-After` (and CORS let the page read it).
    Throttled {
        status: u16,
        retry_after_secs: Option<u32>,
    },
    /// The store accepted the part but its `ETag` could not be read (CORS does not expose it).
    MissingEtag,
    /// The store received other bytes than the checksum promised (changed on the way).
    Corrupted,
    /// The presigned URL expired (or was about to) before the request could be sent.
    Expired,
}

/// What to do after a failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Send the same request again after this many milliseconds.
    RetryAfter(f64),
    /// Ask the server for a fresh presigned URL, then send again.
    Resign,
    /// Stop: sending again cannot succeed. The text says why.
    GiveUp(String),
}

/// The delay before retry number `attempt` (1-based), stretched by `jitter` in `[0, 1)`;
/// `None` once the retries are used up.
pub fn delay(attempt: u32, jitter: f64) -> Option<f64> {
    let base = RETRY_DELAYS_MS.get(attempt.checked_sub(1)? as usize)?;
    // Delays are at most minutes: exact in f64.
    Some(*base as f64 * (1.0 + JITTER * jitter.clamp(0.0, 1.0)))
}

/// The least a request waits after a store or server asked to slow down without
/// saying how long (S3's SlowDown never says): asking again at once would not help.
pub const THROTTLE_MIN_MS: f64 = 1_000.0;

/// The delay before retry number `attempt` after a request was told to slow down: its
/// `Retry-After` (at most the longest delay of the schedule, so a wrong header cannot
/// stall an upload for hours), or at least [`THROTTLE_MIN_MS`], and never less than the
/// schedule's own delay. `None` once the retries are used up.
pub fn throttle_delay(attempt: u32, jitter: f64, retry_after_secs: Option<u32>) -> Option<f64> {
    let scheduled = delay(attempt, jitter)?;
    let longest = RETRY_DELAYS_MS[RETRY_DELAYS_MS.len() - 1] as f64;
    let asked = retry_after_secs.map_or(THROTTLE_MIN_MS, |s| (f64::from(s) * 1_000.0).min(longest));
    Some(scheduled.max(asked))
}

/// The delay before retry number `attempt` of a server call: at least
/// [`THROTTLE_MIN_MS`] when the server asked to slow down. `None` once the retries are
/// used up.
pub fn call_delay(attempt: u32, jitter: f64, throttled: bool) -> Option<f64> {
    match throttled {
        true => throttle_delay(attempt, jitter, None),
        false => delay(attempt, jitter),
    }
}

/// Reads a `Retry-After` header's value as seconds; its HTTP-date form (which no store
/// is known to send) counts as not said.
pub fn parse_retry_after(value: &str) -> Option<u32> {
    value.trim().parse().ok()
}

/// Decides what to do after the `attempt`-th failed try (1-based) of a request.
pub fn decide(failure: Failure, attempt: u32, jitter: f64) -> Verdict {
    match delay(attempt, jitter) {
        None => Verdict::GiveUp(describe(failure)),
        Some(_) if is_fatal(failure) => Verdict::GiveUp(describe(failure)),
        // A presigned URL may have expired: fetch a new one rather than resend it.
        Some(_) if matches!(failure, Failure::Status(403) | Failure::Expired) => Verdict::Resign,
        Some(delay) => match failure {
            Failure::Throttled {
                retry_after_secs, ..
            } => Verdict::RetryAfter(
                throttle_delay(attempt, jitter, retry_after_secs).unwrap_or(delay),
            ),
            _ => Verdict::RetryAfter(delay),
        },
    }
}

/// What a store's error answer to a PUT means, from its status, body and `Retry-After`
/// header: a checksum mismatch (the bytes changed on the way), an expired URL (sign
/// again), a request to slow down, or the status. Stores say "expired" differently: S3,
/// SeaweedFS and the embedded store answer 403 `AccessDenied` "Request has expired",
/// Garage 400 "Date is too old".
pub fn classify(status: u16, body: &str, retry_after: Option<&str>) -> Failure {
    let expired = [
        "Request has expired",
        "Date is too old",
        "<Code>ExpiredToken<",
    ]
    .iter()
    .any(|says| body.contains(says));
    match status {
        400 | 403 if expired => Failure::Expired,
        400 if super::checksum::is_checksum_refusal(body) => Failure::Corrupted,
        429 | 503 => Failure::Throttled {
            status,
            retry_after_secs: retry_after.and_then(parse_retry_after),
        },
        status => Failure::Status(status),
    }
}

/// How long before its expiry a presigned URL is signed again rather than sent, in
/// seconds: half a minute, or a quarter of the URL's life when that is shorter (an
/// operator's `--url-ttl 5` would otherwise make every URL look expired).
pub const EXPIRY_MARGIN_SECS: f64 = 30.0;

/// Whether a URL received at `received_at` that expires at `expires_at` (seconds since
/// the epoch, by the server's clock; 0 when unknown) should be signed again at `now`.
/// A URL that seemed to expire before it arrived means the clocks disagree: the store's
/// own answer decides then.
pub fn is_expiring(now: f64, received_at: f64, expires_at: u64) -> bool {
    // Expiry times are seconds since the epoch: exact in f64.
    let life = expires_at as f64 - received_at;
    expires_at > 0 && life > 0.0 && now + EXPIRY_MARGIN_SECS.min(life / 4.0) >= expires_at as f64
}

/// Whether the store asks to slow down (429, or S3's 503 SlowDown): fewer parts should
/// be in flight for a while.
pub fn is_throttle(failure: Failure) -> bool {
    matches!(failure, Failure::Throttled { .. })
}

/// Whether sending the same request again cannot help: a missing `ETag`, or a 4xx other
/// than 403 (expired), 408 (timeout), 409 (conflict) and 429 (slow down).
fn is_fatal(failure: Failure) -> bool {
    match failure {
        Failure::MissingEtag => true,
        Failure::Status(status) => {
            (400..500).contains(&status) && !matches!(status, 403 | 408 | 409 | 429)
        }
        Failure::Network
        | Failure::Stalled
        | Failure::Corrupted
        | Failure::Expired
        | Failure::Throttled { .. } => false,
    }
}

/// A short explanation of a failure, for the person uploading.
pub fn describe(failure: Failure) -> String {
    match failure {
        Failure::Network => "the connection to the store failed".into(),
        Failure::Stalled => "the store stopped receiving data".into(),
        Failure::Corrupted => "the bytes changed on the way to the store".into(),
        Failure::Expired => "its signed URL expired while it waited".into(),
        Failure::MissingEtag => {
            "the store did not expose the part's ETag (check the bucket's CORS rules)".into()
        }
        Failure::Status(status) | Failure::Throttled { status, .. } => describe_status(status),
    }
}

/// A short explanation of a store's HTTP status, for the person uploading.
pub fn describe_status(status: u16) -> String {
    let what = match status {
        400 => "rejected the request",
        403 => "refused the upload (signature expired or not allowed)",
        404 => "has no such bucket or upload",
        408 => "timed out waiting for data",
        409 => "reported a conflict",
        411 => "needs a Content-Length",
        413 => "found the request too large",
        429 => "asked to slow down",
        500 => "had an internal error",
        502 | 504 => "could not be reached through its gateway",
        503 => "is unavailable or overloaded",
        _ => "answered with an error",
    };
    format!("the store {what} (HTTP {status})")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETRIES: u32 = RETRY_DELAYS_MS.len() as u32;

    #[test]
    fn transient_failures_retry_with_growing_delays() {
        for failure in [
            Failure::Network,
            Failure::Stalled,
            Failure::Corrupted,
            Failure::Status(500),
            Failure::Status(502),
            Failure::Status(504),
            Failure::Status(408),
            Failure::Status(409),
        ] {
            let delays: Vec<_> = (1..=RETRIES).map(|a| decide(failure, a, 0.0)).collect();
            let expected: Vec<_> = RETRY_DELAYS_MS
                .iter()
                .map(|&d| Verdict::RetryAfter(d as f64))
                .collect();
            assert_eq!(delays, expected, "{failure:?}");
            assert!(
                matches!(decide(failure, RETRIES + 1, 0.0), Verdict::GiveUp(_)),
                "{failure:?}"
            );
        }
    }

    #[test]
    fn jitter_stretches_delays_by_at_most_a_quarter() {
        assert_eq!(delay(1, 0.9), Some(0.0));
        assert_eq!(delay(2, 0.0), Some(1_000.0));
        assert_eq!(delay(2, 1.0), Some(1_250.0));
        assert_eq!(delay(2, 7.0), Some(1_250.0), "jitter is clamped");
        assert_eq!(delay(0, 0.0), None);
        assert_eq!(delay(RETRIES + 1, 0.0), None);
    }

    #[test]
    fn client_errors_are_fatal_at_once() {
        for status in [400, 401, 404, 405, 411, 413] {
            assert!(matches!(
                decide(Failure::Status(status), 1, 0.0),
                Verdict::GiveUp(_)
            ));
        }
        assert!(matches!(
            decide(Failure::MissingEtag, 1, 0.0),
            Verdict::GiveUp(t) if t.contains("CORS")
        ));
    }

    #[test]
    fn forbidden_and_expired_resign_until_retries_run_out() {
        for failure in [Failure::Status(403), Failure::Expired] {
            assert_eq!(decide(failure, 1, 0.0), Verdict::Resign);
            assert_eq!(decide(failure, RETRIES, 0.0), Verdict::Resign);
            assert!(matches!(
                decide(failure, RETRIES + 1, 0.0),
                Verdict::GiveUp(_)
            ));
        }
    }

    #[test]
    fn each_stores_answers_are_told_apart() {
        let error = |code: &str, message: &str| {
            format!(
                "<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            )
        };
        for (status, body, failure) in [
            // S3, SeaweedFS and the embedded store on an expired presigned URL.
            (
                403,
                error("AccessDenied", "Request has expired"),
                Failure::Expired,
            ),
            // Garage.
            (
                400,
                error("InvalidRequest", "Bad request: Date is too old"),
                Failure::Expired,
            ),
            (
                400,
                error("ExpiredToken", "The provided token has expired."),
                Failure::Expired,
            ),
            // A signature that does not match is not an expiry, yet signing again may help.
            (
                403,
                error("SignatureDoesNotMatch", "…"),
                Failure::Status(403),
            ),
            (400, error("BadDigest", "…"), Failure::Corrupted),
            (400, error("InvalidDigest", "…"), Failure::Corrupted),
            (400, error("InvalidArgument", "…"), Failure::Status(400)),
            (
                503,
                error("SlowDown", "Please reduce your request rate."),
                throttled(503, None),
            ),
            (500, "an HTML page".to_owned(), Failure::Status(500)),
            (
                404,
                error("NoSuchUpload", "Request has expired"),
                Failure::Status(404),
            ),
        ] {
            assert_eq!(classify(status, &body, None), failure, "{status} {body}");
        }
        // A throttle's Retry-After, in seconds; its date form counts as not said.
        for (status, header, failure) in [
            (429, Some("2"), throttled(429, Some(2))),
            (503, Some(" 7 "), throttled(503, Some(7))),
            (429, None, throttled(429, None)),
            (
                503,
                Some("Wed, 21 Oct 2026 07:28:00 GMT"),
                throttled(503, None),
            ),
            (429, Some("-1"), throttled(429, None)),
            (500, Some("5"), Failure::Status(500)),
        ] {
            assert_eq!(classify(status, "", header), failure, "{status} {header:?}");
        }
    }

    fn throttled(status: u16, retry_after_secs: Option<u32>) -> Failure {
        Failure::Throttled {
            status,
            retry_after_secs,
        }
    }

    #[test]
    fn throttles_wait_what_they_are_told_or_a_second_and_never_less_than_the_schedule() {
        // (attempt, Retry-After, the delay before the retry)
        for (attempt, retry_after, wait) in [
            (1, None, 1_000.0),
            (1, Some(0), 0.0),
            (1, Some(2), 2_000.0),
            (2, Some(2), 2_000.0),
            (3, Some(2), 3_000.0),
            (3, None, 3_000.0),
            (1, Some(30), 30_000.0),
            // A wrong header cannot stall an upload for longer than the longest delay.
            (1, Some(86_400), 45_000.0),
        ] {
            assert_eq!(
                decide(throttled(429, retry_after), attempt, 0.0),
                Verdict::RetryAfter(wait),
                "attempt {attempt}, Retry-After {retry_after:?}"
            );
        }
        assert_eq!(call_delay(1, 0.0, true), Some(THROTTLE_MIN_MS));
        assert_eq!(call_delay(1, 0.0, false), Some(0.0));
        assert_eq!(call_delay(4, 0.0, true), Some(5_000.0));
        assert_eq!(call_delay(RETRIES + 1, 0.0, true), None);
        assert!(matches!(
            decide(throttled(503, Some(1)), RETRIES + 1, 0.0),
            Verdict::GiveUp(t) if t.contains("HTTP 503")
        ));
    }

    #[test]
    fn urls_are_signed_again_shortly_before_they_expire() {
        // (now, received at, expires at, sign again?)
        for (now, received, expires, again) in [
            (1_000.0, 1_000.0, 1_900, false),
            (1_869.0, 1_000.0, 1_900, false),
            (1_870.0, 1_000.0, 1_900, true),
            (2_000.0, 1_000.0, 1_900, true),
            // A five-second URL: a quarter of its life is the margin.
            (1_000.0, 1_000.0, 1_005, false),
            (1_003.0, 1_000.0, 1_005, false),
            (1_003.75, 1_000.0, 1_005, true),
            // Unknown expiry, or clocks that disagree: the store decides.
            (5_000.0, 1_000.0, 0, false),
            (5_000.0, 2_000.0, 1_900, false),
        ] {
            assert_eq!(
                is_expiring(now, received, expires),
                again,
                "now {now}, received {received}, expires {expires}"
            );
        }
    }

    #[test]
    fn only_429_and_503_throttle() {
        assert!(is_throttle(throttled(429, None)));
        assert!(is_throttle(throttled(503, Some(1))));
        for failure in [
            Failure::Status(500),
            Failure::Status(429),
            Failure::Network,
            Failure::Stalled,
        ] {
            assert!(!is_throttle(failure));
        }
    }

    #[test]
    fn failures_are_described_for_people() {
        assert_eq!(
            describe(Failure::Status(503)),
            "the store is unavailable or overloaded (HTTP 503)"
        );
        assert!(describe(Failure::Status(418)).contains("HTTP 418"));
        assert!(describe(Failure::Stalled).contains("stopped"));
    }
}
