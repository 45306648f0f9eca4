//! A copy's life: which status changes make sense, who made each one and
//! why, and the repair ticket a damaged copy carries while it is mended.
//!
//! ```text
//! in process ──► available ◄──────────────┐
//!                 │  │  │                 │ found
//!        damaged ◄┘  │  └► missing / lost ┘
//!          │  ▲      │
//!  in repair ┘  │    └► withdrawn (weeded; final)
//!          └────┘ (repaired → available)
//! ```
//!
//! Every change is a row in `copy_status_history`. Circulation lends only
//! available copies, so each status here that is not `available` takes the
//! copy out of circulation.

use chrono::NaiveDateTime;
use lectern_common::db::DbConnection;
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{FieldError, optional_text};
use lectern_proto::catalog::v1 as pb;
use pb::CopyStatus;

use crate::copies::{self, status_name, status_of};
use crate::db::{self, CopyRow, RepairTicketRow, StatusChangeRow};
use lectern_common::Error;

/// Longest reason for a change, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Whether a copy may go from `from` to `to`. Staying put is not a change.
pub fn allowed(from: CopyStatus, to: CopyStatus) -> bool {
    use CopyStatus::*;
    match (from, to) {
        (Unspecified, _) | (_, Unspecified) => false,
        (InProcess, Available | Withdrawn) => true,
        (Available, InProcess | Damaged | Missing | Lost | Withdrawn) => true,
        (Damaged, Available | InRepair | Lost | Withdrawn) => true,
        (InRepair, Available | Damaged | Withdrawn) => true,
        (Missing | Lost, Available | Missing | Lost | Withdrawn) => from != to,
        (Withdrawn, _) => false,
        _ => false,
    }
}

/// Whether the change needs a reason: taking a copy out of circulation
/// should say why (the weeding reason, what is damaged).
pub fn needs_reason(to: CopyStatus) -> bool {
    matches!(to, CopyStatus::Damaged | CopyStatus::Withdrawn | CopyStatus::Lost | CopyStatus::Missing)
}

/// A checked status change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The new status.
    pub to: CopyStatus,
    /// Why; required where [`needs_reason`] says so.
    pub reason: String,
    /// Notes for the repair ticket opened (to in repair) or closed (from in
    /// repair); may be empty.
    pub repair_notes: String,
    /// What the repair cost, in minor units, when closing a ticket.
    pub repair_cost: Option<(i64, String)>,
}

impl StatusChange {
    /// Checks a `ChangeCopyStatusRequest`; the error names the bad field.
    pub fn from_request(request: &pb::ChangeCopyStatusRequest) -> Result<Self, FieldError> {
        let to: CopyStatus = lectern_core::validate::known_enum("status", request.status)?;
        if to == CopyStatus::Unspecified {
            return Err(FieldError::new("status", "is required"));
        }
        let reason = optional_text("reason", &request.reason, MAX_REASON_CHARS)?;
        if reason.is_empty() && needs_reason(to) {
            return Err(FieldError::new(
                "reason",
                format!("is required when a copy becomes {}", status_name(to)),
            ));
        }
        Ok(Self {
            to,
            reason,
            repair_notes: optional_text("repair_notes", &request.repair_notes, MAX_REASON_CHARS)?,
            repair_cost: request
                .repair_cost
                .as_ref()
                .map(|cost| copies::money("repair_cost", cost))
                .transpose()?,
        })
    }
}

