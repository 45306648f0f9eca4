//! `/kiosk`: the self-service kiosk at the library door, for readers only.
//!
//! A librarian (or anyone with the device key) sets a browser up once at
//! `/kiosk/setup` ([`setup`]); it then holds the kiosk device's session in
//! a cookie of its own ([`session`]) and shows only the kiosk's screens:
//! the welcome screen (scan your card), the PIN pad ([`signin`]), the
//! borrowing screen (scan books, each with its title and due day; renew;
//! holds ready; "I'm done"), the goodbye screen with the receipt
//! ([`borrow`]), and
//! return mode, where books go back on the device's token alone and each
//! says where to put it ([`returns`]). A reader is signed out when they
//! are done, and after `LECTERN_KIOSK_IDLE_SECS` without a tap or a scan —
//! by the page's script, and by the server, which checks the time of the
//! last action kept in the reader's cookie.
//!
//! Like the other pages, every screen works without its script: forms
//! post and the server answers with the next screen. The script
//! (`kiosk.js`) swaps answers in without a reload, runs the number pad,
//! the idle timer and the sounds. Words come from `kiosk.*` in the
//! catalogue; refusals use the kiosk's shorter sentences
//! (`kiosk.reason.*`) where there is one.

pub mod borrow;
pub mod returns;
pub mod session;
pub mod setup;
pub mod signin;
#[cfg(test)]
mod tests;
pub mod views;

use axum::Router;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::HeaderValue;
use http::header::SET_COOKIE;
use lectern_core::identity::{Principal, SubjectKind};
use lectern_core::refusal::Refusal;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{DeviceSettings, GetDeviceRequest, LogoutRequest, RefreshSessionRequest};
use serde::Deserialize;
use tonic::Status;

use super::Visit;
use super::i18n::{Catalogue, Lang};
use crate::http::Edge;
use crate::http::session::Caller;
use session::{DeviceSession, KioskCookies, ReaderSession};
use views::KioskShell;

/// The header the kiosk's script sends with the forms it posts.
pub const SCRIPT_HEADER: &str = "x-lectern-kiosk";

/// The kiosk's routes.
pub fn routes() -> Router<Edge> {
    Router::new()
        .route("/kiosk", get(borrow::show))
        .route("/kiosk/card", post(signin::card))
        .route("/kiosk/pin", post(signin::pin))
        .route("/kiosk/borrow", post(borrow::lend))
        .route("/kiosk/renew", post(borrow::renew))
        .route("/kiosk/finish", post(borrow::finish))
        .route("/kiosk/signout", post(borrow::sign_out))
        .route("/kiosk/still-here", post(borrow::still_here))
        .route("/kiosk/returns", get(returns::show))
        .route("/kiosk/returns/scan", post(returns::scan))
        .route("/kiosk/language", post(language))
        .route("/kiosk/setup", get(setup::show).post(setup::save))
}

/// The kiosk's cookies for this edge.
pub fn cookies(edge: &Edge) -> KioskCookies {
    KioskCookies::new(edge.config().secure_cookies, edge.config().kiosk_idle)
}

/// One request at a set-up kiosk: the device, its settings, the reader
/// signed in at it (if any), and the cookies to set on the answer.
pub struct Kiosk {
    pub visit: Visit,
    pub device: DeviceSession,
    pub device_id: String,
    /// The kiosk's school (its id, from the device's token): the `school`
    /// of `lectern_kiosk_sign_ins_total`.
    pub school_id: String,
    pub card_only: bool,
    /// The language the kiosk greets each new reader in.
    pub device_lang: Lang,
    /// The reader signed in here, still within the idle limit.
    pub reader: Option<Principal>,
    /// Whether a reader was signed out just now for being idle.
    pub idle_ended: bool,
    /// How long a reader may leave the kiosk alone.
    idle: std::time::Duration,
    set_cookies: Vec<HeaderValue>,
}

impl Kiosk {
    /// The kiosk of this browser, or the way to its set-up.
    pub async fn open(edge: &Edge, mut visit: Visit) -> Result<Kiosk, Response> {
        let cookies = cookies(edge);
        let Some(mut device) = cookies.read_device(&visit.headers) else {
            return Err(Redirect::to("/kiosk/setup").into_response());
        };
        let mut set_cookies = Vec::new();
        let now = edge.clock().now().timestamp();
        let principal = match edge.sessions().principal(&device.access).await {
            Some(principal) if principal.kind == SubjectKind::Device => {
                let left = (principal.expires_at - edge.clock().now()).to_std().unwrap_or_default();
                if left < edge.config().renew_margin {
                    renew(edge, &visit, &mut device, &mut set_cookies, now).await?
                } else {
                    principal
                }
            }
            Some(_) => return Err(forget_device(edge)),
            None => renew(edge, &visit, &mut device, &mut set_cookies, now).await?,
        };
        let device_id = principal.subject_id.clone();
        let settings = device_settings(edge, &device.access, &device_id).await;
        visit.lang = kiosk_lang(&visit, settings.as_ref());
        let mut kiosk = Kiosk {
            visit,
            device,
            device_id,
            school_id: principal.schools.first().cloned().unwrap_or_default(),
            card_only: settings.as_ref().is_some_and(|settings| settings.card_only),
            device_lang: settings
                .as_ref()
                .and_then(|settings| Lang::from_tag(&settings.language))
                .unwrap_or_default(),
            reader: None,
            idle_ended: false,
            idle: edge.config().kiosk_idle,
            set_cookies,
        };
        if let Some(reader) = cookies.read_reader(&kiosk.visit.headers) {
            kiosk.take_reader(edge, reader, now).await;
        }
        Ok(kiosk)
    }

