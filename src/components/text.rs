//! The page's words, and the server's own pages' (login, not found), in one place.
//! Sentences that carry numbers or names are functions.
//!
//! Not here, and shown as they come: the reasons a file failed, which come from
//! elsewhere. The API's refusals (`ApiError` and the policy's messages, which other
//! clients read too), the transfer's retry notes (`core::retry`), and the upload
//! engine's own (`browser::upload`: a file changed since its upload began, a call the
//! page stopped, a file the browser could not read). Translating the page means this
//! file and those.

use crate::api::types::{ApiTokenInfo, DeliveryInfo, DeliveryState, LinkDetails, LinkInfo};
use crate::core::checksum::{decode, is_composite};
use crate::core::speed::{Speed, format_seconds};

pub const LANGUAGE: &str = "en";
pub const TITLE: &str = "s3drop";
pub const TAGLINE: &str = "Files go straight from your browser to the store.";
pub const NOT_FOUND: &str = "Page not found.";
/// The link from the "not found" page to the drop page.
pub const GO_TO_PAGE: &str = "Go to the upload page.";

/// The login form of a private drop (written by the server, without the app).
pub const LOGIN_TITLE: &str = "s3drop: log in";
pub const LOGIN_HELP: &str = "This drop is private. Log in to upload.";
pub const PASSWORD: &str = "Password";
pub const LOG_IN: &str = "Log in";
pub const WRONG_PASSWORD: &str = "That password is not right.";
pub fn too_many_guesses(seconds: f64) -> String {
    format!("Too many wrong passwords. Try again in {seconds} seconds.")
}

pub const DROP_HINT: &str = "Drop files or folders here";
pub const DROP_OR: &str = "or";
pub const CHOOSE_FILES: &str = "Choose files";
pub const CHOOSE_FOLDER: &str = "Choose a folder";
pub const PASTE_HINT: &str = "You can also paste files here.";
pub const DROP_TARGET: &str = "Drop to upload";
pub const OFFLINE: &str =
    "You are offline. Uploads are paused and will continue when you are back online.";
pub const CHUNK_FAILED: &str =
    "This part of the page could not be loaded. Reload the page to try again.";

pub const UNFINISHED_TITLE: &str = "Unfinished uploads";
pub const UNFINISHED_HELP: &str = "Add the same file again to continue where it stopped.";
pub const UNFINISHED_KEPT_HELP: &str = "The page kept these files: Resume opens them again \
    and sends only what the store does not hold yet (your browser may ask whether the page \
    may read them again).";
pub const DISCARD: &str = "Discard";
pub const DISCARD_ALL: &str = "Discard all";
pub const NOT_SENT_YET: &str = "not sent yet";
pub const KEPT_GONE: &str = "not resumed: it is no longer where it was (moved or deleted)";
pub const KEPT_NOT_ALLOWED: &str = "not resumed: reading it again was not allowed";
pub const KEPT_UNREADABLE: &str = "not resumed: the browser could not read it";
pub const KEPT_CHANGED: &str =
    "not resumed: it changed since it was added (its size or modification time differ)";

pub const QUEUE_LABEL: &str = "Files being uploaded";
pub const ALL_UPLOADS: &str = "All uploads";
pub const PAUSE_ALL: &str = "Pause all";
pub const RESUME_ALL: &str = "Resume all";
pub const CANCEL_ALL: &str = "Cancel all";
pub const CLEAR_FINISHED: &str = "Clear finished";

pub const PAUSE: &str = "Pause";
pub const RESUME: &str = "Resume";
pub const CANCEL: &str = "Cancel";
pub const RETRY: &str = "Retry";
pub const DOWNLOAD: &str = "Download";

pub const STORED_TITLE: &str = "Files in the store";
pub const STORED_EMPTY: &str = "No files yet.";
pub const SHOW_MORE: &str = "Show more";
pub const COPY_LINK: &str = "Copy link";
pub const LINK_COPIED: &str = "Link copied.";
pub const COPY_REFUSED: &str = "the browser did not allow copying";
pub const DELETE: &str = "Delete";

pub const WAITING: &str = "Waiting";
pub const PAUSED_BEFORE_START: &str = "Paused before starting";
pub const FINISHING: &str = "Finishing…";
pub const UPLOADED: &str = "Uploaded";
pub const CANCELLED: &str = "Cancelled";

