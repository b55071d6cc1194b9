//! `s3drop hooks …`: webhooks managed from the command line, in the same database the
//! server uses (every server sharing it sends their deliveries). The way to manage them
//! on a deployment without an operator's password, and from scripts.

use std::fmt::Write;

use clap::Subcommand;

use crate::api::types::{DeliveryInfo, DeliveryState, HookInfo};
use crate::core::webhook::EventType;
use crate::server::cli::utc;
use crate::server::database::Database;
use crate::server::hooks::{self, MAX_DELIVERIES_SHOWN, NewHook};
use crate::server::system;

/// The hook commands.
#[derive(Debug, Clone, Subcommand)]
pub enum HooksCommand {
    /// Add a webhook and print its `whsec_` secret (shown this once)
    Add {
        /// Where deliveries are POSTed (http or https)
        url: String,
        /// Only this upload link's events (its id, from `links list`)
        #[arg(long)]
        link: Option<String>,
        /// Only these events, comma-separated (upload.completed, batch.completed,
        /// link.limit_reached, link.expired) [default: all]
        #[arg(long, value_delimiter = ',', value_parser = parse_event)]
        events: Vec<EventType>,
    },
    /// List the webhooks with their deliveries counted
    List {
        /// Print JSON instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Remove a webhook; what it has not delivered is given up
    Remove {
        /// The hook's id (from `hooks list`)
        id: String,
    },
    /// A webhook's latest deliveries, newest first
    Deliveries {
        /// The hook's id (from `hooks list`)
        id: String,
        /// Print JSON instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Send a delivery again, under the same webhook-id
    Resend {
        /// The delivery's id (`msg_…`, from `hooks deliveries`)
        id: String,
    },
}

fn parse_event(text: &str) -> Result<EventType, String> {
    EventType::parse(text).ok_or_else(|| {
        let known: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        format!("no event {text}: the events are {}", known.join(", "))
    })
}

/// Runs a hook command on `db`; answers what to print.
pub async fn run(db: &Database, command: &HooksCommand) -> Result<String, String> {
    let now = system::now_secs();
    let failed = |e: hooks::HooksError| e.to_string();
    match command {
        HooksCommand::Add { url, link, events } => {
            let new = NewHook {
                url: url.clone(),
                link_id: link.clone(),
                events: events.clone(),
            };
            let created = hooks::create(db, new, now).await.map_err(failed)?;
            let mut out = format!("{}\n", created.secret);
            out += &describe(&created.hook);
            out += "  the secret above is shown this once: give it to the receiver, which \
                    checks each delivery's signature with it\n";
            Ok(out)
        }
        HooksCommand::List { json: as_json } => {
            let all = hooks::list(db).await.map_err(failed)?;
            if *as_json {
                return pretty(&all);
            }
            if all.is_empty() {
                return Ok("no webhooks yet: add one with `s3drop hooks add URL`\n".into());
            }
            Ok(all.iter().map(describe).collect())
        }
        HooksCommand::Remove { id } => {
            let hook = hooks::remove(db, id, now).await.map_err(failed)?;
            Ok(format!("removed {}", describe(&hook)))
        }
        HooksCommand::Deliveries { id, json: as_json } => {
            let all = hooks::deliveries(db, id, MAX_DELIVERIES_SHOWN)
                .await
                .map_err(failed)?;
            if *as_json {
                return pretty(&all);
            }
            if all.is_empty() {
                return Ok("nothing sent yet\n".into());
            }
            Ok(all.iter().map(delivery).collect())
        }
        HooksCommand::Resend { id } => {
            let sent = hooks::resend(db, id, now).await.map_err(failed)?;
            Ok(format!(
                "{}sent by the servers within a second or so\n",
                delivery(&sent)
            ))
        }
    }
}

/// JSON for scripts.
fn pretty<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(|e| e.to_string())
}

/// A hook in a few lines.
fn describe(hook: &HookInfo) -> String {
    let mut out = format!("{}  {}\n", hook.id, hook.url);
    let hears = match &hook.link_id {
        Some(link) => format!("link {link}'s events"),
        None => "every link and drop".to_owned(),
    };
    let events = match hook.events.is_empty() {
        true => "every event".to_owned(),
        false => hook
            .events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let _ = writeln!(
        out,
        "  hears: {events}, of {hears}; added {}",
        utc(hook.created_at)
    );
    let _ = writeln!(
        out,
        "  deliveries: {} delivered, {} waiting, {} failed",
        hook.delivered, hook.pending, hook.failed
    );
    out
}

/// A delivery in a line or two.
fn delivery(d: &DeliveryInfo) -> String {
    let state = match d.state {
        DeliveryState::Delivered => {
            format!("delivered {}", utc(d.finished_at.unwrap_or(d.created_at)))
        }
        DeliveryState::Pending => format!("waiting, next try {}", utc(d.next_attempt_at)),
        DeliveryState::Failed => "given up".to_owned(),
    };
    let mut out = format!(
        "{}  {}  {state}  ({} tries{})\n",
        d.id,
        d.event.as_str(),
        d.attempts,
        d.last_status
            .map(|s| format!(", last answered {s}"))
            .unwrap_or_default()
    );
    if let Some(error) = &d.last_error {
        let _ = writeln!(out, "  {error}");
    }
    out
}
