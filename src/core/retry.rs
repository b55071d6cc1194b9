//! Retry policy for part and file PUTs, after Uppy's S3 uploader: a few quick retries
//! for transient failures, re-signing when a signature may have expired, and giving up
//! at once on errors that sending again cannot fix.

/// The delays before each retry, in milliseconds; after the last, the upload fails.
pub const RETRY_DELAYS_MS: [u64; 4] = [0, 1_000, 3_000, 5_000];

/// How a request to the store failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection failed or was aborted before an answer arrived.
    Network,
    /// The store answered with this HTTP status.
    Status(u16),
    /// The store accepted the part but its `ETag` could not be read (CORS does not expose it).
    MissingEtag,
}

/// What to do after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send the same request again after this many milliseconds.
    RetryAfter(u64),
    /// Ask the server for a fresh presigned URL, then send again.
    Resign,
    /// Stop: sending again cannot succeed. The text says why.
    GiveUp(String),
}

/// Decides what to do after the `attempt`-th failed try (1-based) of a request.
pub fn decide(failure: Failure, attempt: u32) -> Verdict {
    let delay = attempt
        .checked_sub(1)
        .and_then(|i| RETRY_DELAYS_MS.get(i as usize).copied());
    match (failure, delay) {
        (_, None) => Verdict::GiveUp(describe(failure)),
        (_, Some(_)) if is_fatal(failure) => Verdict::GiveUp(describe(failure)),
        // A presigned URL may have expired: fetch a new one rather than resend it.
        (Failure::Status(403), Some(_)) => Verdict::Resign,
        (_, Some(delay)) => Verdict::RetryAfter(delay),
    }
}

/// Whether sending the same request again cannot help: a missing `ETag`, or a 4xx other
/// than 403 (expired), 408 (timeout), 409 (conflict) and 429 (slow down).
fn is_fatal(failure: Failure) -> bool {
    match failure {
        Failure::MissingEtag => true,
        Failure::Status(status) => {
            (400..500).contains(&status) && !matches!(status, 403 | 408 | 409 | 429)
        }
        Failure::Network => false,
    }
}

/// A short explanation of a failure, for the person uploading.
pub fn describe(failure: Failure) -> String {
    match failure {
        Failure::Network => "the connection to the store failed".into(),
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

    #[test]
    fn transient_failures_retry_with_growing_delays() {
        for failure in [
            Failure::Network,
            Failure::Status(500),
            Failure::Status(503),
            Failure::Status(429),
            Failure::Status(408),
            Failure::Status(409),
        ] {
            let delays: Vec<_> = (1..=4).map(|a| decide(failure, a)).collect();
            assert_eq!(
                delays,
                RETRY_DELAYS_MS.map(Verdict::RetryAfter).to_vec(),
                "{failure:?}"
            );
            assert!(
                matches!(decide(failure, 5), Verdict::GiveUp(_)),
                "{failure:?}"
            );
        }
    }

    #[test]
    fn client_errors_are_fatal_at_once() {
        for status in [400, 404, 405, 411, 413] {
            assert!(matches!(
                decide(Failure::Status(status), 1),
                Verdict::GiveUp(_)
            ));
        }
        assert!(
            matches!(decide(Failure::MissingEtag, 1), Verdict::GiveUp(t) if t.contains("CORS"))
        );
    }

    #[test]
    fn forbidden_resigns_until_retries_run_out() {
        assert_eq!(decide(Failure::Status(403), 1), Verdict::Resign);
        assert_eq!(decide(Failure::Status(403), 4), Verdict::Resign);
        assert!(matches!(
            decide(Failure::Status(403), 5),
            Verdict::GiveUp(_)
        ));
    }

    #[test]
    fn statuses_are_described_for_people() {
        assert_eq!(
            describe_status(503),
            "the store is unavailable or overloaded (HTTP 503)"
        );
        assert!(describe_status(418).contains("HTTP 418"));
    }
}
