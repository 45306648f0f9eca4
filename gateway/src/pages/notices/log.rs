//! `/notices`: what is due today (a dry run of `SendDueReminders`, with
//! "send now" for librarians) and the school's delivery log, newest first,
//! by state, a page at a time, with "send again" on messages that failed
//! or were given up.

use axum::extract::{Form, Query, State};
use axum::response::{Redirect, Response};
use http::StatusCode;
use lectern_proto::notification::v1::reminder_service_client::ReminderServiceClient;
use lectern_proto::notification::v1::{
    Delivery, DeliveryState, ListDeliveriesRequest, ResendDeliveryRequest, SendDueRemindersRequest,
    SendDueRemindersResponse,
};
use serde::Deserialize;

use super::views::{DeliveryRow, DueCount, DuePanel, LogPage};
use super::{TRIGGERS, is_admin, may_change, words};
use crate::http::Edge;
use crate::pages::i18n::{Lang, format as fill, text};
use crate::pages::readers::Choice;
use crate::pages::school::{Desk, Section};
use crate::pages::signin::{refusal_text, status_of};
use crate::pages::views::{FieldMessage, Notice};
use crate::pages::{Visit, encode, format, local_path, render};

/// Messages per page of the log.
const PAGE_SIZE: i32 = 50;

/// `GET /notices?state=…&page=…`; `done` and `count` say what was just done.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogQuery {
    state: String,
    page: String,
    done: String,
    count: String,
}

/// `GET /notices`.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<LogQuery>) -> Response {
    let desk = open_desk!(edge, visit);
    let notice = match query.done.as_str() {
        "resent" => Some(Notice::success(desk.text("notices.log.resent"))),
        "sent" => {
            let count = query.count.parse::<u32>().unwrap_or_default().to_string();
            Some(Notice::success(fill(desk.visit.lang, "notices.due.sent", &[("count", &count)])))
        }
        _ => None,
    };
    let (page, status) = log_page(&edge, &desk, &query, Vec::new()).await;
    let mut page = page;
    page.shell.notice = notice;
    desk.visit.finish(&edge, render(&page, status))
}

/// The log page for `query`, with `errors` from what was just tried.
async fn log_page(
    edge: &Edge,
    desk: &Desk,
    query: &LogQuery,
    mut errors: Vec<FieldMessage>,
) -> (LogPage, StatusCode) {
    let lang = desk.visit.lang;
    let state = words::STATES.iter().find(|(_, name, _)| *name == query.state);
    let state_name = state.map(|(_, name, _)| *name).unwrap_or_default();
    let request = ListDeliveriesRequest {
        school_id: desk.school.id.clone(),
        state: state.map_or(DeliveryState::Unspecified, |(state, _, _)| *state).into(),
        reader_id: String::new(),
        page_size: PAGE_SIZE,
        page_token: query.page.clone(),
    };
    let mut client = ReminderServiceClient::new(edge.calls());
    let mut dry_run = client.clone();
    let due = SendDueRemindersRequest { school_id: desk.school.id.clone(), dry_run: true };
    let (listed, due) = futures::join!(
        client.list_deliveries(desk.request(edge, request)),
        dry_run.send_due_reminders(desk.request(edge, due)),
    );
    let due = match due {
        Ok(answer) => due_panel(lang, &answer.into_inner()),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "what is due today cannot be worked out");
            DuePanel::default()
        }
    };
    let mut status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let (rows, next_token, loaded) = match listed {
        Ok(answer) => {
            let answer = answer.into_inner();
            let zone = edge.config().time_zone;
            let rows = answer.deliveries.iter().map(|delivery| delivery_row(lang, delivery, zone)).collect();
            (rows, answer.next_page_token, true)
        }
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), "the delivery log cannot be read");
            errors.push(FieldMessage::summary(refusal_text(&desk.visit, &failure)));
            status = status_of(&failure);
            (Vec::new(), String::new(), false)
        }
    };
    let filter = if state_name.is_empty() { String::new() } else { format!("state={state_name}") };
    let with = |more: &str| {
        let query: Vec<&str> = [filter.as_str(), more].into_iter().filter(|part| !part.is_empty()).collect();
        if query.is_empty() { "/notices".to_owned() } else { format!("/notices?{}", query.join("&")) }
    };
    let next_page =
        if next_token.is_empty() { String::new() } else { with(&format!("page={}", encode(&next_token))) };
    let first_page = if query.page.is_empty() { String::new() } else { with("") };
    let back = if query.page.is_empty() { with("") } else { with(&format!("page={}", encode(&query.page))) };
    let states = words::STATES
        .iter()
        .map(|(_, name, id)| Choice { value: (*name).to_owned(), label: text(lang, id).to_owned() })
        .collect();
    let page = LogPage {
        shell: desk.shell(Section::Notices),
        errors,
        school: desk.school.name.clone(),
        due,
        rows,
        loaded,
        states,
        state: state_name.to_owned(),
        next_page,
        first_page,
        back,
        may_change: may_change(desk),
        is_admin: is_admin(desk),
    };
    (page, status)
}

