//! Upload tokens' claims and wire format: what lets the server stay stateless. A token
//! binds an upload's key, upload id, plan and expiry under a tag only the server can make
//! (`server::token` tags it with HMAC-SHA256), so any instance holding the secret
//! can serve the next call and nobody can alter it.
//!
//! Format: `base64url(json claims) "." tag`. Reading one is pure, so its checks are tested
//! with tables here and fuzzed (`fuzz/`) past the tag, as if the server had signed junk.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::core::plan::PartPlan;

/// How long a token is accepted unless the operator says otherwise (`--token-ttl`), in
/// seconds: a day, how long an upload may take. The page keeps a file's handle as long.
pub const DEFAULT_LIFETIME_SECS: u64 = 24 * 60 * 60;

/// What a token vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The object key the server chose.
    pub key: String,
    /// The file's original name, for the download's file name.
    pub name: String,
    /// The normalised content type the upload was started with.
    pub content_type: String,
    /// The multipart upload id, or `None` for a single PUT.
    pub upload_id: Option<String>,
    /// The plan the parts must follow (one part for a single PUT).
    pub plan: PartPlan,
    /// Whether the multipart upload was created with S3's full-object checksum type: it
    /// is then completed with the whole file's CRC32C. (Tokens issued before there was
    /// a choice are of the composite kind.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_object: bool,
    /// The upload link it started through, if any: its completion is refused once the
    /// link is revoked or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// When the upload started, in seconds since the Unix epoch (for its duration).
    pub started_at: u64,
    /// When the token stops being accepted, in seconds since the Unix epoch.
    pub expires_at: u64,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed, forged or tampered with")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// The token for `claims`, its payload tagged by `tag`.
pub fn seal(claims: &Claims, tag: impl FnOnce(&[u8]) -> String) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let tag = tag(&payload);
    format!("{}.{tag}", URL_SAFE_NO_PAD.encode(payload))
}

/// The claims of `token` if `authentic(payload, tag)` vouches for its tag, its plan is
/// consistent and it has not expired at `now` (Unix seconds).
pub fn open(
    token: &str,
    now: u64,
    authentic: impl FnOnce(&[u8], &str) -> bool,
) -> Result<Claims, TokenError> {
    let (payload, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Invalid)?;
    if !authentic(&payload, tag) {
        return Err(TokenError::Invalid);
    }
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)?;
    if !claims.plan.is_valid() {
        return Err(TokenError::Invalid);
    }
    if now >= claims.expires_at {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::core::limits::MIB;

    /// A multipart upload's claims, valid until second 1,000 (the server's tests sign it).
    pub(crate) fn claims() -> Claims {
        Claims {
            key: "2026/01/01/abc/a.bin".into(),
            name: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            upload_id: Some("upload-1".into()),
            plan: PartPlan::new(40 * MIB, 8 * MIB).expect("plannable"),
            full_object: true,
            link: None,
            started_at: 0,
            expires_at: 1_000,
        }
    }

    /// Opens as if every tag were right: what is checked past the tag.
    fn open_signed(token: &str, now: u64) -> Result<Claims, TokenError> {
        open(token, now, |_, _| true)
    }

    #[test]
    fn claims_come_back_until_they_expire() {
        let token = seal(&claims(), |_| "tag".into());
        assert!(token.ends_with(".tag"), "{token}");
        assert_eq!(open_signed(&token, 999), Ok(claims()));
        assert_eq!(open_signed(&token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn the_tag_is_checked_against_the_payload_it_came_with() {
        let token = seal(&claims(), |payload| payload.len().to_string());
        let authentic = |payload: &[u8], tag: &str| payload.len().to_string() == tag;
        assert_eq!(open(&token, 0, authentic), Ok(claims()));
        assert_eq!(open(&token, 0, |_, _| false), Err(TokenError::Invalid));
    }

    #[test]
    fn malformed_tokens_and_inconsistent_plans_are_refused() {
        let json = |s: &str| format!("{}.tag", URL_SAFE_NO_PAD.encode(s));
        let mut bad_plan = claims();
        bad_plan.plan.part_count = 3;
        let cases = [
            String::new(),
            ".".into(),
            "abc".into(),
            "%%%.%%%".into(),
            json("not json"),
            json("{}"),
            json(r#"{"key":"k"}"#),
            seal(&bad_plan, |_| "tag".into()),
        ];
        for token in cases {
            assert_eq!(
                open_signed(&token, 0),
                Err(TokenError::Invalid),
                "{token:?}"
            );
        }
    }

    #[test]
    fn tokens_from_before_full_object_checksums_open_as_composite() {
        let mut old = serde_json::to_value(claims()).expect("json");
        old.as_object_mut()
            .expect("an object")
            .remove("full_object");
        let token = format!("{}.tag", URL_SAFE_NO_PAD.encode(old.to_string()));
        let opened = open_signed(&token, 0).expect("opens");
        assert!(!opened.full_object);
    }
}
