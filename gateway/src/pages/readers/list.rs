//! `GET /readers?q=…&class=…`: find readers of the desk's school by part of
//! the name, the card or the student number, optionally within one class
//! (SearchReaders), or list one class (ListReaders). A scanned card that
//! finds its reader opens the reader page at once.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use lectern_core::refusal::Reason;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{ListReadersRequest, SearchReadersRequest};
use serde::Deserialize;

use super::{
    Choice, Standing, categories, category_name, classes, refusal_message, standing, text_message, today,
};
use crate::http::Edge;
use crate::pages::school::{Desk, Section};
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::{FieldMessage, FieldMessages as _, Shell};
use crate::pages::{Visit, encode, render};

/// Readers shown per page of results.
const PAGE_SIZE: i32 = 50;

/// `GET /readers?q=…&class=…&page=…`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    class: String,
    #[serde(default)]
    page: String,
}

/// One reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub href: String,
    pub name: String,
    pub class: String,
    pub card: String,
    pub category: String,
    pub standing: Vec<Standing>,
}

/// `GET /readers`: find readers of the desk's school by part of the name,
/// card or number, optionally in one class; or list one class.
#[derive(Debug, Clone, Template)]
#[template(path = "readers.html")]
pub struct ReadersPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    /// What was typed in the search box.
    pub q: String,
    /// The class chosen ("" for all).
    pub class: String,
    pub classes: Vec<Choice>,
    /// Whether a search was made (else the page only invites one).
    pub searched: bool,
    pub found: Vec<Found>,
    /// The link to the next page of results; empty on the last.
    pub more: String,
    /// The link back to the first page, on later pages.
    pub first: String,
}

impl ReadersPage {
    /// Whether `field` gets the focus: the first field in error, else the
    /// search box.
    pub fn autofocus(&self, field: &str) -> bool {
        self.errors.first_field().unwrap_or("q") == field
    }

    /// The caption of the results: readers found, or a class listed.
    pub fn caption(&self) -> &'static str {
        let id = if self.q.is_empty() { "readers.list.class_results" } else { "readers.list.results" };
        self.shell.texts().get(id)
    }

    /// The sentence of an empty result.
    pub fn empty_text(&self) -> &'static str {
        let id = if self.q.is_empty() { "readers.list.empty_class" } else { "readers.list.empty" };
        self.shell.texts().get(id)
    }
}

/// `GET /readers`.
pub async fn list(State(edge): State<Edge>, visit: Visit, Query(query): Query<ListQuery>) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let lang = desk.visit.lang;
    let q = query.q.trim().to_owned();
    let mut page = ReadersPage {
        shell: desk.shell(Section::Readers),
        errors: Vec::new(),
        q: q.clone(),
        class: query.class.trim().to_owned(),
        classes: Vec::new(),
        searched: false,
        found: Vec::new(),
        more: String::new(),
        first: String::new(),
    };
    match classes(&edge, &desk).await {
        Ok(classes) => page.classes = classes,
        Err(status) => page.errors.push(FieldMessage::summary(refusal_text(&desk.visit, &status))),
    }
    if let Some(message) =
        text_message(&desk.visit, "q", &q, (100, false, false), "", "readers.list.query_too_long")
    {
        page.errors.push(message);
        return desk.visit.finish(&edge, render(&page, StatusCode::BAD_REQUEST));
    }
    if q.is_empty() && page.class.is_empty() {
        return desk.visit.finish(&edge, render(&page, StatusCode::OK));
    }
    let categories = categories(&edge, &desk).await.unwrap_or_default();
    let mut readers = ReaderServiceClient::new(edge.calls());
    let school_id = desk.school.id.clone();
    let answer = if q.is_empty() {
        let request = ListReadersRequest {
            school_id,
            class_id: page.class.clone(),
            page_size: PAGE_SIZE,
            page_token: query.page.clone(),
        };
        readers.list_readers(desk.request(&edge, request)).await.map(|answer| {
            let answer = answer.into_inner();
            (answer.readers, answer.next_page_token)
        })
    } else {
        let request = SearchReadersRequest {
            school_id,
            query: q.clone(),
            class_id: page.class.clone(),
            page_size: PAGE_SIZE,
            page_token: query.page.clone(),
        };
        readers.search_readers(desk.request(&edge, request)).await.map(|answer| {
            let answer = answer.into_inner();
            (answer.readers, answer.next_page_token)
        })
    };
    let (found, next) = match answer {
        Ok(answer) => answer,
        Err(status) => {
            let fields = [("query", "q", ""), ("class_id", "class", "")];
            page.errors.push(refusal_message(
                &desk.visit,
                &status,
                &[(Reason::ClassNotFound, "class")],
                &fields,
            ));
            return desk.visit.finish(&edge, render(&page, status_of(&status)));
        }
    };
    // A scanned card that finds its reader opens the reader's page at once.
    if let [reader] = found.as_slice()
        && query.page.is_empty()
        && !q.is_empty()
        && reader.card_barcode.eq_ignore_ascii_case(&q)
    {
        return desk.visit.finish(&edge, Redirect::to(&format!("/readers/{}", encode(&reader.id))));
    }
    let today = today(&edge);
    page.searched = true;
    page.found = found
        .iter()
        .map(|reader| Found {
            href: format!("/readers/{}", encode(&reader.id)),
            name: reader.name.clone(),
            class: if reader.class_name.is_empty() {
                desk.text("readers.no_class")
            } else {
                reader.class_name.clone()
            },
            card: reader.card_barcode.clone(),
            category: category_name(lang, &categories, &reader.category),
            standing: standing(lang, reader, today),
        })
        .collect();
    let link = |token: &str| {
        let mut link = format!("/readers?q={}&class={}", encode(&q), encode(&page.class));
        if !token.is_empty() {
            link.push_str(&format!("&page={}", encode(token)));
        }
        link
    };
    if !next.is_empty() {
        page.more = link(&next);
    }
    if !query.page.is_empty() {
        page.first = link("");
    }
    desk.visit.finish(&edge, render(&page, StatusCode::OK).into_response())
}
