//! A reader's rights over their data. Erasure deletes the reader's
//! personal data here (the record, PIN, blocks) in one transaction that
//! also records the audit entry and a `reader.erased` event in the outbox;
//! the relay carries the event to circulation (which anonymizes the
//! reader's loans) and notification (which purges their notices). Export
//! gathers what every service holds about one reader into one JSON
//! document. The JSON building here is plain functions, no I/O.

use chrono::{DateTime, NaiveDateTime, Utc};
use lectern_common::db::DbConnection;
use lectern_common::{idempotency, outbox};
use lectern_core::ids;
use lectern_proto::circulation::v1::Loan;
use lectern_proto::events::v1::{Event, ReaderErased, event};
use lectern_proto::notification::v1::Notice;
use prost::Message as _;
use prost_types::Timestamp;
use serde_json::{Value, json};

use lectern_proto::events::subscribers::{CIRCULATION, NOTIFICATION};
use lectern_proto::events::types::READER_ERASED;

use crate::audit::{self, Entry, action, outcome};
use crate::db::pins::PinRow;
use crate::db::profile::{ContactRow, NoteRow, PreferencesRow};
use crate::db::{self, AuditRow, BlockRow, ReaderView};
use crate::error::{Error, ReaderRefusal};

/// Who hears that a reader was erased.
pub const ERASURE_SUBSCRIBERS: [&str; 2] = [CIRCULATION, NOTIFICATION];

/// Erases `reader` on behalf of `actor_id`: deletes the record, PIN and
/// blocks, enqueues `reader.erased` and audits it. Run inside `Db::write`;
/// the caller has checked that the reader owes nothing.
pub fn erase(
    connection: &mut DbConnection,
    reader: &ReaderView,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let reader_id = &reader.reader.id;
    // WeChat bindings and printed codes first: they refer to the record.
    db::family::delete_for_reader(connection, reader_id, now)?;
    if !db::readers::delete_reader(connection, reader_id)? {
        return Err(ReaderRefusal::ReaderNotFound(reader_id.clone()).into());
    }
    forget_remembered_answers(connection, reader_id)?;
    // Tokens the reader holds (phone, portal) stop working everywhere.
    db::sessions::revoke_subject(connection, reader_id, "reader erased", now)?;
    let event = erased_event(ids::new_id(), reader_id, &reader.reader.school_id, now);
    outbox::enqueue(connection, &event, reader_id, &ERASURE_SUBSCRIBERS, now)?;
    audit::record(
        connection,
        Entry::about(action::READER_ERASE, outcome::SUCCEEDED, actor_id, reader_id),
        now,
    )?;
    Ok(())
}

/// Operations whose remembered answers (for idempotent retries) carry a
/// reader's personal data (the record with the name, a contact point, a
/// staff note), with how to read whose they are.
const PERSONAL_ANSWERS: [(&str, AnswerOwner); 4] = [
    ("reader.CreateReader", reader_of_record),
    ("reader.CreateReaderBlock", reader_of_record),
    ("reader.CreateReaderContact", reader_of_contact),
    ("reader.CreateReaderNote", reader_of_note),
];

/// Reads whose data a remembered answer is (`None` if it does not decode).
type AnswerOwner = fn(&[u8]) -> Option<String>;

fn reader_of_record(answer: &[u8]) -> Option<String> {
    lectern_proto::reader::v1::Reader::decode(answer).ok().map(|reader| reader.id)
}

fn reader_of_contact(answer: &[u8]) -> Option<String> {
    lectern_proto::reader::v1::ReaderContact::decode(answer).ok().map(|contact| contact.reader_id)
}

fn reader_of_note(answer: &[u8]) -> Option<String> {
    lectern_proto::reader::v1::ReaderNote::decode(answer).ok().map(|note| note.reader_id)
}

/// Deletes the remembered answers that carry the reader's data, so no copy
/// of the name or a contact outlives the erasure in `idempotency_keys`.
fn forget_remembered_answers(connection: &mut DbConnection, reader_id: &str) -> Result<(), Error> {
    let operations: Vec<&str> = PERSONAL_ANSWERS.iter().map(|(operation, _)| *operation).collect();
    idempotency::forget(connection, &operations, |operation, answer| {
        PERSONAL_ANSWERS
            .iter()
            .find(|(name, _)| *name == operation)
            .and_then(|(_, owner)| owner(answer))
            .is_some_and(|owner| owner == reader_id)
    })?;
    Ok(())
}

