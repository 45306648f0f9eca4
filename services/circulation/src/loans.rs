//! Reading loans and transits: one loan, a reader's loans, a school's
//! overdue and due-soon loans, the copies travelling to and from a school,
//! and what a reader still owes before their data may be erased.

use lectern_common::Error;
use lectern_core::access::Access;
use lectern_core::identity::Principal;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError};
use lectern_core::{ids, paging};
use lectern_proto::circulation::v1::{
    BatchGetLoansRequest, BatchGetLoansResponse, GetLoanRequest, GetReaderObligationsRequest,
    ListLoansRequest, ListLoansResponse, ListOverdueLoansRequest, ListTransitsRequest, ListTransitsResponse,
    Loan, LoanFilter, ReaderObligations, TransitDirection,
};

use crate::context::Circulation;
use crate::convert;
use crate::db::transits::{self, Direction};
use crate::db::{self, LoanState, fees};
use crate::policy::due;

/// One loan: the use case behind `LoanService/GetLoan`. A reader sees only
/// their own loans (an anonymized loan is no one's), staff those of their
/// schools.
pub async fn get_loan(
    circulation: &Circulation,
    caller: &Principal,
    request: GetLoanRequest,
) -> Result<Loan, Error> {
    caller.require(Access::STAFF.or_readers())?;
    let id = ids::parse_id("id", &request.id)?;
    let lookup_id = id.clone();
    let row = circulation
        .db
        .run(move |connection| -> Result<_, Error> { Ok(db::find_loan(connection, &lookup_id)?) })
        .await?
        .ok_or_else(|| Refusal::new(Reason::LoanNotFound, format!("no loan has id {id}")))?;
    caller.require_self_or_staff(row.reader_id.as_deref().unwrap_or_default())?;
    caller.require_school(&row.school_id)?;
    Ok(convert::loan(&row, circulation.now()))
}

/// The most loans one `BatchGetLoans` call may name.
const MAX_BATCH_LOANS: usize = 1000;

/// Many loans by id, as they are now: the use case behind
/// `LoanService/BatchGetLoans`. The notification service re-checks loans
/// with it before it reminds anyone; staff get the loans of their schools
/// only, the others are left out as if not found (a batch is not refused
/// for one loan of another school). Readers are refused: their own loans
/// are `ListLoans`.
pub async fn batch_get_loans(
    circulation: &Circulation,
    caller: &Principal,
    request: BatchGetLoansRequest,
) -> Result<BatchGetLoansResponse, Error> {
    caller.require(Access::STAFF.or_services())?;
    let ids = loan_ids(&request.loan_ids)?;
    let schools = caller.school_filter().map(<[String]>::to_vec);
    let rows = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(db::find_loans(connection, &ids, schools.as_deref())?)
        })
        .await?;
    let now = circulation.now();
    Ok(BatchGetLoansResponse { loans: rows.iter().map(|row| convert::loan(row, now)).collect() })
}

/// The ids of a batch, checked and without repeats: 1 to
/// [`MAX_BATCH_LOANS`] of them.
fn loan_ids(values: &[String]) -> Result<Vec<String>, FieldError> {
    if values.is_empty() {
        return Err(FieldError::new("loan_ids", "is required (at least one loan id)"));
    }
    let mut ids =
        values.iter().map(|value| ids::parse_id("loan_ids", value)).collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_BATCH_LOANS {
        return Err(FieldError::new("loan_ids", format!("may name at most {MAX_BATCH_LOANS} loans")));
    }
    Ok(ids)
}

/// A reader's loans, newest first: the use case behind
/// `LoanService/ListLoans`. Staff see them at the schools they work for; a
/// reader sees all their own.
pub async fn list_loans(
    circulation: &Circulation,
    caller: &Principal,
    request: ListLoansRequest,
) -> Result<ListLoansResponse, Error> {
    let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
    caller.require_self_or_staff(&reader_id)?;
    let schools = caller.schools_for_reader_records();
    let state = loan_state(request.filter)?;
    let limit = validate::page_size("page_size", request.page_size, 50, 500)?;
    let after = paging::decode("page_token", &request.page_token)?;
    let rows = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            let filter = db::LoanFilter { reader_id: &reader_id, state, schools: schools.as_deref() };
            Ok(db::list_loans(connection, filter, after.as_deref(), limit + 1)?)
        })
        .await?;
    let (rows, more) = paging::split_page(rows, limit);
    let next_page_token = match rows.last() {
        Some(last) if more => paging::encode(&last.id),
        _ => String::new(),
    };
    let now = circulation.now();
    Ok(ListLoansResponse { loans: rows.iter().map(|row| convert::loan(row, now)).collect(), next_page_token })
}

