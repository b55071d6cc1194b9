//! The upload policy: which files the server accepts, checked on the server before it
//! signs anything, and shown (and pre-checked) in the browser before a byte is sent.

use serde::{Deserialize, Serialize};

use super::limits::{DEFAULT_PART_SIZE, MAX_OBJECT_SIZE, MIN_PART_SIZE};

/// The longest file name accepted, in bytes (most file systems stop at 255).
pub const MAX_NAME_BYTES: usize = 255;
/// The content type recorded when the browser does not know one.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// What the server accepts; the page receives a copy to explain and pre-check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "page", derive(utoipa::ToSchema))]
pub struct UploadPolicy {
    /// The largest file accepted, in bytes.
    pub max_file_size: u64,
    /// Accepted files: by content type, exact (`image/png`) or by family (`image/*`), or
    /// by extension (`.pdf`); a file matching any entry is accepted. Empty accepts all.
    pub allowed_types: Vec<String>,
    /// How many files the page takes at a time (until finished ones are cleared); the
    /// page enforces it, the server's per-client rate limit bounds what a script sends.
    #[serde(default)]
    pub max_files: Option<u32>,
    /// The server's part size: the size of every part but the last of a multipart
    /// upload (raised for files that would need more than 10,000), and so the largest
    /// file that goes in one PUT ([`crate::core::plan::PartPlan::is_single_put`]). The
    /// page computes such a file's checksum before it starts it, so the start answers
    /// with the signed PUT.
    #[serde(default = "smallest_part")]
    pub part_size: u64,
}

/// A server that does not say: no part is smaller than S3's minimum.
fn smallest_part() -> u64 {
    MIN_PART_SIZE
}

impl Default for UploadPolicy {
    fn default() -> Self {
        Self {
            max_file_size: MAX_OBJECT_SIZE,
            allowed_types: Vec::new(),
            max_files: None,
            part_size: DEFAULT_PART_SIZE,
        }
    }
}

/// Why a file is refused, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the file name is empty")]
    EmptyName,
    #[error("the file name is longer than {MAX_NAME_BYTES} bytes")]
    NameTooLong,
    #[error("the file name must be a plain name, not a path")]
    PathLikeName,
    #[error("the file name contains control characters")]
    ControlCharacters,
    #[error(
        "the file name contains characters that change the direction of its text (a way to disguise a file's type)"
    )]
    BidiControls,
    #[error(
        "the file name contains invisible characters (a zero-width space, soft hyphen or the like) that make it look like another name"
    )]
    InvisibleCharacters,
    #[error("the file is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("\"{0}\" is not a valid content type")]
    InvalidType(String),
    #[error("files of type {0} are not accepted here")]
    TypeNotAllowed(String),
    #[error("at most {0} files are taken at a time here")]
    TooManyFiles(u32),
    #[error(
        "the folder path is deeper than {MAX_FOLDER_DEPTH} folders or longer than {MAX_FOLDER_BYTES} bytes"
    )]
    FolderTooDeep,
    #[error("a folder in the path is not a plain name: {0}")]
    BadFolder(String),
}

/// How many folders deep a dropped file may sit.
pub const MAX_FOLDER_DEPTH: usize = 32;
/// How long a folder path may be, in bytes (S3 keys are at most 1024).
pub const MAX_FOLDER_BYTES: usize = 512;

/// Checks the folder a file was dropped or picked in (`photos/2024`): empty, or plain
/// names joined by `/`, each as [`check_name`] wants it.
pub fn check_folder(folder: &str) -> Result<(), PolicyError> {
    if folder.is_empty() {
        return Ok(());
    }
    if folder.len() > MAX_FOLDER_BYTES || folder.split('/').count() > MAX_FOLDER_DEPTH {
        return Err(PolicyError::FolderTooDeep);
    }
    for segment in folder.split('/') {
        check_name(segment).map_err(|e| PolicyError::BadFolder(e.to_string()))?;
    }
    Ok(())
}

