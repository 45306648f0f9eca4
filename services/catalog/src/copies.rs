//! Copies: adding a copy of a title at a school (barcodes unique in the
//! district), lifecycle statuses, and what a copy's availability is, from
//! its status and the loan state kept from circulation's events.

use chrono::NaiveDateTime;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_common::ids;
use lectern_common::refusal::{Reason, Refusal};
use lectern_common::validate::{self, FieldError, known_enum, optional_text};
use lectern_proto::catalog::v1 as pb;
use pb::{Availability, CopyStatus};
use tonic::Code;

use crate::db::{self, CopyRow};
use crate::error::Error;

/// Longest call number, in characters.
pub const MAX_CALL_NUMBER_CHARS: usize = 64;

/// A checked request to add a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyDraft {
    /// The title it is a copy of.
    pub title_id: String,
    /// The barcode on the book.
    pub barcode: String,
    /// The holding school.
    pub school_id: String,
    /// Spine label; may be empty.
    pub call_number: String,
    /// Initial lifecycle status (never unspecified).
    pub status: CopyStatus,
}

impl CopyDraft {
    /// Checks a `CreateCopyRequest`; the error names the bad field.
    pub fn from_request(request: &pb::CreateCopyRequest) -> Result<Self, FieldError> {
        let status =
            if request.status == 0 { CopyStatus::Available } else { known_enum("status", request.status)? };
        Ok(Self {
            title_id: ids::parse_id("title_id", &request.title_id)?,
            barcode: validate::barcode("barcode", &request.barcode)?,
            school_id: ids::parse_id("school_id", &request.school_id)?,
            call_number: optional_text("call_number", &request.call_number, MAX_CALL_NUMBER_CHARS)?,
            status,
        })
    }
}

/// A copy with its title's display title, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRecord {
    /// The copy.
    pub row: CopyRow,
    /// The title's display title.
    pub title: String,
}

/// Adds a copy (call inside a write transaction, after checking the school
/// with the reader service). The title must exist and the barcode be free.
pub fn create(
    connection: &mut DbConnection,
    draft: &CopyDraft,
    id: String,
    now: NaiveDateTime,
) -> Result<CopyRecord, Error> {
    let Some(title) = db::find_title(connection, &draft.title_id)? else {
        return Err(Refusal::precondition(
            Reason::TitleNotFound,
            format!("no title has id {}; catalog the title first", draft.title_id),
        )
        .with("title_id", draft.title_id.as_str())
        .into());
    };
    if let Some(existing) = db::copy_id_by_barcode(connection, &draft.barcode)? {
        return Err(barcode_taken(&draft.barcode).with("copy_id", existing).into());
    }
    let row = CopyRow {
        id,
        title_id: draft.title_id.clone(),
        barcode: draft.barcode.clone(),
        school_id: draft.school_id.clone(),
        status: status_name(draft.status).to_owned(),
        call_number: draft.call_number.clone(),
        created_at: now,
        on_loan: false,
        loan_due_at: None,
        loan_event_at: None,
    };
    db::insert_copy(connection, &row).map_err(|error| {
        // A concurrent insert took the barcode after the check (PostgreSQL).
        if unique_violation_on(&error, "barcode") {
            Error::from(barcode_taken(&draft.barcode))
        } else {
            Error::from(error)
        }
    })?;
    Ok(CopyRecord { row, title: title.title })
}

fn barcode_taken(barcode: &str) -> Refusal {
    Refusal::new(
        Code::AlreadyExists,
        Reason::CopyBarcodeTaken,
        format!("another copy already has barcode {barcode}"),
    )
    .with("barcode", barcode)
}

/// NOT_FOUND / `COPY_NOT_FOUND` for a copy that is not there.
pub fn not_found(message: impl Into<String>) -> Refusal {
    Refusal::new(Code::NotFound, Reason::CopyNotFound, message)
}

/// The stored name of a lifecycle status.
pub fn status_name(status: CopyStatus) -> &'static str {
    match status {
        CopyStatus::InProcess => "in_process",
        CopyStatus::Available | CopyStatus::Unspecified => "available",
        CopyStatus::Damaged => "damaged",
        CopyStatus::InRepair => "in_repair",
        CopyStatus::Missing => "missing",
        CopyStatus::Lost => "lost",
        CopyStatus::Withdrawn => "withdrawn",
    }
}

