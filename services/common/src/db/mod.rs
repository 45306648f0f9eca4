//! The database: one diesel connection type over SQLite (the embedded
//! default: one school on one PC) and PostgreSQL (a district), an r2d2 pool,
//! embedded migrations, and the helpers that run blocking queries off the
//! async runtime.
//!
//! Queries are written once against [`DbConnection`]; the few statements
//! that differ per backend (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's advisory
//! lock around migrations) are matched on the variant in this module only.

pub mod batch;
mod pool_metrics;
pub mod ready;
pub mod schema;

use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, Instrumentation, InstrumentationEvent, SimpleConnection, TransactionManager,
};
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

pub use self::batch::{CopyIn, bulk_insert, insert_rows};

/// One connection to either backend. Query code takes `&mut DbConnection`.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL, for districts.
    Pg(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; anything else
    /// is a SQLite file path (an optional `sqlite://` prefix is dropped).
    pub fn of_url(url: &str) -> (Self, &str) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Self::Postgres, url)
        } else {
            (Self::Sqlite, url.strip_prefix("sqlite://").unwrap_or(url))
        }
    }
}

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had in time (database down or pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] DieselError),
    /// Migrations could not run.
    #[error("database migration failed: {0}")]
    Migration(String),
}

impl DbError {
    /// Whether the error is a unique-index violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Query(error) if is_unique_violation(error))
    }
}

/// Whether a diesel error is a unique-index violation.
pub fn is_unique_violation(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
}

/// Whether a unique-index violation concerns `column` (SQLite names
/// `table.column` in its message, PostgreSQL names the index, and Lectern's
/// index names contain the column).
pub fn unique_violation_on(error: &DieselError, column: &str) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.message().contains(column)
                || info.constraint_name().is_some_and(|name| name.contains(column))
        }
        _ => false,
    }
}

impl From<DbError> for tonic::Status {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable(_) => {
                tracing::warn!(%error, "database unavailable");
                tonic::Status::unavailable("the database is unavailable, try again shortly")
            }
            other => {
                tracing::error!(error = %other, "database error");
                tonic::Status::internal("internal error")
            }
        }
    }
}

/// The migrations of one service, for both backends (declare them as a
/// `const` with `embed_migrations!`).
pub struct Migrations {
    /// `migrations/<service>/sqlite`.
    pub sqlite: EmbeddedMigrations,
    /// `migrations/<service>/postgres`.
    pub postgres: EmbeddedMigrations,
}

/// The tables every service has (outbox, consumed events, idempotency keys).
pub const COMMON_MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../../migrations/common/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../../migrations/common/postgres"),
};

/// Opens connections of the right backend for a URL and prepares them.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    backend: Backend,
    target: String,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut connection = PgConnection::establish(&self.target)?;
                connection.set_instrumentation(ConnectionWatch::default());
                Ok(DbConnection::Pg(connection))
            }
            Backend::Sqlite => {
                let mut connection = SqliteConnection::establish(&self.target)?;
                // WAL lets readers work while one station writes; FULL sync
                // means an acknowledged check-out survives a power cut; the
                // busy timeout queues writers instead of failing them.
                // Reading through a memory map (up to 1 GiB of the file)
                // shares the operating system's page cache instead of
                // copying each page in with a system call: a district
                // catalog's search index is read at memory speed once warm.
                // A page cache of up to 64 MiB per connection (SQLite's
                // default is 2 MiB) holds the pages a large write
                // transaction changes, such as a MARC import batch: with the
                // default, SQLite spills changed pages to the log mid-way,
                // again and again for the same pages.
                connection
                    .batch_execute(
                        "PRAGMA journal_mode = WAL;
                         PRAGMA synchronous = FULL;
                         PRAGMA busy_timeout = 10000;
                         PRAGMA foreign_keys = ON;
                         PRAGMA mmap_size = 1073741824;
                         PRAGMA cache_size = -65536;",
                    )
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(connection))
            }
        }
    }

    /// Runs when a connection leaves the pool. A PostgreSQL connection
    /// that answered within [`TRUSTED_FOR`] is taken as it is: the round
    /// trip of a `SELECT 1` before every piece of work was a fifth of the
    /// statements of a check-out (docs/benchmarks.md).
    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), Self::Error> {
        if watch_of(connection).is_some_and(|watch| watch.answered_within(TRUSTED_FOR)) {
            return Ok(());
        }
        connection.batch_execute("SELECT 1").map_err(diesel::ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        watch_of(connection).is_some_and(|watch| watch.lost)
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(connection)
    }
}