    /// Takes the reader of the cookie if they are still signed in here and
    /// not idle; else signs them out.
    async fn take_reader(&mut self, edge: &Edge, reader: ReaderSession, now: i64) {
        let principal = edge.sessions().principal(&reader.access).await.filter(|principal| {
            principal.kind == SubjectKind::Reader && principal.device_id.as_deref() == Some(&self.device_id)
        });
        match principal {
            Some(principal) if !reader.idle(now, edge.config().kiosk_idle) => self.reader = Some(principal),
            Some(_) => {
                tracing::info!(device.id = %self.device_id, "a reader left the kiosk idle and was signed out");
                self.idle_ended = true;
                self.sign_reader_out(edge, &reader.access).await;
            }
            None => self.forget_reader(edge),
        }
    }

    /// Ends the reader's session at the reader service and forgets it here.
    pub async fn sign_reader_out(&mut self, edge: &Edge, access: &str) {
        let mut identity = IdentityServiceClient::new(edge.calls());
        let request = edge.request(LogoutRequest {}, &Caller::Bearer(access.to_owned()));
        if let Err(status) = identity.logout(request).await {
            // The token was short-lived anyway (one access token's worth).
            tracing::warn!(code = ?status.code(), device.id = %self.device_id, "cannot end a kiosk reader's session");
        }
        self.forget_reader(edge);
    }

    /// Forgets the language someone chose here (back to the kiosk's own).
    pub fn forget_lang(&mut self, edge: &Edge) {
        self.set_cookies.push(cookies(edge).clear_lang());
    }

    /// Forgets the reader here (their cookie and language choice).
    pub fn forget_reader(&mut self, edge: &Edge) {
        let cookies = cookies(edge);
        self.reader = None;
        self.set_cookies.push(cookies.clear_reader());
        self.set_cookies.push(cookies.clear_lang());
    }

    /// Keeps the reader `access` signed in here, active now.
    pub fn keep_reader(&mut self, edge: &Edge, access: &str) {
        let now = edge.clock().now().timestamp();
        self.set_cookies.push(cookies(edge).reader(access, now));
    }

    /// Marks the signed-in reader as active now (their idle time starts again).
    pub fn touch(&mut self, edge: &Edge) {
        if let Some(token) = self.reader.as_ref().map(|reader| reader.token.clone()) {
            self.keep_reader(edge, &token);
        }
    }

    /// A request as the reader signed in here (`None`: nobody is).
    pub fn as_reader<T>(&self, edge: &Edge, message: T) -> Option<tonic::Request<T>> {
        let token = self.reader.as_ref()?.token.clone();
        Some(edge.request(message, &Caller::Bearer(token)))
    }

    /// A request as the kiosk device itself.
    pub fn as_device<T>(&self, edge: &Edge, message: T) -> tonic::Request<T> {
        edge.request(message, &Caller::Bearer(self.device.access.clone()))
    }

    /// The frame of a kiosk screen.
    pub fn shell(&self, screen: &'static str) -> KioskShell {
        KioskShell {
            lang: self.visit.lang,
            csrf: self.visit.csrf.clone(),
            screen,
            place: self.place(),
            signed_in: self.reader.is_some(),
            idle_seconds: self.idle.as_secs(),
            // Another language than the kiosk's, chosen by someone who left:
            // the script resets it when the welcome screen is left alone.
            foreign: self.visit.lang != self.device_lang,
        }
    }

    /// The header's words: the school's library, else the kiosk's label.
    fn place(&self) -> String {
        if self.device.school.is_empty() {
            self.device.label.clone()
        } else {
            super::i18n::format(self.visit.lang, "kiosk.school_library", &[("school", &self.device.school)])
        }
    }

    pub fn text(&self, id: &str) -> String {
        self.visit.text(id)
    }

    /// The kiosk's sentence for a failed call.
    pub fn refusal(&self, status: &Status) -> String {
        refusal_text(self.visit.lang, status)
    }

