//! Queries of MARC import, export and intake: the MARC pool (records by
//! ISBN) and the holdings of a school in export order.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{copies, marc_pool, titles};
use super::{CopyRow, TitleRow};

/// A record in the MARC pool.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = marc_pool, treat_none_as_default_value = false)]
pub struct PoolRow {
    pub isbn13: String,
    pub title: String,
    pub flavour: String,
    pub record_xml: String,
    pub source: String,
    pub updated_at: NaiveDateTime,
}

/// The pooled record of an ISBN.
pub fn find_pooled(connection: &mut DbConnection, isbn13: &str) -> QueryResult<Option<PoolRow>> {
    marc_pool::table.find(isbn13).select(PoolRow::as_select()).first(connection).optional()
}

/// Stores a record in the pool, replacing what an earlier file said about
/// the same ISBN: the latest import is the one the librarian meant.
pub fn put_pooled(connection: &mut DbConnection, row: &PoolRow) -> QueryResult<()> {
    let updated = diesel::update(marc_pool::table.find(&row.isbn13)).set(row).execute(connection)?;
    if updated == 0 {
        diesel::insert_into(marc_pool::table).values(row).execute(connection)?;
    }
    Ok(())
}

/// How many ISBNs the pool holds.
pub fn count_pooled(connection: &mut DbConnection) -> QueryResult<i64> {
    marc_pool::table.count().get_result(connection)
}

/// Ids of the titles `school_id` holds copies of (withdrawn copies aside),
/// after `after`, in id order.
pub fn held_title_ids(
    connection: &mut DbConnection,
    school_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<String>> {
    let mut query = copies::table
        .filter(copies::school_id.eq(school_id))
        .filter(copies::status.ne("withdrawn"))
        .select(copies::title_id)
        .distinct()
        .order(copies::title_id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(copies::title_id.gt(after.to_owned()));
    }
    query.load(connection)
}

/// The titles with these ids, in id order.
pub fn held_titles(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<TitleRow>> {
    titles::table
        .filter(titles::id.eq_any(ids))
        .select(TitleRow::as_select())
        .order(titles::id.asc())
        .load(connection)
}

/// The copies `school_id` holds of these titles (withdrawn ones aside), by
/// title and barcode.
pub fn held_copies(
    connection: &mut DbConnection,
    school_id: &str,
    title_ids: &[String],
) -> QueryResult<Vec<CopyRow>> {
    copies::table
        .filter(copies::school_id.eq(school_id))
        .filter(copies::title_id.eq_any(title_ids))
        .filter(copies::status.ne("withdrawn"))
        .select(CopyRow::as_select())
        .order((copies::title_id.asc(), copies::barcode.asc()))
        .load(connection)
}
