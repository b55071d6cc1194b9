//! Upload links, kept in the `links` table: made, listed, extended and revoked by the
//! operator (the page or `s3drop links`), found by an uploader's secret. A link's URL
//! carries a 192-bit secret of which only the SHA-256 is kept, so the database alone
//! opens no link; a link's own password is kept as an Argon2 hash. The limits' rules are
//! `core::link`'s; [`hold`] is how a batch of starts takes a link's turn.

pub mod expiry;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyQueryResult, AnyRow};
use sqlx::{Any, Row, Transaction};

use crate::api::types::{CreatedLink, LinkInfo};
use crate::core::link::{
    Held, Limits, LinkError, SECRET_CHARS, check_destination, check_words, is_secret_shaped,
};
use crate::server::database::{Database, from_db, to_db};
use crate::server::signing::Signer;
use crate::server::system;

/// Why a link call failed.
#[derive(Debug, thiserror::Error)]
pub enum LinksError {
    #[error("there is no upload link {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(#[from] LinkError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// A link as the operator asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub label: String,
    pub message: Option<String>,
    pub folder: String,
    /// When it stops taking files, in Unix seconds.
    pub expires_at: u64,
    pub limits: Limits,
    /// The link's own password, if it has one.
    pub password: Option<String>,
    pub ask_name: bool,
}

/// A link found by its secret, with what checking its password needs.
#[derive(Debug, Clone)]
pub struct Opened {
    pub link: LinkInfo,
    password_hash: Option<String>,
}

impl Opened {
    /// Whether `given` is the link's password (always, for a link without one).
    pub fn is_password(&self, given: &str) -> bool {
        let Some(hash) = &self.password_hash else {
            return true;
        };
        PasswordHash::new(hash).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(given.as_bytes(), &hash)
                .is_ok()
        })
    }
}

/// The columns every read of a link selects, with what it has stored (from the record).
const COLUMNS: &str = "l.id, l.label, l.message, l.folder, l.created_at, l.expires_at, \
     l.revoked_at, l.max_bytes, l.max_files, l.max_file_size, l.allowed_types, \
     l.password_hash, l.ask_name, l.bytes_held, l.files_held, l.last_upload_at, \
     (SELECT CAST(COALESCE(SUM(u.size), 0) AS BIGINT) FROM uploads u \
       WHERE u.link_id = l.id AND u.state = 'stored') AS bytes_stored, \
     (SELECT COUNT(*) FROM uploads u WHERE u.link_id = l.id AND u.state = 'stored') \
       AS files_stored";

/// Makes a link; answers it with its secret, which is shown this once.
pub async fn create(db: &Database, new: NewLink, now: u64) -> Result<CreatedLink, LinksError> {
    check_words(&new.label, new.message.as_deref())?;
    check_destination(&new.folder)?;
    new.limits.check()?;
    if new.expires_at <= now {
        return Err(LinkError::ExpiryPast.into());
    }
    let id = system::random_hex(8);
    let secret = new_secret();
    let password_hash = new.password.as_deref().map(hash_password);
    sqlx::query(
        "INSERT INTO links (id, secret_hash, label, message, folder, created_at, expires_at, \
         max_bytes, max_files, max_file_size, allowed_types, password_hash, ask_name, \
         bytes_held, files_held) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, 0)",
    )
    .bind(&id)
    .bind(secret_hash(&secret))
    .bind(new.label.trim())
    .bind(
        new.message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty()),
    )
    .bind(&new.folder)
    .bind(to_db(now))
    .bind(to_db(new.expires_at))
    .bind(new.limits.max_bytes.map(to_db))
    .bind(new.limits.max_files.map(to_db))
    .bind(new.limits.max_file_size.map(to_db))
    .bind(new.limits.allowed_types.join(","))
    .bind(password_hash)
    .bind(i64::from(new.ask_name))
    .execute(db.pool())
    .await?;
    let link = find(db, &id).await?;
    Ok(CreatedLink { link, secret })
}

/// Every link, newest first.
pub async fn list(db: &Database) -> Result<Vec<LinkInfo>, LinksError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM links l ORDER BY l.created_at DESC, l.id"
    ))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|row| Ok(read(row)?.link)).collect()
}

