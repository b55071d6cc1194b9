//! Upload links' rules: a link's limits and what it already holds, checked for each
//! file that starts through it. Pure, so the arithmetic (reserve at start, release on
//! abort or expiry; exactly at a limit, one byte over) is tested with tables; the
//! database serialises the starts through one link and applies these rules under its
//! lock (`server::links`).

use serde::{Deserialize, Serialize};

use super::limits::MAX_OBJECT_SIZE;
use super::policy::{UploadPolicy, check_folder, type_allowed};

/// The most files one link may be allowed: beyond it a limit means nothing.
pub const MAX_LINK_FILES: u64 = 10_000_000;
/// The most bytes one link may be allowed (a petabyte): beyond it, no limit is meant.
pub const MAX_LINK_BYTES: u64 = 1 << 50;
/// The longest label or message, in characters.
pub const MAX_LABEL_CHARS: usize = 200;
/// The longest message shown to the uploader, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2_000;
/// The longest uploader's name, in characters.
pub const MAX_UPLOADER_CHARS: usize = 100;
/// A link's secret: 24 random bytes in unpadded base64url (192 bits).
pub const SECRET_CHARS: usize = 32;

/// What a link lets through; `None` is no limit of that kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "page", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// All files together, in bytes.
    pub max_bytes: Option<u64>,
    /// How many files.
    pub max_files: Option<u64>,
    /// The largest file, in bytes.
    pub max_file_size: Option<u64>,
    /// Accepted files, as `--allowed-types` says them; empty accepts all.
    pub allowed_types: Vec<String>,
}

/// What a link holds: the files started and not released (in flight or stored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "page", derive(utoipa::ToSchema))]
pub struct Held {
    pub bytes: u64,
    pub files: u64,
}

/// Why a link takes no more files, or not this one, in words the uploader can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("this upload link has been revoked")]
    Revoked,
    #[error("this upload link has expired")]
    Expired,
    #[error("the file is {size} bytes; this link takes files up to {limit} bytes")]
    FileTooLarge { size: u64, limit: u64 },
    #[error("the file is {size} bytes; this link has {left} bytes left")]
    NoRoom { size: u64, left: u64 },
    #[error("this link takes {limit} files, and has taken them all")]
    NoFilesLeft { limit: u64 },
    #[error("files of type {0} are not accepted by this link")]
    TypeNotAllowed(String),
}

/// Why a link cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the label is empty")]
    EmptyLabel,
    #[error("the label is longer than {MAX_LABEL_CHARS} characters")]
    LabelTooLong,
    #[error("the message is longer than {MAX_MESSAGE_CHARS} characters")]
    MessageTooLong,
    #[error(
        "the folder must be plain names joined by `/`, with no `/` at either end and no `.` or `..`: {0}"
    )]
    BadFolder(String),
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("{what} is more than {most}")]
    Absurd { what: &'static str, most: u64 },
    #[error("the expiry must be in the future")]
    ExpiryPast,
}

impl Limits {
    /// Checks limits an operator asks for: none zero, none beyond what S3 or sense allows.
    pub fn check(&self) -> Result<(), LinkError> {
        let bounds = [
            ("the total size", self.max_bytes, MAX_LINK_BYTES),
            ("the number of files", self.max_files, MAX_LINK_FILES),
            ("the largest file", self.max_file_size, MAX_OBJECT_SIZE),
        ];
        for (what, value, most) in bounds {
            match value {
                Some(0) => return Err(LinkError::Zero(what)),
                Some(value) if value > most => return Err(LinkError::Absurd { what, most }),
                _ => {}
            }
        }
        Ok(())
    }

    /// What the link holds once `size` more bytes start through it, or why not.
    pub fn reserve(
        &self,
        held: Held,
        name: &str,
        content_type: &str,
        size: u64,
    ) -> Result<Held, LinkRefusal> {
        if let Some(limit) = self.max_file_size
            && size > limit
        {
            return Err(LinkRefusal::FileTooLarge { size, limit });
        }
        if !type_allowed(&self.allowed_types, name, content_type) {
            return Err(LinkRefusal::TypeNotAllowed(content_type.to_owned()));
        }
        if let Some(limit) = self.max_files
            && held.files >= limit
        {
            return Err(LinkRefusal::NoFilesLeft { limit });
        }
        if let Some(limit) = self.max_bytes {
            let left = limit.saturating_sub(held.bytes);
            if size > left {
                return Err(LinkRefusal::NoRoom { size, left });
            }
        }
        Ok(Held {
            bytes: held.bytes.saturating_add(size),
            files: held.files.saturating_add(1),
        })
    }
}

impl Limits {
    /// The server's `policy` as a link narrows it, for the page to pre-check files: the
    /// smaller largest file, and the link's types where the server accepts all. (Where
    /// both name types, the server's stay: it checks both at start.)
    pub fn narrow(&self, policy: UploadPolicy) -> UploadPolicy {
        let max_file_size = self
            .max_file_size
            .map_or(policy.max_file_size, |l| l.min(policy.max_file_size));
        let allowed_types = match policy.allowed_types.is_empty() {
            true => self.allowed_types.clone(),
            false => policy.allowed_types,
        };
        UploadPolicy {
            max_file_size,
            allowed_types,
            ..policy
        }
    }
}

