//! The handlers of the fees ledger: a reader's fees and balance, charges
//! at the desk, payments and waivers (one fee, or a class's or grade's at
//! once). Fines themselves are charged by check-in (`lending`); the
//! transactions are `ledger`.

use chrono::{NaiveDateTime, SubsecRound};
use lectern_common::db::DbConnection;
use lectern_common::idempotency::{previous, remember};
use lectern_core::identity::{
    Principal, Role, SubjectKind, principal, require_role, require_school, require_staff,
    require_staff_or_self,
};
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::{
    self as pb, ChargeFeeRequest, FeeEntryKind, ListFeesRequest, ListFeesResponse, PayFeesRequest,
    PayFeesResponse, WaiveFeeRequest, WaiveFeesRequest, WaiveFeesResponse,
};
use tonic::{Request, Response, Status};

use crate::convert;
use crate::db;
use crate::db::fees::{self as stored, FeeRow};
use crate::fees::{self, MAX_REASON_CHARS};
use crate::grpc::Circulation;
use crate::ledger::{self, Settlement};
use lectern_common::Error;

/// Operation names under which answers are remembered for retries.
const CHARGE_FEE: &str = "ChargeFee";
const PAY_FEES: &str = "PayFees";
const WAIVE_FEE: &str = "WaiveFee";
const WAIVE_FEES: &str = "WaiveFees";

