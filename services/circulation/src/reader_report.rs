//! One reader's own reading report (`LoanService/GetReaderReadingReport`):
//! what the portal's "my reading" page and a librarian show a child and a
//! parent. The loans come from circulation's snapshots; the counting is
//! `policy::reader_report`.

use lectern_common::Error;
use lectern_core::access::Access;
use lectern_core::identity::{Principal, SubjectKind};
use lectern_core::ids;
use lectern_proto::circulation::v1::{GetReaderReadingReportRequest, ReaderReadingReport};

use crate::context::Circulation;
use crate::db::reports::loans_of_reader_for_report;
use crate::policy::due::local_date;
use crate::policy::reader_report;

/// A reader's reading report. The reader themself (also when signed in
/// through a family's WeChat account: the token names one reader), and
/// staff of the reader's school, who see the loans made at their schools
/// as for `ListLoans`.
pub async fn get_reader_reading_report(
    circulation: &Circulation,
    caller: &Principal,
    request: GetReaderReadingReportRequest,
) -> Result<ReaderReadingReport, Error> {
    caller.require(Access::STAFF.or_readers())?;
    let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
    caller.require_self_or_staff(&reader_id)?;
    let zone = circulation.time_zone;
    let today = local_date(circulation.now(), zone);
    let (from_day, to_day, start, end) =
        reader_report::range(&request.from_date, &request.to_date, today, zone)?;
    if caller.kind != SubjectKind::Reader {
        // Staff's own token, so the reader service checks their schools;
        // then the reader's school must be one of them, as at the desk.
        let reader = circulation.reader_by_id(&caller.token, reader_id.clone()).await?;
        caller.require_school(&reader.school_id)?;
    }
    let schools = caller.schools_for_reader_records();
    let rows = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(loans_of_reader_for_report(
                connection,
                &reader_id,
                start.naive_utc(),
                end.naive_utc(),
                schools.as_deref(),
            )?)
        })
        .await?;
    Ok(reader_report::aggregate(&rows, zone, from_day, to_day))
}
