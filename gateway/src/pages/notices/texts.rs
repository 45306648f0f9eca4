//! `/notices/templates`: the school's reminder texts, one per trigger and
//! language, and the editor of one: preview against a real loan, save
//! (a text that does not render is refused by notification, and its words
//! stand next to the subject or body), and go back to the default.

use axum::extract::{Form, Path, Query, State};
use axum::response::{Redirect, Response};
use http::StatusCode;
use lectern_proto::notification::v1::reminder_service_client::ReminderServiceClient;
use lectern_proto::notification::v1::{
    ListTemplatesRequest, ListTemplatesResponse, PreviewTemplateRequest, ResetTemplateRequest, Template,
    TemplateVariable, Trigger, UpdateTemplateRequest,
};
use serde::Deserialize;
use tonic::{Code, Status};

use super::views::{Preview, TextCell, TextPage, TextRow, TextsPage, VariableRow};
use super::{LANGUAGES, TRIGGERS, may_change, named_fields, trigger_of, words};
use crate::http::Edge;
use crate::pages::i18n::{Lang, format as fill, text};
use crate::pages::readers::{Problem, check_form, check_text};
use crate::pages::school::{Desk, Section};
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::{ErrorPage, FieldMessage, Notice};
use crate::pages::{Visit, render};

/// The most characters of a subject and a body (as notification takes them).
const SUBJECT_MAX: usize = 200;
const BODY_MAX: usize = 5000;

/// The editor of `trigger` (its path name) in `language`.
pub fn editor_path(trigger: &str, language: &str) -> String {
    format!("/notices/templates/{trigger}/{language}")
}

/// `GET /notices/templates`.
pub async fn list(State(edge): State<Edge>, visit: Visit) -> Response {
    let desk = open_desk!(edge, visit);
    let (rows, errors, status) = match templates(&edge, &desk).await {
        Ok(answer) => (rows_of(desk.visit.lang, &answer.templates), Vec::new(), StatusCode::OK),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "reminder texts cannot be read");
            (Vec::new(), vec![FieldMessage::summary(refusal_text(&desk.visit, &status))], status_of(&status))
        }
    };
    let page = TextsPage { shell: desk.shell(Section::Notices), errors, rows, may_change: may_change(&desk) };
    desk.visit.finish(&edge, render(&page, status))
}

/// The list's rows: every trigger, each with its texts in both languages.
pub fn rows_of(lang: Lang, templates: &[Template]) -> Vec<TextRow> {
    TRIGGERS
        .iter()
        .map(|(trigger, name)| TextRow {
            trigger: text(lang, &words::trigger(*trigger as i32)).to_owned(),
            cells: LANGUAGES
                .iter()
                .map(|(language, language_id)| TextCell {
                    language: text(lang, language_id).to_owned(),
                    href: editor_path(name, language),
                    customized: templates.iter().any(|template| {
                        template.trigger == *trigger as i32
                            && template.language == *language
                            && template.customized
                    }),
                })
                .collect(),
        })
        .collect()
}

/// The school's texts and the variables they may use.
async fn templates(edge: &Edge, desk: &Desk) -> Result<ListTemplatesResponse, Status> {
    let mut client = ReminderServiceClient::new(edge.calls());
    let request = ListTemplatesRequest { school_id: desk.school.id.clone() };
    Ok(client.list_templates(desk.request(edge, request)).await?.into_inner())
}

/// `GET /notices/templates/{trigger}/{language}?done=saved|reset`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TextQuery {
    done: String,
}

/// Which text an editor path names.
fn which(trigger: &str, language: &str) -> Option<(Trigger, &'static str)> {
    let language = LANGUAGES.iter().find(|(known, _)| *known == language).map(|(known, _)| *known)?;
    Some((trigger_of(trigger)?, language))
}

/// The page that says an editor path names no text.
fn no_such_text(edge: &Edge, desk: &Desk) -> Response {
    let page = ErrorPage {
        shell: desk.shell(Section::Notices),
        title: desk.text("error.not_found_title"),
        message: desk.text("notices.texts.unknown"),
    };
    desk.visit.finish(edge, render(&page, StatusCode::NOT_FOUND))
}

