//! `/portal/report`: "my reading report" — what the reader borrowed over
//! the last year (`LoanService/GetReaderReadingReport`, their own): how
//! many books, per month and per kind of book, and the titles. Bars are
//! plain boxes of a width, no chart script.

use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use lectern_proto::circulation::v1::GetReaderReadingReportRequest;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;

use super::Portal;
use super::views::{ReadRow, ReportPage};
use super::words::bars;
use crate::http::Edge;
use crate::pages::Visit;
use crate::pages::format::{day, day_with_year};
use crate::pages::i18n::{Catalogue, format};
use crate::pages::views::Notice;

/// `GET /portal/report`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let lang = portal.visit.lang;
    let mut page = ReportPage { shell: portal.shell("report"), ..ReportPage::default() };
    let request = GetReaderReadingReportRequest {
        reader_id: portal.reader_id(),
        from_date: String::new(),
        to_date: String::new(),
    };
    let report = match LoanServiceClient::new(edge.calls())
        .get_reader_reading_report(portal.request(&edge, request))
        .await
    {
        Ok(report) => report.into_inner(),
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), "the portal cannot read a reader's reading report");
            page.failed = true;
            page.shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
            return portal.finish(&edge, &page, StatusCode::OK);
        }
    };
    page.range = format(
        lang,
        "portal.report.range",
        &[("from", &day_with_year(lang, &report.from_date)), ("to", &day_with_year(lang, &report.to_date))],
    );
    page.total = format(
        lang,
        "portal.report.total",
        &[("loans", &report.loans.to_string()), ("titles", &report.titles.to_string())],
    );
    page.months =
        bars(report.months.iter().map(|month| (month_name(lang, &month.month), month.loans)).collect());
    page.classes = bars(
        report.classifications.iter().map(|class| (class_name(lang, &class.class), class.loans)).collect(),
    );
    page.read = report
        .titles_read
        .iter()
        .map(|read| ReadRow {
            title: read.title.clone(),
            title_id: read.title_id.clone(),
            detail: format(
                lang,
                "portal.report.read_line",
                &[("day", &day(lang, &read.last_borrowed_on)), ("times", &read.times.to_string())],
            ),
        })
        .collect();
    portal.finish(&edge, &page, StatusCode::OK)
}

/// "2026-03" as "2026年3月" / "March 2026"; the text itself if it is not a month.
pub fn month_name(lang: crate::pages::i18n::Lang, month: &str) -> String {
    let Some((year, number)) = month.split_once('-') else { return month.to_owned() };
    let Ok(number) = number.parse::<u32>() else { return month.to_owned() };
    let id = format!("time.month.{number}");
    let name = crate::pages::i18n::text(lang, &id).to_owned();
    format(lang, "portal.report.month", &[("year", year), ("month", &name)])
}

/// A main class of the classification (中图法 letter) in words; "" is
/// books without a call number.
pub fn class_name(lang: crate::pages::i18n::Lang, class: &str) -> String {
    let letter = class.trim().chars().next().map(|c| c.to_ascii_uppercase().to_string()).unwrap_or_default();
    if letter.is_empty() {
        return crate::pages::i18n::text(lang, "portal.report.class.none").to_owned();
    }
    match Catalogue::get().text(lang, &format!("portal.report.class.{letter}")) {
        Some(name) => name.to_owned(),
        None => letter,
    }
}