    /// `response` with the kiosk's cookies and this visit's CSRF cookie.
    /// A refusal answered to the kiosk's script is a 200: the screen it
    /// shows says no, and the script must not take it for a lost answer.
    pub fn finish(&self, edge: &Edge, response: impl IntoResponse) -> Response {
        let mut response = self.visit.finish(edge, response);
        if self.visit.headers.contains_key(SCRIPT_HEADER) && response.status().is_client_error() {
            *response.status_mut() = http::StatusCode::OK;
        }
        for cookie in &self.set_cookies {
            response.headers_mut().append(SET_COOKIE, cookie.clone());
        }
        response
    }
}

/// The kiosk's sentence for a refusal: its own shorter one when the
/// catalogue has it, else the pages' sentence for the reason or code.
pub fn refusal_text(lang: Lang, status: &Status) -> String {
    match Refusal::from_status(status) {
        Some(refusal) => {
            let id = format!("kiosk.reason.{}", refusal.reason.as_str_name());
            match Catalogue::get().text(lang, &id) {
                Some(sentence) => sentence.to_owned(),
                None => super::i18n::reason(lang, refusal.reason).to_owned(),
            }
        }
        None => super::i18n::status(lang, status.code()).to_owned(),
    }
}

/// Renews the device's session; a session that ended sends the browser
/// back to the set-up.
async fn renew(
    edge: &Edge,
    visit: &Visit,
    device: &mut DeviceSession,
    set_cookies: &mut Vec<HeaderValue>,
    now: i64,
) -> Result<Principal, Response> {
    let request =
        edge.request(RefreshSessionRequest { refresh_token: device.refresh.clone() }, &Caller::Anonymous);
    match IdentityServiceClient::new(edge.calls()).refresh_session(request).await {
        Ok(answer) => {
            let login = answer.into_inner();
            device.access = login.access_token;
            device.refresh = login.refresh_token;
            if let Some(ends) = login.refresh_expire_time {
                device.ends_at = ends.seconds;
            }
            set_cookies.push(cookies(edge).device(device, now));
            match edge.sessions().principal(&device.access).await {
                Some(principal) if principal.kind == SubjectKind::Device => Ok(principal),
                _ => Err(forget_device(edge)),
            }
        }
        Err(status)
            if matches!(status.code(), tonic::Code::Unauthenticated | tonic::Code::PermissionDenied) =>
        {
            tracing::info!("a kiosk's device session ended; it must be set up again");
            Err(forget_device(edge))
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), "cannot renew a kiosk's device session");
            Err(super::error_page(
                edge,
                visit,
                status_code(&status),
                "error.server_title",
                "error.unavailable",
            ))
        }
    }
}

fn status_code(status: &Status) -> http::StatusCode {
    lectern_core::status::http_status(status.code())
}

/// Forgets the device session and sends the browser to the set-up.
fn forget_device(edge: &Edge) -> Response {
    let mut response = Redirect::to("/kiosk/setup").into_response();
    response.headers_mut().append(SET_COOKIE, cookies(edge).clear_device());
    response.headers_mut().append(SET_COOKIE, cookies(edge).clear_reader());
    response
}

/// The device's settings as the device reads them (`None` if they cannot
/// be read: then a PIN is asked, the safe way).
async fn device_settings(edge: &Edge, token: &str, device_id: &str) -> Option<DeviceSettings> {
    let request =
        edge.request(GetDeviceRequest { device_id: device_id.to_owned() }, &Caller::Bearer(token.to_owned()));
    match IdentityServiceClient::new(edge.calls()).get_device(request).await {
        Ok(device) => device.into_inner().settings,
        Err(status) => {
            tracing::warn!(code = ?status.code(), device.id = %device_id, "the kiosk cannot read its settings");
            None
        }
    }
}

/// The kiosk's language: the reader's choice, else the device's.
fn kiosk_lang(visit: &Visit, settings: Option<&DeviceSettings>) -> Lang {
    crate::http::session::cookie(&visit.headers, session::LANG_NAME)
        .and_then(Lang::from_tag)
        .or_else(|| settings.and_then(|settings| Lang::from_tag(&settings.language)))
        .unwrap_or_default()
}

/// The kiosk's language switch.
#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

/// `POST /kiosk/language`: the reader's language until they leave.
async fn language(State(edge): State<Edge>, visit: Visit, Form(form): Form<LanguageForm>) -> Response {
    let mut kiosk = match Kiosk::open(&edge, visit).await {
        Ok(kiosk) => kiosk,
        Err(response) => return response,
    };
    if !kiosk.visit.csrf_ok(&edge, &form.csrf) {
        return kiosk.visit.csrf_refused(&edge);
    }
    kiosk.touch(&edge);
    let lang = Lang::from_tag(&form.lang).unwrap_or_default();
    kiosk.set_cookies.push(cookies(&edge).lang(lang.tag()));
    let back = if form.back.starts_with("/kiosk") { super::local_path(&form.back) } else { "/kiosk" };
    // The answer to a form post is a GET of the screen it came from.
    let back = if back.starts_with("/kiosk/returns") { "/kiosk/returns" } else { "/kiosk" };
    kiosk.finish(&edge, Redirect::to(back))
}
