//! A reader's WeChat bindings as the desk sees them: the list on the reader
//! page (whose WeChat, how related, how the card was proved, when last
//! used) with a button that removes one ([`super::actions`] sends it), and
//! `POST /readers/{id}/binding-code`, which makes a one-time binding code
//! (CreateBindingCode) and shows it once on a slip to print for a parent:
//! the code, the card, until when it works, and how to bind in plain words.
//!
//! The code is made by a POST and never put in an address, so it stays out
//! of the browser's history and the server's logs; printing again makes a
//! new code, which replaces the unused one.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use http::StatusCode;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::{
    Binding, BindingProof, BindingRelation, CreateBindingCodeRequest, ListBindingsRequest,
};
use serde::Deserialize;
use tonic::Status;

use super::actions::Typed;
use super::form::desk_and_reader;
use super::page::load;
use super::{Choice, check_form};
use crate::http::Edge;
use crate::pages::format::{day_of, moment, written_day};
use crate::pages::i18n::{Lang, format, text};
use crate::pages::school::{Desk, Section};
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::slips::Paper;
use crate::pages::views::{FieldMessage, Shell};
use crate::pages::{Visit, render};

/// Bindings shown on the reader page; a reader has at most six.
const BINDINGS_SHOWN: i32 = 50;

/// A WeChat account bound to the reader, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingLine {
    pub id: String,
    /// "微信 #3F9A": tells a family's accounts apart, never the openid.
    pub account: String,
    /// "家长或监护人 · 用绑定码绑定".
    pub how: String,
    /// The guardian contact it was matched to; empty for the reader's own.
    pub contact: String,
    /// "绑定于 12月1日 周二".
    pub bound: String,
    /// "最近登录 12月7日 周一 09:30", or that it has not been used.
    pub last: String,
}

/// The words of a relation.
fn relation_text(lang: Lang, relation: i32) -> &'static str {
    if relation == BindingRelation::Guardian as i32 {
        text(lang, "readers.binding.guardian")
    } else {
        text(lang, "readers.binding.self")
    }
}

/// The words of a proof.
fn proof_text(lang: Lang, proof: i32) -> &'static str {
    if proof == BindingProof::Code as i32 {
        text(lang, "readers.binding.by_code")
    } else {
        text(lang, "readers.binding.by_pin")
    }
}

/// A binding in words, times in `zone`.
pub fn binding_line(lang: Lang, binding: Binding, zone: chrono_tz::Tz) -> BindingLine {
    let bound = day_of(lang, binding.create_time.as_ref(), zone);
    let last = moment(lang, binding.last_sign_in_time.as_ref(), zone);
    BindingLine {
        account: binding.account_label,
        how: format!("{} · {}", relation_text(lang, binding.relation), proof_text(lang, binding.proved_by)),
        contact: binding.guardian_contact,
        bound: format(lang, "readers.binding.bound", &[("day", &bound)]),
        last: if last.is_empty() {
            text(lang, "readers.binding.never_used").to_owned()
        } else {
            format(lang, "readers.binding.last", &[("at", &last)])
        },
        id: binding.id,
    }
}

/// The reader's bindings, newest first, and whether there are more.
pub async fn bindings(edge: &Edge, desk: &Desk, reader_id: &str) -> Result<(Vec<BindingLine>, bool), Status> {
    let mut family = FamilyServiceClient::new(edge.calls());
    let request = ListBindingsRequest {
        reader_id: reader_id.to_owned(),
        school_id: String::new(),
        page_size: BINDINGS_SHOWN,
        page_token: String::new(),
    };
    let answer = family.list_bindings(desk.request(edge, request)).await?.into_inner();
    let zone = edge.config().time_zone;
    let lang = desk.visit.lang;
    let lines = answer.bindings.into_iter().map(|binding| binding_line(lang, binding, zone)).collect();
    Ok((lines, !answer.next_page_token.is_empty()))
}

/// The papers a binding-code slip prints on, as choices of the form.
pub fn paper_choices(lang: Lang) -> Vec<Choice> {
    Paper::ALL
        .iter()
        .map(|paper| Choice {
            value: paper.value().to_owned(),
            label: text(lang, paper.name_id()).to_owned(),
        })
        .collect()
}

