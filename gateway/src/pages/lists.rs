//! `/lists`: the desk's printable lists for the school it stands in —
//! overdue books (`/lists/overdue`), books falling due soon
//! (`/lists/due-soon`), both again one page per homeroom for the class
//! teachers (`/lists/homeroom`), the holds to pull from the shelves
//! (`/lists/pull`), the books waiting on the hold shelf for their readers
//! (`/lists/hold-shelf`, [`hold_shelf`]) and the copies travelling to and
//! from the school (`/lists/transits`).
//!
//! Each list is one call to circulation (followed page by page up to
//! [`MAX_ROWS`], and the page says when it stopped there), plus the
//! readers' names from the reader service ([`names`]). Nothing here decides
//! what is overdue or what to pull: the services' answers are shown as
//! they come, in their order, except the homeroom view, which regroups the
//! same rows by class ([`by_homeroom`]).

mod hold_shelf;
mod names;
#[cfg(test)]
mod tests;
mod views;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use http::StatusCode;
use lectern_proto::circulation::v1::hold_service_client::HoldServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{
    ListOverdueLoansRequest, ListPullListRequest, ListTransitsRequest, Loan, TransitDirection, TransitReason,
};
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{Class, ListClassesRequest};
use serde::Deserialize;
use tonic::Status;

use super::school::{Desk, Section};
use super::signin::{refusal_text, status_of};
use super::views::FieldMessage;
use super::{format, render};
use crate::http::Edge;
pub use hold_shelf::{Expiry, HoldShelfPage, HoldShelfRow};
pub use views::{
    ClassChoice, DueSoonPage, Homeroom, HomeroomPage, IndexPage, ListHead, LoanList, LoanRow, OverduePage,
    PullPage, PullRow, ReaderBooks, TransitRow, TransitsPage,
};

/// The most rows a list shows; past it the page says the list was cut.
pub const MAX_ROWS: usize = 2_000;
/// Rows asked for per call (the services' maximum).
const PAGE_SIZE: i32 = 500;
/// Days ahead the due-soon lists look by default, and at most.
const DEFAULT_DAYS: i32 = 3;
const MAX_DAYS: i32 = 60;

/// The routes of the lists.
pub fn routes() -> Router<Edge> {
    Router::new()
        .route("/lists", get(index))
        .route("/lists/overdue", get(overdue))
        .route("/lists/due-soon", get(due_soon))
        .route("/lists/homeroom", get(homeroom))
        .route("/lists/pull", get(pull))
        .route("/lists/hold-shelf", get(hold_shelf::show))
        .route("/lists/transits", get(transits))
}

/// The query of the loan lists. Everything is text, so that odd input gets
/// a sentence on the page rather than the framework's bare 400.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// One class only (its id); empty for the whole school.
    #[serde(default)]
    class: String,
    /// Due-soon lists: days ahead, 1–60.
    #[serde(default)]
    days: Option<String>,
    /// Homeroom view: `overdue` or `due-soon`.
    #[serde(default)]
    kind: String,
}

/// Opens the desk or answers with where to go first.
macro_rules! open_desk {
    ($edge:expr, $visit:expr) => {
        match Desk::open(&$edge, $visit).await {
            Ok(desk) => desk,
            Err(response) => return response,
        }
    };
}

/// `GET /lists`: what the lists are, one link each.
async fn index(State(edge): State<Edge>, visit: super::Visit) -> Response {
    let desk = open_desk!(edge, visit);
    let page =
        IndexPage { shell: desk.shell(Section::Lists), errors: Vec::new(), school: desk.school.name.clone() };
    desk.visit.finish(&edge, render(&page, StatusCode::OK))
}

/// `GET /lists/overdue?class=…`.
async fn overdue(State(edge): State<Edge>, visit: super::Visit, Query(query): Query<ListQuery>) -> Response {
    let desk = open_desk!(edge, visit);
    let (list, status) = loan_list(&edge, &desk, &query.class, 0).await;
    let page = OverduePage { shell: desk.shell(Section::Lists), errors: list.errors.clone(), list };
    desk.visit.finish(&edge, render(&page, status))
}