impl UploadPolicy {
    /// Checks a file the browser wants to upload; returns its normalised content type.
    pub fn check(&self, name: &str, size: u64, content_type: &str) -> Result<String, PolicyError> {
        check_name(name)?;
        if size > self.max_file_size {
            return Err(PolicyError::TooLarge {
                size,
                limit: self.max_file_size,
            });
        }
        let content_type = normalise_type(content_type)?;
        if !self.allows(name, &content_type) {
            return Err(PolicyError::TypeNotAllowed(content_type));
        }
        Ok(content_type)
    }

    /// Checks one more file when `accepted` files are already on the page.
    pub fn check_count(&self, accepted: usize) -> Result<(), PolicyError> {
        match self.max_files {
            Some(limit) if accepted >= limit as usize => Err(PolicyError::TooManyFiles(limit)),
            _ => Ok(()),
        }
    }

    fn allows(&self, name: &str, content_type: &str) -> bool {
        type_allowed(&self.allowed_types, name, content_type)
    }

    /// The rules in words, for the page to show before anything is sent.
    pub fn describe(&self, format_size: impl Fn(u64) -> String) -> String {
        let mut size = format!("up to {} per file", format_size(self.max_file_size));
        if let Some(count) = self.max_files {
            size += &format!(", {count} files at a time");
        }
        if self.allowed_types.is_empty() {
            format!("Any type of file, {size}.")
        } else {
            format!("{}; {size}.", self.allowed_types.join(", "))
        }
    }
}

