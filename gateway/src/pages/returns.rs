//! `/returns`: the return box. Books are scanned without choosing a
//! reader; each answer says where the book goes next — back to the shelf,
//! to the hold shelf for whom, into the transit bin for which school — with
//! a slip to print for holds and transits. F2 (or the tick box) marks the
//! next book as damaged.
//!
//! Like the lending desk, each scan is a POST with a request id; the desk's
//! script puts each answer on top of the list (`data-mode="prepend"`), so
//! the list of this session's returns grows without a reload.

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::response::Response;
use axum::routing::{get, post};
use http::StatusCode;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{CheckInRequest, CheckInResponse, CheckInRoute};
use lectern_proto::reader::v1::GetReaderRequest;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use serde::Deserialize;

use super::format::{day, day_of, money, parse_money};
use super::i18n::format;
use super::school::{Desk, Section};
use super::signin::{refusal_text, status_of};
use super::views::{FieldMessage, Shell};
use super::{Visit, new_request_id, render, request_id_or_new};
use crate::http::Edge;

/// The longest barcode the return box takes.
const SCAN_MAX: usize = 64;
/// The longest damage note the service keeps.
const NOTE_MAX: usize = 500;

/// The return box's routes.
pub fn routes() -> Router<Edge> {
    Router::new().route("/returns", get(show)).route("/returns/scan", post(scan))
}

/// `GET /returns`: the return box and the answers so far.
#[derive(Debug, Clone, Template)]
#[template(path = "returns.html")]
pub struct ReturnsPage {
    pub shell: Shell,
    /// Always empty: each book's answer is in its line.
    pub errors: Vec<FieldMessage>,
    pub request_id: String,
    /// The answers, newest first (without the script: the last one).
    pub lines: Vec<ReturnLine>,
}

/// One book's answer at the return box.
#[derive(Debug, Clone, Template, Default)]
#[template(path = "partials/return_line.html")]
pub struct ReturnLine {
    pub shell: Shell,
    pub kind: Where,
    pub barcode: String,
    pub title: String,
    /// Where it goes, in big letters ("放回书架").
    pub headline: String,
    /// More: late days and fine, damage, "was not on loan".
    pub details: Vec<String>,
    /// The slip to print, for holds and transits.
    pub slip: Option<String>,
}

/// Where a returned book goes; decides the line's look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Where {
    #[default]
    Shelf,
    HoldShelf,
    Transit,
    /// Not taken back: the reason is in the headline.
    Refused,
}

impl ReturnLine {
    /// The CSS class of the line's look.
    pub fn class(&self) -> &'static str {
        match self.kind {
            Where::Shelf => "return-shelf",
            Where::HoldShelf => "return-hold",
            Where::Transit => "return-transit",
            Where::Refused => "return-refused",
        }
    }

    /// The outcome for the desk's sound: only a refusal sounds "no".
    pub fn outcome(&self) -> &'static str {
        if self.kind == Where::Refused { "refused" } else { "ok" }
    }
}

/// `GET /returns`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    page(&edge, &desk, Vec::new(), StatusCode::OK)
}

/// The return box's form.
#[derive(Debug, Default, Deserialize)]
pub struct ReturnForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    scan: String,
    /// "on" when the book came back damaged.
    #[serde(default)]
    damaged: String,
    #[serde(default)]
    damage_note: String,
    /// A fee for the damage, in yuan; empty for none.
    #[serde(default)]
    damage_fee: String,
}

