//! `/portal`: the reader portal, for readers on their phones — a student
//! with their card and PIN, or a parent who opened it from the WeChat
//! mini-program for one or more children.
//!
//! Every screen is a server-rendered page that works without script and
//! in WeChat's built-in browser, 360 px wide and up. A reader signs in
//! with card and PIN ([`signin`]) or through WeChat ([`wechat`]: the
//! mini-program's web-view hands over a `wx.login` code, and a WeChat
//! account with no reader bound yet binds one first, [`bind`]). Either way
//! the session is the desk's: the token pair in the HttpOnly session
//! cookie (`crate::http::session`), so renewals and the CSRF token work as
//! on every page. A family sign-in is an ordinary reader token that also
//! names the WeChat account; [`family`] switches between its children.
//!
//! The screens: home with what the reader has ([`home`]), search and a
//! title with its hold form ([`search`]), holds ([`holds`]), loans and
//! renewals, and the loan history ([`loans`]), notices ([`notices`]), the
//! reading report ([`report`]), notification preferences
//! ([`preferences`]). Each calls the services with the reader's own token:
//! the services decide, the pages word their answers (`portal.*` in the
//! catalogue, and the common sentence of each refusal reason).

pub mod bind;
pub mod family;
pub mod holds;
pub mod home;
pub mod loans;
pub mod notices;
pub mod preferences;
pub mod report;
pub mod search;
pub mod signin;
#[cfg(test)]
mod tests;
pub mod views;
pub mod wechat;
pub mod words;

use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::header::{CACHE_CONTROL, SET_COOKIE};
use http::{HeaderValue, StatusCode};
use lectern_core::identity::{Principal, SubjectKind};
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    FamilyReader, GetReaderRequest, GetSchoolRequest, ListFamilyReadersRequest, LoginResponse, Reader,
};
use tonic::Status;

use super::views::Notice;
use super::{Visit, encode, render};
use crate::http::Edge;
use crate::http::session::{Tokens, new_csrf_token};
use views::{ErrorPage, PortalShell, Switch};

/// The portal's routes.
pub fn routes() -> Router<Edge> {
    Router::new()
        .route("/portal", get(home::show))
        .route("/portal/signin", get(signin::show).post(signin::sign_in))
        .route("/portal/signout", post(signin::sign_out))
        .route("/portal/wechat", get(wechat::hand_over))
        .route("/portal/bind", get(bind::show).post(bind::bind))
        .route("/portal/search", get(search::search))
        .route("/portal/titles/{title_id}", get(search::title))
        .route("/portal/holds", get(holds::show).post(holds::place))
        .route("/portal/holds/{hold_id}/cancel", post(holds::cancel))
        .route("/portal/loans", get(loans::show))
        .route("/portal/loans/renew-all", post(loans::renew_all))
        .route("/portal/loans/{loan_id}/renew", post(loans::renew))
        .route("/portal/history", get(loans::history))
        .route("/portal/notices", get(notices::show))
        .route("/portal/report", get(report::show))
        .route("/portal/preferences", get(preferences::show).post(preferences::save))
        .route("/portal/family", get(family::show))
        .route("/portal/family/switch", post(family::switch))
        .route("/portal/bindings/{binding_id}/remove", post(family::remove))
}

/// One request of a signed-in reader: the visit, who they are, and the
/// readers of their WeChat account when they came through WeChat.
pub struct Portal {
    pub visit: Visit,
    pub principal: Principal,
    /// The reader as the reader service has them (name, class, school).
    pub reader: Reader,
    /// The reader's school's name ("" if it could not be read).
    pub school_name: String,
    /// Every reader bound to the WeChat account signed in (empty for a
    /// card and PIN sign-in).
    pub family: Vec<FamilyReader>,
}

