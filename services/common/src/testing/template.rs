//! Template databases, as the Rust package registry's test setup keeps
//! them: for each service, a database on which the common migrations and
//! the service's own have run, made once and then copied for every test
//! (`CREATE DATABASE … TEMPLATE …` on PostgreSQL, a file copy on SQLite).
//!
//! A template is named after a hash of what its migrations execute, so
//! test binaries of different checkouts sharing one PostgreSQL server, or a
//! migration edited in place, never use a template made from other
//! migrations. Test binaries run in parallel: on PostgreSQL an advisory
//! lock lets one of them make a missing template while the others wait,
//! and a template is built under another name and renamed once complete,
//! so its name alone says it is usable. It then refuses connections, so
//! nothing can be connected to it while it is copied (PostgreSQL refuses
//! to copy a database someone is connected to). Templates nobody has used
//! for a day are dropped by the next process that looks for one.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use diesel::backend::Backend;
use diesel::connection::{BoxableConnection, SimpleConnection};
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::Sqlite;
use sha2::{Digest, Sha256};

use crate::db::{COMMON_MIGRATIONS, Db, Migrations, with_database};

/// A template nobody has used for this long is dropped.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The advisory lock, taken on the server's maintenance database (the one
/// `LECTERN_TEST_DATABASE_URL` names), under which templates are looked
/// for, made and dropped. (Services hold 7305521 while they migrate.)
const TEMPLATE_LOCK: i64 = 7_305_522;

/// What every PostgreSQL template name starts with.
const POSTGRES_PREFIX: &str = "lectern_tmpl_";

/// Templates this process has made or checked: looked for once per process.
fn ready() -> std::sync::MutexGuard<'static, HashSet<String>> {
    static READY: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    READY.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner)
}

/// The name of `service`'s template on the PostgreSQL server at
/// `server_url`, made first if there is none.
pub(super) fn postgres(server_url: &str, service: &str, migrations: Migrations) -> Result<String, String> {
    let hash = fingerprint::<Pg>([&COMMON_MIGRATIONS.postgres, &migrations.postgres])?;
    let name = format!("{POSTGRES_PREFIX}{service}_{hash}");
    let mut ready = ready();
    let key = format!("{server_url} {name}");
    if ready.contains(&key) {
        return Ok(name);
    }
    let mut admin = PgConnection::establish(server_url).map_err(|error| error.to_string())?;
    sql(&mut admin, &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))?;
    let made = make_postgres(&mut admin, server_url, &name, migrations);
    let unlocked = sql(&mut admin, &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"));
    made.and(unlocked)?;
    ready.insert(key);
    Ok(name)
}

#[derive(QueryableByName)]
struct Database {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    note: Option<String>,
}

