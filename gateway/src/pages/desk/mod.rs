//! `/desk`: the lending desk's one scan box. A card scanned shows the
//! reader (what they have and when it is due, holds ready, fees, and what
//! stops them borrowing); books scanned next are lent to them one after
//! another. A refusal says why in the catalogue's words, with the rule
//! that decides; a librarian may lend past a reader's blocks with a reason.
//! Renewals and fee payments are taken here too.
//!
//! Every action is a POST that answers with the whole page, or, for the
//! desk's script (`x-lectern-fragment`), only the panel under the scan box
//! ([`DeskPanel`]). Each carries a request id, so a send repeated after a
//! lost answer lends, renews or takes money once.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use http::StatusCode;
use lectern_core::refusal::Refusal;
use lectern_proto::circulation::v1::fee_service_client::FeeServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{
    CheckOutRequest, ExplainCheckOutRequest, GetReaderSummaryRequest, PayFeesRequest, ReaderSummary,
    RenewAllRequest, RenewRequest,
};
use serde::Deserialize;
use tonic::{Code, Status};

mod views;

pub use views::{Blocked, DeskPage, DeskPanel, FeeLine, LoanLine, Outcome, ReaderView};

use super::format::{day, money, parse_money};
use super::i18n::{format, reason_named};
use super::school::{Desk, Section};
use super::signin::{refusal_text, status_of};
use super::{Visit, new_request_id, render, request_id_or_new};
use crate::http::Edge;
use views::reader_view;

/// The longest barcode a scan box takes (cards and copies are at most 64).
const SCAN_MAX: usize = 64;
/// The longest override reason the service keeps.
const OVERRIDE_REASON_MAX: usize = 500;

/// The desk's routes.
pub fn routes() -> Router<Edge> {
    Router::new()
        .route("/desk", get(show))
        .route("/desk/scan", post(scan))
        .route("/desk/override", post(lend_anyway))
        .route("/desk/renew", post(renew))
        .route("/desk/renew-all", post(renew_all))
        .route("/desk/pay", post(pay))
}
/// `GET /desk?reader=…`.
#[derive(Debug, Default, Deserialize)]
pub struct DeskQuery {
    #[serde(default)]
    reader: String,
}

/// `GET /desk`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<DeskQuery>) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let mut panel = DeskPanel::new(desk.shell(Section::Desk));
    let mut status = StatusCode::OK;
    if !query.reader.is_empty() {
        match summary(&edge, &desk, Who::Id(&query.reader)).await {
            Ok(found) => panel.reader = Some(reader_view(&desk, found)),
            Err(failure) => {
                status = status_of(&failure);
                panel.outcome = Some(Outcome::refused(refusal_text(&desk.visit, &failure), Vec::new()));
            }
        }
    }
    answer(&edge, &desk, panel, status)
}

/// A form sent from the desk.
#[derive(Debug, Default, Deserialize)]
pub struct DeskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    /// The reader being served (id) and their card, if any.
    #[serde(default)]
    reader: String,
    #[serde(default)]
    card: String,
    /// What was scanned or typed.
    #[serde(default)]
    scan: String,
    /// The copy to lend past blocks, and why.
    #[serde(default)]
    copy: String,
    #[serde(default)]
    override_reason: String,
    /// The loan to renew.
    #[serde(default)]
    loan: String,
    /// The amount paid, in yuan.
    #[serde(default)]
    amount: String,
}

/// `POST /desk/scan`: a card switches to its reader; anything else is a
/// book to lend to the reader being served.
pub async fn scan(State(edge): State<Edge>, visit: Visit, Form(form): Form<DeskForm>) -> Response {
    let (desk, mut panel) = match begin(&edge, visit, &form).await {
        Ok(begun) => begun,
        Err(response) => return response,
    };
    let scanned = form.scan.trim();
    if scanned.is_empty() || scanned.len() > SCAN_MAX || scanned.chars().any(char::is_control) {
        let id = if scanned.is_empty() { "desk.scan_missing" } else { "desk.scan_bad" };
        panel.outcome = Some(Outcome::refused(desk.text(id), Vec::new()));
        return finish(&edge, &desk, panel, &form, StatusCode::BAD_REQUEST).await;
    }
    if form.card.is_empty() {
        // No reader yet: this must be a card.
        return match summary(&edge, &desk, Who::Card(scanned)).await {
            Ok(found) => {
                panel.reader = Some(reader_view(&desk, found));
                answer(&edge, &desk, panel, StatusCode::OK)
            }
            Err(failure) if is_not_found(&failure) => {
                panel.outcome = Some(Outcome::refused(
                    desk.text("desk.not_a_card"),
                    vec![desk.text("desk.not_a_card_hint")],
                ));
                answer(&edge, &desk, panel, StatusCode::NOT_FOUND)
            }
            Err(failure) => failed(&edge, &desk, panel, &failure),
        };
    }
    lend(&edge, &desk, panel, &form, scanned, "").await
}

