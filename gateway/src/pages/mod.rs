//! The pages: server-rendered HTML in the visitor's language, over the same
//! calls any client makes. A page decides no rule; it shows the services'
//! answers and the catalogue's sentence for each reason code. One module
//! per screen, named like its route, its template and its test:
//! [`signin`] (`/signin`, `/signout`), [`password`] (`/password`),
//! [`whoami`] (`/`); [`assets`] serves the embedded styles and script.
//!
//! Every form that changes something carries the visitor's CSRF token
//! (`crate::http::session`), anonymous visitors included: the sign-in
//! and language forms are protected too.

pub mod assets;
pub mod desk;
pub mod format;
pub mod home;
pub mod i18n;
pub mod kiosk;
pub mod lists;
pub mod notices;
pub mod password;
pub mod portal;
pub mod readers;
pub mod returns;
pub mod school;
pub mod search;
pub mod signin;
pub mod slips;
pub mod unsubscribe;
pub mod views;
pub mod whoami;

use askama::Template;
use axum::Router;
use axum::extract::{Form, FromRequestParts, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::header::{ACCEPT_LANGUAGE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use lectern_core::identity::Principal;
use serde::Deserialize;

use crate::http::Edge;
use crate::http::session::{Caller, cookie, csrf_matches, new_csrf_token};
use i18n::{LANG_COOKIE, Lang, negotiate, text};
use views::{ErrorPage, Shell};

/// The pages' routes.
pub fn router() -> Router<Edge> {
    Router::new()
        .route("/", get(home::show))
        .route("/signin", get(signin::show))
        .route("/signin/staff", post(signin::staff))
        .route("/signin/reader", post(signin::reader))
        .route("/signout", post(signin::sign_out))
        .route("/password", get(password::show).post(password::change))
        .route("/language", post(choose_language))
        .route("/csrf", get(csrf_token))
        .route("/school", get(school::show).post(school::choose))
        .route("/assets/{file}", get(assets::serve))
        .merge(home::routes())
        .merge(desk::routes())
        .merge(returns::routes())
        .merge(slips::routes())
        .merge(search::routes())
        .merge(readers::routes())
        .merge(lists::routes())
        .merge(notices::routes())
        .merge(kiosk::routes())
        .merge(portal::routes())
        // Public: the link in every reminder e-mail (no sign-in, no desk).
        .route("/unsubscribe", get(unsubscribe::show).post(unsubscribe::stop))
        .fallback(not_found)
}

/// One visit to a page: the visitor's language, their CSRF token (a new
/// one if the browser has none yet), the path, and who they are.
#[derive(Debug, Clone)]
pub struct Visit {
    pub lang: Lang,
    pub csrf: String,
    /// Whether `csrf` is new and must be set as a cookie.
    fresh_csrf: bool,
    /// The path and query of the page, for the language switch to return to.
    pub path: String,
    pub caller: Caller,
    pub headers: HeaderMap,
    /// The staff username the session cookie was opened with; empty for
    /// readers and visitors.
    label: String,
}

impl FromRequestParts<Edge> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, edge: &Edge) -> Result<Self, Self::Rejection> {
        let headers = parts.headers.clone();
        let lang = negotiate(
            cookie(&headers, LANG_COOKIE),
            headers.get(ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()),
        );
        let (csrf, fresh_csrf) = match cookie(&headers, edge.sessions().cookies.csrf_name()) {
            Some(token) => (token.to_owned(), false),
            None => (new_csrf_token(), true),
        };
        let caller = parts.extensions.get::<Caller>().cloned().unwrap_or(Caller::Anonymous);
        let path = parts.uri.path_and_query().map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned());
        let label = edge.sessions().facts(&headers).map(|facts| facts.label).unwrap_or_default();
        Ok(Self { lang, csrf, fresh_csrf, path, caller, headers, label })
    }
}

impl Visit {
    /// The frame of a page for this visit.
    pub fn shell(&self) -> Shell {
        Shell {
            lang: self.lang,
            csrf: self.csrf.clone(),
            path: self.path.clone(),
            signed_in: self.caller.token().is_some(),
            notice: None,
            desk: None,
        }
    }

    /// Text `id` in the visitor's language.
    pub fn text(&self, id: &str) -> String {
        text(self.lang, id).to_owned()
    }

    /// Whether a form's `csrf` field is this browser's token.
    pub fn csrf_ok(&self, edge: &Edge, provided: &str) -> bool {
        !self.fresh_csrf && csrf_matches(&self.headers, edge.sessions().cookies, Some(provided))
    }

