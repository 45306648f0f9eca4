//! The circulation service's tables and queries. Every query takes
//! `&mut DbConnection` and returns `QueryResult`, so the check-out and
//! check-in transactions in `lending` compose them freely.

pub mod calendars;
pub mod fees;
pub mod holds;
pub mod reports;
pub mod rules;
pub mod schema;
pub mod statistics;
pub mod transits;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

pub use self::reports::loans_for_report;
use self::schema::{loan_returns, loans};
use crate::policy::due::DueWindow;

/// The index that allows one open loan per copy; a unique violation on it
/// means another station lent the copy first.
pub const OPEN_LOAN_INDEX: &str = "loans_copy_id_open_key";

/// A stored loan.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = loans)]
pub struct LoanRow {
    pub id: String,
    /// The borrowing reader; `None` once the loan is anonymized.
    pub reader_id: Option<String>,
    pub copy_id: String,
    pub copy_barcode: String,
    pub title_id: String,
    pub title: String,
    pub school_id: String,
    pub checked_out_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub due_date: String,
    pub returned_at: Option<NaiveDateTime>,
    pub reader_category: String,
    pub reader_class_id: Option<String>,
    pub reader_grade: i32,
    pub checked_out_by: String,
    pub checked_in_by: Option<String>,
    pub created_at: NaiveDateTime,
    /// The reader category's history rule at check-out (see `history`).
    pub history_retention: String,
    /// Its days, for `anonymize_after_days`.
    pub history_days: Option<i32>,
    /// When the returned loan stops naming its reader; `None` while open or
    /// when history is kept.
    pub anonymize_after: Option<NaiveDateTime>,
    /// When it stopped naming its reader.
    pub anonymized_at: Option<NaiveDateTime>,
    /// The copy's item type at check-out.
    pub item_type: String,
    /// The rule version the loan was made under (`None` for loans made
    /// before rules existed).
    pub rule_id: Option<String>,
    pub rule_version: Option<i32>,
    /// A librarian's override of blocks: why, who, and which blocks
    /// (reason names, comma-separated).
    pub override_reason: Option<String>,
    pub overridden_by: Option<String>,
    pub overridden_blocks: Option<String>,
    /// The last day the reader may not borrow after returning this loan
    /// late ("YYYY-MM-DD"), when its rule suspends.
    pub suspended_until: Option<String>,
    /// How many times the loan was renewed.
    pub renewals: i32,
    /// When the copy was declared lost (the loan stays open until found).
    pub lost_at: Option<NaiveDateTime>,
    /// When the reader said they returned it.
    pub claimed_returned_at: Option<NaiveDateTime>,
    /// The class number of the copy's call number at check-out ("I287.45").
    pub classification: String,
}

/// Which of a reader's loans to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanState {
    /// Not yet returned.
    Open,
    /// Returned (history).
    Returned,
    /// Every loan.
    All,
}

/// Stores a new loan. Fails with a unique violation on [`OPEN_LOAN_INDEX`]
/// when the copy already has an open loan.
pub fn insert_loan(connection: &mut DbConnection, loan: &LoanRow) -> QueryResult<()> {
    diesel::insert_into(loans::table).values(loan).execute(connection)?;
    Ok(())
}

/// One loan by id.
pub fn find_loan(connection: &mut DbConnection, id: &str) -> QueryResult<Option<LoanRow>> {
    loans::table.find(id).select(LoanRow::as_select()).first(connection).optional()
}

/// The loans among `ids`, limited to `schools` when given (`None`: every
/// school), in no particular order; ids of no loan are skipped.
pub fn find_loans(
    connection: &mut DbConnection,
    ids: &[String],
    schools: Option<&[String]>,
) -> QueryResult<Vec<LoanRow>> {
    let mut query = loans::table.filter(loans::id.eq_any(ids)).select(LoanRow::as_select()).into_boxed();
    if let Some(schools) = schools {
        query = query.filter(loans::school_id.eq_any(schools));
    }
    query.load(connection)
}

/// The open loan of a copy, by the copy's id.
pub fn open_loan_for_copy(connection: &mut DbConnection, copy_id: &str) -> QueryResult<Option<LoanRow>> {
    loans::table
        .filter(loans::copy_id.eq(copy_id))
        .filter(loans::returned_at.is_null())
        .select(LoanRow::as_select())
        .first(connection)
        .optional()
}

/// The open loan of a copy, by the barcode scanned at check-in.
pub fn open_loan_for_barcode(
    connection: &mut DbConnection,
    copy_barcode: &str,
) -> QueryResult<Option<LoanRow>> {
    loans::table
        .filter(loans::copy_barcode.eq(copy_barcode))
        .filter(loans::returned_at.is_null())
        .order(loans::id.desc())
        .select(LoanRow::as_select())
        .first(connection)
        .optional()
}

