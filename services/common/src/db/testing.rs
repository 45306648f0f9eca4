//! Throw-away databases for tests: a SQLite file in a temporary folder, or,
//! when `LECTERN_TEST_DATABASE_URL` points at a PostgreSQL server, a fresh
//! database on it that is dropped when the test ends.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

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
                let mut admin = PgConnection::establish(&server_url)
                    .unwrap_or_else(|error| panic!("cannot reach {TEST_DATABASE_URL}: {error}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
                let url = with_database(&server_url, &name);
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
        if let Cleanup::Postgres { server_url, name } = &self.cleanup {
            match PgConnection::establish(server_url) {
                Ok(mut admin) => {
                    if let Err(error) =
                        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    {
                        eprintln!("could not drop test database {name}: {error}");
                    }
                }
                Err(error) => eprintln!("could not drop test database {name}: {error}"),
            }
        }
    }
}

/// Replaces the database name (the path) of a PostgreSQL URL.
fn with_database(server_url: &str, name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::with_database;

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
}
