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

/// Decides what to do after the `attempt`-th failed try (1-based) of a request.
pub fn decide(failure: Failure, attempt: u32, jitter: f64) -> Verdict {
    match delay(attempt, jitter) {
        None => Verdict::GiveUp(describe(failure)),
        Some(_) if is_fatal(failure) => Verdict::GiveUp(describe(failure)),
        // A presigned URL may have expired: fetch a new one rather than resend it.
        Some(_) if matches!(failure, Failure::Status(403) | Failure::Expired) => Verdict::Resign,
        Some(delay) => Verdict::RetryAfter(delay),
    }
}

/// Whether the store asks to slow down (429, or S3's 503 SlowDown): fewer parts should
/// be in flight for a while.
pub fn is_throttle(failure: Failure) -> bool {
    matches!(failure, Failure::Status(429 | 503))
}

/// Whether sending the same request again cannot help: a missing `ETag`, or a 4xx other
/// than 403 (expired), 408 (timeout), 409 (conflict) and 429 (slow down).
fn is_fatal(failure: Failure) -> bool {
    match failure {
        Failure::MissingEtag => true,
        Failure::Status(status) => {
            (400..500).contains(&status) && !matches!(status, 403 | 408 | 409 | 429)
        }
        Failure::Network | Failure::Stalled | Failure::Corrupted | Failure::Expired => false,
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
        Failure::Status(status) => describe_status(status),
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
            Failure::Status(503),
            Failure::Status(504),
            Failure::Status(429),
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
    fn only_429_and_503_throttle() {
        assert!(is_throttle(Failure::Status(429)));
        assert!(is_throttle(Failure::Status(503)));
        for failure in [Failure::Status(500), Failure::Network, Failure::Stalled] {
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
