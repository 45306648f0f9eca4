//! `/portal/notices`: what the library told the reader (receipts,
//! reminders, holds ready), newest first, in the page's language. The
//! notification service keeps no "read" mark, so this browser remembers
//! the newest notice the reader saw here ([`super::words::SEEN_COOKIE`]),
//! and the home page counts what came after.

use axum::extract::State;
use axum::response::Response;
use http::header::SET_COOKIE;
use http::{HeaderValue, StatusCode};
use lectern_proto::notification::v1::notification_service_client::NotificationServiceClient;
use lectern_proto::notification::v1::{ListNoticesRequest, NoticeKind};

use super::Portal;
use super::views::{NoticeRow, NoticesPage};
use super::words::{SEEN_COOKIE, seen_at, seen_value};
use crate::http::Edge;
use crate::http::session::cookie;
use crate::pages::Visit;
use crate::pages::format::moment;
use crate::pages::views::Notice;

/// `GET /portal/notices`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let lang = portal.visit.lang;
    let mut shell = portal.shell("notices");
    let request = ListNoticesRequest {
        reader_id: portal.reader_id(),
        language: lang.tag().to_owned(),
        page_size: 50,
        page_token: String::new(),
    };
    let sent = cookie(&portal.visit.headers, SEEN_COOKIE);
    let seen = seen_at(sent, &portal.principal.subject_id);
    let notices =
        match NotificationServiceClient::new(edge.calls()).list_notices(portal.request(&edge, request)).await
        {
            Ok(answer) => answer.into_inner().notices,
            Err(failure) => {
                shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
                Vec::new()
            }
        };
    let zone = edge.config().time_zone;
    let newest =
        notices.iter().filter_map(|notice| notice.create_time.as_ref()).map(|time| time.seconds).max();
    let rows = notices
        .iter()
        .map(|notice| NoticeRow {
            heading: heading(&portal, notice.kind, &notice.subject, &notice.title),
            message: notice.message.clone(),
            when: moment(lang, notice.create_time.as_ref(), zone),
            unread: notice.create_time.as_ref().is_some_and(|time| time.seconds > seen),
        })
        .collect();
    let page = NoticesPage { shell, notices: rows };
    let mut response = portal.finish(&edge, &page, StatusCode::OK);
    if let Some(newest) = newest.filter(|newest| *newest > seen) {
        let value = seen_value(sent, &portal.principal.subject_id, newest);
        let secure = if edge.config().secure_cookies { "; Secure" } else { "" };
        let cookie = format!(
            "{SEEN_COOKIE}={value}; Path=/portal; Max-Age=31536000; HttpOnly; SameSite=Strict{secure}"
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// A notice's heading: the school's subject line, else what kind it is.
fn heading(portal: &Portal, kind: i32, subject: &str, title: &str) -> String {
    if !subject.is_empty() {
        return subject.to_owned();
    }
    let id = match NoticeKind::try_from(kind).unwrap_or(NoticeKind::Unspecified) {
        NoticeKind::CheckoutReceipt => "portal.notices.kind.checkout",
        NoticeKind::CheckinReceipt => "portal.notices.kind.checkin",
        NoticeKind::RenewalReceipt => "portal.notices.kind.renewal",
        NoticeKind::HoldReady | NoticeKind::HoldExpiring => "portal.notices.kind.hold",
        NoticeKind::DueSoon | NoticeKind::DueToday => "portal.notices.kind.due",
        NoticeKind::Overdue => "portal.notices.kind.overdue",
        NoticeKind::FeeCharged | NoticeKind::LoanLost => "portal.notices.kind.fee",
        NoticeKind::Unspecified => "portal.notices.kind.other",
    };
    let kind = portal.text(id);
    if title.is_empty() {
        kind
    } else {
        crate::pages::i18n::format(
            portal.visit.lang,
            "portal.notices.about",
            &[("kind", &kind), ("title", title)],
        )
    }
}