/// `reader.erased` for `reader_id` of `school_id`.
pub fn erased_event(event_id: String, reader_id: &str, school_id: &str, now: NaiveDateTime) -> Event {
    Event {
        id: event_id,
        r#type: READER_ERASED.to_owned(),
        occurred_at: Some(lectern_core::time::timestamp(now)),
        school_id: school_id.to_owned(),
        source: "reader".to_owned(),
        // Filled in by `outbox::enqueue` from the request being served.
        traceparent: String::new(),
        payload: Some(event::Payload::ReaderErased(ReaderErased { reader_id: reader_id.to_owned() })),
    }
}

/// What the reader service itself holds about a reader.
#[derive(Debug, Clone)]
pub struct LocalData {
    pub reader: ReaderView,
    pub all_blocks: Vec<BlockRow>,
    pub pin: Option<PinRow>,
    pub audit: Vec<AuditRow>,
    pub contacts: Vec<ContactRow>,
    pub preferences: Option<PreferencesRow>,
    pub notes: Vec<NoteRow>,
}

/// Reads everything the reader service holds about `reader_id`.
pub fn local_data(
    connection: &mut DbConnection,
    reader_id: &str,
    today: chrono::NaiveDate,
) -> Result<LocalData, Error> {
    let reader = crate::readers::view(connection, db::readers::ReaderKey::Id(reader_id), today)?;
    let filter = db::AuditFilter { subject_id: Some(reader_id.to_owned()), ..Default::default() };
    Ok(LocalData {
        all_blocks: db::readers::all_blocks(connection, reader_id)?,
        pin: db::pins::find(connection, reader_id)?,
        audit: db::audit::list_events(connection, &filter, 0, 10_000)?,
        contacts: db::profile::contacts(connection, reader_id)?,
        preferences: db::profile::preferences(connection, reader_id)?,
        notes: db::profile::notes(connection, reader_id, 0, 10_000)?,
        reader,
    })
}

fn time(time: NaiveDateTime) -> String {
    time.and_utc().to_rfc3339()
}

fn wire_time(time: Option<&Timestamp>) -> Value {
    time.and_then(|time| {
        DateTime::<Utc>::from_timestamp(time.seconds, u32::try_from(time.nanos).unwrap_or(0))
    })
    .map_or(Value::Null, |time| Value::String(time.to_rfc3339()))
}

