//! `/notices/settings`: a school's reminder settings. Librarians and
//! district admins change them in a form checked here as notification
//! checks them, so each message stands next to its field; assistants read
//! them in words.

use axum::extract::{Form, Query, State};
use axum::response::{Redirect, Response};
use chrono::NaiveTime;
use http::StatusCode;
use lectern_proto::notification::v1::reminder_service_client::ReminderServiceClient;
use lectern_proto::notification::v1::{
    DayCounting, GetReminderSettingsRequest, ReminderSettings, UpdateReminderSettingsRequest,
};
use serde::Deserialize;
use tonic::{Code, Status};

use super::views::{SettingsFields, SettingsPage};
use super::{may_change, named_fields};
use crate::http::Edge;
use crate::pages::i18n::{Lang, format as fill};
use crate::pages::readers::check_form;
use crate::pages::school::{Desk, Section};
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::{FieldMessage, Notice};
use crate::pages::{Visit, format, render};

/// The fields notification may name as bad, the form field each stands
/// for, and what to say there.
const FIELDS: [(&str, &str, &str); 12] = [
    ("due_soon_days", "due_soon_days", "notices.settings.days_bad"),
    ("overdue_days", "overdue_1", "notices.settings.overdue_bad"),
    ("hold_expiring_days", "hold_expiring_days", "notices.settings.days_bad"),
    ("quiet_hours_start", "quiet_hours_start", "notices.settings.time_bad"),
    ("quiet_hours_end", "quiet_hours_end", "notices.settings.time_bad"),
    ("daily_cap_email", "daily_cap_email", "notices.settings.cap_bad"),
    ("daily_cap_webhook", "daily_cap_webhook", "notices.settings.cap_bad"),
    ("sender_name", "sender_name", "notices.settings.sender_name_long"),
    ("from_address", "from_address", "notices.settings.address_bad"),
    ("reply_to", "reply_to", "notices.settings.address_bad"),
    ("library_hours", "library_hours", "notices.settings.library_hours_long"),
    ("day_counting", "open_days", ""),
];

/// `GET /notices/settings?done=saved`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsQuery {
    done: String,
}

/// `GET /notices/settings`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<SettingsQuery>) -> Response {
    let desk = open_desk!(edge, visit);
    let request = GetReminderSettingsRequest { school_id: desk.school.id.clone() };
    let mut client = ReminderServiceClient::new(edge.calls());
    let (mut page, status) = match client.get_reminder_settings(desk.request(&edge, request)).await {
        Ok(settings) => (page_of(&edge, &desk, &settings.into_inner(), Vec::new()), StatusCode::OK),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "reminder settings cannot be read");
            let errors = vec![FieldMessage::summary(refusal_text(&desk.visit, &status))];
            let mut page = page_of(&edge, &desk, &ReminderSettings::default(), errors);
            page.loaded = false;
            (page, status_of(&status))
        }
    };
    if query.done == "saved" {
        page.shell.notice = Some(Notice::success(desk.text("notices.settings.saved")));
    }
    desk.visit.finish(&edge, render(&page, status))
}

/// The settings page showing `settings`.
fn page_of(edge: &Edge, desk: &Desk, settings: &ReminderSettings, errors: Vec<FieldMessage>) -> SettingsPage {
    let updated = match settings.update_time.as_ref() {
        Some(at) if !settings.updated_by.is_empty() => {
            let when = format::moment(desk.visit.lang, Some(at), edge.config().time_zone);
            fill(desk.visit.lang, "notices.settings.updated", &[("when", &when)])
        }
        _ => String::new(),
    };
    SettingsPage {
        shell: desk.shell(Section::Notices),
        errors,
        fields: fields_of(settings),
        may_change: may_change(desk),
        defaults: settings.updated_by.is_empty(),
        updated,
        loaded: true,
    }
}

/// The form's fields filled from `settings`.
pub fn fields_of(settings: &ReminderSettings) -> SettingsFields {
    let overdue = |index: usize| settings.overdue_days.get(index).map(i32::to_string).unwrap_or_default();
    SettingsFields {
        due_soon_days: settings.due_soon_days.to_string(),
        due_today: settings.due_today,
        overdue_1: overdue(0),
        overdue_2: overdue(1),
        overdue_3: overdue(2),
        hold_expiring_days: settings.hold_expiring_days.to_string(),
        open_days: settings.day_counting == DayCounting::OpenDays as i32,
        send_on_closed_days: settings.send_on_closed_days,
        quiet_hours_start: settings.quiet_hours_start.clone(),
        quiet_hours_end: settings.quiet_hours_end.clone(),
        daily_cap_email: settings.daily_cap_email.to_string(),
        daily_cap_webhook: settings.daily_cap_webhook.to_string(),
        homeroom_teacher_overdue: settings.homeroom_teacher_overdue,
        sender_name: settings.sender_name.clone(),
        from_address: settings.from_address.clone(),
        reply_to: settings.reply_to.clone(),
        library_hours: settings.library_hours.clone(),
    }
}

