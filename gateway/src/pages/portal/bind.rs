//! `/portal/bind`: binding a reader to the WeChat account — the first time
//! with the ticket of the WeChat hand-over ([`super::wechat`]), later,
//! signed in through WeChat, to add another child. The person proves the
//! card with its PIN (wrong PINs count towards its lockout, as at any
//! sign-in) or with the code the library printed, and a guardian gives
//! the phone number or e-mail the school has for them. The reader service
//! decides; the page says what to fix.

use axum::extract::{Form, State};
use axum::response::Response;
use http::StatusCode;
use lectern_core::identity::SubjectKind;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::{BindReaderRequest, BindingRelation};
use serde::Deserialize;

use super::views::{BindPage, PortalShell};
use super::{Portal, finish, signed_in};
use crate::http::Edge;
use crate::http::session::Caller;
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::FieldMessage;
use crate::pages::{Visit, render};

/// The longest value taken in any field.
const FIELD_MAX: usize = 128;

/// `GET /portal/bind`: the form to add a child, signed in through WeChat;
/// anyone else is told to open the portal from the mini-program.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let adding = visit
        .principal(&edge)
        .await
        .is_some_and(|principal| principal.kind == SubjectKind::Reader && principal.family_account.is_some());
    let page = if adding {
        match Portal::open(&edge, visit.clone()).await {
            Ok(portal) => BindPage {
                shell: portal.shell("family"),
                can_bind: true,
                adding: true,
                relation: "guardian".to_owned(),
                ..BindPage::default()
            },
            Err(response) => return response,
        }
    } else {
        let mut shell = PortalShell::anonymous(&visit);
        shell.signed_in = visit.caller.token().is_some();
        BindPage { shell, relation: "guardian".to_owned(), ..BindPage::default() }
    };
    finish(&edge, &visit, render(&page, StatusCode::OK))
}

/// The bind form.
#[derive(Debug, Default, Deserialize)]
pub struct BindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    card: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    binding_code: String,
    #[serde(default)]
    relation: String,
    #[serde(default)]
    guardian_contact: String,
}

/// `POST /portal/bind`.
pub async fn bind(State(edge): State<Edge>, visit: Visit, Form(form): Form<BindForm>) -> Response {
    let ticket = form.ticket.trim().to_owned();
    // Adding a child rides on the family session; the first binding on the ticket.
    let portal = if ticket.is_empty() { Portal::open(&edge, visit.clone()).await.ok() } else { None };
    let adding = portal.as_ref().is_some_and(Portal::through_wechat);
    let card = form.card.trim().to_owned();
    let relation = form.relation.trim().to_owned();
    let contact = form.guardian_contact.trim().to_owned();
    let again = |errors: Vec<FieldMessage>, status: StatusCode| {
        let shell = match &portal {
            Some(portal) => portal.shell("family"),
            None => PortalShell::anonymous(&visit),
        };
        let page = BindPage {
            shell,
            errors,
            ticket: ticket.clone(),
            can_bind: adding || !ticket.is_empty(),
            adding,
            card: card.clone(),
            relation: if relation == "self" { "self".to_owned() } else { "guardian".to_owned() },
            guardian_contact: contact.clone(),
        };
        finish(&edge, &visit, render(&page, status))
    };
    if !visit.csrf_ok(&edge, &form.csrf) {
        return again(
            vec![FieldMessage::summary(visit.text("reason.CSRF_TOKEN_INVALID"))],
            StatusCode::FORBIDDEN,
        );
    }
    if ticket.is_empty() && !adding {
        return again(
            vec![FieldMessage::summary(visit.text("portal.bind.open_in_wechat"))],
            StatusCode::BAD_REQUEST,
        );
    }
    let pin = form.pin.trim().to_owned();
    let code: String = form.binding_code.chars().filter(|c| !c.is_whitespace()).collect();
    let (errors, relation_value) = check(&visit, &card, &pin, &code, &relation, &contact, &ticket);
    if !errors.is_empty() {
        return again(errors, StatusCode::BAD_REQUEST);
    }
    let request = BindReaderRequest {
        binding_ticket: ticket.clone(),
        card_barcode: card.clone(),
        pin,
        binding_code: code,
        relation: relation_value as i32,
        guardian_contact: if relation_value == BindingRelation::Guardian {
            contact.clone()
        } else {
            String::new()
        },
    };
    // With a ticket the person is not signed in yet: the ticket is the proof.
    let caller = if ticket.is_empty() { visit.caller.clone() } else { Caller::Anonymous };
    match FamilyServiceClient::new(edge.calls()).bind_reader(edge.request(request, &caller)).await {
        Ok(answer) => match answer.into_inner().login {
            Some(login) if !login.access_token.is_empty() => {
                tracing::info!("a reader was bound to a WeChat account in the portal");
                signed_in(
                    &edge,
                    &login,
                    if adding { "/portal/family?done=bound" } else { "/portal?done=bound" },
                )
            }
            _ => again(vec![FieldMessage::summary(visit.text("error.unavailable"))], StatusCode::BAD_GATEWAY),
        },
        Err(failure) => {
            let field =
                match lectern_core::refusal::Refusal::from_status(&failure).map(|refusal| refusal.reason) {
                    Some(lectern_core::refusal::Reason::CredentialsInvalid) => "pin",
                    Some(lectern_core::refusal::Reason::BindingCodeInvalid) => "binding_code",
                    Some(lectern_core::refusal::Reason::GuardianContactMismatch) => "guardian_contact",
                    _ => "",
                };
            let sentence = if field == "pin" {
                visit.text("portal.bind.invalid")
            } else {
                refusal_text(&visit, &failure)
            };
            again(vec![FieldMessage { field: field.to_owned(), text: sentence }], status_of(&failure))
        }
    }
}

/// What is wrong with the form, field by field, and the relation asked for.
fn check(
    visit: &Visit,
    card: &str,
    pin: &str,
    code: &str,
    relation: &str,
    contact: &str,
    ticket: &str,
) -> (Vec<FieldMessage>, BindingRelation) {
    let mut errors = Vec::new();
    if ticket.len() > 512 {
        errors.push(FieldMessage::summary(visit.text("portal.bind.open_in_wechat")));
    }
    if card.is_empty() || card.len() > FIELD_MAX || card.chars().any(char::is_control) {
        errors.push(FieldMessage::field("card", visit.text("portal.bind.card_missing")));
    }
    if pin.is_empty() && code.is_empty() {
        errors.push(FieldMessage::field("pin", visit.text("portal.bind.proof_missing")));
    } else if !pin.is_empty() && !code.is_empty() {
        errors.push(FieldMessage::field("pin", visit.text("portal.bind.proof_both")));
    } else if pin.len() > 8 || code.len() > 16 {
        errors.push(FieldMessage::field(
            if pin.is_empty() { "binding_code" } else { "pin" },
            visit.text("portal.bind.invalid"),
        ));
    }
    let relation_value = match relation {
        "self" => BindingRelation::Self_,
        "guardian" => BindingRelation::Guardian,
        _ => {
            errors.push(FieldMessage::field("relation", visit.text("portal.bind.relation_missing")));
            BindingRelation::Guardian
        }
    };
    if relation_value == BindingRelation::Guardian && (contact.is_empty() || contact.len() > FIELD_MAX) {
        errors.push(FieldMessage::field("guardian_contact", visit.text("portal.bind.contact_missing")));
    }
    (errors, relation_value)
}