impl Held {
    /// What the link holds once a file of `size` bytes is released (cancelled, failed or
    /// expired before it was stored), never below nothing.
    pub fn release(self, size: u64) -> Held {
        Held {
            bytes: self.bytes.saturating_sub(size),
            files: self.files.saturating_sub(1),
        }
    }
}

/// Whether a link takes files at `now` (Unix seconds): not revoked, not expired.
pub fn check_open(expires_at: u64, revoked_at: Option<u64>, now: u64) -> Result<(), LinkRefusal> {
    if revoked_at.is_some_and(|at| at <= now) {
        return Err(LinkRefusal::Revoked);
    }
    if now >= expires_at {
        return Err(LinkRefusal::Expired);
    }
    Ok(())
}

/// Checks a link's destination folder (`clients/acme`): plain names joined by `/`, none
/// `.` or `..`, no `/` at either end; empty puts the link's files under the key prefix.
pub fn check_destination(folder: &str) -> Result<(), LinkError> {
    let bad = || LinkError::BadFolder(folder.chars().take(100).collect());
    if folder.starts_with('/') || folder.ends_with('/') || folder.contains("//") {
        return Err(bad());
    }
    check_folder(folder).map_err(|_| bad())
}

/// Checks a label and an optional message for the uploader.
pub fn check_words(label: &str, message: Option<&str>) -> Result<(), LinkError> {
    if label.trim().is_empty() {
        return Err(LinkError::EmptyLabel);
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(LinkError::LabelTooLong);
    }
    if message.is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS) {
        return Err(LinkError::MessageTooLong);
    }
    Ok(())
}

