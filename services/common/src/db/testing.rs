//! Throw-away databases for tests: a SQLite file in a temporary folder, or,
//! when `LECTERN_TEST_DATABASE_URL` points at a PostgreSQL server, a fresh
//! database on it that is dropped when the test ends.

use super::{create_database, drop_database};

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

/// Whether tests run against PostgreSQL.
pub fn postgres_server_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL).ok().filter(|url| !url.trim().is_empty())
}

impl TestDatabase {
    /// A new empty database; `label` (letters and digits) helps find it
    /// while a test is stuck.
    pub fn create(label: &str) -> Self {
        let label: String = label
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(20)
            .collect::<String>()
            .to_ascii_lowercase();
        match postgres_server_url() {
            Some(server_url) => {
                let name = format!("lectern_t_{}_{}", label, uuid::Uuid::now_v7().simple());
                let url = create_database(&server_url, &name).unwrap_or_else(|error| {
                    panic!("cannot create test database {name} on {TEST_DATABASE_URL}: {error}")
                });
                Self { url, cleanup: Cleanup::Postgres { server_url, name } }
            }
            None => {
                let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("no temp dir: {error}"));
                let url = dir.path().join(format!("{label}.db")).display().to_string();
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
