//! Both backends end up with the same tables and columns after each
//! service's migrations: the DDL is written twice, once per backend, so it
//! can drift.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::Text;
use lectern_common::db::{Db, DbConnection, Migrations};
use lectern_common::testing::TestDatabase;

use crate::server;

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// The tables and columns of the database at `url` after `migrations`.
fn columns(url: &str, migrations: Migrations) -> BTreeSet<(String, String)> {
    let db = Db::connect(url, 1).unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    db.migrate(migrations).unwrap();
    let mut connection = db.connection().unwrap();
    let query = match &*connection {
        DbConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
        DbConnection::Pg(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name
             FROM information_schema.columns WHERE table_schema = 'public'"
        }
    };
    diesel::sql_query(query)
        .load::<Column>(&mut *connection)
        .unwrap()
        .into_iter()
        .map(|column| (column.table_name, column.column_name))
        .filter(|(table, _)| table != "__diesel_schema_migrations")
        .collect()
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "PostgreSQL only: set LECTERN_TEST_DATABASE_URL")]
fn sqlite_and_postgres_schemas_match() {
    server();
    for name in ["reader", "catalog", "circulation", "notification"] {
        let migrations = || match name {
            "reader" => lectern_reader::MIGRATIONS,
            "catalog" => lectern_catalog::MIGRATIONS,
            "circulation" => lectern_circulation::MIGRATIONS,
            _ => lectern_notification::MIGRATIONS,
        };
        let sqlite_dir = tempfile::tempdir().unwrap();
        let sqlite_url = sqlite_dir.path().join(format!("{name}.db")).display().to_string();
        // Empty, so that this runs the migrations themselves.
        let postgres = TestDatabase::create(name);
        let on_sqlite = columns(&sqlite_url, migrations());
        let on_postgres = columns(postgres.url(), migrations());
        assert!(!on_sqlite.is_empty(), "{name}: no tables on SQLite");
        assert_eq!(on_sqlite, on_postgres, "{name}: tables and columns differ between SQLite and PostgreSQL");
    }
}
