//! The loans behind reading reports: the snapshot each loan kept at
//! check-out (when, whose, grade and class then, title and call number),
//! for a school's report or for one reader's own.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::loans;
use crate::policy::reports::LoanSnapshot;

/// The columns of a loan's snapshot, in `LoanSnapshot`'s order.
type SnapshotColumns = (NaiveDateTime, Option<String>, i32, Option<String>, String, String, String);

/// Most loans one reader's report reads: far more than a child borrows in
/// a year, and a bound on the work a report may cause.
pub const MAX_READER_LOANS: i64 = 5000;

/// A school's loans made in `[from, before)`, optionally of one grade or
/// class as the readers were when borrowing.
pub fn loans_for_report(
    connection: &mut DbConnection,
    school_id: &str,
    from: NaiveDateTime,
    before: NaiveDateTime,
    grade: Option<i32>,
    class_id: Option<&str>,
) -> QueryResult<Vec<LoanSnapshot>> {
    let mut query = loans::table
        .filter(loans::school_id.eq(school_id))
        .filter(loans::checked_out_at.ge(from))
        .filter(loans::checked_out_at.lt(before))
        .select(snapshot_columns())
        .into_boxed();
    if let Some(grade) = grade {
        query = query.filter(loans::reader_grade.eq(grade));
    }
    if let Some(class_id) = class_id {
        query = query.filter(loans::reader_class_id.eq(class_id.to_owned()));
    }
    let rows: Vec<SnapshotColumns> = query.load(connection)?;
    Ok(rows.into_iter().map(snapshot).collect())
}

/// The loans still naming `reader_id` made in `[from, before)`, newest
/// first, at most [`MAX_READER_LOANS`]; only those of `schools` when given
/// (staff see the loans of their schools). Anonymized loans name no one,
/// so they are left out by the reader filter itself.
pub fn loans_of_reader_for_report(
    connection: &mut DbConnection,
    reader_id: &str,
    from: NaiveDateTime,
    before: NaiveDateTime,
    schools: Option<&[String]>,
) -> QueryResult<Vec<LoanSnapshot>> {
    let mut query = loans::table
        .filter(loans::reader_id.eq(reader_id))
        .filter(loans::checked_out_at.ge(from))
        .filter(loans::checked_out_at.lt(before))
        .select(snapshot_columns())
        .order((loans::checked_out_at.desc(), loans::id.desc()))
        .limit(MAX_READER_LOANS)
        .into_boxed();
    if let Some(schools) = schools {
        query = query.filter(loans::school_id.eq_any(schools.to_vec()));
    }
    let rows: Vec<SnapshotColumns> = query.load(connection)?;
    Ok(rows.into_iter().map(snapshot).collect())
}

#[allow(clippy::type_complexity)]
fn snapshot_columns() -> (
    loans::checked_out_at,
    loans::reader_id,
    loans::reader_grade,
    loans::reader_class_id,
    loans::title_id,
    loans::title,
    loans::classification,
) {
    (
        loans::checked_out_at,
        loans::reader_id,
        loans::reader_grade,
        loans::reader_class_id,
        loans::title_id,
        loans::title,
        loans::classification,
    )
}

fn snapshot(
    (checked_out_at, reader_id, reader_grade, reader_class_id, title_id, title, classification): SnapshotColumns,
) -> LoanSnapshot {
    LoanSnapshot { checked_out_at, reader_id, reader_grade, reader_class_id, title_id, title, classification }
}
