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
    let attempt = Attempt {
        which: Which::Staff,
        name: ("username", username.clone(), "signin.staff.username_missing"),
        secret: ("password", form.password.clone(), "signin.staff.password_missing"),
        invalid: "signin.staff.invalid",
        csrf: form.csrf,
        next: form.next,
    };
    let credentials = login_request::Credentials::Staff(StaffCredentials {
        username: username.clone(),
        password: form.password,
    });
    // The username is kept in the cookie for the pages to greet by.
    attempt.make(&edge, &visit, credentials, &username).await
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
    let pin = form.pin.trim().to_owned();
    let attempt = Attempt {
        which: Which::Reader,
        name: ("card", card.clone(), "signin.reader.card_missing"),
        secret: ("pin", pin.clone(), "signin.reader.pin_missing"),
        invalid: "signin.reader.invalid",
        csrf: form.csrf,
        next: form.next,
    };
    let credentials = login_request::Credentials::Reader(ReaderCredentials { card_barcode: card, pin });
    // A reader's name or card is never kept in the cookie.
    attempt.make(&edge, &visit, credentials, "").await
}

/// One sign-in form sent: who (username or card) and the secret (password
/// or PIN), each as (input id, value, catalogue id of "missing").
struct Attempt {
    which: Which,
    name: (&'static str, String, &'static str),
    secret: (&'static str, String, &'static str),
    /// The catalogue id of "wrong credentials" in this form's words.
    invalid: &'static str,
    csrf: String,
    next: String,
}

impl Attempt {
    /// Checks the form, signs in, and answers with the session or the
    /// form again with what is wrong.
    async fn make(
        self,
        edge: &Edge,
        visit: &Visit,
        credentials: login_request::Credentials,
        label: &str,
    ) -> Response {
        let page = |errors: Vec<FieldMessage>| {
            let mut page = SignInPage {
                shell: visit.shell(),
                errors,
                next: self.next.clone(),
                form: self.which,
                ..SignInPage::default()
            };
            match self.which {
                Which::Staff => page.username = self.name.1.clone(),
                Which::Reader => page.card = self.name.1.clone(),
            }
            page
        };
        if !visit.csrf_ok(edge, &self.csrf) {
            let errors = vec![FieldMessage::summary(visit.text("reason.CSRF_TOKEN_INVALID"))];
            return visit.finish(edge, render(&page(errors), StatusCode::FORBIDDEN));
        }
        let errors: Vec<FieldMessage> = [&self.name, &self.secret]
            .into_iter()
            .filter(|(_, value, _)| value.is_empty())
            .map(|(field, _, missing)| FieldMessage::field(*field, visit.text(missing)))
            .collect();
        if !errors.is_empty() {
            return visit.finish(edge, render(&page(errors), StatusCode::BAD_REQUEST));
        }
        match log_in(edge, credentials).await {
            Ok(login) => signed_in(edge, &login, label, &self.next),
            Err(status) => {
                let errors =
                    vec![FieldMessage::field(self.secret.0, sign_in_refusal(visit, &status, self.invalid))];
                visit.finish(edge, render(&page(errors), status_of(&status)))
            }
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
        return visit.csrf_refused(&edge);
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