/// `GET /lists/due-soon?days=3&class=…`.
async fn due_soon(State(edge): State<Edge>, visit: super::Visit, Query(query): Query<ListQuery>) -> Response {
    let desk = open_desk!(edge, visit);
    let typed = query.days.clone().unwrap_or_default();
    let (list, status) = match parse_days(query.days.as_deref()) {
        Some(days) => loan_list(&edge, &desk, &query.class, days).await,
        None => refused_list(&edge, &desk, &query.class, "days", "lists.days_invalid").await,
    };
    let days = if typed.is_empty() { DEFAULT_DAYS.to_string() } else { typed };
    let page = DueSoonPage { shell: desk.shell(Section::Lists), errors: list.errors.clone(), list, days };
    desk.visit.finish(&edge, render(&page, status))
}

/// `GET /lists/homeroom?kind=overdue|due-soon&days=…&class=…`: the same
/// rows, one printed page per class.
async fn homeroom(State(edge): State<Edge>, visit: super::Visit, Query(query): Query<ListQuery>) -> Response {
    let desk = open_desk!(edge, visit);
    let due_soon = query.kind == "due-soon";
    let typed = query.days.clone().unwrap_or_default();
    let (list, status) = match (query.kind.as_str(), parse_days(query.days.as_deref())) {
        ("" | "overdue", _) => loan_list(&edge, &desk, &query.class, 0).await,
        ("due-soon", Some(days)) => loan_list(&edge, &desk, &query.class, days).await,
        ("due-soon", None) => refused_list(&edge, &desk, &query.class, "days", "lists.days_invalid").await,
        _ => refused_list(&edge, &desk, &query.class, "", "lists.kind_invalid").await,
    };
    let groups = by_homeroom(list.rows.clone());
    let days = if typed.is_empty() { DEFAULT_DAYS.to_string() } else { typed };
    let page = HomeroomPage {
        shell: desk.shell(Section::Lists),
        errors: list.errors.clone(),
        list,
        groups,
        due_soon,
        days,
    };
    desk.visit.finish(&edge, render(&page, status))
}

/// `GET /lists/pull`: holds to pull from this school's shelves.
async fn pull(State(edge): State<Edge>, visit: super::Visit) -> Response {
    let desk = open_desk!(edge, visit);
    let mut head = ListHead::of(&edge, &desk);
    let request = ListPullListRequest { school_id: desk.school.id.clone() };
    let (rows, errors, status) =
        match HoldServiceClient::new(edge.calls()).list_pull_list(desk.request(&edge, request)).await {
            Ok(answer) => {
                let mut entries = answer.into_inner().entries;
                head.cut = entries.len() > MAX_ROWS;
                entries.truncate(MAX_ROWS);
                let rows = entries
                    .into_iter()
                    .map(|entry| PullRow {
                        location: entry.location_name,
                        call_number: entry.call_number,
                        title: entry.title,
                        barcode: entry.copy_barcode,
                        pickup: desk.school_name(&entry.pickup_school_id),
                    })
                    .collect();
                (rows, Vec::new(), StatusCode::OK)
            }
            Err(status) => failed(&desk, &status),
        };
    head.loaded = errors.is_empty();
    let page = PullPage { shell: desk.shell(Section::Lists), errors, head, rows };
    desk.visit.finish(&edge, render(&page, status))
}

