//! The events circulation publishes through its outbox: one per change of a
//! loan, in the shared `lectern.events.v1` envelope, carrying what the
//! notification service (receipts, reminders) and the catalog (availability)
//! need without calling back. Plain functions, no I/O.

use chrono::NaiveDateTime;
use lectern_proto::events::v1::{
    Event, FeeCharged, FeeSettled, HoldCancelled, HoldPlaced, HoldReady, HoldReleased, HoldTrapped,
    LoanAnonymized, LoanChanged, LoanCheckedOut, LoanLost, LoanRenewed, LoanReturned, TransitReceived,
    TransitStarted, event,
};

use lectern_proto::events::subscribers::{self, CATALOG, NOTIFICATION};
use lectern_proto::events::types::{
    FEE_CHARGED, FEE_PAID, FEE_REFUNDED, FEE_WAIVED, HOLD_CANCELLED, HOLD_PLACED, HOLD_READY, HOLD_RELEASED,
    HOLD_TRAPPED, LOAN_ANONYMIZED, LOAN_CHECKED_OUT, LOAN_LOST, LOAN_RENEWED, LOAN_RETURNED,
    TRANSIT_RECEIVED, TRANSIT_STARTED,
};

use crate::db::LoanRow;
use crate::db::fees::{FeeEntryRow, FeeRow};
use crate::db::holds::HoldRow;
use crate::db::transits::TransitRow;
use lectern_core::time::timestamp;

/// The `source` of every event circulation publishes.
pub const SOURCE: &str = subscribers::CIRCULATION;

/// Who receives loan events.
pub const LOAN_SUBSCRIBERS: [&str; 2] = [NOTIFICATION, CATALOG];
/// Who hears about fees: the notification service (fee notices).
pub const FEE_SUBSCRIBERS: [&str; 1] = [NOTIFICATION];
/// Who hears that a loan was anonymized: only the notification service
/// links loans to readers (the catalog's view holds copies, not readers).
pub const ANONYMIZED_SUBSCRIBERS: [&str; 1] = [NOTIFICATION];

/// The `lectern.events.v1` envelope around `payload`, built here only so
/// every event circulation publishes carries the same fields: an event of
/// type `kind` at `school_id` that happened `at` (`None` leaves
/// `occurred_at` unset).
fn envelope(
    event_id: String,
    kind: &str,
    school_id: &str,
    at: Option<NaiveDateTime>,
    payload: event::Payload,
) -> Event {
    Event {
        id: event_id,
        r#type: kind.to_owned(),
        occurred_at: at.map(timestamp),
        school_id: school_id.to_owned(),
        source: SOURCE.to_owned(),
        // Filled in by `outbox::enqueue` from the request being served.
        traceparent: String::new(),
        payload: Some(payload),
    }
}

/// `loan.checked_out` for a new loan.
pub fn loan_checked_out(event_id: String, loan: &LoanRow) -> Event {
    let payload = event::Payload::LoanCheckedOut(LoanCheckedOut {
        loan_id: loan.id.clone(),
        reader_id: loan.reader_id.clone().unwrap_or_default(),
        copy_id: loan.copy_id.clone(),
        copy_barcode: loan.copy_barcode.clone(),
        title_id: loan.title_id.clone(),
        title: loan.title.clone(),
        due_at: Some(timestamp(loan.due_at)),
        due_date: loan.due_date.clone(),
        // For per-grade statistics (the catalog's popular titles by
        // grade); a grade alone names nobody.
        reader_grade: loan.reader_grade,
        rule_id: loan.rule_id.clone().unwrap_or_default(),
        rule_version: loan.rule_version.unwrap_or_default(),
        override_reason: loan.override_reason.clone().unwrap_or_default(),
        overridden_by: loan.overridden_by.clone().unwrap_or_default(),
        overridden_blocks: crate::policy::eligibility::blocks_from_stored(loan.overridden_blocks.as_deref()),
    });
    envelope(event_id, LOAN_CHECKED_OUT, &loan.school_id, Some(loan.checked_out_at), payload)
}

/// `loan.returned` for a loan closed at `loan.returned_at`;
/// `damage_note` is set when it came back damaged.
pub fn loan_returned(
    event_id: String,
    loan: &LoanRow,
    was_overdue: bool,
    damage_note: Option<&str>,
    returned_at_school_id: &str,
) -> Event {
    let payload = event::Payload::LoanReturned(LoanReturned {
        loan_id: loan.id.clone(),
        reader_id: loan.reader_id.clone().unwrap_or_default(),
        copy_id: loan.copy_id.clone(),
        copy_barcode: loan.copy_barcode.clone(),
        title_id: loan.title_id.clone(),
        title: loan.title.clone(),
        returned_at: loan.returned_at.map(timestamp),
        was_overdue,
        damaged: damage_note.is_some(),
        damage_note: damage_note.unwrap_or_default().to_owned(),
        checked_in_by: loan.checked_in_by.clone().unwrap_or_default(),
        returned_at_school_id: returned_at_school_id.to_owned(),
    });
    envelope(event_id, LOAN_RETURNED, &loan.school_id, loan.returned_at, payload)
}

