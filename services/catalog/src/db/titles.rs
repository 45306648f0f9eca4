//! Queries on titles and their contributors, and the catalog search.

use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use lectern_common::db::DbConnection;

use super::schema::{title_contributors, title_isbns, titles};
use super::{ContributorRow, TitleRow};
use crate::search::{Rank, TextQuery};

/// The escape character of every LIKE pattern made by [`crate::search`].
const LIKE_ESCAPE: char = '\\';

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

/// Search hits for an ISBN: the title with that ISBN-13, if any (paged like
/// a text search so a client need not tell the two apart).
pub fn search_titles_by_isbn(
    connection: &mut DbConnection,
    isbn13: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<TitleRow>> {
    titles::table
        .filter(titles::isbn13.eq(isbn13))
        .select(TitleRow::as_select())
        .order(titles::id.asc())
        .offset(offset)
        .limit(limit)
        .load(connection)
}

/// Search hits for text: titles whose title or contributor names contain
/// the query, best first (see [`Rank`]), then by title and id so pages are
/// stable.
///
/// This scans `search_text` with `LIKE '%…%'`, which no B-tree index helps
/// with; it answers in milliseconds for a school's catalog. For district
/// catalogs of hundreds of thousands of titles a bigram index (a table of
/// two-character pieces of `search_text`, which also serves two-character
/// Chinese queries that trigram indexes cannot) is the planned next step.
pub fn search_titles_by_text(
    connection: &mut DbConnection,
    query: &TextQuery,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<TitleRow>> {
    let rank =
        case_when::<_, _, Integer>(titles::title_key.eq(query.needle.clone()), Rank::ExactTitle.value())
            .when(
                titles::title_key.like(query.prefix_pattern.clone()).escape(LIKE_ESCAPE),
                Rank::TitlePrefix.value(),
            )
            .when(
                titles::title_key.like(query.contains_pattern.clone()).escape(LIKE_ESCAPE),
                Rank::TitleContains.value(),
            )
            .otherwise(Rank::Other.value());
    titles::table
        .filter(titles::search_text.like(query.contains_pattern.clone()).escape(LIKE_ESCAPE))
        .select(TitleRow::as_select())
        .order((rank.asc(), titles::title_key.asc(), titles::id.asc()))
        .offset(offset)
        .limit(limit)
        .load(connection)
}