/// `GET /lists/transits`: copies coming here and going out, in one list
/// from the service split by direction.
async fn transits(State(edge): State<Edge>, visit: super::Visit) -> Response {
    let desk = open_desk!(edge, visit);
    let lang = desk.visit.lang;
    let zone = edge.config().time_zone;
    let mut head = ListHead::of(&edge, &desk);
    let mut client = LoanServiceClient::new(edge.calls());
    let mut transits = Vec::new();
    let mut page_token = String::new();
    let mut failure = None;
    loop {
        let request = ListTransitsRequest {
            school_id: desk.school.id.clone(),
            direction: TransitDirection::Unspecified.into(),
            include_received: false,
            page_size: PAGE_SIZE,
            page_token,
        };
        match client.list_transits(desk.request(&edge, request)).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                transits.extend(answer.transits);
                if answer.next_page_token.is_empty() {
                    break;
                }
                if transits.len() >= MAX_ROWS {
                    head.cut = true;
                    break;
                }
                page_token = answer.next_page_token;
            }
            Err(status) => {
                failure = Some(status);
                break;
            }
        }
    }
    let (mut incoming, mut outgoing) = (Vec::new(), Vec::new());
    for transit in transits {
        let coming = transit.to_school_id == desk.school.id;
        let reason = match TransitReason::try_from(transit.reason) {
            Ok(TransitReason::Hold) => desk.text("lists.transits.for_hold"),
            Ok(TransitReason::Home) => desk.text("lists.transits.home"),
            _ => String::new(),
        };
        let row = TransitRow {
            title: transit.title,
            barcode: transit.copy_barcode,
            school: desk.school_name(if coming { &transit.from_school_id } else { &transit.to_school_id }),
            since: format::moment(lang, transit.start_time.as_ref(), zone),
            reason,
        };
        if coming { incoming.push(row) } else { outgoing.push(row) }
    }
    let (errors, status) = match failure {
        Some(status) => {
            let (_, errors, code) = failed::<TransitRow>(&desk, &status);
            (errors, code)
        }
        None => (Vec::new(), StatusCode::OK),
    };
    head.loaded = errors.is_empty();
    let page = TransitsPage { shell: desk.shell(Section::Lists), errors, head, incoming, outgoing };
    desk.visit.finish(&edge, render(&page, status))
}

/// `days` of a due-soon list: 1–60, the default when not given.
pub fn parse_days(typed: Option<&str>) -> Option<i32> {
    let typed = typed.map(str::trim).unwrap_or_default();
    if typed.is_empty() {
        return Some(DEFAULT_DAYS);
    }
    if typed.len() > 2 || !typed.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    typed.parse().ok().filter(|days| (1..=MAX_DAYS).contains(days))
}

/// An overdue list (`within_days` 0) or a due-soon list, with the class
/// choices and the readers' names; the HTTP status to answer with.
async fn loan_list(edge: &Edge, desk: &Desk, class: &str, within_days: i32) -> (LoanList, StatusCode) {
    let mut list = LoanList { head: ListHead::of(edge, desk), ..LoanList::default() };
    let classes = match classes_of(edge, desk).await {
        Ok(classes) => classes,
        Err(status) => return failed_list(desk, list, &status),
    };
    list.classes = ClassChoice::all(&classes, class);
    if !class.is_empty() && !classes.iter().any(|known| known.id == class) {
        list.errors.push(FieldMessage::field("class", desk.text("lists.class_unknown")));
        return (list, StatusCode::BAD_REQUEST);
    }
    list.class = class.to_owned();
    list.class_name =
        classes.iter().find(|known| known.id == class).map(|c| c.name.clone()).unwrap_or_default();
    let (loans, cut) = match loans_due(edge, desk, class, within_days).await {
        Ok(loans) => loans,
        Err(status) => return failed_list(desk, list, &status),
    };
    let readers =
        names::readers_of(edge, desk, loans.iter().map(|loan| loan.reader_id.as_str()), class).await;
    let today = today(edge);
    list.rows = loans
        .into_iter()
        .map(|loan| {
            let reader = readers.get(&loan.reader_id);
            LoanRow::of(desk.visit.lang, &loan, reader, today, within_days == 0)
        })
        .collect();
    list.head.cut = cut;
    list.head.loaded = true;
    (list, StatusCode::OK)
}

/// A loan list refused before asking for loans (bad input): the class
/// choices still show, with the message on `field`.
async fn refused_list(
    edge: &Edge,
    desk: &Desk,
    class: &str,
    field: &str,
    id: &str,
) -> (LoanList, StatusCode) {
    let mut list =
        LoanList { head: ListHead::of(edge, desk), class: class.to_owned(), ..LoanList::default() };
    if let Ok(classes) = classes_of(edge, desk).await {
        list.classes = ClassChoice::all(&classes, class);
    }
    let text = desk.text(id);
    list.errors.push(if field.is_empty() {
        FieldMessage::summary(text)
    } else {
        FieldMessage::field(field, text)
    });
    (list, StatusCode::BAD_REQUEST)
}