/// How a loan is closed.
#[derive(Debug, Clone, Copy)]
pub struct Closing<'a> {
    pub returned_at: NaiveDateTime,
    pub checked_in_by: &'a str,
    /// When the returned loan stops naming its reader.
    pub anonymize_after: Option<NaiveDateTime>,
    /// The last day of the reader's suspension for returning it late.
    pub suspended_until: Option<&'a str>,
}

/// Closes an open loan. Returns false if the loan was no longer open
/// (another station checked the copy in first).
pub fn close_loan(connection: &mut DbConnection, id: &str, closing: Closing<'_>) -> QueryResult<bool> {
    let updated = diesel::update(loans::table.filter(loans::id.eq(id)).filter(loans::returned_at.is_null()))
        .set((
            loans::returned_at.eq(Some(closing.returned_at)),
            loans::checked_in_by.eq(Some(closing.checked_in_by)),
            loans::anonymize_after.eq(closing.anonymize_after),
            loans::suspended_until.eq(closing.suspended_until),
        ))
        .execute(connection)?;
    Ok(updated == 1)
}

/// Records that loan `loan_id` was closed at `school_id`'s desk, kiosk or
/// book drop at `returned_at` (call in the check-in's transaction, after
/// [`close_loan`]).
pub fn record_return(
    connection: &mut DbConnection,
    loan_id: &str,
    school_id: &str,
    returned_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(loan_returns::table)
        .values((
            loan_returns::loan_id.eq(loan_id),
            loan_returns::school_id.eq(school_id),
            loan_returns::returned_at.eq(returned_at),
        ))
        .execute(connection)?;
    Ok(())
}

/// The last day of the reader's longest suspension for late returns, if
/// any ("YYYY-MM-DD" sorts as text).
pub fn suspended_until(connection: &mut DbConnection, reader_id: &str) -> QueryResult<Option<String>> {
    loans::table
        .filter(loans::reader_id.eq(reader_id))
        .filter(loans::suspended_until.is_not_null())
        .select(diesel::dsl::max(loans::suspended_until))
        .first::<Option<String>>(connection)
}

/// Makes a loan stop naming its reader. Returns false if it already did
/// (another replica or an erasure got there first).
pub fn anonymize_loan(connection: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let updated =
        diesel::update(loans::table.filter(loans::id.eq(id)).filter(loans::reader_id.is_not_null()))
            .set((loans::reader_id.eq(None::<String>), loans::anonymized_at.eq(Some(now))))
            .execute(connection)?;
    Ok(updated == 1)
}

