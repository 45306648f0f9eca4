//! Queries on titles and their contributors (the catalog search is in
//! `db::search`).

use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{title_contributors, title_isbns, titles};
use super::{ContributorRow, TitleRow};

/// Stores a title (without its contributors).
pub fn insert_title(connection: &mut DbConnection, title: &TitleRow) -> QueryResult<()> {
    diesel::insert_into(titles::table).values(title).execute(connection)?;
    Ok(())
}

/// Stores one contributor of a title.
pub fn insert_contributor(connection: &mut DbConnection, contributor: &ContributorRow) -> QueryResult<()> {
    diesel::insert_into(title_contributors::table).values(contributor).execute(connection)?;
    Ok(())
}

/// The title with `id`.
pub fn find_title(connection: &mut DbConnection, id: &str) -> QueryResult<Option<TitleRow>> {
    titles::table.find(id).select(TitleRow::as_select()).first(connection).optional()
}

/// The title with the canonical ISBN-13 `isbn13`, whether it is the
/// title's first ISBN or another one.
pub fn find_title_by_isbn(connection: &mut DbConnection, isbn13: &str) -> QueryResult<Option<TitleRow>> {
    titles::table
        .inner_join(title_isbns::table)
        .filter(title_isbns::isbn13.eq(isbn13))
        .select(TitleRow::as_select())
        .first(connection)
        .optional()
}

/// The contributors of the titles `title_ids`, by title and printed order.
pub fn contributors_of(
    connection: &mut DbConnection,
    title_ids: &[String],
) -> QueryResult<Vec<ContributorRow>> {
    if title_ids.is_empty() {
        return Ok(Vec::new());
    }
    title_contributors::table
        .filter(title_contributors::title_id.eq_any(title_ids))
        .select(ContributorRow::as_select())
        .order((title_contributors::title_id.asc(), title_contributors::position.asc()))
        .load(connection)
}
