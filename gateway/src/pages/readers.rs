//! `/readers`: the desk's readers screens. This module owns the routes and
//! what the screens share: the choices of category and class, a reader's
//! standing in words, the checks of typed fields and where a service's
//! refusal goes on a form. Finding readers is [`list`]; the reader page with
//! its blocks, loans, history, notes and contacts is [`page`], the forms on
//! it [`actions`], the data export [`export`]; adding and correcting a
//! reader is [`form`], setting a PIN and replacing a lost card [`pin_card`],
//! the reader's WeChat bindings and the binding code printed for a parent
//! [`bindings`].
//!
//! Everything a reader screen shows comes from ReaderService,
//! ReaderProfileService, FamilyService and LoanService, called with the staff member's
//! token for the desk's school; the services decide who may see and change
//! what, the pages show their answers.

mod actions;
mod bindings;
mod export;
mod form;
mod list;
mod page;
mod pin_card;

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use http::StatusCode;
use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    ListClassesRequest, ListReaderCategoriesRequest, Reader, ReaderCategory, ReaderStatus,
};
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

use super::i18n::{Lang, text};
use super::school::{Desk, Section};
use super::signin::{refusal_text, status_of};
use super::views::{ErrorPage, FieldMessage};
use super::{Visit, render};
pub use super::{new_request_id, request_id_or_new};
use crate::http::Edge;
use actions::Action;

/// The routes of the readers screens.
pub fn routes() -> Router<Edge> {
    Router::new()
        .route("/readers", get(list::list))
        .route("/readers/new", get(form::new_reader).post(form::create_reader))
        .route("/readers/{id}", get(page::show))
        .route("/readers/{id}/edit", get(form::edit_reader).post(form::update_reader))
        .route("/readers/{id}/pin", get(pin_card::pin).post(pin_card::set_pin))
        .route("/readers/{id}/card", get(pin_card::card).post(pin_card::replace_card))
        .route("/readers/{id}/export", get(export::export))
        .route("/readers/{id}/blocks", actions::route(Action::AddBlock))
        .route("/readers/{id}/blocks/{item}/lift", actions::route(Action::LiftBlock))
        .route("/readers/{id}/notes", actions::route(Action::AddNote))
        .route("/readers/{id}/notes/{item}/delete", actions::route(Action::DeleteNote))
        .route("/readers/{id}/contacts", actions::route(Action::AddContact))
        .route("/readers/{id}/contacts/{item}/delete", actions::route(Action::DeleteContact))
        .route("/readers/{id}/bindings/{item}/remove", actions::route(Action::RemoveBinding))
        .route("/readers/{id}/binding-code", post(bindings::binding_code))
}

/// One choice of a list box: what is sent, and what is shown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// One word about a reader's standing ("可以借书", "停借中"); `ok` picks
/// the look (a check or a cross, not colour alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub text: String,
    pub ok: bool,
}

/// A reader's standing in words: left, expired, blocked, or free to use
/// the library. Only what the record says; whether a loan is allowed is
/// circulation's answer at the desk.
pub fn standing(lang: Lang, reader: &Reader, today: NaiveDate) -> Vec<Standing> {
    let mut words = Vec::new();
    if reader.status == ReaderStatus::Inactive as i32 {
        words.push(Standing { text: text(lang, "readers.state.inactive").to_owned(), ok: false });
    }
    let expired = NaiveDate::parse_from_str(&reader.expires_on, "%Y-%m-%d").is_ok_and(|last| last < today);
    if expired {
        words.push(Standing { text: text(lang, "readers.state.expired").to_owned(), ok: false });
    }
    if !reader.blocks.is_empty() {
        words.push(Standing { text: text(lang, "readers.state.blocked").to_owned(), ok: false });
    }
    if words.is_empty() {
        words.push(Standing { text: text(lang, "readers.state.active").to_owned(), ok: true });
    }
    words
}

/// Today in the district's time zone (the day cards expire on).
pub fn today(edge: &Edge) -> NaiveDate {
    edge.clock().now().with_timezone(&edge.config().time_zone).date_naive()
}

/// The name of category `code` in `lang`; the code if the list lacks it.
pub fn category_name(lang: Lang, categories: &[ReaderCategory], code: &str) -> String {
    match categories.iter().find(|category| category.code == code) {
        Some(category) if lang == Lang::En && !category.name_en.is_empty() => category.name_en.clone(),
        Some(category) if !category.name_zh.is_empty() => category.name_zh.clone(),
        _ => code.to_owned(),
    }
}

/// The reader categories, as the district defined them.
pub async fn categories(edge: &Edge, desk: &Desk) -> Result<Vec<ReaderCategory>, Status> {
    let mut readers = ReaderServiceClient::new(edge.calls());
    let request = desk.request(edge, ListReaderCategoriesRequest {});
    Ok(readers.list_reader_categories(request).await?.into_inner().categories)
}

/// The categories as choices in the visitor's language.
pub fn category_choices(lang: Lang, categories: &[ReaderCategory]) -> Vec<Choice> {
    categories
        .iter()
        .map(|category| Choice {
            value: category.code.clone(),
            label: category_name(lang, categories, &category.code),
        })
        .collect()
}

