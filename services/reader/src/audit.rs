//! What the reader service writes to its audit log, and how events read on
//! the wire. Events carry ids and outcomes only — never a name, password
//! or contact detail.

use chrono::NaiveDateTime;
use lectern_common::db::DbConnection;
use lectern_core::ids;
use lectern_proto::reader::v1::AuditEvent;

use crate::db::{self, AuditRow};

/// Audit actions.
pub mod action {
    /// A staff sign-in attempt.
    pub const LOGIN: &str = "login";
    /// An account locked after too many wrong passwords.
    pub const LOCKOUT: &str = "lockout";
    /// A district admin changed the schools a staff member works for.
    pub const STAFF_SCHOOLS_CHANGED: &str = "staff_schools_changed";
    /// A district admin disabled a staff account (its sessions ended).
    pub const STAFF_DISABLED: &str = "staff_disabled";
    /// A district admin enabled a staff account again.
    pub const STAFF_ENABLED: &str = "staff_enabled";
    /// Staff read a reader's record (audited when refused: another school's).
    pub const READER_READ: &str = "reader_read";
    /// Staff changed a reader's record (created, corrected, card replaced,
    /// blocked, unblocked, PIN set).
    pub const READER_CHANGED: &str = "reader_changed";
    /// A contact point added to a reader (detail: contact id, whose, channel).
    pub const CONTACT_ADDED: &str = "contact_added";
    /// A contact point removed from a reader.
    pub const CONTACT_REMOVED: &str = "contact_removed";
    /// A reader's notification preferences set.
    pub const PREFERENCES_SET: &str = "preferences_set";
    /// A staff note added to a reader (detail: note id).
    pub const NOTE_ADDED: &str = "note_added";
    /// A staff note deleted.
    pub const NOTE_DELETED: &str = "note_deleted";
    /// A school's year-end promotion applied (subject: the school; detail:
    /// years and counts).
    pub const YEAR_END_APPLIED: &str = "year_end_applied";
    /// A reader's personal data erased (right of erasure).
    pub const READER_ERASE: &str = "reader.erase";
    /// A reader's data exported (right of access).
    pub const READER_EXPORT: &str = "reader.export";
    /// A roster import (or its dry run) for a school.
    pub const ROSTER_IMPORT: &str = "roster_import";
    /// A session ended by its holder.
    pub const LOGOUT: &str = "logout";
    /// A refresh token exchanged (audited when it was a reused one).
    pub const REFRESH: &str = "refresh";
    /// A new token signing key.
    pub const KEY_ROTATION: &str = "key_rotation";
    /// A kiosk or SIP2 device registered.
    pub const DEVICE_CREATE: &str = "device_create";
    /// A kiosk or SIP2 device disabled.
    pub const DEVICE_DISABLE: &str = "device_disable";
    /// A kiosk's or SIP2 device's settings changed.
    pub const DEVICE_SETTINGS: &str = "device_settings";
    /// A reader was bound to a WeChat account (never the openid).
    pub const BINDING_CREATE: &str = "binding_create";
    /// A binding was removed.
    pub const BINDING_DELETE: &str = "binding_delete";
    /// A binding code was printed for a reader.
    pub const BINDING_CODE_CREATE: &str = "binding_code_create";
}

/// Audit outcomes.
pub mod outcome {
    /// It worked.
    pub const SUCCEEDED: &str = "succeeded";
    /// Wrong credentials.
    pub const FAILED: &str = "failed";
    /// Refused because the account is locked.
    pub const REFUSED_LOCKED: &str = "refused_locked";
    /// Refused because the account is disabled.
    pub const REFUSED_DISABLED: &str = "refused_disabled";
    /// The account was locked.
    pub const LOCKED: &str = "locked";
    /// Refused: the record belongs to a school the caller does not work for.
    pub const REFUSED_OTHER_SCHOOL: &str = "refused_other_school";
    /// Refused because the reader still owes the library.
    pub const REFUSED_OBLIGATIONS: &str = "refused_obligations";
    /// Checked and reported only (a roster dry run).
    pub const DRY_RUN: &str = "dry_run";
    /// Refused for errors in the input; nothing changed.
    pub const REJECTED: &str = "rejected";
    /// A spent refresh token came back: its session was ended.
    pub const REUSED: &str = "reused";
}

/// One event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub action: &'static str,
    pub outcome: &'static str,
    pub actor_id: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    pub detail: Option<String>,
}

impl<'a> Entry<'a> {
    /// Something `actor` did to their own account (sign-ins).
    pub fn own(action: &'static str, outcome: &'static str, account_id: Option<&'a str>) -> Self {
        Self { action, outcome, actor_id: account_id, subject_id: account_id, detail: None }
    }

    /// Something `actor_id` did to `subject_id`.
    pub fn about(
        action: &'static str,
        outcome: &'static str,
        actor_id: &'a str,
        subject_id: &'a str,
    ) -> Self {
        Self { action, outcome, actor_id: Some(actor_id), subject_id: Some(subject_id), detail: None }
    }

    /// The same event, done by `actor_id`.
    pub fn by(mut self, actor_id: &'a str) -> Self {
        self.actor_id = Some(actor_id);
        self
    }

    /// Adds a detail.
    pub fn detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Writes an event, in the caller's transaction.
pub fn record(
    connection: &mut DbConnection,
    entry: Entry<'_>,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    db::audit::insert_event(
        connection,
        &AuditRow {
            id: ids::new_id(),
            occurred_at: now,
            action: entry.action.to_owned(),
            outcome: entry.outcome.to_owned(),
            actor_id: entry.actor_id.map(str::to_owned),
            subject_id: entry.subject_id.map(str::to_owned),
            detail: entry.detail,
        },
    )
}

/// The wire form of a stored event.
pub fn to_proto(row: AuditRow) -> AuditEvent {
    AuditEvent {
        id: row.id,
        occur_time: Some(lectern_core::time::timestamp(row.occurred_at)),
        action: row.action,
        outcome: row.outcome,
        actor_id: row.actor_id.unwrap_or_default(),
        subject_id: row.subject_id.unwrap_or_default(),
        detail: row.detail.unwrap_or_default(),
    }
}
