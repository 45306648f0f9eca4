//! `/notices`: the desk's reminders screens for the school it stands in —
//! the delivery log with what is due today ([`log`]), the reminder settings
//! ([`settings`]), the texts with their preview ([`texts`]), the delivery
//! report and the district's channels ([`report`]).
//!
//! Everything comes from notification's `ReminderService`, called with the
//! staff member's token; the service decides who may see and change what.
//! The pages only keep buttons from those who would be refused: changes
//! are for librarians and district admins ([`may_change`]), the channels
//! for district admins ([`is_admin`]). No id is shown: triggers, channels,
//! recipients and states are written in words ([`words`]).

/// Opens the desk or answers with where to go first.
macro_rules! open_desk {
    ($edge:expr, $visit:expr) => {
        match crate::pages::school::Desk::open(&$edge, $visit).await {
            Ok(desk) => desk,
            Err(response) => return response,
        }
    };
}

mod log;
mod report;
mod settings;
#[cfg(test)]
mod tests;
mod texts;
mod views;

use axum::Router;
use axum::routing::{get, post};
use lectern_core::identity::Role;
use lectern_proto::notification::v1::{Channel, DeliveryState, Recipient, Trigger};
use tonic::Status;
use tonic_types::StatusExt as _;

use super::school::Desk;
use crate::http::Edge;
pub use views::{
    ChannelsPage, DeliveryRow, DueCount, DuePanel, EmailView, LogPage, Preview, ReportPage, ReportRow,
    SettingsFields, SettingsPage, TextCell, TextPage, TextRow, TextsPage, VariableRow, WebhookView,
};

/// The routes of the reminders screens.
pub fn routes() -> Router<Edge> {
    Router::new()
        .route("/notices", get(log::show))
        .route("/notices/resend", post(log::resend))
        .route("/notices/send-due", post(log::send_due))
        .route("/notices/settings", get(settings::show).post(settings::save))
        .route("/notices/templates", get(texts::list))
        .route("/notices/templates/{trigger}/{language}", get(texts::show).post(texts::send))
        .route("/notices/templates/{trigger}/{language}/reset", post(texts::reset))
        .route("/notices/report", get(report::show))
        .route("/notices/channels", get(report::channels))
        .route("/notices/channels/test", post(report::test_email))
}

/// Every trigger with its name in paths and in the catalogue
/// (`notices.trigger.{name}`), in the order the screens list them.
pub const TRIGGERS: [(Trigger, &str); 9] = [
    (Trigger::DueSoon, "due_soon"),
    (Trigger::DueToday, "due_today"),
    (Trigger::Overdue1, "overdue_1"),
    (Trigger::Overdue2, "overdue_2"),
    (Trigger::Overdue3, "overdue_3"),
    (Trigger::HoldReady, "hold_ready"),
    (Trigger::HoldExpiring, "hold_expiring"),
    (Trigger::FeeCharged, "fee_charged"),
    (Trigger::LoanLost, "loan_lost"),
];

/// The languages a school's texts are written in: the tag the service
/// takes, and the catalogue id of its name.
pub const LANGUAGES: [(&str, &str); 2] =
    [("zh-CN", "notices.texts.language_zh"), ("en", "notices.texts.language_en")];

/// The path name of `trigger` ("overdue_1"); "unknown" for one this build
/// does not know.
pub fn trigger_name(trigger: i32) -> &'static str {
    TRIGGERS.iter().find(|(known, _)| *known as i32 == trigger).map_or("unknown", |(_, name)| name)
}

/// The trigger a path names.
pub fn trigger_of(name: &str) -> Option<Trigger> {
    TRIGGERS.iter().find(|(_, known)| *known == name).map(|(trigger, _)| *trigger)
}

/// Catalogue ids of what the log shows in words.
pub mod words {
    use super::*;

    /// `notices.trigger.*` of a trigger.
    pub fn trigger(trigger: i32) -> String {
        format!("notices.trigger.{}", trigger_name(trigger))
    }

    /// `notices.channel.*` of a channel; empty for none.
    pub fn channel(channel: i32) -> &'static str {
        match Channel::try_from(channel) {
            Ok(Channel::Email) => "notices.channel.email",
            Ok(Channel::InApp) => "notices.channel.in_app",
            Ok(Channel::Webhook) => "notices.channel.webhook",
            _ => "",
        }
    }

    /// `notices.recipient.*` of a recipient; empty for none.
    pub fn recipient(recipient: i32) -> &'static str {
        match Recipient::try_from(recipient) {
            Ok(Recipient::Reader) => "notices.recipient.reader",
            Ok(Recipient::Guardian) => "notices.recipient.guardian",
            Ok(Recipient::HomeroomTeacher) => "notices.recipient.homeroom_teacher",
            _ => "",
        }
    }

    /// The state's `notices.state.*` id and its mark (the CSS class and
    /// the symbol shown before the words, so states differ in shape, not
    /// only in colour). A cancelled reminder about a loan was cancelled
    /// because the book came back; others because they no longer applied.
    pub fn state(state: i32, trigger: i32) -> (&'static str, &'static str, &'static str) {
        let about_a_loan = matches!(
            Trigger::try_from(trigger),
            Ok(Trigger::DueSoon
                | Trigger::DueToday
                | Trigger::Overdue1
                | Trigger::Overdue2
                | Trigger::Overdue3)
        );
        match DeliveryState::try_from(state) {
            Ok(DeliveryState::Sent) => ("notices.state.sent", "sent", "✓"),
            Ok(DeliveryState::Pending) => ("notices.state.pending", "pending", "◷"),
            Ok(DeliveryState::Failed) => ("notices.state.failed", "failed", "↻"),
            Ok(DeliveryState::Dead) => ("notices.state.dead", "dead", "✕"),
            Ok(DeliveryState::Cancelled) if about_a_loan => {
                ("notices.state.cancelled_returned", "cancelled", "–")
            }
            _ => ("notices.state.cancelled", "cancelled", "–"),
        }
    }

    /// The states the log filters by, with their query value.
    pub const STATES: [(DeliveryState, &str, &str); 5] = [
        (DeliveryState::Sent, "sent", "notices.state.sent"),
        (DeliveryState::Pending, "pending", "notices.state.pending"),
        (DeliveryState::Failed, "failed", "notices.state.failed"),
        (DeliveryState::Dead, "dead", "notices.state.dead"),
        (DeliveryState::Cancelled, "cancelled", "notices.state.cancelled"),
    ];
}

/// Whether the staff member may change settings and texts and resend:
/// librarians and district admins (notification refuses assistants).
pub fn may_change(desk: &Desk) -> bool {
    matches!(desk.principal.role, Some(Role::Librarian | Role::DistrictAdmin))
}

/// Whether the staff member sees the district's channels.
pub fn is_admin(desk: &Desk) -> bool {
    desk.principal.role == Some(Role::DistrictAdmin)
}

/// The fields a refusal names as bad (`google.rpc.BadRequest`), each with
/// what the service said about it; a field of a nested message
/// (`settings.due_soon_days`) by its last name.
pub fn named_fields(status: &Status) -> Vec<(String, String)> {
    status
        .get_details_bad_request()
        .into_iter()
        .flat_map(|bad| bad.field_violations)
        .map(|violation| {
            let field = violation.field.rsplit('.').next().unwrap_or_default().to_owned();
            (field, violation.description)
        })
        .collect()
}
