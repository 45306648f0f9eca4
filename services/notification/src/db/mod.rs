//! The notification service's tables and queries.

pub mod deliveries;
pub mod reminders;
pub mod schema;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use self::schema::notices;

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notices)]
pub struct NoticeRow {
    pub id: String,
    pub reader_id: String,
    pub school_id: String,
    pub event_id: String,
    pub loan_id: String,
    pub kind: String,
    pub title: String,
    pub due_date: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    /// A reminder's rendered heading and text; `None` for receipts, whose
    /// text is written in the reader's language when listed.
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// Stores a notice.
pub fn insert_notice(connection: &mut DbConnection, notice: &NoticeRow) -> QueryResult<()> {
    diesel::insert_into(notices::table).values(notice).execute(connection)?;
    Ok(())
}

/// A reader's notices, newest first, after the notice `after` (exclusive).
pub fn list_notices(
    connection: &mut DbConnection,
    reader_id: &str,
    schools: Option<&[String]>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<NoticeRow>> {
    let mut query = notices::table
        .filter(notices::reader_id.eq(reader_id))
        .select(NoticeRow::as_select())
        .order(notices::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(notices::id.lt(after.to_owned()));
    }
    if let Some(schools) = schools {
        query = query.filter(notices::school_id.eq_any(schools.to_vec()));
    }
    query.load(connection)
}

/// Removes every notice about a loan; returns how many.
pub fn delete_loan_notices(connection: &mut DbConnection, loan_id: &str) -> QueryResult<usize> {
    diesel::delete(notices::table.filter(notices::loan_id.eq(loan_id))).execute(connection)
}

/// Removes every notice to a reader; returns how many.
pub fn delete_reader_notices(connection: &mut DbConnection, reader_id: &str) -> QueryResult<usize> {
    diesel::delete(notices::table.filter(notices::reader_id.eq(reader_id))).execute(connection)
}
