//! `/titles/{id}`: one title at the desk — the facts a librarian needs, its
//! copies by school (the desk's school first) with where each one is, and
//! the form that places a hold for a reader (`POST /titles/{id}/hold`).

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use lectern_core::refusal::Refusal;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::{GetTitleRequest, ListCopiesRequest};
use lectern_proto::circulation::v1::PlaceHoldRequest;
use lectern_proto::circulation::v1::hold_service_client::HoldServiceClient;
use serde::Deserialize;

use super::words::{CopyGroup, Fact, copy_groups, facts};
use super::{school_names, title_href};
use crate::http::Edge;
use crate::pages::i18n::{format, text};
use crate::pages::school::{Desk, School, Section};
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::{ErrorPage, FieldMessage, FieldMessages, Notice, Shell};
use crate::pages::{Visit, encode, render};
use crate::pages::{new_request_id, request_id_or_new};

/// The longest card number a reader service accepts.
const MAX_CARD_CHARS: usize = 64;

/// `GET /titles/{id}?q=…&held=…&at=…`: `q` is the search to go back to;
/// `held` (the reader's place in line) and `at` (the pickup school) follow
/// a hold just placed.
#[derive(Debug, Default, Deserialize)]
pub struct TitleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    held: String,
    #[serde(default)]
    at: String,
}

/// `GET /titles/{id}`: the facts of one title, its copies by school, and
/// the hold form. Fields: `card`, `pickup`, hidden `csrf`, `request_id`, `q`.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "title.html")]
pub struct TitlePage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub id: String,
    pub title: String,
    pub subtitle: String,
    pub facts: Vec<Fact>,
    /// Copies by school, the desk's school first.
    pub groups: Vec<CopyGroup>,
    /// The search to go back to (empty: the search box).
    pub query: String,
    /// The hold form: the card typed, the pickup school chosen, the schools
    /// to choose from, and this form's request id (a resent form places
    /// the hold once).
    pub card: String,
    pub pickup: String,
    pub pickup_schools: Vec<School>,
    pub request_id: String,
}

impl TitlePage {
    /// Whether the desk's school holds a copy (else the page says so).
    pub fn held_here(&self) -> bool {
        self.groups.iter().any(|group| group.here)
    }

    /// The way back to the search.
    pub fn back(&self) -> String {
        if self.query.is_empty() {
            "/search".to_owned()
        } else {
            format!("/search?q={}", encode(&self.query))
        }
    }
}

/// Whether a path's id can be a title's (so odd text is not sent on).
fn plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `GET /titles/{id}`.
pub async fn show(
    State(edge): State<Edge>,
    visit: Visit,
    Path(id): Path<String>,
    Query(query): Query<TitleQuery>,
) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let mut shell = desk.shell(Section::Search);
    if let Ok(position) = query.held.parse::<u32>() {
        // The pickup school was one of the desk's; a school only in an
        // edited address is not named by its id.
        let school = desk.schools.iter().find(|school| school.id == query.at).map_or_else(
            || text(desk.visit.lang, "search.other_school").to_owned(),
            |school| school.name.clone(),
        );
        shell.notice = Some(Notice::success(if position > 0 {
            format(
                desk.visit.lang,
                "search.hold.placed",
                &[("position", &position.to_string()), ("school", &school)],
            )
        } else {
            format(desk.visit.lang, "search.hold.placed_taken", &[("school", &school)])
        }));
    }
    let form = HoldForm { pickup: desk.school.id.clone(), q: query.q, ..HoldForm::default() };
    show_title(&edge, &desk, shell, &id, form, Vec::new(), StatusCode::OK).await
}

/// The hold form.
#[derive(Debug, Default, Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    card: String,
    #[serde(default)]
    pickup: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    q: String,
}

