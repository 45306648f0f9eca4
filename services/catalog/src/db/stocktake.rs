//! Queries on stocktake sessions, their copies and scans. The rules they
//! store are in `crate::stocktake`.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use lectern_common::db::DbConnection;
use lectern_proto::catalog::v1::ReportSection;

use super::schema::{
    copies, shelf_locations, stocktake_items, stocktake_locations, stocktake_unknown_barcodes, stocktakes,
    titles,
};

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = stocktakes)]
pub struct StocktakeRow {
    pub id: String,
    pub school_id: String,
    pub name: String,
    pub state: String,
    pub open_key: Option<String>,
    pub started_by: String,
    pub started_at: NaiveDateTime,
    pub closed_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub version: i64,
    pub marked_missing: i32,
}

/// A stored copy of a session, with its scan.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = stocktake_items)]
pub struct StocktakeItemRow {
    pub stocktake_id: String,
    pub copy_id: String,
    pub barcode: String,
    pub in_scope: bool,
    pub scanned_at: Option<NaiveDateTime>,
    pub scanned_by: Option<String>,
    pub scanned_location_id: Option<String>,
    pub misplaced: bool,
    pub mismatch: String,
    pub marked_missing: bool,
}

/// A stored unknown barcode of a session.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = stocktake_unknown_barcodes)]
pub struct UnknownBarcodeRow {
    pub stocktake_id: String,
    pub barcode: String,
    pub reason: String,
    pub copy_id: Option<String>,
    pub holding_school_id: Option<String>,
    pub scanned_at: NaiveDateTime,
    pub scanned_by: String,
    pub scanned_location_id: Option<String>,
}

/// A copy as a scan sees it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ScannedCopy {
    pub id: String,
    pub school_id: String,
    pub status: String,
    pub on_loan: bool,
    pub location_id: Option<String>,
    pub call_number: String,
    pub title: String,
}

/// A report line about one of the session's copies: the item and the
/// copy's record now.
pub type ItemLine = (StocktakeItemRow, ScannedCopy);

/// Stores a new session and its shelf locations.
pub fn insert_stocktake(
    connection: &mut DbConnection,
    row: &StocktakeRow,
    location_ids: &[String],
) -> QueryResult<()> {
    diesel::insert_into(stocktakes::table).values(row).execute(connection)?;
    for location_id in location_ids {
        diesel::insert_into(stocktake_locations::table)
            .values((
                stocktake_locations::stocktake_id.eq(&row.id),
                stocktake_locations::location_id.eq(location_id),
            ))
            .execute(connection)?;
    }
    Ok(())
}

/// Fixes the session's copies: the school's copies that are not withdrawn,
/// on `location_ids` if any. One `INSERT … SELECT`, so a school of fifty
/// thousand books starts in one statement. Returns how many.
pub fn snapshot_scope(
    connection: &mut DbConnection,
    stocktake_id: &str,
    school_id: &str,
    location_ids: &[String],
) -> QueryResult<usize> {
    let columns = (
        stocktake_items::stocktake_id,
        stocktake_items::copy_id,
        stocktake_items::barcode,
        stocktake_items::in_scope,
    );
    let in_school = copies::school_id.eq(school_id.to_owned()).and(copies::status.ne("withdrawn"));
    let fields =
        (stocktake_id.to_owned().into_sql::<Text>(), copies::id, copies::barcode, true.into_sql::<Bool>());
    if location_ids.is_empty() {
        let source = copies::table.filter(in_school).select(fields);
        diesel::insert_into(stocktake_items::table).values(source).into_columns(columns).execute(connection)
    } else {
        let source = copies::table
            .filter(in_school)
            .filter(copies::location_id.eq_any(location_ids.to_vec()))
            .select(fields);
        diesel::insert_into(stocktake_items::table).values(source).into_columns(columns).execute(connection)
    }
}

/// The open session with `open_key`, if any.
pub fn open_stocktake_with_key(connection: &mut DbConnection, open_key: &str) -> QueryResult<Option<String>> {
    stocktakes::table
        .filter(stocktakes::open_key.eq(open_key))
        .select(stocktakes::id)
        .first(connection)
        .optional()
}

/// The session with `id`.
pub fn find_stocktake(connection: &mut DbConnection, id: &str) -> QueryResult<Option<StocktakeRow>> {
    stocktakes::table.find(id).select(StocktakeRow::as_select()).first(connection).optional()
}

/// The shelf locations a session counts, sorted.
pub fn stocktake_location_ids(connection: &mut DbConnection, id: &str) -> QueryResult<Vec<String>> {
    stocktake_locations::table
        .filter(stocktake_locations::stocktake_id.eq(id))
        .select(stocktake_locations::location_id)
        .order(stocktake_locations::location_id.asc())
        .load(connection)
}

