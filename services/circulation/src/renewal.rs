//! Renewals: one loan (by id or by the copy's barcode) or all of a
//! reader's, by staff of the loan's school or by the borrower from their
//! own token. Each loan is judged by `policy::renewal::decide` under the
//! rule version it was made under; a renewal and its `loan.renewed` event
//! commit together.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lectern_common::Error;
use lectern_common::db::DbConnection;
use lectern_common::idempotency::Idempotent;
use lectern_common::outbox;
use lectern_core::access::Access;
use lectern_core::identity::{Principal, SubjectKind};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::{ids, validate};
use lectern_proto::circulation::v1::{
    RenewAllRequest, RenewAllResponse, RenewOutcome, RenewRequest, RenewResponse,
};

use crate::context::Circulation;
use crate::convert;
use crate::db::{self, LoanRow, LoanState, calendars, rules};
use crate::events::{self, LOAN_SUBSCRIBERS};
use crate::loan_changes::{LoanRef, find_loan};
use crate::policy::borrower::Borrower;
use crate::policy::calendar::{SchoolCalendar, parse_day};
use crate::policy::due::Due;
use crate::policy::holds;
use crate::policy::renewal::{self, OnLoan, RenewalCase};
use crate::policy::rule::Terms;

/// Renewing is for staff and for readers (phone, portal, kiosk); devices
/// and services do not renew.
const RENEWERS: Access = Access::STAFF.or_readers();

const RENEW: &str = "circulation.Renew";
const RENEW_ALL: &str = "circulation.RenewAll";
/// Most loans one RenewAll looks at.
const MAX_LOANS: i64 = 500;

/// Renews one loan: the use case behind `LoanService/Renew`.
pub async fn renew(
    circulation: &Circulation,
    caller: &Principal,
    request: RenewRequest,
) -> Result<RenewResponse, Error> {
    caller.require(RENEWERS)?;
    let reference = LoanRef::parse(&request.loan_id, &request.copy_barcode)?;
    let once = Idempotent::new(RENEW, validate::request_id("request_id", &request.request_id)?);
    let renewed = once
        .call(&circulation.db, async {
            let loan = find_loan(circulation, reference).await?;
            may_renew_loan(caller, &loan)?;
            let reader = borrower(circulation, caller, &loan).await?;
            let now = circulation.now();
            let context = renewal_context(circulation, std::slice::from_ref(&loan)).await?;
            let context = context.first().ok_or_else(|| Error::internal("no renewal context for a loan"))?;
            let due = judge(circulation, &loan, &reader, context, now)?;
            let once = once.clone();
            circulation
                .db
                .write(move |connection| {
                    once.run(connection, now.naive_utc(), |connection| {
                        let renewed = record_renewal(connection, &loan, &due, now)?;
                        Ok(RenewResponse { loan: Some(convert::loan(&renewed, now)) })
                    })
                })
                .await
        })
        .await?;
    if let Some(loan) = renewed.fresh().and_then(|answer| answer.loan.as_ref()) {
        circulation.relay.wake();
        crate::counters::renewed(&loan.school_id);
        tracing::info!(loan.id = %loan.id, due_date = %loan.due_date, renewals = loan.renewals, "loan renewed");
    }
    Ok(renewed.into_inner())
}

/// Renews every loan of a reader that can be, and says why the others
/// cannot: the use case behind `LoanService/RenewAll`.
pub async fn renew_all(
    circulation: &Circulation,
    caller: &Principal,
    request: RenewAllRequest,
) -> Result<RenewAllResponse, Error> {
    caller.require(RENEWERS)?;
    let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
    caller.require_self_or_staff(&reader_id)?;
    let schools = caller.schools_for_reader_records();
    let once = Idempotent::new(RENEW_ALL, validate::request_id("request_id", &request.request_id)?);
    let renewed = once
        .call(&circulation.db, async {
            let lookup_id = reader_id.clone();
            let loans = circulation
                .db
                .run(move |connection| -> Result<_, Error> {
                    let filter = db::LoanFilter {
                        reader_id: &lookup_id,
                        state: LoanState::Open,
                        schools: schools.as_deref(),
                    };
                    Ok(db::list_loans(connection, filter, None, MAX_LOANS)?)
                })
                .await?;
            let now = circulation.now();
            let Some(first) = loans.first() else {
                return Ok(lectern_common::idempotency::Answer::Fresh(RenewAllResponse::default()));
            };
            let reader = borrower(circulation, caller, first).await?;
            let context = renewal_context(circulation, &loans).await?;
            let judged: Vec<(LoanRow, Result<Due, Refusal>)> = loans
                .into_iter()
                .zip(&context)
                .map(|(loan, context)| {
                    let verdict = judge(circulation, &loan, &reader, context, now);
                    (loan, verdict)
                })
                .collect();
            let once = once.clone();
            circulation
                .db
                .write(move |connection| {
                    once.run(connection, now.naive_utc(), |connection| {
                        let mut outcomes = Vec::new();
                        for (loan, verdict) in judged {
                            let renewed = match verdict {
                                Ok(due) => match record_renewal(connection, &loan, &due, now) {
                                    Ok(renewed) => Ok(renewed),
                                    Err(Error::Refused(refusal)) => Err(refusal),
                                    Err(error) => return Err(error),
                                },
                                Err(refusal) => Err(refusal),
                            };
                            outcomes.push(match renewed {
                                Ok(renewed) => RenewOutcome {
                                    loan: Some(convert::loan(&renewed, now)),
                                    renewed: true,
                                    ..Default::default()
                                },
                                Err(refusal) => RenewOutcome {
                                    loan: Some(convert::loan(&loan, now)),
                                    renewed: false,
                                    refusal_reason: refusal.reason.as_str_name().to_owned(),
                                    refusal_message: refusal.message,
                                },
                            });
                        }
                        Ok(RenewAllResponse { outcomes })
                    })
                })
                .await
        })
        .await?;
    if let Some(answer) = renewed.fresh() {
        circulation.relay.wake();
        let count = answer.outcomes.iter().filter(|outcome| outcome.renewed).count();
        for outcome in answer.outcomes.iter().filter(|outcome| outcome.renewed) {
            crate::counters::renewed(outcome.loan.as_ref().map_or("", |loan| loan.school_id.as_str()));
        }
        tracing::info!(reader.id = %reader_id, loans = answer.outcomes.len(), renewed = count, "loans renewed");
    }
    Ok(renewed.into_inner())
}

