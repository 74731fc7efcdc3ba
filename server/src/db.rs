//! The database layer: one pool, one set of queries, SQLite or PostgreSQL chosen by URL.
//!
//! Queries are written once in the SQL both engines share and run through sqlx's `Any`
//! driver (see docs/ARCHITECTURE.md for why). Conventions every query follows:
//! - placeholders are `$1, $2, …`, first used in ascending order (SQLite reads `$N` as a named
//!   parameter numbered by first appearance; PostgreSQL by its number, so both agree);
//! - timestamps are `i64` UTC milliseconds, ids are UUID text;
//! - booleans are read with [`flag`], since SQLite returns them as integers.

pub mod api_tokens;
pub mod audit;
pub mod calls;
pub mod emergency_addresses;
pub mod health_checks;
pub mod incidents;
pub mod mfa;
pub mod numbers;
pub mod org_users;
pub mod orgs;
pub mod port_orders;
pub mod rate_limits;
pub mod rollups;
pub mod services;
pub mod sessions;
pub mod sso;
pub mod tokens;
pub mod users;

use std::{str::FromStr, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions, AnyRow},
    migrate::Migrator,
    Any, AnyConnection, AnyPool, ConnectOptions, Connection, Executor, Row, Transaction,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Rows after which a load refreshes the planner statistics ([`Db::refresh_call_statistics`]).
pub const BULK_ROWS: u64 = 50_000;

/// How long a query waits for a pooled connection before the request gives up with 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: a file under `data/`, WAL mode.
    Sqlite,
    /// The production engine shared by several portal instances.
    Postgres,
}

impl Backend {
    /// The engine behind a connection.
    pub fn of(conn: &AnyConnection) -> Backend {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// The engine's name in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Failure to open or migrate the database, with what to check.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A URL that is neither sqlite:// nor postgres://.
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (got {0:?})")]
    UnsupportedUrl(String),
    /// The directory for the SQLite file could not be made.
    #[error("could not create the database directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Connecting failed.
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("could not migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The migration lock file could not be opened or locked.
    #[error("could not lock {path} to migrate the database: {source}")]
    MigrationLock {
        /// The lock file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A pool of connections and the engine behind it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite database file, when there is one (for the migration lock).
    sqlite_path: Option<std::path::PathBuf>,
}

/// The backend named by a database URL.
pub fn backend_of(url: &str) -> Result<Backend, DbError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(DbError::UnsupportedUrl(redact_url(url)))
    }
}

/// `url` without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparseable URL)".to_string(),
    }
}

/// The file path in a `sqlite://PATH?…` URL, unless it is in memory.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