/// Changes a copy's status (inside a write transaction, after the caller's
/// school was checked): refuses changes that make no sense and changes of a
/// copy on loan, records who and why, and opens or closes its repair ticket.
pub fn change_status(
    connection: &mut DbConnection,
    copy: &CopyRow,
    change: &StatusChange,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<StatusChangeRow, Error> {
    let from = status_of(&copy.status);
    if !allowed(from, change.to) {
        return Err(Refusal::new(
            Reason::CopyStatusChangeNotAllowed,
            format!("a copy that is {} cannot become {}", status_name(from), status_name(change.to)),
        )
        .with("from", status_name(from))
        .with("to", status_name(change.to))
        .into());
    }
    // A reader has it: only the reader's loss makes sense until it is back.
    if copy.on_loan && change.to != CopyStatus::Lost {
        return Err(Refusal::new(
            Reason::CopyOnLoan,
            "the copy is on loan; check it in before changing its status",
        )
        .with("copy_id", copy.id.as_str())
        .into());
    }
    let repair_ticket_id = if change.to == CopyStatus::InRepair {
        Some(open_repair(connection, copy, &change.repair_notes, actor_id, now)?)
    } else if from == CopyStatus::InRepair {
        Some(close_repair(connection, copy, change, actor_id, now)?)
    } else {
        None
    };
    db::set_copy_status(connection, &copy.id, status_name(change.to), now)?;
    let row = StatusChangeRow {
        id: ids::new_id(),
        copy_id: copy.id.clone(),
        from_status: copy.status.clone(),
        to_status: status_name(change.to).to_owned(),
        reason: change.reason.clone(),
        actor_id: actor_id.to_owned(),
        repair_ticket_id,
        occurred_at: now,
    };
    db::insert_status_change(connection, &row)?;
    Ok(row)
}

fn open_repair(
    connection: &mut DbConnection,
    copy: &CopyRow,
    notes: &str,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<String, Error> {
    if db::open_repair_ticket(connection, &copy.id)?.is_some() {
        return Err(Refusal::new(Reason::RepairAlreadyOpen, "the copy already has an open repair ticket")
            .with("copy_id", copy.id.as_str())
            .into());
    }
    let ticket = RepairTicketRow {
        id: ids::new_id(),
        copy_id: copy.id.clone(),
        notes: notes.to_owned(),
        cost_minor: 0,
        currency: copies::DEFAULT_CURRENCY.to_owned(),
        opened_by: actor_id.to_owned(),
        opened_at: now,
        closed_by: None,
        closed_at: None,
    };
    db::insert_repair_ticket(connection, &ticket)?;
    Ok(ticket.id)
}

fn close_repair(
    connection: &mut DbConnection,
    copy: &CopyRow,
    change: &StatusChange,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<String, Error> {
    let Some(mut ticket) = db::open_repair_ticket(connection, &copy.id)? else {
        return Err(Refusal::new(Reason::RepairNotOpen, "no repair ticket is open for the copy")
            .with("copy_id", copy.id.as_str())
            .into());
    };
    if !change.repair_notes.is_empty() {
        ticket.notes = if ticket.notes.is_empty() {
            change.repair_notes.clone()
        } else {
            format!("{}\n{}", ticket.notes, change.repair_notes)
        };
    }
    if let Some((cost, currency)) = &change.repair_cost {
        ticket.cost_minor = *cost;
        ticket.currency.clone_from(currency);
    }
    ticket.closed_by = Some(actor_id.to_owned());
    ticket.closed_at = Some(now);
    db::update_repair_ticket(connection, &ticket)?;
    Ok(ticket.id)
}

/// A stored status change as the API message.
pub fn change_to_proto(row: &StatusChangeRow) -> pb::CopyStatusChange {
    pb::CopyStatusChange {
        id: row.id.clone(),
        copy_id: row.copy_id.clone(),
        from_status: status_of(&row.from_status).into(),
        to_status: status_of(&row.to_status).into(),
        reason: row.reason.clone(),
        actor_id: row.actor_id.clone(),
        repair_ticket_id: row.repair_ticket_id.clone().unwrap_or_default(),
        occur_time: Some(lectern_core::time::timestamp(row.occurred_at)),
    }
}

/// A stored repair ticket as the API message.
pub fn ticket_to_proto(row: &RepairTicketRow) -> pb::RepairTicket {
    pb::RepairTicket {
        id: row.id.clone(),
        copy_id: row.copy_id.clone(),
        notes: row.notes.clone(),
        cost: Some(pb::Money { minor_units: row.cost_minor, currency: row.currency.clone() }),
        opened_by: row.opened_by.clone(),
        open_time: Some(lectern_core::time::timestamp(row.opened_at)),
        closed_by: row.closed_by.clone().unwrap_or_default(),
        close_time: row.closed_at.map(lectern_core::time::timestamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CopyStatus::*;

    const ALL: [CopyStatus; 7] = [InProcess, Available, Damaged, InRepair, Missing, Lost, Withdrawn];

    #[test]
    fn the_life_of_a_copy() {
        for (from, to) in [
            (InProcess, Available),
            (Available, Damaged),
            (Damaged, InRepair),
            (InRepair, Available),
            (Available, Missing),
            (Missing, Available),
            (Available, Lost),
            (Lost, Available),
            (Damaged, Withdrawn),
            (Available, Withdrawn),
        ] {
            assert!(allowed(from, to), "{from:?} → {to:?} should be allowed");
        }
    }

    #[test]
    fn changes_that_make_no_sense_are_refused() {
        for to in ALL {
            assert!(!allowed(Withdrawn, to), "withdrawn is final, not → {to:?}");
            assert!(!allowed(to, to), "{to:?} → itself is no change");
        }
        assert!(!allowed(InProcess, Damaged));
        assert!(!allowed(Available, InRepair), "repair starts from damaged");
        assert!(!allowed(Missing, InRepair));
        assert!(!allowed(Lost, Damaged));
        assert!(!allowed(Available, Unspecified));
    }

    #[test]
    fn leaving_circulation_needs_a_reason() {
        let request = pb::ChangeCopyStatusRequest {
            copy_id: ids::new_id(),
            status: Withdrawn as i32,
            ..Default::default()
        };
        assert_eq!(
            StatusChange::from_request(&request).unwrap_err().to_string(),
            "reason: is required when a copy becomes withdrawn"
        );
        let back = pb::ChangeCopyStatusRequest { status: Available as i32, ..request };
        assert_eq!(StatusChange::from_request(&back).unwrap().to, Available);
    }
}