    /// `response`, with the new CSRF cookie if this visit made one.
    pub fn finish(&self, edge: &Edge, response: impl IntoResponse) -> Response {
        let mut response = response.into_response();
        if self.fresh_csrf {
            response.headers_mut().append(SET_COOKIE, edge.sessions().cookies.csrf(&self.csrf));
        }
        response
    }

    /// The verified caller, if signed in with a valid token.
    pub async fn principal(&self, edge: &Edge) -> Option<Principal> {
        edge.sessions().principal(self.caller.token()?).await
    }

    /// Whether the desk's script asked for the changed part of the page only
    /// (see [`school::FRAGMENT_HEADER`]).
    pub fn wants_fragment(&self) -> bool {
        self.headers.contains_key(school::FRAGMENT_HEADER)
    }

    /// The staff username the session was opened with (empty for readers).
    pub fn label(&self) -> String {
        self.label.clone()
    }

    /// The answer to a form sent with a CSRF token that is not this
    /// browser's: nothing was done, and the page says to reload.
    pub fn csrf_refused(&self, edge: &Edge) -> Response {
        error_page(edge, self, StatusCode::FORBIDDEN, "error.server_title", "reason.CSRF_TOKEN_INVALID")
    }

    /// The way to the sign-in page, coming back here afterwards.
    pub fn to_sign_in(&self) -> Response {
        let next = if self.path == "/" { String::new() } else { format!("?next={}", encode(&self.path)) };
        Redirect::to(&format!("/signin{next}")).into_response()
    }
}

/// A new request id for a form that changes something: sent again after a
/// lost answer, the services answer it once.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The request id a form carries, when it is one the services take (a UUID
/// or the like), else a new one: a form sent without one still works.
pub fn request_id_or_new(sent: &str) -> String {
    let sent = sent.trim();
    let usable =
        !sent.is_empty() && sent.len() <= 64 && sent.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if usable { sent.to_owned() } else { new_request_id() }
}

/// `value` percent-encoded for a query string.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// `path` if it is a path on this site (a form's `next` or `back` must not
/// send the browser elsewhere), else `/`.
pub fn local_path(path: &str) -> &str {
    let local =
        path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && !path.contains("://");
    if local { path } else { "/" }
}

/// A page rendered, or the error page if the template fails.
pub fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render a page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Lectern</title><p>Internal error.</p>"),
            )
                .into_response()
        }
    }
}

/// The error page with `title_id` and `message_id` from the catalogue.
pub fn error_page(
    edge: &Edge,
    visit: &Visit,
    status: StatusCode,
    title_id: &str,
    message_id: &str,
) -> Response {
    let page =
        ErrorPage { shell: visit.shell(), title: visit.text(title_id), message: visit.text(message_id) };
    visit.finish(edge, render(&page, status))
}

async fn not_found(State(edge): State<Edge>, visit: Visit) -> Response {
    error_page(&edge, &visit, StatusCode::NOT_FOUND, "error.not_found_title", "error.not_found_page")
}

/// `GET /csrf`: this browser's CSRF token, for the desk's script when the
/// token of the page it runs in went stale (the librarian signed in again
/// in another tab). Other sites cannot read the answer (same-origin policy).
async fn csrf_token(State(edge): State<Edge>, visit: Visit) -> Response {
    let body = axum::Json(serde_json::json!({ "token": visit.csrf }));
    let mut response = visit.finish(&edge, body);
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The language form.
#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

/// `POST /language`: remembers the language in this browser for a year.
async fn choose_language(State(edge): State<Edge>, visit: Visit, Form(form): Form<LanguageForm>) -> Response {
    if !visit.csrf_ok(&edge, &form.csrf) {
        return visit.csrf_refused(&edge);
    }
    let lang = Lang::from_tag(&form.lang).unwrap_or_default();
    remembered(&edge, Redirect::to(local_path(&form.back)), LANG_COOKIE, lang.tag())
}

/// `response` with a cookie that this browser keeps for a year: a choice
/// made on this computer (the language, the school the desk stands in), not
/// a credential. `value` must be cookie-safe (a language tag, an id).
pub fn remembered(edge: &Edge, response: impl IntoResponse, name: &str, value: &str) -> Response {
    let secure = if edge.config().secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict{secure}");
    let mut response = response.into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/password"), "/password");
        assert_eq!(local_path("/?a=1"), "/?a=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path(""), "/");
        assert_eq!(encode("/a b?c=d"), "/a%20b%3Fc%3Dd");
    }
}
