//! What circulation's events change in the reminder tables: a lent,
//! renewed or re-dated loan is scheduled with its due day; a returned,
//! lost, claimed-returned or anonymized one stops being reminded of, and
//! what was still to go out about it is cancelled; a copy on the hold shelf
//! is scheduled for its "expiring" reminder and announced at once; a fee or
//! a lost book is announced at once. "At once" is a `planned` reminder made
//! in the event's transaction, for the planner to address right after.
//! [`changes_for`] decides, as plain data; [`apply`] writes.

use chrono::{NaiveDate, NaiveDateTime};
use lectern_common::db::DbConnection;
use lectern_core::ids;
use lectern_proto::events::types;
use lectern_proto::events::v1::{Event, event};
use lectern_proto::notification::v1::Trigger;

use crate::db::reminders::{self as db, HoldSchedule, LoanSchedule, ReminderRow};
use crate::triggers::trigger_name;

/// The currency of fees (circulation keeps fen).
const CURRENCY: &str = "CNY";

/// Why deliveries about a loan were cancelled, as the log shows it.
pub const CANCELLED_RETURNED: &str = "returned";
/// Why deliveries about a loan's old due day were cancelled.
pub const CANCELLED_DUE_DATE_CHANGED: &str = "due date changed";
/// Why deliveries about a lost loan were cancelled.
pub const CANCELLED_LOST: &str = "declared lost";

/// One change an event makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The loan is open with this due day.
    OpenLoan(LoanSchedule),
    /// The loan needs no more reminders; what was still to go out about it
    /// is cancelled for `why`.
    CloseLoan { loan_id: String, why: &'static str },
    /// The copy waits on the hold shelf until `expires_on`.
    OpenHold(HoldSchedule),
    /// The hold ended.
    CloseHold { hold_id: String },
    /// The reader collected a held copy of this title (it was lent to
    /// them): its hold shelf time is over.
    CollectHolds { reader_id: String, title: String },
    /// A reminder to address at once.
    Announce(ReminderRow),
    /// An erased reader: nothing about them is kept.
    ForgetReader { reader_id: String },
}

/// What the changes of a batch did, for the log and for waking the planner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Reminders made to be addressed at once.
    pub announced: usize,
    /// Deliveries cancelled.
    pub cancelled: usize,
}

