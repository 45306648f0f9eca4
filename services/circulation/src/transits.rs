//! Copies travelling between schools, in the caller's transaction: a
//! journey begins when a desk sends a copy away (home after a return at
//! another school, or to a reader's pickup school) and ends when the copy
//! is scanned where it was going. Each step records its event, keyed by
//! the copy so it follows the copy's loan events.

use chrono::NaiveDateTime;
use lectern_common::Error;
use lectern_common::db::DbConnection;
use lectern_common::outbox;
use lectern_core::ids;

use crate::db::transits::{self, TransitRow};
use crate::events::{self, LOAN_SUBSCRIBERS};
use crate::hold_shelf::CopyAt;

/// Why a copy travels, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Back to its own school.
    Home,
    /// To the school where the reader of a hold picks it up.
    Hold,
}

impl Reason {
    fn stored(self) -> &'static str {
        match self {
            Self::Home => "home",
            Self::Hold => "hold",
        }
    }
}

/// Sends `copy` (now at `copy.school_id`) to `to_school_id`. Returns the
/// journey.
pub fn start(
    connection: &mut DbConnection,
    copy: CopyAt<'_>,
    title: &str,
    to_school_id: &str,
    reason: (Reason, Option<&str>),
    by: &str,
    at: NaiveDateTime,
) -> Result<TransitRow, Error> {
    let (reason, hold_id) = reason;
    let transit = TransitRow {
        id: ids::new_id(),
        copy_id: copy.id.to_owned(),
        copy_barcode: copy.barcode.to_owned(),
        title: title.to_owned(),
        from_school_id: copy.school_id.to_owned(),
        to_school_id: to_school_id.to_owned(),
        reason: reason.stored().to_owned(),
        hold_id: hold_id.map(str::to_owned),
        started_at: at,
        started_by: by.to_owned(),
        received_at: None,
        received_by: None,
    };
    transits::insert(connection, &transit)?;
    let event = events::transit_started(ids::new_id(), &transit);
    outbox::enqueue(connection, &event, &transit.copy_id, &LOAN_SUBSCRIBERS, at)?;
    Ok(transit)
}

/// `transit`'s copy arrived. Returns the journey as it is now, or `None`
/// if another desk received it first.
pub fn receive(
    connection: &mut DbConnection,
    transit: &TransitRow,
    by: &str,
    at: NaiveDateTime,
) -> Result<Option<TransitRow>, Error> {
    if !transits::receive(connection, &transit.id, by, at)? {
        return Ok(None);
    }
    let event = events::transit_received(ids::new_id(), transit, at);
    outbox::enqueue(connection, &event, &transit.copy_id, &LOAN_SUBSCRIBERS, at)?;
    Ok(Some(TransitRow { received_at: Some(at), received_by: Some(by.to_owned()), ..transit.clone() }))
}
