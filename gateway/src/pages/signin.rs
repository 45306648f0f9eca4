//! `/signin`: staff sign in with username and password, readers with card
//! and PIN; `/signout` ends the session. A successful sign-in sets the
//! session cookie and a new CSRF token (so a token planted before sign-in
//! is worth nothing after), then goes where the visitor was heading, or to
//! the password page when a one-time password must be changed first.

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use http::header::SET_COOKIE;
use lectern_core::refusal::Refusal;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{
    LoginRequest, LoginResponse, LogoutRequest, ReaderCredentials, StaffCredentials, login_request,
};
use serde::Deserialize;
use tonic::Status;

use super::views::{FieldMessage, Notice, SignInPage, Which};
use super::{Visit, local_path, render};
use crate::http::Edge;
use crate::http::session::{Caller, Tokens, new_csrf_token};

/// `GET /signin?next=…`.
#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
    /// Set after signing out, to say so.
    #[serde(default)]
    signed_out: Option<String>,
}

/// `GET /signin`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<SignInQuery>) -> Response {
    if visit.principal(&edge).await.is_some() {
        return Redirect::to(local_path(&query.next)).into_response();
    }
    let mut shell = visit.shell();
    if query.signed_out.is_some() {
        shell.notice = Some(Notice::success(visit.text("signin.signed_out")));
    }
    let page = SignInPage { shell, next: query.next, ..SignInPage::default() };
    visit.finish(&edge, render(&page, StatusCode::OK))
}

/// The staff sign-in form.
#[derive(Debug, Default, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin/staff`.
pub async fn staff(State(edge): State<Edge>, visit: Visit, Form(form): Form<StaffForm>) -> Response {
    let username = form.username.trim().to_owned();
    let page = |errors: Vec<FieldMessage>| SignInPage {
        shell: visit.shell(),
        errors,
        username: username.clone(),
        next: form.next.clone(),
        form: Which::Staff,
        ..SignInPage::default()
    };
    if !visit.csrf_ok(&edge, &form.csrf) {
        let errors = vec![FieldMessage::summary(visit.text("reason.CSRF_TOKEN_INVALID"))];
        return visit.finish(&edge, render(&page(errors), StatusCode::FORBIDDEN));
    }
    let mut errors = Vec::new();
    if username.is_empty() {
        errors.push(FieldMessage::field("username", visit.text("signin.staff.username_missing")));
    }
    if form.password.is_empty() {
        errors.push(FieldMessage::field("password", visit.text("signin.staff.password_missing")));
    }
    if !errors.is_empty() {
        return visit.finish(&edge, render(&page(errors), StatusCode::BAD_REQUEST));
    }
    let credentials = login_request::Credentials::Staff(StaffCredentials {
        username: username.clone(),
        password: form.password.clone(),
    });
    match log_in(&edge, credentials).await {
        Ok(login) => signed_in(&edge, &login, &username, &form.next),
        Err(status) => {
            let text = sign_in_refusal(&visit, &status, "signin.staff.invalid");
            let errors = vec![FieldMessage::field("password", text)];
            visit.finish(&edge, render(&page(errors), status_of(&status)))
        }
    }
}

