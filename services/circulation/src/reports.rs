//! Reading reports: a school's loans over a date range from circulation's
//! snapshots, and the readers in scope now from the reader service (for the
//! active-reader rate); the counting is `policy::reports`.

use std::collections::HashSet;

use lectern_common::Error;
use lectern_core::access::Access;
use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::identity::Principal;
use lectern_core::{ids, validate};
use lectern_proto::circulation::v1::{GetReadingReportRequest, ReadingReport};
use lectern_proto::reader::v1::{ListReadersRequest, ReaderStatus};

use crate::context::Circulation;
use crate::db;
use crate::policy::reports;

/// Most pages of readers read for the population (500 each).
const MAX_READER_PAGES: usize = 200;

/// A school's reading report: the use case behind
/// `LoanService/GetReadingReport`. Staff of the school.
pub async fn get_reading_report(
    circulation: &Circulation,
    caller: &Principal,
    request: GetReadingReportRequest,
) -> Result<ReadingReport, Error> {
    caller.require(Access::STAFF)?;
    let school_id = ids::parse_id("school_id", &request.school_id)?;
    caller.require_school(&school_id)?;
    let (_, _, start, end) = reports::range(&request.from_date, &request.to_date, circulation.time_zone)?;
    let grade = match request.grade {
        0 => None,
        grade @ 1..=12 => Some(grade),
        _ => return Err(validate::FieldError::new("grade", "must be 0 (all) or 1 to 12").into()),
    };
    let class_id = ids::parse_optional_id("class_id", &request.class_id)?;
    let top = match request.top_titles {
        0 => 10,
        top @ 1..=100 => top as usize,
        _ => return Err(validate::FieldError::new("top_titles", "must be from 1 to 100").into()),
    };
    let (query_school, query_class) = (school_id.clone(), class_id.clone());
    let rows = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(db::loans_for_report(
                connection,
                &query_school,
                start.naive_utc(),
                end.naive_utc(),
                grade,
                query_class.as_deref(),
            )?)
        })
        .await?;
    let population =
        readers_in_scope(circulation, &caller.token, &school_id, class_id.as_deref(), grade).await?;
    Ok(reports::aggregate(&rows, circulation.time_zone, top, &population))
}

/// The active readers of a school (or class, or grade) now, by id.
async fn readers_in_scope(
    circulation: &Circulation,
    bearer: &str,
    school_id: &str,
    class_id: Option<&str>,
    grade: Option<i32>,
) -> Result<HashSet<String>, Error> {
    let mut readers = circulation.readers.clone();
    let mut ids = HashSet::new();
    let mut page_token = String::new();
    for _ in 0..MAX_READER_PAGES {
        let call = with_bearer(
            ListReadersRequest {
                school_id: school_id.to_owned(),
                class_id: class_id.unwrap_or_default().to_owned(),
                page_size: 500,
                page_token: page_token.clone(),
            },
            bearer,
            circulation.call_timeout,
        );
        let page = readers
            .list_readers(call)
            .await
            .map_err(|status| Error::Dependency(dependency_status("reader", status)))?
            .into_inner();
        ids.extend(
            page.readers
                .into_iter()
                .filter(|reader| reader.status() == ReaderStatus::Active)
                .filter(|reader| grade.is_none_or(|grade| reader.grade == grade))
                .map(|reader| reader.id),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(ids)
}
