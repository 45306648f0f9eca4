//! `lectern.circulation.v1.SchoolCalendarService`.

use lectern_core::identity::principal;
use lectern_proto::circulation::v1::school_calendar_service_server::SchoolCalendarService;
use lectern_proto::circulation::v1::{GetSchoolCalendarRequest, SchoolCalendar, SetSchoolCalendarRequest};
use tonic::{Request, Response, Status};

use crate::calendars;
use crate::context::Circulation;

#[tonic::async_trait]
impl SchoolCalendarService for Circulation {
    async fn get_school_calendar(
        &self,
        request: Request<GetSchoolCalendarRequest>,
    ) -> Result<Response<SchoolCalendar>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(calendars::get_school_calendar(self, &caller, request.into_inner()).await?))
    }

    async fn set_school_calendar(
        &self,
        request: Request<SetSchoolCalendarRequest>,
    ) -> Result<Response<SchoolCalendar>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(calendars::set_school_calendar(self, &caller, request.into_inner()).await?))
    }
}
