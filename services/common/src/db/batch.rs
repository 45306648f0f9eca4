//! Bulk inserts through the two-backend connection. diesel's
//! `MultiConnection` cannot run `insert_into(..).values(&rows)` for many
//! rows, yet one statement per row costs a round trip each on PostgreSQL,
//! which is what makes bulk work (a MARC import of thousands of records)
//! slow. Both helpers match on the connection variant and let the concrete
//! connection do the work:
//!
//! - [`insert_rows`]: multi-row INSERTs, in chunks that keep each statement
//!   under the backend's limit of bound parameters.
//! - [`bulk_insert`]: the fastest way each backend has. On PostgreSQL that
//!   is `COPY … FROM STDIN` (binary): a multi-row INSERT of ten thousand
//!   rows spends most of its time parsing and planning a statement with
//!   tens of thousands of parameters, which COPY skips. SQLite gets the
//!   multi-row INSERTs. A row type opts in with [`copy_in!`](crate::copy_in).

use diesel::prelude::*;
use diesel::query_builder::InsertStatement;
use diesel::query_dsl::methods::ExecuteDsl;

use super::DbConnection;

/// Most bound parameters in one SQLite statement (SQLite ≥ 3.32).
pub const SQLITE_MAX_PARAMETERS: usize = 32_766;
/// Most bound parameters in one PostgreSQL statement (the protocol's limit).
pub const PG_MAX_PARAMETERS: usize = 65_535;
/// Most columns a row can bind: diesel is built with its
/// `32-column-tables` feature (workspace `Cargo.toml`), so no table, and no
/// `Insertable` of one, has more. Raise it with that feature.
pub const MAX_ROW_COLUMNS: usize = 32;

/// A row type that PostgreSQL can take with `COPY … FROM STDIN`: implement
/// it with [`copy_in!`](crate::copy_in) next to the row's `Insertable`
/// derive. diesel's COPY takes every field as a bound value, never
/// `DEFAULT`: derive `Insertable` with `treat_none_as_default_value = false`
/// (a `None` is then written as NULL, not as the column's default).
pub trait CopyIn: Sized {
    /// Writes `rows` with one COPY and returns how many were written.
    fn copy_in(connection: &mut PgConnection, rows: &[Self]) -> QueryResult<usize>;
}

/// `copy_in!(TitleRow => titles::table)` implements [`CopyIn`] for a row
/// type from its `Insertable` derive, so a column added to the row needs
/// nothing more here.
#[macro_export]
macro_rules! copy_in {
    ($row:ty => $table:path) => {
        impl $crate::db::batch::CopyIn for $row {
            fn copy_in(
                connection: &mut ::diesel::PgConnection,
                rows: &[Self],
            ) -> ::diesel::QueryResult<usize> {
                use ::diesel::ExecuteCopyFromDsl as _;
                ::diesel::copy_from($table).from_insertable(rows).execute(connection)
            }
        }
    };
}

/// Inserts `rows` into `table` the fastest way the backend has and returns
/// how many were inserted: one `COPY … FROM STDIN` on PostgreSQL, multi-row
/// INSERTs ([`insert_rows`]) on SQLite. What is written is the same either
/// way. Call it inside the caller's transaction; a unique violation fails
/// it as one ([`super::is_unique_violation`]) on both backends. Name the
/// row type at the call, as for [`insert_rows`].
pub fn bulk_insert<'a, T, R>(connection: &mut DbConnection, table: T, rows: &'a [R]) -> QueryResult<usize>
where
    T: Table + Copy,
    R: CopyIn,
    &'a [R]: Insertable<T>,
    InsertStatement<T, <&'a [R] as Insertable<T>>::Values>:
        ExecuteDsl<PgConnection> + ExecuteDsl<SqliteConnection>,
{
    if rows.is_empty() {
        return Ok(0);
    }
    match connection {
        DbConnection::Pg(pg) => R::copy_in(pg, rows),
        DbConnection::Sqlite(_) => insert_rows::<T, R>(connection, table, MAX_ROW_COLUMNS, rows),
    }
}

