//! The reader at the kiosk, once signed in ([`super::signin`]): scan books
//! (`/kiosk/borrow`), renew (`/kiosk/renew`), and leave (`/kiosk/finish`,
//! with the receipt; `/kiosk/signout`, the idle timer's; `/kiosk/still-here`,
//! the timer telling the server of a tap).
//!
//! The reader's token is bound to this kiosk: circulation lends to them
//! only here, only this school's books, and only for themselves. Every book
//! scanned answers with the reader's screen as it is now, the newest
//! answer on top; each action carries a request id, so a scan sent again
//! after a lost answer lends once.

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use lectern_proto::catalog::v1::LookupCopyRequest;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{
    CheckOutRequest, GetReaderSummaryRequest, HoldStatus, Loan, ReaderSummary, RenewRequest,
};
use serde::Deserialize;
use tonic::Status;

use super::views::{BorrowPage, FinishPage, LoanLine, Outcome, WelcomePage};
use super::{Kiosk, refusal_text};
use crate::http::Edge;
use crate::pages::format::{day, moment};
use crate::pages::i18n::{Catalogue, Lang, format, reason_named};
use crate::pages::{Visit, new_request_id, render, request_id_or_new};

/// The longest card or book barcode taken.
pub(super) const SCAN_MAX: usize = 64;

/// `GET /kiosk?bye=done|idle|lang`.
#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    bye: String,
}

/// `GET /kiosk`: the reader's screen, or the welcome screen.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<ShowQuery>) -> Response {
    let mut kiosk = match Kiosk::open(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    if kiosk.reader.is_some() {
        kiosk.touch(&edge);
        return reader_screen(&edge, &mut kiosk, None, StatusCode::OK).await;
    }
    if query.bye == "lang" {
        // The welcome screen left alone in another language: the kiosk's own again.
        kiosk.forget_lang(&edge);
        return kiosk.finish(&edge, Redirect::to("/kiosk"));
    }
    let notice = match (kiosk.idle_ended, query.bye.as_str()) {
        (true, _) | (false, "idle") => Some(kiosk.text("kiosk.welcome.bye_idle")),
        (false, "done") => Some(kiosk.text("kiosk.welcome.bye_done")),
        _ => None,
    };
    welcome(&edge, &kiosk, notice, None, StatusCode::OK)
}

/// A form of the kiosk's screens.
#[derive(Debug, Default, Deserialize)]
pub struct KioskForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub request_id: String,
    #[serde(default)]
    pub card: String,
    #[serde(default)]
    pub pin: String,
    #[serde(default)]
    pub scan: String,
    #[serde(default)]
    pub loan: String,
    /// Why the reader is signed out: "idle" (the timer) or "done".
    #[serde(default)]
    pub why: String,
}

