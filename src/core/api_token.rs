//! API tokens as scripts send them: `Authorization: Bearer s3d_…`, 32 random bytes in
//! unpadded base64url after the prefix. The prefix tells them apart from other bearer
//! tokens (the metrics token) and lets secret scanners find a leaked one.

/// How every API token starts.
pub const PREFIX: &str = "s3d_";
/// How many characters follow the prefix (32 bytes, base64url without padding).
pub const SECRET_CHARS: usize = 43;
/// The longest name a token may have.
pub const MAX_NAME_CHARS: usize = 100;

/// The API token an `Authorization` header's value carries, if it carries one.
pub fn from_header(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && token.starts_with(PREFIX)).then_some(token)
}

/// Whether `token` has an API token's shape (checked before any lookup).
pub fn is_shaped(token: &str) -> bool {
    token.strip_prefix(PREFIX).is_some_and(|secret| {
        secret.len() == SECRET_CHARS
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A token's name, trimmed: not empty, not too long, no control characters.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("give the token a name (what uses it)".into());
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(format!(
            "a token's name is at most {MAX_NAME_CHARS} characters, without control characters"
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "s3d_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn tokens_are_read_from_bearer_headers() {
        let cases = [
            (format!("Bearer {TOKEN}"), Some(TOKEN)),
            (format!("bearer  {TOKEN} "), Some(TOKEN)),
            ("Bearer metrics-token-of-sixteen".into(), None),
            (format!("Basic {TOKEN}"), None),
            (TOKEN.into(), None),
        ];
        for (header, expected) in cases {
            assert_eq!(from_header(&header), expected, "{header}");
        }
    }

    #[test]
    fn shapes_and_names() {
        assert!(is_shaped(TOKEN));
        assert!(!is_shaped(&TOKEN[..TOKEN.len() - 1]));
        assert!(!is_shaped(&format!("{TOKEN}A")));
        assert!(!is_shaped(&TOKEN.replace("s3d_", "s3x_")));
        assert!(!is_shaped(&TOKEN.replacen('A', "=", 1)));
        assert_eq!(check_name("  nightly backup "), Ok("nightly backup".into()));
        assert!(check_name(" ").is_err());
        assert!(check_name("a\u{7}b").is_err());
        assert!(check_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