/// A school's sessions, newest first, older than `before` (exclusive).
pub fn list_stocktakes(
    connection: &mut DbConnection,
    school_id: &str,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<StocktakeRow>> {
    let mut query = stocktakes::table
        .filter(stocktakes::school_id.eq(school_id.to_owned()))
        .select(StocktakeRow::as_select())
        .order(stocktakes::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(stocktakes::id.lt(before.to_owned()));
    }
    query.load(connection)
}

/// Bumps an open session's version, which also takes its row lock on
/// PostgreSQL so batches and finalizing of one session queue up. Returns
/// false if the session is not open.
pub fn bump_version(connection: &mut DbConnection, id: &str) -> QueryResult<bool> {
    let changed = diesel::update(stocktakes::table.find(id).filter(stocktakes::state.eq("open")))
        .set(stocktakes::version.eq(stocktakes::version + 1))
        .execute(connection)?;
    Ok(changed > 0)
}

/// Closes an open session (finalized or cancelled). Returns false if it was
/// not open.
pub fn close_stocktake(
    connection: &mut DbConnection,
    id: &str,
    state: &str,
    by: &str,
    at: NaiveDateTime,
    marked_missing: i32,
) -> QueryResult<bool> {
    let changed = diesel::update(stocktakes::table.find(id).filter(stocktakes::state.eq("open")))
        .set((
            stocktakes::state.eq(state),
            stocktakes::open_key.eq(None::<String>),
            stocktakes::closed_by.eq(by),
            stocktakes::closed_at.eq(at),
            stocktakes::marked_missing.eq(marked_missing),
        ))
        .execute(connection)?;
    Ok(changed > 0)
}

/// The shelf location of `school_id` with id or name `text`.
pub fn resolve_location(
    connection: &mut DbConnection,
    school_id: &str,
    text: &str,
) -> QueryResult<Option<String>> {
    shelf_locations::table
        .filter(shelf_locations::school_id.eq(school_id))
        .filter(shelf_locations::id.eq(text).or(shelf_locations::name.eq(text)))
        .select(shelf_locations::id)
        .first(connection)
        .optional()
}

/// Every shelf location of a school: (id, name).
pub fn location_names(connection: &mut DbConnection, school_id: &str) -> QueryResult<Vec<(String, String)>> {
    shelf_locations::table
        .filter(shelf_locations::school_id.eq(school_id))
        .select((shelf_locations::id, shelf_locations::name))
        .load(connection)
}

type ScannedCopyColumns = (
    copies::id,
    copies::school_id,
    copies::status,
    copies::on_loan,
    copies::location_id,
    copies::call_number,
    titles::title,
);

const SCANNED_COPY: ScannedCopyColumns = (
    copies::id,
    copies::school_id,
    copies::status,
    copies::on_loan,
    copies::location_id,
    copies::call_number,
    titles::title,
);

/// The copy with `barcode`, as a scan sees it.
pub fn scanned_copy(connection: &mut DbConnection, barcode: &str) -> QueryResult<Option<ScannedCopy>> {
    copies::table
        .inner_join(titles::table)
        .filter(copies::barcode.eq(barcode))
        .select(SCANNED_COPY)
        .first(connection)
        .optional()
}

/// The session's item for a copy.
pub fn find_item(
    connection: &mut DbConnection,
    stocktake_id: &str,
    copy_id: &str,
) -> QueryResult<Option<StocktakeItemRow>> {
    stocktake_items::table
        .find((stocktake_id, copy_id))
        .select(StocktakeItemRow::as_select())
        .first(connection)
        .optional()
}

/// Stores a scanned copy that is not in the session's scope.
pub fn insert_item(connection: &mut DbConnection, row: &StocktakeItemRow) -> QueryResult<()> {
    diesel::insert_into(stocktake_items::table).values(row).execute(connection)?;
    Ok(())
}

/// Records the first scan of an in-scope copy. Returns false if it was
/// scanned already.
pub fn record_item_scan(connection: &mut DbConnection, scan: &StocktakeItemRow) -> QueryResult<bool> {
    let changed = diesel::update(
        stocktake_items::table
            .find((&scan.stocktake_id, &scan.copy_id))
            .filter(stocktake_items::scanned_at.is_null()),
    )
    .set((
        stocktake_items::scanned_at.eq(scan.scanned_at),
        stocktake_items::scanned_by.eq(&scan.scanned_by),
        stocktake_items::scanned_location_id.eq(&scan.scanned_location_id),
        stocktake_items::misplaced.eq(scan.misplaced),
        stocktake_items::mismatch.eq(&scan.mismatch),
    ))
    .execute(connection)?;
    Ok(changed > 0)
}

/// Whether the session already recorded `barcode` as unknown.
pub fn unknown_seen(connection: &mut DbConnection, stocktake_id: &str, barcode: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(stocktake_unknown_barcodes::table.find((stocktake_id, barcode))))
        .get_result(connection)
}

/// Stores an unknown barcode.
pub fn insert_unknown(connection: &mut DbConnection, row: &UnknownBarcodeRow) -> QueryResult<()> {
    diesel::insert_into(stocktake_unknown_barcodes::table).values(row).execute(connection)?;
    Ok(())
}

/// One in-scope copy for counting progress: (shelf location, scanned at,
/// status, on loan).
pub type ScopeFact = (Option<String>, Option<NaiveDateTime>, String, bool);

