//! The forms on the reader page: place and lift blocks, add and delete
//! staff notes, add and remove contacts, remove a WeChat binding. Each ([`Action`]) checks what was
//! typed as the service would, calls the service, and goes back to the
//! reader page with a notice; a refusal shows the page again with the
//! message next to the field and what was typed kept. What the forms hold
//! ([`Typed`]) and the choices of a contact are defined here and shown by
//! [`super::page`].

use axum::extract::{Form, Path, State};
use axum::response::{Redirect, Response};
use axum::routing::{MethodRouter, post};
use http::StatusCode;
use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    ContactChannel, ContactWho, CreateReaderBlockRequest, CreateReaderContactRequest,
    CreateReaderNoteRequest, DeleteBindingRequest, DeleteReaderBlockRequest, DeleteReaderContactRequest,
    DeleteReaderNoteRequest,
};
use serde::Deserialize;
use tonic::Status;

use super::page::load;
use super::{
    cannot_open, check_form, is_day_or_empty, new_request_id, refusal_message, request_id_after,
    request_id_or_new, text_message,
};
use crate::http::Edge;
use crate::pages::school::Desk;
use crate::pages::signin::status_of;
use crate::pages::views::FieldMessage;
use crate::pages::{Visit, encode, render};

/// What the page's forms hold: empty (with new request ids) on a fresh
/// page, what was typed after a refusal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Typed {
    pub block_reason: String,
    pub block_ends_on: String,
    pub block_request: String,
    pub note_text: String,
    pub note_request: String,
    pub contact_who: String,
    pub contact_channel: String,
    pub contact_value: String,
    pub contact_label: String,
    pub contact_request: String,
}

impl Typed {
    /// Empty forms, each with a new request id.
    pub fn fresh() -> Self {
        Self {
            block_request: new_request_id(),
            note_request: new_request_id(),
            contact_request: new_request_id(),
            ..Self::default()
        }
    }
}

/// The choices of "whose contact" and "what kind", with the form values
/// [`super::actions`] reads back.
pub const WHO: [(&str, ContactWho, &str); 3] = [
    ("reader", ContactWho::Reader, "readers.contact.reader"),
    ("guardian", ContactWho::Guardian, "readers.contact.guardian"),
    ("homeroom_teacher", ContactWho::HomeroomTeacher, "readers.contact.homeroom_teacher"),
];
pub const CHANNELS: [(&str, ContactChannel, &str); 3] = [
    ("phone", ContactChannel::Phone, "readers.contact.phone"),
    ("email", ContactChannel::Email, "readers.contact.email"),
    ("wechat", ContactChannel::Wechat, "readers.contact.wechat"),
];

/// A form of the reader page as sent: the CSRF token and what was typed.
#[derive(Debug, Default, Deserialize)]
pub struct PageForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    typed: Typed,
}

/// Where a form of the reader page is sent: the reader, and the block,
/// note or contact a button is about (empty for the forms that add one).
#[derive(Debug, Deserialize)]
pub struct Ids {
    id: String,
    #[serde(default)]
    item: String,
}

/// The forms of the reader page, each sent to its own address (see
/// [`super::routes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `POST /readers/{id}/blocks`: block the reader from borrowing.
    AddBlock,
    /// `POST /readers/{id}/blocks/{item}/lift`: lift a block.
    LiftBlock,
    /// `POST /readers/{id}/notes`: add a staff note.
    AddNote,
    /// `POST /readers/{id}/notes/{item}/delete`: delete a staff note.
    DeleteNote,
    /// `POST /readers/{id}/contacts`: add a contact point.
    AddContact,
    /// `POST /readers/{id}/contacts/{item}/delete`: remove a contact point.
    DeleteContact,
    /// `POST /readers/{id}/bindings/{item}/remove`: unbind a WeChat account
    /// (its sessions end).
    RemoveBinding,
}

impl Action {
    /// What is wrong with what was typed, as the service would say.
    fn check(self, visit: &Visit, typed: &Typed) -> Vec<FieldMessage> {
        match self {
            Action::AddBlock => check_block(visit, typed),
            Action::AddNote => check_note(visit, typed),
            Action::AddContact => check_contact(visit, typed),
            // One button: nothing typed.
            Action::LiftBlock | Action::DeleteNote | Action::DeleteContact | Action::RemoveBinding => {
                Vec::new()
            }
        }
    }