/// How long a PostgreSQL connection that just answered is trusted when it
/// leaves the pool. One idle for longer (the server may have restarted
/// meanwhile) is checked with a round trip first. A server that goes away
/// within this time fails the next piece of work on each pooled
/// connection once (as it fails the work in flight); the connection is
/// then dropped and a new one made.
const TRUSTED_FOR: Duration = Duration::from_secs(5);

/// Watches a PostgreSQL connection's statements: when the server last
/// answered, and whether it has closed the connection.
#[derive(Debug, Default)]
struct ConnectionWatch {
    last_answer: Option<Instant>,
    lost: bool,
}

impl ConnectionWatch {
    fn answered_within(&self, trusted_for: Duration) -> bool {
        !self.lost && self.last_answer.is_some_and(|at| at.elapsed() < trusted_for)
    }
}

impl Instrumentation for ConnectionWatch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error, .. } = event {
            match error {
                Some(DieselError::DatabaseError(
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                    _,
                )) => self.lost = true,
                // Any other answer, an error too, came from a live server.
                _ => self.last_answer = Some(Instant::now()),
            }
        }
    }
}

fn watch_of(connection: &mut DbConnection) -> Option<&mut ConnectionWatch> {
    match connection {
        DbConnection::Pg(connection) => connection.instrumentation().downcast_mut::<ConnectionWatch>(),
        DbConnection::Sqlite(_) => None,
    }
}

/// A connection borrowed from the pool.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// The database of one service: a pool of connections to one backend.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnectionManager>,
    backend: Backend,
    /// The server whose database this is (the `server` label of its metrics).
    server: &'static str,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Db").field("backend", &self.backend).finish()
    }
}

impl Db {
    /// Opens a pool of up to `pool_size` connections. The URL is never
    /// logged (it may hold a password).
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, DbError> {
        let (backend, target) = Backend::of_url(url);
        if backend == Backend::Sqlite
            && let Some(parent) = std::path::Path::new(target).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|error| {
                DbError::Unavailable(format!("cannot create {}: {error}", parent.display()))
            })?;
        }
        let manager = ConnectionManager { backend, target: target.to_owned() };
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .build(manager)
            .map_err(|error| DbError::Unavailable(error.to_string()))?;
        Ok(Self { pool, backend, server: pool_metrics::UNNAMED })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Names the server whose database this is, for its metrics (pool,
    /// outbox).
    #[must_use]
    pub fn named(mut self, server: &'static str) -> Self {
        self.server = server;
        self
    }

    /// The server whose database this is (`unnamed` unless [`Db::named`]).
    pub fn server(&self) -> &'static str {
        self.server
    }

    /// A connection for blocking work (startup, migrations, tests).
    pub fn connection(&self) -> Result<PooledConnection, DbError> {
        pool_metrics::get(&self.pool, self.server)
    }

    /// Runs the common migrations, then the service's own, and returns the
    /// versions it applied. On PostgreSQL an advisory lock keeps two
    /// replicas starting at once from migrating together.
    pub fn migrate(&self, service: Migrations) -> Result<Vec<String>, DbError> {
        let mut connection = self.connection()?;
        let mut applied = Vec::new();
        match &mut *connection {
            DbConnection::Sqlite(sqlite) => {
                applied.extend(run_pending(sqlite, COMMON_MIGRATIONS.sqlite)?);
                applied.extend(run_pending(sqlite, service.sqlite)?);
            }
            DbConnection::Pg(pg) => {
                pg.batch_execute("SELECT pg_advisory_lock(7305521)")?;
                let result = run_pending(pg, COMMON_MIGRATIONS.postgres).and_then(|mut versions| {
                    versions.extend(run_pending(pg, service.postgres)?);
                    Ok(versions)
                });
                pg.batch_execute("SELECT pg_advisory_unlock(7305521)")?;
                applied.extend(result?);
            }
        }
        Ok(applied)
    }

    /// Runs blocking database work on the blocking thread pool.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        let server = self.server;
        // The work stays in the caller's span: its logs and the events it
        // enqueues belong to the request's trace.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut connection = pool_metrics::get(&pool, server)?;
            let result = work(&mut connection);
            drop(connection);
            pool_metrics::sample(&pool, server);
            result
        })
        .await
        .map_err(|error| E::from(DbError::Unavailable(format!("database task failed: {error}"))))?
    }

    /// Runs blocking work in one write transaction (see [`write_transaction`]).
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<DieselError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        self.run(move |connection| write_transaction(connection, work)).await
    }
}

