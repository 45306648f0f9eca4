//! A school library's numbers at a glance, for its home page: the day's
//! loans and returns, what is out and overdue now, the hold shelf, the pull
//! list and the copies travelling. Counted in the database when asked,
//! except the pull list, which only the catalog's shelves can tell
//! (`holds::pull_list`, the same list the desk pulls from).

use lectern_common::Error;
use lectern_core::access::Access;
use lectern_core::identity::Principal;
use lectern_core::ids;
use lectern_proto::circulation::v1::{DeskStatistics, GetDeskStatisticsRequest};

use crate::context::Circulation;
use crate::db::statistics::{self, DeskCounts};
use crate::holds;
use crate::policy::calendar::day_text;
use crate::policy::due::{local_date, local_days};

/// A school's numbers now: the use case behind
/// `LoanService/GetDeskStatistics`. Staff of the school.
pub async fn get_desk_statistics(
    circulation: &Circulation,
    caller: &Principal,
    request: GetDeskStatisticsRequest,
) -> Result<DeskStatistics, Error> {
    caller.require(Access::STAFF)?;
    let school_id = ids::parse_id("school_id", &request.school_id)?;
    caller.require_school(&school_id)?;
    let now = circulation.now();
    let today = local_date(now, circulation.time_zone);
    let (from, before) = local_days(today, today, circulation.time_zone);
    let counted_school = school_id.clone();
    let counts = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(statistics::desk_counts(
                connection,
                &counted_school,
                (from.naive_utc(), before.naive_utc()),
                now.naive_utc(),
            )?)
        })
        .await?;
    let to_pull = holds::pull_list(circulation, &school_id).await?.len();
    Ok(wire(school_id, day_text(today), counts, to_pull))
}

/// The answer, with counts clamped to what the wire carries.
fn wire(school_id: String, day: String, counts: DeskCounts, to_pull: usize) -> DeskStatistics {
    let count = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    DeskStatistics {
        school_id,
        day,
        loans_today: count(counts.loans_today),
        returns_today: count(counts.returns_today),
        on_loan: count(counts.on_loan),
        overdue: count(counts.overdue),
        holds_ready: count(counts.holds_ready),
        holds_to_pull: i32::try_from(to_pull).unwrap_or(i32::MAX),
        in_transit_to: count(counts.in_transit_to),
        in_transit_from: count(counts.in_transit_from),
    }
}