/// `POST /desk/override`: lend past the reader's blocks, with a reason.
pub async fn lend_anyway(State(edge): State<Edge>, visit: Visit, Form(form): Form<DeskForm>) -> Response {
    let (desk, mut panel) = match begin(&edge, visit, &form).await {
        Ok(begun) => begun,
        Err(response) => return response,
    };
    let why = form.override_reason.trim();
    let copy = form.copy.trim();
    if why.is_empty() || why.chars().count() > OVERRIDE_REASON_MAX || copy.is_empty() || copy.len() > SCAN_MAX
    {
        let id = if why.is_empty() { "desk.override_reason_missing" } else { "desk.override_reason_long" };
        panel.outcome = Some(Outcome::refused(desk.text("desk.override_not_done"), Vec::new()));
        panel.blocked = Some(Blocked {
            copy_barcode: copy.to_owned(),
            may_override: desk.may_override(),
            reason_error: Some(desk.text(id)),
        });
        return finish(&edge, &desk, panel, &form, StatusCode::BAD_REQUEST).await;
    }
    lend(&edge, &desk, panel, &form, copy, why).await
}

/// Lends `copy` to the reader of `form` (past blocks when `why` is given),
/// and answers with the outcome and the reader as they are now.
async fn lend(
    edge: &Edge,
    desk: &Desk,
    mut panel: DeskPanel,
    form: &DeskForm,
    copy: &str,
    why: &str,
) -> Response {
    let request = CheckOutRequest {
        reader_card_barcode: form.card.clone(),
        copy_barcode: copy.to_owned(),
        request_id: request_id(form),
        occurred_at: None,
        override_reason: why.to_owned(),
        desk_school_id: desk.school.id.clone(),
    };
    let mut loans = LoanServiceClient::new(edge.calls());
    let mut status = StatusCode::OK;
    match loans.check_out(desk.request(edge, request)).await {
        Ok(answer) => {
            let loan = answer.into_inner().loan.unwrap_or_default();
            let due = day(desk.visit.lang, &loan.due_date);
            panel.outcome = Some(Outcome::ok(
                format(desk.visit.lang, "desk.lent", &[("title", &loan.title)]),
                vec![format(desk.visit.lang, "desk.due", &[("due", &due)])],
            ));
        }
        Err(failure) if reason_of(&failure).as_deref() == Some("COPY_NOT_FOUND") && why.is_empty() => {
            // Not a book: perhaps the next reader's card.
            match summary(edge, desk, Who::Card(copy)).await {
                Ok(found) => {
                    panel.reader = Some(reader_view(desk, found));
                    return answer(edge, desk, panel, StatusCode::OK);
                }
                // Neither a book nor a card: the book's refusal.
                Err(card) if is_not_found(&card) => {
                    status = StatusCode::NOT_FOUND;
                    panel.outcome = Some(Outcome::refused(refusal_text(&desk.visit, &failure), Vec::new()));
                }
                // A card the desk may not serve (another school's reader).
                Err(card) => {
                    status = status_of(&card);
                    panel.outcome = Some(Outcome::refused(refusal_text(&desk.visit, &card), Vec::new()));
                }
            }
        }
        Err(failure) if is_unreachable(&failure) => return failed(edge, desk, panel, &failure),
        Err(failure) => {
            status = status_of(&failure);
            let explanation = explain(edge, desk, &form.card, copy).await;
            let reason = reason_of(&failure).unwrap_or_default();
            let mut details = Vec::new();
            if let Some(explained) = &explanation {
                // The rule decides blocks and what may be lent at all; a copy
                // already lent or held is not the rule's doing.
                let by_rule = explained.blocks.contains(&reason) || reason == "COPY_NOT_LOANABLE";
                if let Some(rule) = explained.rule.as_ref().filter(|rule| by_rule && !rule.name.is_empty()) {
                    details.push(format(desk.visit.lang, "desk.rule", &[("rule", &rule.name)]));
                }
                if explained.blocks.contains(&reason) {
                    panel.blocked = Some(Blocked {
                        copy_barcode: copy.to_owned(),
                        may_override: desk.may_override(),
                        reason_error: None,
                    });
                }
            }
            details.insert(0, format(desk.visit.lang, "desk.refused_book", &[("barcode", copy)]));
            panel.outcome = Some(Outcome::refused(refusal_text(&desk.visit, &failure), details));
        }
    }
    finish(edge, desk, panel, form, status).await
}

