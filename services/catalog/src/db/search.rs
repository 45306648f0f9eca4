//! The search index tables and the search query (decision record 0004):
//! candidates from `title_search_terms` (one `IN (…)` per look-up, which
//! both databases answer from the (term, title_id) B-tree), checked with
//! `LIKE` on the searched field, filtered, ranked, paged.

use diesel::dsl::{case_when, exists, not};
use diesel::prelude::*;
use diesel::sql_types::Integer;
use lectern_common::db::DbConnection;

use super::TitleRow;
use super::schema::{copies, title_isbns, title_search_fields, title_search_terms, titles};
use crate::search::{Filters, Rank, SearchField, TextQuery};
use crate::search_terms::{Piece, prefix_end};

/// The escape character of every LIKE pattern made by [`crate::search`].
const LIKE_ESCAPE: char = '\\';
/// Rows per multi-row insert of index entries (well under SQLite's limit
/// of 32,766 bound values).
const TERMS_PER_INSERT: usize = 500;

/// The lower-cased field texts of one title.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = title_search_fields)]
pub struct SearchFieldsRow {
    pub title_id: String,
    pub title_text: String,
    pub author_text: String,
    pub subject_text: String,
}

/// Replaces a title's index entries and field texts, and stores its
/// `search_text` and `title_key` (call inside a write transaction).
pub fn store_title_index(
    connection: &mut DbConnection,
    fields: &SearchFieldsRow,
    search_text: &str,
    title_key: &str,
    terms: &[String],
) -> QueryResult<()> {
    let title_id = fields.title_id.as_str();
    diesel::update(titles::table.find(title_id))
        .set((titles::search_text.eq(search_text), titles::title_key.eq(title_key)))
        .execute(connection)?;
    diesel::delete(title_search_fields::table.find(title_id)).execute(connection)?;
    diesel::insert_into(title_search_fields::table).values(fields).execute(connection)?;
    diesel::delete(title_search_terms::table.filter(title_search_terms::title_id.eq(title_id)))
        .execute(connection)?;
    for chunk in terms.chunks(TERMS_PER_INSERT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|term| (title_search_terms::term.eq(term), title_search_terms::title_id.eq(title_id)))
            .collect();
        // Multi-row inserts are not available through the multi-backend
        // connection; both concrete connections have them.
        match connection {
            DbConnection::Pg(pg) => {
                diesel::insert_into(title_search_terms::table).values(&rows).execute(pg)?
            }
            DbConnection::Sqlite(sqlite) => {
                diesel::insert_into(title_search_terms::table).values(&rows).execute(sqlite)?
            }
        };
    }
    Ok(())
}

/// Ids of up to `limit` titles without index entries (catalogued before
/// the index existed), for indexing at start-up.
pub fn unindexed_titles(connection: &mut DbConnection, limit: i64) -> QueryResult<Vec<String>> {
    titles::table
        .filter(not(exists(title_search_fields::table.filter(title_search_fields::title_id.eq(titles::id)))))
        .select(titles::id)
        .order(titles::id.asc())
        .limit(limit)
        .load(connection)
}

type Backend = <DbConnection as diesel::Connection>::Backend;
type Boxed = titles::BoxedQuery<'static, Backend>;

