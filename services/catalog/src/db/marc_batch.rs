//! Queries of a MARC import batch: what the database already has for all
//! the batch's ISBNs and barcodes in one query each, and the batch's rows
//! written table by table with [`lectern_common::db::bulk_insert`] (COPY on
//! PostgreSQL, multi-row INSERTs on SQLite), so a batch of 2,000 records
//! costs a handful of round trips instead of twenty per record.

use diesel::prelude::*;
use lectern_common::copy_in;
use lectern_common::db::{DbConnection, bulk_insert};

use super::schema::{
    copies, marc_pool, title_contributors, title_isbns, title_search_fields, title_search_terms,
    title_subjects, titles,
};
use super::{ContributorRow, CopyRow, PoolRow, SearchFieldsRow, SearchTermRow, SubjectRow, TitleRow};

/// Keys looked up per query: far below SQLite's parameter limit.
const LOOKUP_CHUNK: usize = 5_000;

/// One ISBN of a title.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = title_isbns, treat_none_as_default_value = false)]
pub struct TitleIsbnRow {
    pub isbn13: String,
    pub title_id: String,
}

// The batch's row types go in with COPY on PostgreSQL. Each derives
// `Insertable` with `treat_none_as_default_value = false`, as COPY needs:
// none has an `Option` column whose default is other than NULL.
copy_in!(TitleRow => titles::table);
copy_in!(ContributorRow => title_contributors::table);
copy_in!(TitleIsbnRow => title_isbns::table);
copy_in!(SubjectRow => title_subjects::table);
copy_in!(SearchFieldsRow => title_search_fields::table);
copy_in!(SearchTermRow => title_search_terms::table);
copy_in!(CopyRow => copies::table);
copy_in!(PoolRow => marc_pool::table);

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
    bulk_insert::<_, TitleRow>(connection, titles::table, &rows.titles)?;
    bulk_insert::<_, ContributorRow>(connection, title_contributors::table, &rows.contributors)?;
    bulk_insert::<_, TitleIsbnRow>(connection, title_isbns::table, &rows.isbns)?;
    bulk_insert::<_, SubjectRow>(connection, title_subjects::table, &rows.subjects)?;
    bulk_insert::<_, SearchFieldsRow>(connection, title_search_fields::table, &rows.search_fields)?;
    bulk_insert::<_, SearchTermRow>(connection, title_search_terms::table, &rows.search_terms)?;
    bulk_insert::<_, CopyRow>(connection, copies::table, &rows.copies)?;
    bulk_insert::<_, PoolRow>(connection, marc_pool::table, &rows.new_pooled)?;
    for row in &rows.replaced_pooled {
        diesel::update(marc_pool::table.find(&row.isbn13)).set(row).execute(connection)?;
    }
    Ok(())
}
