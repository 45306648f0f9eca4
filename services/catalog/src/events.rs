//! The availability view: circulation's loan events, delivered to this
//! service's `EventSink`, mark copies on loan (with their due time) or back
//! on the shelf. Each event is applied once (`outbox::consume_batch`), and
//! only if it is not older than the last one applied to the copy, so a late
//! redelivery of an old event never overrides a newer state.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use lectern_common::db::DbConnection;
use lectern_common::identity::{principal, require_service};
use lectern_common::outbox;
use lectern_proto::events::v1::event_sink_server::EventSink;
use lectern_proto::events::v1::{DeliverRequest, DeliverResponse, Event, event};
use tonic::{Request, Response, Status};

use crate::db;
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
    let (copy_id, on_loan, due_at) = match &event.payload {
        Some(event::Payload::LoanCheckedOut(loan)) => {
            (loan.copy_id.as_str(), true, loan.due_at.as_ref().and_then(time::from_proto))
        }
        Some(event::Payload::LoanReturned(loan)) => (loan.copy_id.as_str(), false, None),
        Some(event::Payload::LoanAnonymized(_) | event::Payload::ReaderErased(_)) | None => {
            return Ok(Outcome::NotRelevant);
        }
    };
    if db::set_loan_state(connection, copy_id, on_loan, due_at, occurred_at)? {
        tracing::debug!(event.id = %event.id, copy.id = %copy_id, on_loan, "copy availability updated");
        return Ok(Outcome::Applied);
    }
    if db::copy_exists(connection, copy_id)? {
        tracing::debug!(event.id = %event.id, copy.id = %copy_id, "stale loan event ignored");
        Ok(Outcome::Stale)
    } else {
        tracing::debug!(event.id = %event.id, copy.id = %copy_id, "loan event for an unknown copy ignored");
        Ok(Outcome::UnknownCopy)
    }
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
