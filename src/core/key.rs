//! Object key naming. The server alone chooses keys: a date, a random id that no other
//! upload shares, and the file's name made safe for S3 keys and URLs.

/// Characters S3's guidelines advise against in keys, replaced by `_` (the original name
/// is kept for display and for the download's file name).
const AVOIDED: &[char] = &[
    '\\', '{', '}', '^', '%', '`', ']', '[', '"', '<', '>', '~', '#', '|', '?', '*', ':', '/',
];

/// A calendar date in UTC, passed in so key naming needs no clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// The key for a new upload: `{prefix}{yyyy}/{mm}/{dd}/{id}/{safe name}`.
///
/// `id` must be unique per upload (the server passes a random one), so no upload can
/// overwrite another's object, whatever names people choose.
pub fn object_key(prefix: &str, date: Date, id: &str, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_control() || AVOIDED.contains(&c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let safe = safe.trim();
    let safe = if safe.is_empty() || safe == "." || safe == ".." {
        "file"
    } else {
        safe
    };
    format!(
        "{prefix}{:04}/{:02}/{:02}/{id}/{safe}",
        date.year, date.month, date.day
    )
}

/// The file name a key ends with, for display.
pub fn display_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

/// A `Content-Disposition` value that downloads as `name`: an ASCII fallback for old
/// clients and the exact Unicode name in RFC 5987 form.
pub fn attachment_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: Date = Date {
        year: 2026,
        month: 3,
        day: 7,
    };

    #[test]
    fn keys_are_dated_and_unique_per_id() {
        assert_eq!(
            object_key("uploads/", DATE, "a1b2", "photo.jpg"),
            "uploads/2026/03/07/a1b2/photo.jpg"
        );
        assert_ne!(
            object_key("", DATE, "id1", "same.txt"),
            object_key("", DATE, "id2", "same.txt")
        );
    }

    #[test]
    fn names_are_made_safe_but_stay_readable() {
        assert_eq!(
            object_key("", DATE, "x", "日本語.txt"),
            "2026/03/07/x/日本語.txt"
        );
        assert_eq!(
            object_key("", DATE, "x", "a#b?c%d.txt"),
            "2026/03/07/x/a_b_c_d.txt"
        );
        assert_eq!(
            object_key("", DATE, "x", "../../etc"),
            "2026/03/07/x/.._.._etc"
        );
        assert_eq!(object_key("", DATE, "x", ".."), "2026/03/07/x/file");
        assert_eq!(object_key("", DATE, "x", "  "), "2026/03/07/x/file");
        assert_eq!(display_name("2026/03/07/x/a b.txt"), "a b.txt");
    }

    #[test]
    fn downloads_keep_the_original_name() {
        assert_eq!(
            attachment_disposition("a b.txt"),
            "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
        );
        assert_eq!(
            attachment_disposition("é\"x\".pdf"),
            "attachment; filename=\"__x_.pdf\"; filename*=UTF-8''%C3%A9%22x%22.pdf"
        );
    }
}