/// A school's overdue loans, or those falling due soon: the use case
/// behind `LoanService/ListOverdueLoans`.
pub async fn list_overdue_loans(
    circulation: &Circulation,
    caller: &Principal,
    request: ListOverdueLoansRequest,
) -> Result<ListLoansResponse, Error> {
    caller.require(Access::STAFF)?;
    let school_id = ids::parse_id("school_id", &request.school_id)?;
    caller.require_school(&school_id)?;
    let class_id = ids::parse_optional_id("class_id", &request.class_id)?;
    let now = circulation.now();
    let due = due::listed_window(request.due_within_days, now, circulation.time_zone)?;
    let limit = validate::page_size("page_size", request.page_size, 50, 500)?;
    let offset = paging::decode_offset("page_token", &request.page_token)?;
    let rows = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(db::list_loans_due(connection, &school_id, class_id.as_deref(), due, offset, limit + 1)?)
        })
        .await?;
    let (rows, more) = paging::split_page(rows, limit);
    let next_page_token = if more { paging::encode(&(offset + limit).to_string()) } else { String::new() };
    Ok(ListLoansResponse { loans: rows.iter().map(|row| convert::loan(row, now)).collect(), next_page_token })
}

/// The copies travelling to or from a school: the use case behind
/// `LoanService/ListTransits`.
pub async fn list_transits(
    circulation: &Circulation,
    caller: &Principal,
    request: ListTransitsRequest,
) -> Result<ListTransitsResponse, Error> {
    caller.require(Access::STAFF)?;
    let school_id = ids::parse_id("school_id", &request.school_id)?;
    caller.require_school(&school_id)?;
    // Unspecified is a choice here: both directions.
    let direction = TransitDirection::try_from(request.direction)
        .map_err(|_| FieldError::new("direction", format!("has unknown value {}", request.direction)))?;
    let direction = match direction {
        TransitDirection::Unspecified => Direction::Both,
        TransitDirection::Incoming => Direction::Incoming,
        TransitDirection::Outgoing => Direction::Outgoing,
    };
    let limit = validate::page_size("page_size", request.page_size, 100, 500)?;
    let offset = paging::decode_offset("page_token", &request.page_token)?;
    let include_received = request.include_received;
    let rows = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(transits::of_school(connection, &school_id, direction, include_received, offset, limit + 1)?)
        })
        .await?;
    let (rows, more) = paging::split_page(rows, limit);
    let next_page_token = if more { paging::encode(&(offset + limit).to_string()) } else { String::new() };
    Ok(ListTransitsResponse { transits: rows.iter().map(convert::transit).collect(), next_page_token })
}

/// What a reader still owes the library: the use case behind
/// `LoanService/GetReaderObligations` (the reader service asks before it
/// erases a reader).
pub async fn get_reader_obligations(
    circulation: &Circulation,
    caller: &Principal,
    request: GetReaderObligationsRequest,
) -> Result<ReaderObligations, Error> {
    caller.require(Access::STAFF.or_services())?;
    let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
    let lookup_id = reader_id.clone();
    let (open_loans, unpaid_fees) = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            let open = db::count_open_loans(connection, &lookup_id)?;
            let (unpaid, _) = fees::unpaid(connection, &lookup_id)?;
            Ok((i32::try_from(open).unwrap_or(i32::MAX), i32::try_from(unpaid).unwrap_or(i32::MAX)))
        })
        .await?;
    Ok(ReaderObligations { reader_id, open_loans, unpaid_fees })
}

/// The list filter; unspecified means open loans.
fn loan_state(filter: i32) -> Result<LoanState, FieldError> {
    match LoanFilter::try_from(filter) {
        Ok(LoanFilter::Unspecified | LoanFilter::Open) => Ok(LoanState::Open),
        Ok(LoanFilter::Returned) => Ok(LoanState::Returned),
        Ok(LoanFilter::All) => Ok(LoanState::All),
        Err(_) => Err(FieldError::new("filter", format!("has unknown value {filter}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_are_checked_and_repeats_dropped() {
        let id = ids::new_id();
        assert_eq!(loan_ids(&[id.clone(), id.to_uppercase(), id.clone()]), Ok(vec![id.clone()]));
        assert_eq!(loan_ids(&[]).unwrap_err().field, "loan_ids");
        assert_eq!(loan_ids(&[id, "12-abc".into()]).unwrap_err().field, "loan_ids");
        let too_many: Vec<String> = (0..=MAX_BATCH_LOANS).map(|_| ids::new_id()).collect();
        assert!(loan_ids(&too_many).unwrap_err().to_string().contains("at most 1000"));
    }
}