/// The settings form as sent. A ticked box sends its value; an unticked
/// one sends nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    csrf: String,
    due_soon_days: String,
    due_today: String,
    overdue_1: String,
    overdue_2: String,
    overdue_3: String,
    hold_expiring_days: String,
    open_days: String,
    send_on_closed_days: String,
    quiet_hours_start: String,
    quiet_hours_end: String,
    daily_cap_email: String,
    daily_cap_webhook: String,
    homeroom_teacher_overdue: String,
    sender_name: String,
    from_address: String,
    reply_to: String,
    library_hours: String,
}

impl SettingsForm {
    /// The fields as typed.
    pub fn fields(&self) -> SettingsFields {
        SettingsFields {
            due_soon_days: self.due_soon_days.trim().to_owned(),
            due_today: !self.due_today.is_empty(),
            overdue_1: self.overdue_1.trim().to_owned(),
            overdue_2: self.overdue_2.trim().to_owned(),
            overdue_3: self.overdue_3.trim().to_owned(),
            hold_expiring_days: self.hold_expiring_days.trim().to_owned(),
            open_days: !self.open_days.is_empty(),
            send_on_closed_days: !self.send_on_closed_days.is_empty(),
            quiet_hours_start: self.quiet_hours_start.trim().to_owned(),
            quiet_hours_end: self.quiet_hours_end.trim().to_owned(),
            daily_cap_email: self.daily_cap_email.trim().to_owned(),
            daily_cap_webhook: self.daily_cap_webhook.trim().to_owned(),
            homeroom_teacher_overdue: !self.homeroom_teacher_overdue.is_empty(),
            sender_name: self.sender_name.trim().to_owned(),
            from_address: self.from_address.trim().to_owned(),
            reply_to: self.reply_to.trim().to_owned(),
            library_hours: self.library_hours.trim().to_owned(),
        }
    }
}

/// The settings `fields` stand for, or what is wrong with them, field by
/// field (as catalogue ids), in the order of the form.
pub fn check(fields: &SettingsFields) -> Result<ReminderSettings, Vec<(&'static str, &'static str)>> {
    let mut wrong = Vec::new();
    let days = "notices.settings.days_bad";
    let due_soon_days = number(&mut wrong, ("due_soon_days", &fields.due_soon_days), 0..=60, days);
    let mut overdue_days: Vec<i32> = Vec::new();
    let mut gap = false;
    for (field, value) in
        [("overdue_1", &fields.overdue_1), ("overdue_2", &fields.overdue_2), ("overdue_3", &fields.overdue_3)]
    {
        if value.is_empty() {
            gap = true;
            continue;
        }
        if gap {
            wrong.push((field, "notices.settings.overdue_gap"));
            continue;
        }
        let day = number(&mut wrong, (field, value), 1..=120, "notices.settings.overdue_bad");
        if day > 0 && overdue_days.last().is_some_and(|last| *last >= day) {
            wrong.push((field, "notices.settings.overdue_bad"));
        }
        overdue_days.push(day);
    }
    let hold_expiring_days =
        number(&mut wrong, ("hold_expiring_days", &fields.hold_expiring_days), 0..=60, days);
    let quiet_hours_start = time(&mut wrong, "quiet_hours_start", &fields.quiet_hours_start);
    let quiet_hours_end = time(&mut wrong, "quiet_hours_end", &fields.quiet_hours_end);
    let cap = "notices.settings.cap_bad";
    let daily_cap_email =
        number(&mut wrong, ("daily_cap_email", &fields.daily_cap_email), 0..=1_000_000, cap);
    let daily_cap_webhook =
        number(&mut wrong, ("daily_cap_webhook", &fields.daily_cap_webhook), 0..=1_000_000, cap);
    if fields.sender_name.chars().count() > 60 {
        wrong.push(("sender_name", "notices.settings.sender_name_long"));
    }
    for (field, value) in [("from_address", &fields.from_address), ("reply_to", &fields.reply_to)] {
        if !is_address_or_empty(value) {
            wrong.push((field, "notices.settings.address_bad"));
        }
    }
    if fields.library_hours.chars().count() > 200 {
        wrong.push(("library_hours", "notices.settings.library_hours_long"));
    }
    if !wrong.is_empty() {
        return Err(wrong);
    }
    Ok(ReminderSettings {
        school_id: String::new(),
        due_soon_days,
        due_today: fields.due_today,
        overdue_days,
        hold_expiring_days,
        day_counting: if fields.open_days { DayCounting::OpenDays } else { DayCounting::CalendarDays }.into(),
        send_on_closed_days: fields.send_on_closed_days,
        quiet_hours_start,
        quiet_hours_end,
        daily_cap_email,
        daily_cap_webhook,
        homeroom_teacher_overdue: fields.homeroom_teacher_overdue,
        sender_name: fields.sender_name.clone(),
        from_address: fields.from_address.clone(),
        reply_to: fields.reply_to.clone(),
        library_hours: fields.library_hours.clone(),
        updated_by: String::new(),
        update_time: None,
    })
}