/// What a dry run says is due, counted per trigger in the screens' order.
pub fn due_panel(lang: Lang, answer: &SendDueRemindersResponse) -> DuePanel {
    let counts = TRIGGERS
        .iter()
        .filter_map(|(trigger, _)| {
            let count = answer.reminders.iter().filter(|due| due.trigger == *trigger as i32).count();
            (count > 0)
                .then(|| DueCount { trigger: text(lang, &words::trigger(*trigger as i32)).to_owned(), count })
        })
        .collect();
    DuePanel {
        loaded: true,
        day: format::day(lang, &answer.day),
        counts,
        total: answer.reminders.len(),
        skipped: answer.skipped_returned,
    }
}

/// One message of the log in words.
pub fn delivery_row(lang: Lang, delivery: &Delivery, zone: chrono_tz::Tz) -> DeliveryRow {
    let (state_id, mark, symbol) = words::state(delivery.state, delivery.trigger);
    let state = DeliveryState::try_from(delivery.state).unwrap_or_default();
    let troubled = matches!(state, DeliveryState::Failed | DeliveryState::Dead);
    let waiting = matches!(state, DeliveryState::Failed | DeliveryState::Pending);
    let next_attempt = match delivery.next_attempt_time.as_ref() {
        Some(at) if waiting => {
            fill(lang, "notices.log.next_attempt", &[("when", &format::moment(lang, Some(at), zone))])
        }
        _ => String::new(),
    };
    let word = |id: &str| if id.is_empty() { String::new() } else { text(lang, id).to_owned() };
    DeliveryRow {
        id: delivery.id.clone(),
        when: format::moment(lang, delivery.create_time.as_ref(), zone),
        reader: if delivery.reader_name.is_empty() {
            text(lang, "notices.unknown_reader").to_owned()
        } else {
            delivery.reader_name.clone()
        },
        about: text(lang, &words::trigger(delivery.trigger)).to_owned(),
        title: delivery.title.clone(),
        recipient: word(words::recipient(delivery.recipient)),
        channel: word(words::channel(delivery.channel)),
        address: delivery.address.clone(),
        state: text(lang, state_id).to_owned(),
        mark,
        symbol,
        attempts: if troubled {
            fill(lang, "notices.log.attempts", &[("count", &delivery.attempts.to_string())])
        } else {
            String::new()
        },
        error: if troubled { delivery.last_error.clone() } else { String::new() },
        next_attempt,
        resendable: troubled,
    }
}

/// The resend form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResendForm {
    csrf: String,
    delivery_id: String,
    back: String,
}

/// `POST /notices/resend`: a failed or given-up message goes out again.
pub async fn resend(State(edge): State<Edge>, visit: Visit, Form(form): Form<ResendForm>) -> Response {
    if !visit.csrf_ok(&edge, &form.csrf) {
        return visit.csrf_refused(&edge);
    }
    let desk = open_desk!(edge, visit);
    let request = ResendDeliveryRequest { delivery_id: form.delivery_id.trim().to_owned() };
    let mut client = ReminderServiceClient::new(edge.calls());
    match client.resend_delivery(desk.request(&edge, request)).await {
        Ok(_) => desk.visit.finish(&edge, Redirect::to(&with_param(&form.back, "done=resent"))),
        Err(status) => {
            tracing::warn!(code = ?status.code(), "a delivery cannot be sent again");
            let sentence = refusal_text(&desk.visit, &status);
            let query = query_of(&form.back);
            let (page, _) = log_page(&edge, &desk, &query, vec![FieldMessage::summary(sentence)]).await;
            desk.visit.finish(&edge, render(&page, status_of(&status)))
        }
    }
}

/// The "send now" form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SendForm {
    csrf: String,
}

/// `POST /notices/send-due`: makes today's reminders now and hands them to
/// the channels, instead of waiting for the schedule.
pub async fn send_due(State(edge): State<Edge>, visit: Visit, Form(form): Form<SendForm>) -> Response {
    if !visit.csrf_ok(&edge, &form.csrf) {
        return visit.csrf_refused(&edge);
    }
    let desk = open_desk!(edge, visit);
    let request = SendDueRemindersRequest { school_id: desk.school.id.clone(), dry_run: false };
    let mut client = ReminderServiceClient::new(edge.calls());
    match client.send_due_reminders(desk.request(&edge, request)).await {
        Ok(answer) => {
            let queued = answer.into_inner().deliveries_queued;
            desk.visit.finish(&edge, Redirect::to(&format!("/notices?done=sent&count={queued}")))
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), "today's reminders cannot be sent now");
            let errors = vec![FieldMessage::summary(refusal_text(&desk.visit, &status))];
            let (page, _) = log_page(&edge, &desk, &LogQuery::default(), errors).await;
            desk.visit.finish(&edge, render(&page, status_of(&status)))
        }
    }
}

/// `back` (a local path) with `param` added to its query.
pub fn with_param(back: &str, param: &str) -> String {
    let back = if back.starts_with("/notices") { local_path(back) } else { "/notices" };
    let joiner = if back.contains('?') { '&' } else { '?' };
    format!("{back}{joiner}{param}")
}

/// The filter and page of a log path, to show that page again.
fn query_of(back: &str) -> LogQuery {
    http::Uri::try_from(local_path(back))
        .ok()
        .and_then(|uri| Query::<LogQuery>::try_from_uri(&uri).ok())
        .map(|Query(query)| query)
        .unwrap_or_default()
}
