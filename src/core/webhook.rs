//! Webhooks as the Standard Webhooks specification has them, so receivers can use its
//! published verifiers: each delivery carries `webhook-id`, `webhook-timestamp` and
//! `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under
//! the hook's secret, given to the operator as `whsec_` and base64). Also when a failed
//! delivery is tried again, and which hook URLs and pre-start answers are accepted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How a hook's secret is written, before its base64.
pub const SECRET_PREFIX: &str = "whsec_";
/// How many random bytes a new hook's secret has (the specification asks 24 to 64).
pub const SECRET_BYTES: usize = 32;
/// How far a delivery's timestamp may be from the receiver's clock before a verifier
/// refuses it (the specification's verifiers use five minutes).
pub const TOLERANCE_SECS: u64 = 5 * 60;
/// The longest hook URL accepted.
pub const MAX_URL_CHARS: usize = 2_000;

/// What happened, as a delivery's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "page", derive(utoipa::ToSchema))]
pub enum EventType {
    /// One file stored.
    #[serde(rename = "upload.completed")]
    UploadCompleted,
    /// Every file a person dropped together has ended.
    #[serde(rename = "batch.completed")]
    BatchCompleted,
    /// An upload link has taken all the files or bytes it may.
    #[serde(rename = "link.limit_reached")]
    LinkLimitReached,
    /// An upload link's expiry has passed.
    #[serde(rename = "link.expired")]
    LinkExpired,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::UploadCompleted,
        EventType::BatchCompleted,
        EventType::LinkLimitReached,
        EventType::LinkExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UploadCompleted => "upload.completed",
            EventType::BatchCompleted => "batch.completed",
            EventType::LinkLimitReached => "link.limit_reached",
            EventType::LinkExpired => "link.expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Why a secret, URL or signature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("a hook secret is `whsec_` followed by base64")]
    BadSecret,
    #[error("a hook URL must start with http:// or https:// and name a host: {0}")]
    BadUrl(String),
    #[error("a hook URL is at most {MAX_URL_CHARS} characters")]
    UrlTooLong,
    #[error("the delivery carries no signature s3drop would make")]
    NoMatchingSignature,
    #[error("the delivery's timestamp is too far from now")]
    Stale,
}

/// A hook's secret: the bytes its signatures are keyed with.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A secret from its random bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Reads a `whsec_` secret.
    pub fn parse(text: &str) -> Result<Self, WebhookError> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(WebhookError::BadSecret)?;
        match STANDARD.decode(encoded) {
            Ok(bytes) if !bytes.is_empty() => Ok(Self(bytes)),
            _ => Err(WebhookError::BadSecret),
        }
    }

    /// The secret as the operator is given it.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The `webhook-signature` header of a delivery (one `v1` signature).
    pub fn sign(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Checks a delivery as a receiver does: one of the header's space-separated `v1`
    /// signatures is this secret's (compared in constant time), and its timestamp is
    /// within [`TOLERANCE_SECS`] of `now`.
    pub fn verify(
        &self,
        id: &str,
        timestamp: u64,
        body: &[u8],
        header: &str,
        now: u64,
    ) -> Result<(), WebhookError> {
        if timestamp.abs_diff(now) > TOLERANCE_SECS {
            return Err(WebhookError::Stale);
        }
        let matches = header
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|encoded| STANDARD.decode(encoded).ok())
            .any(|tag| self.mac(id, timestamp, body).verify_slice(&tag).is_ok());
        matches
            .then_some(())
            .ok_or(WebhookError::NoMatchingSignature)
    }

    fn mac(&self, id: &str, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// Checks a hook URL: http or https, with a host, of a sensible length. (The receiver is
/// the operator's to name: one on this machine or the local network is allowed.)
pub fn check_url(url: &str) -> Result<(), WebhookError> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(WebhookError::UrlTooLong);
    }
    let bad = || WebhookError::BadUrl(url.chars().take(80).collect());
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    let valid = !host.is_empty()
        && !host.starts_with(':')
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then_some(()).ok_or_else(bad)
}

/// The delays before the tries after the first, doubling from `first_secs` up to an
/// hour; a delivery is retried until `retry_for_secs` have passed since its event.
pub const MAX_DELAY_SECS: u64 = 60 * 60;

