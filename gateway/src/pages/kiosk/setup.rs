//! `/kiosk/setup`: makes this browser a kiosk, once. A signed-in staff
//! member picks one of their schools' registered kiosks, or anyone types a
//! kiosk's device id; both give its key. The browser then signs in as the
//! device and keeps that session in the kiosk's cookie; the staff
//! member's own session is ended and its cookie removed, so nothing at the
//! kiosk can reach a staff page afterwards.

use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use http::header::SET_COOKIE;
use lectern_core::identity::SubjectKind;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    Device, DeviceCredentials, DeviceKind, GetDeviceRequest, ListDevicesRequest, ListSchoolsRequest,
    LoginRequest, LogoutRequest, login_request,
};
use serde::Deserialize;
use tonic::Status;

use super::session::DeviceSession;
use super::views::{DeviceChoice, KioskShell, SetupPage};
use super::{cookies, refusal_text};
use crate::http::Edge;
use crate::http::session::Caller;
use crate::pages::{Visit, render};

/// The longest device id or key taken.
const FIELD_MAX: usize = 200;

/// `GET /kiosk/setup`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let page = page(&edge, &visit, String::new(), false, Vec::new()).await;
    visit.finish(&edge, render(&page, StatusCode::OK))
}

/// The set-up form.
#[derive(Debug, Default, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    /// A kiosk chosen from the list (staff only).
    #[serde(default)]
    device: String,
    /// A kiosk's id, typed.
    #[serde(default)]
    device_id: String,
    #[serde(default)]
    key: String,
    /// "on" when a receipt printer is attached.
    #[serde(default)]
    printer: String,
}

/// `POST /kiosk/setup`.
pub async fn save(State(edge): State<Edge>, visit: Visit, Form(form): Form<SetupForm>) -> Response {
    let device_id = if form.device.trim().is_empty() { form.device_id.trim() } else { form.device.trim() };
    let device_id = device_id.to_owned();
    let printer = !form.printer.is_empty();
    let again = async |errors: Vec<(String, String)>, status: StatusCode| {
        let page = page(&edge, &visit, device_id.clone(), printer, errors).await;
        visit.finish(&edge, render(&page, status))
    };
    if !visit.csrf_ok(&edge, &form.csrf) {
        return again(vec![(String::new(), visit.text("reason.CSRF_TOKEN_INVALID"))], StatusCode::FORBIDDEN)
            .await;
    }
    let mut errors = Vec::new();
    if device_id.is_empty() || device_id.len() > FIELD_MAX {
        errors.push(("device_id".to_owned(), visit.text("kiosk.setup.device_missing")));
    }
    if form.key.is_empty() || form.key.len() > FIELD_MAX {
        errors.push(("key".to_owned(), visit.text("kiosk.setup.key_missing")));
    }
    if !errors.is_empty() {
        return again(errors, StatusCode::BAD_REQUEST).await;
    }
    let credentials = login_request::Credentials::Device(DeviceCredentials {
        device_id: device_id.clone(),
        key: form.key.clone(),
    });
    let request = edge.request(LoginRequest { credentials: Some(credentials) }, &Caller::Anonymous);
    let login = match GatewayServiceClient::new(edge.calls()).login(request).await {
        Ok(login) => login.into_inner(),
        Err(failure) => {
            let sentence = match Refusal::from_status(&failure).map(|refusal| refusal.reason) {
                Some(Reason::CredentialsInvalid) => visit.text("kiosk.setup.invalid"),
                // A typed id that is no id at all.
                _ if failure.code() == tonic::Code::InvalidArgument => visit.text("kiosk.setup.invalid"),
                _ => refusal_text(visit.lang, &failure),
            };
            let status = crate::pages::signin::status_of(&failure);
            return again(vec![("key".to_owned(), sentence)], status).await;
        }
    };
    let device = match own_device(&edge, &login.access_token, &device_id).await {
        Ok(device) if device.kind == DeviceKind::Kiosk as i32 => device,
        Ok(_) => {
            log_out(&edge, &login.access_token).await;
            let errors = vec![("device_id".to_owned(), visit.text("kiosk.setup.not_kiosk"))];
            return again(errors, StatusCode::BAD_REQUEST).await;
        }
        Err(failure) => {
            log_out(&edge, &login.access_token).await;
            let errors = vec![(String::new(), refusal_text(visit.lang, &failure))];
            return again(errors, crate::pages::signin::status_of(&failure)).await;
        }
    };
    let school = school_name(&edge, &visit, &device.school_id).await;
    let now = edge.clock().now().timestamp();
    let session = DeviceSession {
        access: login.access_token,
        refresh: login.refresh_token,
        ends_at: login.refresh_expire_time.map_or(now, |time| time.seconds),
        printer,
        school,
        label: device.label,
    };
    tracing::info!(device.id = %device.id, "a browser was set up as a kiosk");
    let mut response = Redirect::to("/kiosk").into_response();
    let headers = response.headers_mut();
    headers.append(SET_COOKIE, cookies(&edge).device(&session, now));
    headers.append(SET_COOKIE, cookies(&edge).clear_reader());
    if visit.caller.token().is_some() {
        // The staff member's session ends here: the kiosk must not keep it.
        let mut identity = IdentityServiceClient::new(edge.calls());
        if let Err(status) = identity.logout(edge.request(LogoutRequest {}, &visit.caller)).await {
            tracing::warn!(code = ?status.code(), "cannot end the staff session that set a kiosk up");
        }
        headers.append(SET_COOKIE, edge.sessions().cookies.clear_session());
    }
    response
}