/// The editor for `trigger` in `language`, from the list's answer: the
/// saved (or default) text unless `typed` gives the one being edited.
pub fn editor(
    desk: &Desk,
    (trigger, language): (Trigger, &str),
    answer: &ListTemplatesResponse,
    typed: Option<(String, String)>,
) -> TextPage {
    let lang = desk.visit.lang;
    let saved = answer.templates.iter().find(|t| t.trigger == trigger as i32 && t.language == language);
    let (subject, body) = typed.unwrap_or_else(|| {
        saved.map(|saved| (saved.subject.clone(), saved.body.clone())).unwrap_or_default()
    });
    let language_words = LANGUAGES.iter().find(|(known, _)| *known == language).map_or("", |(_, id)| id);
    let heading = fill(
        lang,
        "notices.texts.heading",
        &[("trigger", text(lang, &words::trigger(trigger as i32))), ("language", text(lang, language_words))],
    );
    TextPage {
        shell: desk.shell(Section::Notices),
        errors: Vec::new(),
        heading,
        action: editor_path(super::trigger_name(trigger as i32), language),
        subject,
        body,
        customized: saved.is_some_and(|saved| saved.customized),
        variables: variables(lang, &answer.variables),
        preview: None,
        may_change: may_change(desk),
    }
}

/// The variables as the editor lists them, in the visitor's language.
pub fn variables(lang: Lang, variables: &[TemplateVariable]) -> Vec<VariableRow> {
    variables
        .iter()
        .map(|variable| VariableRow {
            written: format!("{{{{ {} }}}}", variable.name),
            description: if lang == Lang::En && !variable.description_en.is_empty() {
                variable.description_en.clone()
            } else {
                variable.description_zh.clone()
            },
        })
        .collect()
}

/// `GET /notices/templates/{trigger}/{language}`.
pub async fn show(
    State(edge): State<Edge>,
    visit: Visit,
    Path((trigger, language)): Path<(String, String)>,
    Query(query): Query<TextQuery>,
) -> Response {
    let desk = open_desk!(edge, visit);
    let Some(which) = which(&trigger, &language) else {
        return no_such_text(&edge, &desk);
    };
    let (mut page, status) = match templates(&edge, &desk).await {
        Ok(answer) => (editor(&desk, which, &answer, None), StatusCode::OK),
        Err(status) => failed_editor(&desk, which, &status),
    };
    page.shell.notice = match query.done.as_str() {
        "saved" => Some(Notice::success(desk.text("notices.texts.saved"))),
        "reset" => Some(Notice::success(desk.text("notices.texts.reset_done"))),
        _ => None,
    };
    desk.visit.finish(&edge, render(&page, status))
}

/// The editor without the service's answer: the message, no text.
fn failed_editor(desk: &Desk, which: (Trigger, &str), status: &Status) -> (TextPage, StatusCode) {
    tracing::warn!(code = ?status.code(), "a reminder text cannot be read");
    let mut page = editor(desk, which, &ListTemplatesResponse::default(), None);
    page.errors.push(FieldMessage::summary(refusal_text(&desk.visit, status)));
    (page, status_of(status))
}

/// The editor's form: the text, and which button was pressed
/// (`preview` or `save`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TextForm {
    csrf: String,
    subject: String,
    body: String,
    action: String,
}

/// What is wrong with a typed subject and body.
pub fn check(lang: Lang, subject: &str, body: &str) -> Vec<FieldMessage> {
    let mut errors = Vec::new();
    let problem = |value: &str, max, missing, long| match check_text(value, max, true, true) {
        Some(Problem::Missing) => Some(missing),
        Some(Problem::TooLong) => Some(long),
        _ => None,
    };
    if let Some(id) =
        problem(subject, SUBJECT_MAX, "notices.texts.subject_missing", "notices.texts.subject_long")
    {
        errors.push(FieldMessage::field("subject", text(lang, id)));
    }
    if let Some(id) = problem(body, BODY_MAX, "notices.texts.body_missing", "notices.texts.body_long") {
        errors.push(FieldMessage::field("body", text(lang, id)));
    }
    errors
}

/// Where notification's refusal of a text goes: next to the subject or
/// body it names, with what it said is wrong there; anything else (a
/// preview without a loan to render for) in the summary.
pub fn refusal(visit: &Visit, status: &Status) -> FieldMessage {
    if status.code() == Code::InvalidArgument {
        for (field, said) in named_fields(status) {
            if field == "subject" || field == "body" {
                let detail = if said.is_empty() { status.message().to_owned() } else { said };
                return FieldMessage::field(
                    field,
                    fill(visit.lang, "notices.texts.refused", &[("detail", &detail)]),
                );
            }
        }
    }
    FieldMessage::summary(refusal_text(visit, status))
}

