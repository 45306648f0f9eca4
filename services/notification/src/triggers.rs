//! Reminder triggers, channels, recipients and delivery states: their
//! stored names (the `*_name` / `state` / `channel` / `recipient` columns)
//! and the API enums. One place, so a stored name never drifts from the
//! enum it stands for.

use lectern_proto::notification::v1::{Channel, DeliveryState, NoticeKind, Recipient, Trigger};

/// Every trigger, in the order the desk lists them.
pub const ALL: [Trigger; 9] = [
    Trigger::DueSoon,
    Trigger::DueToday,
    Trigger::Overdue1,
    Trigger::Overdue2,
    Trigger::Overdue3,
    Trigger::HoldReady,
    Trigger::HoldExpiring,
    Trigger::FeeCharged,
    Trigger::LoanLost,
];

/// The stored name of a trigger.
pub fn trigger_name(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::Unspecified => "unspecified",
        Trigger::DueSoon => "due_soon",
        Trigger::DueToday => "due_today",
        Trigger::Overdue1 => "overdue_1",
        Trigger::Overdue2 => "overdue_2",
        Trigger::Overdue3 => "overdue_3",
        Trigger::HoldReady => "hold_ready",
        Trigger::HoldExpiring => "hold_expiring",
        Trigger::FeeCharged => "fee_charged",
        Trigger::LoanLost => "loan_lost",
    }
}

/// The trigger a stored name stands for (`Unspecified` for none).
pub fn trigger_of(name: &str) -> Trigger {
    ALL.into_iter().find(|trigger| trigger_name(*trigger) == name).unwrap_or(Trigger::Unspecified)
}

/// Whether a trigger is about a loan (and so re-checked with circulation
/// before anything is sent).
pub fn is_about_a_loan(trigger: Trigger) -> bool {
    matches!(
        trigger,
        Trigger::DueSoon | Trigger::DueToday | Trigger::Overdue1 | Trigger::Overdue2 | Trigger::Overdue3
    )
}

/// Whether a trigger's messages may wait for a digest. A copy on the hold
/// shelf is news the reader should have at once.
pub fn may_be_grouped(trigger: Trigger) -> bool {
    trigger != Trigger::HoldReady
}

/// The inbox kind of a reminder.
pub fn notice_kind(trigger: Trigger) -> NoticeKind {
    match trigger {
        Trigger::DueSoon => NoticeKind::DueSoon,
        Trigger::DueToday => NoticeKind::DueToday,
        Trigger::Overdue1 | Trigger::Overdue2 | Trigger::Overdue3 => NoticeKind::Overdue,
        Trigger::HoldReady => NoticeKind::HoldReady,
        Trigger::HoldExpiring => NoticeKind::HoldExpiring,
        Trigger::FeeCharged => NoticeKind::FeeCharged,
        Trigger::LoanLost => NoticeKind::LoanLost,
        Trigger::Unspecified => NoticeKind::Unspecified,
    }
}

/// The stored name of a channel.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Unspecified => "unspecified",
        Channel::Email => "email",
        Channel::InApp => "in_app",
        Channel::Webhook => "webhook",
    }
}

/// The channel a stored name stands for.
pub fn channel_of(name: &str) -> Channel {
    [Channel::Email, Channel::InApp, Channel::Webhook]
        .into_iter()
        .find(|channel| channel_name(*channel) == name)
        .unwrap_or(Channel::Unspecified)
}

/// The stored name of a recipient.
pub fn recipient_name(recipient: Recipient) -> &'static str {
    match recipient {
        Recipient::Unspecified => "unspecified",
        Recipient::Reader => "reader",
        Recipient::Guardian => "guardian",
        Recipient::HomeroomTeacher => "homeroom_teacher",
    }
}

/// The recipient a stored name stands for.
pub fn recipient_of(name: &str) -> Recipient {
    [Recipient::Reader, Recipient::Guardian, Recipient::HomeroomTeacher]
        .into_iter()
        .find(|recipient| recipient_name(*recipient) == name)
        .unwrap_or(Recipient::Unspecified)
}

/// The stored name of a delivery state.
pub fn state_name(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Unspecified => "unspecified",
        DeliveryState::Pending => "pending",
        DeliveryState::Sent => "sent",
        DeliveryState::Failed => "failed",
        DeliveryState::Dead => "dead",
        DeliveryState::Cancelled => "cancelled",
    }
}

/// The delivery state a stored name stands for.
pub fn state_of(name: &str) -> DeliveryState {
    [
        DeliveryState::Pending,
        DeliveryState::Sent,
        DeliveryState::Failed,
        DeliveryState::Dead,
        DeliveryState::Cancelled,
    ]
    .into_iter()
    .find(|state| state_name(*state) == name)
    .unwrap_or(DeliveryState::Unspecified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_name_reads_back_as_its_enum() {
        for trigger in ALL {
            assert_eq!(trigger_of(trigger_name(trigger)), trigger);
        }
        for channel in [Channel::Email, Channel::InApp, Channel::Webhook] {
            assert_eq!(channel_of(channel_name(channel)), channel);
        }
        for recipient in [Recipient::Reader, Recipient::Guardian, Recipient::HomeroomTeacher] {
            assert_eq!(recipient_of(recipient_name(recipient)), recipient);
        }
        assert_eq!(state_of("sent"), DeliveryState::Sent);
        assert_eq!(trigger_of("nonsense"), Trigger::Unspecified);
    }
}