/// `12.0 MiB of 40.0 MiB`
pub fn progress(sent: u64, total: u64) -> String {
    format!("{} of {}", format_bytes(sent), format_bytes(total))
}

/// `120 of 1,000 files`
pub fn files_done(done: usize, total: usize) -> String {
    let noun = if total == 1 { "file" } else { "files" };
    format!("{} of {} {noun}", thousands(done), thousands(total))
}

/// `9,500 more files.`: the rows of the queue not drawn.
pub fn more_files(count: usize) -> String {
    let noun = if count == 1 { "file" } else { "files" };
    format!("{} more {noun}.", thousands(count))
}

/// `and 1,950 more.`: unfinished uploads not listed.
pub fn more_unfinished(count: usize) -> String {
    format!("and {} more.", thousands(count))
}

/// `10,000`
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// ` · 8.0 MiB/s`
pub fn speed(bytes_per_second: u64) -> String {
    format!(" · {}/s", format_bytes(bytes_per_second))
}

/// ` · 1 min 20 s left`
pub fn time_left(seconds: f64) -> String {
    format!(" · {} left", format_seconds(seconds))
}

/// `Paused at 12.0 MiB of 40.0 MiB`, or `Paused while offline at …`.
pub fn paused_at(sent: u64, total: u64, offline: bool) -> String {
    let why = if offline { " while offline" } else { "" };
    format!("Paused{why} at {}", progress(sent, total))
}

/// `Uploaded · CRC32C 9a71bb4c (mnG7TA== in base64)` for the whole file's checksum (in
/// hex, as tools print it, and in base64, as S3 does), or `Uploaded · composite CRC32C
/// abcd==-5` for S3's checksum of the parts' checksums.
pub fn uploaded(crc32c: Option<&str>) -> String {
    match crc32c {
        Some(crc) if is_composite(crc) => format!("{UPLOADED} · composite CRC32C {crc}"),
        Some(crc) => match decode(crc) {
            Some(value) => format!("{UPLOADED} · CRC32C {value:08x} ({crc} in base64)"),
            None => format!("{UPLOADED} · CRC32C {crc}"),
        },
        None => UPLOADED.to_owned(),
    }
}

/// `Failed: the store is unavailable`
pub fn failed(reason: &str) -> String {
    format!("Failed: {reason}")
}

/// `Not accepted: the file is larger than 1.0 MiB`
pub fn refused(reason: &str) -> String {
    format!("Not accepted: {reason}")
}

/// The accessible name of a file's progress bar.
pub fn upload_of(name: &str) -> String {
    format!("Upload of {name}")
}

/// The accessible name of a file's control: `Pause notes.txt`.
pub fn action_on(action: &str, name: &str) -> String {
    format!("{action} {name}")
}

/// The question before deleting a file for good.
pub fn confirm_delete(path: &str) -> String {
    format!("Delete {path}? This cannot be undone.")
}

/// Said once a file is deleted.
pub fn deleted(path: &str) -> String {
    format!("Deleted {path}.")
}

/// Said when the list or an action on it failed.
pub fn list_failed(reason: &str) -> String {
    format!("Could not do that: {reason}")
}

/// `3 of 5 parts sent`
pub fn parts_sent(sent: usize, total: u32) -> String {
    format!("{sent} of {total} parts sent")
}

/// The short type label shown when there is no thumbnail: `PDF`, `ZIP`, `FILE`.
pub fn type_label(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, extension))
            if !stem.is_empty()
                && (1..=4).contains(&extension.len())
                && extension.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            extension.to_ascii_uppercase()
        }
        _ => "FILE".to_owned(),
    }
}

// An upload link's page, as the uploader sees it.
pub const LINK_OPENING: &str = "Opening the upload link…";
pub const LINK_MISSING: &str = "This upload link does not exist. Check the address you were given.";
pub const LINK_PASSWORD_HELP: &str = "This upload link has a password. Enter it to upload.";
pub const OPEN: &str = "Open";
pub const LINK_NAME_HELP: &str = "Your name goes with each file you upload here.";
pub const YOUR_NAME: &str = "Your name";
pub const CONTINUE: &str = "Continue";
pub const TOO_MANY_GUESSES: &str = "Too many wrong passwords. Try again in a minute.";
pub const SENT_BEFORE: &str = "Sent from this browser";