/// `POST /desk/renew`: renews one loan of the reader being served.
pub async fn renew(State(edge): State<Edge>, visit: Visit, Form(form): Form<DeskForm>) -> Response {
    let (desk, mut panel) = match begin(&edge, visit, &form).await {
        Ok(begun) => begun,
        Err(response) => return response,
    };
    let request = RenewRequest {
        loan_id: form.loan.clone(),
        copy_barcode: String::new(),
        request_id: request_id(&form),
    };
    let mut status = StatusCode::OK;
    match LoanServiceClient::new(edge.calls()).renew(desk.request(&edge, request)).await {
        Ok(answer) => {
            let loan = answer.into_inner().loan.unwrap_or_default();
            let due = day(desk.visit.lang, &loan.due_date);
            panel.outcome = Some(Outcome::ok(
                format(desk.visit.lang, "desk.renewed", &[("title", &loan.title)]),
                vec![format(desk.visit.lang, "desk.due", &[("due", &due)])],
            ));
        }
        Err(failure) if is_unreachable(&failure) => return failed(&edge, &desk, panel, &failure),
        Err(failure) => {
            status = status_of(&failure);
            panel.outcome = Some(Outcome::refused(refusal_text(&desk.visit, &failure), Vec::new()));
        }
    }
    finish(&edge, &desk, panel, &form, status).await
}

/// `POST /desk/renew-all`: renews every loan that can be, and says why not
/// for the others.
pub async fn renew_all(State(edge): State<Edge>, visit: Visit, Form(form): Form<DeskForm>) -> Response {
    let (desk, mut panel) = match begin(&edge, visit, &form).await {
        Ok(begun) => begun,
        Err(response) => return response,
    };
    let request = RenewAllRequest { reader_id: form.reader.clone(), request_id: request_id(&form) };
    let mut status = StatusCode::OK;
    match LoanServiceClient::new(edge.calls()).renew_all(desk.request(&edge, request)).await {
        Ok(answer) => {
            let lang = desk.visit.lang;
            let outcomes = answer.into_inner().outcomes;
            let renewed = outcomes.iter().filter(|outcome| outcome.renewed).count();
            let details = outcomes
                .iter()
                .map(|outcome| {
                    let loan = outcome.loan.clone().unwrap_or_default();
                    if outcome.renewed {
                        format(
                            lang,
                            "desk.renewed_line",
                            &[("title", &loan.title), ("due", &day(lang, &loan.due_date))],
                        )
                    } else {
                        format(
                            lang,
                            "desk.not_renewed_line",
                            &[("title", &loan.title), ("why", reason_named(lang, &outcome.refusal_reason))],
                        )
                    }
                })
                .collect();
            let headline = format(
                lang,
                "desk.renewed_all",
                &[("renewed", &renewed.to_string()), ("total", &outcomes.len().to_string())],
            );
            panel.outcome = Some(Outcome { ok: renewed == outcomes.len(), headline, details });
        }
        Err(failure) if is_unreachable(&failure) => return failed(&edge, &desk, panel, &failure),
        Err(failure) => {
            status = status_of(&failure);
            panel.outcome = Some(Outcome::refused(refusal_text(&desk.visit, &failure), Vec::new()));
        }
    }
    finish(&edge, &desk, panel, &form, status).await
}

/// `POST /desk/pay`: a payment taken at the desk, settling the reader's
/// fees oldest first.
pub async fn pay(State(edge): State<Edge>, visit: Visit, Form(form): Form<DeskForm>) -> Response {
    let (desk, mut panel) = match begin(&edge, visit, &form).await {
        Ok(begun) => begun,
        Err(response) => return response,
    };
    let Some(amount) = parse_money(&form.amount).filter(|amount| *amount > 0) else {
        panel.outcome = Some(Outcome::refused(desk.text("desk.amount_bad"), Vec::new()));
        return finish(&edge, &desk, panel, &form, StatusCode::BAD_REQUEST).await;
    };
    let request = PayFeesRequest {
        reader_id: form.reader.clone(),
        amount,
        fee_id: String::new(),
        request_id: request_id(&form),
    };
    let mut status = StatusCode::OK;
    match FeeServiceClient::new(edge.calls()).pay_fees(desk.request(&edge, request)).await {
        Ok(answer) => {
            let left = answer.into_inner().balance;
            panel.outcome = Some(Outcome::ok(
                format(desk.visit.lang, "desk.paid", &[("amount", &money(amount))]),
                vec![format(desk.visit.lang, "desk.still_owes", &[("amount", &money(left))])],
            ));
        }
        Err(failure) if is_unreachable(&failure) => return failed(&edge, &desk, panel, &failure),
        Err(failure) => {
            status = status_of(&failure);
            panel.outcome = Some(Outcome::refused(refusal_text(&desk.visit, &failure), Vec::new()));
        }
    }
    finish(&edge, &desk, panel, &form, status).await
}

