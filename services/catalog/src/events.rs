//! The availability view: circulation's events, delivered to this
//! service's `EventSink`, mark copies on loan (with their due time), on the
//! hold shelf, in transit, or back on the shelf. Each event is applied once
//! (`outbox::consume_batch`), and only if it is not older than the last one
//! applied to the copy, so a late redelivery of an old event never
//! overrides a newer state. Check-outs are also counted per title, school
//! and grade for the popular-titles list.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use lectern_common::db::DbConnection;
use lectern_common::outbox;
use lectern_core::access::Access;
use lectern_core::identity::principal;
use lectern_proto::events::v1::event_sink_server::EventSink;
use lectern_proto::events::v1::{DeliverRequest, DeliverResponse, Event, event};
use tonic::{Request, Response, Status};

use lectern_common::db::DbError;
use lectern_proto::catalog::v1::CopyStatus;

use crate::db::{self, ViewChange};
use crate::grpc::Catalog;
use crate::lifecycle::{self, StatusChange};

use lectern_common::Error;

/// What an event did to the availability view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The copy's loan state changed.
    Applied,
    /// A newer event was already applied to the copy; nothing changed.
    Stale,
    /// No copy has the event's copy id (for example, one from another
    /// district's catalog); nothing changed.
    UnknownCopy,
    /// The event is not about loans.
    NotRelevant,
}

/// Applies one event to the availability view (call inside the write
/// transaction that records the event as consumed). An event without
/// `occurred_at` counts as happening at `now`.
pub fn apply(connection: &mut DbConnection, event: &Event, now: NaiveDateTime) -> QueryResult<Outcome> {
    let occurred_at = event
        .occurred_at
        .as_ref()
        .and_then(lectern_core::time::from_timestamp)
        .map(|time| time.naive_utc())
        .unwrap_or(now);
    let outcome = apply_view(connection, event, occurred_at)?;
    if let Some(effect) = status_effect(event) {
        apply_status(connection, event, &effect, occurred_at)?;
    }
    Ok(outcome)
}

/// A change of a copy's lifecycle status that circulation's event calls
/// for: a copy declared lost becomes lost, one checked in damaged becomes
/// damaged, and a lost copy checked in is available again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEffect {
    pub copy_id: String,
    pub to: CopyStatus,
    pub reason: String,
    /// The staff member who acted.
    pub actor_id: String,
    /// Only for a copy that is lost now (found at check-in).
    pub only_if_lost: bool,
}

/// The status change an event calls for, if any.
pub fn status_effect(event: &Event) -> Option<StatusEffect> {
    match event.payload.as_ref()? {
        event::Payload::LoanLost(lost) => Some(StatusEffect {
            copy_id: lost.copy_id.clone(),
            to: CopyStatus::Lost,
            reason: "declared lost at the desk".to_owned(),
            actor_id: lost.by.clone(),
            only_if_lost: false,
        }),
        event::Payload::LoanReturned(loan) if loan.damaged => Some(StatusEffect {
            copy_id: loan.copy_id.clone(),
            to: CopyStatus::Damaged,
            reason: loan.damage_note.clone(),
            actor_id: loan.checked_in_by.clone(),
            only_if_lost: false,
        }),
        event::Payload::LoanReturned(loan) => Some(StatusEffect {
            copy_id: loan.copy_id.clone(),
            to: CopyStatus::Available,
            reason: "found: checked in".to_owned(),
            actor_id: loan.checked_in_by.clone(),
            only_if_lost: true,
        }),
        _ => None,
    }
}

/// Applies a status effect through the copy's lifecycle rules. A change
/// the rules refuse (the copy was withdrawn meanwhile, say) is logged and
/// skipped: the event itself is still consumed.
fn apply_status(
    connection: &mut DbConnection,
    event: &Event,
    effect: &StatusEffect,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let Some((copy, _)) = db::find_copy(connection, &effect.copy_id)? else {
        return Ok(());
    };
    if effect.only_if_lost && copy.status != "lost" {
        return Ok(());
    }
    let change = StatusChange {
        to: effect.to,
        reason: effect.reason.clone(),
        repair_notes: String::new(),
        repair_cost: None,
    };
    match lifecycle::change_status(connection, &copy, &change, &effect.actor_id, at) {
        Ok(_) => {
            tracing::info!(event.id = %event.id, copy.id = %copy.id, to = effect.to.as_str_name(), "copy status changed by circulation");
            Ok(())
        }
        Err(Error::Database(DbError::Query(error))) => Err(error),
        Err(other) => {
            tracing::info!(event.id = %event.id, copy.id = %copy.id, error = %other, "status change from circulation skipped");
            Ok(())
        }
    }
}

