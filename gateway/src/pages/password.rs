//! `/password`: a staff member changes their password; at the first
//! sign-in with a one-time password they must, before anything else. The
//! reader service checks the rules and answers with a new session, which
//! replaces the cookie.

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use http::header::SET_COOKIE;
use lectern_core::identity::SubjectKind;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::reader::v1::ChangePasswordRequest;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use serde::Deserialize;

use super::signin::{refusal_text, status_of};
use super::views::{FieldMessage, PasswordPage};
use super::{Visit, render};
use crate::http::Edge;
use crate::http::session::Tokens;

/// `GET /password`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let Some(principal) = visit.principal(&edge).await else {
        return visit.to_sign_in();
    };
    if principal.kind != SubjectKind::Staff {
        return Redirect::to("/").into_response();
    }
    let page = PasswordPage {
        shell: visit.shell(),
        forced: principal.password_change_required,
        ..Default::default()
    };
    visit.finish(&edge, render(&page, StatusCode::OK))
}

/// The password form.
#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_again: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /password`.
pub async fn change(State(edge): State<Edge>, visit: Visit, Form(form): Form<PasswordForm>) -> Response {
    let Some(principal) = visit.principal(&edge).await else {
        return visit.to_sign_in();
    };
    let page = |errors: Vec<FieldMessage>| PasswordPage {
        shell: visit.shell(),
        errors,
        forced: principal.password_change_required,
    };
    if !visit.csrf_ok(&edge, &form.csrf) {
        let errors = vec![FieldMessage::summary(visit.text("reason.CSRF_TOKEN_INVALID"))];
        return visit.finish(&edge, render(&page(errors), StatusCode::FORBIDDEN));
    }
    let mut errors = Vec::new();
    if form.current_password.is_empty() {
        errors.push(FieldMessage::field("current_password", visit.text("password.current_missing")));
    }
    if form.new_password.is_empty() {
        errors.push(FieldMessage::field("new_password", visit.text("password.new_missing")));
    } else if form.new_password_again.is_empty() {
        errors.push(FieldMessage::field("new_password_again", visit.text("password.again_missing")));
    } else if form.new_password != form.new_password_again {
        // All three boxes come back empty: the message goes to the first new one.
        errors.push(FieldMessage::field("new_password", visit.text("password.mismatch")));
    }
    if !errors.is_empty() {
        return visit.finish(&edge, render(&page(errors), StatusCode::BAD_REQUEST));
    }
    let request = ChangePasswordRequest {
        current_password: form.current_password.clone(),
        new_password: form.new_password.clone(),
    };
    let mut identity = IdentityServiceClient::new(edge.calls());
    match identity.change_password(edge.request(request, &visit.caller)).await {
        Ok(response) => {
            let label = edge.sessions().facts(&visit.headers).map(|facts| facts.label).unwrap_or_default();
            let mut answer = Redirect::to("/?password_changed=1").into_response();
            if let Some(login) = response.into_inner().login {
                let tokens = Tokens::from_login(&login, edge.clock().now(), &label);
                answer.headers_mut().append(SET_COOKIE, edge.sessions().cookies.session(&tokens));
            }
            answer
        }
        Err(status) => {
            let field = match Refusal::from_status(&status).map(|refusal| refusal.reason) {
                Some(Reason::CredentialsInvalid) => "current_password",
                Some(Reason::PasswordTooWeak) => "new_password",
                _ => "",
            };
            let text = refusal_text(&visit, &status);
            let errors = vec![if field.is_empty() {
                FieldMessage::summary(text)
            } else {
                FieldMessage::field(field, text)
            }];
            visit.finish(&edge, render(&page(errors), status_of(&status)))
        }
    }
}
