//! Upload tokens: what lets the server stay stateless. A token binds an upload's key,
//! upload id, plan and expiry under an HMAC-SHA256 with the server's secret, so any
//! instance holding the secret can serve the next call and nobody can alter it.
//!
//! Format: `base64url(json claims) "." base64url(hmac)`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::core::plan::PartPlan;
use crate::server::signing::Signer;

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

/// Signs and verifies tokens with one secret.
#[derive(Clone, Debug)]
pub struct TokenSigner {
    signer: Signer,
}

impl TokenSigner {
    /// A signer with `secret` (at least 32 bytes of randomness in practice).
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        // Tokens are tagged under the bare secret (no purpose prefix), as servers have
        // always tagged them, so instances of two versions accept each other's tokens.
        Self {
            signer: Signer::new(b"", secret.as_ref()),
        }
    }

    /// Issues a token for `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let tag = self.signer.tag(&payload);
        format!("{}.{tag}", URL_SAFE_NO_PAD.encode(payload))
    }

    /// Checks a token's signature (in constant time), shape and expiry at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        let (payload, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        if !self.signer.verify(&payload, tag) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::limits::MIB;

    fn claims() -> Claims {
        Claims {
            key: "2026/01/01/abc/a.bin".into(),
            name: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            upload_id: Some("upload-1".into()),
            plan: PartPlan::new(40 * MIB, 8 * MIB).expect("plannable"),
            full_object: true,
            started_at: 0,
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let signer = TokenSigner::new(*b"0123456789abcdef0123456789abcdef");
        let token = signer.sign(&claims());
        assert_eq!(signer.verify(&token, 999), Ok(claims()));
        assert_eq!(signer.verify(&token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn forged_and_tampered_tokens_are_refused() {
        let signer = TokenSigner::new(*b"0123456789abcdef0123456789abcdef");
        let other = TokenSigner::new(*b"another secret, another server!!");
        let token = signer.sign(&claims());
        assert_eq!(other.verify(&token, 0), Err(TokenError::Invalid));

        // Changing the claims without the secret breaks the signature.
        let (_, tag) = token.split_once('.').expect("two halves");
        let mut bigger = claims();
        bigger.plan = PartPlan::new(400 * MIB, 8 * MIB).expect("plannable");
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&bigger).expect("json"));
        assert_eq!(
            signer.verify(&format!("{forged_payload}.{tag}"), 0),
            Err(TokenError::Invalid)
        );

        // A flipped bit anywhere is caught.
        let mut bytes = token.clone().into_bytes();
        bytes[5] ^= 1;
        let flipped = String::from_utf8(bytes).expect("ascii");
        assert_eq!(signer.verify(&flipped, 0), Err(TokenError::Invalid));

        for junk in ["", ".", "abc", "abc.def", "a.b.c", "%%%.%%%"] {
            assert_eq!(signer.verify(junk, 0), Err(TokenError::Invalid), "{junk:?}");
        }
    }

    #[test]
    fn a_signed_but_inconsistent_plan_is_refused() {
        let signer = TokenSigner::new(*b"0123456789abcdef0123456789abcdef");
        let mut bad = claims();
        bad.plan.part_count = 3;
        assert_eq!(
            signer.verify(&signer.sign(&bad), 0),
            Err(TokenError::Invalid)
        );
    }
}

/// Any string as a token: refused unless this signer issued it, never a panic; any
/// change to an issued one is refused.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn signer() -> TokenSigner {
        TokenSigner::new(*b"0123456789abcdef0123456789abcdef")
    }

    fn claims(key: String, name: String, size: u64, expires_at: u64) -> Claims {
        Claims {
            key,
            name,
            content_type: "application/octet-stream".into(),
            upload_id: Some("upload".into()),
            plan: PartPlan::new(size, 0).expect("plannable"),
            full_object: true,
            started_at: 0,
            expires_at,
        }
    }

    proptest! {
        #[test]
        fn strings_the_signer_did_not_issue_are_refused(token in any::<String>()) {
            prop_assert_eq!(signer().verify(&token, 0), Err(TokenError::Invalid));
        }

        #[test]
        fn issued_tokens_verify_and_every_change_is_refused(
            key in any::<String>(),
            name in any::<String>(),
            size in 0..(1u64 << 40),
            expires_at in 1..u64::MAX,
            at in any::<prop::sample::Index>(),
            replacement in any::<char>(),
        ) {
            let claims = claims(key, name, size, expires_at);
            let token = signer().sign(&claims);
            prop_assert_eq!(signer().verify(&token, 0), Ok(claims));
            let mut chars: Vec<char> = token.chars().collect();
            let i = at.index(chars.len());
            prop_assume!(chars[i] != replacement);
            chars[i] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert_eq!(signer().verify(&changed, 0), Err(TokenError::Invalid));
        }
    }
}
