//! The desk's search: `/search` finds titles by ISBN, title or author and
//! says per school how many copies are on the shelf (the desk's school
//! first, marked). A scanned ISBN that finds one title goes straight to its
//! page, [`title`] (`/titles/{id}`, with the hold form). Availability, holds
//! and their refusals are the catalog's and circulation's answers, shown as
//! they come; this module only words them.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::StatusCode;
use lectern_proto::catalog::v1::SearchTitlesRequest;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::reader::v1::ListSchoolsRequest;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use serde::Deserialize;

use super::school::{Desk, School, Section};
use super::signin::{refusal_text, status_of};
use super::views::{FieldMessage, FieldMessages, Shell};
use super::{Visit, encode, render};
use crate::http::Edge;

pub mod title;
pub mod words;

pub use words::{Hit, Names, hit_view};

/// The longest query the catalog accepts, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// Titles per page of results.
const PAGE_SIZE: i32 = 20;

/// The routes of this screen.
pub fn routes() -> Router<Edge> {
    Router::new()
        .route("/search", get(search))
        .route("/titles/{id}", get(title::show))
        .route("/titles/{id}/hold", post(title::place_hold))
}

/// `GET /search?q=…&page=…&n=…`: `page` is the catalog's page token, `n`
/// the page's number (only for saying so).
#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    n: String,
}

/// `GET /search`: the search box and, after a search, one page of titles.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    /// What was typed, kept in the box.
    pub query: String,
    /// Whether a search was made (else only the box shows).
    pub searched: bool,
    pub hits: Vec<Hit>,
    /// The number of this page of results, from 1.
    pub page_number: u32,
    /// Links to the first and the next page of results, when there are.
    pub first_page: Option<String>,
    pub next_page: Option<String>,
}

/// `GET /search`.
pub async fn search(State(edge): State<Edge>, visit: Visit, Query(query): Query<SearchQuery>) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let typed = query.q.trim().to_owned();
    let mut page =
        SearchPage { shell: desk.shell(Section::Search), query: typed.clone(), ..SearchPage::default() };
    if typed.is_empty() {
        return desk.visit.finish(&edge, render(&page, StatusCode::OK));
    }
    page.searched = true;
    if typed.chars().count() > MAX_QUERY_CHARS {
        page.errors = vec![FieldMessage::field("q", desk.text("search.too_long"))];
        return desk.visit.finish(&edge, render(&page, StatusCode::BAD_REQUEST));
    }
    let token = if query.page.len() <= 200 { query.page.clone() } else { String::new() };
    page.page_number = if token.is_empty() { 1 } else { query.n.parse().unwrap_or(2).clamp(2, 10_000) };
    let request = SearchTitlesRequest {
        query: typed.clone(),
        page_size: PAGE_SIZE,
        page_token: token,
        ..Default::default()
    };
    let answer =
        match CatalogServiceClient::new(edge.calls()).search_titles(desk.request(&edge, request)).await {
            Ok(answer) => answer.into_inner(),
            Err(status) => {
                page.errors = vec![FieldMessage::summary(refusal_text(&desk.visit, &status))];
                return desk.visit.finish(&edge, render(&page, status_of(&status)));
            }
        };
    if page.page_number == 1
        && is_isbn(&typed)
        && let [hit] = answer.hits.as_slice()
        && let Some(title) = &hit.title
    {
        return Redirect::to(&title_href(&title.id, &typed)).into_response();
    }
    let names = school_names(&edge, &desk).await;
    let lang = desk.visit.lang;
    page.hits = answer.hits.iter().map(|hit| hit_view(lang, hit, &desk.school.id, &names, &typed)).collect();
    let q = encode(&typed);
    if page.page_number > 1 {
        page.first_page = Some(format!("/search?q={q}"));
    }
    if !answer.next_page_token.is_empty() {
        let (token, n) = (encode(&answer.next_page_token), page.page_number + 1);
        page.next_page = Some(format!("/search?q={q}&page={token}&n={n}"));
    }
    desk.visit.finish(&edge, render(&page, StatusCode::OK))
}

/// Whether a query reads as a scanned or typed ISBN: 13 digits, or 10
/// (the last may be X), hyphens and spaces aside.
pub fn is_isbn(query: &str) -> bool {
    let plain: Vec<char> = query.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    let digits = |chars: &[char]| chars.iter().all(char::is_ascii_digit);
    match plain.split_last() {
        Some((last, rest)) if plain.len() == 10 => {
            digits(rest) && (last.is_ascii_digit() || *last == 'X' || *last == 'x')
        }
        _ => plain.len() == 13 && digits(&plain),
    }
}