/// Applies an event to the availability view.
fn apply_view(
    connection: &mut DbConnection,
    event: &Event,
    occurred_at: NaiveDateTime,
) -> QueryResult<Outcome> {
    let Some((copy_id, change)) = view_change(event) else {
        return Ok(Outcome::NotRelevant);
    };
    if let Some(event::Payload::LoanCheckedOut(loan)) = &event.payload {
        // Counted whatever the copy's state: a stale or unknown-copy event
        // still records a check-out that happened.
        db::record_checkout(
            connection,
            &db::CheckoutRow {
                loan_id: loan.loan_id.clone(),
                title_id: loan.title_id.clone(),
                school_id: event.school_id.clone(),
                grade: (loan.reader_grade > 0).then_some(loan.reader_grade),
                checked_out_at: occurred_at,
            },
        )?;
    }
    if db::change_view(connection, copy_id, &change, occurred_at)? {
        tracing::debug!(event.id = %event.id, event.r#type = %event.r#type, copy.id = %copy_id, "copy availability updated");
        return Ok(Outcome::Applied);
    }
    if db::copy_exists(connection, copy_id)? {
        tracing::debug!(event.id = %event.id, copy.id = %copy_id, "stale availability event ignored");
        Ok(Outcome::Stale)
    } else {
        tracing::debug!(event.id = %event.id, copy.id = %copy_id, "event for an unknown copy ignored");
        Ok(Outcome::UnknownCopy)
    }
}

/// The copy an event is about and what it changes in its availability
/// view; `None` for events that do not touch the view.
pub fn view_change(event: &Event) -> Option<(&str, ViewChange)> {
    let change = match event.payload.as_ref()? {
        event::Payload::LoanCheckedOut(loan) => (
            loan.copy_id.as_str(),
            // Lending a copy from the hold shelf ends its time there.
            ViewChange {
                on_loan: Some(true),
                loan_due_at: Some(
                    loan.due_at
                        .as_ref()
                        .and_then(lectern_core::time::from_timestamp)
                        .map(|time| time.naive_utc()),
                ),
                on_hold_shelf: Some(false),
                in_transit: Some(false),
            },
        ),
        event::Payload::LoanChanged(loan) => (
            loan.copy_id.as_str(),
            ViewChange {
                loan_due_at: Some(
                    loan.due_at
                        .as_ref()
                        .and_then(lectern_core::time::from_timestamp)
                        .map(|time| time.naive_utc()),
                ),
                ..Default::default()
            },
        ),
        event::Payload::LoanRenewed(loan) => (
            loan.copy_id.as_str(),
            ViewChange {
                loan_due_at: Some(
                    loan.due_at
                        .as_ref()
                        .and_then(lectern_core::time::from_timestamp)
                        .map(|time| time.naive_utc()),
                ),
                ..Default::default()
            },
        ),
        event::Payload::LoanReturned(loan) => (
            loan.copy_id.as_str(),
            ViewChange { on_loan: Some(false), loan_due_at: Some(None), ..Default::default() },
        ),
        event::Payload::HoldTrapped(hold) => {
            (hold.copy_id.as_str(), ViewChange { on_hold_shelf: Some(true), ..Default::default() })
        }
        event::Payload::HoldReady(hold) => (
            hold.copy_id.as_str(),
            ViewChange { on_hold_shelf: Some(true), in_transit: Some(false), ..Default::default() },
        ),
        event::Payload::HoldReleased(hold) => {
            (hold.copy_id.as_str(), ViewChange { on_hold_shelf: Some(false), ..Default::default() })
        }
        event::Payload::TransitStarted(transit) => {
            (transit.copy_id.as_str(), ViewChange { in_transit: Some(true), ..Default::default() })
        }
        event::Payload::TransitReceived(transit) => {
            (transit.copy_id.as_str(), ViewChange { in_transit: Some(false), ..Default::default() })
        }
        event::Payload::LoanAnonymized(_)
        | event::Payload::ReaderErased(_)
        | event::Payload::FeeCharged(_)
        | event::Payload::FeeSettled(_)
        | event::Payload::HoldPlaced(_)
        | event::Payload::HoldCancelled(_)
        | event::Payload::LoanLost(_) => return None,
    };
    Some(change)
}

#[tonic::async_trait]
impl EventSink for Catalog {
    async fn deliver(&self, request: Request<DeliverRequest>) -> Result<Response<DeliverResponse>, Status> {
        principal(&request)?.require(Access::SERVICE)?;
        let events = request.into_inner().events;
        let now = self.clock.now().naive_utc();
        let accepted = outbox::consume_batch(&self.db, &self.clock, events, move |connection, event| {
            apply(connection, event, now)?;
            Ok::<(), Error>(())
        })
        .await?;
        Ok(Response::new(DeliverResponse { accepted }))
    }
}

#[cfg(test)]
mod tests {
    use lectern_proto::events::v1::{
        HoldReady, HoldReleased, LoanAnonymized, TransitReceived, TransitStarted,
    };

    use super::*;

    fn event(payload: event::Payload) -> Event {
        Event { id: "e-1".into(), payload: Some(payload), ..Default::default() }
    }

    #[test]
    fn hold_and_transit_events_move_copies_between_shelves() {
        let ready =
            event(event::Payload::HoldReady(HoldReady { copy_id: "c-1".into(), ..Default::default() }));
        assert_eq!(
            view_change(&ready),
            Some((
                "c-1",
                ViewChange { on_hold_shelf: Some(true), in_transit: Some(false), ..Default::default() }
            ))
        );
        let released =
            event(event::Payload::HoldReleased(HoldReleased { copy_id: "c-1".into(), ..Default::default() }));
        assert_eq!(view_change(&released).map(|(_, change)| change.on_hold_shelf), Some(Some(false)));
        let sent = event(event::Payload::TransitStarted(TransitStarted {
            copy_id: "c-2".into(),
            ..Default::default()
        }));
        assert_eq!(view_change(&sent).map(|(_, change)| change.in_transit), Some(Some(true)));
        let arrived = event(event::Payload::TransitReceived(TransitReceived {
            copy_id: "c-2".into(),
            ..Default::default()
        }));
        assert_eq!(view_change(&arrived).map(|(_, change)| change.in_transit), Some(Some(false)));
        let anonymized = event(event::Payload::LoanAnonymized(LoanAnonymized::default()));
        assert_eq!(view_change(&anonymized), None);
    }

    #[test]
    fn lost_damaged_and_found_copies_change_status() {
        use lectern_proto::events::v1::{LoanLost, LoanReturned};
        let lost = status_effect(&event(event::Payload::LoanLost(LoanLost {
            copy_id: "copy-1".into(),
            by: "staff-1".into(),
            ..Default::default()
        })))
        .unwrap();
        assert_eq!(
            (lost.to, lost.only_if_lost, lost.actor_id.as_str()),
            (CopyStatus::Lost, false, "staff-1")
        );
        let damaged = status_effect(&event(event::Payload::LoanReturned(LoanReturned {
            copy_id: "copy-1".into(),
            damaged: true,
            damage_note: "封面撕破".into(),
            ..Default::default()
        })))
        .unwrap();
        assert_eq!((damaged.to, damaged.reason.as_str()), (CopyStatus::Damaged, "封面撕破"));
        let back = status_effect(&event(event::Payload::LoanReturned(LoanReturned {
            copy_id: "copy-1".into(),
            ..Default::default()
        })))
        .unwrap();
        assert_eq!((back.to, back.only_if_lost), (CopyStatus::Available, true));
        assert_eq!(status_effect(&event(event::Payload::HoldReady(HoldReady::default()))), None);
    }
}
