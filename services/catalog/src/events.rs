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
use lectern_common::identity::{principal, require_service};
use lectern_common::outbox;
use lectern_proto::events::v1::event_sink_server::EventSink;
use lectern_proto::events::v1::{DeliverRequest, DeliverResponse, Event, event};
use tonic::{Request, Response, Status};

use crate::db::{self, ViewChange};
use crate::error::Error;
use crate::grpc::Catalog;
use crate::time;

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
    let occurred_at = event.occurred_at.as_ref().and_then(time::from_proto).unwrap_or(now);
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
                loan_due_at: Some(loan.due_at.as_ref().and_then(time::from_proto)),
                on_hold_shelf: Some(false),
                in_transit: Some(false),
            },
        ),
        event::Payload::LoanChanged(loan) => (
            loan.copy_id.as_str(),
            ViewChange {
                loan_due_at: Some(loan.due_at.as_ref().and_then(time::from_proto)),
                ..Default::default()
            },
        ),
        event::Payload::LoanRenewed(loan) => (
            loan.copy_id.as_str(),
            ViewChange {
                loan_due_at: Some(loan.due_at.as_ref().and_then(time::from_proto)),
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
        require_service(&principal(&request)?)?;
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
}