fn run_pending<DB>(
    connection: &mut impl MigrationHarness<DB>,
    source: impl MigrationSource<DB>,
) -> Result<Vec<String>, DbError>
where
    DB: diesel::backend::Backend,
{
    connection
        .run_pending_migrations(source)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|error| DbError::Migration(error.to_string()))
}

/// Replaces the database name (the path) of a PostgreSQL URL.
pub fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://").map_or(0, |index| index + 3);
    let authority_end = base[scheme_end..].find('/').map_or(base.len(), |index| scheme_end + index);
    let mut url = format!("{}/{}", &base[..authority_end], name);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// Creates the empty database `name` (lower-case letters, digits and `_`)
/// on the PostgreSQL server of `server_url`, for tests and benchmarks that
/// need one of their own; returns its URL. [`drop_database`] removes it.
pub fn create_database(server_url: &str, name: &str) -> Result<String, DbError> {
    check_database_name(name)?;
    let mut admin = PgConnection::establish(server_url)
        .map_err(|error| DbError::Unavailable(format!("cannot reach the PostgreSQL server: {error}")))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    Ok(with_database(server_url, name))
}

/// Drops the database `name` made by [`create_database`], closing any
/// connections still open to it.
pub fn drop_database(server_url: &str, name: &str) -> Result<(), DbError> {
    check_database_name(name)?;
    let mut admin = PgConnection::establish(server_url)
        .map_err(|error| DbError::Unavailable(format!("cannot reach the PostgreSQL server: {error}")))?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    Ok(())
}

/// Database names go into SQL unquoted: keep them to a safe alphabet.
fn check_database_name(name: &str) -> Result<(), DbError> {
    let safe = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if safe {
        Ok(())
    } else {
        Err(DbError::Unavailable(format!("not a database name Lectern makes: {name:?}")))
    }
}

/// Runs `work` in a transaction that intends to write. On SQLite it starts
/// with `BEGIN IMMEDIATE`, which takes the write lock up front: writers then
/// queue on the busy timeout instead of failing when a read turns into a
/// write. On PostgreSQL it is an ordinary transaction.
pub fn write_transaction<T, E, F>(connection: &mut DbConnection, work: F) -> Result<T, E>
where
    E: From<DieselError>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    match connection {
        DbConnection::Pg(_) => connection.transaction(work),
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
            match work(connection) {
                Ok(value) => {
                    <DbConnection as Connection>::TransactionManager::commit_transaction(connection)?;
                    Ok(value)
                }
                Err(error) => {
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(connection)?;
                    Err(error)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{check_database_name, with_database};

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@db:5432?sslmode=disable", "t1"),
            "postgres://u:p@db:5432/t1?sslmode=disable"
        );
    }

    #[test]
    fn only_plain_database_names_reach_sql() {
        assert!(check_database_name("lectern_bench_0190abcd_reader").is_ok());
        for name in ["", "Lectern", "x; DROP DATABASE postgres", "a-b", &"a".repeat(64)] {
            assert!(check_database_name(name).is_err(), "{name:?} should be refused");
        }
    }
}
