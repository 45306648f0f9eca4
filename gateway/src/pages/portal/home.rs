//! `GET /portal`: the reader's home — "我的借阅": the books they have,
//! soonest due first with the days left (overdue ones flagged), the holds
//! waiting for them on the hold shelf, how many notices are new, the
//! search box, and, for a parent who came through WeChat with more than
//! one child, the switcher. One summary call (`GetReaderSummary`, the
//! reader's own) and one list of notices.

use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use http::StatusCode;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{GetReaderSummaryRequest, HoldStatus, ReaderSummary};
use lectern_proto::notification::v1::ListNoticesRequest;
use lectern_proto::notification::v1::notification_service_client::NotificationServiceClient;
use serde::Deserialize;
use tonic::Status;

use super::Portal;
use super::views::HomePage;
use super::words::{SEEN_COOKIE, hold_row, loan_rows, seen_at};
use crate::http::Edge;
use crate::http::session::cookie;
use crate::pages::Visit;
use crate::pages::views::Notice;

/// `GET /portal?done=…`: `done` names what was just done, for the notice.
#[derive(Debug, Default, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    pub done: String,
}

/// The notice for `done` (only the portal's own words, never the address's).
pub fn done_notice(portal: &Portal, done: &str) -> Option<Notice> {
    match done {
        "bound" => Some(Notice::success(portal.text("portal.done.bound"))),
        "switched" => Some(Notice::success(portal.text("portal.done.switched"))),
        _ => None,
    }
}

/// Today in the district's time zone.
pub fn today(edge: &Edge) -> NaiveDate {
    edge.clock().now().with_timezone(&edge.config().time_zone).date_naive()
}

/// The signed-in reader's own summary.
pub async fn own_summary(edge: &Edge, portal: &Portal) -> Result<ReaderSummary, Status> {
    let request =
        GetReaderSummaryRequest { reader_card_barcode: String::new(), reader_id: portal.reader_id() };
    Ok(LoanServiceClient::new(edge.calls())
        .get_reader_summary(portal.request(edge, request))
        .await?
        .into_inner())
}

/// `GET /portal`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<HomeQuery>) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let lang = portal.visit.lang;
    let mut shell = portal.shell("home");
    shell.notice = done_notice(&portal, &query.done);
    let (summary, failed) = match own_summary(&edge, &portal).await {
        Ok(summary) => (summary, false),
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), "the portal cannot read a reader's summary");
            shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
            (ReaderSummary::default(), true)
        }
    };
    let zone = edge.config().time_zone;
    let holds: Vec<_> = summary.holds.iter().map(|hold| hold_row(lang, hold, zone)).collect();
    let page = HomePage {
        shell,
        switches: portal.switches(),
        loans: loan_rows(lang, &summary.loans, today(&edge)),
        holds_waiting: summary
            .holds
            .iter()
            .filter(|hold| {
                matches!(HoldStatus::try_from(hold.status), Ok(HoldStatus::Waiting | HoldStatus::InTransit))
            })
            .count(),
        holds_ready: holds.into_iter().filter(|hold| hold.ready).collect(),
        unread: unread(&edge, &portal).await,
        blocks: summary
            .blocks
            .iter()
            .map(|block| crate::pages::i18n::reason_named(lang, &block.reason).to_owned())
            .collect(),
        failed,
    };
    portal.finish(&edge, &page, StatusCode::OK)
}

/// How many of the reader's notices came after they last looked at them
/// in this browser (the services keep no "read" mark).
async fn unread(edge: &Edge, portal: &Portal) -> usize {
    let request = ListNoticesRequest {
        reader_id: portal.reader_id(),
        language: portal.visit.lang.tag().to_owned(),
        page_size: 50,
        page_token: String::new(),
    };
    let seen = seen_at(cookie(&portal.visit.headers, SEEN_COOKIE), &portal.principal.subject_id);
    match NotificationServiceClient::new(edge.calls()).list_notices(portal.request(edge, request)).await {
        Ok(answer) => answer
            .into_inner()
            .notices
            .iter()
            .filter(|notice| notice.create_time.as_ref().is_some_and(|time| time.seconds > seen))
            .count(),
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), "the portal cannot count a reader's notices");
            0
        }
    }
}
