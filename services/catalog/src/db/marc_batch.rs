//! Queries of a MARC import batch: what the database already has for all
//! the batch's ISBNs and barcodes in one query each, and the batch's rows
//! written with multi-row INSERTs ([`lectern_common::db::insert_rows`]),
//! so a batch of 500 records costs a handful of round trips instead of
//! twenty per record.

use diesel::prelude::*;
use lectern_common::db::{DbConnection, insert_rows};

use super::schema::{
    copies, marc_pool, title_contributors, title_isbns, title_search_fields, title_search_terms,
    title_subjects, titles,
};
use super::{ContributorRow, CopyRow, PoolRow, SearchFieldsRow, SearchTermRow, SubjectRow, TitleRow};

/// Keys looked up per query: far below SQLite's parameter limit.
const LOOKUP_CHUNK: usize = 5_000;

/// One ISBN of a title.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = title_isbns)]
pub struct TitleIsbnRow {
    pub isbn13: String,
    pub title_id: String,
}

/// The titles that have any of `isbn13s`, as (ISBN-13, title id).
pub fn titles_by_isbns(
    connection: &mut DbConnection,
    isbn13s: &[String],
) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in isbn13s.chunks(LOOKUP_CHUNK) {
        found.extend(
            title_isbns::table
                .filter(title_isbns::isbn13.eq_any(chunk))
                .select((title_isbns::isbn13, title_isbns::title_id))
                .load::<(String, String)>(connection)?,
        );
    }
    Ok(found)
}

/// The copies that have any of `barcodes`, as (barcode, title id, school id).
pub fn copies_by_barcodes(
    connection: &mut DbConnection,
    barcodes: &[String],
) -> QueryResult<Vec<(String, String, String)>> {
    let mut found = Vec::new();
    for chunk in barcodes.chunks(LOOKUP_CHUNK) {
        found.extend(
            copies::table
                .filter(copies::barcode.eq_any(chunk))
                .select((copies::barcode, copies::title_id, copies::school_id))
                .load::<(String, String, String)>(connection)?,
        );
    }
    Ok(found)
}

/// The call numbers of titles `ids`, as (id, call number).
pub fn call_numbers_of(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        found.extend(
            titles::table
                .filter(titles::id.eq_any(chunk))
                .select((titles::id, titles::call_number))
                .load::<(String, String)>(connection)?,
        );
    }
    Ok(found)
}

/// Which of `isbn13s` the MARC pool already holds.
pub fn pooled_isbns(connection: &mut DbConnection, isbn13s: &[String]) -> QueryResult<Vec<String>> {
    let mut found = Vec::new();
    for chunk in isbn13s.chunks(LOOKUP_CHUNK) {
        found.extend(
            marc_pool::table
                .filter(marc_pool::isbn13.eq_any(chunk))
                .select(marc_pool::isbn13)
                .load::<String>(connection)?,
        );
    }
    Ok(found)
}

/// The rows one import batch adds, in the order foreign keys need.
#[derive(Debug, Default)]
pub struct BatchRows {
    pub titles: Vec<TitleRow>,
    pub contributors: Vec<ContributorRow>,
    pub isbns: Vec<TitleIsbnRow>,
    pub subjects: Vec<SubjectRow>,
    /// The new titles' search index: field texts and entries.
    pub search_fields: Vec<SearchFieldsRow>,
    pub search_terms: Vec<SearchTermRow>,
    pub copies: Vec<CopyRow>,
    /// Pool records of ISBNs the pool lacks.
    pub new_pooled: Vec<PoolRow>,
    /// Pool records replacing what the pool has.
    pub replaced_pooled: Vec<PoolRow>,
}

/// Writes a batch's rows (inside the caller's transaction).
pub fn insert_batch(connection: &mut DbConnection, rows: &BatchRows) -> QueryResult<()> {
    insert_rows::<_, TitleRow>(connection, titles::table, 19, rows.titles.as_slice())?;
    insert_rows::<_, ContributorRow>(connection, title_contributors::table, 4, rows.contributors.as_slice())?;
    insert_rows::<_, TitleIsbnRow>(connection, title_isbns::table, 2, rows.isbns.as_slice())?;
    insert_rows::<_, SubjectRow>(connection, title_subjects::table, 3, rows.subjects.as_slice())?;
    insert_rows::<_, SearchFieldsRow>(
        connection,
        title_search_fields::table,
        4,
        rows.search_fields.as_slice(),
    )?;
    insert_rows::<_, SearchTermRow>(connection, title_search_terms::table, 3, rows.search_terms.as_slice())?;
    insert_rows::<_, CopyRow>(connection, copies::table, 20, rows.copies.as_slice())?;
    insert_rows::<_, PoolRow>(connection, marc_pool::table, 6, rows.new_pooled.as_slice())?;
    for row in &rows.replaced_pooled {
        diesel::update(marc_pool::table.find(&row.isbn13)).set(row).execute(connection)?;
    }
    Ok(())
}
