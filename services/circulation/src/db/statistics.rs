//! The counts behind a school's numbers at a glance (`GetDeskStatistics`):
//! each is one `COUNT` over an index, none loads a row.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{holds, loan_returns, loans, transits};

/// A school's counts; see `DeskStatistics` in `loans.proto` for what each
/// means at the desk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeskCounts {
    pub loans_today: i64,
    pub returns_today: i64,
    pub on_loan: i64,
    pub overdue: i64,
    pub holds_ready: i64,
    pub in_transit_to: i64,
    pub in_transit_from: i64,
}

/// The counts of `school_id` at `now`, today being the instants
/// `[today.0, today.1)`.
pub fn desk_counts(
    connection: &mut DbConnection,
    school_id: &str,
    today: (NaiveDateTime, NaiveDateTime),
    now: NaiveDateTime,
) -> QueryResult<DeskCounts> {
    let (from, before) = today;
    let open_loans =
        || loans::table.filter(loans::school_id.eq(school_id)).filter(loans::returned_at.is_null());
    let open_transits = || transits::table.filter(transits::received_at.is_null());
    Ok(DeskCounts {
        loans_today: loans::table
            .filter(loans::school_id.eq(school_id))
            .filter(loans::checked_out_at.ge(from))
            .filter(loans::checked_out_at.lt(before))
            .count()
            .get_result(connection)?,
        returns_today: loan_returns::table
            .filter(loan_returns::school_id.eq(school_id))
            .filter(loan_returns::returned_at.ge(from))
            .filter(loan_returns::returned_at.lt(before))
            .count()
            .get_result(connection)?,
        on_loan: open_loans().count().get_result(connection)?,
        // As `ListOverdueLoans` lists them: past their due time now.
        overdue: open_loans().filter(loans::due_at.lt(now)).count().get_result(connection)?,
        holds_ready: holds::table
            .filter(holds::pickup_school_id.eq(school_id))
            .filter(holds::status.eq("ready"))
            .count()
            .get_result(connection)?,
        in_transit_to: open_transits()
            .filter(transits::to_school_id.eq(school_id))
            .count()
            .get_result(connection)?,
        in_transit_from: open_transits()
            .filter(transits::from_school_id.eq(school_id))
            .count()
            .get_result(connection)?,
    })
}
