//! From the command line to a listening server: the settings, the secrets kept in the
//! data directory, start-up (serve, or one of the one-shot commands), and the
//! `links`, `hooks` and `tokens` commands.

pub mod config;
pub mod hooks;
pub mod links;
pub mod secrets;
pub mod startup;
pub mod tokens;

/// A time as people read it in a terminal, in UTC.
pub fn utc(secs: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| secs.to_string())
}
