//! `/notices/report`: how many messages the school sent, failed and gave up
//! on, per day and channel (the last 7 days unless other days are asked
//! for); and `/notices/channels`, the district's mail relay and webhook as
//! configured (never a secret) with the test e-mail, for district admins.

use axum::extract::{Form, Query, State};
use axum::response::Response;
use chrono::{Days, NaiveDate};
use http::StatusCode;
use lectern_proto::notification::v1::reminder_service_client::ReminderServiceClient;
use lectern_proto::notification::v1::{
    ChannelSettings, DeliveryReport, GetChannelSettingsRequest, GetDeliveryReportRequest,
    SendTestEmailRequest,
};
use serde::Deserialize;

use super::settings::is_address_or_empty;
use super::views::{ChannelsPage, EmailView, ReportPage, ReportRow, WebhookView};
use super::{is_admin, words};
use crate::http::Edge;
use crate::pages::i18n::{Lang, format as fill, text};
use crate::pages::readers::{Choice, check_form};
use crate::pages::school::{Desk, Section};
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::{FieldMessage, Notice};
use crate::pages::{Visit, error_page, format, render};

/// Days the report covers by default (today and the six before).
const DEFAULT_DAYS: u64 = 7;
/// The most days one report covers.
const MAX_DAYS: i64 = 366;

/// `GET /notices/report?first=YYYY-MM-DD&last=YYYY-MM-DD`, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    first: String,
    last: String,
}

/// The days a report asks for, with the defaults for days not given, or
/// what is wrong with them (field, catalogue id).
pub fn days(
    today: NaiveDate,
    first: &str,
    last: &str,
) -> Result<(NaiveDate, NaiveDate), Vec<(&'static str, &'static str)>> {
    let parse = |typed: &str, default: NaiveDate| {
        let typed = typed.trim();
        if typed.is_empty() { Some(default) } else { NaiveDate::parse_from_str(typed, "%Y-%m-%d").ok() }
    };
    let default_first = today.checked_sub_days(Days::new(DEFAULT_DAYS - 1)).unwrap_or(today);
    let (first, last) = (parse(first, default_first), parse(last, today));
    let mut wrong = Vec::new();
    if first.is_none() {
        wrong.push(("first", "notices.report.day_bad"));
    }
    if last.is_none() {
        wrong.push(("last", "notices.report.day_bad"));
    }
    let (Some(first), Some(last)) = (first, last) else { return Err(wrong) };
    if first > last {
        return Err(vec![("first", "notices.report.order_bad")]);
    }
    if (last - first).num_days() >= MAX_DAYS {
        return Err(vec![("first", "notices.report.too_long")]);
    }
    Ok((first, last))
}

/// `GET /notices/report`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<ReportQuery>) -> Response {
    let desk = open_desk!(edge, visit);
    let lang = desk.visit.lang;
    let today = crate::pages::readers::today(&edge);
    let mut page = ReportPage {
        shell: desk.shell(Section::Notices),
        errors: Vec::new(),
        school: desk.school.name.clone(),
        first: query.first.trim().to_owned(),
        last: query.last.trim().to_owned(),
        caption: String::new(),
        rows: Vec::new(),
        total: ReportRow::default(),
        loaded: false,
    };
    let (first, last) = match days(today, &query.first, &query.last) {
        Ok(days) => days,
        Err(wrong) => {
            page.errors =
                wrong.iter().map(|(field, id)| FieldMessage::field(*field, text(lang, id))).collect();
            return desk.visit.finish(&edge, render(&page, StatusCode::BAD_REQUEST));
        }
    };
    page.first = first.to_string();
    page.last = last.to_string();
    page.caption = fill(
        lang,
        "notices.report.caption",
        &[("first", &format::written_day(lang, first)), ("last", &format::written_day(lang, last))],
    );
    let request = GetDeliveryReportRequest {
        school_id: desk.school.id.clone(),
        first_day: page.first.clone(),
        last_day: page.last.clone(),
    };
    let mut client = ReminderServiceClient::new(edge.calls());
    let status = match client.get_delivery_report(desk.request(&edge, request)).await {
        Ok(report) => {
            (page.rows, page.total) = rows_of(lang, &report.into_inner());
            page.loaded = true;
            StatusCode::OK
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), "the delivery report cannot be read");
            page.errors.push(FieldMessage::summary(refusal_text(&desk.visit, &status)));
            status_of(&status)
        }
    };
    desk.visit.finish(&edge, render(&page, status))
}

/// The report's rows in words, and their total.
pub fn rows_of(lang: Lang, report: &DeliveryReport) -> (Vec<ReportRow>, ReportRow) {
    let mut total = ReportRow { day: text(lang, "notices.report.total").to_owned(), ..ReportRow::default() };
    let rows = report
        .rows
        .iter()
        .map(|row| {
            total.sent += row.sent;
            total.failed += row.failed;
            total.dead += row.dead;
            total.pending += row.pending;
            total.cancelled += row.cancelled;
            let channel = words::channel(row.channel);
            ReportRow {
                day: format::day(lang, &row.day),
                channel: if channel.is_empty() { String::new() } else { text(lang, channel).to_owned() },
                sent: row.sent,
                failed: row.failed,
                dead: row.dead,
                pending: row.pending,
                cancelled: row.cancelled,
            }
        })
        .collect();
    (rows, total)
}

