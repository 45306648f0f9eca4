//! `/portal/signin`: a reader signs in with card and PIN, the same
//! `GatewayService/Login` as the desk's reader form (wrong PINs count
//! towards the card's lockout there); `/portal/signout` ends the session.
//! The session is the desk's cookie, so the portal and `/` agree on who is
//! signed in; the reader's name or card is never kept in it.

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use http::header::SET_COOKIE;
use lectern_core::identity::SubjectKind;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{LoginRequest, LogoutRequest, ReaderCredentials, login_request};
use serde::Deserialize;

use super::views::{PortalShell, SignInPage};
use super::{finish, signed_in};
use crate::http::Edge;
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::{FieldMessage, Notice};
use crate::pages::{Visit, render};

/// The longest card or PIN taken (cards are barcodes of at most 64
/// characters, PINs 4–8 digits).
const CARD_MAX: usize = 64;
const PIN_MAX: usize = 8;

/// `GET /portal/signin?next=…&signed_out=1`.
#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    signed_out: Option<String>,
}

/// Where to go after signing in: a portal page, else the portal's home.
fn portal_path(next: &str) -> &str {
    let next = crate::pages::local_path(next);
    if next == "/portal" || next.starts_with("/portal/") || next.starts_with("/portal?") {
        next
    } else {
        "/portal"
    }
}

/// `GET /portal/signin`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<SignInQuery>) -> Response {
    if let Some(principal) = visit.principal(&edge).await
        && principal.kind == SubjectKind::Reader
        && principal.device_id.is_none()
    {
        return finish(&edge, &visit, Redirect::to(portal_path(&query.next)));
    }
    let mut shell = PortalShell::anonymous(&visit);
    if query.signed_out.is_some() {
        shell.notice = Some(Notice::success(visit.text("portal.signin.signed_out")));
    }
    let page = SignInPage { shell, errors: Vec::new(), card: String::new(), next: query.next };
    finish(&edge, &visit, render(&page, StatusCode::OK))
}

/// The sign-in form.
#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    card: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /portal/signin`.
pub async fn sign_in(State(edge): State<Edge>, visit: Visit, Form(form): Form<SignInForm>) -> Response {
    let card = form.card.trim().to_owned();
    let pin = form.pin.trim().to_owned();
    let again = |errors: Vec<FieldMessage>, status: StatusCode| {
        let page = SignInPage {
            shell: PortalShell::anonymous(&visit),
            errors,
            card: card.clone(),
            next: form.next.clone(),
        };
        finish(&edge, &visit, render(&page, status))
    };
    if !visit.csrf_ok(&edge, &form.csrf) {
        return again(
            vec![FieldMessage::summary(visit.text("reason.CSRF_TOKEN_INVALID"))],
            StatusCode::FORBIDDEN,
        );
    }
    let mut errors = Vec::new();
    if card.is_empty() || card.len() > CARD_MAX || card.chars().any(char::is_control) {
        errors.push(FieldMessage::field("card", visit.text("portal.signin.card_missing")));
    }
    if pin.is_empty() || pin.len() > PIN_MAX {
        errors.push(FieldMessage::field("pin", visit.text("portal.signin.pin_missing")));
    }
    if !errors.is_empty() {
        return again(errors, StatusCode::BAD_REQUEST);
    }
    let credentials =
        login_request::Credentials::Reader(ReaderCredentials { card_barcode: card.clone(), pin });
    let request = edge
        .request(LoginRequest { credentials: Some(credentials) }, &crate::http::session::Caller::Anonymous);
    match GatewayServiceClient::new(edge.calls()).login(request).await {
        Ok(login) => signed_in(&edge, &login.into_inner(), portal_path(&form.next)),
        Err(failure) => {
            let sentence = match Refusal::from_status(&failure).map(|refusal| refusal.reason) {
                Some(Reason::CredentialsInvalid) => visit.text("portal.signin.invalid"),
                _ => refusal_text(&visit, &failure),
            };
            again(vec![FieldMessage::field("pin", sentence)], status_of(&failure))
        }
    }
}

/// `POST /portal/signout`: ends the session at the reader service and
/// forgets the cookie. No CSRF check: signing out is always safe, and a
/// stale page must never keep someone signed in on a shared phone.
pub async fn sign_out(State(edge): State<Edge>, visit: Visit) -> Response {
    if visit.caller.token().is_some() {
        let mut identity = IdentityServiceClient::new(edge.calls());
        if let Err(failure) = identity.logout(edge.request(LogoutRequest {}, &visit.caller)).await {
            // The cookie goes anyway; the session ends with its refresh token.
            tracing::warn!(code = ?failure.code(), "signing out of the portal at the reader service failed");
        }
    }
    let mut response = Redirect::to("/portal/signin?signed_out=1").into_response();
    response.headers_mut().append(SET_COOKIE, edge.sessions().cookies.clear_session());
    finish(&edge, &visit, response)
}