impl Db {
    /// Opens a pool. For SQLite the file's directory is created and WAL mode is switched on.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        if let Some(path) = sqlite_file(url) {
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
            }
        }
        let options = AnyConnectOptions::from_str(url)
            .map_err(DbError::Connect)?
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500))
            .log_statements(tracing::log::LevelFilter::Trace);
        let mut pool = AnyPoolOptions::new()
            // A request waits at most this long for a connection, then answers 503 with
            // Retry-After: while PostgreSQL is down every new connection is refused and sqlx
            // keeps retrying until this deadline (an operator saw every request hang 5 s).
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            // A connection that still believes it is in a transaction is closed, not handed
            // out. When COMMIT fails on a full disk SQLite has already rolled the transaction
            // back, so sqlx's ROLLBACK fails too and the connection keeps a transaction depth
            // of 1: the next `BEGIN IMMEDIATE` on it was refused (500) even after space was
            // freed (`make soak`'s real full disk, one run in five).
            .before_acquire(|conn, _meta| Box::pin(async move { Ok(!conn.is_in_transaction()) }));
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers work while a writer commits; NORMAL sync is durable
                    // in WAL mode except against power loss of the last transactions.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(options).await.map_err(DbError::Connect)?;
        Ok(Db {
            pool,
            backend,
            sqlite_path: sqlite_file(url).map(std::path::PathBuf::from),
        })
    }

    /// Applies pending migrations of this backend. Two processes migrating one database at
    /// once (a server starting while a CLI command runs) take turns: PostgreSQL through sqlx's
    /// advisory lock, SQLite through an exclusive lock on `<database>.migrate-lock` beside the
    /// file, held until the migrations are done (the second process then finds nothing to do).
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
            Backend::Sqlite => {
                let _lock = match &self.sqlite_path {
                    Some(db_file) => Some(migration_lock(db_file).await?),
                    None => None,
                };
                SQLITE_MIGRATIONS.run(&self.pool).await?;
            }
        }
        Ok(())
    }

    /// The connection pool, for queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
    /// taken at the start (waiting for another writer up to the busy timeout) instead of at
    /// the first write. A deferred transaction that reads and then writes fails at once with
    /// SQLITE_BUSY (snapshot) when another connection committed in between, and under load
    /// (an ingest client's batches beside people editing numbers) that answered 503.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Refreshes PostgreSQL's planner statistics of the call tables after a bulk load
    /// ([`BULK_ROWS`] or more rows). Until autovacuum gets to it, the planner takes a table
    /// that was just filled for nearly empty: after the demo seed, `GET /api/v1/calls` chose a
    /// bitmap scan and a sort of every call in the range (125 ms with 100,000 recent calls)
    /// over reading the index backwards to the page's end (2 ms). SQLite plans without
    /// statistics by favouring indexes, which is what these reads need, so nothing is done.
    pub async fn refresh_call_statistics(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE calls, call_hourly_by_service, call_hourly_by_country")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The engine behind the pool.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers a trivial query within `deadline`.
    pub async fn ping(&self, deadline: Duration) -> bool {
        matches!(
            tokio::time::timeout(deadline, sqlx::query("SELECT 1").execute(&self.pool)).await,
            Ok(Ok(_))
        )
    }

    /// Connections open (busy + idle) and idle, for the pool gauges.
    pub fn pool_usage(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// The pool's upper bound on connections.
    pub fn pool_max(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// [`Db::begin_write`] on a connection held outside the pool.
pub async fn begin_write_on(conn: &mut AnyConnection) -> Result<Transaction<'_, Any>, sqlx::Error> {
    match Backend::of(conn) {
        Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => conn.begin().await,
    }
}

/// Takes the exclusive migration lock of the SQLite database `db_file`, waiting for another
/// process that holds it. The lock goes with the returned file (closed when dropped, or when
/// the process dies, so a killed migration never leaves it taken).
async fn migration_lock(db_file: &std::path::Path) -> Result<std::fs::File, DbError> {
    let mut name = db_file.as_os_str().to_owned();
    name.push(".migrate-lock");
    let path = std::path::PathBuf::from(name);
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(|e| DbError::MigrationLock {
        path: shown.clone(),
        source: std::io::Error::other(e),
    })?
    .map_err(|source| DbError::MigrationLock {
        path: shown,
        source,
    })
}

/// The error every query returns (the database's); layers above see it under this name.
pub use sqlx::Error as QueryError;

/// What a failed query says about the database itself, rather than about the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The database does not answer (stopped, restarting, unreachable, out of connections,
    /// or too busy to give a connection in time): retrying shortly can succeed.
    Unavailable,
    /// The database's disk (or its configured size limit) is full: writes fail until space
    /// is freed; reads keep working.
    StorageFull,
}

/// Classifies `err` as an outage of the database, or `None` for an error of the query itself
/// (a bug, a constraint, a decoding problem).
pub fn outage_of(err: &sqlx::Error) -> Option<Outage> {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => Some(Outage::Unavailable),
        sqlx::Error::Database(e) => outage_of_code(e.code().as_deref()?),
        _ => None,
    }
}

/// The outage behind `err`, when a database error is among its causes.
pub fn outage_in(err: &anyhow::Error) -> Option<Outage> {
    err.chain()
        .find_map(|e| e.downcast_ref::<sqlx::Error>())
        .and_then(outage_of)
}

/// Whether `err` is PostgreSQL refusing text it cannot store (a NUL character: SQLSTATE
/// 22021, or 22P05 for a character the encoding lacks).
pub fn is_unstorable_text(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<sqlx::Error>())
        .any(|e| {
            matches!(e, sqlx::Error::Database(d)
                if matches!(d.code().as_deref(), Some("22021" | "22P05")))
        })
}