    /// Sends the form to its service.
    async fn call(self, edge: &Edge, desk: &Desk, ids: &Ids, typed: &Typed) -> Result<(), Status> {
        let mut readers = ReaderServiceClient::new(edge.calls());
        let mut profiles = ReaderProfileServiceClient::new(edge.calls());
        let reader_id = ids.id.clone();
        let item = ids.item.clone();
        match self {
            Action::AddBlock => {
                let request = CreateReaderBlockRequest {
                    reader_id,
                    reason: typed.block_reason.trim().to_owned(),
                    ends_on: typed.block_ends_on.trim().to_owned(),
                    request_id: typed.block_request.clone(),
                };
                readers.create_reader_block(desk.request(edge, request)).await?;
            }
            Action::LiftBlock => {
                let request = DeleteReaderBlockRequest { reader_id, block_id: item };
                readers.delete_reader_block(desk.request(edge, request)).await?;
            }
            Action::AddNote => {
                let request = CreateReaderNoteRequest {
                    reader_id,
                    text: typed.note_text.trim().to_owned(),
                    request_id: typed.note_request.clone(),
                };
                profiles.create_reader_note(desk.request(edge, request)).await?;
            }
            Action::DeleteNote => {
                let request = DeleteReaderNoteRequest { reader_id, note_id: item };
                profiles.delete_reader_note(desk.request(edge, request)).await?;
            }
            Action::AddContact => {
                let who = WHO.iter().find(|(value, _, _)| *value == typed.contact_who);
                let channel = CHANNELS.iter().find(|(value, _, _)| *value == typed.contact_channel);
                let request = CreateReaderContactRequest {
                    reader_id,
                    who: who.map_or(0, |(_, who, _)| i32::from(*who)),
                    channel: channel.map_or(0, |(_, channel, _)| i32::from(*channel)),
                    value: typed.contact_value.trim().to_owned(),
                    label: typed.contact_label.trim().to_owned(),
                    request_id: typed.contact_request.clone(),
                };
                profiles.create_reader_contact(desk.request(edge, request)).await?;
            }
            Action::DeleteContact => {
                let request = DeleteReaderContactRequest { reader_id, contact_id: item };
                profiles.delete_reader_contact(desk.request(edge, request)).await?;
            }
            Action::RemoveBinding => {
                let request = DeleteBindingRequest { binding_id: item };
                FamilyServiceClient::new(edge.calls()).delete_binding(desk.request(edge, request)).await?;
            }
        }
        Ok(())
    }

    /// Refusal reasons about one field of the form.
    fn reasons(self) -> &'static [(Reason, &'static str)] {
        match self {
            Action::AddContact => &[(Reason::ContactAlreadyExists, "contact_value")],
            _ => &[],
        }
    }

    /// Request fields the service may name as bad → the form's fields.
    fn fields(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            // The day is checked as a day here; the service also refuses a
            // day already past.
            Action::AddBlock => {
                &[("reason", "block_reason", ""), ("ends_on", "block_ends_on", "readers.block.ends_past")]
            }
            Action::AddNote => &[("text", "note_text", "")],
            Action::AddContact => &[
                ("who", "contact_who", ""),
                ("channel", "contact_channel", ""),
                ("value", "contact_value", "readers.contact.value_bad"),
                ("label", "contact_label", ""),
            ],
            Action::LiftBlock | Action::DeleteNote | Action::DeleteContact | Action::RemoveBinding => &[],
        }
    }

    /// The request id the form sent.
    fn request_id(self, typed: &mut Typed) -> Option<&mut String> {
        match self {
            Action::AddBlock => Some(&mut typed.block_request),
            Action::AddNote => Some(&mut typed.note_request),
            Action::AddContact => Some(&mut typed.contact_request),
            Action::LiftBlock | Action::DeleteNote | Action::DeleteContact | Action::RemoveBinding => None,
        }
    }

    /// The notice on the reader page after it went well (`?done=`).
    fn done(self) -> &'static str {
        match self {
            Action::AddBlock => "block",
            Action::LiftBlock => "lifted",
            Action::AddNote => "note",
            Action::DeleteNote => "note_deleted",
            Action::AddContact => "contact",
            Action::DeleteContact => "contact_deleted",
            Action::RemoveBinding => "binding_removed",
        }
    }
}