/// The titles matching the filters, as a boxed query to add the look-up to.
fn filtered(filters: &Filters) -> Boxed {
    let mut query = titles::table.into_boxed();
    if let Some(school_id) = &filters.held_at_school {
        query = query.filter(exists(
            copies::table
                .filter(copies::title_id.eq(titles::id))
                .filter(copies::school_id.eq(school_id.clone())),
        ));
    }
    if let Some(available) = &filters.available_now {
        let on_shelf = copies::table
            .filter(copies::title_id.eq(titles::id))
            .filter(copies::status.eq("available"))
            .filter(copies::on_loan.eq(false))
            .filter(copies::on_hold_shelf.eq(false))
            .filter(copies::in_transit.eq(false));
        query = match &available.school_id {
            Some(school_id) => query.filter(exists(on_shelf.filter(copies::school_id.eq(school_id.clone())))),
            None => query.filter(exists(on_shelf)),
        };
    }
    if let Some(class_prefix) = &filters.class_prefix_pattern {
        query = query.filter(
            titles::clc
                .like(class_prefix.clone())
                .escape(LIKE_ESCAPE)
                .or(titles::dewey.like(class_prefix.clone()).escape(LIKE_ESCAPE)),
        );
    }
    if let Some(language) = &filters.language {
        query = query.filter(titles::language.eq(language.clone()));
    }
    if let Some(grade) = filters.audience_grade {
        query =
            query.filter(titles::audience_min_grade.le(grade)).filter(titles::audience_max_grade.ge(grade));
    }
    query
}

/// Search hits for an ISBN: the title having it among its ISBNs (paged
/// like a text search so a client need not tell the two apart).
pub fn search_titles_by_isbn(
    connection: &mut DbConnection,
    isbn13: &str,
    filters: &Filters,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<TitleRow>> {
    filtered(filters)
        .filter(
            titles::id.eq_any(
                title_isbns::table
                    .filter(title_isbns::isbn13.eq(isbn13.to_owned()))
                    .select(title_isbns::title_id),
            ),
        )
        .select(TitleRow::as_select())
        .order(titles::id.asc())
        .offset(offset)
        .limit(limit)
        .load(connection)
}

/// Search hits for text, best first (see [`Rank`]), then by title key and
/// id so pages are stable: titles having every look-up of the query in
/// the index, whose searched field contains each space-separated part of
/// the query.
pub fn search_titles_by_text(
    connection: &mut DbConnection,
    query: &TextQuery,
    field: SearchField,
    filters: &Filters,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<TitleRow>> {
    // A query of punctuation and symbols only ("%", "·") has nothing to
    // look up: it is checked on the field texts alone, a scan (rare).
    let mut select = filtered(filters);
    for piece in &query.pieces {
        let entries = title_search_terms::table.select(title_search_terms::title_id);
        select = match piece {
            Piece::Exact(term) => {
                select.filter(titles::id.eq_any(entries.filter(title_search_terms::term.eq(term.clone()))))
            }
            Piece::Prefix(prefix) => match prefix_end(prefix) {
                Some(end) => select.filter(
                    titles::id.eq_any(
                        entries
                            .filter(title_search_terms::term.ge(prefix.clone()))
                            .filter(title_search_terms::term.lt(end)),
                    ),
                ),
                None => select
                    .filter(titles::id.eq_any(entries.filter(title_search_terms::term.ge(prefix.clone())))),
            },
        };
    }
    for pattern in &query.substring_patterns {
        let pattern = pattern.clone();
        // Field texts are read only for the candidates (a correlated
        // EXISTS on the primary key), not joined for every search.
        let fields = title_search_fields::table.filter(title_search_fields::title_id.eq(titles::id));
        select = match field {
            SearchField::Any if !query.verify => select,
            SearchField::Any => select.filter(titles::search_text.like(pattern).escape(LIKE_ESCAPE)),
            SearchField::Title => select.filter(exists(
                fields.filter(title_search_fields::title_text.like(pattern).escape(LIKE_ESCAPE)),
            )),
            SearchField::Author => select.filter(exists(
                fields.filter(title_search_fields::author_text.like(pattern).escape(LIKE_ESCAPE)),
            )),
            SearchField::Subject => select.filter(exists(
                fields.filter(title_search_fields::subject_text.like(pattern).escape(LIKE_ESCAPE)),
            )),
        };
    }
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
    select
        .select(TitleRow::as_select())
        .order((rank.asc(), titles::title_key.asc(), titles::id.asc()))
        .offset(offset)
        .limit(limit)
        .load(connection)
}
