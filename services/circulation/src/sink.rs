//! Circulation's `EventSink`: it hears from the reader service that a
//! reader was erased (`reader.erased`) and makes every loan and (settled)
//! fee of theirs stop naming them, keeping the snapshot for statistics. Each event is applied
//! once, whatever the number of deliveries.

use lectern_common::db::Db;
use lectern_core::access::Access;
use lectern_core::clock::SharedClock;
use lectern_core::identity::principal;
use lectern_proto::events::v1::event_sink_server::EventSink;
use lectern_proto::events::v1::{DeliverRequest, DeliverResponse, event};
use tonic::{Request, Response, Status};

use crate::db;
use lectern_common::Error;

/// The event sink.
#[derive(Debug, Clone)]
pub struct Sink {
    pub db: Db,
    pub clock: SharedClock,
}

#[tonic::async_trait]
impl EventSink for Sink {
    async fn deliver(&self, request: Request<DeliverRequest>) -> Result<Response<DeliverResponse>, Status> {
        principal(&request)?.require(Access::SERVICE)?;
        let events = request.into_inner().events;
        let now = self.clock.now().naive_utc();
        let accepted =
            lectern_common::outbox::consume_batch(&self.db, &self.clock, events, move |connection, event| {
                if let Some(event::Payload::ReaderErased(erased)) = &event.payload {
                    let count = db::anonymize_reader_loans(connection, &erased.reader_id, now)?;
                    let fees = db::fees::forget_reader(connection, &erased.reader_id)?;
                    let holds = db::holds::forget_reader(connection, &erased.reader_id)?;
                    tracing::info!(event.id = %event.id, reader.id = %erased.reader_id, count, fees, holds, "erased reader's loans, fees and holds anonymized");
                }
                Ok::<(), Error>(())
            })
            .await?;
        Ok(Response::new(DeliverResponse { accepted }))
    }
}