impl Circulation {
    pub(crate) async fn fees_of_reader(
        &self,
        request: Request<ListFeesRequest>,
    ) -> Result<Response<ListFeesResponse>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        require_staff_or_self(&caller, &reader_id)?;
        let schools = visible_schools(&caller);
        let (rows, entries) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let rows = stored::fees_of_reader(
                    connection,
                    &reader_id,
                    request.include_settled,
                    schools.as_deref(),
                )?;
                let ids: Vec<String> = rows.iter().map(|fee| fee.id.clone()).collect();
                Ok((rows, stored::entries_of(connection, &ids)?))
            })
            .await?;
        Ok(Response::new(ListFeesResponse {
            balance: fees::balance(&rows),
            fees: rows.iter().map(|fee| convert::fee(fee, &entries)).collect(),
        }))
    }

    pub(crate) async fn charge(
        &self,
        request: Request<ChargeFeeRequest>,
    ) -> Result<Response<pb::Fee>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let request = request.into_inner();
        let loan_id = ids::parse_id("loan_id", &request.loan_id)?;
        let kind = fees::chargeable_kind(request.kind)?;
        let amount = fees::amount("amount", request.amount)?;
        let note = validate::optional_text("note", &request.note, MAX_REASON_CHARS)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let lookup_id = loan_id.clone();
        let loan = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::find_loan(connection, &lookup_id)?) })
            .await?
            .ok_or_else(|| Refusal::new(Reason::LoanNotFound, format!("no loan has id {loan_id}")))?;
        require_school(&caller, &loan.school_id)?;
        let Some(reader_id) = loan.reader_id.clone() else {
            return Err(Refusal::new(
                Reason::LoanNotFound,
                "this loan no longer names its reader (loan history rule or erasure); no fee can be charged on it",
            )
            .into());
        };
        let now = self.now();
        let fee = FeeRow {
            id: ids::new_id(),
            reader_id: Some(reader_id),
            school_id: loan.school_id.clone(),
            loan_id: loan.id.clone(),
            kind: fees::kind_to_stored(kind).to_owned(),
            amount,
            outstanding: amount,
            copy_barcode: loan.copy_barcode.clone(),
            title: loan.title.clone(),
            reader_class_id: loan.reader_class_id.clone(),
            reader_grade: loan.reader_grade,
            note,
            created_by: caller.subject_id.clone(),
            created_at: now,
        };
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, CHARGE_FEE, request_id.as_deref())? {
                    return Ok(answer);
                }
                ledger::charge(connection, &fee)?;
                let answer = convert::fee(&fee, &[]);
                remember(connection, CHARGE_FEE, request_id.as_deref(), &answer, now)?;
                Ok(answer)
            })
            .await?;
        self.relay.wake();
        tracing::info!(fee.id = %answer.id, loan.id = %answer.loan_id, amount = answer.amount, staff.id = %caller.subject_id, "fee charged");
        Ok(Response::new(answer))
    }

    pub(crate) async fn pay(
        &self,
        request: Request<PayFeesRequest>,
    ) -> Result<Response<PayFeesResponse>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let amount = fees::amount("amount", request.amount)?;
        let fee_id = ids::parse_optional_id("fee_id", &request.fee_id)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let schools = caller.school_filter().map(<[String]>::to_vec);
        let by = caller.subject_id.clone();
        let now = self.now();
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, PAY_FEES, request_id.as_deref())? {
                    return Ok(answer);
                }
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
                    paid.push(ledger::settle(
                        connection,
                        &fee_id,
                        Settlement { amount: part, ..settlement },
                    )?);
                }
                let ids: Vec<String> = paid.iter().map(|fee| fee.id.clone()).collect();
                let entries = stored::entries_of(connection, &ids)?;
                let still_open = stored::fees_of_reader(connection, &reader_id, false, schools.as_deref())?;
                let answer = PayFeesResponse {
                    fees: paid.iter().map(|fee| convert::fee(fee, &entries)).collect(),
                    balance: fees::balance(&still_open),
                };
                remember(connection, PAY_FEES, request_id.as_deref(), &answer, now)?;
                Ok(answer)
            })
            .await?;
        self.relay.wake();
        tracing::info!(fees = answer.fees.len(), amount, staff.id = %caller.subject_id, "fees paid");
        Ok(Response::new(answer))
    }

    pub(crate) async fn waive_one(
        &self,
        request: Request<WaiveFeeRequest>,
    ) -> Result<Response<pb::Fee>, Status> {
        let caller = principal(&request)?;
        require_role(&caller, &[Role::DistrictAdmin, Role::Librarian])?;
        let request = request.into_inner();
        let fee_id = ids::parse_id("fee_id", &request.fee_id)?;
        let reason = validate::required_text("reason", &request.reason, MAX_REASON_CHARS)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let lookup_id = fee_id.clone();
        let fee = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(stored::find_fee(connection, &lookup_id)?) })
            .await?
            .ok_or_else(|| ledger::fee_not_found(&fee_id))?;
        require_school(&caller, &fee.school_id)?;
        let by = caller.subject_id.clone();
        let now = self.now();
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, WAIVE_FEE, request_id.as_deref())? {
                    return Ok(answer);
                }
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
                remember(connection, WAIVE_FEE, request_id.as_deref(), &answer, now)?;
                Ok(answer)
            })
            .await?;
        self.relay.wake();
        tracing::info!(fee.id = %answer.id, staff.id = %caller.subject_id, "fee waived");
        Ok(Response::new(answer))
    }

    pub(crate) async fn waive_group(
        &self,
        request: Request<WaiveFeesRequest>,
    ) -> Result<Response<WaiveFeesResponse>, Status> {
        let caller = principal(&request)?;
        require_role(&caller, &[Role::DistrictAdmin, Role::Librarian])?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        require_school(&caller, &school_id)?;
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
        let now = self.now();
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, WAIVE_FEES, request_id.as_deref())? {
                    return Ok(answer);
                }
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
                remember(connection, WAIVE_FEES, request_id.as_deref(), &answer, now)?;
                Ok(answer)
            })
            .await?;
        self.relay.wake();
        tracing::info!(fees = answer.fees, amount = answer.amount, staff.id = %caller.subject_id, "fees waived in bulk");
        Ok(Response::new(answer))
    }

    /// Now, in microseconds as both databases keep them.
    fn now(&self) -> NaiveDateTime {
        self.clock.now().trunc_subsecs(6).naive_utc()
    }
}

/// The schools whose fees a caller sees: readers see all their own.
fn visible_schools(caller: &Principal) -> Option<Vec<String>> {
    match caller.kind {
        SubjectKind::Reader => None,
        _ => caller.school_filter().map(<[String]>::to_vec),
    }
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
