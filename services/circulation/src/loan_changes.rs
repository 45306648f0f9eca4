//! Loans changed at the desk after check-out: a copy declared lost (its
//! price and the rule's processing fee charged; refunded by check-in when
//! it is found), a reader's claim to have returned a copy, and a due day
//! set by hand. Each change and its event commit together.

use chrono::{DateTime, Days, Utc};
use lectern_common::Error;
use lectern_common::idempotency::Idempotent;
use lectern_common::outbox;
use lectern_core::access::Access;
use lectern_core::identity::Principal;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::{ids, validate};
use lectern_proto::circulation::v1::{
    ChangeDueDateRequest, ClaimReturnedRequest, DeclareLostRequest, DeclareLostResponse, Loan,
};
use lectern_proto::events::types::{LOAN_CLAIMED_RETURNED, LOAN_DUE_DATE_CHANGED};

use crate::context::Circulation;
use crate::convert;
use crate::db::{self, LoanRow, rules};
use crate::events::{self, LOAN_SUBSCRIBERS};
use crate::ledger;
use crate::policy::calendar::parse_day;
use crate::policy::due::{Due, end_of_local_day, local_date};

const DECLARE_LOST: &str = "circulation.DeclareLost";
const CLAIM_RETURNED: &str = "circulation.ClaimReturned";
const CHANGE_DUE_DATE: &str = "circulation.ChangeDueDate";
/// How far ahead a due day may be set by hand.
const MAX_DAYS_AHEAD: u64 = 365;

/// Declares a lent copy lost: the use case behind `LoanService/DeclareLost`.
pub async fn declare_lost(
    circulation: &Circulation,
    caller: &Principal,
    request: DeclareLostRequest,
) -> Result<DeclareLostResponse, Error> {
    caller.require(Access::STAFF)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let loan = open_loan(circulation, caller, &request.loan_id, &request.copy_barcode).await?;
    // The price as the catalog knows it now (none if unknown).
    let copy = circulation.copy_by_barcode(loan.copy_barcode.clone()).await?;
    let price = copy.and_then(|copy| copy.price).map_or(0, |price| price.minor_units.max(0));
    let (by, now) = (caller.subject_id.clone(), circulation.now());
    let answer = Idempotent::new(DECLARE_LOST, request_id)
        .write(&circulation.db, now.naive_utc(), move |connection| {
            let at = now.naive_utc();
            if !db::mark_lost(connection, &loan.id, at)? {
                return Err(already_marked(&loan).into());
            }
            // Loans made before rules existed charge no processing fee.
            let processing = match &loan.rule_id {
                Some(rule_id) => {
                    rules::rule_of_loan(connection, Some(rule_id), loan.rule_version)?
                        .terms
                        .lost_processing_fee
                }
                None => 0,
            };
            let mut charged = Vec::new();
            for (kind, amount, note) in
                [("lost", price, "copy price"), ("processing", processing, "lost copy processing")]
            {
                if amount <= 0 {
                    continue;
                }
                let fee = ledger::fee_on_loan(&loan, kind, amount, note.to_owned(), &by, at);
                ledger::charge(connection, &fee)?;
                charged.push(convert::fee(&fee, &[]));
            }
            let lost = db::find_loan(connection, &loan.id)?.unwrap_or(loan);
            let event = events::loan_lost(ids::new_id(), &lost, &by, at);
            outbox::enqueue(connection, &event, &lost.copy_id, &LOAN_SUBSCRIBERS, at)?;
            let answer = DeclareLostResponse { loan: Some(convert::loan(&lost, now)), fees: charged };
            Ok(answer)
        })
        .await?;
    if let Some(loan) = answer.fresh().and_then(|answer| answer.loan.as_ref()) {
        circulation.relay.wake();
        tracing::info!(loan.id = %loan.id, staff.id = %caller.subject_id, "copy declared lost");
    }
    Ok(answer.into_inner())
}

/// Records that the reader says they returned the copy: the use case
/// behind `LoanService/ClaimReturned`.
pub async fn claim_returned(
    circulation: &Circulation,
    caller: &Principal,
    request: ClaimReturnedRequest,
) -> Result<Loan, Error> {
    caller.require(Access::STAFF)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let loan = open_loan(circulation, caller, &request.loan_id, &request.copy_barcode).await?;
    let (by, now) = (caller.subject_id.clone(), circulation.now());
    let answer = Idempotent::new(CLAIM_RETURNED, request_id)
        .write(&circulation.db, now.naive_utc(), move |connection| {
            let at = now.naive_utc();
            if !db::mark_claimed_returned(connection, &loan.id, at)? {
                return Err(already_marked(&loan).into());
            }
            let claimed = db::find_loan(connection, &loan.id)?.unwrap_or(loan);
            let event = events::loan_changed(ids::new_id(), LOAN_CLAIMED_RETURNED, &claimed, &by, "", at);
            outbox::enqueue(connection, &event, &claimed.copy_id, &LOAN_SUBSCRIBERS, at)?;
            let answer = convert::loan(&claimed, now);
            Ok(answer)
        })
        .await?;
    if let Some(loan) = answer.fresh() {
        circulation.relay.wake();
        tracing::info!(loan.id = %loan.id, staff.id = %caller.subject_id, "loan claimed returned");
    }
    Ok(answer.into_inner())
}