/// How long to wait before try number `attempt + 1`, `attempt` tries having failed:
/// `first_secs`, doubling each time, at most [`MAX_DELAY_SECS`], stretched by up to a
/// tenth by `jitter` in `[0, 1)` so many failed deliveries do not all come back at once.
pub fn retry_delay(attempt: u32, first_secs: u64, jitter: f64) -> u64 {
    let doubled = first_secs
        .max(1)
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(32));
    let base = doubled.min(MAX_DELAY_SECS);
    // Seconds up to an hour: exact in f64.
    base + (base as f64 * 0.1 * jitter.clamp(0.0, 1.0)) as u64
}

/// Whether a delivery whose event was written at `created_at` is still tried at `at`.
pub fn still_tried(created_at: u64, at: u64, retry_for_secs: u64) -> bool {
    at <= created_at.saturating_add(retry_for_secs)
}

/// A pre-start hook's answer for one file, in the order the files were asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreStartVerdict {
    /// Whether the file may start.
    pub accept: bool,
    /// Why not, shown to the person (a refusal without one is shown a plain "refused").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A pre-start hook's whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreStartAnswer {
    pub files: Vec<PreStartVerdict>,
}

/// The longest refusal reason shown from a pre-start hook.
pub const MAX_REASON_CHARS: usize = 300;

