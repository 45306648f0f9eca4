//! School calendars: reading a school's, and replacing it whole. Due days
//! of loans made later move off the days it closes; loans already made
//! keep theirs.

use chrono::SubsecRound;
use lectern_common::Error;
use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::identity::Principal;
use lectern_core::{ids, validate};
use lectern_proto::circulation::v1::{self as pb, GetSchoolCalendarRequest, SetSchoolCalendarRequest};

use crate::context::Circulation;
use crate::convert;
use crate::db::calendars::{self, StoredCalendar};
use crate::policy::calendar::SchoolCalendar;

/// The operation name under which calendar changes are remembered.
const SET_CALENDAR: &str = "circulation.SetSchoolCalendar";

/// A school's calendar: the use case behind
/// `SchoolCalendarService/GetSchoolCalendar`. Staff of the school, and
/// services (the reminder planner).
pub async fn get_school_calendar(
    circulation: &Circulation,
    caller: &Principal,
    request: GetSchoolCalendarRequest,
) -> Result<pb::SchoolCalendar, Error> {
    // Services too: notification's planner sends nothing on closed days.
    caller.require(Access::STAFF.or_services())?;
    let school_id = ids::parse_id("school_id", &request.school_id)?;
    caller.require_school(&school_id)?;
    let lookup_id = school_id.clone();
    let stored = circulation
        .db
        .run(move |connection| -> Result<_, Error> { Ok(calendars::load_calendar(connection, &lookup_id)?) })
        .await?;
    Ok(convert::calendar(&school_id, stored.as_ref()))
}

/// Replaces a school's calendar: the use case behind
/// `SchoolCalendarService/SetSchoolCalendar`. Librarians of the school and
/// district admins.
pub async fn set_school_calendar(
    circulation: &Circulation,
    caller: &Principal,
    request: SetSchoolCalendarRequest,
) -> Result<pb::SchoolCalendar, Error> {
    caller.require(Access::LIBRARIAN)?;
    let calendar = request.calendar.unwrap_or_default();
    let school_id = ids::parse_id("calendar.school_id", &calendar.school_id)?;
    caller.require_school(&school_id)?;
    let stored = StoredCalendar {
        calendar: SchoolCalendar::from_request(&calendar)?,
        updated_by: caller.subject_id.clone(),
        // Microseconds, as both databases keep them.
        updated_at: circulation.now().trunc_subsecs(6).naive_utc(),
    };
    let once = Idempotent::new(SET_CALENDAR, validate::request_id("request_id", &request.request_id)?);
    let (write_id, to_store) = (school_id.clone(), stored.clone());
    let answer = once
        .write(&circulation.db, stored.updated_at, move |connection| {
            calendars::replace_calendar(connection, &write_id, &to_store)?;
            Ok(convert::calendar(&write_id, Some(&to_store)))
        })
        .await?;
    if answer.fresh().is_some() {
        tracing::info!(
            school.id = %school_id,
            closed_weekdays = stored.calendar.closed_weekdays.len(),
            closures = stored.calendar.closures.len(),
            terms = stored.calendar.terms.len(),
            "school calendar replaced"
        );
    }
    Ok(answer.into_inner())
}
