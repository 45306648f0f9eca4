//! `/kiosk/returns`: return mode. Books go back without a card, on the
//! kiosk device's own token (circulation takes them back at the device's
//! school, as a return box does), and each says where to put it: the
//! return box, or into a teacher's hands when a reader waits for it or it
//! travels to another school. The school's name is not shown: a device
//! may not list schools, and a child needs only "give it to a teacher".

use axum::extract::{Form, State};
use axum::response::Response;
use http::StatusCode;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{CheckInRequest, CheckInResponse, CheckInRoute};
use serde::Deserialize;

use super::Kiosk;
use super::views::{Outcome, ReturnLine, ReturnsPage};
use crate::http::Edge;
use crate::pages::{Visit, new_request_id, render, request_id_or_new};

/// The longest barcode taken.
const SCAN_MAX: usize = 64;

/// `GET /kiosk/returns`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let mut kiosk = match Kiosk::open(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    kiosk.touch(&edge);
    page(&edge, &kiosk, Vec::new(), StatusCode::OK)
}

/// The return form.
#[derive(Debug, Default, Deserialize)]
pub struct ReturnForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    scan: String,
}

/// `POST /kiosk/returns/scan`: one book back.
pub async fn scan(State(edge): State<Edge>, visit: Visit, Form(form): Form<ReturnForm>) -> Response {
    let mut kiosk = match Kiosk::open(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    kiosk.touch(&edge);
    let no = |kiosk: &Kiosk, headline: String, details: Vec<String>| ReturnLine {
        shell: kiosk.shell("returns"),
        outcome: Outcome::no(headline, String::new(), details),
        place: "no",
    };
    if !kiosk.visit.csrf_ok(&edge, &form.csrf) {
        let line = no(&kiosk, kiosk.text("reason.CSRF_TOKEN_INVALID"), Vec::new());
        return page(&edge, &kiosk, vec![line], StatusCode::FORBIDDEN);
    }
    let barcode = form.scan.trim();
    if barcode.is_empty() || barcode.len() > SCAN_MAX || barcode.chars().any(char::is_control) {
        let line = no(&kiosk, kiosk.text("kiosk.returns.scan_missing"), Vec::new());
        return page(&edge, &kiosk, vec![line], StatusCode::BAD_REQUEST);
    }
    let request = CheckInRequest {
        copy_barcode: barcode.to_owned(),
        request_id: request_id_or_new(&form.request_id),
        damaged: false,
        damage_note: String::new(),
        damage_fee: 0,
        desk_school_id: String::new(),
    };
    let request = kiosk.as_device(&edge, request);
    match LoanServiceClient::new(edge.calls()).check_in(request).await {
        Ok(answer) => {
            let line = describe(&kiosk, answer.into_inner());
            page(&edge, &kiosk, vec![line], StatusCode::OK)
        }
        Err(failure) => {
            tracing::info!(device.id = %kiosk.device_id, code = ?failure.code(), "a kiosk return was refused");
            let line = no(&kiosk, kiosk.text("kiosk.returns.refused"), vec![kiosk.refusal(&failure)]);
            page(&edge, &kiosk, vec![line], crate::pages::signin::status_of(&failure))
        }
    }
}

/// Where the book goes, in a child's words.
fn describe(kiosk: &Kiosk, answer: CheckInResponse) -> ReturnLine {
    let title = answer
        .loan
        .as_ref()
        .map(|loan| loan.title.clone())
        .filter(|title| !title.is_empty())
        .or_else(|| answer.hold.as_ref().map(|hold| hold.title.clone()))
        .or_else(|| answer.transit.as_ref().map(|transit| transit.title.clone()))
        .unwrap_or_default();
    let route = CheckInRoute::try_from(answer.route).unwrap_or(CheckInRoute::Unspecified);
    let (ok, id, place) = match route {
        CheckInRoute::HoldShelf => (true, "kiosk.returns.to_hold", "teacher"),
        CheckInRoute::Transit => (true, "kiosk.returns.to_transit", "teacher"),
        _ if !answer.was_on_loan && answer.transit.is_none() => {
            (false, "kiosk.returns.not_on_loan", "teacher")
        }
        _ => (true, "kiosk.returns.to_shelf", "box"),
    };
    let outcome = if ok {
        Outcome::yes(kiosk.text(id), title, Vec::new())
    } else {
        Outcome::no(kiosk.text(id), title, Vec::new())
    };
    ReturnLine { shell: kiosk.shell("returns"), outcome, place }
}

fn page(edge: &Edge, kiosk: &Kiosk, lines: Vec<ReturnLine>, status: StatusCode) -> Response {
    let page = ReturnsPage { shell: kiosk.shell("returns"), lines, request_id: new_request_id() };
    kiosk.finish(edge, render(&page, status))
}
