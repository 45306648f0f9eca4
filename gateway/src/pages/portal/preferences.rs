//! `/portal/preferences`: how the reader wants to hear from the library —
//! which ways (e-mail, text message, WeChat, the portal's own notices) and
//! in which language. The reader service keeps them
//! (`ReaderProfileService`, the reader's own); one box must stay ticked.

use axum::extract::{Form, State};
use axum::response::Response;
use http::StatusCode;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    GetNotificationPreferencesRequest, NotificationChannel, NotificationPreferences,
    UpdateNotificationPreferencesRequest,
};
use serde::Deserialize;

use super::Portal;
use super::views::PreferencesPage;
use crate::http::Edge;
use crate::pages::Visit;
use crate::pages::signin::status_of;
use crate::pages::views::{FieldMessage, Notice};

/// `GET /portal/preferences`.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let request = GetNotificationPreferencesRequest { reader_id: portal.reader_id() };
    match ReaderProfileServiceClient::new(edge.calls())
        .get_notification_preferences(portal.request(&edge, request))
        .await
    {
        Ok(preferences) => {
            let page = page_of(&portal, &preferences.into_inner());
            portal.finish(&edge, &page, StatusCode::OK)
        }
        Err(failure) => {
            let mut page = PreferencesPage {
                shell: portal.shell("preferences"),
                failed: true,
                ..PreferencesPage::default()
            };
            page.shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
            portal.finish(&edge, &page, status_of(&failure))
        }
    }
}

/// The page showing `preferences`.
fn page_of(portal: &Portal, preferences: &NotificationPreferences) -> PreferencesPage {
    let has = |channel: NotificationChannel| preferences.channels.contains(&(channel as i32));
    PreferencesPage {
        shell: portal.shell("preferences"),
        email: has(NotificationChannel::Email),
        sms: has(NotificationChannel::Sms),
        wechat: has(NotificationChannel::Wechat),
        in_app: has(NotificationChannel::InApp),
        language: if preferences.language == "en" { "en".to_owned() } else { "zh-CN".to_owned() },
        ..PreferencesPage::default()
    }
}

/// The preferences form: one checkbox per way, and the language.
#[derive(Debug, Default, Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    channel_email: Option<String>,
    #[serde(default)]
    channel_sms: Option<String>,
    #[serde(default)]
    channel_wechat: Option<String>,
    #[serde(default)]
    channel_in_app: Option<String>,
    #[serde(default)]
    language: String,
}

/// `POST /portal/preferences`.
pub async fn save(State(edge): State<Edge>, visit: Visit, Form(form): Form<PreferencesForm>) -> Response {
    let portal = match Portal::open(&edge, visit).await {
        Ok(portal) => portal,
        Err(response) => return response,
    };
    let ticked = [
        (form.channel_email.is_some(), NotificationChannel::Email),
        (form.channel_sms.is_some(), NotificationChannel::Sms),
        (form.channel_wechat.is_some(), NotificationChannel::Wechat),
        (form.channel_in_app.is_some(), NotificationChannel::InApp),
    ];
    let mut page = PreferencesPage {
        shell: portal.shell("preferences"),
        email: ticked[0].0,
        sms: ticked[1].0,
        wechat: ticked[2].0,
        in_app: ticked[3].0,
        language: form.language.trim().to_owned(),
        ..PreferencesPage::default()
    };
    if !portal.visit.csrf_ok(&edge, &form.csrf) {
        page.errors.push(FieldMessage::summary(portal.text("reason.CSRF_TOKEN_INVALID")));
        return portal.finish(&edge, &page, StatusCode::FORBIDDEN);
    }
    let channels: Vec<i32> =
        ticked.iter().filter(|(on, _)| *on).map(|(_, channel)| *channel as i32).collect();
    if channels.is_empty() {
        page.errors
            .push(FieldMessage::field("channel_in_app", portal.text("portal.preferences.channels_missing")));
    }
    if page.language != "zh-CN" && page.language != "en" {
        page.errors
            .push(FieldMessage::field("language_zh", portal.text("portal.preferences.language_missing")));
    }
    if !page.errors.is_empty() {
        return portal.finish(&edge, &page, StatusCode::BAD_REQUEST);
    }
    let request = UpdateNotificationPreferencesRequest {
        reader_id: portal.reader_id(),
        channels,
        language: page.language.clone(),
    };
    match ReaderProfileServiceClient::new(edge.calls())
        .update_notification_preferences(portal.request(&edge, request))
        .await
    {
        Ok(saved) => {
            let mut page = page_of(&portal, &saved.into_inner());
            page.shell.notice = Some(Notice::success(portal.text("portal.preferences.saved")));
            portal.finish(&edge, &page, StatusCode::OK)
        }
        Err(failure) => {
            page.shell.notice = Some(Notice::refusal(portal.refusal(&failure)));
            portal.finish(&edge, &page, status_of(&failure))
        }
    }
}