/// `POST /kiosk/borrow`: one book scanned.
pub async fn lend(State(edge): State<Edge>, visit: Visit, Form(form): Form<KioskForm>) -> Response {
    let mut kiosk = match reader_kiosk(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    if !kiosk.visit.csrf_ok(&edge, &form.csrf) {
        let no = Outcome::no(kiosk.text("reason.CSRF_TOKEN_INVALID"), String::new(), Vec::new());
        return reader_screen(&edge, &mut kiosk, Some(no), StatusCode::FORBIDDEN).await;
    }
    let copy = form.scan.trim();
    if copy.is_empty() || copy.len() > SCAN_MAX || copy.chars().any(char::is_control) {
        let no = Outcome::no(kiosk.text("kiosk.borrow.scan_missing"), String::new(), Vec::new());
        return reader_screen(&edge, &mut kiosk, Some(no), StatusCode::BAD_REQUEST).await;
    }
    let summary = match own_summary(&edge, &kiosk).await {
        Ok(summary) => summary,
        Err(failure) => return failed(&edge, &mut kiosk, &failure).await,
    };
    let card = summary.reader.map(|reader| reader.card_barcode).unwrap_or_default();
    let request = CheckOutRequest {
        reader_card_barcode: card,
        copy_barcode: copy.to_owned(),
        request_id: request_id_or_new(&form.request_id),
        occurred_at: None,
        override_reason: String::new(),
        desk_school_id: String::new(),
    };
    let Some(request) = kiosk.as_reader(&edge, request) else {
        return Redirect::to("/kiosk").into_response();
    };
    let (outcome, status) = match LoanServiceClient::new(edge.calls()).check_out(request).await {
        Ok(answer) => (lent(&kiosk, "kiosk.borrow.lent", answer.into_inner().loan), StatusCode::OK),
        Err(failure) => {
            tracing::info!(device.id = %kiosk.device_id, code = ?failure.code(), "a kiosk check-out was refused");
            let title = book_title(&edge, &kiosk, copy).await;
            let outcome =
                Outcome::no(kiosk.text("kiosk.borrow.refused"), title, vec![kiosk.refusal(&failure)]);
            (outcome, crate::pages::signin::status_of(&failure))
        }
    };
    reader_screen(&edge, &mut kiosk, Some(outcome), status).await
}

/// A book lent or renewed, under `heading`: its title and the day to bring
/// it back.
fn lent(kiosk: &Kiosk, heading: &str, loan: Option<Loan>) -> Outcome {
    let lang = kiosk.visit.lang;
    let loan = loan.unwrap_or_default();
    let due = format(lang, "kiosk.borrow.due", &[("due", &day(lang, &loan.due_date))]);
    Outcome::yes(kiosk.text(heading), loan.title, vec![due])
}

/// `POST /kiosk/renew`: keep one book longer.
pub async fn renew(State(edge): State<Edge>, visit: Visit, Form(form): Form<KioskForm>) -> Response {
    let mut kiosk = match reader_kiosk(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    if !kiosk.visit.csrf_ok(&edge, &form.csrf) {
        let no = Outcome::no(kiosk.text("reason.CSRF_TOKEN_INVALID"), String::new(), Vec::new());
        return reader_screen(&edge, &mut kiosk, Some(no), StatusCode::FORBIDDEN).await;
    }
    let request = RenewRequest {
        loan_id: form.loan.trim().to_owned(),
        copy_barcode: String::new(),
        request_id: request_id_or_new(&form.request_id),
    };
    let Some(request) = kiosk.as_reader(&edge, request) else {
        return Redirect::to("/kiosk").into_response();
    };
    let (outcome, status) = match LoanServiceClient::new(edge.calls()).renew(request).await {
        Ok(answer) => (lent(&kiosk, "kiosk.borrow.renewed", answer.into_inner().loan), StatusCode::OK),
        Err(failure) => {
            let outcome = Outcome::no(
                kiosk.text("kiosk.borrow.not_renewed"),
                String::new(),
                vec![kiosk.refusal(&failure)],
            );
            (outcome, crate::pages::signin::status_of(&failure))
        }
    };
    reader_screen(&edge, &mut kiosk, Some(outcome), status).await
}

/// `POST /kiosk/finish`: "I'm done": signs the reader out and shows what
/// they have, as a receipt.
pub async fn finish(State(edge): State<Edge>, visit: Visit, Form(_form): Form<KioskForm>) -> Response {
    let mut kiosk = match reader_kiosk(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    // No CSRF check: signing out is always safe to do, and a stale page
    // must never keep a reader signed in.
    let summary = own_summary(&edge, &kiosk).await;
    if let Some(token) = kiosk.reader.as_ref().map(|reader| reader.token.clone()) {
        kiosk.sign_reader_out(&edge, &token).await;
    }
    let summary = match summary {
        Ok(summary) => summary,
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), device.id = %kiosk.device_id, "the kiosk cannot read a reader's books for the receipt");
            ReaderSummary::default()
        }
    };
    let lang = kiosk.visit.lang;
    let now = edge.clock().now();
    let at = prost_types::Timestamp { seconds: now.timestamp(), nanos: 0 };
    let page = FinishPage {
        shell: kiosk.shell("finish"),
        name: summary.reader.as_ref().map(|reader| reader.name.clone()).unwrap_or_default(),
        loans: loan_lines(lang, &summary),
        printer: kiosk.device.printer,
        printed: moment(lang, Some(&at), edge.config().time_zone),
    };
    kiosk.finish(&edge, render(&page, StatusCode::OK))
}