/// The changes `event` makes. `today` is the school day it is handled on
/// (the day of reminders it makes); `now` stamps the rows.
pub fn changes_for(event: &Event, today: NaiveDate, now: NaiveDateTime) -> Vec<Change> {
    let Some(payload) = event.payload.as_ref() else {
        return Vec::new();
    };
    let school_id = event.school_id.clone();
    let loan = |loan_id: &str, reader_id: &str, title: &str, copy_barcode: &str, due_date: &str| {
        Change::OpenLoan(LoanSchedule {
            loan_id: loan_id.to_owned(),
            school_id: school_id.clone(),
            reader_id: reader_id.to_owned(),
            title: title.to_owned(),
            copy_barcode: copy_barcode.to_owned(),
            due_date: due_date.to_owned(),
            state: db::OPEN.to_owned(),
            updated_at: now,
        })
    };
    let announce = |trigger: Trigger, subject_id: &str, reader_id: &str, title: &str| ReminderRow {
        id: ids::new_id(),
        school_id: school_id.clone(),
        reader_id: reader_id.to_owned(),
        subject_id: subject_id.to_owned(),
        trigger_name: trigger_name(trigger).to_owned(),
        title: title.to_owned(),
        due_date: None,
        amount_minor: None,
        currency: None,
        state: db::PLANNED.to_owned(),
        day: today.format("%Y-%m-%d").to_string(),
        created_at: now,
    };
    match payload {
        event::Payload::LoanCheckedOut(lent) if !lent.reader_id.is_empty() => vec![
            loan(&lent.loan_id, &lent.reader_id, &lent.title, &lent.copy_barcode, &lent.due_date),
            Change::CollectHolds { reader_id: lent.reader_id.clone(), title: lent.title.clone() },
        ],
        event::Payload::LoanRenewed(renewed) if !renewed.reader_id.is_empty() => {
            vec![loan(
                &renewed.loan_id,
                &renewed.reader_id,
                &renewed.title,
                &renewed.copy_barcode,
                &renewed.due_date,
            )]
        }
        // The reader says they brought it back: no more reminders about it
        // while the library looks for the copy.
        event::Payload::LoanChanged(changed) if event.r#type == types::LOAN_CLAIMED_RETURNED => {
            vec![Change::CloseLoan { loan_id: changed.loan_id.clone(), why: CANCELLED_RETURNED }]
        }
        event::Payload::LoanChanged(changed)
            if !changed.reader_id.is_empty() && !changed.due_date.is_empty() =>
        {
            // The event does not carry the barcode; the schedule keeps the
            // one it had (see `apply`).
            vec![loan(&changed.loan_id, &changed.reader_id, &changed.title, "", &changed.due_date)]
        }
        event::Payload::LoanReturned(returned) => {
            vec![Change::CloseLoan { loan_id: returned.loan_id.clone(), why: CANCELLED_RETURNED }]
        }
        event::Payload::LoanAnonymized(anonymized) => {
            vec![Change::CloseLoan { loan_id: anonymized.loan_id.clone(), why: CANCELLED_RETURNED }]
        }
        event::Payload::LoanLost(lost) => {
            let mut changes = vec![Change::CloseLoan { loan_id: lost.loan_id.clone(), why: CANCELLED_LOST }];
            if !lost.reader_id.is_empty() {
                changes.push(Change::Announce(announce(
                    Trigger::LoanLost,
                    &lost.loan_id,
                    &lost.reader_id,
                    &lost.title,
                )));
            }
            changes
        }
        event::Payload::HoldReady(ready) if !ready.reader_id.is_empty() => {
            // The hold shelf is at the pickup school, which the event names
            // as its school.
            let mut reminder = announce(Trigger::HoldReady, &ready.hold_id, &ready.reader_id, &ready.title);
            reminder.due_date = Some(ready.expires_on.clone());
            vec![
                Change::OpenHold(HoldSchedule {
                    hold_id: ready.hold_id.clone(),
                    school_id: school_id.clone(),
                    reader_id: ready.reader_id.clone(),
                    title: ready.title.clone(),
                    expires_on: ready.expires_on.clone(),
                    state: db::OPEN.to_owned(),
                    updated_at: now,
                }),
                Change::Announce(reminder),
            ]
        }
        event::Payload::HoldReleased(released) => {
            vec![Change::CloseHold { hold_id: released.hold_id.clone() }]
        }
        event::Payload::HoldCancelled(cancelled) => {
            vec![Change::CloseHold { hold_id: cancelled.hold_id.clone() }]
        }
        event::Payload::FeeCharged(fee) if !fee.reader_id.is_empty() && fee.amount > 0 => {
            let mut reminder = announce(Trigger::FeeCharged, &fee.fee_id, &fee.reader_id, &fee.title);
            reminder.amount_minor = Some(fee.amount);
            reminder.currency = Some(CURRENCY.to_owned());
            vec![Change::Announce(reminder)]
        }
        event::Payload::ReaderErased(erased) => {
            vec![Change::ForgetReader { reader_id: erased.reader_id.clone() }]
        }
        // Events that do not change what is reminded of.
        event::Payload::LoanCheckedOut(_)
        | event::Payload::LoanRenewed(_)
        | event::Payload::LoanChanged(_)
        | event::Payload::HoldReady(_)
        | event::Payload::FeeCharged(_)
        | event::Payload::FeeSettled(_)
        | event::Payload::HoldPlaced(_)
        | event::Payload::HoldTrapped(_)
        | event::Payload::TransitStarted(_)
        | event::Payload::TransitReceived(_) => Vec::new(),
    }
}