/// The title page with the hold form as `form` left it, or the error page
/// when the title cannot be read.
async fn show_title(
    edge: &Edge,
    desk: &Desk,
    shell: Shell,
    id: &str,
    form: HoldForm,
    mut errors: Vec<FieldMessage>,
    mut status: StatusCode,
) -> Response {
    let lang = desk.visit.lang;
    let error = |status: StatusCode, message: String| {
        let title = text(lang, "search.book.not_found_title").to_owned();
        let page = ErrorPage { shell: desk.shell(Section::Search), title, message };
        desk.visit.finish(edge, render(&page, status))
    };
    if !plausible_id(id) {
        return error(StatusCode::NOT_FOUND, text(lang, "search.book.not_found").to_owned());
    }
    let mut catalog = CatalogServiceClient::new(edge.calls());
    let title = match catalog.get_title(desk.request(edge, GetTitleRequest { id: id.to_owned() })).await {
        Ok(title) => title.into_inner(),
        Err(failed) if matches!(failed.code(), tonic::Code::NotFound | tonic::Code::InvalidArgument) => {
            return error(StatusCode::NOT_FOUND, text(lang, "search.book.not_found").to_owned());
        }
        Err(failed) => return error(status_of(&failed), refusal_text(&desk.visit, &failed)),
    };
    let mut copies = Vec::new();
    let mut page_token = String::new();
    // A title has tens of copies at most; the bound keeps a broken token
    // from looping.
    for _ in 0..20 {
        let request =
            ListCopiesRequest { title_id: id.to_owned(), page_size: 500, page_token, ..Default::default() };
        match catalog.list_copies(desk.request(edge, request)).await {
            Ok(page) => {
                let page = page.into_inner();
                copies.extend(page.copies);
                page_token = page.next_page_token;
            }
            Err(failed) => {
                errors.push(FieldMessage::summary(refusal_text(&desk.visit, &failed)));
                status = status_of(&failed);
                break;
            }
        }
        if page_token.is_empty() {
            break;
        }
    }
    let names = school_names(edge, desk).await;
    let page = TitlePage {
        shell,
        errors,
        id: title.id.clone(),
        facts: facts(lang, &title),
        groups: copy_groups(lang, &copies, &desk.school.id, &names, edge.config().time_zone),
        title: title.title,
        subtitle: title.subtitle,
        query: form.q,
        card: form.card,
        pickup: form.pickup,
        pickup_schools: desk.schools.clone(),
        request_id: new_request_id(),
    };
    desk.visit.finish(edge, render(&page, status))
}