/// `POST /returns/scan`: takes one book back.
pub async fn scan(State(edge): State<Edge>, visit: Visit, Form(form): Form<ReturnForm>) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let shell = desk.shell(Section::Returns);
    let refused = |headline: String, barcode: &str| ReturnLine {
        shell: shell.clone(),
        kind: Where::Refused,
        barcode: barcode.to_owned(),
        headline,
        ..ReturnLine::default()
    };
    if !desk.visit.csrf_ok(&edge, &form.csrf) {
        let line = refused(desk.text("reason.CSRF_TOKEN_INVALID"), "");
        return answer(&edge, &desk, line, StatusCode::FORBIDDEN);
    }
    let barcode = form.scan.trim();
    if barcode.is_empty() || barcode.len() > SCAN_MAX || barcode.chars().any(char::is_control) {
        let id = if barcode.is_empty() { "returns.scan_missing" } else { "desk.scan_bad" };
        return answer(&edge, &desk, refused(desk.text(id), ""), StatusCode::BAD_REQUEST);
    }
    let damaged = !form.damaged.is_empty();
    let note = form.damage_note.trim();
    let fee = if form.damage_fee.trim().is_empty() { Some(0) } else { parse_money(&form.damage_fee) };
    let Some(fee) = fee else {
        return answer(&edge, &desk, refused(desk.text("returns.fee_bad"), barcode), StatusCode::BAD_REQUEST);
    };
    if note.chars().count() > NOTE_MAX {
        return answer(
            &edge,
            &desk,
            refused(desk.text("returns.note_long"), barcode),
            StatusCode::BAD_REQUEST,
        );
    }
    // A damaged book needs a note; one key press must be enough, so the
    // catalogue's words stand in when none was typed.
    let note =
        if damaged && note.is_empty() { desk.text("returns.damaged_default_note") } else { note.to_owned() };
    let damage_note = note.clone();
    let request = CheckInRequest {
        copy_barcode: barcode.to_owned(),
        request_id: request_id_or_new(&form.request_id),
        damaged,
        damage_note: if damaged { note } else { String::new() },
        damage_fee: if damaged { fee } else { 0 },
        desk_school_id: desk.school.id.clone(),
    };
    match LoanServiceClient::new(edge.calls()).check_in(desk.request(&edge, request)).await {
        Ok(answered) => {
            let mut line = describe(&edge, &desk, shell.clone(), barcode, answered.into_inner()).await;
            if damaged {
                line.details.push(format(
                    desk.visit.lang,
                    "returns.damaged_recorded",
                    &[("note", &damage_note)],
                ));
            }
            answer(&edge, &desk, line, StatusCode::OK)
        }
        Err(failure) => {
            let line = refused(refusal_text(&desk.visit, &failure), barcode);
            answer(&edge, &desk, line, status_of(&failure))
        }
    }
}

/// A check-in's answer in words: where the book goes, and what else happened.
async fn describe(
    edge: &Edge,
    desk: &Desk,
    shell: Shell,
    barcode: &str,
    answer: CheckInResponse,
) -> ReturnLine {
    let lang = desk.visit.lang;
    let zone = edge.config().time_zone;
    let loan = answer.loan.clone().unwrap_or_default();
    let mut line =
        ReturnLine { shell, barcode: barcode.to_owned(), title: loan.title.clone(), ..ReturnLine::default() };
    let route = CheckInRoute::try_from(answer.route).unwrap_or(CheckInRoute::Unspecified);
    match (route, &answer.hold, &answer.transit) {
        (CheckInRoute::HoldShelf, Some(hold), _) => {
            line.kind = Where::HoldShelf;
            if line.title.is_empty() {
                line.title = hold.title.clone();
            }
            let (name, class_name) = reader_name(edge, desk, &hold.reader_id).await;
            line.headline = format(lang, "returns.to_hold_shelf", &[("name", &name)]);
            if !class_name.is_empty() {
                line.details.push(class_name);
            }
            let until = day_of(lang, hold.expire_time.as_ref(), zone);
            if !until.is_empty() {
                line.details.push(format(lang, "returns.hold_until", &[("day", &until)]));
            }
            line.slip = Some(format!("/slips/hold?reader={}&hold={}", hold.reader_id, hold.id));
        }
        (CheckInRoute::Transit, _, Some(transit)) => {
            line.kind = Where::Transit;
            if line.title.is_empty() {
                line.title = transit.title.clone();
            }
            let school = desk.school_name(&transit.to_school_id);
            line.headline = format(lang, "returns.to_transit", &[("school", &school)]);
            if answer.hold.is_some() {
                line.details.push(desk.text("returns.transit_for_hold"));
            }
            line.slip = Some(format!("/slips/transit?transit={}", transit.id));
        }
        _ => {
            line.headline = desk.text("returns.to_shelf");
        }
    }
    if let Some(received) = answer.transit.as_ref().filter(|transit| transit.received_time.is_some()) {
        line.details.push(format(
            lang,
            "returns.received",
            &[("school", &desk.school_name(&received.from_school_id))],
        ));
        if line.title.is_empty() {
            line.title = received.title.clone();
        }
    }
    if !answer.was_on_loan && answer.transit.as_ref().is_none_or(|transit| transit.received_time.is_none()) {
        line.details.push(desk.text("returns.was_not_on_loan"));
    }
    if answer.open_days_late > 0 {
        line.details.push(format(lang, "returns.late", &[("days", &answer.open_days_late.to_string())]));
    }
    if let Some(fine) = &answer.fine {
        line.details.push(format(lang, "returns.fine", &[("amount", &money(fine.amount))]));
    }
    if !answer.suspended_until.is_empty() {
        line.details.push(format(lang, "returns.suspended", &[("day", &day(lang, &answer.suspended_until))]));
    }
    if let Some(damage) = &answer.damage {
        line.details.push(format(lang, "returns.damage_fee", &[("amount", &money(damage.amount))]));
    }
    line
}