/// The title page's address, remembering the search it came from.
pub(crate) fn title_href(id: &str, query: &str) -> String {
    if query.is_empty() {
        format!("/titles/{}", encode(id))
    } else {
        format!("/titles/{}?q={}", encode(id), encode(query))
    }
}

/// The schools of the district by name; the desk's own list if the
/// reader service cannot say.
pub(crate) async fn school_names(edge: &Edge, desk: &Desk) -> Names {
    let request = ListSchoolsRequest { page_size: 500, page_token: String::new() };
    match ReaderServiceClient::new(edge.calls()).list_schools(desk.request(edge, request)).await {
        Ok(answer) => Names(
            answer.into_inner().schools.into_iter().map(|s| School { id: s.id, name: s.name }).collect(),
        ),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "search cannot list the schools");
            Names(desk.schools.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use lectern_proto::catalog::v1::{
        Availability, Contributor, ContributorRole, Copy, CopyStatus, SchoolAvailability, SearchHit, Title,
    };
    use prost_types::Timestamp;

    use super::*;
    use crate::pages::i18n::{Lang, format, text};
    use crate::pages::school::DeskBar;
    use crate::pages::views::testing;

    pub(super) const CSRF: &str = r#"<input type="hidden" name="csrf" value="token-&#60;&#38;&#34;&#62;">"#;

    /// The frame of a desk screen at the search section.
    pub(super) fn desk_shell(lang: Lang) -> Shell {
        let desk = DeskBar {
            section: Section::Search,
            school: "徐汇区实验小学".to_owned(),
            can_change_school: true,
            who: "xh-librarian".to_owned(),
        };
        Shell { signed_in: true, desk: Some(desk), ..testing::shell(lang) }
    }

    /// The house rules of every page, and what every search screen adds:
    /// this screen marked in the bar, no message id or placeholder left.
    pub(super) fn check_page(html: &str, lang: Lang) {
        testing::check_page(html, lang);
        assert!(html.contains(r#"<a href="/search" aria-current="page">"#), "the bar marks the search");
        assert!(!html.contains("search.") && !html.contains("{"), "an id or placeholder left: {html}");
    }

    /// `text` as askama escapes it.
    pub(super) fn escaped(text: &str) -> String {
        text.replace('&', "&#38;")
            .replace('<', "&#60;")
            .replace('>', "&#62;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;")
    }

    pub(super) fn names() -> Names {
        Names(vec![
            School { id: "s-pri".to_owned(), name: "徐汇区实验小学".to_owned() },
            School { id: "s-mid".to_owned(), name: "徐汇区第二中学".to_owned() },
        ])
    }

    pub(super) fn charlotte() -> Title {
        Title {
            id: "0193a4b2-7c1d-7e00-8000-000000000001".to_owned(),
            isbn13: "9780064400558".to_owned(),
            title: "Charlotte's Web".to_owned(),
            contributors: vec![
                Contributor { name: "E. B. White".to_owned(), role: ContributorRole::Author as i32 },
                Contributor { name: "Garth Williams".to_owned(), role: ContributorRole::Illustrator as i32 },
            ],
            publisher: "HarperCollins".to_owned(),
            publication_year: 2012,
            clc: "I712.84".to_owned(),
            call_number: "I712.84/W58".to_owned(),
            ..Title::default()
        }
    }

    pub(super) fn counts(school: &str, on_shelf: i32, on_loan: i32, not_loanable: i32) -> SchoolAvailability {
        SchoolAvailability {
            school_id: school.to_owned(),
            on_shelf,
            on_loan,
            not_loanable,
            ..Default::default()
        }
    }

    pub(super) fn copy(barcode: &str, school: &str, status: CopyStatus, availability: Availability) -> Copy {
        Copy {
            barcode: barcode.to_owned(),
            school_id: school.to_owned(),
            status: status as i32,
            availability: availability as i32,
            call_number: "I712.84/W58".to_owned(),
            location_name: "一楼 A 区 3 架".to_owned(),
            ..Copy::default()
        }
    }

    pub(super) fn copies() -> Vec<Copy> {
        let mut on_loan = copy("P000102", "s-pri", CopyStatus::Available, Availability::OnLoan);
        // 2026-12-21 12:00 in Shanghai.
        on_loan.due_at = Some(Timestamp { seconds: 1_797_825_600, nanos: 0 });
        vec![
            copy("M000101", "s-mid", CopyStatus::Available, Availability::OnShelf),
            on_loan,
            copy("P000101", "s-pri", CopyStatus::Available, Availability::OnShelf),
            copy("P000103", "s-pri", CopyStatus::Damaged, Availability::NotLoanable),
            Copy {
                location_name: String::new(),
                ..copy("M000102", "s-mid", CopyStatus::Lost, Availability::NotLoanable)
            },
        ]
    }

    #[test]
    fn isbns_are_recognised_as_scanned_or_typed() {
        for isbn in ["9787534687983", "978-7-5346-8798-3", "0064400557", "006440055X", "7 5346 8798 x"] {
            assert!(is_isbn(isbn), "{isbn}");
        }
        for other in ["草房子", "978753468798", "97875346879830", "Matilda", "12345678901X3", ""] {
            assert!(!is_isbn(other), "{other}");
        }
    }

    fn results(lang: Lang) -> SearchPage {
        let hit = SearchHit {
            title: Some(charlotte()),
            schools: vec![counts("s-pri", 2, 1, 0), counts("s-mid", 1, 0, 0)],
            ..SearchHit::default()
        };
        let mut grass = Title { id: "t2".to_owned(), title: "草房子".to_owned(), ..Title::default() };
        grass.contributors = vec![Contributor { name: "曹文轩".to_owned(), role: 0 }];
        let hits = vec![
            hit_view(lang, &hit, "s-pri", &names(), "e"),
            hit_view(lang, &SearchHit { title: Some(grass), ..SearchHit::default() }, "s-pri", &names(), "e"),
        ];
        SearchPage {
            shell: desk_shell(lang),
            query: "e".to_owned(),
            searched: true,
            hits,
            page_number: 2,
            first_page: Some("/search?q=e".to_owned()),
            next_page: Some("/search?q=e&page=MjA&n=3".to_owned()),
            ..SearchPage::default()
        }
    }

    #[test]
    fn results_render_in_both_languages() {
        for lang in Lang::ALL {
            let html = results(lang).render().unwrap();
            check_page(&html, lang);
            assert!(
                html.contains(r#"<form class="search-form" method="get" action="/search" role="search">"#)
            );
            assert!(html.contains(r#"name="q" type="search" value="e""#));
            assert!(
                html.contains(" data-scan-box") && html.contains(r#"aria-describedby="q-hint" autofocus>"#)
            );
            assert!(html.contains(
                r#"<a href="/titles/0193a4b2-7c1d-7e00-8000-000000000001?q=e">Charlotte&#39;s Web</a>"#
            ));
            assert!(html.contains(r#"<li class="availability-here availability-yes">"#));
            assert!(html.contains(r#"<li class="availability-here">"#), "the second title is not here");
            assert!(html.contains(text(lang, "search.here_none")));
            assert!(
                html.contains(text(lang, "search.next_page"))
                    && html.contains(text(lang, "search.first_page"))
            );
            assert!(html.contains(r#"href="/search?q=e&#38;page=MjA&#38;n=3" rel="next""#));
            assert!(html.contains(&format(lang, "search.page", &[("number", "2")])));
            let here = html.find("availability-here availability-yes").unwrap();
            let there = html.find("徐汇区第二中学在架").or_else(|| html.find("徐汇区第二中学:")).unwrap();
            assert!(here < there, "the desk's school comes first");
        }
        let html = results(Lang::ZhCn).render().unwrap();
        assert!(html.contains("<h1>检索馆藏</h1>") && html.contains("曹文轩 著"));
        assert!(html.contains("本校在架 2 本，共 3 本") && html.contains("徐汇区第二中学在架 1 本，共 1 本"));
    }

    #[test]
    fn the_empty_box_the_empty_result_and_a_bad_query_say_so() {
        for lang in Lang::ALL {
            let blank = SearchPage { shell: desk_shell(lang), ..SearchPage::default() }.render().unwrap();
            check_page(&blank, lang);
            assert!(blank.contains(r#"value="" autocomplete="off""#) && !blank.contains("results-heading"));
            let empty = SearchPage {
                shell: desk_shell(lang),
                query: "没有这本<书>".to_owned(),
                searched: true,
                page_number: 1,
                ..SearchPage::default()
            };
            let html = empty.render().unwrap();
            check_page(&html, lang);
            let sentence = format(lang, "search.empty", &[("query", "没有这本<书>")]);
            assert!(html.contains(&escaped(&sentence)), "{html}");
            assert!(!html.contains("pager"));
            let long = "长".repeat(201);
            let bad = SearchPage {
                errors: vec![FieldMessage::field("q", text(lang, "search.too_long"))],
                query: long.clone(),
                ..empty
            };
            let html = bad.render().unwrap();
            check_page(&html, lang);
            assert!(html.contains("error-summary") && html.contains(r##"<a href="#q">"##));
            assert!(html.contains(r#"aria-describedby="q-hint q-error" aria-invalid="true" autofocus>"#));
            assert!(html.contains(&format!(r#"value="{long}""#)), "the query is kept");
            assert!(!html.contains("results-heading"));
        }
    }
}