/// `loan.renewed` for a loan renewed at `at` (as it is after the renewal).
pub fn loan_renewed(event_id: String, loan: &LoanRow, at: NaiveDateTime) -> Event {
    let payload = event::Payload::LoanRenewed(LoanRenewed {
        loan_id: loan.id.clone(),
        reader_id: loan.reader_id.clone().unwrap_or_default(),
        copy_id: loan.copy_id.clone(),
        copy_barcode: loan.copy_barcode.clone(),
        title_id: loan.title_id.clone(),
        title: loan.title.clone(),
        due_at: Some(timestamp(loan.due_at)),
        due_date: loan.due_date.clone(),
        renewals: loan.renewals,
    });
    envelope(event_id, LOAN_RENEWED, &loan.school_id, Some(at), payload)
}

/// `loan.anonymized` for a loan that stopped naming its reader at `at`.
pub fn loan_anonymized(event_id: String, loan: &LoanRow, at: NaiveDateTime) -> Event {
    let payload = event::Payload::LoanAnonymized(LoanAnonymized {
        loan_id: loan.id.clone(),
        copy_id: loan.copy_id.clone(),
    });
    envelope(event_id, LOAN_ANONYMIZED, &loan.school_id, Some(at), payload)
}

/// `fee.charged` for a new fee; `balance` is what the reader owes the
/// school now, the fee included.
pub fn fee_charged(event_id: String, fee: &FeeRow, balance: i64) -> Event {
    let payload = event::Payload::FeeCharged(FeeCharged {
        fee_id: fee.id.clone(),
        reader_id: fee.reader_id.clone().unwrap_or_default(),
        loan_id: fee.loan_id.clone(),
        kind: fee.kind.clone(),
        amount: fee.amount,
        copy_barcode: fee.copy_barcode.clone(),
        title: fee.title.clone(),
        balance,
    });
    envelope(event_id, FEE_CHARGED, &fee.school_id, Some(fee.created_at), payload)
}

/// `fee.paid` or `fee.waived` for a ledger entry of `fee` (as it is after
/// the entry).
pub fn fee_settled(event_id: String, fee: &FeeRow, entry: &FeeEntryRow) -> Event {
    let kind = match entry.kind.as_str() {
        "waiver" => FEE_WAIVED,
        "refund" => FEE_REFUNDED,
        _ => FEE_PAID,
    };
    let payload = event::Payload::FeeSettled(FeeSettled {
        fee_id: fee.id.clone(),
        reader_id: fee.reader_id.clone().unwrap_or_default(),
        kind: entry.kind.clone(),
        amount: entry.amount,
        outstanding: fee.outstanding,
        reason: entry.reason.clone(),
        by: entry.created_by.clone(),
    });
    envelope(event_id, kind, &fee.school_id, Some(entry.created_at), payload)
}

/// `hold.placed` for a new hold, `position` in its title's line.
pub fn hold_placed(event_id: String, hold: &HoldRow, position: i32) -> Event {
    let payload = event::Payload::HoldPlaced(HoldPlaced {
        hold_id: hold.id.clone(),
        reader_id: hold.reader_id.clone().unwrap_or_default(),
        title_id: hold.title_id.clone(),
        title: hold.title.clone(),
        copy_id: hold.wanted_copy_id.clone().unwrap_or_default(),
        pickup_school_id: hold.pickup_school_id.clone(),
        position,
    });
    envelope(event_id, HOLD_PLACED, &hold.pickup_school_id, Some(hold.placed_at), payload)
}

/// `hold.trapped` for a copy taken for `hold` at `at`.
pub fn hold_trapped(event_id: String, hold: &HoldRow, at: NaiveDateTime) -> Event {
    let payload = event::Payload::HoldTrapped(HoldTrapped {
        hold_id: hold.id.clone(),
        copy_id: hold.copy_id.clone().unwrap_or_default(),
        title_id: hold.title_id.clone(),
        pickup_school_id: hold.pickup_school_id.clone(),
        reader_id: hold.reader_id.clone().unwrap_or_default(),
    });
    envelope(event_id, HOLD_TRAPPED, &hold.pickup_school_id, Some(at), payload)
}