/// Inserts `rows` into `table` with as few statements as the backend
/// allows and returns how many rows were inserted. `columns` is how many
/// columns one row binds (the fields of the `Insertable`); it sizes the
/// chunks. Call it inside the caller's transaction: a failed chunk leaves
/// the earlier ones written until that transaction is rolled back.
///
/// Name the row type at the call, `insert_rows::<_, TitleRow>(..)`: rustc
/// checks diesel's bounds before it infers the type from the argument, and
/// without it overflows on diesel's `Insertable` for `Option`.
pub fn insert_rows<'a, T, R>(
    connection: &mut DbConnection,
    table: T,
    columns: usize,
    rows: &'a [R],
) -> QueryResult<usize>
where
    T: Table + Copy,
    &'a [R]: Insertable<T>,
    InsertStatement<T, <&'a [R] as Insertable<T>>::Values>:
        ExecuteDsl<PgConnection> + ExecuteDsl<SqliteConnection>,
{
    let limit = match connection {
        DbConnection::Pg(_) => PG_MAX_PARAMETERS,
        DbConnection::Sqlite(_) => SQLITE_MAX_PARAMETERS,
    };
    let rows_per_statement = (limit / columns.max(1)).max(1);
    let mut inserted = 0;
    for chunk in rows.chunks(rows_per_statement) {
        inserted += match connection {
            DbConnection::Pg(pg) => diesel::insert_into(table).values(chunk).execute(pg)?,
            DbConnection::Sqlite(sqlite) => diesel::insert_into(table).values(chunk).execute(sqlite)?,
        };
    }
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;
    use crate::db::{Db, is_unique_violation};
    use crate::testing::TestDatabase;

    diesel::table! {
        batch_probe (id) {
            id -> Integer,
            name -> Text,
            note -> Nullable<Text>,
        }
    }

    #[derive(Debug, Clone, Insertable)]
    #[diesel(table_name = batch_probe, treat_none_as_default_value = false)]
    struct ProbeRow {
        id: i32,
        name: String,
        note: Option<String>,
    }

    crate::copy_in!(ProbeRow => batch_probe::table);

    fn probe_rows(count: i32) -> Vec<ProbeRow> {
        (1..=count)
            .map(|id| ProbeRow {
                id,
                name: format!("书 {id}"),
                note: (id % 3 == 0).then(|| format!("note {id}")),
            })
            .collect()
    }

    fn database() -> (TestDatabase, Db) {
        let database = TestDatabase::create("batch");
        let db = Db::connect(database.url(), 2).unwrap();
        db.connection()
            .unwrap()
            .batch_execute("CREATE TABLE batch_probe (id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT)")
            .unwrap();
        (database, db)
    }

    #[test]
    fn many_rows_go_in_chunks_under_the_parameter_limit_and_all_arrive() {
        let (_database, db) = database();
        let mut connection = db.connection().unwrap();
        // 40,000 rows × 3 columns is past both backends' limits per statement.
        let rows = probe_rows(40_000);
        let inserted = insert_rows::<_, ProbeRow>(&mut connection, batch_probe::table, 3, &rows).unwrap();
        assert_eq!(inserted, 40_000);
        let stored: i64 = batch_probe::table.count().get_result(&mut *connection).unwrap();
        assert_eq!(stored, 40_000);
        let (name, note): (String, Option<String>) = batch_probe::table
            .find(39_999)
            .select((batch_probe::name, batch_probe::note))
            .first(&mut *connection)
            .unwrap();
        assert_eq!((name.as_str(), note.as_deref()), ("书 39999", Some("note 39999")));
        assert_eq!(insert_rows::<_, ProbeRow>(&mut connection, batch_probe::table, 3, &[]).unwrap(), 0);
    }

    #[test]
    fn a_duplicate_key_fails_the_insert_as_a_unique_violation() {
        let (_database, db) = database();
        let mut connection = db.connection().unwrap();
        let mut rows = probe_rows(10);
        rows.push(rows[4].clone());
        let result = connection
            .transaction(|connection| insert_rows::<_, ProbeRow>(connection, batch_probe::table, 3, &rows));
        assert!(result.as_ref().is_err_and(is_unique_violation), "{result:?}");
        let stored: i64 = batch_probe::table.count().get_result(&mut *connection).unwrap();
        assert_eq!(stored, 0, "the rolled-back transaction left nothing");
    }

    #[test]
    fn bulk_insert_writes_every_row_as_given() {
        let (_database, db) = database();
        let mut connection = db.connection().unwrap();
        let rows = probe_rows(40_000);
        let inserted = bulk_insert::<_, ProbeRow>(&mut connection, batch_probe::table, &rows).unwrap();
        assert_eq!(inserted, 40_000);
        let stored: Vec<(i32, String, Option<String>)> =
            batch_probe::table.order(batch_probe::id).load(&mut *connection).unwrap();
        let given: Vec<(i32, String, Option<String>)> =
            rows.into_iter().map(|row| (row.id, row.name, row.note)).collect();
        assert!(stored == given, "what was stored differs from the rows given");
        assert_eq!(bulk_insert::<_, ProbeRow>(&mut connection, batch_probe::table, &[]).unwrap(), 0);
    }

    #[test]
    fn a_duplicate_key_fails_the_bulk_insert_as_a_unique_violation() {
        let (_database, db) = database();
        let mut connection = db.connection().unwrap();
        let mut rows = probe_rows(10);
        rows.push(rows[4].clone());
        let result = connection
            .transaction(|connection| bulk_insert::<_, ProbeRow>(connection, batch_probe::table, &rows));
        assert!(result.as_ref().is_err_and(is_unique_violation), "{result:?}");
        let stored: i64 = batch_probe::table.count().get_result(&mut *connection).unwrap();
        assert_eq!(stored, 0, "the rolled-back transaction left nothing");
    }
}