/// The slip with a binding code, to print and hand to a parent.
#[derive(Debug, Clone, Template)]
#[template(path = "reader_binding_code.html")]
pub struct BindingCodePage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub paper: Paper,
    /// The reader page, to go back to.
    pub back: String,
    pub school: String,
    pub name: String,
    pub class: String,
    pub card: String,
    /// The code in two groups of four, easier to copy ("3141 5926").
    pub code: String,
    /// The last day it works.
    pub expires: String,
    pub printed: String,
}

/// The eight digits in two groups of four; any other code as it came.
pub fn grouped(code: &str) -> String {
    if code.len() == 8 && code.bytes().all(|byte| byte.is_ascii_digit()) {
        format!("{} {}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

/// The binding-code form as sent.
#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    paper: String,
}

/// `POST /readers/{id}/binding-code`: a new code on a slip, or the reader
/// page again with the service's refusal.
pub async fn binding_code(
    State(edge): State<Edge>,
    visit: Visit,
    Path(id): Path<String>,
    Form(form): Form<CodeForm>,
) -> Response {
    let (desk, reader) = match desk_and_reader(&edge, visit, &id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let refused = check_form(&edge, &desk.visit, &form.csrf, Vec::new);
    let answer = match refused {
        Some((errors, status)) => Err((errors, status)),
        None => {
            let request = CreateBindingCodeRequest { reader_id: reader.id.clone() };
            let mut family = FamilyServiceClient::new(edge.calls());
            family.create_binding_code(desk.request(&edge, request)).await.map_err(|status: Status| {
                (vec![FieldMessage::summary(refusal_text(&desk.visit, &status))], status_of(&status))
            })
        }
    };
    match answer {
        Ok(code) => {
            let code = code.into_inner();
            let lang = desk.visit.lang;
            let zone = edge.config().time_zone;
            let now = edge.clock().now().with_timezone(&zone);
            let back = super::form::Who::of(&reader).path;
            let mut shell = desk.shell(Section::Readers);
            // The language switch goes back to the reader page: this
            // address only answers a POST, and a second code is not wanted.
            shell.path = back.clone();
            let page = BindingCodePage {
                shell,
                errors: Vec::new(),
                paper: Paper::ALL.into_iter().find(|paper| paper.value() == form.paper).unwrap_or_default(),
                back,
                school: desk.school_name(&reader.school_id),
                name: reader.name.clone(),
                class: reader.class_name.clone(),
                card: reader.card_barcode.clone(),
                code: grouped(&code.code),
                expires: day_of(lang, code.expire_time.as_ref(), zone),
                printed: format!("{} {}", written_day(lang, now.date_naive()), now.format("%H:%M")),
            };
            desk.visit.finish(&edge, render(&page, StatusCode::OK))
        }
        Err((errors, status)) => match load(&edge, &desk, &reader.id, Typed::fresh(), errors).await {
            Ok(page) => desk.visit.finish(&edge, render(&page, status)),
            Err(failure) => super::cannot_open(&edge, &desk, &failure),
        },
    }
}

#[cfg(test)]
mod tests {
    use lectern_proto::reader::v1::{Binding, BindingProof, BindingRelation};
    use prost_types::Timestamp;

    use super::*;

    #[test]
    fn a_code_is_shown_in_two_groups_of_four() {
        assert_eq!(grouped("31415926"), "3141 5926");
        assert_eq!(grouped("1234"), "1234");
    }

    #[test]
    fn a_binding_says_who_how_and_when_without_the_openid() {
        let binding = Binding {
            id: "b1".to_owned(),
            reader_id: "r1".to_owned(),
            school_id: "s1".to_owned(),
            relation: BindingRelation::Guardian as i32,
            proved_by: BindingProof::Code as i32,
            guardian_contact: "ren.mama@example.cn".to_owned(),
            create_time: Some(Timestamp { seconds: 1_796_000_000, nanos: 0 }),
            last_sign_in_time: None,
            account_label: "微信 #3F9A".to_owned(),
        };
        let zone = chrono_tz::Asia::Shanghai;
        for lang in Lang::ALL {
            let line = binding_line(lang, binding.clone(), zone);
            assert_eq!(line.account, "微信 #3F9A");
            assert!(line.how.contains(text(lang, "readers.binding.guardian")));
            assert!(line.how.contains(text(lang, "readers.binding.by_code")));
            assert_eq!(line.last, text(lang, "readers.binding.never_used"));
            assert!(!line.bound.is_empty());
        }
    }
}
