//! Copies: adding a copy of a title at a school (barcodes unique in the
//! district), lifecycle statuses, and what a copy's availability is, from
//! its status and the loan state kept from circulation's events.

use chrono::{NaiveDate, NaiveDateTime};
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError, known_enum, optional_text};
use lectern_proto::catalog::v1 as pb;
use pb::{Availability, CopyStatus};

use crate::db::{self, CopyRow};
use lectern_common::Error;

/// Longest call number, in characters.
pub const MAX_CALL_NUMBER_CHARS: usize = 64;
/// Longest acquisition source, in characters.
pub const MAX_SOURCE_CHARS: usize = 200;
/// Longest condition note, in characters.
pub const MAX_CONDITION_CHARS: usize = 500;
/// The item type of a copy when none is given.
pub const DEFAULT_ITEM_TYPE: &str = "book";
/// The currency of prices when none is given.
pub const DEFAULT_CURRENCY: &str = "CNY";
/// The dearest copy believed (¥1,000,000 in fen): beyond is a typo.
pub const MAX_PRICE_MINOR: i64 = 100_000_000;

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
    /// Initial lifecycle status: available or in process.
    pub status: CopyStatus,
    /// Shelf location of the holding school, if any.
    pub location_id: Option<String>,
    /// Item type code.
    pub item_type: String,
    /// Price in minor units and its currency, if known.
    pub price: Option<(i64, String)>,
    /// Date acquired, if known.
    pub acquired_on: Option<NaiveDate>,
    /// Supplier, donation, order number; may be empty.
    pub acquisition_source: String,
    /// Notes on its condition; may be empty.
    pub condition_note: String,
}

impl CopyDraft {
    /// Checks a `CreateCopyRequest`; the error names the bad field.
    pub fn from_request(request: &pb::CreateCopyRequest) -> Result<Self, FieldError> {
        let status =
            if request.status == 0 { CopyStatus::Available } else { known_enum("status", request.status)? };
        if !matches!(status, CopyStatus::Available | CopyStatus::InProcess) {
            return Err(FieldError::new("status", "a new copy is AVAILABLE or IN_PROCESS"));
        }
        let location_id = match request.location_id.trim() {
            "" => None,
            id => Some(ids::parse_id("location_id", id)?),
        };
        let item_type = match request.item_type.trim() {
            "" => DEFAULT_ITEM_TYPE.to_owned(),
            code => item_type_code("item_type", code)?,
        };
        Ok(Self {
            title_id: ids::parse_id("title_id", &request.title_id)?,
            barcode: validate::barcode("barcode", &request.barcode)?,
            school_id: ids::parse_id("school_id", &request.school_id)?,
            call_number: optional_text("call_number", &request.call_number, MAX_CALL_NUMBER_CHARS)?,
            status,
            location_id,
            item_type,
            price: request.price.as_ref().map(|price| money("price", price)).transpose()?,
            acquired_on: validate::optional_date("acquired_on", &request.acquired_on)?,
            acquisition_source: optional_text(
                "acquisition_source",
                &request.acquisition_source,
                MAX_SOURCE_CHARS,
            )?,
            condition_note: optional_text("condition_note", &request.condition_note, MAX_CONDITION_CHARS)?,
        })
    }

    /// A draft with only what every copy needs: an available book at no
    /// named location. MARC import and ISBN intake fill in the rest.
    pub fn new(title_id: String, barcode: String, school_id: String) -> Self {
        Self {
            title_id,
            barcode,
            school_id,
            call_number: String::new(),
            status: CopyStatus::Available,
            location_id: None,
            item_type: DEFAULT_ITEM_TYPE.to_owned(),
            price: None,
            acquired_on: None,
            acquisition_source: String::new(),
            condition_note: String::new(),
        }
    }
}

/// An item type code: 1–32 lower-case ASCII letters, digits and `_`.
pub fn item_type_code(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let code = raw.trim();
    let well_formed = (1..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return Err(FieldError::new(
            field,
            "must be 1–32 lower-case letters, digits or _, such as \"picture_book\"",
        ));
    }
    Ok(code.to_owned())
}

