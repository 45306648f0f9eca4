//! The fees ledger at the desk: a reader's fees and balance, charges,
//! payments and waivers (one fee, or a class's or grade's at once). Fines
//! themselves are charged by check-in (`checkin`); the transactions are
//! `ledger`.

use chrono::{NaiveDateTime, SubsecRound};
use lectern_common::db::DbConnection;
use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::identity::{Principal, SubjectKind};
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::{
    self as pb, ChargeFeeRequest, FeeEntryKind, ListFeesRequest, ListFeesResponse, PayFeesRequest,
    PayFeesResponse, WaiveFeeRequest, WaiveFeesRequest, WaiveFeesResponse,
};

use crate::context::Circulation;
use crate::convert;
use crate::db;
use crate::db::fees::{self as stored, FeeRow};
use crate::ledger::{self, Settlement};
use crate::policy::fees::{self, MAX_REASON_CHARS};
use lectern_common::Error;

/// Operation names under which answers are remembered for retries.
const CHARGE_FEE: &str = "circulation.ChargeFee";
const PAY_FEES: &str = "circulation.PayFees";
const WAIVE_FEE: &str = "circulation.WaiveFee";
const WAIVE_FEES: &str = "circulation.WaiveFees";

/// A reader's fees and what they owe: the use case behind
/// `FeeService/ListFees`. Staff of the fees' schools, or the reader.
pub async fn list_fees(
    circulation: &Circulation,
    caller: &Principal,
    request: ListFeesRequest,
) -> Result<ListFeesResponse, Error> {
    let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
    caller.require_self_or_staff(&reader_id)?;
    let schools = caller.schools_for_reader_records();
    let (rows, entries) = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            let rows =
                stored::fees_of_reader(connection, &reader_id, request.include_settled, schools.as_deref())?;
            let ids: Vec<String> = rows.iter().map(|fee| fee.id.clone()).collect();
            Ok((rows, stored::entries_of(connection, &ids)?))
        })
        .await?;
    Ok(ListFeesResponse {
        balance: fees::balance(&rows),
        fees: rows.iter().map(|fee| convert::fee(fee, &entries)).collect(),
    })
}

/// Charges a fee on a loan: the use case behind `FeeService/ChargeFee`.
pub async fn charge_fee(
    circulation: &Circulation,
    caller: &Principal,
    request: ChargeFeeRequest,
) -> Result<pb::Fee, Error> {
    caller.require(Access::STAFF)?;
    let loan_id = ids::parse_id("loan_id", &request.loan_id)?;
    let kind = fees::chargeable_kind(request.kind)?;
    let amount = fees::amount("amount", request.amount)?;
    let note = validate::optional_text("note", &request.note, MAX_REASON_CHARS)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let lookup_id = loan_id.clone();
    let loan = circulation
        .db
        .run(move |connection| -> Result<_, Error> { Ok(db::find_loan(connection, &lookup_id)?) })
        .await?
        .ok_or_else(|| Refusal::new(Reason::LoanNotFound, format!("no loan has id {loan_id}")))?;
    caller.require_school(&loan.school_id)?;
    let Some(reader_id) = loan.reader_id.clone() else {
        return Err(Refusal::new(
            Reason::LoanNotFound,
            "this loan no longer names its reader (loan history rule or erasure); no fee can be charged on it",
        )
        .into());
    };
    let now = now(circulation);
    let fee = FeeRow {
        reader_id: Some(reader_id),
        ..ledger::fee_on_loan(&loan, convert::fee_kind_to_stored(kind), amount, note, &caller.subject_id, now)
    };
    let answer = Idempotent::new(CHARGE_FEE, request_id)
        .write(&circulation.db, now, move |connection| {
            ledger::charge(connection, &fee)?;
            let answer = convert::fee(&fee, &[]);
            Ok(answer)
        })
        .await?
        .into_inner();
    circulation.relay.wake();
    tracing::info!(fee.id = %answer.id, loan.id = %answer.loan_id, amount = answer.amount, staff.id = %caller.subject_id, "fee charged");
    Ok(answer)
}

/// Takes a payment, for one fee or oldest first: the use case behind
/// `FeeService/PayFees`.
pub async fn pay_fees(
    circulation: &Circulation,
    caller: &Principal,
    request: PayFeesRequest,
) -> Result<PayFeesResponse, Error> {
    let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
    // A self-check machine that took the money records it for the reader
    // signed in at it; a phone or the portal cannot.
    match caller.kind {
        SubjectKind::Reader if caller.device_id.is_some() => caller.require_self_or_staff(&reader_id)?,
        _ => caller.require(Access::STAFF)?,
    }
    let amount = fees::amount("amount", request.amount)?;
    let fee_id = ids::parse_optional_id("fee_id", &request.fee_id)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let schools = caller.school_filter().map(<[String]>::to_vec);
    let by = caller.subject_id.clone();
    let now = now(circulation);
    let answer = Idempotent::new(PAY_FEES, request_id)
        .write(&circulation.db, now, move |connection| {
            let open = stored::fees_of_reader(connection, &reader_id, false, schools.as_deref())?;
            let parts = match &fee_id {
                Some(fee_id) => {
                    let Some(fee) = open.iter().find(|fee| &fee.id == fee_id) else {
                        return Err(not_open(connection, fee_id, &reader_id, schools.as_deref())?.into());
                    };
                    if amount > fee.outstanding {
                        return Err(ledger::payment_too_large(fee.outstanding).into());
                    }
                    vec![(fee_id.clone(), amount)]
                }
                None => fees::spread(amount, &open)
                    .ok_or_else(|| ledger::payment_too_large(fees::balance(&open)))?,
            };
            let settlement =
                Settlement { kind: FeeEntryKind::Payment, amount: 0, reason: "", by: &by, at: now };
            let mut paid = Vec::new();
            for (fee_id, part) in parts {
                paid.push(ledger::settle(connection, &fee_id, Settlement { amount: part, ..settlement })?);
            }
            let ids: Vec<String> = paid.iter().map(|fee| fee.id.clone()).collect();
            let entries = stored::entries_of(connection, &ids)?;
            let still_open = stored::fees_of_reader(connection, &reader_id, false, schools.as_deref())?;
            let answer = PayFeesResponse {
                fees: paid.iter().map(|fee| convert::fee(fee, &entries)).collect(),
                balance: fees::balance(&still_open),
            };
            Ok(answer)
        })
        .await?
        .into_inner();
    circulation.relay.wake();
    tracing::info!(fees = answer.fees.len(), amount, staff.id = %caller.subject_id, "fees paid");
    Ok(answer)
}

