//! The forms that add a reader or correct one: `/readers/new`
//! (CreateReader) and `/readers/{id}/edit` (UpdateReader, sending only what
//! changed). Each checks what was typed as the service would, so the
//! message stands next to its field, and shows the service's refusal
//! otherwise. What the PIN and card forms share with them (the reader of a
//! form, the focus) is here too.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{Redirect, Response};
use http::StatusCode;
use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{CreateReaderRequest, GetReaderRequest, Reader, UpdateReaderRequest};
use serde::Deserialize;
use tonic::Status;

use super::{
    Choice, cannot_open, categories, category_choices, check_form, classes, is_barcode, is_day_or_empty,
    is_number_or_empty, new_request_id, refusal_message, request_id_after, request_id_or_new, text_message,
};
use crate::http::Edge;
use crate::pages::school::{Desk, Section};
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::{FieldMessage, FieldMessages as _, Shell};
use crate::pages::{Visit, encode, render};

/// Refusals about one field of the reader form, and the request fields the
/// service may name as bad, by form field.
const REASONS: [(Reason, &str); 4] = [
    (Reason::CardBarcodeTaken, "card_barcode"),
    (Reason::ReaderNumberTaken, "number"),
    (Reason::ClassNotFound, "class_id"),
    (Reason::ReaderCategoryNotFound, "category"),
];
const FIELDS: [(&str, &str, &str); 6] = [
    ("name", "name", ""),
    ("card_barcode", "card_barcode", "readers.form.card_bad"),
    ("category", "category", ""),
    ("class_id", "class_id", ""),
    ("expires_on", "expires_on", "readers.form.date_bad"),
    ("number", "number", "readers.form.number_bad"),
];

/// A reader record as typed in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ReaderFields {
    pub name: String,
    pub card_barcode: String,
    pub category: String,
    pub class_id: String,
    pub expires_on: String,
    pub number: String,
    pub request_id: String,
}

/// The reader form as sent.
#[derive(Debug, Default, Deserialize)]
pub struct ReaderForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: ReaderFields,
}

/// Which reader a form is about, for its caption and way back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    /// The reader page, `/readers/{id}`.
    pub path: String,
    pub name: String,
    pub card: String,
}

impl Who {
    pub fn of(reader: &Reader) -> Self {
        Self {
            path: format!("/readers/{}", encode(&reader.id)),
            name: reader.name.clone(),
            card: reader.card_barcode.clone(),
        }
    }
}

/// `GET /readers/new`: add a reader.
#[derive(Debug, Clone, Template)]
#[template(path = "readers_new.html")]
pub struct NewReaderPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub fields: ReaderFields,
    pub categories: Vec<Choice>,
    pub classes: Vec<Choice>,
}

/// `GET /readers/{id}/edit`: correct a reader's record.
#[derive(Debug, Clone, Template)]
#[template(path = "reader_edit.html")]
pub struct EditReaderPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub who: Who,
    pub fields: ReaderFields,
    pub categories: Vec<Choice>,
    pub classes: Vec<Choice>,
}

/// The field that gets the focus: the first in error, else `first`.
pub fn focus<'a>(errors: &'a [FieldMessage], first: &'a str, field: &str) -> bool {
    errors.first_field().unwrap_or(first) == field
}

impl NewReaderPage {
    pub fn autofocus(&self, field: &str) -> bool {
        focus(&self.errors, "name", field)
    }

    /// The new reader's card is typed here; a card is replaced elsewhere.
    pub fn with_card(&self) -> bool {
        true
    }
}

impl EditReaderPage {
    pub fn autofocus(&self, field: &str) -> bool {
        focus(&self.errors, "name", field)
    }

    pub fn with_card(&self) -> bool {
        false
    }
}

/// What is wrong with a typed reader record, field by field.
pub fn check_reader(visit: &Visit, fields: &ReaderFields, with_card: bool) -> Vec<FieldMessage> {
    let mut errors: Vec<FieldMessage> = text_message(
        visit,
        "name",
        &fields.name,
        (100, true, false),
        "readers.form.name_missing",
        "readers.form.name_too_long",
    )
    .into_iter()
    .collect();
    if with_card && !is_barcode(&fields.card_barcode) {
        let id = if fields.card_barcode.trim().is_empty() {
            "readers.form.card_missing"
        } else {
            "readers.form.card_bad"
        };
        errors.push(FieldMessage::field("card_barcode", visit.text(id)));
    }
    if fields.category.trim().is_empty() {
        errors.push(FieldMessage::field("category", visit.text("readers.form.category_missing")));
    }
    if !is_day_or_empty(&fields.expires_on) {
        errors.push(FieldMessage::field("expires_on", visit.text("readers.form.date_bad")));
    }
    if !is_number_or_empty(&fields.number) {
        errors.push(FieldMessage::field("number", visit.text("readers.form.number_bad")));
    }
    errors
}