/// The classes of the desk's school, by grade then name; each named with
/// its school year when the school has classes of several years.
pub async fn classes(edge: &Edge, desk: &Desk) -> Result<Vec<Choice>, Status> {
    let mut readers = ReaderServiceClient::new(edge.calls());
    let mut classes = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = ListClassesRequest {
            school_id: desk.school.id.clone(),
            school_year: String::new(),
            page_size: 500,
            page_token,
        };
        let page = readers.list_classes(desk.request(edge, request)).await?.into_inner();
        classes.extend(page.classes);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let several_years = classes.iter().any(|class| class.school_year != classes[0].school_year);
    Ok(classes
        .into_iter()
        .map(|class| Choice {
            label: if several_years { format!("{} ({})", class.name, class.school_year) } else { class.name },
            value: class.id,
        })
        .collect())
}

/// The request id for the form shown again after `status`: the same one
/// when the outcome is unknown (no answer in time), so that sending again
/// cannot do it twice; a new one after a clear refusal, which changed
/// nothing and must not stand in the way of the corrected form.
pub fn request_id_after(status: &Status, sent: &str) -> String {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => sent.to_owned(),
        _ => new_request_id(),
    }
}

/// Where the message of a failed call goes on a form: next to the field a
/// refusal's reason is about (`reasons`) or the field the service named as
/// bad (`fields`: request field → form field, with the catalogue id of what
/// to say there, or "" for the common sentence), else in the summary.
pub fn refusal_message(
    visit: &Visit,
    status: &Status,
    reasons: &[(Reason, &str)],
    fields: &[(&str, &str, &str)],
) -> FieldMessage {
    let sentence = refusal_text(visit, status);
    if let Some(reason) = reason_of(status)
        && let Some((_, field)) = reasons.iter().find(|(known, _)| *known == reason)
    {
        return FieldMessage::field(*field, sentence);
    }
    if status.code() == Code::InvalidArgument {
        let named = status.get_details_bad_request().into_iter().flat_map(|bad| bad.field_violations);
        for violation in named {
            if let Some((_, field, id)) = fields.iter().find(|(sent, _, _)| *sent == violation.field) {
                let text = if id.is_empty() { sentence } else { visit.text(id) };
                return FieldMessage::field(*field, text);
            }
        }
    }
    FieldMessage::summary(sentence)
}

/// What is wrong with a form as sent, with the status to answer: a token
/// that is not this browser's (then nothing else is looked at), else what
/// `check` finds in the fields; `None` when the form may be sent.
pub fn check_form(
    edge: &Edge,
    visit: &Visit,
    csrf: &str,
    check: impl FnOnce() -> Vec<FieldMessage>,
) -> Option<(Vec<FieldMessage>, StatusCode)> {
    if !visit.csrf_ok(edge, csrf) {
        let errors = vec![FieldMessage::summary(visit.text("reason.CSRF_TOKEN_INVALID"))];
        return Some((errors, StatusCode::FORBIDDEN));
    }
    let errors = check();
    (!errors.is_empty()).then_some((errors, StatusCode::BAD_REQUEST))
}

/// The page shown when a reader cannot be opened (another school's, not
/// found, no answer): the service's sentence with the matching status.
pub fn cannot_open(edge: &Edge, desk: &Desk, status: &Status) -> Response {
    let page = ErrorPage {
        shell: desk.shell(Section::Readers),
        title: desk.text("readers.cannot_open"),
        message: refusal_text(&desk.visit, status),
    };
    desk.visit.finish(edge, render(&page, status_of(status)))
}

/// What is wrong with a typed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Missing,
    TooLong,
    /// Tabs, line breaks where none may be, or other control characters.
    Control,
}

/// What is wrong with a typed text: missing (when `required`), longer than
/// `max` characters, or holding control characters (line breaks are fine
/// when `lines`); `None` if it is fine. Surrounding spaces do not count.
pub fn check_text(value: &str, max: usize, required: bool, lines: bool) -> Option<Problem> {
    let value = value.trim();
    if value.is_empty() {
        return required.then_some(Problem::Missing);
    }
    if value.chars().count() > max {
        return Some(Problem::TooLong);
    }
    let bad = |c: char| c.is_control() && !(lines && matches!(c, '\n' | '\r'));
    value.chars().any(bad).then_some(Problem::Control)
}

/// The message for `field` if its text has a problem: `missing_id` or
/// `too_long_id` from the catalogue, or the common one for control
/// characters.
pub fn text_message(
    visit: &Visit,
    field: &str,
    value: &str,
    (max, required, lines): (usize, bool, bool),
    missing_id: &str,
    too_long_id: &str,
) -> Option<FieldMessage> {
    let id = match check_text(value, max, required, lines)? {
        Problem::Missing => missing_id,
        Problem::TooLong => too_long_id,
        Problem::Control => "readers.form.control",
    };
    Some(FieldMessage::field(field, visit.text(id)))
}

/// Whether `value` is a card barcode as scanners type it: 1–64 printable
/// ASCII characters without spaces.
pub fn is_barcode(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty() && value.len() <= 64 && value.bytes().all(|byte| byte.is_ascii_graphic())
}

/// Whether `value` is empty or a day "YYYY-MM-DD".
pub fn is_day_or_empty(value: &str) -> bool {
    let value = value.trim();
    value.is_empty() || NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok()
}

/// Whether `value` is empty or a student/staff number: 1–32 letters,
/// digits or "-".
pub fn is_number_or_empty(value: &str) -> bool {
    let value = value.trim();
    value.len() <= 32 && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

#[cfg(test)]
mod tests;