/// The link `id`.
pub async fn find(db: &Database, id: &str) -> Result<LinkInfo, LinksError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM links l WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| LinksError::NotFound(id.chars().take(40).collect()))?;
    Ok(read(&row)?.link)
}

/// The link whose URL carries `secret`, if any (junk is refused before any lookup).
pub async fn by_secret(db: &Database, secret: &str) -> Result<Option<Opened>, LinksError> {
    if !is_secret_shaped(secret) {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM links l WHERE l.secret_hash = $1"
    ))
    .bind(secret_hash(secret))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(read).transpose().map_err(Into::into)
}

/// Revokes a link at `now`: it takes no more files, and what is in flight through it
/// is refused at completion. Revoking twice keeps the first time.
pub async fn revoke(db: &Database, id: &str, now: u64) -> Result<LinkInfo, LinksError> {
    let done = sqlx::query("UPDATE links SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
        .bind(id)
        .bind(to_db(now))
        .execute(db.pool())
        .await?;
    changed(db, id, done).await
}

/// Moves a link's expiry to `expires_at` (later or sooner, but after `now`).
pub async fn extend(
    db: &Database,
    id: &str,
    expires_at: u64,
    now: u64,
) -> Result<LinkInfo, LinksError> {
    if expires_at <= now {
        return Err(LinkError::ExpiryPast.into());
    }
    let done = sqlx::query("UPDATE links SET expires_at = $2 WHERE id = $1")
        .bind(id)
        .bind(to_db(expires_at))
        .execute(db.pool())
        .await?;
    changed(db, id, done).await
}

/// Link `id` as an update left it, or not found when there was none to update.
async fn changed(db: &Database, id: &str, done: AnyQueryResult) -> Result<LinkInfo, LinksError> {
    match done.rows_affected() {
        0 => Err(LinksError::NotFound(id.chars().take(40).collect())),
        _ => find(db, id).await,
    }
}

/// A link's turn for a batch of starts, inside `tx`: its row locked (the first
/// statement writes, which takes SQLite's write lock and PostgreSQL's row lock), then
/// read. Starts through one link from any number of servers queue here, so the limits
/// hold for all of them together. `None` when there is no such link.
pub async fn hold(tx: &mut Transaction<'_, Any>, id: &str) -> Result<Option<LinkInfo>, LinksError> {
    sqlx::query("UPDATE links SET files_held = files_held WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM links l WHERE l.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row
        .as_ref()
        .map(read)
        .transpose()?
        .map(|opened| opened.link))
}

/// Sets what a link holds (inside the transaction that holds its turn, or adding to
/// what it holds: see [`release`]), and when it last took a file.
pub async fn set_held(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    held: Held,
    last_upload_at: Option<u64>,
) -> Result<(), LinksError> {
    sqlx::query(
        "UPDATE links SET bytes_held = $2, files_held = $3, \
         last_upload_at = COALESCE($4, last_upload_at) WHERE id = $1",
    )
    .bind(id)
    .bind(to_db(held.bytes))
    .bind(to_db(held.files))
    .bind(last_upload_at.map(to_db))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gives back what a file held of its link (cancelled, failed or expired unstored),
/// never below nothing; one statement, so it needs no turn. The link has room again:
/// when it is full once more, hooks are told again.
pub async fn release(tx: &mut Transaction<'_, Any>, id: &str, size: u64) -> Result<(), LinksError> {
    sqlx::query(
        "UPDATE links SET \
         bytes_held = CASE WHEN bytes_held > $2 THEN bytes_held - $2 ELSE 0 END, \
         files_held = CASE WHEN files_held > 0 THEN files_held - 1 ELSE 0 END, \
         full_at = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(to_db(size))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How long a link's password, once given, lets its page start files: a day.
pub const GRANT_SECS: u64 = 24 * 60 * 60;

/// Proof that link `id`'s password was given at `now`, for the page to send with its
/// starts (`expiry.tag`), so the password is checked once, not on every call.
pub fn grant(signer: &Signer, id: &str, now: u64) -> String {
    let expires_at = now.saturating_add(GRANT_SECS);
    format!(
        "{expires_at}.{}",
        signer.tag(format!("{id}.{expires_at}").as_bytes())
    )
}

/// Whether `grant` proves link `id`'s password was given, and is still good at `now`.
pub fn is_granted(signer: &Signer, id: &str, grant: &str, now: u64) -> bool {
    grant.split_once('.').is_some_and(|(expires_at, tag)| {
        expires_at.parse::<u64>().is_ok_and(|at| now < at)
            && signer.verify(format!("{id}.{expires_at}").as_bytes(), tag)
    })
}

/// A new secret: 24 random bytes in unpadded base64url.
fn new_secret() -> String {
    let secret = URL_SAFE_NO_PAD.encode(system::random_bytes::<24>());
    debug_assert_eq!(secret.len(), SECRET_CHARS);
    secret
}

/// What is kept of a secret: its SHA-256, in hex. (A secret has 192 random bits, so a
/// fast hash is enough: there is nothing to guess from it.)
fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A password's Argon2id hash, in PHC form, with a fresh random salt.
fn hash_password(password: &str) -> String {
    let salt =
        SaltString::encode_b64(&system::random_bytes::<16>()).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .expect("Argon2's default parameters hash any password")
}

/// A row of [`COLUMNS`].
fn read(row: &AnyRow) -> Result<Opened, sqlx::Error> {
    let optional = |name: &str| -> Result<Option<u64>, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(name)?.map(from_db))
    };
    let count = |name: &str| -> Result<u64, sqlx::Error> { Ok(from_db(row.try_get(name)?)) };
    let allowed: String = row.try_get("allowed_types")?;
    let password_hash: Option<String> = row.try_get("password_hash")?;
    let link = LinkInfo {
        id: row.try_get("id")?,
        label: row.try_get("label")?,
        message: row.try_get("message")?,
        folder: row.try_get("folder")?,
        created_at: count("created_at")?,
        expires_at: count("expires_at")?,
        revoked_at: optional("revoked_at")?,
        limits: Limits {
            max_bytes: optional("max_bytes")?,
            max_files: optional("max_files")?,
            max_file_size: optional("max_file_size")?,
            allowed_types: allowed
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        has_password: password_hash.is_some(),
        ask_name: count("ask_name")? != 0,
        held: Held {
            bytes: count("bytes_held")?,
            files: count("files_held")?,
        },
        stored: Held {
            bytes: count("bytes_stored")?,
            files: count("files_stored")?,
        },
        last_upload_at: optional("last_upload_at")?,
    };
    Ok(Opened {
        link,
        password_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_kept_only_as_hashes() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        assert!(is_secret_shaped(&a), "{a}");
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), secret_hash(&b));
        assert!(!secret_hash(&a).contains(&a));
    }

    #[test]
    fn grants_are_for_one_link_until_they_expire() {
        let signer = Signer::new(b"test\0", b"secret");
        let given = grant(&signer, "link-a", 1_000);
        assert!(is_granted(
            &signer,
            "link-a",
            &given,
            1_000 + GRANT_SECS - 1
        ));
        assert!(!is_granted(&signer, "link-a", &given, 1_000 + GRANT_SECS));
        assert!(!is_granted(&signer, "link-b", &given, 1_000));
        assert!(!is_granted(
            &Signer::new(b"other\0", b"secret"),
            "link-a",
            &given,
            1_000
        ));
        let (_, tag) = given.split_once('.').expect("two halves");
        assert!(!is_granted(
            &signer,
            "link-a",
            &format!("99999999999.{tag}"),
            1_000
        ));
        for junk in ["", ".", "x.y", "1.%%"] {
            assert!(!is_granted(&signer, "link-a", junk, 0), "{junk:?}");
        }
    }

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let opened = |password_hash| Opened {
            link: LinkInfo {
                id: "x".into(),
                label: "x".into(),
                message: None,
                folder: String::new(),
                created_at: 0,
                expires_at: 1,
                revoked_at: None,
                limits: Limits::default(),
                has_password: true,
                ask_name: false,
                held: Held::default(),
                stored: Held::default(),
                last_upload_at: None,
            },
            password_hash,
        };
        let hash = hash_password("open sesame");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert_ne!(hash, hash_password("open sesame"), "salted");
        let link = opened(Some(hash));
        assert!(link.is_password("open sesame"));
        assert!(!link.is_password("open sesame "));
        assert!(!link.is_password(""));
        assert!(!opened(Some("not a hash".into())).is_password("x"));
        assert!(opened(None).is_password("anything"));
    }
}