fn check_block(visit: &Visit, typed: &Typed) -> Vec<FieldMessage> {
    let mut errors: Vec<FieldMessage> = text_message(
        visit,
        "block_reason",
        &typed.block_reason,
        (500, true, false),
        "readers.block.reason_missing",
        "readers.block.reason_too_long",
    )
    .into_iter()
    .collect();
    if !is_day_or_empty(&typed.block_ends_on) {
        errors.push(FieldMessage::field("block_ends_on", visit.text("readers.form.date_bad")));
    }
    errors
}

fn check_note(visit: &Visit, typed: &Typed) -> Vec<FieldMessage> {
    let limits = (1000, true, true);
    text_message(
        visit,
        "note_text",
        &typed.note_text,
        limits,
        "readers.note.missing",
        "readers.note.too_long",
    )
    .into_iter()
    .collect()
}

fn check_contact(visit: &Visit, typed: &Typed) -> Vec<FieldMessage> {
    let mut errors = Vec::new();
    if !WHO.iter().any(|(value, _, _)| *value == typed.contact_who) {
        errors.push(FieldMessage::field("contact_who", visit.text("readers.contact.who_missing")));
    }
    if !CHANNELS.iter().any(|(value, _, _)| *value == typed.contact_channel) {
        errors.push(FieldMessage::field("contact_channel", visit.text("readers.contact.channel_missing")));
    }
    let value = (254, true, false);
    let label = (20, false, false);
    errors.extend(text_message(
        visit,
        "contact_value",
        &typed.contact_value,
        value,
        "readers.contact.value_missing",
        "readers.contact.value_too_long",
    ));
    errors.extend(text_message(
        visit,
        "contact_label",
        &typed.contact_label,
        label,
        "",
        "readers.contact.label_too_long",
    ));
    errors
}

/// The route of `action`'s form.
pub fn route(action: Action) -> MethodRouter<Edge> {
    post(move |edge: State<Edge>, visit: Visit, ids: Path<Ids>, form: Form<PageForm>| {
        submit(edge.0, visit, ids.0, form.0, action)
    })
}

/// The answer to `action`'s form: the desk opened, the token and what was
/// typed checked, then the service called; back to the reader page with
/// the form's notice, or the page again with the message next to its field
/// and what was typed kept.
async fn submit(edge: Edge, visit: Visit, ids: Ids, form: PageForm, action: Action) -> Response {
    let edge = &edge;
    let desk = match Desk::open(edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let mut typed = form.typed;
    if let Some(request_id) = action.request_id(&mut typed) {
        *request_id = request_id_or_new(request_id);
    }
    let refused = check_form(edge, &desk.visit, &form.csrf, || action.check(&desk.visit, &typed));
    if let Some((errors, status)) = refused {
        return again(edge, &desk, &ids.id, typed, errors, status).await;
    }
    match action.call(edge, &desk, &ids, &typed).await {
        Ok(()) => {
            let back = format!("/readers/{}?done={}", encode(&ids.id), action.done());
            desk.visit.finish(edge, Redirect::to(&back))
        }
        Err(status) => {
            let message = refusal_message(&desk.visit, &status, action.reasons(), action.fields());
            if let Some(request_id) = action.request_id(&mut typed) {
                *request_id = request_id_after(&status, request_id);
            }
            again(edge, &desk, &ids.id, typed, vec![message], status_of(&status)).await
        }
    }
}

/// The reader page again after a refused form, with `errors` and `typed`.
async fn again(
    edge: &Edge,
    desk: &Desk,
    id: &str,
    mut typed: Typed,
    errors: Vec<FieldMessage>,
    status: StatusCode,
) -> Response {
    for request_id in [&mut typed.block_request, &mut typed.note_request, &mut typed.contact_request] {
        if request_id.is_empty() {
            *request_id = new_request_id();
        }
    }
    match load(edge, desk, id, typed, errors).await {
        Ok(page) => desk.visit.finish(edge, render(&page, status)),
        Err(status) => cannot_open(edge, desk, &status),
    }
}
