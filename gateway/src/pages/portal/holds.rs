//! `/portal/holds`: the reader's holds and where each stands (in line,
//! on its way, waiting on the hold shelf until a day), with "cancel";
//! `POST /portal/holds` places one from a title's page. Circulation
//! decides (a reader holds for themselves only, picked up at their own
//! school); the page says what it answered.

use axum::extract::{Form, Path, State};
use axum::response::Response;
use http::StatusCode;
use lectern_proto::circulation::v1::hold_service_client::HoldServiceClient;
use lectern_proto::circulation::v1::{CancelHoldRequest, ListHoldsRequest, PlaceHoldRequest};
use serde::Deserialize;

use super::Portal;
use super::loans::ActionForm;
use super::views::HoldsPage;
use super::words::hold_row;
use crate::http::Edge;
use crate::pages::i18n::format;
use crate::pages::signin::status_of;
use crate::pages::views::Notice;
use crate::pages::{Visit, new_request_id, request_id_or_new};

/// `GET /portal/holds`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    match Portal::open(&edge, visit).await {
        Ok(portal) => holds_page(&edge, &portal, None, StatusCode::OK).await,
        Err(response) => response,
    }
}

/// The holds page as it is now, with `notice` on top.
async fn holds_page(edge: &Edge, portal: &Portal, notice: Option<Notice>, status: StatusCode) -> Response {
    let mut shell = portal.shell("holds");
    shell.notice = notice;
    let request = ListHoldsRequest { reader_id: portal.reader_id(), include_closed: false };
    let zone = edge.config().time_zone;
    let holds = match HoldServiceClient::new(edge.calls()).list_holds(portal.request(edge, request)).await {
        Ok(answer) => {
            answer.into_inner().holds.iter().map(|hold| hold_row(portal.visit.lang, hold, zone)).collect()
        }
        Err(failure) => {
            shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
            Vec::new()
        }
    };
    let page = HoldsPage { shell, holds, request_id: new_request_id() };
    portal.finish(edge, &page, status)
}

/// The hold form of a title's page.
#[derive(Debug, Default, Deserialize)]
pub struct PlaceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    title_id: String,
}

/// `POST /portal/holds`.
pub async fn place(State(edge): State<Edge>, visit: Visit, Form(form): Form<PlaceForm>) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    if !portal.visit.csrf_ok(&edge, &form.csrf) {
        let notice = Notice::refusal(portal.text("reason.CSRF_TOKEN_INVALID"));
        return holds_page(&edge, &portal, Some(notice), StatusCode::FORBIDDEN).await;
    }
    let title_id = form.title_id.trim();
    if title_id.is_empty() {
        let notice = Notice::refusal(portal.text("portal.holds.title_missing"));
        return holds_page(&edge, &portal, Some(notice), StatusCode::BAD_REQUEST).await;
    }
    let request = PlaceHoldRequest {
        reader_card_barcode: String::new(),
        title_id: title_id.to_owned(),
        copy_barcode: String::new(),
        pickup_school_id: String::new(),
        request_id: request_id_or_new(&form.request_id),
    };
    let lang = portal.visit.lang;
    let (notice, status) = match HoldServiceClient::new(edge.calls())
        .place_hold(portal.request(&edge, request))
        .await
    {
        Ok(hold) => {
            let hold = hold.into_inner();
            (Notice::success(format(lang, "portal.holds.placed", &[("title", &hold.title)])), StatusCode::OK)
        }
        Err(failure) => {
            let text = portal.refusal(&failure);
            (Notice::refusal(text), status_of(&failure))
        }
    };
    holds_page(&edge, &portal, Some(notice), status).await
}

/// `POST /portal/holds/{hold_id}/cancel`.
pub async fn cancel(
    State(edge): State<Edge>,
    visit: Visit,
    Path(hold_id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    if !portal.visit.csrf_ok(&edge, &form.csrf) {
        let notice = Notice::refusal(portal.text("reason.CSRF_TOKEN_INVALID"));
        return holds_page(&edge, &portal, Some(notice), StatusCode::FORBIDDEN).await;
    }
    let request = CancelHoldRequest {
        hold_id: hold_id.trim().to_owned(),
        request_id: request_id_or_new(&form.request_id),
    };
    let lang = portal.visit.lang;
    let (notice, status) =
        match HoldServiceClient::new(edge.calls()).cancel_hold(portal.request(&edge, request)).await {
            Ok(hold) => {
                let hold = hold.into_inner();
                (
                    Notice::success(format(lang, "portal.holds.cancelled", &[("title", &hold.title)])),
                    StatusCode::OK,
                )
            }
            Err(failure) => {
                let text = portal.refusal(&failure);
                (Notice::refusal(text), status_of(&failure))
            }
        };
    holds_page(&edge, &portal, Some(notice), status).await
}
