//! `SchoolYearService`: a school's year-end promotion, previewed and
//! applied. Librarians of the school and district admins only.

use std::collections::HashMap;

use lectern_common::db::Db;
use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Principal, principal};
use lectern_core::validate;
use lectern_proto::reader::v1::school_year_service_server::SchoolYearService;
use lectern_proto::reader::v1::{YearEndPlan, YearEndRequest};
use tonic::{Request, Response, Status};

use crate::school_year::{self, YearEnd};

/// The `SchoolYearService` handlers.
#[derive(Debug, Clone)]
pub struct SchoolYears {
    pub db: Db,
    pub clock: SharedClock,
}

/// The caller and the checked request, once the caller may run year-end
/// for the school: assistants, readers and other schools' librarians may not.
fn authorize(request: &Request<YearEndRequest>) -> Result<(Principal, YearEnd), Status> {
    let caller = principal(request)?;
    caller.require(Access::LIBRARIAN)?;
    let year_end = YearEnd::from_request(request.get_ref())?;
    caller.require_school(&year_end.school_id)?;
    Ok((caller, year_end))
}

#[tonic::async_trait]
impl SchoolYearService for SchoolYears {
    async fn preview_year_end(
        &self,
        request: Request<YearEndRequest>,
    ) -> Result<Response<YearEndPlan>, Status> {
        let (_, year_end) = authorize(&request)?;
        let plan = self
            .db
            .run(move |connection| {
                let plan = school_year::read_plan(connection, &year_end)?;
                Ok::<_, crate::error::Error>(school_year::to_proto(&year_end, &plan, &HashMap::new(), false))
            })
            .await?;
        Ok(Response::new(plan))
    }

    async fn apply_year_end(
        &self,
        request: Request<YearEndRequest>,
    ) -> Result<Response<YearEndPlan>, Status> {
        let (caller, year_end) = authorize(&request)?;
        let request_id = validate::request_id("request_id", &request.get_ref().request_id)?;
        let now = self.clock.now().naive_utc();
        let plan = Idempotent::new("reader.ApplyYearEnd", request_id)
            .write(&self.db, now, move |connection| {
                school_year::apply(connection, &year_end, &caller.subject_id, now)
            })
            .await?
            .into_inner();
        Ok(Response::new(plan))
    }
}
