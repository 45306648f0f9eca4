//! Throw-away databases for tests: a SQLite file in a temporary folder, or,
//! when `LECTERN_TEST_DATABASE_URL` points at a PostgreSQL server, a
//! database of its own on that server, dropped when the test ends. A
//! migrated one is a copy of the service's template (see `template`), so a
//! test does not pay for running every migration again.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;

use super::template;
use crate::db::{Migrations, create_database, drop_database, with_database};

/// The variable that selects PostgreSQL for tests.
pub const TEST_DATABASE_URL: &str = "LECTERN_TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("TestDatabase").field("url", &self.url).finish()
    }
}

/// The PostgreSQL server tests run against, if `LECTERN_TEST_DATABASE_URL`
/// names one.
pub fn postgres_server_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL).ok().filter(|url| !url.trim().is_empty())
}

impl TestDatabase {
    /// A new empty database; `label` (letters and digits) helps find it
    /// while a test is stuck.
    pub fn create(label: &str) -> Self {
        let label = plain(label);
        match postgres_server_url() {
            Some(server_url) => {
                let name = unique_name(&label);
                let url = create_database(&server_url, &name).unwrap_or_else(|error| {
                    panic!("cannot create test database {name} on {TEST_DATABASE_URL}: {error}")
                });
                Self { url, cleanup: Cleanup::Postgres { server_url, name } }
            }
            None => {
                let (dir, url) = sqlite_file(&label);
                Self { url, cleanup: Cleanup::Sqlite(dir) }
            }
        }
    }

    /// A new database of the service `service` on which its `migrations`
    /// (and the common ones every service has, as [`Db::migrate`] runs
    /// them) have run: a copy of a template migrated once. The service
    /// still migrates it at start, and finds nothing to do.
    ///
    /// [`Db::migrate`]: crate::db::Db::migrate
    pub fn migrated(service: &str, migrations: Migrations) -> Self {
        let service = plain(service);
        match postgres_server_url() {
            Some(server_url) => {
                let template = template::postgres(&server_url, &service, migrations)
                    .unwrap_or_else(|error| panic!("no template database for {service}: {error}"));
                let name = unique_name(&service);
                clone_postgres(&server_url, &template, &name).unwrap_or_else(|error| {
                    panic!("cannot create test database {name} from {template}: {error}")
                });
                Self {
                    url: with_database(&server_url, &name),
                    cleanup: Cleanup::Postgres { server_url, name },
                }
            }
            None => {
                let template = template::sqlite(&service, migrations)
                    .unwrap_or_else(|error| panic!("no template database for {service}: {error}"));
                let (dir, url) = sqlite_file(&service);
                std::fs::copy(&template, &url)
                    .unwrap_or_else(|error| panic!("cannot copy {} to {url}: {error}", template.display()));
                Self { url, cleanup: Cleanup::Sqlite(dir) }
            }
        }
    }

    /// The URL to hand to the service.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { server_url, name } = &self.cleanup
            && let Err(error) = drop_database(server_url, name)
        {
            eprintln!("could not drop test database {name}: {error}");
        }
    }
}

/// Letters and digits of `label`, lower-case, at most 20: safe in a
/// database name and in a file name.
fn plain(label: &str) -> String {
    label.chars().filter(char::is_ascii_alphanumeric).take(20).collect::<String>().to_ascii_lowercase()
}

fn unique_name(label: &str) -> String {
    format!("lectern_t_{}_{}", label, uuid::Uuid::now_v7().simple())
}

fn sqlite_file(label: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("no temp dir: {error}"));
    let url = dir.path().join(format!("{label}.db")).display().to_string();
    (dir, url)
}

/// `CREATE DATABASE name TEMPLATE template`. Both names are made in this
/// module from plain letters, digits and `_`.
fn clone_postgres(server_url: &str, template: &str, name: &str) -> Result<(), String> {
    let mut admin = PgConnection::establish(server_url).map_err(|error| error.to_string())?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{COMMON_MIGRATIONS, Db};

    #[test]
    fn a_migrated_database_has_nothing_left_to_migrate_and_is_its_own() {
        let first = TestDatabase::migrated("probe", COMMON_MIGRATIONS);
        let second = TestDatabase::migrated("probe", COMMON_MIGRATIONS);
        assert_ne!(first.url(), second.url());
        let db = Db::connect(first.url(), 1).unwrap();
        assert_eq!(db.migrate(COMMON_MIGRATIONS).unwrap(), Vec::<String>::new(), "the template ran them");
        // A change to one copy is not in the other.
        db.connection().unwrap().batch_execute("CREATE TABLE only_in_first (id INTEGER)").unwrap();
        let other = Db::connect(second.url(), 1).unwrap();
        assert!(other.connection().unwrap().batch_execute("SELECT id FROM only_in_first").is_err());
    }
}
