//! The renewal handlers: one loan (by id or by the copy's barcode) or all
//! of a reader's, by staff of the loan's school or by the borrower from
//! their own token. Each loan is judged by `renewal::decide` under the
//! rule version it was made under; a renewal and its `loan.renewed` event
//! commit together.

use std::collections::HashMap;

use lectern_common::db::DbConnection;
use lectern_common::idempotency::{previous, remember};
use lectern_common::outbox;
use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::identity::{Principal, SubjectKind, principal, require_school, require_staff_or_self};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::{ids, validate};
use lectern_proto::circulation::v1::{
    RenewAllRequest, RenewAllResponse, RenewOutcome, RenewRequest, RenewResponse,
};
use lectern_proto::reader::v1::{GetReaderRequest, Reader};
use tonic::{Code, Request, Response, Status};

use crate::calendar::SchoolCalendar;
use crate::convert;
use crate::db::{self, LoanRow, LoanState, calendars, rules};
use crate::due::Due;
use crate::events::{self, LOAN_SUBSCRIBERS};
use crate::grpc::Circulation;
use crate::grpc_loan_changes::LoanRef;
use crate::holds;
use crate::policy::{DISTRICT_DEFAULT_ID, Terms};
use crate::renewal::{self, RenewalCase};
use lectern_common::Error;

/// Operation names under which renewal answers are remembered.
const RENEW: &str = "Renew";
const RENEW_ALL: &str = "RenewAll";
/// Most loans one RenewAll looks at.
const MAX_LOANS: i64 = 500;