/// The export document (see docs/privacy.md for its shape).
pub fn export_json(local: &LocalData, loans: &[Loan], notices: &[Notice], now: DateTime<Utc>) -> Value {
    let row = &local.reader.reader;
    let rule = crate::categories::wire_rule(&local.reader.history.0, local.reader.history.1);
    json!({
        "format": "lectern.reader-export.v1",
        "exported_at": now.to_rfc3339(),
        "reader": {
            "id": row.id,
            "school_id": row.school_id,
            "card_barcode": row.card_barcode,
            "name": row.name,
            "number": row.number,
            "category": row.category,
            "history_rule": {
                "retention": local.reader.history.0,
                "anonymize_after_days": rule.anonymize_after_days,
            },
            "class_id": row.class_id,
            "class_name": local.reader.class_name,
            "grade": local.reader.grade,
            "status": row.status,
            "expires_on": row.expires_on.map(|day| day.to_string()),
            "created_at": time(row.created_at),
        },
        "pin": {
            "set": local.pin.is_some(),
            "updated_at": local.pin.as_ref().map(|pin| time(pin.updated_at)),
            "locked_until": local.pin.as_ref().and_then(|pin| pin.locked_until).map(time),
        },
        "contacts": local.contacts.iter().map(|contact| json!({
            "id": contact.id,
            "who": contact.who,
            "channel": contact.channel,
            "value": contact.value,
            "label": contact.label,
            "created_at": time(contact.created_at),
        })).collect::<Vec<_>>(),
        "notification_preferences": local.preferences.as_ref().map(|preferences| json!({
            "email": preferences.notify_email,
            "sms": preferences.notify_sms,
            "wechat": preferences.notify_wechat,
            "in_app": preferences.notify_in_app,
            "language": preferences.language,
            "updated_at": time(preferences.updated_at),
        })),
        "staff_notes": local.notes.iter().map(|note| json!({
            "id": note.id,
            "body": note.body,
            "author_id": note.author_id,
            "created_at": time(note.created_at),
        })).collect::<Vec<_>>(),
        "blocks": local.all_blocks.iter().map(|block| json!({
            "id": block.id,
            "reason": block.reason,
            "ends_on": block.ends_on.map(|day| day.to_string()),
            "created_at": time(block.created_at),
            "lifted_at": block.lifted_at.map(time),
        })).collect::<Vec<_>>(),
        "loans": loans.iter().map(|loan| json!({
            "id": loan.id,
            "school_id": loan.school_id,
            "copy_barcode": loan.copy_barcode,
            "title_id": loan.title_id,
            "title": loan.title,
            "checked_out_at": wire_time(loan.checked_out_at.as_ref()),
            "due_date": loan.due_date,
            "returned_at": wire_time(loan.returned_at.as_ref()),
            "overdue": loan.overdue,
        })).collect::<Vec<_>>(),
        "notices": notices.iter().map(|notice| json!({
            "id": notice.id,
            "loan_id": notice.loan_id,
            "message": notice.message,
            "title": notice.title,
            "due_date": notice.due_date,
            "created_at": wire_time(notice.create_time.as_ref()),
        })).collect::<Vec<_>>(),
        "audit": local.audit.iter().map(|event| json!({
            "occurred_at": time(event.occurred_at),
            "action": event.action,
            "outcome": event.outcome,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ReaderRow;

    fn reader() -> ReaderView {
        let created_at = NaiveDateTime::parse_from_str("2026-09-01 08:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        ReaderView {
            reader: ReaderRow {
                id: "reader-1".into(),
                school_id: "school-1".into(),
                card_barcode: "R1".into(),
                name: "王小明".into(),
                category: "student".into(),
                class_id: None,
                status: "active".into(),
                expires_on: None,
                created_at,
                number: None,
                name_key: "王小明".into(),
            },
            class_name: None,
            grade: None,
            blocks: Vec::new(),
            history: ("anonymize_after_days".into(), Some(30)),
        }
    }

    #[test]
    fn the_export_carries_every_part() {
        let contact = ContactRow {
            id: "c-1".into(),
            reader_id: "reader-1".into(),
            who: "guardian".into(),
            channel: "phone".into(),
            value: "13900100001".into(),
            label: "妈妈".into(),
            created_at: reader().reader.created_at,
        };
        let local = LocalData {
            reader: reader(),
            all_blocks: Vec::new(),
            pin: None,
            audit: Vec::new(),
            contacts: vec![contact],
            preferences: None,
            notes: Vec::new(),
        };
        let loan = Loan { id: "loan-1".into(), title: "草房子".into(), ..Default::default() };
        let notice = Notice { id: "n-1".into(), loan_id: "loan-1".into(), ..Default::default() };
        let document = export_json(&local, &[loan], &[notice], Utc::now());
        assert_eq!(document["reader"]["name"], "王小明");
        assert_eq!(document["reader"]["history_rule"]["anonymize_after_days"], 30);
        assert_eq!(document["pin"]["set"], false);
        assert_eq!(document["loans"][0]["title"], "草房子");
        assert_eq!(document["loans"][0]["returned_at"], Value::Null);
        assert_eq!(document["notices"][0]["loan_id"], "loan-1");
        assert_eq!(document["contacts"][0]["value"], "13900100001");
        assert_eq!(document["notification_preferences"], Value::Null);
    }

    #[test]
    fn the_erasure_event_names_only_the_id() {
        let now = Utc::now().naive_utc();
        let event = erased_event("ev-1".into(), "reader-1", "school-1", now);
        assert_eq!(event.r#type, READER_ERASED);
        assert_eq!(
            event.payload,
            Some(event::Payload::ReaderErased(ReaderErased { reader_id: "reader-1".into() }))
        );
    }
}