/// Writes `changes` in the caller's transaction.
pub fn apply(
    connection: &mut DbConnection,
    event: &Event,
    changes: Vec<Change>,
    now: NaiveDateTime,
) -> diesel::QueryResult<Applied> {
    let mut applied = Applied::default();
    for change in changes {
        match change {
            Change::OpenLoan(mut schedule) => {
                if schedule.copy_barcode.is_empty()
                    && let Some(known) = db::find_loan_schedule(connection, &schedule.loan_id)?
                {
                    schedule.copy_barcode = known.copy_barcode;
                }
                let cancelled = db::cancel_deliveries_for_old_due_date(
                    connection,
                    &schedule.loan_id,
                    &schedule.due_date,
                    CANCELLED_DUE_DATE_CHANGED,
                )?;
                applied.cancelled += cancelled;
                db::upsert_loan_schedule(connection, &schedule)?;
                tracing::debug!(event.id = %event.id, loan.id = %schedule.loan_id, due_date = %schedule.due_date, cancelled, "loan scheduled");
            }
            Change::CloseLoan { loan_id, why } => {
                db::close_loan_schedule(connection, &loan_id, now)?;
                let cancelled = db::cancel_deliveries_about(connection, &loan_id, why)?;
                applied.cancelled += cancelled;
                tracing::debug!(event.id = %event.id, loan.id = %loan_id, cancelled, "loan no longer reminded of");
            }
            Change::OpenHold(schedule) => {
                db::upsert_hold_schedule(connection, &schedule)?;
                tracing::debug!(event.id = %event.id, hold.id = %schedule.hold_id, "hold shelf time scheduled");
            }
            Change::CloseHold { hold_id } => {
                db::close_hold_schedule(connection, &hold_id, now)?;
                let cancelled = db::cancel_deliveries_about(connection, &hold_id, "hold ended")?;
                applied.cancelled += cancelled;
            }
            Change::CollectHolds { reader_id, title } => {
                db::close_holds_collected(connection, &reader_id, &title, now)?;
            }
            Change::Announce(reminder) => {
                if db::insert_reminder(connection, &reminder)? {
                    applied.announced += 1;
                    tracing::debug!(event.id = %event.id, reminder.id = %reminder.id, trigger = %reminder.trigger_name, "reminder planned");
                }
            }
            Change::ForgetReader { reader_id } => {
                let count = db::forget_reader(connection, &reader_id)?;
                tracing::info!(event.id = %event.id, reader.id = %reader_id, count, "erased reader's reminders purged");
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use lectern_proto::events::v1::{
        FeeCharged, HoldCancelled, HoldReady, LoanChanged, LoanCheckedOut, LoanLost, LoanRenewed,
        LoanReturned, ReaderErased,
    };

    use super::*;

    fn event(kind: &str, payload: event::Payload) -> Event {
        Event {
            id: "ev-1".into(),
            r#type: kind.into(),
            occurred_at: None,
            school_id: "school-1".into(),
            source: "circulation".into(),
            traceparent: String::new(),
            payload: Some(payload),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 14).unwrap()
    }

    fn now() -> NaiveDateTime {
        today().and_hms_opt(2, 0, 0).unwrap()
    }

    #[test]
    fn a_checkout_schedules_the_loan_and_ends_its_hold_shelf_time() {
        let changes = changes_for(
            &event(
                types::LOAN_CHECKED_OUT,
                event::Payload::LoanCheckedOut(LoanCheckedOut {
                    loan_id: "loan-1".into(),
                    reader_id: "reader-1".into(),
                    copy_barcode: "C1".into(),
                    title: "草房子".into(),
                    due_date: "2026-12-28".into(),
                    ..Default::default()
                }),
            ),
            today(),
            now(),
        );
        assert_eq!(
            changes,
            vec![
                Change::OpenLoan(LoanSchedule {
                    loan_id: "loan-1".into(),
                    school_id: "school-1".into(),
                    reader_id: "reader-1".into(),
                    title: "草房子".into(),
                    copy_barcode: "C1".into(),
                    due_date: "2026-12-28".into(),
                    state: "open".into(),
                    updated_at: now(),
                }),
                Change::CollectHolds { reader_id: "reader-1".into(), title: "草房子".into() },
            ]
        );
    }

    #[test]
    fn a_renewal_and_a_new_due_day_move_the_schedule() {
        let renewed = changes_for(
            &event(
                types::LOAN_RENEWED,
                event::Payload::LoanRenewed(LoanRenewed {
                    loan_id: "loan-1".into(),
                    reader_id: "reader-1".into(),
                    due_date: "2027-01-11".into(),
                    ..Default::default()
                }),
            ),
            today(),
            now(),
        );
        assert!(matches!(&renewed[..], [Change::OpenLoan(schedule)] if schedule.due_date == "2027-01-11"));
        let changed = LoanChanged {
            loan_id: "loan-1".into(),
            reader_id: "reader-1".into(),
            due_date: "2027-01-04".into(),
            ..Default::default()
        };
        let moved = changes_for(
            &event(types::LOAN_DUE_DATE_CHANGED, event::Payload::LoanChanged(changed.clone())),
            today(),
            now(),
        );
        assert!(matches!(&moved[..], [Change::OpenLoan(schedule)] if schedule.due_date == "2027-01-04"));
        let claimed = changes_for(
            &event(types::LOAN_CLAIMED_RETURNED, event::Payload::LoanChanged(changed)),
            today(),
            now(),
        );
        assert_eq!(claimed, vec![Change::CloseLoan { loan_id: "loan-1".into(), why: CANCELLED_RETURNED }]);
    }

    #[test]
    fn a_return_closes_the_loan_and_cancels_what_was_to_go_out() {
        let changes = changes_for(
            &event(
                types::LOAN_RETURNED,
                event::Payload::LoanReturned(LoanReturned { loan_id: "loan-1".into(), ..Default::default() }),
            ),
            today(),
            now(),
        );
        assert_eq!(changes, vec![Change::CloseLoan { loan_id: "loan-1".into(), why: "returned" }]);
    }

    #[test]
    fn a_lost_book_closes_the_loan_and_is_announced_at_once() {
        let changes = changes_for(
            &event(
                types::LOAN_LOST,
                event::Payload::LoanLost(LoanLost {
                    loan_id: "loan-1".into(),
                    reader_id: "reader-1".into(),
                    title: "Matilda".into(),
                    ..Default::default()
                }),
            ),
            today(),
            now(),
        );
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0], Change::CloseLoan { loan_id: "loan-1".into(), why: CANCELLED_LOST });
        let Change::Announce(reminder) = &changes[1] else { panic!("no reminder: {changes:?}") };
        assert_eq!(
            (reminder.trigger_name.as_str(), reminder.subject_id.as_str(), reminder.state.as_str()),
            ("loan_lost", "loan-1", "planned")
        );
        assert_eq!(reminder.day, "2026-12-14");
    }

    #[test]
    fn a_copy_on_the_hold_shelf_is_scheduled_and_announced() {
        let changes = changes_for(
            &event(
                types::HOLD_READY,
                event::Payload::HoldReady(HoldReady {
                    hold_id: "hold-1".into(),
                    reader_id: "reader-1".into(),
                    title: "Matilda".into(),
                    expires_on: "2026-12-18".into(),
                    ..Default::default()
                }),
            ),
            today(),
            now(),
        );
        let [Change::OpenHold(hold), Change::Announce(reminder)] = &changes[..] else {
            panic!("unexpected: {changes:?}")
        };
        assert_eq!((hold.expires_on.as_str(), hold.state.as_str()), ("2026-12-18", "open"));
        assert_eq!(reminder.trigger_name, "hold_ready");
        assert_eq!(reminder.due_date.as_deref(), Some("2026-12-18"));
        let cancelled = changes_for(
            &event(
                types::HOLD_CANCELLED,
                event::Payload::HoldCancelled(HoldCancelled {
                    hold_id: "hold-1".into(),
                    ..Default::default()
                }),
            ),
            today(),
            now(),
        );
        assert_eq!(cancelled, vec![Change::CloseHold { hold_id: "hold-1".into() }]);
    }

    #[test]
    fn a_fee_is_announced_with_its_amount() {
        let changes = changes_for(
            &event(
                types::FEE_CHARGED,
                event::Payload::FeeCharged(FeeCharged {
                    fee_id: "fee-1".into(),
                    reader_id: "reader-1".into(),
                    amount: 250,
                    title: "Matilda".into(),
                    ..Default::default()
                }),
            ),
            today(),
            now(),
        );
        let [Change::Announce(reminder)] = &changes[..] else { panic!("unexpected: {changes:?}") };
        assert_eq!((reminder.subject_id.as_str(), reminder.amount_minor), ("fee-1", Some(250)));
        assert_eq!(reminder.currency.as_deref(), Some("CNY"));
    }

    #[test]
    fn an_erased_reader_is_forgotten_and_other_events_change_nothing() {
        let erased = changes_for(
            &event(
                types::READER_ERASED,
                event::Payload::ReaderErased(ReaderErased { reader_id: "reader-1".into() }),
            ),
            today(),
            now(),
        );
        assert_eq!(erased, vec![Change::ForgetReader { reader_id: "reader-1".into() }]);
        let anonymous_checkout = changes_for(
            &event(types::LOAN_CHECKED_OUT, event::Payload::LoanCheckedOut(LoanCheckedOut::default())),
            today(),
            now(),
        );
        assert!(anonymous_checkout.is_empty());
    }
}