/// Refuses an item type the district does not have (`ITEM_TYPE_NOT_FOUND`).
fn require_item_type(connection: &mut DbConnection, code: &str) -> Result<(), Error> {
    if db::find_item_type(connection, code)?.is_some() {
        return Ok(());
    }
    Err(Refusal::new(Reason::ItemTypeNotFound, format!("there is no item type {code}; see ListItemTypes"))
        .with("item_type", code)
        .into())
}

/// A price: not negative, not absurd, in a three-letter currency.
pub fn money(field: &'static str, money: &pb::Money) -> Result<(i64, String), FieldError> {
    if !(0..=MAX_PRICE_MINOR).contains(&money.minor_units) {
        return Err(FieldError::new(field, format!("must be between 0 and {MAX_PRICE_MINOR} minor units")));
    }
    let currency = match money.currency.trim() {
        "" => DEFAULT_CURRENCY.to_owned(),
        code if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) => code.to_owned(),
        _ => return Err(FieldError::new(field, "currency must be an ISO 4217 code such as \"CNY\"")),
    };
    Ok((money.minor_units, currency))
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
        return Err(Refusal::new(
            Reason::TitleNotFound,
            format!("no title has id {}; catalog the title first", draft.title_id),
        )
        .with("title_id", draft.title_id.as_str())
        .into());
    };
    if let Some(existing) = db::copy_id_by_barcode(connection, &draft.barcode)? {
        return Err(barcode_taken(&draft.barcode).with("copy_id", existing).into());
    }
    require_item_type(connection, &draft.item_type)?;
    if let Some(location_id) = &draft.location_id {
        crate::locations::require_at_school(connection, location_id, &draft.school_id)?;
    }
    let row = copy_row(draft, id, &title.call_number, now);
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

/// The stored row of a new copy `id`; without a call number of its own it
/// takes its title's (MARC import builds many at once).
pub fn copy_row(draft: &CopyDraft, id: String, title_call_number: &str, now: NaiveDateTime) -> CopyRow {
    let call_number =
        if draft.call_number.is_empty() { title_call_number.to_owned() } else { draft.call_number.clone() };
    CopyRow {
        id,
        title_id: draft.title_id.clone(),
        barcode: draft.barcode.clone(),
        school_id: draft.school_id.clone(),
        status: status_name(draft.status).to_owned(),
        call_number,
        created_at: now,
        on_loan: false,
        loan_due_at: None,
        loan_event_at: None,
        location_id: draft.location_id.clone(),
        item_type: draft.item_type.clone(),
        price_minor: draft.price.as_ref().map(|(minor, _)| *minor),
        currency: draft.price.as_ref().map_or(DEFAULT_CURRENCY, |(_, currency)| currency.as_str()).to_owned(),
        acquired_on: draft.acquired_on,
        acquisition_source: draft.acquisition_source.clone(),
        condition_note: draft.condition_note.clone(),
        on_hold_shelf: false,
        in_transit: false,
        status_changed_at: Some(now),
    }
}

/// The copy fields `UpdateCopy` may change, as named in its field mask.
pub const UPDATABLE_FIELDS: [&str; 7] = [
    "location_id",
    "call_number",
    "item_type",
    "price",
    "acquired_on",
    "acquisition_source",
    "condition_note",
];