/// `result` of a bookkeeping write (a last-seen time, a clean-up) that must not stop a read:
/// a full disk is logged and let pass; any other error stays an error.
pub fn unless_full<T>(result: Result<T, sqlx::Error>, what: &str) -> Result<(), sqlx::Error> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if outage_of(&e) == Some(Outage::StorageFull) => {
            tracing::warn!("the database is full: {what} was not saved");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The outage a database error code stands for: PostgreSQL's SQLSTATE (five characters) or
/// SQLite's numeric result code (extended codes carry the primary code in the low byte; the
/// largest is four digits, and a SQLSTATE is always five characters, often all digits).
fn outage_of_code(code: &str) -> Option<Outage> {
    if let (true, Ok(n)) = (code.len() < 5, code.parse::<u32>()) {
        // SQLite: a database that is busy or locked past the busy timeout, cannot be opened,
        // or had an I/O error; SQLITE_FULL is the disk (or max_page_count) being full.
        return match n & 0xff {
            13 => Some(Outage::StorageFull),
            5 | 6 | 10 | 14 => Some(Outage::Unavailable),
            _ => None,
        };
    }
    match code {
        // disk_full
        "53100" => Some(Outage::StorageFull),
        // insufficient_resources, out_of_memory, too_many_connections, admin_shutdown,
        // crash_shutdown, cannot_connect_now
        "53000" | "53200" | "53300" | "57P01" | "57P02" | "57P03" => Some(Outage::Unavailable),
        // connection_exception and its subclasses
        c if c.starts_with("08") => Some(Outage::Unavailable),
        _ => None,
    }
}

/// A value bound to a placeholder of a query built from filters.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// An integer (also booleans as 0/1 and UTC ms).
    Int(i64),
    /// Text.
    Text(String),
    /// A floating-point number.
    Real(f64),
}

/// Binds `binds` to `query`, in order.
pub fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        query = match b {
            Bind::Int(v) => query.bind(*v),
            Bind::Text(v) => query.bind(v.as_str()),
            Bind::Real(v) => query.bind(*v),
        };
    }
    query
}

/// Reads a boolean column the same way on both engines (SQLite stores 0/1 integers).
pub fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    match row.try_get::<bool, _>(column) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// Whether `err` is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// The placeholders `$first, $first+1, …` for `n` values, for an `IN` list.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sets this SQLite connection's page cache to `kib` KiB (bulk imports want a large one; the
/// connection goes back to the pool with the default again).
pub async fn set_sqlite_cache_kib(conn: &mut AnyConnection, kib: i64) -> Result<(), sqlx::Error> {
    // A number, not a parameter: PRAGMA takes no bind parameters.
    sqlx::query(&format!("PRAGMA cache_size = -{kib}"))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_told_from_query_errors() {
        assert_eq!(
            outage_of(&sqlx::Error::PoolTimedOut),
            Some(Outage::Unavailable)
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            outage_of(&sqlx::Error::Io(refused)),
            Some(Outage::Unavailable)
        );
        assert_eq!(outage_of(&sqlx::Error::RowNotFound), None);
        // SQLite: SQLITE_FULL, SQLITE_BUSY, SQLITE_IOERR_WRITE (778), SQLITE_CONSTRAINT_UNIQUE.
        assert_eq!(outage_of_code("13"), Some(Outage::StorageFull));
        assert_eq!(outage_of_code("5"), Some(Outage::Unavailable));
        assert_eq!(outage_of_code("778"), Some(Outage::Unavailable));
        assert_eq!(outage_of_code("2067"), None);
        // PostgreSQL: disk_full, admin_shutdown, connection_failure, unique_violation.
        assert_eq!(outage_of_code("53100"), Some(Outage::StorageFull));
        assert_eq!(outage_of_code("57P01"), Some(Outage::Unavailable));
        assert_eq!(outage_of_code("08006"), Some(Outage::Unavailable));
        assert_eq!(outage_of_code("23505"), None);
    }

    #[test]
    fn the_backend_follows_the_url_scheme() {
        assert_eq!(
            backend_of("sqlite://data/portal.db?mode=rwc").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            backend_of("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            backend_of("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(
            matches!(backend_of("mysql://u:pw@h/db"), Err(DbError::UnsupportedUrl(u)) if !u.contains("pw"))
        );
    }

    #[test]
    fn the_sqlite_file_is_found_in_the_url() {
        assert_eq!(
            sqlite_file("sqlite://data/portal.db?mode=rwc"),
            Some("data/portal.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }
}