/// The channels as the page shows them.
pub fn views_of(lang: Lang, settings: &ChannelSettings) -> (EmailView, WebhookView) {
    let email = settings.email.clone().unwrap_or_default();
    let webhook = settings.webhook.clone().unwrap_or_default();
    let security = match email.security.as_str() {
        "starttls" => "notices.channels.security_starttls",
        "tls" => "notices.channels.security_tls",
        "none" => "notices.channels.security_none",
        _ => "",
    };
    (
        EmailView {
            configured: email.configured,
            host: email.host,
            port: if email.port > 0 { email.port.to_string() } else { String::new() },
            security: if security.is_empty() { email.security } else { text(lang, security).to_owned() },
            username: email.username,
            password_set: email.password_set,
            from: email.from_address,
        },
        WebhookView { configured: webhook.configured, url: webhook.url, secret_set: webhook.secret_set },
    )
}

/// The channels page (district admins), with the test form holding
/// `school` and `to`.
async fn channels_page(edge: &Edge, desk: &Desk, school: String, to: String) -> (ChannelsPage, StatusCode) {
    let mut page = ChannelsPage {
        shell: desk.shell(Section::Notices),
        errors: Vec::new(),
        loaded: false,
        email: EmailView::default(),
        webhook: WebhookView::default(),
        schools: desk
            .district
            .iter()
            .map(|school| Choice { value: school.id.clone(), label: school.name.clone() })
            .collect(),
        school,
        to,
    };
    let mut client = ReminderServiceClient::new(edge.calls());
    let status = match client.get_channel_settings(desk.request(edge, GetChannelSettingsRequest {})).await {
        Ok(settings) => {
            (page.email, page.webhook) = views_of(desk.visit.lang, &settings.into_inner());
            page.loaded = true;
            StatusCode::OK
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), "the channel settings cannot be read");
            page.errors.push(FieldMessage::summary(refusal_text(&desk.visit, &status)));
            status_of(&status)
        }
    };
    (page, status)
}

/// The answer to someone who is not a district admin.
fn admins_only(edge: &Edge, desk: &Desk) -> Response {
    error_page(edge, &desk.visit, StatusCode::FORBIDDEN, "notices.admins_only_title", "notices.admins_only")
}

/// `GET /notices/channels`.
pub async fn channels(State(edge): State<Edge>, visit: Visit) -> Response {
    let desk = open_desk!(edge, visit);
    if !is_admin(&desk) {
        return admins_only(&edge, &desk);
    }
    let (page, status) = channels_page(&edge, &desk, desk.school.id.clone(), String::new()).await;
    desk.visit.finish(&edge, render(&page, status))
}

/// The test e-mail form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TestForm {
    csrf: String,
    school: String,
    to: String,
}

/// `POST /notices/channels/test`: sends a test e-mail and shows what the
/// relay answered.
pub async fn test_email(State(edge): State<Edge>, visit: Visit, Form(form): Form<TestForm>) -> Response {
    let desk = open_desk!(edge, visit);
    if !is_admin(&desk) {
        return admins_only(&edge, &desk);
    }
    let to = form.to.trim().to_owned();
    let school = form.school.trim().to_owned();
    let (mut page, status) = channels_page(&edge, &desk, school.clone(), to.clone()).await;
    let refused = check_form(&edge, &desk.visit, &form.csrf, || {
        let mut errors = Vec::new();
        if !desk.district.iter().any(|known| known.id == school) {
            errors.push(FieldMessage::field("school", desk.text("notices.channels.school_missing")));
        }
        if to.is_empty() || !is_address_or_empty(&to) {
            errors.push(FieldMessage::field("to", desk.text("notices.channels.to_bad")));
        }
        errors
    });
    if let Some((errors, code)) = refused {
        page.errors.extend(errors);
        return desk.visit.finish(&edge, render(&page, code));
    }
    let request = SendTestEmailRequest { school_id: school, to_address: to };
    let mut client = ReminderServiceClient::new(edge.calls());
    let code = match client.send_test_email(desk.request(&edge, request)).await {
        Ok(answer) => {
            let answer = answer.into_inner();
            page.shell.notice = Some(if answer.accepted {
                Notice::success(desk.text("notices.channels.accepted"))
            } else {
                Notice::refusal(fill(
                    desk.visit.lang,
                    "notices.channels.refused",
                    &[("detail", &answer.detail)],
                ))
            });
            status
        }
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), "a test e-mail cannot be sent");
            page.errors.push(FieldMessage::summary(refusal_text(&desk.visit, &failure)));
            status_of(&failure)
        }
    };
    desk.visit.finish(&edge, render(&page, code))
}