/// `POST /notices/templates/{trigger}/{language}`: preview or save.
pub async fn send(
    State(edge): State<Edge>,
    visit: Visit,
    Path((trigger, language)): Path<(String, String)>,
    Form(form): Form<TextForm>,
) -> Response {
    let desk = open_desk!(edge, visit);
    let Some(which) = which(&trigger, &language) else {
        return no_such_text(&edge, &desk);
    };
    let (trigger, language) = which;
    // Line breaks as browsers send them (CRLF) are kept as plain newlines.
    let subject = form.subject.trim().to_owned();
    let body = form.body.replace("\r\n", "\n").trim_end().to_owned();
    let answer = match templates(&edge, &desk).await {
        Ok(answer) => answer,
        Err(status) => {
            let (page, code) = failed_editor(&desk, which, &status);
            return desk.visit.finish(&edge, render(&page, code));
        }
    };
    let mut page = editor(&desk, which, &answer, Some((subject.clone(), body.clone())));
    if let Some((errors, code)) =
        check_form(&edge, &desk.visit, &form.csrf, || check(desk.visit.lang, &subject, &body))
    {
        page.errors = errors;
        return desk.visit.finish(&edge, render(&page, code));
    }
    let mut client = ReminderServiceClient::new(edge.calls());
    let school_id = desk.school.id.clone();
    let status = if form.action == "save" {
        let request = UpdateTemplateRequest {
            school_id,
            trigger: trigger.into(),
            language: language.to_owned(),
            subject,
            body,
        };
        match client.update_template(desk.request(&edge, request)).await {
            Ok(_) => {
                let done = format!("{}?done=saved", page.action);
                return desk.visit.finish(&edge, Redirect::to(&done));
            }
            Err(status) => status,
        }
    } else {
        let request = PreviewTemplateRequest {
            school_id,
            trigger: trigger.into(),
            language: language.to_owned(),
            subject,
            body,
            loan_id: String::new(),
        };
        match client.preview_template(desk.request(&edge, request)).await {
            Ok(rendered) => {
                let rendered = rendered.into_inner();
                page.preview = Some(Preview { subject: rendered.subject, body: rendered.body });
                return desk.visit.finish(&edge, render(&page, StatusCode::OK));
            }
            Err(status) => status,
        }
    };
    tracing::warn!(code = ?status.code(), "a reminder text was refused");
    page.errors.push(refusal(&desk.visit, &status));
    desk.visit.finish(&edge, render(&page, status_of(&status)))
}

/// The reset form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    csrf: String,
}

/// `POST /notices/templates/{trigger}/{language}/reset`.
pub async fn reset(
    State(edge): State<Edge>,
    visit: Visit,
    Path((trigger, language)): Path<(String, String)>,
    Form(form): Form<ResetForm>,
) -> Response {
    if !visit.csrf_ok(&edge, &form.csrf) {
        return visit.csrf_refused(&edge);
    }
    let desk = open_desk!(edge, visit);
    let Some(which) = which(&trigger, &language) else {
        return no_such_text(&edge, &desk);
    };
    let (trigger, language) = which;
    let request = ResetTemplateRequest {
        school_id: desk.school.id.clone(),
        trigger: trigger.into(),
        language: language.to_owned(),
    };
    let mut client = ReminderServiceClient::new(edge.calls());
    let path = editor_path(super::trigger_name(trigger as i32), language);
    match client.reset_template(desk.request(&edge, request)).await {
        Ok(_) => desk.visit.finish(&edge, Redirect::to(&format!("{path}?done=reset"))),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "a reminder text cannot be reset");
            let (mut page, _) = match templates(&edge, &desk).await {
                Ok(answer) => (editor(&desk, which, &answer, None), StatusCode::OK),
                Err(read) => failed_editor(&desk, which, &read),
            };
            page.errors.push(FieldMessage::summary(refusal_text(&desk.visit, &status)));
            desk.visit.finish(&edge, render(&page, status_of(&status)))
        }
    }
}