/// Whether `text` has a link secret's shape, so junk is refused before any lookup.
pub fn is_secret_shaped(text: &str) -> bool {
    text.len() == SECRET_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The uploader's name as given, trimmed; `None` when empty; refused when too long or
/// not printable.
pub fn uploader_name(given: &str) -> Result<Option<String>, &'static str> {
    let name = given.trim();
    if name.chars().count() > MAX_UPLOADER_CHARS {
        return Err("the name is too long");
    }
    if name.chars().any(char::is_control) {
        return Err("the name contains control characters");
    }
    Ok((!name.is_empty()).then(|| name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_bytes: Option<u64>, max_files: Option<u64>, max_file: Option<u64>) -> Limits {
        Limits {
            max_bytes,
            max_files,
            max_file_size: max_file,
            allowed_types: Vec::new(),
        }
    }

    fn held(bytes: u64, files: u64) -> Held {
        Held { bytes, files }
    }

    #[test]
    fn reserving_counts_bytes_and_files_up_to_the_limits() {
        use LinkRefusal::*;
        let some = limits(Some(100), Some(3), Some(60));
        let cases: &[(&Limits, Held, u64, Result<Held, LinkRefusal>)] = &[
            (&some, held(0, 0), 10, Ok(held(10, 1))),
            (&some, held(40, 1), 60, Ok(held(100, 2))),
            (&some, held(41, 1), 60, Err(NoRoom { size: 60, left: 59 })),
            (&some, held(100, 2), 0, Ok(held(100, 3))),
            (&some, held(100, 2), 1, Err(NoRoom { size: 1, left: 0 })),
            (&some, held(10, 3), 0, Err(NoFilesLeft { limit: 3 })),
            (
                &some,
                held(0, 0),
                61,
                Err(FileTooLarge {
                    size: 61,
                    limit: 60,
                }),
            ),
            // Held past a limit lowered later: nothing more, never an underflow.
            (&some, held(150, 1), 0, Ok(held(150, 2))),
            (&some, held(150, 1), 1, Err(NoRoom { size: 1, left: 0 })),
            (
                &Limits::default(),
                held(u64::MAX, u64::MAX),
                u64::MAX,
                Ok(held(u64::MAX, u64::MAX)),
            ),
        ];
        for (limits, held, size, expected) in cases {
            assert_eq!(
                &limits.reserve(*held, "a.bin", "application/octet-stream", *size),
                expected,
                "{held:?} + {size}"
            );
        }
    }

    #[test]
    fn a_link_may_narrow_the_types() {
        let photos = Limits {
            allowed_types: vec!["image/*".into(), ".pdf".into()],
            ..Limits::default()
        };
        let reserve = |name, kind| photos.reserve(Held::default(), name, kind, 1).is_ok();
        assert!(reserve("a.jpg", "image/jpeg"));
        assert!(reserve("a.PDF", "application/octet-stream"));
        assert_eq!(
            photos.reserve(Held::default(), "a.exe", "application/x-msdownload", 1),
            Err(LinkRefusal::TypeNotAllowed(
                "application/x-msdownload".into()
            ))
        );
    }

    #[test]
    fn releasing_gives_back_what_was_reserved_and_never_goes_below_nothing() {
        let limits = limits(Some(100), Some(2), None);
        let after = limits
            .reserve(held(0, 0), "a", "text/plain", 70)
            .expect("room");
        assert_eq!(
            limits.reserve(after, "b", "text/plain", 31),
            Err(LinkRefusal::NoRoom { size: 31, left: 30 })
        );
        let released = after.release(70);
        assert_eq!(released, held(0, 0));
        assert_eq!(
            limits.reserve(released, "b", "text/plain", 100),
            Ok(held(100, 1))
        );
        assert_eq!(held(5, 0).release(10), held(0, 0));
    }

    #[test]
    fn a_link_narrows_what_the_page_pre_checks() {
        let server = UploadPolicy {
            max_file_size: 100,
            ..UploadPolicy::default()
        };
        let link = Limits {
            max_file_size: Some(50),
            allowed_types: vec!["image/*".into()],
            ..Limits::default()
        };
        let narrowed = link.narrow(server.clone());
        assert_eq!(
            (narrowed.max_file_size, narrowed.allowed_types.clone()),
            (50, vec!["image/*".to_owned()])
        );
        assert_eq!(Limits::default().narrow(server.clone()), server);
        let wide = Limits {
            max_file_size: Some(500),
            ..Limits::default()
        };
        assert_eq!(wide.narrow(server.clone()).max_file_size, 100);
        let typed = UploadPolicy {
            allowed_types: vec![".pdf".into()],
            ..server
        };
        assert_eq!(link.narrow(typed).allowed_types, [".pdf"]);
    }

    #[test]
    fn limits_are_checked_for_sense() {
        let ok = [
            limits(None, None, None),
            limits(Some(1), Some(1), Some(1)),
            limits(
                Some(MAX_LINK_BYTES),
                Some(MAX_LINK_FILES),
                Some(MAX_OBJECT_SIZE),
            ),
        ];
        for l in ok {
            assert_eq!(l.check(), Ok(()), "{l:?}");
        }
        let bad = [
            limits(Some(0), None, None),
            limits(None, Some(0), None),
            limits(None, None, Some(0)),
            limits(Some(MAX_LINK_BYTES + 1), None, None),
            limits(None, Some(MAX_LINK_FILES + 1), None),
            limits(None, None, Some(MAX_OBJECT_SIZE + 1)),
        ];
        for l in bad {
            assert!(l.check().is_err(), "{l:?}");
        }
    }

    #[test]
    fn a_link_is_open_until_it_expires_or_is_revoked() {
        use LinkRefusal::*;
        let cases = [
            (1_000, None, 999, Ok(())),
            (1_000, None, 1_000, Err(Expired)),
            (1_000, Some(500), 600, Err(Revoked)),
            (1_000, Some(500), 1_200, Err(Revoked)),
            (1_000, Some(700), 600, Ok(())),
        ];
        for (expires_at, revoked_at, now, expected) in cases {
            assert_eq!(
                check_open(expires_at, revoked_at, now),
                expected,
                "{revoked_at:?} at {now}"
            );
        }
    }

    #[test]
    fn destinations_are_plain_folders() {
        for ok in ["", "clients", "clients/acme", "Photos 2026/été"] {
            assert_eq!(check_destination(ok), Ok(()), "{ok:?}");
        }
        for bad in [
            "/clients",
            "clients/",
            "/",
            "a//b",
            "..",
            "a/../b",
            "./a",
            "a/.",
            "a\\b",
            "a\nb",
            "x\u{202e}y",
        ] {
            assert!(check_destination(bad).is_err(), "{bad:?}");
        }
        assert!(check_destination("a/".repeat(40).trim_end_matches('/')).is_err());
    }

    #[test]
    fn secrets_words_and_names() {
        assert!(is_secret_shaped("abcdefghijABCDEFGHIJ0123456789-_"));
        for junk in [
            "",
            "short",
            "abcdefghijABCDEFGHIJ0123456789-_x",
            "abcdefghijABCDEFGHIJ0123456789+/",
            "../../../../../../../../etc/pass",
        ] {
            assert!(!is_secret_shaped(junk), "{junk:?}");
        }
        assert_eq!(check_words("Photos", Some("Thanks!")), Ok(()));
        assert_eq!(check_words("  ", None), Err(LinkError::EmptyLabel));
        assert_eq!(
            check_words(&"x".repeat(201), None),
            Err(LinkError::LabelTooLong)
        );
        assert_eq!(
            check_words("x", Some(&"y".repeat(2_001))),
            Err(LinkError::MessageTooLong)
        );
        assert_eq!(
            uploader_name("  Ada Lovelace "),
            Ok(Some("Ada Lovelace".into()))
        );
        assert_eq!(uploader_name("   "), Ok(None));
        assert!(uploader_name("a\u{0007}").is_err());
        assert!(uploader_name(&"n".repeat(101)).is_err());
    }
}