/// Sets a loan's due day by hand: the use case behind
/// `LoanService/ChangeDueDate`.
pub async fn change_due_date(
    circulation: &Circulation,
    caller: &Principal,
    request: ChangeDueDateRequest,
) -> Result<Loan, Error> {
    caller.require(Access::LIBRARIAN)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let reason = validate::required_text("reason", &request.reason, 500)?;
    let now = circulation.now();
    let due = due_by_hand(&request.due_date, now, circulation.time_zone)?;
    let loan = open_loan(circulation, caller, &request.loan_id, "").await?;
    let by = caller.subject_id.clone();
    let answer = Idempotent::new(CHANGE_DUE_DATE, request_id)
        .write(&circulation.db, now.naive_utc(), move |connection| {
            let at = now.naive_utc();
            if !db::change_due(connection, &loan.id, &due)? {
                return Err(not_on_loan().into());
            }
            let changed = db::find_loan(connection, &loan.id)?.unwrap_or(loan);
            let event =
                events::loan_changed(ids::new_id(), LOAN_DUE_DATE_CHANGED, &changed, &by, &reason, at);
            outbox::enqueue(connection, &event, &changed.copy_id, &LOAN_SUBSCRIBERS, at)?;
            let answer = convert::loan(&changed, now);
            Ok(answer)
        })
        .await?;
    if let Some(loan) = answer.fresh() {
        circulation.relay.wake();
        tracing::info!(loan.id = %loan.id, due_date = %loan.due_date, staff.id = %caller.subject_id, "due date changed");
    }
    Ok(answer.into_inner())
}

/// The open loan named by id or by its copy's barcode (exactly one),
/// of a school the caller works for.
async fn open_loan(
    circulation: &Circulation,
    caller: &Principal,
    loan_id: &str,
    copy_barcode: &str,
) -> Result<LoanRow, Error> {
    let loan = find_loan(circulation, LoanRef::parse(loan_id, copy_barcode)?).await?;
    caller.require_school(&loan.school_id)?;
    if loan.returned_at.is_some() {
        return Err(not_on_loan().into());
    }
    Ok(loan)
}

/// The loan `reference` names: by id, or the open loan of the copy.
pub(crate) async fn find_loan(circulation: &Circulation, reference: LoanRef) -> Result<LoanRow, Error> {
    circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(match reference {
                LoanRef::Id(id) => db::find_loan(connection, &id)?,
                LoanRef::CopyBarcode(barcode) => db::open_loan_for_barcode(connection, &barcode)?,
            })
        })
        .await?
        .ok_or_else(|| Refusal::new(Reason::LoanNotFound, "no loan has this id or copy barcode").into())
}

/// How a request names a loan: by its id or by its copy's barcode.
#[derive(Debug, Clone)]
pub(crate) enum LoanRef {
    Id(String),
    CopyBarcode(String),
}

impl LoanRef {
    /// Exactly one of `loan_id` and `copy_barcode`, checked.
    pub(crate) fn parse(loan_id: &str, copy_barcode: &str) -> Result<Self, validate::FieldError> {
        let loan_id = ids::parse_optional_id("loan_id", loan_id)?;
        let copy_barcode = match copy_barcode.trim() {
            "" => None,
            barcode => Some(validate::barcode("copy_barcode", barcode)?),
        };
        match (loan_id, copy_barcode) {
            (Some(id), None) => Ok(Self::Id(id)),
            (None, Some(barcode)) => Ok(Self::CopyBarcode(barcode)),
            _ => Err(validate::FieldError::new("loan_id", "give the loan id or the copy barcode, not both")),
        }
    }
}

fn not_on_loan() -> Refusal {
    Refusal::new(Reason::CopyNotOnLoan, "this loan is closed: the copy was returned")
}

fn already_marked(loan: &LoanRow) -> Refusal {
    Refusal::new(
        Reason::LoanAlreadyMarked,
        format!("copy {} is already declared lost or claimed returned", loan.copy_barcode),
    )
    .with("loan_id", loan.id.clone())
}

/// A due day set by hand: "YYYY-MM-DD", from today to a year ahead, due
/// at the end of that day in the school's time zone.
fn due_by_hand(text: &str, now: DateTime<Utc>, zone: chrono_tz::Tz) -> Result<Due, validate::FieldError> {
    let invalid = || {
        validate::FieldError::new(
            "due_date",
            format!("must be a day YYYY-MM-DD from today to {MAX_DAYS_AHEAD} days ahead"),
        )
    };
    let date = parse_day(text.trim()).ok_or_else(invalid)?;
    let today = local_date(now, zone);
    let last = today.checked_add_days(Days::new(MAX_DAYS_AHEAD)).ok_or_else(invalid)?;
    if date < today || date > last {
        return Err(invalid());
    }
    Ok(Due { date, at: end_of_local_day(date, zone) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_due_day_by_hand_is_today_to_a_year_ahead() {
        let zone = chrono_tz::Asia::Shanghai;
        let now = DateTime::parse_from_rfc3339("2026-03-10T10:00:00+08:00").unwrap().with_timezone(&Utc);
        let due = due_by_hand("2026-03-20", now, zone).unwrap();
        assert_eq!(due.date_text(), "2026-03-20");
        assert_eq!(
            due.at,
            DateTime::parse_from_rfc3339("2026-03-20T23:59:59+08:00").unwrap().with_timezone(&Utc)
        );
        assert!(due_by_hand("2026-03-10", now, zone).is_ok());
        assert_eq!(due_by_hand("2026-03-09", now, zone).unwrap_err().field, "due_date");
        assert!(due_by_hand("2027-03-11", now, zone).is_err());
        assert!(due_by_hand("next week", now, zone).is_err());
    }
}