/// Reads a pre-start hook's answer for `asked` files: exactly one verdict per file, each
/// reason trimmed to [`MAX_REASON_CHARS`] and stripped of control characters.
pub fn read_pre_start(body: &[u8], asked: usize) -> Result<Vec<PreStartVerdict>, String> {
    let answer: PreStartAnswer = serde_json::from_slice(body)
        .map_err(|e| format!("the pre-start hook's answer is not the documented JSON: {e}"))?;
    if answer.files.len() != asked {
        return Err(format!(
            "the pre-start hook answered {} files for {asked}",
            answer.files.len()
        ));
    }
    Ok(answer
        .files
        .into_iter()
        .map(|verdict| PreStartVerdict {
            accept: verdict.accept,
            reason: verdict.reason.map(|reason| {
                reason
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_REASON_CHARS)
                    .collect()
            }),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specification's own example (standard-webhooks, `spec/standard-webhooks.md`).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: u64 = 1614265330;
    const SPEC_BODY: &str = r#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signatures_are_the_specifications() {
        let secret = Secret::parse(SPEC_SECRET).expect("the spec's secret");
        assert_eq!(
            secret.sign(SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY.as_bytes()),
            SPEC_SIGNATURE
        );
        assert_eq!(secret.to_text(), SPEC_SECRET);
    }

    #[test]
    fn verifying_finds_the_matching_signature_and_refuses_the_rest() {
        let secret = Secret::parse(SPEC_SECRET).expect("the spec's secret");
        let body = SPEC_BODY.as_bytes();
        let at = SPEC_TIMESTAMP;
        let other = Secret::from_bytes(vec![7; 32]).sign(SPEC_ID, at, body);
        type Case<'a> = (&'a str, &'a [u8], &'a str, u64, Result<(), WebhookError>);
        let cases: [Case; 8] = [
            (SPEC_ID, body, SPEC_SIGNATURE, at, Ok(())),
            (
                SPEC_ID,
                body,
                &format!("{other} {SPEC_SIGNATURE}"),
                at,
                Ok(()),
            ),
            (SPEC_ID, body, SPEC_SIGNATURE, at + TOLERANCE_SECS, Ok(())),
            (
                SPEC_ID,
                br#"{"test": 2432232315}"#,
                SPEC_SIGNATURE,
                at,
                Err(WebhookError::NoMatchingSignature),
            ),
            (
                "msg_other",
                body,
                SPEC_SIGNATURE,
                at,
                Err(WebhookError::NoMatchingSignature),
            ),
            (
                SPEC_ID,
                body,
                &other,
                at,
                Err(WebhookError::NoMatchingSignature),
            ),
            (
                SPEC_ID,
                body,
                "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                at,
                Err(WebhookError::NoMatchingSignature),
            ),
            (
                SPEC_ID,
                body,
                SPEC_SIGNATURE,
                at + TOLERANCE_SECS + 1,
                Err(WebhookError::Stale),
            ),
        ];
        for (id, body, header, now, expected) in cases {
            assert_eq!(
                secret.verify(id, at, body, header, now),
                expected,
                "{id} {header} at {now}"
            );
        }
    }

    #[test]
    fn secrets_are_whsec_and_base64() {
        let cases = [
            ("whsec_AAAA", Ok(vec![0u8, 0, 0])),
            ("whsec_", Err(WebhookError::BadSecret)),
            ("whsec_not base64!", Err(WebhookError::BadSecret)),
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                Err(WebhookError::BadSecret),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                Secret::parse(text),
                expected.map(Secret::from_bytes),
                "{text}"
            );
        }
    }

    #[test]
    fn hook_urls_are_http_with_a_host() {
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        let cases = [
            ("https://hooks.example.com/s3drop", true),
            ("http://127.0.0.1:9000/hook?x=1", true),
            ("http://[::1]:8080/", true),
            ("http://user@example.com/", true),
            ("ftp://example.com/", false),
            ("https://", false),
            ("https:///path", false),
            ("http://:80/", false),
            ("example.com/hook", false),
            ("https://exa mple.com/", false),
            ("javascript:alert(1)", false),
            (long.as_str(), false),
        ];
        for (url, ok) in cases {
            assert_eq!(check_url(url).is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn retries_double_up_to_an_hour_and_stop_after_the_window() {
        let cases = [
            (1, 5, 0.0, 5),
            (2, 5, 0.0, 10),
            (3, 5, 0.0, 20),
            (4, 5, 0.99, 40 + 3),
            (10, 5, 0.0, 2_560),
            (11, 5, 0.0, MAX_DELAY_SECS),
            (u32::MAX, 5, 0.0, MAX_DELAY_SECS),
            (1, 0, 0.0, 1),
            (1, u64::MAX, 0.0, MAX_DELAY_SECS),
        ];
        for (attempt, first, jitter, expected) in cases {
            assert_eq!(
                retry_delay(attempt, first, jitter),
                expected,
                "try {attempt} from {first}"
            );
        }
        let day = 24 * 60 * 60;
        assert!(still_tried(100, 100 + day, day));
        assert!(!still_tried(100, 101 + day, day));
        assert!(still_tried(u64::MAX - 1, u64::MAX, day));
    }

    #[test]
    fn event_types_read_back() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(event));
            let json = serde_json::to_string(&event).expect("serialises");
            assert_eq!(json, format!("\"{}\"", event.as_str()));
        }
        assert_eq!(EventType::parse("upload.started"), None);
    }

    #[test]
    fn pre_start_answers_are_one_verdict_per_file() {
        let long = "x".repeat(MAX_REASON_CHARS + 10);
        let cases: [(String, usize, Result<usize, &str>); 6] = [
            (
                r#"{"files":[{"accept":true},{"accept":false,"reason":"no .exe"}]}"#.into(),
                2,
                Ok(2),
            ),
            (
                r#"{"files":[{"accept":true}]}"#.into(),
                2,
                Err("answered 1 files for 2"),
            ),
            (
                r#"{"files":[{"accept":"yes"}]}"#.into(),
                1,
                Err("not the documented JSON"),
            ),
            (
                r#"{"files":[{"accept":true,"why":"x"}]}"#.into(),
                1,
                Err("not the documented JSON"),
            ),
            ("<html>".into(), 1, Err("not the documented JSON")),
            (
                format!(r#"{{"files":[{{"accept":false,"reason":"{long}\u0007"}}]}}"#),
                1,
                Ok(1),
            ),
        ];
        for (body, asked, expected) in cases {
            match (read_pre_start(body.as_bytes(), asked), expected) {
                (Ok(verdicts), Ok(count)) => {
                    assert_eq!(verdicts.len(), count, "{body}");
                    for verdict in verdicts {
                        let reason = verdict.reason.unwrap_or_default();
                        assert!(reason.chars().count() <= MAX_REASON_CHARS);
                        assert!(!reason.chars().any(char::is_control));
                    }
                }
                (Err(err), Err(part)) => assert!(err.contains(part), "{body}: {err}"),
                (got, expected) => panic!("{body}: {got:?}, expected {expected:?}"),
            }
        }
    }
}
