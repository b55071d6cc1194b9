//! `s3drop links …`: upload links managed from the command line, in the same database
//! the server uses (so a link made here works at once on every server sharing it).
//! What is in flight through a link revoked here is cancelled by the servers' next
//! sweep, within a minute.

use std::fmt::Write;

use clap::{Args, Subcommand};

use crate::api::types::LinkInfo;
use crate::core::limits::parse_size;
use crate::core::link::Limits;
use crate::core::policy::normalise_types;
use crate::server::cli::utc;
use crate::server::database::Database;
use crate::server::links::expiry::parse_expiry;
use crate::server::links::{self, NewLink};
use crate::server::system;

/// How long a link lasts when `--expires` is not given: a week.
const DEFAULT_EXPIRY: &str = "7d";

/// The link commands.
#[derive(Debug, Clone, Subcommand)]
pub enum LinksCommand {
    /// Make a link and print its URL (shown this once: only its hash is kept)
    Create(CreateArgs),
    /// List every link with what it holds
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Give a link a new expiry
    Extend {
        /// The link's id (from `links list`)
        id: String,
        /// A duration from now (`3d`, `12h`, `2w`) or a date (`2026-12-31`, through
        /// that day, UTC) or a time (`2026-12-31T18:00:00Z`)
        #[arg(long)]
        expires: String,
    },
    /// Stop a link at once: it takes no more files, and uploads in flight through it
    /// are cancelled
    Revoke {
        /// The link's id (from `links list`)
        id: String,
    },
}

/// What a new link is.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Shown to the uploader as the page's title
    #[arg(long)]
    pub label: String,
    /// A message shown above the drop
    #[arg(long)]
    pub message: Option<String>,
    /// The folder its files land in, under the key prefix (`clients/acme`)
    #[arg(long, default_value = "")]
    pub folder: String,
    /// A duration from now (`7d`, `12h`, `2w`), a date (`2026-12-31`, through that day,
    /// UTC) or a time (`2026-12-31T18:00:00Z`)
    #[arg(long, default_value = DEFAULT_EXPIRY)]
    pub expires: String,
    /// All files together at most (`20GiB`)
    #[arg(long, value_parser = parse_size)]
    pub max_bytes: Option<u64>,
    /// At most this many files
    #[arg(long)]
    pub max_files: Option<u64>,
    /// The largest file (`2GiB`)
    #[arg(long, value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Accepted files, comma-separated: types (`image/*`) or extensions (`.pdf`)
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// A password the uploader must give as well (from the environment variable
    /// S3DROP_LINK_PASSWORD, so it stays out of the shell's history)
    #[arg(long, env = "S3DROP_LINK_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Ask the uploader's name before they drop (kept with each upload)
    #[arg(long)]
    pub ask_name: bool,
}

/// Runs a link command on `db`, printing links' URLs under `base` (how people reach
/// s3drop); answers what to print.
pub async fn run(db: &Database, base: &str, command: &LinksCommand) -> Result<String, String> {
    let now = system::now_secs();
    let failed = |e: links::LinksError| e.to_string();
    match command {
        LinksCommand::Create(args) => {
            let new = NewLink {
                label: args.label.clone(),
                message: args.message.clone(),
                folder: args.folder.clone(),
                expires_at: parse_expiry(&args.expires, now)?,
                limits: Limits {
                    max_bytes: args.max_bytes,
                    max_files: args.max_files,
                    max_file_size: args.max_file_size,
                    allowed_types: normalise_types(args.types.iter().map(String::as_str)),
                },
                password: args.password.clone().filter(|p| !p.is_empty()),
                ask_name: args.ask_name,
            };
            let created = links::create(db, new, now).await.map_err(failed)?;
            let mut out = format!("{}/l/{}\n", base, created.secret);
            out += &describe(&created.link, now);
            Ok(out)
        }
        LinksCommand::List { json } => {
            let all = links::list(db).await.map_err(failed)?;
            if *json {
                return serde_json::to_string_pretty(&all)
                    .map(|text| text + "\n")
                    .map_err(|e| e.to_string());
            }
            if all.is_empty() {
                return Ok(
                    "no upload links yet: make one with `s3drop links create --label …`\n".into(),
                );
            }
            Ok(all.iter().map(|link| describe(link, now) + "\n").collect())
        }
        LinksCommand::Extend { id, expires } => {
            let expires_at = parse_expiry(expires, now)?;
            let link = links::extend(db, id, expires_at, now)
                .await
                .map_err(failed)?;
            Ok(describe(&link, now))
        }
        LinksCommand::Revoke { id } => {
            let link = links::revoke(db, id, now).await.map_err(failed)?;
            Ok(describe(&link, now))
        }
    }
}

/// A link in a few lines: id, label, state, limits and use.
fn describe(link: &LinkInfo, now: u64) -> String {
    let state = match (link.revoked_at, link.expires_at <= now) {
        (Some(at), _) => format!("revoked {}", utc(at)),
        (None, true) => format!("expired {}", utc(link.expires_at)),
        (None, false) => format!("open until {}", utc(link.expires_at)),
    };
    let mut out = format!("{}  {}  ({state})\n", link.id, link.label);
    let folder = match link.folder.as_str() {
        "" => "(the key prefix)",
        folder => folder,
    };
    let _ = writeln!(out, "  folder: {folder}");
    let limit = |value: Option<u64>| value.map_or("no limit".to_owned(), |v| v.to_string());
    let _ = writeln!(
        out,
        "  limits: {} bytes, {} files, largest {} bytes, types {}",
        limit(link.limits.max_bytes),
        limit(link.limits.max_files),
        limit(link.limits.max_file_size),
        match link.limits.allowed_types.is_empty() {
            true => "any".to_owned(),
            false => link.limits.allowed_types.join(","),
        }
    );
    let _ = writeln!(
        out,
        "  stored: {} files, {} bytes; in flight or stored: {} files, {} bytes{}",
        link.stored.files,
        link.stored.bytes,
        link.held.files,
        link.held.bytes,
        link.last_upload_at
            .map(|at| format!("; last upload {}", utc(at)))
            .unwrap_or_default()
    );
    if link.has_password || link.ask_name {
        let _ = writeln!(
            out,
            "  asks for:{}{}",
            if link.has_password {
                " its password"
            } else {
                ""
            },
            if link.ask_name {
                " the uploader's name"
            } else {
                ""
            }
        );
    }
    out
}
