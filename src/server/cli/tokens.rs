//! `s3drop tokens …`: API tokens managed from the command line, in the database the
//! server uses. A token revoked here is refused by every server within a few seconds.

use clap::Subcommand;

use crate::api::types::ApiTokenInfo;
use crate::server::api_tokens::{self, REMEMBER};
use crate::server::cli::utc;
use crate::server::database::Database;
use crate::server::system;

/// The token commands.
#[derive(Debug, Clone, Subcommand)]
pub enum TokensCommand {
    /// Make a token and print it (shown this once: only its hash is kept)
    Create {
        /// What uses it (`nightly backup`)
        #[arg(long)]
        name: String,
    },
    /// List the tokens, revoked ones too
    List,
    /// Revoke a token
    Revoke {
        /// The token's id (`tok_…`, from `tokens list`)
        id: String,
    },
}

/// Runs a token command on `db`; answers what to print.
pub async fn run(db: &Database, command: &TokensCommand) -> Result<String, String> {
    let now = system::now_secs();
    let failed = |e: api_tokens::TokensError| e.to_string();
    match command {
        TokensCommand::Create { name } => {
            let created = api_tokens::create(db, name, now).await.map_err(failed)?;
            Ok(format!(
                "{}\n{}  the token above is shown this once: scripts send it as \
                 `Authorization: Bearer …`\n",
                created.secret,
                describe(&created.token)
            ))
        }
        TokensCommand::List => {
            let all = api_tokens::list(db).await.map_err(failed)?;
            if all.is_empty() {
                return Ok(
                    "no API tokens yet: make one with `s3drop tokens create --name …`\n".into(),
                );
            }
            Ok(all.iter().map(describe).collect())
        }
        TokensCommand::Revoke { id } => {
            let token = api_tokens::revoke(db, id, now).await.map_err(failed)?;
            Ok(format!(
                "{}  servers refuse it within {} seconds\n",
                describe(&token),
                REMEMBER.as_secs()
            ))
        }
    }
}

/// A token in a line.
fn describe(token: &ApiTokenInfo) -> String {
    let state = match token.revoked_at {
        Some(at) => format!("revoked {}", utc(at)),
        None => format!("made {}", utc(token.created_at)),
    };
    let used = token
        .last_used_at
        .map(|at| format!(", last used {}", utc(at)))
        .unwrap_or_default();
    format!("{}  {}  ({state}{used})\n", token.id, token.name)
}
