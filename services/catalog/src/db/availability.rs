//! Changes to the availability view of copies (on loan, on the hold shelf,
//! in transit), each from one of circulation's events.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::copies;

/// What one event changes in a copy's availability view; `None` leaves a
/// column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = copies)]
pub struct ViewChange {
    pub on_loan: Option<bool>,
    pub loan_due_at: Option<Option<NaiveDateTime>>,
    pub on_hold_shelf: Option<bool>,
    pub in_transit: Option<bool>,
}

/// Applies `change` to a copy from an event that happened at `event_at`,
/// unless a newer event was already applied (`loan_event_at` holds the
/// time of the last event applied to the copy, of any kind). Returns
/// whether the copy changed (false for an unknown copy or a stale event).
pub fn change_view(
    connection: &mut DbConnection,
    copy_id: &str,
    change: &ViewChange,
    event_at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        copies::table
            .filter(copies::id.eq(copy_id))
            .filter(copies::loan_event_at.is_null().or(copies::loan_event_at.le(event_at))),
    )
    .set((change, copies::loan_event_at.eq(event_at)))
    .execute(connection)?;
    Ok(changed > 0)
}