/// `POST /titles/{id}/hold`: places a hold on the title for the reader
/// whose card was scanned, to pick up at the school chosen.
pub async fn place_hold(
    State(edge): State<Edge>,
    visit: Visit,
    Path(id): Path<String>,
    Form(form): Form<HoldForm>,
) -> Response {
    let csrf_ok = visit.csrf_ok(&edge, &form.csrf);
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let shell = desk.shell(Section::Search);
    let form = HoldForm { card: form.card.trim().to_owned(), ..form };
    let mut errors = Vec::new();
    if !csrf_ok {
        errors.push(FieldMessage::summary(desk.text("reason.CSRF_TOKEN_INVALID")));
    } else if form.card.is_empty() {
        errors.push(FieldMessage::field("card", desk.text("search.hold.card_missing")));
    } else if form.card.chars().count() > MAX_CARD_CHARS {
        errors.push(FieldMessage::field("card", desk.text("search.hold.card_too_long")));
    }
    if !desk.schools.iter().any(|school| school.id == form.pickup) {
        errors.push(FieldMessage::field("pickup", desk.text("search.hold.pickup_missing")));
    }
    if !errors.is_empty() || !plausible_id(&id) {
        let status = if csrf_ok { StatusCode::BAD_REQUEST } else { StatusCode::FORBIDDEN };
        return show_title(&edge, &desk, shell, &id, form, errors, status).await;
    }
    let request_id = request_id_or_new(&form.request_id);
    let request = PlaceHoldRequest {
        reader_card_barcode: form.card.clone(),
        title_id: id.clone(),
        pickup_school_id: form.pickup.clone(),
        request_id,
        ..Default::default()
    };
    match HoldServiceClient::new(edge.calls()).place_hold(desk.request(&edge, request)).await {
        Ok(hold) => {
            let hold = hold.into_inner();
            let back = format!(
                "{}{}held={}&at={}",
                title_href(&id, &form.q),
                if form.q.is_empty() { "?" } else { "&" },
                hold.position,
                encode(&hold.pickup_school_id)
            );
            Redirect::to(&back).into_response()
        }
        Err(failed) => {
            let sentence = refusal_text(&desk.visit, &failed);
            // A refusal of this reader's hold (unknown card, blocked, at
            // the limit, already waiting) belongs next to the card.
            let about_reader = Refusal::from_status(&failed)
                .is_some_and(|refusal| !refusal.reason.as_str_name().starts_with("TITLE_"));
            let error = if about_reader {
                FieldMessage::field("card", sentence)
            } else {
                FieldMessage::summary(sentence)
            };
            show_title(&edge, &desk, shell, &id, form, vec![error], status_of(&failed)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;
    use crate::pages::i18n::Lang;
    use crate::pages::search::tests::{CSRF, charlotte, check_page, copies, desk_shell, escaped, names};
    use crate::pages::search::words::copy_groups;

    const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn page(lang: Lang, errors: Vec<FieldMessage>) -> TitlePage {
        let title = charlotte();
        TitlePage {
            shell: desk_shell(lang),
            errors,
            id: title.id.clone(),
            facts: facts(lang, &title),
            groups: copy_groups(lang, &copies(), "s-pri", &names(), ZONE),
            title: title.title,
            subtitle: "Illustrated edition".to_owned(),
            query: "white".to_owned(),
            card: "R100001".to_owned(),
            pickup: "s-mid".to_owned(),
            pickup_schools: names().0,
            request_id: new_request_id(),
        }
    }

    #[test]
    fn request_ids_are_fresh_and_shaped_like_uuids() {
        let (one, two) = (new_request_id(), new_request_id());
        assert_ne!(one, two);
        assert_eq!(one.len(), 36);
        assert_eq!(&one[14..15], "4");
        assert!(plausible_id(&one) && !plausible_id("../x") && !plausible_id(""));
    }

    #[test]
    fn the_title_page_renders_in_both_languages() {
        for lang in Lang::ALL {
            let html = page(lang, Vec::new()).render().unwrap();
            check_page(&html, lang);
            assert!(
                html.contains(r#"<a href="/search?q=white">"#)
                    && html.contains(text(lang, "search.book.back"))
            );
            assert!(html.contains("<h1>Charlotte&#39;s Web</h1>"));
            for id in [
                "search.book.publisher",
                "search.book.isbn",
                "search.book.call_number",
                "search.copy.barcode",
            ] {
                assert!(html.contains(text(lang, id)), "{id}");
            }
            assert!(html.contains(r#"<th scope="col">"#) && html.contains("<caption>"));
            assert!(html.contains(&escaped(&format(
                lang,
                "search.copy.school_here",
                &[("school", "徐汇区实验小学")]
            ))));
            let here = html.find("P000101").unwrap();
            assert!(here < html.find("M000101").unwrap(), "the desk's school first");
            assert!(html.contains(r#"<td class="copy-on-shelf">"#));
            assert!(html.contains(text(lang, "search.status.damaged")));
            assert!(html.contains(&format!(r#"action="/titles/{}/hold""#, charlotte().id)));
            assert_eq!(html.matches(CSRF).count(), 3, "the hold form, language and sign-out");
            assert!(
                html.contains(r#"name="request_id" value=""#) && html.contains(r#"name="q" value="white""#)
            );
            assert!(html.contains(r#"value="R100001""#), "the card is kept");
            assert!(html.contains(r#"<option value="s-mid" selected>徐汇区第二中学</option>"#));
            assert!(!html.contains(" autofocus"), "nothing is snatched on a plain visit");
            let none_here = escaped(text(lang, "search.copy.none_here"));
            assert!(!html.contains(&none_here));
            let elsewhere = TitlePage {
                groups: copy_groups(lang, &copies(), "s-x", &names(), ZONE),
                ..page(lang, vec![])
            };
            assert!(elsewhere.render().unwrap().contains(&none_here));
        }
        let html = page(Lang::ZhCn, Vec::new()).render().unwrap();
        assert!(
            html.contains("借出，12月21日 周一到期")
                && html.contains("为读者预约")
                && html.contains("取书学校")
        );
    }

    #[test]
    fn a_refused_hold_shows_why_next_to_the_card() {
        for lang in Lang::ALL {
            let why = text(lang, "reason.READER_NOT_FOUND");
            let html = page(lang, vec![FieldMessage::field("card", why)]).render().unwrap();
            check_page(&html, lang);
            assert!(html.contains("error-summary") && html.contains(r##"<a href="#card">"##));
            assert!(
                html.contains(r#"id="card-error""#) && html.contains(" aria-invalid=\"true\" autofocus>")
            );
            assert!(html.contains(r#"value="R100001""#));
        }
        let mut one_school = page(Lang::En, vec![FieldMessage::summary("x")]);
        one_school.pickup_schools.truncate(1);
        let html = one_school.render().unwrap();
        check_page(&html, Lang::En);
        assert!(
            html.contains(r#"<input type="hidden" name="pickup" value="s-pri">"#)
                && !html.contains("<select")
        );
    }
}