/// The name and class of the reader a hold is for ("" if they cannot be read).
async fn reader_name(edge: &Edge, desk: &Desk, reader_id: &str) -> (String, String) {
    let request = GetReaderRequest { id: reader_id.to_owned() };
    match ReaderServiceClient::new(edge.calls()).get_reader(desk.request(edge, request)).await {
        Ok(reader) => {
            let reader = reader.into_inner();
            (reader.name, reader.class_name)
        }
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), "the return box cannot name a hold's reader");
            (String::new(), String::new())
        }
    }
}

/// The line alone for the desk's script, or the page with it on top. As at
/// the lending desk, only an unreachable service keeps its 5xx for the
/// script, which then sends the scan again.
fn answer(edge: &Edge, desk: &Desk, line: ReturnLine, status: StatusCode) -> Response {
    if desk.visit.wants_fragment() {
        let status = if status.is_server_error() { status } else { StatusCode::OK };
        return desk.visit.finish(edge, render(&line, status));
    }
    page(edge, desk, vec![line], status)
}

fn page(edge: &Edge, desk: &Desk, lines: Vec<ReturnLine>, status: StatusCode) -> Response {
    let page = ReturnsPage {
        shell: desk.shell(Section::Returns),
        errors: Vec::new(),
        request_id: new_request_id(),
        lines,
    };
    desk.visit.finish(edge, render(&page, status))
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;
    use crate::pages::i18n::{Lang, text};
    use crate::pages::views::testing::{check_page, shell};

    fn line(lang: Lang, kind: Where, headline: &str) -> ReturnLine {
        ReturnLine {
            shell: shell(lang),
            kind,
            barcode: "P000004".to_owned(),
            title: "草房子".to_owned(),
            headline: headline.to_owned(),
            details: vec!["超期 3 个开馆日才还。".to_owned()],
            slip: (kind == Where::HoldShelf).then(|| "/slips/hold?reader=r-1&hold=h-1".to_owned()),
        }
    }

    #[test]
    fn each_book_says_where_it_goes_with_its_own_look() {
        for lang in Lang::ALL {
            let hold =
                line(lang, Where::HoldShelf, &format(lang, "returns.to_hold_shelf", &[("name", "姚欣怡")]));
            let html = hold.render().unwrap();
            assert!(html.contains("return-hold") && html.contains(r#"data-outcome="ok""#));
            assert!(html.contains("姚欣怡") && html.contains("草房子") && html.contains("P000004"));
            assert!(html.contains(r#"href="/slips/hold?reader=r-1&#38;hold=h-1""#), "{html}");
            assert!(html.contains(text(lang, "returns.print_slip")));
            let refused = line(lang, Where::Refused, text(lang, "reason.COPY_NOT_FOUND")).render().unwrap();
            assert!(refused.contains("return-refused") && refused.contains(r#"data-outcome="refused""#));
            assert!(refused.contains(text(lang, "notice.refusal")));
            assert!(!refused.contains("/slips/"), "no slip for a refusal");
        }
    }

    #[test]
    fn the_return_box_renders_in_both_languages() {
        for lang in Lang::ALL {
            let mut shell = shell(lang);
            shell.signed_in = true;
            let page = ReturnsPage {
                shell,
                errors: Vec::new(),
                request_id: "req-1".to_owned(),
                lines: vec![line(lang, Where::Transit, "放入在途箱：送往徐汇区第二中学")],
            };
            let html = page.render().unwrap();
            check_page(&html, lang);
            for id in ["returns.scan", "returns.damaged", "returns.damage_note", "returns.damage_fee_label"] {
                assert!(html.contains(text(lang, id)), "{id}");
            }
            assert!(html.contains(r#"data-fragment="returns-list" data-mode="prepend""#));
            assert!(html.contains("data-damaged-toggle") && html.contains("data-scan-box autofocus"));
            assert!(html.contains("return-transit") && html.contains("徐汇区第二中学"));
        }
    }
}
