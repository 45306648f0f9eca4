//! gRPC handlers: validate, call the domain and the database, map results.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lectern_common::db::Db;
use lectern_core::access::Access;
use lectern_core::clock::SharedClock;
use lectern_core::identity::principal;
use lectern_core::time::timestamp;
use lectern_core::validate::{FieldError, page_size};
use lectern_core::{ids, paging};
use lectern_proto::events::v1::event_sink_server::EventSink;
use lectern_proto::events::v1::{DeliverRequest, DeliverResponse};
use lectern_proto::notification::v1::notification_service_server::NotificationService;
use lectern_proto::notification::v1::{ListNoticesRequest, ListNoticesResponse, Notice};
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::db::{self, NoticeRow};
use crate::notices::{self, Language, Purge};
use crate::{events, schedule};
use lectern_common::Error;

/// The notification service's handlers.
#[derive(Debug, Clone)]
pub struct Notification {
    pub db: Db,
    pub clock: SharedClock,
    /// The schools' time zone (the day of reminders events make).
    pub zone: chrono_tz::Tz,
    /// Wakes the planner once an event made a reminder to send at once.
    pub planner: Arc<Notify>,
}

fn to_proto(notice: NoticeRow, language: Language) -> Notice {
    Notice {
        message: notices::message(&notice, language),
        kind: notices::kind_of(&notice.kind).into(),
        create_time: Some(timestamp(notice.occurred_at)),
        subject: notice.subject.clone().unwrap_or_default(),
        id: notice.id,
        reader_id: notice.reader_id,
        title: notice.title,
        due_date: notice.due_date.unwrap_or_default(),
        event_id: notice.event_id,
        loan_id: notice.loan_id,
    }
}

#[tonic::async_trait]
impl NotificationService for Notification {
    async fn list_notices(
        &self,
        request: Request<ListNoticesRequest>,
    ) -> Result<Response<ListNoticesResponse>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        caller.require_self_or_staff(&reader_id)?;
        // Staff see the notices of their own schools' libraries; a reader
        // sees all their own.
        let schools = caller.schools_for_reader_records();
        let language = Language::parse(&request.language)
            .ok_or_else(|| FieldError::new("language", "must be \"zh-CN\" or \"en\""))?;
        let limit = page_size("page_size", request.page_size, 50, 500)?;
        let after = paging::decode("page_token", &request.page_token)?;
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::list_notices(connection, &reader_id, schools.as_deref(), after.as_deref(), limit + 1)?)
            })
            .await?;
        let (rows, more) = paging::split_page(rows, limit);
        let next_page_token = match rows.last() {
            Some(last) if more => paging::encode(&last.id),
            _ => String::new(),
        };
        Ok(Response::new(ListNoticesResponse {
            notices: rows.into_iter().map(|row| to_proto(row, language)).collect(),
            next_page_token,
        }))
    }
}

#[tonic::async_trait]
impl EventSink for Notification {
    async fn deliver(&self, request: Request<DeliverRequest>) -> Result<Response<DeliverResponse>, Status> {
        principal(&request)?.require(Access::SERVICE)?;
        let events = request.into_inner().events;
        let now = self.clock.now();
        let today = schedule::school_day(now, self.zone);
        let now = now.naive_utc();
        let announced = Arc::new(AtomicUsize::new(0));
        let counted = announced.clone();
        let accepted =
            lectern_common::outbox::consume_batch(&self.db, &self.clock, events, move |connection, event| {
                let applied = events::apply(connection, event, events::changes_for(event, today, now), now)?;
                counted.fetch_add(applied.announced, Ordering::Relaxed);
                if let Some(notice) = notices::notice_for(event, ids::new_id(), now) {
                    db::insert_notice(connection, &notice)?;
                    tracing::debug!(event.id = %event.id, notice.id = %notice.id, "notice stored");
                }
                match notices::purge_for(event) {
                    Some(Purge::Loan(loan_id)) => {
                        let count = db::delete_loan_notices(connection, &loan_id)?;
                        tracing::debug!(event.id = %event.id, loan.id = %loan_id, count, "anonymized loan's notices purged");
                    }
                    Some(Purge::Reader(reader_id)) => {
                        let count = db::delete_reader_notices(connection, &reader_id)?;
                        tracing::info!(event.id = %event.id, reader.id = %reader_id, count, "erased reader's notices purged");
                    }
                    None => {}
                }
                Ok::<(), Error>(())
            })
            .await?;
        // A batch rolled back made nothing; one that committed may have
        // made reminders to address now.
        if announced.load(Ordering::Relaxed) > 0 {
            self.planner.notify_one();
        }
        Ok(Response::new(DeliverResponse { accepted }))
    }
}