/// A link's terms in a sentence: `Up to 2.0 GiB per file; 18.0 GiB and 497 files
/// left; image/*, .pdf only; open until 11/12/2026, 18:00:00.`
pub fn link_terms(details: &LinkDetails, until: &str) -> String {
    let mut terms = Vec::new();
    if let Some(largest) = details.limits.max_file_size {
        terms.push(format!("up to {} per file", format_bytes(largest)));
    }
    let left = match (details.bytes_left, details.files_left) {
        (Some(bytes), Some(files)) => Some(format!(
            "{} and {} left",
            format_bytes(bytes),
            count(files, "file")
        )),
        (Some(bytes), None) => Some(format!("{} left", format_bytes(bytes))),
        (None, Some(files)) => Some(format!("{} left", count(files, "file"))),
        (None, None) => None,
    };
    terms.extend(left);
    if !details.limits.allowed_types.is_empty() {
        terms.push(format!("{} only", details.limits.allowed_types.join(", ")));
    }
    terms.push(format!("open until {until}"));
    let sentence = terms.join("; ");
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// `1 file`, `497 files`
fn count(n: u64, noun: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!(
        "{} {noun}{plural}",
        thousands(usize::try_from(n).unwrap_or(usize::MAX))
    )
}

// The operator's rooms.
pub const LOG_OUT: &str = "Log out";
pub const LINKS_TITLE: &str = "Upload links";
pub const LINKS_HELP: &str =
    "Give someone a place to upload, with limits: they see only their own drop.";
pub const LINKS_EMPTY: &str = "No upload links yet.";
pub const NEW_LINK: &str = "Create link";
pub const LINK_LABEL: &str = "Label (the uploader sees it)";
pub const LINK_MESSAGE: &str = "Message to the uploader";
pub const LINK_FOLDER: &str = "Folder (under the key prefix)";
pub const LINK_EXPIRES: &str = "Expires (7d, 12h, 2026-12-31)";
pub const LINK_MAX_BYTES: &str = "Total size (20GiB)";
pub const LINK_MAX_FILES: &str = "Number of files";
pub const LINK_MAX_FILE: &str = "Largest file (2GiB)";
pub const LINK_TYPES: &str = "Accepted types (image/*, .pdf)";
pub const LINK_PASSWORD: &str = "Password (optional)";
pub const LINK_ASK_NAME: &str = "Ask the uploader's name";
pub const LINK_CREATED: &str = "Link created. Copy it now: it is shown only this once.";
pub const NEW_LINK_URL: &str = "The new link's URL";
pub const EXTEND_WEEK: &str = "Extend 7 days";
pub const REVOKE: &str = "Revoke";
pub const SHOW_UPLOADS: &str = "Show its uploads";
pub const RECORD_TITLE: &str = "What arrived";
pub const RECORD_EMPTY: &str = "Nothing recorded yet.";
pub const ALL_LINKS: &str = "All links and drops";
pub const ALL_STATES: &str = "Every state";
pub const NAME_FILTER: &str = "Name contains";
pub const EXPORT_CSV: &str = "Export CSV";
pub const EXPORT_JSON: &str = "Export JSON";
pub const OPEN_DROP: &str = "the open drop";
pub const REFRESH: &str = "Refresh";

pub const HOOKS_TITLE: &str = "Webhooks";
pub const HOOKS_HELP: &str = "Tell another system what arrived: each stored file, each finished drop, a link full or expired, POSTed and signed (Standard Webhooks).";
pub const HOOKS_EMPTY: &str = "No webhooks yet.";
pub const HOOK_URL: &str = "Receiver's URL";
pub const HOOK_HEARS: &str = "Hears";
pub const HOOK_EVERYTHING: &str = "Every link and drop";
pub const NEW_HOOK: &str = "Add webhook";
pub const HOOK_CREATED: &str =
    "Webhook added. Copy its secret into the receiver now: it is shown only this once.";
pub const COPY_SECRET: &str = "Copy secret";
pub const HOOK_SECRET: &str = "The webhook's secret";
pub const SECRET_COPIED: &str = "Secret copied.";
pub const DELIVERIES: &str = "Deliveries";
pub const NO_DELIVERIES: &str = "Nothing sent yet.";
pub const REMOVE_HOOK: &str = "Remove";
pub const SEND_AGAIN: &str = "Send again";

pub const TOKENS_TITLE: &str = "API tokens";
pub const TOKENS_HELP: &str = "Let a script or `s3drop upload` call s3drop as you: it sends the token as `Authorization: Bearer …`. The API is described at /api/openapi.json.";
pub const TOKENS_EMPTY: &str = "No API tokens yet.";
pub const TOKEN_NAME: &str = "What uses it";
pub const NEW_TOKEN: &str = "Create token";
pub const TOKEN_CREATED: &str = "Token created. Copy it now: it is shown only this once.";
pub const TOKEN_VALUE: &str = "The new API token";
pub const COPY_TOKEN: &str = "Copy token";
pub const TOKEN_COPIED: &str = "Token copied.";

/// `made 12/4/2026, 11:47 · last used …`, `revoked …`: where a token stands.
pub fn token_state(token: &ApiTokenInfo, time: impl Fn(u64) -> String) -> String {
    let mut line = match token.revoked_at {
        Some(at) => format!("revoked {}", time(at)),
        None => format!("made {}", time(token.created_at)),
    };
    match token.last_used_at {
        Some(at) => line += &format!(" · last used {}", time(at)),
        None => line += " · never used",
    }
    line
}

pub fn confirm_revoke_token(name: &str) -> String {
    format!("Revoke the API token “{name}”? What uses it is refused from now on.")
}

/// `Only "Acme's folder"`: a hook that hears one link.
pub fn hook_link(label: &str) -> String {
    format!("Only “{label}”")
}

/// `12 delivered · 1 waiting · 2 failed`
pub fn hook_counts(delivered: u64, pending: u64, failed: u64) -> String {
    let mut line = format!(
        "{} delivered",
        thousands(usize::try_from(delivered).unwrap_or(usize::MAX))
    );
    if pending > 0 {
        line += &format!(" · {pending} waiting");
    }
    if failed > 0 {
        line += &format!(" · {failed} failed");
    }
    line
}

/// `delivered 14:02 (200)`, `waiting: try 3 at 14:05 (503)`, `failed after 9 tries`.
pub fn delivery_state(d: &DeliveryInfo, time: impl Fn(u64) -> String) -> String {
    let status = d.last_status.map(|s| format!(" ({s})")).unwrap_or_default();
    match d.state {
        DeliveryState::Delivered => {
            format!(
                "delivered {}{status}",
                time(d.finished_at.unwrap_or(d.created_at))
            )
        }
        DeliveryState::Pending if d.attempts == 0 => "waiting".to_owned(),
        DeliveryState::Pending => format!(
            "waiting: try {} at {}{status}",
            d.attempts + 1,
            time(d.next_attempt_at)
        ),
        DeliveryState::Failed => {
            let tries = if d.attempts == 1 { "try" } else { "tries" };
            format!("failed after {} {tries}{status}", d.attempts)
        }
    }
}

pub fn confirm_remove_hook(url: &str) -> String {
    format!("Remove the webhook to {url}? What it has not delivered yet is given up.")
}

/// `open until …`, `expired …`, `revoked …`: where a link stands.
pub fn link_state(link: &LinkInfo, now: u64, time: impl Fn(u64) -> String) -> String {
    match link.revoked_at {
        Some(at) => format!("revoked {}", time(at)),
        None if link.expires_at <= now => format!("expired {}", time(link.expires_at)),
        None => format!("open until {}", time(link.expires_at)),
    }
}

/// `3 files, 1.2 MiB stored · 1 in flight · of 20.0 GiB, 10 files`: what a link took.
pub fn link_use(link: &LinkInfo) -> String {
    let mut line = format!(
        "{}, {} stored",
        count(link.stored.files, "file"),
        format_bytes(link.stored.bytes)
    );
    let flying = link.held.files.saturating_sub(link.stored.files);
    if flying > 0 {
        line += &format!(" · {flying} in flight");
    }
    let limits: Vec<String> = [
        link.limits.max_bytes.map(format_bytes),
        link.limits.max_files.map(|n| count(n, "file")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !limits.is_empty() {
        line += &format!(" · of {}", limits.join(", "));
    }
    line
}

/// The question before revoking a link.
pub fn confirm_revoke(label: &str) -> String {
    format!("Revoke \"{label}\"? It takes no more files, and uploads in flight through it stop.")
}

/// A byte count for people: `512 B`, `1.5 KiB`, `40.0 MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Display only: f64's precision is ample for one decimal.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `3.0 MiB of 10.0 MiB · 1.2 MiB/s · 6 s left`: how an upload (or all of them) is
/// going, speed and time left once `measured` has seen enough to tell.
pub fn progress_line(measured: &Speed, sent: u64, total: u64) -> String {
    let mut line = progress(sent, total);
    if let Some(rate) = measured.bytes_per_second() {
        // Display only: rounding to whole bytes per second is fine.
        line += &speed(rate as u64);
    }
    if let Some(left) = measured.seconds_left(total) {
        line += &time_left(left);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_carry_their_numbers() {
        assert_eq!(progress(1024, 2048), "1.0 KiB of 2.0 KiB");
        assert_eq!(paused_at(0, 1, true), "Paused while offline at 0 B of 1 B");
        assert_eq!(uploaded(Some("x-2")), "Uploaded · composite CRC32C x-2");
        assert_eq!(
            uploaded(Some("mnG7TA==")),
            "Uploaded · CRC32C 9a71bb4c (mnG7TA== in base64)"
        );
        assert_eq!(uploaded(None), "Uploaded");
        assert_eq!(files_done(0, 1), "0 of 1 file");
        assert_eq!(files_done(1_234, 10_000), "1,234 of 10,000 files");
        assert_eq!(more_files(1), "1 more file.");
        assert_eq!(more_files(999_999), "999,999 more files.");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn type_labels_come_from_short_extensions() {
        assert_eq!(type_label("report.pdf"), "PDF");
        assert_eq!(type_label("archive.tar.gz"), "GZ");
        assert_eq!(type_label(".bashrc"), "FILE");
        assert_eq!(type_label("notes"), "FILE");
        assert_eq!(type_label("weird.extension"), "FILE");
    }

    #[test]
    fn progress_lines_add_speed_and_time_left_when_known() {
        let mut speed = Speed::default();
        speed.record(0.0, 0);
        assert_eq!(progress_line(&speed, 0, 2048), "0 B of 2.0 KiB");
        speed.record(1_000.0, 1024);
        assert_eq!(
            progress_line(&speed, 1024, 2048),
            "1.0 KiB of 2.0 KiB · 1.0 KiB/s · 1 s left"
        );
    }

    #[test]
    fn a_links_terms_and_use_in_words() {
        use crate::core::link::{Held, Limits};
        let mut details = LinkDetails {
            message: None,
            expires_at: 0,
            limits: Limits::default(),
            bytes_left: None,
            files_left: None,
            ask_name: false,
        };
        assert_eq!(link_terms(&details, "Friday"), "Open until Friday.");
        details.limits.max_file_size = Some(2 << 30);
        details.limits.allowed_types = vec!["image/*".into(), ".pdf".into()];
        details.bytes_left = Some(18 << 30);
        details.files_left = Some(1);
        assert_eq!(
            link_terms(&details, "Friday"),
            "Up to 2.0 GiB per file; 18.0 GiB and 1 file left; image/*, .pdf only; open until Friday."
        );
        let mut link = LinkInfo {
            id: "x".into(),
            label: "x".into(),
            message: None,
            folder: String::new(),
            created_at: 0,
            expires_at: 100,
            revoked_at: None,
            limits: Limits {
                max_files: Some(10),
                ..Limits::default()
            },
            has_password: false,
            ask_name: false,
            held: Held {
                bytes: 3072,
                files: 4,
            },
            stored: Held {
                bytes: 2048,
                files: 3,
            },
            last_upload_at: None,
        };
        assert_eq!(
            link_use(&link),
            "3 files, 2.0 KiB stored · 1 in flight · of 10 files"
        );
        let time = |t: u64| t.to_string();
        assert_eq!(link_state(&link, 99, time), "open until 100");
        assert_eq!(link_state(&link, 100, time), "expired 100");
        link.revoked_at = Some(50);
        assert_eq!(link_state(&link, 0, time), "revoked 50");
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(40 * 1024 * 1024), "40.0 MiB");
        assert_eq!(format_bytes(u64::MAX), "16384.0 PiB");
    }
}