/// `POST /kiosk/signout`: the idle timer (or a reader) ends the session.
pub async fn sign_out(State(edge): State<Edge>, visit: Visit, Form(form): Form<KioskForm>) -> Response {
    let mut kiosk = match Kiosk::open(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    // No CSRF check, as for "I'm done".
    if let Some(token) = kiosk.reader.as_ref().map(|reader| reader.token.clone()) {
        kiosk.sign_reader_out(&edge, &token).await;
    }
    let to = if form.why == "idle" || kiosk.idle_ended { "/kiosk?bye=idle" } else { "/kiosk?bye=done" };
    kiosk.finish(&edge, Redirect::to(to))
}

/// `POST /kiosk/still-here`: the script saw a tap with no request; the
/// server's idle clock starts again too.
pub async fn still_here(State(edge): State<Edge>, visit: Visit) -> Response {
    let mut kiosk = match Kiosk::open(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    let sent = kiosk.visit.headers.get("x-csrf-token").and_then(|value| value.to_str().ok()).unwrap_or("");
    if !kiosk.visit.csrf_ok(&edge, sent) {
        return kiosk.finish(&edge, StatusCode::FORBIDDEN);
    }
    let status = if kiosk.reader.is_some() {
        kiosk.touch(&edge);
        StatusCode::NO_CONTENT
    } else {
        // Signed out already (idle on the server's clock): the script reloads.
        StatusCode::UNAUTHORIZED
    };
    kiosk.finish(&edge, status)
}

/// The kiosk with a reader signed in, or the welcome screen saying they
/// are signed out.
async fn reader_kiosk(edge: &Edge, visit: Visit) -> Result<Kiosk, Response> {
    let mut kiosk = Kiosk::open(edge, visit).await?;
    if kiosk.reader.is_none() {
        let id = if kiosk.idle_ended { "kiosk.welcome.bye_idle" } else { "kiosk.signed_out.ended" };
        let notice = Some(kiosk.text(id));
        return Err(welcome(edge, &kiosk, notice, None, StatusCode::OK));
    }
    kiosk.touch(edge);
    Ok(kiosk)
}

/// The welcome screen.
pub(super) fn welcome(
    edge: &Edge,
    kiosk: &Kiosk,
    notice: Option<String>,
    outcome: Option<Outcome>,
    status: StatusCode,
) -> Response {
    let page = WelcomePage { shell: kiosk.shell("welcome"), notice, outcome, card_only: kiosk.card_only };
    kiosk.finish(edge, render(&page, status))
}

/// The reader's screen as it is now, with `outcome` on top.
async fn reader_screen(
    edge: &Edge,
    kiosk: &mut Kiosk,
    outcome: Option<Outcome>,
    status: StatusCode,
) -> Response {
    let summary = match own_summary(edge, kiosk).await {
        Ok(summary) => summary,
        Err(failure) => return failed(edge, kiosk, &failure).await,
    };
    let lang = kiosk.visit.lang;
    let page = BorrowPage {
        shell: kiosk.shell("borrow"),
        name: summary.reader.as_ref().map(|reader| reader.name.clone()).unwrap_or_default(),
        outcome,
        loans: loan_lines(lang, &summary),
        holds_ready: summary
            .holds
            .iter()
            .filter(|hold| hold.status == HoldStatus::Ready as i32)
            .map(|hold| format(lang, "kiosk.borrow.hold_ready_line", &[("title", &hold.title)]))
            .collect(),
        blocks: summary.blocks.iter().map(|block| kiosk_reason(lang, &block.reason)).collect(),
        request_id: new_request_id(),
    };
    kiosk.finish(edge, render(&page, status))
}

/// A call that failed for the reader as a whole: a session that ended
/// goes back to the welcome screen; anything else says so there too.
async fn failed(edge: &Edge, kiosk: &mut Kiosk, failure: &Status) -> Response {
    tracing::warn!(code = ?failure.code(), device.id = %kiosk.device_id, "a kiosk call failed");
    if let Some(token) = kiosk.reader.as_ref().map(|reader| reader.token.clone()) {
        kiosk.sign_reader_out(edge, &token).await;
    }
    let no = Outcome::no(refusal_text(kiosk.visit.lang, failure), String::new(), Vec::new());
    welcome(edge, kiosk, None, Some(no), crate::pages::signin::status_of(failure))
}

/// The signed-in reader's own summary.
async fn own_summary(edge: &Edge, kiosk: &Kiosk) -> Result<ReaderSummary, Status> {
    let reader_id = kiosk.reader.as_ref().map(|reader| reader.subject_id.clone()).unwrap_or_default();
    let request = GetReaderSummaryRequest { reader_card_barcode: String::new(), reader_id };
    let Some(request) = kiosk.as_reader(edge, request) else {
        return Err(Status::unauthenticated("nobody is signed in at the kiosk"));
    };
    Ok(LoanServiceClient::new(edge.calls()).get_reader_summary(request).await?.into_inner())
}

/// The title of the book with `barcode`, for a refusal ("" if unknown).
async fn book_title(edge: &Edge, kiosk: &Kiosk, barcode: &str) -> String {
    let request = kiosk.as_device(edge, LookupCopyRequest { barcode: barcode.to_owned() });
    match CatalogServiceClient::new(edge.calls()).lookup_copy(request).await {
        Ok(copy) => copy.into_inner().title,
        Err(_) => String::new(),
    }
}

/// The reader's books, soonest due first.
fn loan_lines(lang: Lang, summary: &ReaderSummary) -> Vec<LoanLine> {
    summary
        .loans
        .iter()
        .map(|loan| LoanLine {
            id: loan.id.clone(),
            title: loan.title.clone(),
            due: day(lang, &loan.due_date),
            overdue: loan.overdue,
        })
        .collect()
}

/// A refusal reason named as in `ErrorInfo.reason`, in the kiosk's words.
pub fn kiosk_reason(lang: Lang, name: &str) -> String {
    match Catalogue::get().text(lang, &format!("kiosk.reason.{name}")) {
        Some(sentence) => sentence.to_owned(),
        None => reason_named(lang, name).to_owned(),
    }
}
