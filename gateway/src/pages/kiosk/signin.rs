//! Signing in at the kiosk: the card scanned (`/kiosk/card`), then the PIN
//! typed on the pad (`/kiosk/pin`), or straight in at a card-only kiosk.
//! The reader signs in with the kiosk device's token sent alongside their
//! card (`GatewayService/Login`), so the token they get is bound to this
//! kiosk; wrong PINs count towards the same lockout as everywhere else.
//! The card travels back in the PIN form, never in a cookie.

use axum::extract::{Form, State};
use axum::response::{Redirect, Response};
use http::StatusCode;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::{LoginRequest, ReaderCredentials, login_request};
use tonic::Status;

use super::Kiosk;
use super::borrow::{KioskForm, SCAN_MAX, welcome};
use super::views::{Outcome, PinPage};
use crate::http::Edge;
use crate::http::session::Caller;
use crate::pages::{Visit, render};

/// The longest PIN taken (PINs are 4–8 digits).
const PIN_MAX: usize = 8;

/// `POST /kiosk/card`: a card scanned; the PIN pad next, or straight in at
/// a card-only kiosk.
pub async fn card(State(edge): State<Edge>, visit: Visit, Form(form): Form<KioskForm>) -> Response {
    let mut kiosk = match Kiosk::open(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    if !kiosk.visit.csrf_ok(&edge, &form.csrf) {
        let no = Outcome::no(kiosk.text("reason.CSRF_TOKEN_INVALID"), String::new(), Vec::new());
        return welcome(&edge, &kiosk, None, Some(no), StatusCode::FORBIDDEN);
    }
    // A new card while someone is still signed in: the next reader.
    if let Some(token) = kiosk.reader.as_ref().map(|reader| reader.token.clone()) {
        kiosk.sign_reader_out(&edge, &token).await;
    }
    let card = form.card.trim().to_owned();
    if card.is_empty() || card.len() > SCAN_MAX || card.chars().any(char::is_control) {
        let no = Outcome::no(kiosk.text("kiosk.welcome.card_missing"), String::new(), Vec::new());
        return welcome(&edge, &kiosk, None, Some(no), StatusCode::BAD_REQUEST);
    }
    if !kiosk.card_only {
        let page = PinPage { shell: kiosk.shell("pin"), card, error: None };
        return kiosk.finish(&edge, render(&page, StatusCode::OK));
    }
    match sign_in(&edge, &kiosk, &card, "").await {
        Ok(token) => signed_in(&edge, kiosk, &token),
        Err(failure) => {
            let why = sign_in_refusal(&kiosk, &failure, "kiosk.pin.card_unknown");
            let no = Outcome::no(why, String::new(), Vec::new());
            welcome(&edge, &kiosk, None, Some(no), crate::pages::signin::status_of(&failure))
        }
    }
}

/// `POST /kiosk/pin`: the card and the PIN typed on the pad.
pub async fn pin(State(edge): State<Edge>, visit: Visit, Form(form): Form<KioskForm>) -> Response {
    let kiosk = match Kiosk::open(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    let card = form.card.trim().to_owned();
    if card.is_empty() || card.len() > SCAN_MAX || card.chars().any(char::is_control) {
        let no = Outcome::no(kiosk.text("kiosk.welcome.card_missing"), String::new(), Vec::new());
        return welcome(&edge, &kiosk, None, Some(no), StatusCode::BAD_REQUEST);
    }
    let again = |error: String, status: StatusCode| {
        let page = PinPage { shell: kiosk.shell("pin"), card: card.clone(), error: Some(error) };
        kiosk.finish(&edge, render(&page, status))
    };
    if !kiosk.visit.csrf_ok(&edge, &form.csrf) {
        return again(kiosk.text("reason.CSRF_TOKEN_INVALID"), StatusCode::FORBIDDEN);
    }
    let pin = form.pin.trim();
    if pin.is_empty() || pin.len() > PIN_MAX {
        let id = if pin.is_empty() { "kiosk.pin.missing" } else { "kiosk.pin.wrong" };
        return again(kiosk.text(id), StatusCode::BAD_REQUEST);
    }
    match sign_in(&edge, &kiosk, &card, pin).await {
        Ok(token) => signed_in(&edge, kiosk, &token),
        Err(failure) => again(
            sign_in_refusal(&kiosk, &failure, "kiosk.pin.wrong"),
            crate::pages::signin::status_of(&failure),
        ),
    }
}

/// Signs the reader of `card` in at this kiosk: their token, bound to it.
async fn sign_in(edge: &Edge, kiosk: &Kiosk, card: &str, pin: &str) -> Result<String, Status> {
    let credentials = login_request::Credentials::Reader(ReaderCredentials {
        card_barcode: card.to_owned(),
        pin: pin.to_owned(),
    });
    let request = edge.request(
        LoginRequest { credentials: Some(credentials) },
        &Caller::Bearer(kiosk.device.access.clone()),
    );
    let login = GatewayServiceClient::new(edge.calls()).login(request).await?.into_inner();
    metrics::counter!("lectern_kiosk_sign_ins_total", "school" => kiosk.school_id.clone()).increment(1);
    Ok(login.access_token)
}

/// The sentence for a failed sign-in: wrong card or PIN in the kiosk's
/// words (`invalid_id`), anything else as its reason says.
fn sign_in_refusal(kiosk: &Kiosk, failure: &Status, invalid_id: &str) -> String {
    match Refusal::from_status(failure).map(|refusal| refusal.reason) {
        Some(Reason::CredentialsInvalid) => kiosk.text(invalid_id),
        _ => kiosk.refusal(failure),
    }
}

/// After signing in: the reader's screen (a new GET, so reloading it sends nothing again).
fn signed_in(edge: &Edge, mut kiosk: Kiosk, token: &str) -> Response {
    tracing::info!(device.id = %kiosk.device_id, "a reader signed in at the kiosk");
    kiosk.keep_reader(edge, token);
    kiosk.finish(edge, Redirect::to("/kiosk"))
}