/// Judges a renewal of `loan` for `reader` now.
fn judge(
    circulation: &Circulation,
    loan: &LoanRow,
    reader: &Borrower,
    context: &RenewalContext,
    now: DateTime<Utc>,
) -> Result<Due, Refusal> {
    let due_at = lectern_core::time::utc(loan.due_at);
    let on_loan = OnLoan {
        copy_barcode: loan.copy_barcode.clone(),
        returned: loan.returned_at.is_some(),
        due_at,
        due_date: parse_day(&loan.due_date)
            .unwrap_or_else(|| crate::policy::due::local_date(due_at, circulation.time_zone)),
        renewals: u32::try_from(loan.renewals).unwrap_or(u32::MAX),
    };
    renewal::decide(RenewalCase {
        loan: &on_loan,
        terms: &context.terms,
        reader,
        others_waiting: context.others_waiting,
        now,
        zone: circulation.time_zone,
        calendar: &context.calendar,
    })
}

/// The borrower of `loan` as the reader service answers now, asked with
/// the caller's own token (staff of the school, or the reader).
async fn borrower(circulation: &Circulation, caller: &Principal, loan: &LoanRow) -> Result<Borrower, Error> {
    let Some(reader_id) = loan.reader_id.clone() else {
        return Err(Refusal::new(Reason::CopyNotOnLoan, "this loan no longer names a reader").into());
    };
    let reader = circulation.reader_by_id(&caller.token, reader_id).await?;
    Ok(convert::borrower(&reader))
}

/// What a loan's renewal is judged on besides the loan and the reader.
#[derive(Debug, Clone)]
struct RenewalContext {
    /// The terms of the rule version the loan was made under.
    terms: Terms,
    /// The lending school's calendar.
    calendar: SchoolCalendar,
    /// Other readers waiting for a copy like this one.
    others_waiting: usize,
}

/// For each loan, the terms of the rule version it was made under (the
/// district default in force for loans made before rules), its school's
/// calendar, and how many other readers wait for such a copy.
async fn renewal_context(circulation: &Circulation, loans: &[LoanRow]) -> Result<Vec<RenewalContext>, Error> {
    let loans: Vec<LoanRow> = loans.to_vec();
    circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            let mut calendars_by_school: HashMap<String, SchoolCalendar> = HashMap::new();
            let mut context = Vec::with_capacity(loans.len());
            for loan in loans {
                let rule = rules::rule_of_loan(connection, loan.rule_id.as_deref(), loan.rule_version)?;
                if !calendars_by_school.contains_key(&loan.school_id) {
                    let calendar = calendars::calendar_of(connection, &loan.school_id)?;
                    calendars_by_school.insert(loan.school_id.clone(), calendar);
                }
                let calendar = calendars_by_school.get(&loan.school_id).cloned().unwrap_or_default();
                let queue = db::holds::open_holds_of_title(connection, &loan.title_id)?;
                let others_waiting = holds::fillable_by(&queue, &loan.copy_id)
                    .filter(|hold| hold.reader_id != loan.reader_id)
                    .count();
                context.push(RenewalContext { terms: rule.terms, calendar, others_waiting });
            }
            Ok(context)
        })
        .await
}

/// Staff renew loans of their schools; a reader only their own.
fn may_renew_loan(caller: &Principal, loan: &LoanRow) -> Result<(), Refusal> {
    caller.require_self_or_staff(loan.reader_id.as_deref().unwrap_or_default())?;
    if caller.kind == SubjectKind::Staff {
        caller.require_school(&loan.school_id)?;
    }
    Ok(())
}

/// Gives `loan` its new due time and enqueues `loan.renewed`; returns the
/// loan as it is now. Runs in the write transaction.
fn record_renewal(
    connection: &mut DbConnection,
    loan: &LoanRow,
    due: &Due,
    now: DateTime<Utc>,
) -> Result<LoanRow, Error> {
    if !db::renew_loan(connection, loan, due)? {
        return Err(Refusal::new(
            Reason::CopyNotOnLoan,
            "the loan changed meanwhile (returned or renewed at another desk); look it up again",
        )
        .into());
    }
    let renewed = db::find_loan(connection, &loan.id)?
        .ok_or_else(|| Refusal::new(Reason::LoanNotFound, format!("no loan has id {}", loan.id)))?;
    let event = events::loan_renewed(ids::new_id(), &renewed, now.naive_utc());
    outbox::enqueue(connection, &event, &renewed.copy_id, &LOAN_SUBSCRIBERS, now.naive_utc())?;
    Ok(renewed)
}