/// Makes the template `name` unless it exists, notes that it was used, and
/// drops stale ones. Runs under [`TEMPLATE_LOCK`].
fn make_postgres(
    admin: &mut PgConnection,
    server_url: &str,
    name: &str,
    migrations: Migrations,
) -> Result<(), String> {
    let templates: Vec<Database> = diesel::sql_query(
        "SELECT datname::text AS name, shobj_description(oid, 'pg_database') AS note
         FROM pg_database WHERE starts_with(datname, $1)",
    )
    .bind::<Text, _>(POSTGRES_PREFIX)
    .load(admin)
    .map_err(|error| error.to_string())?;

    if !templates.iter().any(|template| template.name == name) {
        let building = format!("{name}_b");
        sql(admin, &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))?;
        sql(admin, &format!("CREATE DATABASE {building}"))?;
        let migrated = Db::connect(&with_database(server_url, &building), 1)
            .and_then(|db| db.migrate(migrations))
            .map_err(|error| format!("migrating {building}: {error}"));
        if let Err(error) = migrated {
            let _ = sql(admin, &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"));
            return Err(error);
        }
        // The migration's connection is closed; PostgreSQL waits (up to
        // 5 s) for its server process to end before renaming.
        sql(admin, &format!("ALTER DATABASE {building} RENAME TO {name}"))?;
        sql(admin, &format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"))?;
    }

    let now = unix_seconds(SystemTime::now());
    sql(admin, &format!("COMMENT ON DATABASE {name} IS 'lectern test template, last used {now}'"))?;
    for template in templates.iter().filter(|template| template.name != name) {
        // Half-built ones of a process that died have no note: nobody
        // else builds while this process holds the lock.
        let last_used =
            template.note.as_deref().and_then(|note| note.rsplit(' ').next()?.parse::<u64>().ok());
        if last_used.is_none_or(|used| now.saturating_sub(used) > STALE_AFTER.as_secs())
            && let Err(error) = sql(admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", template.name))
        {
            eprintln!("could not drop the stale template database {}: {error}", template.name);
        }
    }
    Ok(())
}

/// The path of `service`'s SQLite template file, made first if there is
/// none. The files live in one folder of the system's temporary directory,
/// shared by test processes; a template is built under a name of its own
/// and renamed into place, which is atomic.
pub(super) fn sqlite(service: &str, migrations: Migrations) -> Result<PathBuf, String> {
    let hash = fingerprint::<Sqlite>([&COMMON_MIGRATIONS.sqlite, &migrations.sqlite])?;
    let folder = std::env::temp_dir().join("lectern-test-templates");
    let path = folder.join(format!("{service}-{hash}.db"));
    let mut ready = ready();
    let key = path.display().to_string();
    if ready.contains(&key) {
        return Ok(path);
    }
    if !path.exists() {
        std::fs::create_dir_all(&folder).map_err(|error| format!("{}: {error}", folder.display()))?;
        let building = folder.join(format!("{service}-{hash}.{}.building", uuid::Uuid::now_v7().simple()));
        let migrated = migrate_sqlite(&building, migrations);
        let placed = migrated.and_then(|()| {
            std::fs::rename(&building, &path).map_err(|error| format!("{}: {error}", path.display()))
        });
        if placed.is_err() {
            let _ = std::fs::remove_file(&building);
        }
        placed?;
    }
    // The file's modification time says when it was last used.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|file| file.set_modified(SystemTime::now()))
        .map_err(|error| format!("{}: {error}", path.display()))?;
    drop_stale_files(&folder, &path);
    ready.insert(key);
    Ok(path)
}

fn migrate_sqlite(path: &Path, migrations: Migrations) -> Result<(), String> {
    let db = Db::connect(&path.display().to_string(), 1).map_err(|error| error.to_string())?;
    db.migrate(migrations).map_err(|error| error.to_string())?;
    // Everything into the file itself: only the file is copied.
    let mut connection = db.connection().map_err(|error| error.to_string())?;
    connection.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)").map_err(|error| error.to_string())
}

fn drop_stale_files(folder: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let stale = path != current
            && entry
                .metadata()
                .and_then(|metadata| metadata.modified())
                .is_ok_and(|modified| modified.elapsed().is_ok_and(|age| age > STALE_AFTER));
        if stale {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// A hash of the migrations' names and of the SQL they execute, taken by
/// running them against a connection that only records what it is sent.
fn fingerprint<DB: Backend>(sources: [&dyn MigrationSource<DB>; 2]) -> Result<String, String> {
    let mut recorder = Recorder(Sha256::new());
    for source in sources {
        for migration in source.migrations().map_err(|error| error.to_string())? {
            recorder.0.update(migration.name().to_string().as_bytes());
            recorder.0.update([0]);
            migration.run(&mut recorder).map_err(|error| error.to_string())?;
        }
    }
    Ok(recorder.0.finalize().iter().take(8).map(|byte| format!("{byte:02x}")).collect())
}

/// A stand-in connection that feeds what it is asked to execute into a hash.
struct Recorder(Sha256);

impl SimpleConnection for Recorder {
    fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        self.0.update(query.as_bytes());
        self.0.update([0]);
        Ok(())
    }
}

impl<DB: Backend> BoxableConnection<DB> for Recorder {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

fn sql(connection: &mut PgConnection, statement: &str) -> Result<(), String> {
    connection.batch_execute(statement).map_err(|error| format!("{statement}: {error}"))
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_what_the_migrations_execute() {
        let common = fingerprint::<Pg>([&COMMON_MIGRATIONS.postgres, &COMMON_MIGRATIONS.postgres]).unwrap();
        assert_eq!(common.len(), 16);
        assert_eq!(
            common,
            fingerprint::<Pg>([&COMMON_MIGRATIONS.postgres, &COMMON_MIGRATIONS.postgres]).unwrap()
        );
        let sqlite = fingerprint::<Sqlite>([&COMMON_MIGRATIONS.sqlite, &COMMON_MIGRATIONS.sqlite]).unwrap();
        assert_ne!(common, sqlite, "the backends' SQL differs");
    }
}