/// The choices of category and class; a list that cannot be read is a
/// message in the summary.
async fn choices(edge: &Edge, desk: &Desk, errors: &mut Vec<FieldMessage>) -> (Vec<Choice>, Vec<Choice>) {
    let (categories, classes) = futures::join!(categories(edge, desk), classes(edge, desk));
    let mut failed = |status: Status| {
        errors.push(FieldMessage::summary(refusal_text(&desk.visit, &status)));
        Vec::new()
    };
    let categories = match categories {
        Ok(categories) => category_choices(desk.visit.lang, &categories),
        Err(status) => failed(status),
    };
    let classes = classes.unwrap_or_else(failed);
    (categories, classes)
}

/// `GET /readers/new`.
pub async fn new_reader(State(edge): State<Edge>, visit: Visit) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let mut errors = Vec::new();
    let (categories, classes) = choices(&edge, &desk, &mut errors).await;
    // Most readers of a school are its students.
    let category = categories.iter().find(|choice| choice.value == "student").map(|c| c.value.clone());
    let fields = ReaderFields {
        category: category.unwrap_or_default(),
        request_id: new_request_id(),
        ..ReaderFields::default()
    };
    let page = NewReaderPage { shell: desk.shell(Section::Readers), errors, fields, categories, classes };
    desk.visit.finish(&edge, render(&page, StatusCode::OK))
}

/// `POST /readers/new`.
pub async fn create_reader(State(edge): State<Edge>, visit: Visit, Form(form): Form<ReaderForm>) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let create = async |fields: &ReaderFields| {
        let request = CreateReaderRequest {
            school_id: desk.school.id.clone(),
            card_barcode: fields.card_barcode.trim().to_owned(),
            name: fields.name.trim().to_owned(),
            category: fields.category.trim().to_owned(),
            class_id: fields.class_id.trim().to_owned(),
            expires_on: fields.expires_on.trim().to_owned(),
            request_id: fields.request_id.clone(),
            number: fields.number.trim().to_owned(),
        };
        let mut readers = ReaderServiceClient::new(edge.calls());
        let reader = readers.create_reader(desk.request(&edge, request)).await?.into_inner();
        Ok((reader.id, "created"))
    };
    let Again { fields, mut errors, status } = match send(&edge, &desk, form, true, create).await {
        Ok(response) => return response,
        Err(again) => again,
    };
    let (categories, classes) = choices(&edge, &desk, &mut errors).await;
    let page = NewReaderPage { shell: desk.shell(Section::Readers), errors, fields, categories, classes };
    desk.visit.finish(&edge, render(&page, status))
}

/// A reader form to show again: what was typed (with the request id to
/// send next), what went wrong and the status to answer with.
struct Again {
    fields: ReaderFields,
    errors: Vec<FieldMessage>,
    status: StatusCode,
}

