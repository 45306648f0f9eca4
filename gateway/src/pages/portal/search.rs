//! `/portal/search?q=…`: find a book by title, author or ISBN, with how
//! many copies are on the shelf at the reader's own school;
//! `/portal/titles/{title_id}`: one book, what it is about, whether it is
//! in, and the hold form. The catalog's answers, in the portal's words
//! ([`super::words::here`]); the desk's byline wording is reused.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::StatusCode;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::{GetTitleRequest, SearchHit, SearchTitlesRequest};
use serde::Deserialize;
use tonic::Status;

use super::Portal;
use super::views::{HitRow, SearchPage, TitlePage};
use super::words::here;
use crate::http::Edge;
use crate::pages::search::words::byline;
use crate::pages::signin::status_of;
use crate::pages::views::{FieldMessage, Notice};
use crate::pages::{Visit, new_request_id};

/// The longest query the catalog takes, in characters.
const QUERY_MAX: usize = 200;
/// Titles shown for a search.
const PAGE_SIZE: i32 = 20;

/// `GET /portal/search?q=…`.
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /portal/search`.
pub async fn search(State(edge): State<Edge>, visit: Visit, Query(query): Query<SearchQuery>) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let q = query.q.trim().to_owned();
    let mut page = SearchPage {
        shell: portal.shell("search"),
        errors: Vec::new(),
        q: q.clone(),
        searched: false,
        hits: Vec::new(),
    };
    if q.is_empty() {
        return portal.finish(&edge, &page, StatusCode::OK);
    }
    if q.chars().count() > QUERY_MAX || q.chars().any(char::is_control) {
        page.errors.push(FieldMessage::field("portal-search", portal.text("portal.search.too_long")));
        return portal.finish(&edge, &page, StatusCode::BAD_REQUEST);
    }
    match search_titles(&edge, &portal, &q, PAGE_SIZE).await {
        Ok(hits) => {
            let lang = portal.visit.lang;
            let school = &portal.reader.school_id;
            page.searched = true;
            page.hits = hits
                .iter()
                .map(|hit| {
                    let title = hit.title.clone().unwrap_or_default();
                    let (here, on_shelf) = here(lang, hit, school);
                    HitRow {
                        id: title.id.clone(),
                        byline: byline(lang, &title),
                        title: title.title,
                        here,
                        on_shelf,
                    }
                })
                .collect();
            portal.finish(&edge, &page, StatusCode::OK)
        }
        Err(failure) => {
            page.shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
            portal.finish(&edge, &page, status_of(&failure))
        }
    }
}

/// Titles matching `q`, with their copies at the reader's school.
async fn search_titles(
    edge: &Edge,
    portal: &Portal,
    q: &str,
    page_size: i32,
) -> Result<Vec<SearchHit>, Status> {
    let request = SearchTitlesRequest {
        query: q.to_owned(),
        school_id: portal.reader.school_id.clone(),
        page_size,
        ..SearchTitlesRequest::default()
    };
    let answer = CatalogServiceClient::new(edge.calls()).search_titles(portal.request(edge, request)).await?;
    Ok(answer.into_inner().hits)
}

/// `GET /portal/titles/{title_id}`.
pub async fn title(State(edge): State<Edge>, visit: Visit, Path(title_id): Path<String>) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let request = GetTitleRequest { id: title_id.trim().to_owned() };
    let title = match CatalogServiceClient::new(edge.calls()).get_title(portal.request(&edge, request)).await
    {
        Ok(title) => title.into_inner(),
        Err(failure) => return super::failed_page(&edge, &portal.visit, &failure),
    };
    let lang = portal.visit.lang;
    // The catalog tells availability through a search: by ISBN when the
    // book has one, else by its title, keeping the hit of this title.
    let key = if title.isbn13.is_empty() {
        title.title.chars().take(QUERY_MAX).collect()
    } else {
        title.isbn13.clone()
    };
    let (here_words, on_shelf) = match search_titles(&edge, &portal, &key, 50).await {
        Ok(hits) => {
            match hits.iter().find(|hit| hit.title.as_ref().is_some_and(|found| found.id == title.id)) {
                Some(hit) => here(lang, hit, &portal.reader.school_id),
                None => here(lang, &SearchHit::default(), &portal.reader.school_id),
            }
        }
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), "the portal cannot read a title's availability");
            (String::new(), false)
        }
    };
    let page = TitlePage {
        shell: portal.shell("search"),
        id: title.id.clone(),
        byline: byline(lang, &title),
        title: title.title,
        subtitle: title.subtitle,
        summary: title.summary,
        here: here_words,
        on_shelf,
        request_id: new_request_id(),
    };
    portal.finish(&edge, &page, StatusCode::OK)
}
