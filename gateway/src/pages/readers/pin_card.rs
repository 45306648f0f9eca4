//! How a reader proves who they are: `/readers/{id}/pin` sets the PIN they
//! sign in with at kiosks, the portal and phones (SetReaderPin; a PIN is
//! never shown back, not even after a refusal), and `/readers/{id}/card`
//! gives them a new library card in place of a lost one
//! (ReplaceReaderCard; the old card stops working at once).

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{Redirect, Response};
use http::StatusCode;
use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{ReplaceReaderCardRequest, SetReaderPinRequest};
use serde::Deserialize;

use super::form::{Who, desk_and_reader, focus};
use super::{check_form, is_barcode, new_request_id, refusal_message, request_id_after, request_id_or_new};
use crate::http::Edge;
use crate::pages::school::Section;
use crate::pages::signin::status_of;
use crate::pages::views::{FieldMessage, FieldMessages as _, Shell};
use crate::pages::{Visit, encode, render};

/// `GET /readers/{id}/pin`: set the reader's PIN (fields `pin`, `pin_again`).
#[derive(Debug, Clone, Template)]
#[template(path = "reader_pin.html")]
pub struct PinPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub who: Who,
}

/// `GET /readers/{id}/card`: give the reader a new card (field `new_card`).
#[derive(Debug, Clone, Template)]
#[template(path = "reader_card.html")]
pub struct CardPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub who: Who,
    pub new_card: String,
    pub request_id: String,
}

impl PinPage {
    pub fn autofocus(&self, field: &str) -> bool {
        focus(&self.errors, "pin", field)
    }
}

impl CardPage {
    pub fn autofocus(&self, field: &str) -> bool {
        focus(&self.errors, "new_card", field)
    }
}

/// `GET /readers/{id}/pin`.
pub async fn pin(State(edge): State<Edge>, visit: Visit, Path(id): Path<String>) -> Response {
    let (desk, reader) = match desk_and_reader(&edge, visit, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let page = PinPage { shell: desk.shell(Section::Readers), errors: Vec::new(), who: Who::of(&reader) };
    desk.visit.finish(&edge, render(&page, StatusCode::OK))
}

/// The PIN form as sent.
#[derive(Debug, Default, Deserialize)]
pub struct PinForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    pin_again: String,
}

/// What is wrong with the PINs typed: 4 to 8 digits, twice the same.
pub fn check_pin(visit: &Visit, pin: &str, again: &str) -> Vec<FieldMessage> {
    let digits = (4..=8).contains(&pin.len()) && pin.bytes().all(|byte| byte.is_ascii_digit());
    let problem = if pin.is_empty() {
        Some(("pin", "readers.pin.missing"))
    } else if !digits {
        Some(("pin", "readers.pin.bad"))
    } else if again.is_empty() {
        Some(("pin_again", "readers.pin.again_missing"))
    } else if pin != again {
        // Both boxes come back empty: the message goes to the first.
        Some(("pin", "readers.pin.mismatch"))
    } else {
        None
    };
    problem.map(|(field, id)| FieldMessage::field(field, visit.text(id))).into_iter().collect()
}

/// `POST /readers/{id}/pin`.
pub async fn set_pin(
    State(edge): State<Edge>,
    visit: Visit,
    Path(id): Path<String>,
    Form(form): Form<PinForm>,
) -> Response {
    let (desk, reader) = match desk_and_reader(&edge, visit, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let page = |errors: Vec<FieldMessage>| PinPage {
        shell: desk.shell(Section::Readers),
        errors,
        who: Who::of(&reader),
    };
    let (pin, again) = (form.pin.trim(), form.pin_again.trim());
    if let Some((errors, status)) =
        check_form(&edge, &desk.visit, &form.csrf, || check_pin(&desk.visit, pin, again))
    {
        return desk.visit.finish(&edge, render(&page(errors), status));
    }
    let request = SetReaderPinRequest { reader_id: reader.id.clone(), pin: pin.to_owned() };
    let mut readers = ReaderServiceClient::new(edge.calls());
    match readers.set_reader_pin(desk.request(&edge, request)).await {
        Ok(_) => desk.visit.finish(&edge, Redirect::to(&format!("/readers/{}?done=pin", encode(&reader.id)))),
        Err(status) => {
            let errors =
                vec![refusal_message(&desk.visit, &status, &[], &[("pin", "pin", "readers.pin.bad")])];
            desk.visit.finish(&edge, render(&page(errors), status_of(&status)))
        }
    }
}

/// `GET /readers/{id}/card`.
pub async fn card(State(edge): State<Edge>, visit: Visit, Path(id): Path<String>) -> Response {
    let (desk, reader) = match desk_and_reader(&edge, visit, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let page = CardPage {
        shell: desk.shell(Section::Readers),
        errors: Vec::new(),
        who: Who::of(&reader),
        new_card: String::new(),
        request_id: new_request_id(),
    };
    desk.visit.finish(&edge, render(&page, StatusCode::OK))
}

/// The new card form as sent.
#[derive(Debug, Default, Deserialize)]
pub struct CardForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    new_card: String,
    #[serde(default)]
    request_id: String,
}

/// `POST /readers/{id}/card`.
pub async fn replace_card(
    State(edge): State<Edge>,
    visit: Visit,
    Path(id): Path<String>,
    Form(form): Form<CardForm>,
) -> Response {
    let (desk, reader) = match desk_and_reader(&edge, visit, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let new_card = form.new_card.trim().to_owned();
    let mut page = CardPage {
        shell: desk.shell(Section::Readers),
        errors: Vec::new(),
        who: Who::of(&reader),
        new_card: new_card.clone(),
        request_id: request_id_or_new(&form.request_id),
    };
    let check = || {
        let problem = if new_card.is_empty() {
            Some("readers.form.card_missing")
        } else if !is_barcode(&new_card) {
            Some("readers.form.card_bad")
        } else if new_card == reader.card_barcode {
            Some("readers.replace.same")
        } else {
            None
        };
        problem.map(|id| FieldMessage::field("new_card", desk.text(id))).into_iter().collect()
    };
    if let Some((errors, status)) = check_form(&edge, &desk.visit, &form.csrf, check) {
        page.errors = errors;
        return desk.visit.finish(&edge, render(&page, status));
    }
    let request = ReplaceReaderCardRequest {
        reader_id: reader.id.clone(),
        new_card_barcode: new_card,
        request_id: page.request_id.clone(),
    };
    let mut readers = ReaderServiceClient::new(edge.calls());
    match readers.replace_reader_card(desk.request(&edge, request)).await {
        Ok(_) => {
            desk.visit.finish(&edge, Redirect::to(&format!("/readers/{}?done=card", encode(&reader.id))))
        }
        Err(status) => {
            let reasons = [(Reason::CardBarcodeTaken, "new_card")];
            page.errors.push(refusal_message(
                &desk.visit,
                &status,
                &reasons,
                &[("new_card_barcode", "new_card", "")],
            ));
            page.request_id = request_id_after(&status, &page.request_id);
            desk.visit.finish(&edge, render(&page, status_of(&status)))
        }
    }
}
