//! `AuditService`: the audit log, for district admins.

use chrono::DateTime;
use lectern_common::db::Db;
use lectern_core::access::Access;
use lectern_core::identity::principal;
use lectern_core::validate::{FieldError, page_size};
use lectern_core::{ids, paging, validate};
use lectern_proto::reader::v1::audit_service_server::AuditService;
use lectern_proto::reader::v1::{ListAuditEventsRequest, ListAuditEventsResponse};
use tonic::{Request, Response, Status};

use super::page;
use crate::db::{self, AuditFilter};
use crate::error::Error;

/// The `AuditService` handlers.
#[derive(Debug, Clone)]
pub struct Audit {
    pub db: Db,
}

fn time(
    field: &'static str,
    value: Option<prost_types::Timestamp>,
) -> Result<Option<chrono::NaiveDateTime>, FieldError> {
    value
        .map(|time| {
            let nanos =
                u32::try_from(time.nanos).map_err(|_| FieldError::new(field, "is not a valid time"))?;
            DateTime::from_timestamp(time.seconds, nanos)
                .map(|time| time.naive_utc())
                .ok_or_else(|| FieldError::new(field, "is not a valid time"))
        })
        .transpose()
}

#[tonic::async_trait]
impl AuditService for Audit {
    async fn list_audit_events(
        &self,
        request: Request<ListAuditEventsRequest>,
    ) -> Result<Response<ListAuditEventsResponse>, Status> {
        principal(&request)?.require(Access::DISTRICT_ADMIN)?;
        let request = request.into_inner();
        let action = validate::optional_text("action", &request.action, 64)?;
        let filter = AuditFilter {
            action: (!action.is_empty()).then_some(action),
            subject_id: optional_subject("subject_id", &request.subject_id)?,
            actor_id: optional_subject("actor_id", &request.actor_id)?,
            since: time("since", request.since)?,
            until: time("until", request.until)?,
        };
        let limit = page_size("page_size", request.page_size, 50, 500)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::audit::list_events(connection, &filter, offset, limit + 1)?)
            })
            .await?;
        let (rows, next_page_token) = page(rows, offset, limit);
        Ok(Response::new(ListAuditEventsResponse {
            events: rows.into_iter().map(crate::audit::to_proto).collect(),
            next_page_token,
        }))
    }
}

/// An account id, or `service:<name>`; empty means any.
fn optional_subject(field: &'static str, value: &str) -> Result<Option<String>, FieldError> {
    match value.strip_prefix("service:") {
        Some(service) if !service.is_empty() && service.chars().all(|c| c.is_ascii_lowercase()) => {
            Ok(Some(value.to_owned()))
        }
        Some(_) => Err(FieldError::new(field, "is not an account id or service:<name>")),
        None => ids::parse_optional_id(field, value),
    }
}