impl Portal {
    /// The signed-in reader, or the way to the portal's sign-in page.
    pub async fn open(edge: &Edge, visit: Visit) -> Result<Portal, Response> {
        let principal = match visit.principal(edge).await {
            Some(principal) if principal.kind == SubjectKind::Reader && principal.device_id.is_none() => {
                principal
            }
            _ => return Err(to_sign_in(edge, &visit)),
        };
        let mut readers = ReaderServiceClient::new(edge.calls());
        let mut schools = readers.clone();
        let request = edge.request(GetReaderRequest { id: principal.subject_id.clone() }, &visit.caller);
        let school_id = principal.schools.first().cloned().unwrap_or_default();
        let school = edge.request(GetSchoolRequest { id: school_id }, &visit.caller);
        let (reader, school) = tokio::join!(readers.get_reader(request), schools.get_school(school));
        // The name is for the header; a school the service cannot name now
        // leaves it out rather than the page.
        let school_name = school.map(|school| school.into_inner().name).unwrap_or_default();
        let reader = match reader {
            Ok(reader) => reader.into_inner(),
            Err(failure) if failure.code() == tonic::Code::Unauthenticated => {
                return Err(to_sign_in(edge, &visit));
            }
            Err(failure) => return Err(failed_page(edge, &visit, &failure)),
        };
        let family = if principal.family_account.is_some() {
            let request = edge.request(ListFamilyReadersRequest {}, &visit.caller);
            match FamilyServiceClient::new(edge.calls()).list_family_readers(request).await {
                Ok(answer) => answer.into_inner().readers,
                Err(failure) => {
                    // The switcher is a convenience: the reader's own pages still work.
                    tracing::warn!(code = ?failure.code(), "cannot list a family's readers");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        Ok(Portal { visit, principal, reader, school_name, family })
    }

    /// The signed-in reader's id.
    pub fn reader_id(&self) -> String {
        self.principal.subject_id.clone()
    }

    /// A request as the signed-in reader.
    pub fn request<T>(&self, edge: &Edge, message: T) -> tonic::Request<T> {
        edge.request(message, &self.visit.caller)
    }

    /// Whether the reader came through WeChat (a family sign-in).
    pub fn through_wechat(&self) -> bool {
        self.principal.family_account.is_some()
    }

    /// The frame of screen `page` (its name in the navigation).
    pub fn shell(&self, page: &'static str) -> PortalShell {
        PortalShell {
            lang: self.visit.lang,
            csrf: self.visit.csrf.clone(),
            path: self.visit.path.clone(),
            page,
            signed_in: true,
            name: self.reader.name.clone(),
            class_name: self.reader.class_name.clone(),
            school: self.school_name.clone(),
            family: self.through_wechat(),
            notice: None,
        }
    }

    /// The child switcher: the other readers of the WeChat account, when
    /// there are any.
    pub fn switches(&self) -> Vec<Switch> {
        if self.family.len() < 2 {
            return Vec::new();
        }
        self.family
            .iter()
            .map(|member| Switch {
                reader_id: member.reader_id.clone(),
                name: member.name.clone(),
                current: member.reader_id == self.principal.subject_id,
            })
            .collect()
    }

    pub fn text(&self, id: &str) -> String {
        self.visit.text(id)
    }

    /// The sentence for a failed call.
    pub fn refusal(&self, failure: &Status) -> String {
        super::signin::refusal_text(&self.visit, failure)
    }

    /// `page` rendered with `status`, as every portal answer is sent.
    pub fn finish(&self, edge: &Edge, page: &impl askama::Template, status: StatusCode) -> Response {
        finish(edge, &self.visit, render(page, status))
    }
}

/// `response` with the visit's CSRF cookie, never kept by a cache: the
/// pages are one reader's.
pub fn finish(edge: &Edge, visit: &Visit, response: impl IntoResponse) -> Response {
    let mut response = visit.finish(edge, response);
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The portal's sign-in page, coming back here afterwards.
fn to_sign_in(edge: &Edge, visit: &Visit) -> Response {
    let next = if visit.path == "/portal" { String::new() } else { format!("?next={}", encode(&visit.path)) };
    finish(edge, visit, Redirect::to(&format!("/portal/signin{next}")))
}

/// The portal's error page for a call that failed.
pub fn failed_page(edge: &Edge, visit: &Visit, failure: &Status) -> Response {
    let message = super::signin::refusal_text(visit, failure);
    error_page(edge, visit, super::signin::status_of(failure), message)
}

/// The portal's error page saying `message`.
pub fn error_page(edge: &Edge, visit: &Visit, status: StatusCode, message: String) -> Response {
    let mut shell = PortalShell::anonymous(visit);
    shell.signed_in = visit.caller.token().is_some();
    shell.notice = Some(Notice::refusal(message));
    let page = ErrorPage { shell };
    finish(edge, visit, render(&page, status))
}

/// The answer to a sign-in, a binding or a switch: the session cookie
/// with the new token pair, a new CSRF token (one planted before is worth
/// nothing after), and the way on.
pub fn signed_in(edge: &Edge, login: &LoginResponse, to: &str) -> Response {
    let tokens = Tokens::from_login(login, edge.clock().now(), "");
    let mut response = Redirect::to(to).into_response();
    let cookies = edge.sessions().cookies;
    response.headers_mut().append(SET_COOKIE, cookies.session(&tokens));
    response.headers_mut().append(SET_COOKIE, cookies.csrf(&new_csrf_token()));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