/// Opens the desk for a form: signed in, at a school, the form's own.
async fn begin(edge: &Edge, visit: Visit, form: &DeskForm) -> Result<(Desk, DeskPanel), Response> {
    let desk = Desk::open(edge, visit).await?;
    let mut panel = DeskPanel::new(desk.shell(Section::Desk));
    if !desk.visit.csrf_ok(edge, &form.csrf) {
        panel.outcome = Some(Outcome::refused(desk.text("reason.CSRF_TOKEN_INVALID"), Vec::new()));
        // A 403 even for the script: it fetches the current token (the
        // librarian signed in again elsewhere) and sends once more.
        return Err(desk.visit.finish(edge, render_for(&desk, panel, StatusCode::FORBIDDEN)));
    }
    Ok((desk, panel))
}

/// The answer after an action: the reader as they are now, below the outcome.
async fn finish(
    edge: &Edge,
    desk: &Desk,
    mut panel: DeskPanel,
    form: &DeskForm,
    status: StatusCode,
) -> Response {
    if panel.reader.is_none() && !form.reader.is_empty() {
        match summary(edge, desk, Who::Id(&form.reader)).await {
            Ok(found) => panel.reader = Some(reader_view(desk, found)),
            Err(failure) if is_unreachable(&failure) => return failed(edge, desk, panel, &failure),
            Err(failure) => tracing::warn!(code = ?failure.code(), "the desk cannot read the reader back"),
        }
    }
    answer(edge, desk, panel, status)
}

/// A call that failed for a reason the desk can only report. A service that
/// cannot be reached answers 503 to the desk's script, which keeps the scan
/// and sends it again with the same request id.
fn failed(edge: &Edge, desk: &Desk, mut panel: DeskPanel, failure: &Status) -> Response {
    panel.outcome = Some(Outcome::refused(refusal_text(&desk.visit, failure), Vec::new()));
    answer(edge, desk, panel, status_of(failure))
}

/// The page, or only the panel for the desk's script. Refusals the script
/// shows come back as 200 so it does not mistake them for a lost answer;
/// only an unreachable service keeps its 5xx.
fn answer(edge: &Edge, desk: &Desk, panel: DeskPanel, status: StatusCode) -> Response {
    let status =
        if desk.visit.wants_fragment() && !status.is_server_error() { StatusCode::OK } else { status };
    desk.visit.finish(edge, render_for(desk, panel, status))
}

/// The panel alone for the desk's script, else the whole page, with `status`.
fn render_for(desk: &Desk, panel: DeskPanel, status: StatusCode) -> Response {
    if desk.visit.wants_fragment() {
        return render(&panel, status);
    }
    let page =
        DeskPage { shell: panel.shell.clone(), errors: Vec::new(), request_id: new_request_id(), panel };
    render(&page, status)
}

/// Who to summarise.
enum Who<'a> {
    Card(&'a str),
    Id(&'a str),
}

async fn summary(edge: &Edge, desk: &Desk, who: Who<'_>) -> Result<ReaderSummary, Status> {
    let request = match who {
        Who::Card(card) => {
            GetReaderSummaryRequest { reader_card_barcode: card.to_owned(), reader_id: String::new() }
        }
        Who::Id(id) => {
            GetReaderSummaryRequest { reader_card_barcode: String::new(), reader_id: id.to_owned() }
        }
    };
    Ok(LoanServiceClient::new(edge.calls())
        .get_reader_summary(desk.request(edge, request))
        .await?
        .into_inner())
}

/// Why a check-out would be refused and which rule decides; `None` if the
/// explanation cannot be had (it only adds to the refusal).
async fn explain(
    edge: &Edge,
    desk: &Desk,
    card: &str,
    copy: &str,
) -> Option<lectern_proto::circulation::v1::CheckOutExplanation> {
    let request =
        ExplainCheckOutRequest { reader_card_barcode: card.to_owned(), copy_barcode: copy.to_owned() };
    LoanServiceClient::new(edge.calls())
        .explain_check_out(desk.request(edge, request))
        .await
        .ok()
        .map(|a| a.into_inner())
}

fn request_id(form: &DeskForm) -> String {
    request_id_or_new(&form.request_id)
}

fn reason_of(status: &Status) -> Option<String> {
    Refusal::from_status(status).map(|refusal| refusal.reason.as_str_name().to_owned())
}

fn is_not_found(status: &Status) -> bool {
    status.code() == Code::NotFound
}

/// Whether the call did not reach an answer: the services are down or slow.
fn is_unreachable(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled)
}

#[cfg(test)]
mod tests;