/// The set-up screen: the list of kiosks for staff, the typed form for all.
async fn page(
    edge: &Edge,
    visit: &Visit,
    device_id: String,
    printer: bool,
    errors: Vec<(String, String)>,
) -> SetupPage {
    let staff = visit.principal(edge).await.filter(|principal| principal.kind == SubjectKind::Staff);
    let devices = match &staff {
        Some(_) => kiosks(edge, visit).await,
        None => Vec::new(),
    };
    let current = cookies(edge).read_device(&visit.headers).map(|device| device.label);
    let shell = KioskShell {
        lang: visit.lang,
        csrf: visit.csrf.clone(),
        screen: "setup",
        place: String::new(),
        signed_in: false,
        idle_seconds: edge.config().kiosk_idle.as_secs(),
        foreign: false,
    };
    SetupPage { shell, staff: staff.is_some(), devices, device_id, printer, current, errors }
}

/// The kiosks the staff member may see (not SIP2 machines, not disabled).
async fn kiosks(edge: &Edge, visit: &Visit) -> Vec<DeviceChoice> {
    let request = ListDevicesRequest { school_id: String::new(), page_size: 500, page_token: String::new() };
    match IdentityServiceClient::new(edge.calls()).list_devices(edge.request(request, &visit.caller)).await {
        Ok(answer) => answer
            .into_inner()
            .devices
            .into_iter()
            .filter(|device| device.kind == DeviceKind::Kiosk as i32 && !device.disabled)
            .map(|device| DeviceChoice { id: device.id, label: device.label })
            .collect(),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "the kiosk set-up cannot list the devices");
            Vec::new()
        }
    }
}

/// The device as it reads itself with its new token.
async fn own_device(edge: &Edge, token: &str, device_id: &str) -> Result<Device, Status> {
    let request =
        edge.request(GetDeviceRequest { device_id: device_id.to_owned() }, &Caller::Bearer(token.to_owned()));
    Ok(IdentityServiceClient::new(edge.calls()).get_device(request).await?.into_inner())
}

/// The school's name, when the person setting up may read it (staff);
/// else empty, and the kiosk shows its label instead.
async fn school_name(edge: &Edge, visit: &Visit, school_id: &str) -> String {
    if visit.caller.token().is_none() {
        return String::new();
    }
    let request = ListSchoolsRequest { page_size: 500, page_token: String::new() };
    match ReaderServiceClient::new(edge.calls()).list_schools(edge.request(request, &visit.caller)).await {
        Ok(answer) => answer
            .into_inner()
            .schools
            .into_iter()
            .find(|school| school.id == school_id)
            .map(|school| school.name)
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Ends a device session opened for nothing (a SIP2 machine's key typed).
async fn log_out(edge: &Edge, token: &str) {
    let request = edge.request(LogoutRequest {}, &Caller::Bearer(token.to_owned()));
    if let Err(status) = IdentityServiceClient::new(edge.calls()).logout(request).await {
        tracing::warn!(code = ?status.code(), "cannot end a device session");
    }
}