/// Accepted types as people list them (`Image/*, .PDF,`): trimmed, lower-cased, empty
/// entries dropped.
pub fn normalise_types<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    patterns
        .into_iter()
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether a file matches any of `patterns` (a content type, exact or `family/*`, or an
/// extension `.pdf`); no patterns accept every file.
pub fn type_allowed(patterns: &[String], name: &str, content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    patterns.is_empty()
        || patterns.iter().any(|pattern| {
            if let Some(wanted) = pattern.strip_prefix('.') {
                extension.as_deref() == Some(&wanted.to_ascii_lowercase())
            } else if let Some(family) = pattern.strip_suffix("/*") {
                essence
                    .split_once('/')
                    .is_some_and(|(t, _)| t.eq_ignore_ascii_case(family))
            } else {
                essence.eq_ignore_ascii_case(pattern)
            }
        })
}

/// Checks that `name` is a plain, non-empty file name: no separators, no `.`/`..`,
/// no control characters. Any other Unicode is kept.
pub fn check_name(name: &str) -> Result<(), PolicyError> {
    if name.trim().is_empty() {
        return Err(PolicyError::EmptyName);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(PolicyError::NameTooLong);
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(PolicyError::PathLikeName);
    }
    if name.chars().any(char::is_control) {
        return Err(PolicyError::ControlCharacters);
    }
    if name.chars().any(is_bidi_control) {
        return Err(PolicyError::BidiControls);
    }
    if name.chars().any(is_invisible) {
        return Err(PolicyError::InvisibleCharacters);
    }
    Ok(())
}

/// Unicode's explicit direction marks, embeddings, overrides and isolates: in a file
/// name they only ever serve to disguise it.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Unicode's other invisible format characters that can hide or fake part of a name:
/// zero-width space, word joiners and invisible operators, the byte-order mark, the soft
/// hyphen, the Mongolian vowel separator, interlinear annotations and tag characters.
/// Zero-width joiners and non-joiners stay: emoji and Persian and Indic scripts need them.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00ad}' | '\u{180e}' | '\u{200b}' | '\u{2060}'..='\u{2064}' | '\u{206a}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

/// Lower-cases a MIME type and checks its shape (`type/subtype`, optional parameters);
/// an empty type becomes `application/octet-stream`.
pub fn normalise_type(content_type: &str) -> Result<String, PolicyError> {
    let trimmed = content_type.trim();
    if trimmed.is_empty() {
        return Ok(DEFAULT_CONTENT_TYPE.to_owned());
    }
    let invalid = || PolicyError::InvalidType(trimmed.chars().take(100).collect());
    let essence = trimmed.split(';').next().unwrap_or_default();
    let (kind, subtype) = essence.split_once('/').ok_or_else(invalid)?;
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    if trimmed.len() > 255
        || !is_token(kind.trim())
        || !is_token(subtype.trim())
        || trimmed.chars().any(|c| c.is_control() || !c.is_ascii())
    {
        return Err(invalid());
    }
    Ok(trimmed.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check_name("report 2026.pdf"), Ok(()));
        assert_eq!(check_name("日本語 ファイル.txt"), Ok(()));
        assert_eq!(check_name(".hidden"), Ok(()));
        assert_eq!(check_name(""), Err(PolicyError::EmptyName));
        assert_eq!(check_name("   "), Err(PolicyError::EmptyName));
        assert_eq!(check_name("../etc/passwd"), Err(PolicyError::PathLikeName));
        assert_eq!(check_name("a\\b"), Err(PolicyError::PathLikeName));
        assert_eq!(check_name(".."), Err(PolicyError::PathLikeName));
        assert_eq!(check_name("a\nb"), Err(PolicyError::ControlCharacters));
        for spoof in [
            "photo\u{202e}gpj.exe",
            "a\u{2066}b",
            "x\u{200f}.txt",
            "\u{061c}y",
        ] {
            assert_eq!(
                check_name(spoof),
                Err(PolicyError::BidiControls),
                "{spoof:?}"
            );
        }
        for hidden in [
            "pay\u{200b}pal.pdf",
            "in\u{00ad}voice.pdf",
            "\u{feff}a.txt",
            "a\u{2061}b",
            "flag\u{e0067}.txt",
        ] {
            assert_eq!(
                check_name(hidden),
                Err(PolicyError::InvisibleCharacters),
                "{hidden:?}"
            );
        }
        for joined in ["👨\u{200d}👩\u{200d}👧.jpg", "می\u{200c}خواهم.txt"] {
            assert_eq!(check_name(joined), Ok(()), "{joined:?}");
        }
        assert_eq!(
            check_name("عربي.txt"),
            Ok(()),
            "right-to-left text itself is fine"
        );
        assert_eq!(check_name(&"x".repeat(256)), Err(PolicyError::NameTooLong));
        assert_eq!(check_name(&"x".repeat(255)), Ok(()));
    }

    #[test]
    fn content_types() {
        assert_eq!(normalise_type("").as_deref(), Ok(DEFAULT_CONTENT_TYPE));
        assert_eq!(normalise_type("Image/PNG").as_deref(), Ok("image/png"));
        assert_eq!(
            normalise_type("text/plain; charset=utf-8").as_deref(),
            Ok("text/plain; charset=utf-8")
        );
        for bad in [
            "png",
            "/png",
            "image/",
            "te xt/plain",
            "text/plä",
            "a/b\r\nx: y",
        ] {
            assert!(normalise_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sizes_and_types() {
        let policy = UploadPolicy {
            max_file_size: 100,
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            ..UploadPolicy::default()
        };
        assert_eq!(
            policy.check("a.png", 100, "image/png").as_deref(),
            Ok("image/png")
        );
        assert_eq!(
            policy.check("a.pdf", 0, "application/pdf").as_deref(),
            Ok("application/pdf")
        );
        assert_eq!(
            policy.check("a.png", 101, "image/png"),
            Err(PolicyError::TooLarge {
                size: 101,
                limit: 100
            })
        );
        assert_eq!(
            policy.check("a.txt", 1, "text/plain"),
            Err(PolicyError::TypeNotAllowed("text/plain".into()))
        );
        assert_eq!(
            policy.check("a.bin", 1, ""),
            Err(PolicyError::TypeNotAllowed(DEFAULT_CONTENT_TYPE.into()))
        );
        assert!(UploadPolicy::default().check("a.bin", 1, "").is_ok());
        // By extension, whatever type the browser guessed.
        let by_extension = UploadPolicy {
            max_file_size: 100,
            allowed_types: vec![".pdf".into(), "image/*".into()],
            ..UploadPolicy::default()
        };
        assert!(by_extension.check("Report.PDF", 1, "").is_ok());
        assert!(by_extension.check("photo.jpeg", 1, "image/jpeg").is_ok());
        assert!(by_extension.check("notes.txt", 1, "text/plain").is_err());
        assert!(by_extension.check("pdf", 1, "").is_err());
        assert_eq!(
            by_extension.describe(|n| format!("{n} B")),
            ".pdf, image/*; up to 100 B per file."
        );
    }

    #[test]
    fn folders_are_plain_names_joined_by_slashes() {
        assert_eq!(check_folder(""), Ok(()));
        assert_eq!(check_folder("photos/2024 trip"), Ok(()));
        for bad in [
            "/abs",
            "a//b",
            "a/../b",
            "a/./b",
            "trailing/",
            "a\\b/c",
            "x/\u{7}",
        ] {
            assert!(check_folder(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            check_folder(&["d"; 33].join("/")),
            Err(PolicyError::FolderTooDeep)
        );
        assert_eq!(
            check_folder(&"x".repeat(513)),
            Err(PolicyError::FolderTooDeep)
        );
    }

    #[test]
    fn a_count_limit_is_checked_and_described() {
        let policy = UploadPolicy {
            max_files: Some(2),
            ..UploadPolicy::default()
        };
        assert_eq!(policy.check_count(1), Ok(()));
        assert_eq!(policy.check_count(2), Err(PolicyError::TooManyFiles(2)));
        assert!(
            policy
                .describe(|n| n.to_string())
                .ends_with(", 2 files at a time.")
        );
        assert_eq!(UploadPolicy::default().check_count(usize::MAX), Ok(()));
    }
}

/// Any name a browser or a script can send: checking it never panics, and what is
/// accepted is a plain name whose key stays under the prefix and names it.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::core::key::{Date, display_name, object_key, uploaded_path};
    use proptest::prelude::*;

    const DATE: Date = Date {
        year: 2026,
        month: 12,
        day: 4,
    };
    const ID: &str = "0123456789abcdef0123456789abcdef";

    proptest! {
        #[test]
        fn accepted_names_are_plain_and_their_keys_stay_put(name in any::<String>()) {
            if check_name(&name).is_ok() {
                prop_assert!(!name.is_empty() && name.len() <= 255);
                prop_assert!(!name.contains(['/', '\\']) && !name.chars().any(char::is_control));
                prop_assert!(name != "." && name != "..");
                let key = object_key("uploads/", DATE, ID, "", &name);
                prop_assert_eq!(uploaded_path("uploads/", &key), Some(display_name(&key)));
                prop_assert!(!key.contains("/../") && !key.contains("//"));
            }
        }

        #[test]
        fn accepted_folders_keep_every_key_under_the_prefix(
            folder in "[a-z./\\\\ \u{202e}\u{1}-\u{1f}]{0,40}",
            name in "[a-z.]{1,12}",
        ) {
            if check_folder(&folder).is_ok() && check_name(&name).is_ok() {
                let key = object_key("uploads/", DATE, ID, &folder, &name);
                let path = uploaded_path("uploads/", &key);
                prop_assert!(path.is_some(), "{key}");
                prop_assert!(!key.split('/').any(|s| s == ".." || s == "."), "{key}");
                prop_assert!(key.ends_with(&name), "{key}");
            }
        }

        #[test]
        fn any_type_is_normalised_or_refused_without_panicking(content_type in any::<String>()) {
            if let Ok(normal) = normalise_type(&content_type) {
                prop_assert!(!normal.chars().any(char::is_control));
            }
        }
    }
}