/// Sends a reader form: the token and the fields checked (the card too when
/// `with_card`), then given to `call`, which answers the reader to go to and
/// the notice to show there. `Ok` is the way to the reader page, `Err` the
/// form to show again with the message next to its field.
async fn send(
    edge: &Edge,
    desk: &Desk,
    form: ReaderForm,
    with_card: bool,
    call: impl AsyncFnOnce(&ReaderFields) -> Result<(String, &'static str), Status>,
) -> Result<Response, Again> {
    let mut fields = form.fields;
    fields.request_id = request_id_or_new(&fields.request_id);
    let refused = check_form(edge, &desk.visit, &form.csrf, || check_reader(&desk.visit, &fields, with_card));
    if let Some((errors, status)) = refused {
        return Err(Again { fields, errors, status });
    }
    match call(&fields).await {
        Ok((id, done)) => {
            let back = format!("/readers/{}?done={done}", encode(&id));
            Ok(desk.visit.finish(edge, Redirect::to(&back)))
        }
        Err(status) => {
            let errors = vec![refusal_message(&desk.visit, &status, &REASONS, &FIELDS)];
            fields.request_id = request_id_after(&status, &fields.request_id);
            Err(Again { fields, errors, status: status_of(&status) })
        }
    }
}

/// The desk and the reader `id`, or the answer to give instead.
pub async fn desk_and_reader(edge: &Edge, visit: Visit, id: &str) -> Result<(Desk, Reader), Response> {
    let desk = Desk::open(edge, visit).await?;
    let mut readers = ReaderServiceClient::new(edge.calls());
    match readers.get_reader(desk.request(edge, GetReaderRequest { id: id.to_owned() })).await {
        Ok(reader) => Ok((desk, reader.into_inner())),
        Err(status) => Err(cannot_open(edge, &desk, &status)),
    }
}

/// The edit page for `reader`, with `fields` typed and `errors`.
async fn edit_page(
    edge: &Edge,
    desk: &Desk,
    reader: &Reader,
    fields: ReaderFields,
    mut errors: Vec<FieldMessage>,
) -> EditReaderPage {
    let (mut categories, mut classes) = choices(edge, desk, &mut errors).await;
    // The reader's own category and class stay choosable even when the
    // lists lack them (an old class, a list that could not be read), so
    // that saving never changes them unasked.
    if !categories.iter().any(|choice| choice.value == reader.category) {
        categories.push(Choice { value: reader.category.clone(), label: reader.category.clone() });
    }
    if !reader.class_id.is_empty() && !classes.iter().any(|choice| choice.value == reader.class_id) {
        classes.push(Choice { value: reader.class_id.clone(), label: reader.class_name.clone() });
    }
    EditReaderPage {
        shell: desk.shell(Section::Readers),
        errors,
        who: Who::of(reader),
        fields,
        categories,
        classes,
    }
}

/// `GET /readers/{id}/edit`.
pub async fn edit_reader(State(edge): State<Edge>, visit: Visit, Path(id): Path<String>) -> Response {
    let (desk, reader) = match desk_and_reader(&edge, visit, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let fields = ReaderFields {
        name: reader.name.clone(),
        card_barcode: String::new(),
        category: reader.category.clone(),
        class_id: reader.class_id.clone(),
        expires_on: reader.expires_on.clone(),
        number: reader.number.clone(),
        request_id: new_request_id(),
    };
    let page = edit_page(&edge, &desk, &reader, fields, Vec::new()).await;
    desk.visit.finish(&edge, render(&page, StatusCode::OK))
}

/// What the form changes in `reader`: only the fields typed differently.
pub fn changes(reader: &Reader, fields: &ReaderFields) -> UpdateReaderRequest {
    let changed = |now: &str, typed: &str| (now != typed.trim()).then(|| typed.trim().to_owned());
    UpdateReaderRequest {
        reader_id: reader.id.clone(),
        name: changed(&reader.name, &fields.name),
        category: changed(&reader.category, &fields.category),
        class_id: changed(&reader.class_id, &fields.class_id),
        expires_on: changed(&reader.expires_on, &fields.expires_on),
        number: changed(&reader.number, &fields.number),
        request_id: fields.request_id.clone(),
    }
}

/// `POST /readers/{id}/edit`.
pub async fn update_reader(
    State(edge): State<Edge>,
    visit: Visit,
    Path(id): Path<String>,
    Form(form): Form<ReaderForm>,
) -> Response {
    let (desk, reader) = match desk_and_reader(&edge, visit, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let update = async |fields: &ReaderFields| {
        let request = changes(&reader, fields);
        let unchanged = request.name.is_none()
            && request.category.is_none()
            && request.class_id.is_none()
            && request.expires_on.is_none()
            && request.number.is_none();
        if unchanged {
            return Ok((reader.id.clone(), "unchanged"));
        }
        let mut readers = ReaderServiceClient::new(edge.calls());
        readers.update_reader(desk.request(&edge, request)).await?;
        Ok((reader.id.clone(), "saved"))
    };
    let Again { fields, errors, status } = match send(&edge, &desk, form, false, update).await {
        Ok(response) => return response,
        Err(again) => again,
    };
    let page = edit_page(&edge, &desk, &reader, fields, errors).await;
    desk.visit.finish(&edge, render(&page, status))
}
