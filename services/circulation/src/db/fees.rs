//! Stored fees and their ledger. A payment or waiver is an entry in
//! `fee_entries` and, in the same transaction, a conditional decrease of
//! the fee's `outstanding`, so two desks settling one fee at once cannot
//! take it below zero.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{fee_entries, fees};
use crate::policy::fees::Owed;

/// A stored fee.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = fees)]
pub struct FeeRow {
    pub id: String,
    /// The reader; `None` once the reader was erased.
    pub reader_id: Option<String>,
    pub school_id: String,
    pub loan_id: String,
    /// "overdue", "lost", "damaged" or "processing".
    pub kind: String,
    pub amount: i64,
    pub outstanding: i64,
    pub copy_barcode: String,
    pub title: String,
    pub reader_class_id: Option<String>,
    pub reader_grade: i32,
    pub note: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// A payment or waiver.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = fee_entries)]
pub struct FeeEntryRow {
    pub id: String,
    pub fee_id: String,
    /// "payment" or "waiver".
    pub kind: String,
    pub amount: i64,
    pub reason: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl Owed for FeeRow {
    fn fee_id(&self) -> &str {
        &self.id
    }
    fn outstanding(&self) -> i64 {
        self.outstanding
    }
}

/// Stores a new fee.
pub fn insert_fee(connection: &mut DbConnection, fee: &FeeRow) -> QueryResult<()> {
    diesel::insert_into(fees::table).values(fee).execute(connection)?;
    Ok(())
}

/// One fee.
pub fn find_fee(connection: &mut DbConnection, id: &str) -> QueryResult<Option<FeeRow>> {
    fees::table.find(id).select(FeeRow::as_select()).first(connection).optional()
}

/// A reader's fees, newest first: open ones, or all; only of `schools` if given.
pub fn fees_of_reader(
    connection: &mut DbConnection,
    reader_id: &str,
    include_settled: bool,
    schools: Option<&[String]>,
) -> QueryResult<Vec<FeeRow>> {
    let mut query = fees::table
        .filter(fees::reader_id.eq(reader_id))
        .select(FeeRow::as_select())
        .order(fees::id.desc())
        .into_boxed();
    if !include_settled {
        query = query.filter(fees::outstanding.gt(0));
    }
    if let Some(schools) = schools {
        query = query.filter(fees::school_id.eq_any(schools.to_vec()));
    }
    query.load(connection)
}

/// The open fees of readers who were in `class_id` (or `grade`) when
/// borrowing, owed to `school_id`.
pub fn open_fees_of_group(
    connection: &mut DbConnection,
    school_id: &str,
    class_id: Option<&str>,
    grade: Option<i32>,
) -> QueryResult<Vec<FeeRow>> {
    let mut query = fees::table
        .filter(fees::school_id.eq(school_id))
        .filter(fees::outstanding.gt(0))
        .select(FeeRow::as_select())
        .order(fees::id.asc())
        .into_boxed();
    if let Some(class_id) = class_id {
        query = query.filter(fees::reader_class_id.eq(class_id.to_owned()));
    }
    if let Some(grade) = grade {
        query = query.filter(fees::reader_grade.eq(grade));
    }
    query.load(connection)
}

/// Settles `amount` of a fee. Returns false (and changes nothing) if less
/// than that is outstanding now.
pub fn settle(connection: &mut DbConnection, entry: &FeeEntryRow) -> QueryResult<bool> {
    let updated = diesel::update(
        fees::table.filter(fees::id.eq(&entry.fee_id)).filter(fees::outstanding.ge(entry.amount)),
    )
    .set(fees::outstanding.eq(fees::outstanding - entry.amount))
    .execute(connection)?;
    if updated != 1 {
        return Ok(false);
    }
    diesel::insert_into(fee_entries::table).values(entry).execute(connection)?;
    Ok(true)
}

/// The payments and waivers of `fee_ids`, oldest first.
pub fn entries_of(connection: &mut DbConnection, fee_ids: &[String]) -> QueryResult<Vec<FeeEntryRow>> {
    fee_entries::table
        .filter(fee_entries::fee_id.eq_any(fee_ids.to_vec()))
        .order(fee_entries::id.asc())
        .select(FeeEntryRow::as_select())
        .load(connection)
}

/// The fees charged on a loan, oldest first.
pub fn fees_of_loan(connection: &mut DbConnection, loan_id: &str) -> QueryResult<Vec<FeeRow>> {
    fees::table
        .filter(fees::loan_id.eq(loan_id))
        .order(fees::id.asc())
        .select(FeeRow::as_select())
        .load(connection)
}

/// Records a ledger entry that does not change what is owed (a refund of
/// money paid).
pub fn insert_entry(connection: &mut DbConnection, entry: &FeeEntryRow) -> QueryResult<()> {
    diesel::insert_into(fee_entries::table).values(entry).execute(connection)?;
    Ok(())
}

/// How many open fees a reader has, and what they come to.
pub fn unpaid(connection: &mut DbConnection, reader_id: &str) -> QueryResult<(i64, i64)> {
    let open: Vec<i64> = fees::table
        .filter(fees::reader_id.eq(reader_id))
        .filter(fees::outstanding.gt(0))
        .select(fees::outstanding)
        .load(connection)?;
    let count = i64::try_from(open.len()).unwrap_or(i64::MAX);
    Ok((count, open.iter().fold(0_i64, |total, amount| total.saturating_add(*amount))))
}

/// An erased reader's fees stop naming them (erasure needs them settled).
pub fn forget_reader(connection: &mut DbConnection, reader_id: &str) -> QueryResult<usize> {
    diesel::update(fees::table.filter(fees::reader_id.eq(reader_id)))
        .set(fees::reader_id.eq(None::<String>))
        .execute(connection)
}