/// A stored status name as the API enum.
pub fn status_of(stored: &str) -> CopyStatus {
    match stored {
        "in_process" => CopyStatus::InProcess,
        "available" => CopyStatus::Available,
        "damaged" => CopyStatus::Damaged,
        "in_repair" => CopyStatus::InRepair,
        "missing" => CopyStatus::Missing,
        "lost" => CopyStatus::Lost,
        "withdrawn" => CopyStatus::Withdrawn,
        _ => CopyStatus::Unspecified,
    }
}

/// Whether a reader could take the copy now, and when it is due if lent.
/// A copy out of circulation is not loanable whatever the loan events say.
pub fn availability(row: &CopyRow) -> (Availability, Option<NaiveDateTime>) {
    if status_of(&row.status) != CopyStatus::Available {
        (Availability::NotLoanable, None)
    } else if row.on_loan {
        (Availability::OnLoan, row.loan_due_at)
    } else {
        (Availability::OnShelf, None)
    }
}

/// A stored copy as the API message; `title` is its title's display title.
pub fn to_proto(row: &CopyRow, title: &str) -> pb::Copy {
    let (availability, due_at) = availability(row);
    pb::Copy {
        id: row.id.clone(),
        title_id: row.title_id.clone(),
        barcode: row.barcode.clone(),
        school_id: row.school_id.clone(),
        status: status_of(&row.status).into(),
        availability: availability.into(),
        due_at: due_at.map(crate::time::to_proto),
        call_number: row.call_number.clone(),
        create_time: Some(crate::time::to_proto(row.created_at)),
        title: title.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn row(status: CopyStatus, on_loan: bool) -> CopyRow {
        let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap().naive_utc();
        CopyRow {
            id: ids::new_id(),
            title_id: ids::new_id(),
            barcode: "C0001".into(),
            school_id: ids::new_id(),
            status: status_name(status).into(),
            call_number: String::new(),
            created_at: now,
            on_loan,
            loan_due_at: on_loan.then_some(now),
            loan_event_at: on_loan.then_some(now),
        }
    }

    #[test]
    fn availability_follows_status_then_loan() {
        assert_eq!(availability(&row(CopyStatus::Available, false)).0, Availability::OnShelf);
        let (lent, due) = availability(&row(CopyStatus::Available, true));
        assert_eq!(lent, Availability::OnLoan);
        assert!(due.is_some());
        assert_eq!(availability(&row(CopyStatus::Lost, true)), (Availability::NotLoanable, None));
        assert_eq!(availability(&row(CopyStatus::InProcess, false)).0, Availability::NotLoanable);
        let copy = to_proto(&row(CopyStatus::Available, true), "草房子");
        assert_eq!(copy.availability, Availability::OnLoan as i32);
        assert_eq!(copy.title, "草房子");
    }

    #[test]
    fn statuses_round_trip_and_default_to_available() {
        for status in [
            CopyStatus::InProcess,
            CopyStatus::Available,
            CopyStatus::Damaged,
            CopyStatus::InRepair,
            CopyStatus::Missing,
            CopyStatus::Lost,
            CopyStatus::Withdrawn,
        ] {
            assert_eq!(status_of(status_name(status)), status);
        }
        let request = pb::CreateCopyRequest {
            title_id: ids::new_id(),
            barcode: " C0001\n".into(),
            school_id: ids::new_id(),
            ..Default::default()
        };
        let draft = CopyDraft::from_request(&request).unwrap();
        assert_eq!(draft.status, CopyStatus::Available);
        assert_eq!(draft.barcode, "C0001");
        let bad = CopyDraft::from_request(&pb::CreateCopyRequest { status: 42, ..request.clone() });
        assert_eq!(bad.unwrap_err().to_string(), "status: has unknown value 42");
        let long = CopyDraft::from_request(&pb::CreateCopyRequest { call_number: "I".repeat(65), ..request });
        assert_eq!(long.unwrap_err().to_string(), "call_number: is longer than 64 characters");
    }
}
