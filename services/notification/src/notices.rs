//! What a notice says: which events make a notice, and its text in each
//! language. Plain functions, no I/O.

use chrono::{DateTime, NaiveDateTime, Utc};
use lectern_proto::events::v1::{Event, event};
use lectern_proto::notification::v1::NoticeKind;

use crate::db::NoticeRow;

/// Stored names of notice kinds.
const CHECKOUT_RECEIPT: &str = "checkout_receipt";
const CHECKIN_RECEIPT: &str = "checkin_receipt";
const RENEWAL_RECEIPT: &str = "renewal_receipt";
const HOLD_READY: &str = "hold_ready";

/// The kind stored for a notice, as the API enum.
pub fn kind_of(stored: &str) -> NoticeKind {
    match stored {
        CHECKOUT_RECEIPT => NoticeKind::CheckoutReceipt,
        CHECKIN_RECEIPT => NoticeKind::CheckinReceipt,
        RENEWAL_RECEIPT => NoticeKind::RenewalReceipt,
        HOLD_READY => NoticeKind::HoldReady,
        // Reminders store their kind's name ("overdue", "due_soon"; see `sender`).
        other => NoticeKind::from_str_name(&format!("NOTICE_KIND_{}", other.to_ascii_uppercase()))
            .unwrap_or(NoticeKind::Unspecified),
    }
}

/// The notice an event makes, if any. Events this service does not act on
/// yet make none (they are still recorded as consumed).
pub fn notice_for(event: &Event, id: String, now: NaiveDateTime) -> Option<NoticeRow> {
    let occurred_at = event
        .occurred_at
        .and_then(|time| {
            DateTime::<Utc>::from_timestamp(time.seconds, u32::try_from(time.nanos).unwrap_or(0))
        })
        .map_or(now, |time| time.naive_utc());
    let base =
        |reader_id: &str, loan_id: &str, kind: &str, title: &str, due_date: Option<String>| NoticeRow {
            id,
            reader_id: reader_id.to_owned(),
            school_id: event.school_id.clone(),
            event_id: event.id.clone(),
            loan_id: loan_id.to_owned(),
            kind: kind.to_owned(),
            title: title.to_owned(),
            due_date,
            occurred_at,
            created_at: now,
            subject: None,
            body: None,
        };
    match event.payload.as_ref()? {
        event::Payload::LoanCheckedOut(loan) => Some(base(
            &loan.reader_id,
            &loan.loan_id,
            CHECKOUT_RECEIPT,
            &loan.title,
            Some(loan.due_date.clone()),
        )),
        event::Payload::LoanReturned(loan) => {
            Some(base(&loan.reader_id, &loan.loan_id, CHECKIN_RECEIPT, &loan.title, None))
        }
        // "Come and get it", with the last day the copy waits.
        event::Payload::HoldReady(hold) if !hold.reader_id.is_empty() => {
            Some(base(&hold.reader_id, &hold.hold_id, HOLD_READY, &hold.title, Some(hold.expires_on.clone())))
        }
        event::Payload::LoanRenewed(loan) => Some(base(
            &loan.reader_id,
            &loan.loan_id,
            RENEWAL_RECEIPT,
            &loan.title,
            Some(loan.due_date.clone()),
        )),
        // These remove notices rather than make one (see `Purge`).
        // Fee notices are not built yet; the events are kept as delivered.
        event::Payload::LoanAnonymized(_)
        | event::Payload::ReaderErased(_)
        | event::Payload::FeeCharged(_)
        | event::Payload::FeeSettled(_) => None,
        // Other hold and transit events change where a copy is; the reader
        // hears when it is ready (above).
        event::Payload::HoldPlaced(_)
        | event::Payload::HoldCancelled(_)
        | event::Payload::LoanLost(_)
        | event::Payload::LoanChanged(_)
        | event::Payload::HoldTrapped(_)
        | event::Payload::HoldReady(_)
        | event::Payload::HoldReleased(_)
        | event::Payload::TransitStarted(_)
        | event::Payload::TransitReceived(_) => None,
    }
}

/// Notices an event says to remove: a loan's once it no longer names its
/// reader, a reader's once they are erased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purge {
    /// Every notice about this loan.
    Loan(String),
    /// Every notice to this reader.
    Reader(String),
}

/// The notices `event` removes, if any.
pub fn purge_for(event: &Event) -> Option<Purge> {
    match event.payload.as_ref()? {
        event::Payload::LoanAnonymized(loan) => Some(Purge::Loan(loan.loan_id.clone())),
        event::Payload::ReaderErased(reader) => Some(Purge::Reader(reader.reader_id.clone())),
        event::Payload::LoanCheckedOut(_)
        | event::Payload::LoanReturned(_)
        | event::Payload::LoanRenewed(_)
        | event::Payload::FeeCharged(_)
        | event::Payload::FeeSettled(_)
        | event::Payload::HoldPlaced(_)
        | event::Payload::HoldCancelled(_)
        | event::Payload::LoanLost(_)
        | event::Payload::LoanChanged(_)
        | event::Payload::HoldTrapped(_)
        | event::Payload::HoldReady(_)
        | event::Payload::HoldReleased(_)
        | event::Payload::TransitStarted(_)
        | event::Payload::TransitReceived(_) => None,
    }
}

