//! The home-screen lists of the portal and the kiosk: a school's new
//! arrivals (copies added recently and available) and its popular titles
//! (check-outs over the last days, per grade if asked), both answered from
//! the catalog's own tables without calling circulation.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use lectern_core::identity::principal;
use lectern_core::ids;
use lectern_core::validate::{FieldError, page_size};
use lectern_proto::catalog::v1 as pb;
use lectern_proto::catalog::v1::discovery_service_server::DiscoveryService;
use tonic::{Request, Response, Status};

use crate::db::{self, TitleRow};
use crate::grpc::Catalog;
use crate::search::MAX_GRADE;
use crate::titles::{self, TitleRecord};
use lectern_common::Error;

/// Days a list looks back by default.
pub const DEFAULT_DAYS: i64 = 30;
/// Longest look-back, in days.
pub const MAX_DAYS: i64 = 365;

/// A list's look-back: `days` (0 for the default) before `now`.
pub fn since(field: &'static str, days: i32, now: NaiveDateTime) -> Result<NaiveDateTime, FieldError> {
    let days = match i64::from(days) {
        0 => DEFAULT_DAYS,
        days if (1..=MAX_DAYS).contains(&days) => days,
        _ => return Err(FieldError::new(field, format!("must be 1 to {MAX_DAYS} (0 for {DEFAULT_DAYS})"))),
    };
    Ok(now - Duration::days(days))
}

/// An optional grade filter, 0 (kindergarten) to 12.
pub fn grade(field: &'static str, grade: Option<i32>) -> Result<Option<i32>, FieldError> {
    match grade {
        Some(grade) if !(0..=MAX_GRADE).contains(&grade) => {
            Err(FieldError::new(field, format!("must be 0 (kindergarten) to {MAX_GRADE}")))
        }
        grade => Ok(grade),
    }
}

/// Loads titles with their contributors in the order of `ids` (ids whose
/// title is gone are skipped).
fn ordered_titles(
    connection: &mut lectern_common::db::DbConnection,
    ids: &[String],
) -> diesel::QueryResult<Vec<TitleRecord>> {
    let rows: Vec<TitleRow> = db::titles_by_ids(connection, ids)?;
    let mut by_id: HashMap<String, TitleRecord> =
        titles::with_contributors(connection, rows)?.into_iter().map(|r| (r.row.id.clone(), r)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

#[tonic::async_trait]
impl DiscoveryService for Catalog {
    async fn list_new_arrivals(
        &self,
        request: Request<pb::ListNewArrivalsRequest>,
    ) -> Result<Response<pb::ListNewArrivalsResponse>, Status> {
        // Open to anyone signed in: a home screen for readers and kiosks.
        principal(&request)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let since = since("days", request.days, self.clock.now().naive_utc())?;
        let grade = grade("audience_grade", request.audience_grade)?;
        let limit = page_size("page_size", request.page_size, 20, 100)?;
        let titles = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let arrivals = db::new_arrivals(connection, &school_id, since, grade, limit)?;
                let ids: Vec<String> = arrivals.iter().map(|(id, _, _)| id.clone()).collect();
                let records = ordered_titles(connection, &ids)?;
                let by_id: HashMap<&str, (Option<NaiveDateTime>, i64)> =
                    arrivals.iter().map(|(id, at, copies)| (id.as_str(), (*at, *copies))).collect();
                Ok(records
                    .iter()
                    .map(|record| {
                        let (arrived_at, copies) =
                            by_id.get(record.row.id.as_str()).copied().unwrap_or_default();
                        pb::NewArrival {
                            title: Some(titles::to_proto(record)),
                            arrived_at: arrived_at.map(lectern_core::time::timestamp),
                            copies: i32::try_from(copies).unwrap_or(i32::MAX),
                        }
                    })
                    .collect())
            })
            .await?;
        Ok(Response::new(pb::ListNewArrivalsResponse { titles }))
    }

    async fn list_popular_titles(
        &self,
        request: Request<pb::ListPopularTitlesRequest>,
    ) -> Result<Response<pb::ListPopularTitlesResponse>, Status> {
        // Open to anyone signed in: a home screen for readers and kiosks.
        principal(&request)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let since = since("days", request.days, self.clock.now().naive_utc())?;
        let grade = grade("grade", request.grade)?;
        let limit = page_size("page_size", request.page_size, 20, 100)?;
        let titles = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let counts = db::popular_titles(connection, &school_id, since, grade, limit)?;
                let ids: Vec<String> = counts.iter().map(|(id, _)| id.clone()).collect();
                let records = ordered_titles(connection, &ids)?;
                let by_id: HashMap<&str, i64> =
                    counts.iter().map(|(id, count)| (id.as_str(), *count)).collect();
                Ok(records
                    .iter()
                    .map(|record| pb::PopularTitle {
                        title: Some(titles::to_proto(record)),
                        checkouts: i32::try_from(by_id.get(record.row.id.as_str()).copied().unwrap_or(0))
                            .unwrap_or(i32::MAX),
                    })
                    .collect())
            })
            .await?;
        Ok(Response::new(pb::ListPopularTitlesResponse { titles }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_back_and_grade_are_checked() {
        let now = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap().naive_utc();
        assert_eq!(since("days", 0, now).unwrap(), now - Duration::days(30));
        assert_eq!(since("days", 7, now).unwrap(), now - Duration::days(7));
        assert_eq!(since("days", 366, now).unwrap_err().to_string(), "days: must be 1 to 365 (0 for 30)");
        assert!(since("days", -1, now).is_err());
        assert_eq!(grade("grade", Some(0)), Ok(Some(0)));
        assert_eq!(grade("grade", None), Ok(None));
        assert!(grade("grade", Some(13)).is_err());
    }
}