/// Returned loans still naming their reader whose anonymization time has
/// come by `now`, oldest first, at most `limit`.
pub fn loans_due_for_anonymization(
    connection: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<LoanRow>> {
    loans::table
        .filter(loans::reader_id.is_not_null())
        .filter(loans::returned_at.is_not_null())
        .filter(loans::anonymize_after.le(now))
        .order((loans::anonymize_after.asc(), loans::id.asc()))
        .limit(limit)
        .select(LoanRow::as_select())
        .load(connection)
}

/// Makes every loan of an erased reader stop naming them; returns how many.
pub fn anonymize_reader_loans(
    connection: &mut DbConnection,
    reader_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(loans::table.filter(loans::reader_id.eq(reader_id)))
        .set((loans::reader_id.eq(None::<String>), loans::anonymized_at.eq(Some(now))))
        .execute(connection)
}

/// How many copies a reader has on loan.
pub fn count_open_loans(connection: &mut DbConnection, reader_id: &str) -> QueryResult<i64> {
    loans::table
        .filter(loans::reader_id.eq(reader_id))
        .filter(loans::returned_at.is_null())
        .count()
        .get_result(connection)
}

/// A reader's loans, newest first, after the loan `after` (exclusive).
pub fn list_loans(
    connection: &mut DbConnection,
    filter: LoanFilter<'_>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<LoanRow>> {
    let LoanFilter { reader_id, state, schools } = filter;
    let mut query = loans::table
        .filter(loans::reader_id.eq(reader_id))
        .select(LoanRow::as_select())
        .order(loans::id.desc())
        .limit(limit)
        .into_boxed();
    query = match state {
        LoanState::Open => query.filter(loans::returned_at.is_null()),
        LoanState::Returned => query.filter(loans::returned_at.is_not_null()),
        LoanState::All => query,
    };
    if let Some(after) = after {
        query = query.filter(loans::id.lt(after.to_owned()));
    }
    if let Some(schools) = schools {
        query = query.filter(loans::school_id.eq_any(schools.to_vec()));
    }
    query.load(connection)
}

/// Open loans of a school due within `due` (overdue: due before now; due
/// soon: from now to a later day), longest overdue or soonest due first,
/// skipping `offset`; only those of readers who were in `class_id` when
/// borrowing, if given.
pub fn list_loans_due(
    connection: &mut DbConnection,
    school_id: &str,
    class_id: Option<&str>,
    due: DueWindow,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<LoanRow>> {
    let mut query = loans::table
        .filter(loans::school_id.eq(school_id))
        .filter(loans::returned_at.is_null())
        .filter(loans::due_at.lt(due.before))
        .select(LoanRow::as_select())
        .order((loans::due_at.asc(), loans::id.asc()))
        .offset(offset)
        .limit(limit)
        .into_boxed();
    if let Some(from) = due.from {
        query = query.filter(loans::due_at.ge(from));
    }
    if let Some(class_id) = class_id {
        query = query.filter(loans::reader_class_id.eq(class_id.to_owned()));
    }
    query.load(connection)
}

/// Which loans of a reader to list.
#[derive(Debug, Clone, Copy)]
pub struct LoanFilter<'a> {
    /// The reader.
    pub reader_id: &'a str,
    /// Open, returned or all.
    pub state: LoanState,
    /// Only loans of these schools (`None`: every school).
    pub schools: Option<&'a [String]>,
}

/// How many loans a copy has had, open or returned (for tests and reports).
pub fn count_loans_of_copy(connection: &mut DbConnection, copy_id: &str) -> QueryResult<i64> {
    loans::table.filter(loans::copy_id.eq(copy_id)).count().get_result(connection)
}

/// The due time and item type of each copy a reader has on loan: what the
/// loan limits and the overdue block are judged on.
pub fn open_loans_of_reader(
    connection: &mut DbConnection,
    reader_id: &str,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    // A copy declared lost (its fees stand for it) or claimed returned no
    // longer counts against the reader.
    loans::table
        .filter(loans::reader_id.eq(reader_id))
        .filter(loans::returned_at.is_null())
        .filter(loans::lost_at.is_null())
        .filter(loans::claimed_returned_at.is_null())
        .select((loans::item_type, loans::due_at))
        .load(connection)
}

/// Takes the reader's lending lock until the transaction ends, so two
/// desks lending to one reader at the same moment count the reader's loans
/// one after the other. On SQLite the write transaction already holds the
/// whole database.
pub fn lock_reader_for_lending(connection: &mut DbConnection, reader_id: &str) -> QueryResult<()> {
    match connection {
        DbConnection::Pg(connection) => {
            // Advisory locks of the two-key form, first key 1: lending.
            diesel::sql_query("SELECT pg_advisory_xact_lock(1, hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(reader_id)
                .execute(connection)?;
            Ok(())
        }
        DbConnection::Sqlite(_) => Ok(()),
    }
}

/// Gives an open loan a new due time, counting one more renewal. Returns
/// false if the loan changed since it was read (returned, or renewed by
/// another desk).
pub fn renew_loan(
    connection: &mut DbConnection,
    loan: &LoanRow,
    due: &crate::policy::due::Due,
) -> QueryResult<bool> {
    let updated = diesel::update(
        loans::table
            .filter(loans::id.eq(&loan.id))
            .filter(loans::returned_at.is_null())
            .filter(loans::renewals.eq(loan.renewals)),
    )
    .set((
        loans::due_at.eq(due.at.naive_utc()),
        loans::due_date.eq(due.date_text()),
        loans::renewals.eq(loan.renewals + 1),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Marks an open loan's copy lost. Returns false if the loan is no longer
/// open or already marked.
pub fn mark_lost(connection: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        loans::table
            .filter(loans::id.eq(id))
            .filter(loans::returned_at.is_null())
            .filter(loans::lost_at.is_null()),
    )
    .set(loans::lost_at.eq(Some(at)))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Records the reader's claim to have returned an open loan's copy.
/// Returns false if the loan is no longer open or already marked.
pub fn mark_claimed_returned(
    connection: &mut DbConnection,
    id: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        loans::table
            .filter(loans::id.eq(id))
            .filter(loans::returned_at.is_null())
            .filter(loans::lost_at.is_null())
            .filter(loans::claimed_returned_at.is_null()),
    )
    .set(loans::claimed_returned_at.eq(Some(at)))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Sets an open loan's due time by hand (who and why go in its event).
/// Returns false if it is no longer open.
pub fn change_due(
    connection: &mut DbConnection,
    id: &str,
    due: &crate::policy::due::Due,
) -> QueryResult<bool> {
    let updated = diesel::update(loans::table.filter(loans::id.eq(id)).filter(loans::returned_at.is_null()))
        .set((loans::due_at.eq(due.at.naive_utc()), loans::due_date.eq(due.date_text())))
        .execute(connection)?;
    Ok(updated == 1)
}
