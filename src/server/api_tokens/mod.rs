//! API tokens, kept in `api_tokens`: what scripts (and `s3drop upload`) call the API with
//! as the operator, made and revoked on the page or with `s3drop tokens`. A token is
//! shown once; only its SHA-256 is kept, so the database alone opens nothing. Checking
//! one costs a lookup; [`Verifier`] remembers the answer for a few seconds, so a script
//! signing parts does not ask the database at each call (a revoked token is refused
//! at once by the server that revoked it, within [`REMEMBER`] by the others).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::api::types::{ApiTokenInfo, CreatedApiToken};
use crate::core::api_token::{PREFIX, SECRET_CHARS, check_name, is_shaped};
use crate::server::database::{Database, from_db, to_db};
use crate::server::system;

/// How long a token's check is remembered.
pub const REMEMBER: Duration = Duration::from_secs(10);

/// Why a token call failed.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    #[error("there is no API token {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Makes a token named `name`; answers it with the token, shown this once.
pub async fn create(db: &Database, name: &str, now: u64) -> Result<CreatedApiToken, TokensError> {
    let name = check_name(name).map_err(TokensError::Invalid)?;
    let id = format!("tok_{}", system::random_hex(8));
    let secret = format!(
        "{PREFIX}{}",
        URL_SAFE_NO_PAD.encode(system::random_bytes::<32>())
    );
    debug_assert_eq!(secret.len(), PREFIX.len() + SECRET_CHARS);
    sqlx::query(
        "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(&name)
    .bind(hash(&secret))
    .bind(to_db(now))
    .execute(db.pool())
    .await?;
    Ok(CreatedApiToken {
        token: find(db, &id).await?,
        secret,
    })
}

const COLUMNS: &str = "id, name, created_at, revoked_at, last_used_at";

/// Every token, revoked ones too, newest first.
pub async fn list(db: &Database) -> Result<Vec<ApiTokenInfo>, TokensError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at DESC, id"
    ))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| read(row).map_err(Into::into))
        .collect()
}

async fn find(db: &Database, id: &str) -> Result<ApiTokenInfo, TokensError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| TokensError::NotFound(id.chars().take(40).collect()))?;
    Ok(read(&row)?)
}

/// Revokes a token at `now` (revoking twice keeps the first time).
pub async fn revoke(db: &Database, id: &str, now: u64) -> Result<ApiTokenInfo, TokensError> {
    sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
        .bind(id)
        .bind(to_db(now))
        .execute(db.pool())
        .await?;
    find(db, id).await
}

fn read(row: &AnyRow) -> Result<ApiTokenInfo, sqlx::Error> {
    let time = |name: &str| -> Result<Option<u64>, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(name)?.map(from_db))
    };
    Ok(ApiTokenInfo {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: from_db(row.try_get("created_at")?),
        revoked_at: time("revoked_at")?,
        last_used_at: time("last_used_at")?,
    })
}

/// What is kept of a token: its SHA-256, in hex (it has 256 random bits: a fast hash
/// is enough).
fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks tokens, remembering each answer for [`REMEMBER`].
#[derive(Clone, Debug)]
pub struct Verifier {
    db: Database,
    seen: Arc<Mutex<HashMap<String, (Instant, bool)>>>,
}

impl Verifier {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            seen: Arc::default(),
        }
    }

    /// Whether `token` is a token not revoked (a database failure counts as no: the
    /// caller is refused, never let in).
    pub async fn is_valid(&self, token: &str) -> bool {
        if !is_shaped(token) {
            return false;
        }
        let hash = hash(token);
        let now = Instant::now();
        if let Some(&(at, valid)) = self.remembered().get(&hash)
            && now.duration_since(at) < REMEMBER
        {
            return valid;
        }
        let valid = self.look_up(&hash).await.unwrap_or_else(|err| {
            tracing::error!(%err, "could not check an API token");
            false
        });
        let mut seen = self.remembered();
        seen.retain(|_, (at, _)| now.duration_since(*at) < REMEMBER);
        seen.insert(hash, (now, valid));
        valid
    }

    /// Forgets what was remembered (after a token is revoked here).
    pub fn forget(&self) {
        self.remembered().clear();
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, bool)>> {
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Looks a token up, noting it used.
    async fn look_up(&self, hash: &str) -> Result<bool, sqlx::Error> {
        let used = sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .bind(to_db(system::now_secs()))
        .execute(self.db.pool())
        .await?;
        Ok(used.rows_affected() == 1)
    }
}