/// A whole number in `range` typed in `field`; 0 and a message in `wrong`
/// (catalogue id `id`) if it is not one.
fn number(
    wrong: &mut Vec<(&'static str, &'static str)>,
    (field, value): (&'static str, &str),
    range: std::ops::RangeInclusive<i32>,
    id: &'static str,
) -> i32 {
    let digits = !value.is_empty() && value.len() <= 7 && value.bytes().all(|byte| byte.is_ascii_digit());
    let parsed = value.parse::<i32>().ok().filter(|number| digits && range.contains(number));
    if parsed.is_none() {
        wrong.push((field, id));
    }
    parsed.unwrap_or_default()
}

/// A time "HH:MM" typed in `field`, written as notification takes it; empty
/// and a message in `wrong` if it is not one.
fn time(wrong: &mut Vec<(&'static str, &'static str)>, field: &'static str, value: &str) -> String {
    match NaiveTime::parse_from_str(value, "%H:%M") {
        Ok(time) => time.format("%H:%M").to_string(),
        Err(_) => {
            wrong.push((field, "notices.settings.time_bad"));
            String::new()
        }
    }
}

/// Whether `value` is empty or looks like an e-mail address (the relay
/// decides whether it is one).
pub fn is_address_or_empty(value: &str) -> bool {
    value.is_empty()
        || (value.len() <= 254
            && value.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
            && !value.contains(char::is_whitespace))
}

/// The messages of `wrong` in `lang`.
fn messages(lang: Lang, wrong: &[(&str, &str)]) -> Vec<FieldMessage> {
    wrong.iter().map(|(field, id)| FieldMessage::field(*field, crate::pages::i18n::text(lang, id))).collect()
}

/// Where notification's refusal goes on the form: next to the field it
/// names, else in the summary.
pub fn refusal(visit: &Visit, status: &Status) -> FieldMessage {
    if status.code() == Code::InvalidArgument {
        for (named, _) in named_fields(status) {
            if let Some((_, field, id)) = FIELDS.iter().find(|(sent, _, _)| *sent == named) {
                let text = if id.is_empty() { refusal_text(visit, status) } else { visit.text(id) };
                return FieldMessage::field(*field, text);
            }
        }
    }
    FieldMessage::summary(refusal_text(visit, status))
}

/// `POST /notices/settings`.
pub async fn save(State(edge): State<Edge>, visit: Visit, Form(form): Form<SettingsForm>) -> Response {
    let desk = open_desk!(edge, visit);
    let fields = form.fields();
    let mut checked = None;
    let refused = check_form(&edge, &desk.visit, &form.csrf, || match check(&fields) {
        Ok(settings) => {
            checked = Some(settings);
            Vec::new()
        }
        Err(wrong) => messages(desk.visit.lang, &wrong),
    });
    let (errors, status) = match (refused, checked) {
        (Some(refused), _) => refused,
        (None, Some(mut settings)) => {
            settings.school_id = desk.school.id.clone();
            let request = UpdateReminderSettingsRequest { settings: Some(settings) };
            let mut client = ReminderServiceClient::new(edge.calls());
            match client.update_reminder_settings(desk.request(&edge, request)).await {
                Ok(_) => return desk.visit.finish(&edge, Redirect::to("/notices/settings?done=saved")),
                Err(status) => {
                    tracing::warn!(code = ?status.code(), "reminder settings cannot be saved");
                    (vec![refusal(&desk.visit, &status)], status_of(&status))
                }
            }
        }
        (None, None) => (Vec::new(), StatusCode::BAD_REQUEST),
    };
    let page = SettingsPage {
        shell: desk.shell(Section::Notices),
        errors,
        fields,
        may_change: may_change(&desk),
        defaults: false,
        updated: String::new(),
        loaded: true,
    };
    desk.visit.finish(&edge, render(&page, status))
}
