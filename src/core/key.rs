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

/// The key for a new upload: `{prefix}{yyyy}/{mm}/{dd}/{id}/{safe folder/}{safe name}`,
/// where `folder` is the path the file had inside a dropped or picked folder (checked by
/// the policy first; may be empty).
///
/// `id` must be unique per upload (the server passes a random one), so no upload can
/// overwrite another's object, whatever names people choose.
pub fn object_key(prefix: &str, date: Date, id: &str, folder: &str, name: &str) -> String {
    let folder: String = folder
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| safe_segment(segment) + "/")
        .collect();
    format!(
        "{prefix}{:04}/{:02}/{:02}/{id}/{folder}{}",
        date.year,
        date.month,
        date.day,
        safe_segment(name)
    )
}

/// The largest time an upload id can carry: 2⁴⁸ − 1 milliseconds (the year 10889).
const ID_TIME_MAX: u64 = (1 << 48) - 1;

/// An upload's id: 32 hex digits, the first 12 counting down from [`ID_TIME_MAX`] with
/// the upload's start time (`now_ms`), the rest `random` (at least 20 hex digits; 80
/// random bits keep ids unique). Keys then sort newest first within their day, which is
/// the order ListObjectsV2 answers in, so the page lists what was just uploaded first.
pub fn upload_id_at(now_ms: u64, random: &str) -> String {
    let countdown = ID_TIME_MAX - now_ms.min(ID_TIME_MAX);
    format!("{countdown:012x}{}", &random[..random.len().min(20)])
}

/// One path segment made safe for keys: avoided characters become `_`, and an empty or
/// dot-only segment becomes `file`.
fn safe_segment(name: &str) -> String {
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
    if safe.is_empty() || safe == "." || safe == ".." {
        "file".into()
    } else {
        safe.into()
    }
}

/// The folder part of a relative path: `photos/2024/a.jpg` → `photos/2024`; empty for a
/// bare name.
pub fn folder_of(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(folder, _)| folder.to_owned())
        .unwrap_or_default()
}

/// The file's path (`folder/name`, or the name) in a key s3drop made under `prefix`;
/// `None` for any other key, which s3drop neither lists nor deletes.
pub fn uploaded_path<'a>(prefix: &str, key: &'a str) -> Option<&'a str> {
    let rest = key.strip_prefix(prefix)?;
    let mut parts = rest.splitn(5, '/');
    let (year, month, day, id) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let path = parts.next()?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let id_ok = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    (digits(year, 4) && digits(month, 2) && digits(day, 2) && id_ok && !path.is_empty())
        .then_some(path)
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

/// Whether `id` may name a drop (`DropTag::id`): 16 to 64 letters, digits, `-` or `_`.
pub fn is_drop_id(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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
            object_key("uploads/", DATE, "a1b2", "", "photo.jpg"),
            "uploads/2026/03/07/a1b2/photo.jpg"
        );
        assert_ne!(
            object_key("", DATE, "id1", "", "same.txt"),
            object_key("", DATE, "id2", "", "same.txt")
        );
    }

    #[test]
    fn names_are_made_safe_but_stay_readable() {
        assert_eq!(
            object_key("", DATE, "x", "", "日本語.txt"),
            "2026/03/07/x/日本語.txt"
        );
        assert_eq!(
            object_key("", DATE, "x", "", "a#b?c%d.txt"),
            "2026/03/07/x/a_b_c_d.txt"
        );
        assert_eq!(
            object_key("", DATE, "x", "", "../../etc"),
            "2026/03/07/x/.._.._etc"
        );
        assert_eq!(object_key("", DATE, "x", "", ".."), "2026/03/07/x/file");
        assert_eq!(object_key("", DATE, "x", "", "  "), "2026/03/07/x/file");
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

    #[test]
    fn a_files_folder_is_kept_in_its_key() {
        assert_eq!(
            object_key("up/", DATE, "x", "photos/2024 trip", "a.jpg"),
            "up/2026/03/07/x/photos/2024 trip/a.jpg"
        );
        assert_eq!(
            object_key("", DATE, "x", "we#ird/..", "a.jpg"),
            "2026/03/07/x/we_ird/file/a.jpg"
        );
    }

    #[test]
    fn ids_sort_newest_first_and_stay_the_shape_of_an_upload() {
        let random = "0123456789abcdef0123456789abcdef";
        let (older, newer) = (upload_id_at(1_000, random), upload_id_at(1_001, random));
        assert!(newer < older, "{newer} sorts before {older}");
        assert_eq!(older, "fffffffffc170123456789abcdef0123");
        assert_eq!(
            upload_id_at(u64::MAX, random),
            "0000000000000123456789abcdef0123"
        );
        let key = object_key("up/", DATE, &newer, "", "a.jpg");
        assert_eq!(uploaded_path("up/", &key), Some("a.jpg"));
        // Within one day, a later upload's key comes first whatever the names.
        let later = object_key("up/", DATE, &upload_id_at(2_000, random), "", "a.txt");
        let earlier = object_key("up/", DATE, &upload_id_at(1_000, random), "", "z.txt");
        assert!(later < earlier);
    }

    #[test]
    fn folders_of_relative_paths() {
        assert_eq!(folder_of("photos/2024/a.jpg"), "photos/2024");
        assert_eq!(folder_of("a.jpg"), "");
    }

    #[test]
    fn only_keys_s3drop_made_are_its_uploads() {
        let id = "0123456789abcdef0123456789abcdef";
        let key = object_key("up/", DATE, id, "trip", "a.jpg");
        assert_eq!(uploaded_path("up/", &key), Some("trip/a.jpg"));
        assert_eq!(
            uploaded_path("up/", &object_key("up/", DATE, id, "", "b.txt")),
            Some("b.txt")
        );
        for other in [
            "other/2026/03/07/0123456789abcdef0123456789abcdef/a",
            "up/.s3drop-check/abc",
            "up/2026/03/07/short/a",
            "up/2026/3/07/0123456789abcdef0123456789abcdef/a",
            "up/2026/03/07/0123456789abcdef0123456789abcdef/",
        ] {
            assert_eq!(uploaded_path("up/", other), None, "{other}");
        }
    }

    #[test]
    fn drop_ids_are_plain_and_long_enough() {
        let cases = [
            ("0123456789abcdef", true),
            ("drop_2026-12-04_abcdefgh", true),
            (&"a".repeat(64) as &str, true),
            (&"a".repeat(65), false),
            ("0123456789abcde", false),
            ("0123456789abcdef/", false),
            ("0123456789abcdéf", false),
            ("", false),
        ];
        for (id, ok) in cases {
            assert_eq!(is_drop_id(id), ok, "{id}");
        }
    }
}