/// `hold.ready` for a hold whose copy is on the hold shelf until the end
/// of `expires_on` (a day in the school's time zone).
pub fn hold_ready(event_id: String, hold: &HoldRow, expires_on: String, at: NaiveDateTime) -> Event {
    let payload = event::Payload::HoldReady(HoldReady {
        hold_id: hold.id.clone(),
        copy_id: hold.copy_id.clone().unwrap_or_default(),
        title_id: hold.title_id.clone(),
        pickup_school_id: hold.pickup_school_id.clone(),
        expires_at: hold.expires_at.map(timestamp),
        reader_id: hold.reader_id.clone().unwrap_or_default(),
        title: hold.title.clone(),
        expires_on,
    });
    envelope(event_id, HOLD_READY, &hold.pickup_school_id, Some(at), payload)
}

/// `hold.released`: `copy_id` left the hold shelf (or transit) unlent.
pub fn hold_released(
    event_id: String,
    hold: &HoldRow,
    copy_id: &str,
    reason: &str,
    at: NaiveDateTime,
) -> Event {
    let payload = event::Payload::HoldReleased(HoldReleased {
        hold_id: hold.id.clone(),
        copy_id: copy_id.to_owned(),
        reason: reason.to_owned(),
        reader_id: hold.reader_id.clone().unwrap_or_default(),
        title_id: hold.title_id.clone(),
    });
    envelope(event_id, HOLD_RELEASED, &hold.pickup_school_id, Some(at), payload)
}

/// `hold.cancelled`, by `by`.
pub fn hold_cancelled(event_id: String, hold: &HoldRow, by: &str, at: NaiveDateTime) -> Event {
    let payload = event::Payload::HoldCancelled(HoldCancelled {
        hold_id: hold.id.clone(),
        reader_id: hold.reader_id.clone().unwrap_or_default(),
        title_id: hold.title_id.clone(),
        by: by.to_owned(),
    });
    envelope(event_id, HOLD_CANCELLED, &hold.pickup_school_id, Some(at), payload)
}

/// `transit.started`: the copy of `transit` left for its destination.
pub fn transit_started(event_id: String, transit: &TransitRow) -> Event {
    let payload = event::Payload::TransitStarted(TransitStarted {
        transit_id: transit.id.clone(),
        copy_id: transit.copy_id.clone(),
        from_school_id: transit.from_school_id.clone(),
        to_school_id: transit.to_school_id.clone(),
        reason: transit.reason.clone(),
        hold_id: transit.hold_id.clone().unwrap_or_default(),
    });
    envelope(event_id, TRANSIT_STARTED, &transit.from_school_id, Some(transit.started_at), payload)
}

/// `transit.received`: the copy of `transit` arrived at its destination.
pub fn transit_received(event_id: String, transit: &TransitRow, at: NaiveDateTime) -> Event {
    let payload = event::Payload::TransitReceived(TransitReceived {
        transit_id: transit.id.clone(),
        copy_id: transit.copy_id.clone(),
        school_id: transit.to_school_id.clone(),
    });
    envelope(event_id, TRANSIT_RECEIVED, &transit.to_school_id, Some(at), payload)
}

/// `loan.lost` for a loan whose copy `by` declared lost at `at`.
pub fn loan_lost(event_id: String, loan: &LoanRow, by: &str, at: NaiveDateTime) -> Event {
    let payload = event::Payload::LoanLost(LoanLost {
        loan_id: loan.id.clone(),
        reader_id: loan.reader_id.clone().unwrap_or_default(),
        copy_id: loan.copy_id.clone(),
        copy_barcode: loan.copy_barcode.clone(),
        title_id: loan.title_id.clone(),
        title: loan.title.clone(),
        by: by.to_owned(),
    });
    envelope(event_id, LOAN_LOST, &loan.school_id, Some(at), payload)
}

/// `kind` (`loan.due_date_changed` or `loan.claimed_returned`) for a loan
/// changed at the desk, as it is now.
pub fn loan_changed(
    event_id: String,
    kind: &str,
    loan: &LoanRow,
    by: &str,
    reason: &str,
    at: NaiveDateTime,
) -> Event {
    let payload = event::Payload::LoanChanged(LoanChanged {
        loan_id: loan.id.clone(),
        reader_id: loan.reader_id.clone().unwrap_or_default(),
        copy_id: loan.copy_id.clone(),
        title: loan.title.clone(),
        due_at: Some(timestamp(loan.due_at)),
        due_date: loan.due_date.clone(),
        by: by.to_owned(),
        reason: reason.to_owned(),
    });
    envelope(event_id, kind, &loan.school_id, Some(at), payload)
}