/// Applies the fields of `changes` named in `mask` to a stored copy (inside
/// a write transaction, after the caller's school was checked): each value
/// is checked as at creation, the item type must exist and the location
/// belong to the copy's school.
pub fn update(
    connection: &mut DbConnection,
    mut row: CopyRow,
    changes: &pb::Copy,
    mask: &[String],
) -> Result<CopyRow, Error> {
    if mask.is_empty() {
        return Err(FieldError::new("update_mask", "names no field to change").into());
    }
    for field in mask {
        match field.as_str() {
            "location_id" => {
                row.location_id = match changes.location_id.trim() {
                    "" => None,
                    id => {
                        let id = ids::parse_id("copy.location_id", id)?;
                        crate::locations::require_at_school(connection, &id, &row.school_id)?;
                        Some(id)
                    }
                };
            }
            "call_number" => {
                row.call_number =
                    optional_text("copy.call_number", &changes.call_number, MAX_CALL_NUMBER_CHARS)?;
            }
            "item_type" => {
                let code = item_type_code("copy.item_type", &changes.item_type)?;
                require_item_type(connection, &code)?;
                row.item_type = code;
            }
            "price" => match &changes.price {
                None => row.price_minor = None,
                Some(price) => {
                    let (minor, currency) = money("copy.price", price)?;
                    row.price_minor = Some(minor);
                    row.currency = currency;
                }
            },
            "acquired_on" => {
                row.acquired_on = validate::optional_date("copy.acquired_on", &changes.acquired_on)?
            }
            "acquisition_source" => {
                row.acquisition_source =
                    optional_text("copy.acquisition_source", &changes.acquisition_source, MAX_SOURCE_CHARS)?;
            }
            "condition_note" => {
                row.condition_note =
                    optional_text("copy.condition_note", &changes.condition_note, MAX_CONDITION_CHARS)?;
            }
            other => {
                return Err(FieldError::new(
                    "update_mask",
                    format!("cannot change {other:?}; changeable: {}", UPDATABLE_FIELDS.join(", ")),
                )
                .into());
            }
        }
    }
    db::save_copy_details(connection, &row)?;
    Ok(row)
}

fn barcode_taken(barcode: &str) -> Refusal {
    Refusal::new(Reason::CopyBarcodeTaken, format!("another copy already has barcode {barcode}"))
        .with("barcode", barcode)
}

/// NOT_FOUND / `COPY_NOT_FOUND` for a copy that is not there.
pub fn not_found(message: impl Into<String>) -> Refusal {
    Refusal::new(Reason::CopyNotFound, message)
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
    } else if row.in_transit {
        (Availability::InTransit, None)
    } else if row.on_hold_shelf {
        (Availability::OnHoldShelf, None)
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
        due_at: due_at.map(lectern_core::time::timestamp),
        call_number: row.call_number.clone(),
        create_time: Some(lectern_core::time::timestamp(row.created_at)),
        title: title.to_owned(),
        location_id: row.location_id.clone().unwrap_or_default(),
        // Filled by `with_location_names`, which reads them in one query.
        location_name: String::new(),
        item_type: row.item_type.clone(),
        price: row.price_minor.map(|minor_units| pb::Money { minor_units, currency: row.currency.clone() }),
        acquired_on: row.acquired_on.map(|date| date.to_string()).unwrap_or_default(),
        acquisition_source: row.acquisition_source.clone(),
        condition_note: row.condition_note.clone(),
        status_change_time: row.status_changed_at.map(lectern_core::time::timestamp),
    }
}

/// A stored copy as the API message, with its shelf location's name.
pub fn message(connection: &mut DbConnection, row: &CopyRow, title: &str) -> diesel::QueryResult<pb::Copy> {
    let mut copy = to_proto(row, title);
    if let Some(location_id) = &row.location_id
        && let Some(location) = db::find_location(connection, location_id)?
    {
        copy.location_name = location.name;
    }
    Ok(copy)
}

/// Fills in the shelf location names of copies, with one query.
pub fn with_location_names(
    connection: &mut DbConnection,
    mut copies: Vec<pb::Copy>,
) -> diesel::QueryResult<Vec<pb::Copy>> {
    let mut ids: Vec<String> = copies
        .iter()
        .filter(|copy| !copy.location_id.is_empty())
        .map(|copy| copy.location_id.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names: std::collections::HashMap<String, String> =
        db::location_names(connection, &ids)?.into_iter().collect();
    for copy in &mut copies {
        if let Some(name) = names.get(&copy.location_id) {
            copy.location_name.clone_from(name);
        }
    }
    Ok(copies)
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
            location_id: None,
            item_type: DEFAULT_ITEM_TYPE.into(),
            price_minor: None,
            currency: DEFAULT_CURRENCY.into(),
            acquired_on: None,
            acquisition_source: String::new(),
            condition_note: String::new(),
            on_hold_shelf: false,
            in_transit: false,
            status_changed_at: Some(now),
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
