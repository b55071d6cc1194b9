//! The database that keeps upload links and the record: SQLite in the data directory
//! by default (created on first start, nothing to configure), or PostgreSQL when several
//! s3drop servers share one deployment (`--database-url postgres://…`). One pool for
//! both (sqlx's `Any`), so each query and migration is written once, in plain SQL both
//! understand; the versioned migrations in `migrations/` run at start-up.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// Why the database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot open the database {place}: {source}")]
    Open { place: String, source: sqlx::Error },
    #[error("cannot bring the database {place} up to date: {source}")]
    Migrate {
        place: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("the database failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// Which database the pool reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// The pool, and which database it reaches.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    kind: Kind,
    /// Where it is, without credentials, for messages.
    place: String,
}

/// How long a call waits for a connection before the server answers that it is busy.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

impl Database {
    /// The SQLite database in `data_dir`, created on first use.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("s3drop.db").display())
    }

    /// Opens the database at `url` (`sqlite://…` or `postgres://…`) and brings its
    /// tables up to date.
    pub async fn open(url: &str) -> Result<Self, DatabaseError> {
        install_default_drivers();
        let (kind, place) = describe(url);
        let open_error = |source| DatabaseError::Open {
            place: place.clone(),
            source,
        };
        let options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        let pool = match kind {
            // Writers take turns in SQLite: a few connections read while one writes
            // (the write-ahead log), more would only wait on each other.
            Kind::Sqlite => options.max_connections(4),
            Kind::Postgres => options.max_connections(16),
        }
        .connect(url)
        .await
        .map_err(open_error)?;
        if kind == Kind::Sqlite {
            // Readers never wait for a writer, and a commit is one sequential append.
            pool.execute("PRAGMA journal_mode = WAL")
                .await
                .map_err(open_error)?;
        }
        sqlx::migrate!()
            .run(&pool)
            .await
            .map_err(|source| DatabaseError::Migrate {
                place: place.clone(),
                source,
            })?;
        Ok(Self { pool, kind, place })
    }

    /// The pool, for the rooms that own tables (`links`, `record`).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Where the database is, without credentials.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DatabaseError> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }
}

/// The kind of database `url` names, and where it is with any password left out.
fn describe(url: &str) -> (Kind, String) {
    let kind = match url.starts_with("postgres") {
        true => Kind::Postgres,
        false => Kind::Sqlite,
    };
    let place = match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            let host = host.split('?').next().unwrap_or(host);
            format!("{scheme}://{host}")
        }
        None => url.to_owned(),
    };
    (kind, place)
}

/// A count or size as the database keeps it (BIGINT); sizes are at most 5 TiB and
/// counts far fewer, so saturating is never reached in practice.
pub fn to_db(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A BIGINT read back as a count or size; a negative one (never written) reads as 0.
pub fn from_db(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_never_show_passwords() {
        let cases = [
            (
                "sqlite:///srv/s3drop/s3drop.db?mode=rwc",
                Kind::Sqlite,
                "sqlite:///srv/s3drop/s3drop.db",
            ),
            (
                "postgres://s3drop:hunter2@db:5432/s3drop",
                Kind::Postgres,
                "postgres://db:5432/s3drop",
            ),
            (
                "postgresql://u:p@w@db/x?sslmode=require",
                Kind::Postgres,
                "postgresql://db/x",
            ),
            ("postgres://db/x", Kind::Postgres, "postgres://db/x"),
        ];
        for (url, kind, place) in cases {
            assert_eq!(describe(url), (kind, place.to_owned()), "{url}");
        }
    }

    #[test]
    fn counts_round_trip_and_never_wrap() {
        assert_eq!(from_db(to_db(5 << 40)), 5 << 40);
        assert_eq!(to_db(u64::MAX), i64::MAX);
        assert_eq!(from_db(-1), 0);
    }
}