fn failed_list(desk: &Desk, mut list: LoanList, status: &Status) -> (LoanList, StatusCode) {
    let (_, errors, code) = failed::<LoanRow>(desk, status);
    list.errors = errors;
    (list, code)
}

/// The answer to a failed call: no rows, the catalogue's sentence, the
/// HTTP status of the gRPC code.
fn failed<T>(desk: &Desk, status: &Status) -> (Vec<T>, Vec<FieldMessage>, StatusCode) {
    tracing::warn!(code = ?status.code(), "a desk list cannot be read");
    (Vec::new(), vec![FieldMessage::summary(refusal_text(&desk.visit, status))], status_of(status))
}

/// The school's overdue (or due-soon) loans, page by page up to
/// [`MAX_ROWS`]; whether the list was cut there.
async fn loans_due(
    edge: &Edge,
    desk: &Desk,
    class: &str,
    within_days: i32,
) -> Result<(Vec<Loan>, bool), Status> {
    let mut client = LoanServiceClient::new(edge.calls());
    let mut loans = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = ListOverdueLoansRequest {
            school_id: desk.school.id.clone(),
            class_id: class.to_owned(),
            due_within_days: within_days,
            page_size: PAGE_SIZE,
            page_token,
        };
        let answer = client.list_overdue_loans(desk.request(edge, request)).await?.into_inner();
        loans.extend(answer.loans);
        if answer.next_page_token.is_empty() {
            return Ok((loans, false));
        }
        if loans.len() >= MAX_ROWS {
            loans.truncate(MAX_ROWS);
            return Ok((loans, true));
        }
        page_token = answer.next_page_token;
    }
}

/// The school's classes, by grade then name (a few pages at most).
async fn classes_of(edge: &Edge, desk: &Desk) -> Result<Vec<Class>, Status> {
    let mut client = ReaderServiceClient::new(edge.calls());
    let mut classes = Vec::new();
    let mut page_token = String::new();
    for _ in 0..4 {
        let request = ListClassesRequest {
            school_id: desk.school.id.clone(),
            school_year: String::new(),
            page_size: PAGE_SIZE,
            page_token,
        };
        let answer = client.list_classes(desk.request(edge, request)).await?.into_inner();
        classes.extend(answer.classes);
        if answer.next_page_token.is_empty() {
            break;
        }
        page_token = answer.next_page_token;
    }
    Ok(classes)
}

/// Today in the district's time zone, the day due days are written in.
fn today(edge: &Edge) -> NaiveDate {
    chrono::Utc::now().with_timezone(&edge.config().time_zone).date_naive()
}

/// The rows of a loan list regrouped for the class teachers: one group per
/// class (by grade, then class name; readers without a class last), in it
/// one entry per reader (by name), with their books by due day. Each group
/// prints on a page of its own.
pub fn by_homeroom(rows: Vec<LoanRow>) -> Vec<Homeroom> {
    // (no class last, grade, class name, class id) → (reader name, reader id) → books
    type ClassKey = (bool, i32, String, String);
    let mut classes: BTreeMap<ClassKey, BTreeMap<(String, String), Vec<LoanRow>>> = BTreeMap::new();
    for row in rows {
        let class_key = (row.class_id.is_empty(), row.grade, row.class_name.clone(), row.class_id.clone());
        let reader_key = (row.reader.clone(), row.reader_id.clone());
        classes.entry(class_key).or_default().entry(reader_key).or_default().push(row);
    }
    classes
        .into_iter()
        .map(|((_, grade, class_name, class_id), readers)| Homeroom {
            class_id,
            class_name,
            grade,
            readers: readers
                .into_iter()
                .map(|((name, _), mut books)| {
                    books.sort_by(|a, b| (&a.due_date, &a.title).cmp(&(&b.due_date, &b.title)));
                    ReaderBooks { name, books }
                })
                .collect(),
        })
        .collect()
}
