//! HMAC-SHA256 tags under the server's secret, for values the server hands out and must
//! recognise later without keeping them: upload tokens and session cookies. Session
//! cookies take their own key (a purpose prefixed to the secret), so a tag made for one
//! is never accepted as the other; upload tokens are tagged under the bare secret, as
//! they always were, so servers of two versions accept each other's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Tags and checks values with one key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    /// A signer for `purpose` under `secret`.
    pub fn new(purpose: &[u8], secret: &[u8]) -> Self {
        Self {
            key: [purpose, secret].concat(),
        }
    }

    fn mac(&self, value: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(value);
        mac
    }

    /// The tag of `value`, in URL-safe base64.
    pub fn tag(&self, value: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(value).finalize().into_bytes())
    }

    /// Whether `tag` is `value`'s, compared in constant time.
    pub fn verify(&self, value: &[u8], tag: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(tag)
            .is_ok_and(|tag| self.mac(value).verify_slice(&tag).is_ok())
    }

    /// Whether two values are equal, compared in constant time (through their tags).
    pub fn same(&self, a: &[u8], b: &[u8]) -> bool {
        self.mac(a)
            .verify(&self.mac(b).finalize().into_bytes())
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_verify_only_under_their_key_and_value() {
        let signer = Signer::new(b"test\0", b"secret");
        let tag = signer.tag(b"value");
        assert!(signer.verify(b"value", &tag));
        assert!(!signer.verify(b"value!", &tag));
        assert!(!Signer::new(b"other\0", b"secret").verify(b"value", &tag));
        assert!(!signer.verify(b"value", "%%"));
        assert!(signer.same(b"a", b"a"));
        assert!(!signer.same(b"a", b"b"));
    }
}