/// Lets a reader off what is left of a fee: the use case behind
/// `FeeService/WaiveFee`.
pub async fn waive_fee(
    circulation: &Circulation,
    caller: &Principal,
    request: WaiveFeeRequest,
) -> Result<pb::Fee, Error> {
    caller.require(Access::LIBRARIAN)?;
    let fee_id = ids::parse_id("fee_id", &request.fee_id)?;
    let reason = validate::required_text("reason", &request.reason, MAX_REASON_CHARS)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let lookup_id = fee_id.clone();
    let fee = circulation
        .db
        .run(move |connection| -> Result<_, Error> { Ok(stored::find_fee(connection, &lookup_id)?) })
        .await?
        .ok_or_else(|| ledger::fee_not_found(&fee_id))?;
    caller.require_school(&fee.school_id)?;
    let by = caller.subject_id.clone();
    let now = now(circulation);
    let answer = Idempotent::new(WAIVE_FEE, request_id)
        .write(&circulation.db, now, move |connection| {
            let current =
                stored::find_fee(connection, &fee.id)?.ok_or_else(|| ledger::fee_not_found(&fee.id))?;
            if current.outstanding == 0 {
                return Err(ledger::fee_settled(&current).into());
            }
            let settlement = Settlement {
                kind: FeeEntryKind::Waiver,
                amount: current.outstanding,
                reason: &reason,
                by: &by,
                at: now,
            };
            let waived = ledger::settle(connection, &current.id, settlement)?;
            let entries = stored::entries_of(connection, std::slice::from_ref(&waived.id))?;
            let answer = convert::fee(&waived, &entries);
            Ok(answer)
        })
        .await?
        .into_inner();
    circulation.relay.wake();
    tracing::info!(fee.id = %answer.id, staff.id = %caller.subject_id, "fee waived");
    Ok(answer)
}

/// Lets a class or grade off its open fees at a school: the use case
/// behind `FeeService/WaiveFees`.
pub async fn waive_fees(
    circulation: &Circulation,
    caller: &Principal,
    request: WaiveFeesRequest,
) -> Result<WaiveFeesResponse, Error> {
    caller.require(Access::LIBRARIAN)?;
    let school_id = ids::parse_id("school_id", &request.school_id)?;
    caller.require_school(&school_id)?;
    let class_id = ids::parse_optional_id("class_id", &request.class_id)?;
    let grade = match (request.grade, &class_id) {
        (0, Some(_)) => None,
        (grade @ 1..=12, None) => Some(grade),
        (0, None) => return Err(FieldError::new("class_id", "give a class or a grade").into()),
        (_, Some(_)) => return Err(FieldError::new("grade", "give a class or a grade, not both").into()),
        (_, None) => return Err(FieldError::new("grade", "must be from 1 to 12").into()),
    };
    let reason = validate::required_text("reason", &request.reason, MAX_REASON_CHARS)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let by = caller.subject_id.clone();
    let now = now(circulation);
    let answer = Idempotent::new(WAIVE_FEES, request_id)
        .write(&circulation.db, now, move |connection| {
            let open = stored::open_fees_of_group(connection, &school_id, class_id.as_deref(), grade)?;
            let mut total = 0_i64;
            for fee in &open {
                let settlement = Settlement {
                    kind: FeeEntryKind::Waiver,
                    amount: fee.outstanding,
                    reason: &reason,
                    by: &by,
                    at: now,
                };
                ledger::settle(connection, &fee.id, settlement)?;
                total = total.saturating_add(fee.outstanding);
            }
            let answer =
                WaiveFeesResponse { fees: i32::try_from(open.len()).unwrap_or(i32::MAX), amount: total };
            Ok(answer)
        })
        .await?
        .into_inner();
    circulation.relay.wake();
    tracing::info!(fees = answer.fees, amount = answer.amount, staff.id = %caller.subject_id, "fees waived in bulk");
    Ok(answer)
}

/// Now, in microseconds as both databases keep them.
fn now(circulation: &Circulation) -> NaiveDateTime {
    circulation.clock.now().trunc_subsecs(6).naive_utc()
}

/// Why `fee_id` is not among the reader's open fees the caller may settle.
fn not_open(
    connection: &mut DbConnection,
    fee_id: &str,
    reader_id: &str,
    schools: Option<&[String]>,
) -> Result<Refusal, Error> {
    Ok(match stored::find_fee(connection, fee_id)? {
        Some(fee)
            if fee.reader_id.as_deref() == Some(reader_id)
                && schools.is_none_or(|schools| schools.contains(&fee.school_id)) =>
        {
            ledger::fee_settled(&fee)
        }
        _ => ledger::fee_not_found(fee_id),
    })
}