impl Circulation {
    pub(crate) async fn renew_one(
        &self,
        request: Request<RenewRequest>,
    ) -> Result<Response<RenewResponse>, Status> {
        let caller = principal(&request)?;
        may_renew(&caller)?;
        let request = request.into_inner();
        let reference = LoanRef::parse(&request.loan_id, &request.copy_barcode)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let replay_id = request_id.clone();
        let answered = self
            .db
            .run(move |connection| -> Result<Option<RenewResponse>, Error> {
                Ok(previous(connection, RENEW, replay_id.as_deref())?)
            })
            .await?;
        if let Some(answer) = answered {
            return Ok(Response::new(answer));
        }
        let loan = self.find_loan(reference).await?;
        may_renew_loan(&caller, &loan)?;
        let reader = self.borrower(&caller, &loan).await?;
        let now = self.clock.now();
        let context = self.renewal_context(std::slice::from_ref(&loan)).await?;
        let Some(context) = context.first() else {
            return Err(crate::db::rules::no_rule().into());
        };
        let due = renewal::decide(RenewalCase {
            loan: &loan,
            terms: &context.terms,
            reader: &reader,
            others_waiting: context.others_waiting,
            now,
            zone: self.time_zone,
            calendar: &context.calendar,
        })?;
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, RENEW, request_id.as_deref())? {
                    return Ok(answer);
                }
                let renewed = record_renewal(connection, &loan, &due, now)?;
                let answer = RenewResponse { loan: Some(convert::loan(&renewed, now)) };
                remember(connection, RENEW, request_id.as_deref(), &answer, now.naive_utc())?;
                Ok(answer)
            })
            .await?;
        self.relay.wake();
        if let Some(loan) = &answer.loan {
            tracing::info!(loan.id = %loan.id, due_date = %loan.due_date, renewals = loan.renewals, "loan renewed");
        }
        Ok(Response::new(answer))
    }

    pub(crate) async fn renew_every(
        &self,
        request: Request<RenewAllRequest>,
    ) -> Result<Response<RenewAllResponse>, Status> {
        let caller = principal(&request)?;
        may_renew(&caller)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        require_staff_or_self(&caller, &reader_id)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let schools = match caller.kind {
            SubjectKind::Reader => None,
            _ => caller.school_filter().map(<[String]>::to_vec),
        };
        let (lookup_id, replay_id) = (reader_id.clone(), request_id.clone());
        let (answered, loans) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let answered: Option<RenewAllResponse> =
                    previous(connection, RENEW_ALL, replay_id.as_deref())?;
                let filter = db::LoanFilter {
                    reader_id: &lookup_id,
                    state: LoanState::Open,
                    schools: schools.as_deref(),
                };
                Ok((answered, db::list_loans(connection, filter, None, MAX_LOANS)?))
            })
            .await?;
        if let Some(answer) = answered {
            return Ok(Response::new(answer));
        }
        let now = self.clock.now();
        let Some(first) = loans.first() else {
            return Ok(Response::new(RenewAllResponse::default()));
        };
        let reader = self.borrower(&caller, first).await?;
        let context = self.renewal_context(&loans).await?;
        let judged: Vec<(LoanRow, Result<Due, Refusal>)> = loans
            .into_iter()
            .zip(&context)
            .map(|(loan, context)| {
                let verdict = renewal::decide(RenewalCase {
                    loan: &loan,
                    terms: &context.terms,
                    reader: &reader,
                    others_waiting: context.others_waiting,
                    now,
                    zone: self.time_zone,
                    calendar: &context.calendar,
                });
                (loan, verdict)
            })
            .collect();
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, RENEW_ALL, request_id.as_deref())? {
                    return Ok(answer);
                }
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
                    let outcome = match renewed {
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
                    };
                    outcomes.push(outcome);
                }
                let answer = RenewAllResponse { outcomes };
                remember(connection, RENEW_ALL, request_id.as_deref(), &answer, now.naive_utc())?;
                Ok(answer)
            })
            .await?;
        self.relay.wake();
        let renewed = answer.outcomes.iter().filter(|outcome| outcome.renewed).count();
        tracing::info!(reader.id = %reader_id, loans = answer.outcomes.len(), renewed, "loans renewed");
        Ok(Response::new(answer))
    }

    /// The borrower of `loan` as the reader service answers now, asked with
    /// the caller's own token (staff of the school, or the reader).
    async fn borrower(&self, caller: &Principal, loan: &LoanRow) -> Result<Reader, Error> {
        let Some(reader_id) = loan.reader_id.clone() else {
            return Err(Refusal::new(Reason::CopyNotOnLoan, "this loan no longer names a reader").into());
        };
        let mut readers = self.readers.clone();
        let call = with_bearer(GetReaderRequest { id: reader_id }, &caller.token, self.call_timeout);
        readers.get_reader(call).await.map(Response::into_inner).map_err(|status| match status.code() {
            Code::NotFound => {
                Error::Refused(Refusal::new(Reason::ReaderNotFound, "the borrower is no longer a reader"))
            }
            _ => Error::Dependency(dependency_status("reader", status)),
        })
    }

    /// For each loan, the terms of the rule version it was made under (the
    /// district default in force for loans made before rules), its
    /// school's calendar, and how many other readers wait for such a copy.
    async fn renewal_context(&self, loans: &[LoanRow]) -> Result<Vec<RenewalContext>, Error> {
        let keys: Vec<LoanRow> = loans.to_vec();
        self.db
            .run(move |connection| -> Result<_, Error> {
                let mut calendars_by_school: HashMap<String, SchoolCalendar> = HashMap::new();
                let mut context = Vec::with_capacity(keys.len());
                for loan in keys {
                    let school_id = loan.school_id.clone();
                    let rule = match &loan.rule_id {
                        Some(rule_id) => rules::find_rule(connection, rule_id, loan.rule_version)?,
                        None => rules::find_rule(connection, DISTRICT_DEFAULT_ID, None)?,
                    };
                    let (rule, _) = rule.ok_or_else(crate::db::rules::no_rule)?;
                    if !calendars_by_school.contains_key(&school_id) {
                        let calendar = calendars::load_calendar(connection, &school_id)?
                            .map(|stored| stored.calendar)
                            .unwrap_or_default();
                        calendars_by_school.insert(school_id.clone(), calendar);
                    }
                    let calendar = calendars_by_school.get(&school_id).cloned().unwrap_or_default();
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

/// Renewing is for staff and for readers (phone, portal, kiosk); devices
/// and services do not renew.
fn may_renew(caller: &Principal) -> Result<(), Status> {
    match caller.kind {
        SubjectKind::Staff | SubjectKind::Reader => Ok(()),
        _ => Err(Refusal::new(Reason::RoleNotAllowed, "sign in as staff or as the reader").into()),
    }
}

/// Staff renew loans of their schools; a reader only their own.
fn may_renew_loan(caller: &Principal, loan: &LoanRow) -> Result<(), Status> {
    require_staff_or_self(caller, loan.reader_id.as_deref().unwrap_or_default())?;
    if caller.kind == SubjectKind::Staff {
        require_school(caller, &loan.school_id)?;
    }
    Ok(())
}

/// Gives `loan` its new due time and enqueues `loan.renewed`; returns the
/// loan as it is now. Run inside `Db::write`.
fn record_renewal(
    connection: &mut DbConnection,
    loan: &LoanRow,
    due: &Due,
    now: chrono::DateTime<chrono::Utc>,
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
