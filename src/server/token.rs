//! Upload tokens, signed: the claims and format are [`crate::core::token`]'s; here they are
//! tagged with HMAC-SHA256 under the server's secret.

pub use crate::core::token::{Claims, TokenError};
use crate::core::token::{open, seal};
use crate::server::signing::Signer;

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
        seal(claims, |payload| self.signer.tag(payload))
    }

    /// Checks a token's signature (in constant time), shape and expiry at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        open(token, now, |payload, tag| self.signer.verify(payload, tag))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::core::limits::MIB;
    use crate::core::plan::PartPlan;
    use crate::core::token::tests::claims;

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
}

/// Any string as a token: refused unless this signer issued it, never a panic; any
/// change to an issued one is refused.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::core::plan::PartPlan;
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
            link: None,
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