/// The reader sign-in form.
#[derive(Debug, Default, Deserialize)]
pub struct ReaderForm {
    #[serde(default)]
    card: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /signin/reader`.
pub async fn reader(State(edge): State<Edge>, visit: Visit, Form(form): Form<ReaderForm>) -> Response {
    let card = form.card.trim().to_owned();
    let page = |errors: Vec<FieldMessage>| SignInPage {
        shell: visit.shell(),
        errors,
        card: card.clone(),
        next: form.next.clone(),
        form: Which::Reader,
        ..SignInPage::default()
    };
    if !visit.csrf_ok(&edge, &form.csrf) {
        let errors = vec![FieldMessage::summary(visit.text("reason.CSRF_TOKEN_INVALID"))];
        return visit.finish(&edge, render(&page(errors), StatusCode::FORBIDDEN));
    }
    let mut errors = Vec::new();
    if card.is_empty() {
        errors.push(FieldMessage::field("card", visit.text("signin.reader.card_missing")));
    }
    if form.pin.trim().is_empty() {
        errors.push(FieldMessage::field("pin", visit.text("signin.reader.pin_missing")));
    }
    if !errors.is_empty() {
        return visit.finish(&edge, render(&page(errors), StatusCode::BAD_REQUEST));
    }
    let credentials = login_request::Credentials::Reader(ReaderCredentials {
        card_barcode: card.clone(),
        pin: form.pin.trim().to_owned(),
    });
    match log_in(&edge, credentials).await {
        // A reader's name is never kept in the cookie.
        Ok(login) => signed_in(&edge, &login, "", &form.next),
        Err(status) => {
            let text = sign_in_refusal(&visit, &status, "signin.reader.invalid");
            let errors = vec![FieldMessage::field("pin", text)];
            visit.finish(&edge, render(&page(errors), status_of(&status)))
        }
    }
}

async fn log_in(edge: &Edge, credentials: login_request::Credentials) -> Result<LoginResponse, Status> {
    let request = edge.request(LoginRequest { credentials: Some(credentials) }, &Caller::Anonymous);
    let mut gateway = GatewayServiceClient::new(edge.calls());
    Ok(gateway.login(request).await?.into_inner())
}

/// The answer to a successful sign-in: the session cookie, a new CSRF
/// token, and the way on.
fn signed_in(edge: &Edge, login: &LoginResponse, label: &str, next: &str) -> Response {
    let tokens = Tokens::from_login(login, edge.clock().now(), label);
    let target = if login.password_change_required { "/password" } else { local_path(next) };
    let mut response = Redirect::to(target).into_response();
    let cookies = edge.sessions().cookies;
    response.headers_mut().append(SET_COOKIE, cookies.session(&tokens));
    response.headers_mut().append(SET_COOKIE, cookies.csrf(&new_csrf_token()));
    response
}

/// The sentence for a failed sign-in: wrong credentials in the words of
/// the form used (`invalid_id`), anything else as its reason says.
fn sign_in_refusal(visit: &Visit, status: &Status, invalid_id: &str) -> String {
    match Refusal::from_status(status).map(|refusal| refusal.reason) {
        Some(lectern_core::refusal::Reason::CredentialsInvalid) => visit.text(invalid_id),
        _ => refusal_text(visit, status),
    }
}

/// The sentence for a failed call: its reason's, or its code's.
pub fn refusal_text(visit: &Visit, status: &Status) -> String {
    match Refusal::from_status(status) {
        Some(refusal) => super::i18n::reason(visit.lang, refusal.reason).to_owned(),
        None => super::i18n::status(visit.lang, status.code()).to_owned(),
    }
}

/// The HTTP status of a page that shows a failed call.
pub fn status_of(status: &Status) -> StatusCode {
    lectern_core::status::http_status(status.code())
}

/// The sign-out form.
#[derive(Debug, Default, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`: ends the session at the reader service and forgets the
/// cookie.
pub async fn sign_out(State(edge): State<Edge>, visit: Visit, Form(form): Form<SignOutForm>) -> Response {
    if !visit.csrf_ok(&edge, &form.csrf) {
        return super::error_page(
            &edge,
            &visit,
            StatusCode::FORBIDDEN,
            "error.server_title",
            "reason.CSRF_TOKEN_INVALID",
        );
    }
    if visit.caller.token().is_some() {
        let mut identity = IdentityServiceClient::new(edge.calls());
        if let Err(status) = identity.logout(edge.request(LogoutRequest {}, &visit.caller)).await {
            // The cookie goes anyway; a session that could not be ended
            // here ends with its refresh token.
            tracing::warn!(code = ?status.code(), "signing out at the reader service failed");
        }
    }
    let mut response = Redirect::to("/signin?signed_out=1").into_response();
    response.headers_mut().append(SET_COOKIE, edge.sessions().cookies.clear_session());
    response
}