/// The session's in-scope copies, as the copies are now.
pub fn scope_facts(connection: &mut DbConnection, stocktake_id: &str) -> QueryResult<Vec<ScopeFact>> {
    stocktake_items::table
        .inner_join(copies::table)
        .filter(stocktake_items::stocktake_id.eq(stocktake_id))
        .filter(stocktake_items::in_scope.eq(true))
        .select((copies::location_id, stocktake_items::scanned_at, copies::status, copies::on_loan))
        .load(connection)
}

/// (misplaced, status mismatch, unknown barcodes) counts of a session.
pub fn finding_counts(connection: &mut DbConnection, stocktake_id: &str) -> QueryResult<(i64, i64, i64)> {
    let misplaced = stocktake_items::table
        .filter(stocktake_items::stocktake_id.eq(stocktake_id))
        .filter(stocktake_items::misplaced.eq(true))
        .select(count_star())
        .first(connection)?;
    let mismatch = stocktake_items::table
        .filter(stocktake_items::stocktake_id.eq(stocktake_id))
        .filter(stocktake_items::mismatch.ne(""))
        .select(count_star())
        .first(connection)?;
    let unknown = stocktake_unknown_barcodes::table
        .filter(stocktake_unknown_barcodes::stocktake_id.eq(stocktake_id))
        .select(count_star())
        .first(connection)?;
    Ok((misplaced, mismatch, unknown))
}

/// Applies a report section's filter to a boxed query over items joined
/// with copies. MISSING mirrors `stocktake::expected_on_shelf` while the
/// session is open, and lists what was marked once it is finalized.
macro_rules! section_filter {
    ($query:expr, $section:expr, $finalized:expr) => {
        match $section {
            ReportSection::Missing if $finalized => $query.filter(stocktake_items::marked_missing.eq(true)),
            ReportSection::Missing => $query
                .filter(stocktake_items::in_scope.eq(true))
                .filter(stocktake_items::scanned_at.is_null())
                .filter(copies::status.eq("available"))
                .filter(copies::on_loan.eq(false)),
            ReportSection::Misplaced => $query.filter(stocktake_items::misplaced.eq(true)),
            _ => $query.filter(stocktake_items::mismatch.ne("")),
        }
    };
}

/// One page of a report section about the session's copies (MISSING,
/// MISPLACED, STATUS_MISMATCH) by barcode after `after`, and the section's
/// total.
pub fn item_section(
    connection: &mut DbConnection,
    stocktake_id: &str,
    section: ReportSection,
    finalized: bool,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<ItemLine>, i64)> {
    let mut page = stocktake_items::table
        .inner_join(copies::table.inner_join(titles::table))
        .filter(stocktake_items::stocktake_id.eq(stocktake_id.to_owned()))
        .select((StocktakeItemRow::as_select(), SCANNED_COPY))
        .order(stocktake_items::barcode.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        page = page.filter(stocktake_items::barcode.gt(after.to_owned()));
    }
    let page = section_filter!(page, section, finalized);
    let total = stocktake_items::table
        .inner_join(copies::table)
        .filter(stocktake_items::stocktake_id.eq(stocktake_id.to_owned()))
        .select(count_star())
        .into_boxed();
    let total = section_filter!(total, section, finalized);
    Ok((page.load(connection)?, total.first(connection)?))
}

/// One page of a session's unknown barcodes after `after`, and the total.
pub fn unknown_section(
    connection: &mut DbConnection,
    stocktake_id: &str,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<(Vec<UnknownBarcodeRow>, i64)> {
    let mut page = stocktake_unknown_barcodes::table
        .filter(stocktake_unknown_barcodes::stocktake_id.eq(stocktake_id.to_owned()))
        .select(UnknownBarcodeRow::as_select())
        .order(stocktake_unknown_barcodes::barcode.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        page = page.filter(stocktake_unknown_barcodes::barcode.gt(after.to_owned()));
    }
    let total = stocktake_unknown_barcodes::table
        .filter(stocktake_unknown_barcodes::stocktake_id.eq(stocktake_id))
        .select(count_star())
        .first(connection)?;
    Ok((page.load(connection)?, total))
}

/// The ids of the copies finalizing would mark missing now (see
/// `stocktake::expected_on_shelf`), by barcode.
pub fn missing_copy_ids(connection: &mut DbConnection, stocktake_id: &str) -> QueryResult<Vec<String>> {
    stocktake_items::table
        .inner_join(copies::table)
        .filter(stocktake_items::stocktake_id.eq(stocktake_id))
        .filter(stocktake_items::in_scope.eq(true))
        .filter(stocktake_items::scanned_at.is_null())
        .filter(copies::status.eq("available"))
        .filter(copies::on_loan.eq(false))
        .select(stocktake_items::copy_id)
        .order(stocktake_items::barcode.asc())
        .load(connection)
}

/// Notes on the session's item that finalizing marked the copy missing.
pub fn set_marked_missing(
    connection: &mut DbConnection,
    stocktake_id: &str,
    copy_id: &str,
) -> QueryResult<()> {
    diesel::update(stocktake_items::table.find((stocktake_id, copy_id)))
        .set(stocktake_items::marked_missing.eq(true))
        .execute(connection)?;
    Ok(())
}