/// A language notices are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Simplified Chinese, the default.
    ZhCn,
    /// English.
    En,
}

impl Language {
    /// Reads a language tag; empty means Chinese. Unknown tags are `None`.
    pub fn parse(tag: &str) -> Option<Self> {
        match tag.trim().to_ascii_lowercase().as_str() {
            "" | "zh" | "zh-cn" | "zh-hans" => Some(Self::ZhCn),
            "en" | "en-us" | "en-gb" => Some(Self::En),
            _ => None,
        }
    }
}

/// The text of a stored notice.
pub fn message(notice: &NoticeRow, language: Language) -> String {
    let due = notice.due_date.as_deref().unwrap_or("");
    match (kind_of(&notice.kind), language) {
        (NoticeKind::CheckoutReceipt, Language::ZhCn) => {
            format!("你借了《{}》，请在 {} 前归还。", notice.title, due)
        }
        (NoticeKind::CheckoutReceipt, Language::En) => {
            format!("You borrowed \u{201c}{}\u{201d}, due {}.", notice.title, due)
        }
        (NoticeKind::CheckinReceipt, Language::ZhCn) => format!("《{}》已归还，谢谢！", notice.title),
        (NoticeKind::HoldReady, Language::ZhCn) => {
            format!("你预约的《{}》已到馆，请在 {} 前到图书馆领取。", notice.title, due)
        }
        (NoticeKind::HoldReady, Language::En) => {
            format!("\u{201c}{}\u{201d} is waiting for you at the library until {}.", notice.title, due)
        }
        (NoticeKind::RenewalReceipt, Language::ZhCn) => {
            format!("《{}》已续借，请在 {} 前归还。", notice.title, due)
        }
        (NoticeKind::RenewalReceipt, Language::En) => {
            format!("\u{201c}{}\u{201d} was renewed, now due {}.", notice.title, due)
        }
        (NoticeKind::CheckinReceipt, Language::En) => {
            format!("\u{201c}{}\u{201d} has been returned. Thank you!", notice.title)
        }
        // Reminders carry their rendered text (see `NoticeRow::body`).
        (
            NoticeKind::DueSoon
            | NoticeKind::DueToday
            | NoticeKind::Overdue
            | NoticeKind::HoldExpiring
            | NoticeKind::FeeCharged
            | NoticeKind::LoanLost,
            _,
        ) => notice.body.clone().unwrap_or_else(|| notice.title.clone()),
        (NoticeKind::Unspecified, _) => notice.title.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_proto::events::v1::{LoanCheckedOut, LoanReturned};

    fn event(payload: event::Payload) -> Event {
        Event {
            id: "ev-1".into(),
            r#type: "loan.checked_out".into(),
            occurred_at: None,
            school_id: "school-1".into(),
            source: "circulation".into(),
            traceparent: String::new(),
            payload: Some(payload),
        }
    }

    #[test]
    fn a_checkout_makes_a_receipt_with_the_due_date() {
        let now = Utc::now().naive_utc();
        let notice = notice_for(
            &event(event::Payload::LoanCheckedOut(LoanCheckedOut {
                loan_id: "loan-1".into(),
                reader_id: "reader-1".into(),
                title: "草房子".into(),
                due_date: "2026-12-12".into(),
                ..Default::default()
            })),
            "n-1".into(),
            now,
        )
        .unwrap();
        assert_eq!(notice.reader_id, "reader-1");
        assert_eq!(message(&notice, Language::ZhCn), "你借了《草房子》，请在 2026-12-12 前归还。");
        assert_eq!(message(&notice, Language::En), "You borrowed \u{201c}草房子\u{201d}, due 2026-12-12.");
    }

    #[test]
    fn a_return_makes_a_receipt() {
        let notice = notice_for(
            &event(event::Payload::LoanReturned(LoanReturned {
                loan_id: "loan-1".into(),
                reader_id: "reader-1".into(),
                title: "Matilda".into(),
                ..Default::default()
            })),
            "n-2".into(),
            Utc::now().naive_utc(),
        )
        .unwrap();
        assert_eq!(message(&notice, Language::En), "\u{201c}Matilda\u{201d} has been returned. Thank you!");
        assert_eq!(Language::parse("EN"), Some(Language::En));
        assert_eq!(Language::parse("fr"), None);
    }

    #[test]
    fn anonymization_and_erasure_purge_notices() {
        use lectern_proto::events::v1::{LoanAnonymized, ReaderErased};
        let anonymized = event(event::Payload::LoanAnonymized(LoanAnonymized {
            loan_id: "loan-1".into(),
            copy_id: "copy-1".into(),
        }));
        assert_eq!(purge_for(&anonymized), Some(Purge::Loan("loan-1".into())));
        assert!(notice_for(&anonymized, "n-3".into(), Utc::now().naive_utc()).is_none());
        let erased = event(event::Payload::ReaderErased(ReaderErased { reader_id: "reader-1".into() }));
        assert_eq!(purge_for(&erased), Some(Purge::Reader("reader-1".into())));
    }
}
