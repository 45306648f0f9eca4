//! `/portal/loans`: the books the reader has, each with its due day and a
//! "renew" button, and "renew all"; `/portal/history`: the books they gave
//! back, as long as their category's history rule keeps them, with a
//! sentence saying the rule. Renewals are circulation's to allow (the
//! reader's own loans only, under the rule they were made under); each
//! form carries a request id, so one sent again renews once.

use axum::extract::{Form, Path, State};
use axum::response::Response;
use http::StatusCode;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{ListLoansRequest, LoanFilter, RenewAllRequest, RenewRequest};
use serde::Deserialize;

use super::Portal;
use super::home::{own_summary, today};
use super::views::{HistoryPage, LoansPage, PastLoan};
use super::words::{history_rule, loan_rows};
use crate::http::Edge;
use crate::pages::format::{day, day_of};
use crate::pages::i18n::{format, reason_named};
use crate::pages::signin::status_of;
use crate::pages::views::Notice;
use crate::pages::{Visit, new_request_id, request_id_or_new};

/// Returned loans shown on the history page.
const HISTORY_PAGE: i32 = 100;

/// A form that changes something: the CSRF token and a request id.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub request_id: String,
}

/// `GET /portal/loans`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    match Portal::open(&edge, visit).await {
        Ok(portal) => loans_page(&edge, &portal, None, Vec::new(), StatusCode::OK).await,
        Err(response) => response,
    }
}

/// The loans page as it is now, with `notice` on top.
async fn loans_page(
    edge: &Edge,
    portal: &Portal,
    notice: Option<Notice>,
    not_renewed: Vec<String>,
    status: StatusCode,
) -> Response {
    let mut shell = portal.shell("loans");
    shell.notice = notice;
    let loans = match own_summary(edge, portal).await {
        Ok(summary) => loan_rows(portal.visit.lang, &summary.loans, today(edge)),
        Err(failure) => {
            shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
            Vec::new()
        }
    };
    let page = LoansPage { shell, loans, not_renewed, request_id: new_request_id() };
    portal.finish(edge, &page, status)
}

/// `POST /portal/loans/{loan_id}/renew`.
pub async fn renew(
    State(edge): State<Edge>,
    visit: Visit,
    Path(loan_id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    if !portal.visit.csrf_ok(&edge, &form.csrf) {
        let notice = Notice::refusal(portal.text("reason.CSRF_TOKEN_INVALID"));
        return loans_page(&edge, &portal, Some(notice), Vec::new(), StatusCode::FORBIDDEN).await;
    }
    let request = RenewRequest {
        loan_id: loan_id.trim().to_owned(),
        copy_barcode: String::new(),
        request_id: request_id_or_new(&form.request_id),
    };
    let lang = portal.visit.lang;
    let (notice, status) =
        match LoanServiceClient::new(edge.calls()).renew(portal.request(&edge, request)).await {
            Ok(answer) => {
                let loan = answer.into_inner().loan.unwrap_or_default();
                let due = day(lang, &loan.due_date);
                let text = format(lang, "portal.loans.renewed", &[("title", &loan.title), ("due", &due)]);
                (Notice::success(text), StatusCode::OK)
            }
            Err(failure) => {
                let text = portal.refusal(&failure);
                (Notice::refusal(text), status_of(&failure))
            }
        };
    loans_page(&edge, &portal, Some(notice), Vec::new(), status).await
}

/// `POST /portal/loans/renew-all`.
pub async fn renew_all(State(edge): State<Edge>, visit: Visit, Form(form): Form<ActionForm>) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    if !portal.visit.csrf_ok(&edge, &form.csrf) {
        let notice = Notice::refusal(portal.text("reason.CSRF_TOKEN_INVALID"));
        return loans_page(&edge, &portal, Some(notice), Vec::new(), StatusCode::FORBIDDEN).await;
    }
    let request =
        RenewAllRequest { reader_id: portal.reader_id(), request_id: request_id_or_new(&form.request_id) };
    let lang = portal.visit.lang;
    match LoanServiceClient::new(edge.calls()).renew_all(portal.request(&edge, request)).await {
        Ok(answer) => {
            let outcomes = answer.into_inner().outcomes;
            let renewed = outcomes.iter().filter(|outcome| outcome.renewed).count();
            let not_renewed: Vec<String> = outcomes
                .iter()
                .filter(|outcome| !outcome.renewed)
                .map(|outcome| {
                    let title = outcome.loan.as_ref().map(|loan| loan.title.clone()).unwrap_or_default();
                    let why = reason_named(lang, &outcome.refusal_reason);
                    format(lang, "portal.loans.not_renewed_line", &[("title", &title), ("why", why)])
                })
                .collect();
            let notice = if renewed > 0 || outcomes.is_empty() {
                let id = if outcomes.is_empty() {
                    "portal.loans.nothing_to_renew"
                } else {
                    "portal.loans.renewed_all"
                };
                Notice::success(format(lang, id, &[("count", &renewed.to_string())]))
            } else {
                Notice::refusal(portal.text("portal.loans.none_renewed"))
            };
            loans_page(&edge, &portal, Some(notice), not_renewed, StatusCode::OK).await
        }
        Err(failure) => {
            let text = portal.refusal(&failure);
            loans_page(&edge, &portal, Some(Notice::refusal(text)), Vec::new(), status_of(&failure)).await
        }
    }
}

/// `GET /portal/history`.
pub async fn history(State(edge): State<Edge>, visit: Visit) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let lang = portal.visit.lang;
    let zone = edge.config().time_zone;
    let mut shell = portal.shell("history");
    let request = ListLoansRequest {
        reader_id: portal.reader_id(),
        filter: LoanFilter::Returned as i32,
        page_size: HISTORY_PAGE,
        page_token: String::new(),
    };
    let (loans, more) =
        match LoanServiceClient::new(edge.calls()).list_loans(portal.request(&edge, request)).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                let loans = answer
                    .loans
                    .iter()
                    .map(|loan| PastLoan {
                        title: loan.title.clone(),
                        title_id: loan.title_id.clone(),
                        borrowed: day_of(lang, loan.checked_out_at.as_ref(), zone),
                        returned: day_of(lang, loan.returned_at.as_ref(), zone),
                    })
                    .collect();
                (loans, !answer.next_page_token.is_empty())
            }
            Err(failure) => {
                shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
                (Vec::new(), false)
            }
        };
    let page =
        HistoryPage { shell, rule: history_rule(lang, portal.reader.history_rule.as_ref()), loans, more };
    portal.finish(&edge, &page, StatusCode::OK)
}
