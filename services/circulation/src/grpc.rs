//! gRPC handlers: validate, call the domain and the database, map results.

use std::time::Duration;

use chrono::SubsecRound;

use lectern_common::db::Db;
use lectern_common::idempotency::{previous, remember};
use lectern_common::outbox::RelayWaker;
use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::clock::SharedClock;
use lectern_core::identity::{
    Principal, Role, SubjectKind, TokenSource, principal, require_role, require_school, require_staff,
    require_staff_or_self,
};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError};
use lectern_core::{ids, paging};
use lectern_proto::catalog::v1::LookupCopyRequest;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::circulation::v1::circulation_service_server::CirculationService;
use lectern_proto::circulation::v1::{
    self as pb, CheckInRequest, CheckInResponse, CheckOutRequest, CheckOutResponse, GetLoanRequest,
    GetReaderObligationsRequest, GetSchoolCalendarRequest, ListLoansRequest, ListLoansResponse,
    ListOverdueLoansRequest, Loan, LoanFilter, ReaderObligations,
};
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

use crate::access::{self, Counter};
use crate::assess::Assessment;
use crate::calendar::SchoolCalendar;
use crate::checkout::{self, NewLoan, Overridden};
use crate::db::calendars::{self, StoredCalendar};
use crate::db::{self, LoanState, fees};
use crate::hold_shelf::CopyAt;
use crate::lending::{self, CheckInOutcome, CheckOutOutcome};
use crate::{convert, due};
use lectern_common::Error;

/// The operation name under which calendar changes are remembered for retries.
const SET_CALENDAR: &str = "SetSchoolCalendar";

/// The circulation service's handlers.
#[derive(Debug, Clone)]
pub struct Circulation {
    pub db: Db,
    pub clock: SharedClock,
    pub readers: ReaderServiceClient<Channel>,
    pub catalog: CatalogServiceClient<Channel>,
    pub call_timeout: Duration,
    pub time_zone: chrono_tz::Tz,
    pub relay: RelayWaker,
    /// Circulation's own identity, for lookups made for a reader at a
    /// self-service device.
    pub tokens: std::sync::Arc<dyn TokenSource>,
}

impl Circulation {
    /// The token to look things up with: staff's own (so the reader and
    /// catalog services check their schools), or circulation's for a reader
    /// at a self-service device, who is then checked here.
    async fn lookup_token(&self, caller: &Principal, counter: Counter) -> Result<String, Status> {
        match counter {
            Counter::Desk => Ok(caller.token.clone()),
            Counter::SelfService => {
                self.tokens.bearer().await.map_err(|status| dependency_status("reader", status))
            }
        }
    }

    /// Circulation's own token, for catalog look-ups: which copies a caller
    /// may lend is decided here (a copy sent to another school for a hold
    /// is lent there), so the catalog is asked as the district.
    pub(crate) async fn service_token(&self) -> Result<String, Error> {
        self.tokens.bearer().await.map_err(|status| Error::Dependency(dependency_status("reader", status)))
    }
}

impl Circulation {
    /// A check-in of a copy that was not on loan: the catalog says which
    /// copy it is, and a hold may take it (see
    /// `lending::record_scan_not_on_loan`).
    async fn scanned_not_on_loan(
        &self,
        caller: &Principal,
        copy_barcode: String,
        request_id: Option<String>,
    ) -> Result<CheckInOutcome, Status> {
        // Which copies the caller may take in is decided here (a copy
        // arriving for a hold belongs to another school).
        let bearer = self.service_token().await?;
        let mut catalog = self.catalog.clone();
        let call = with_bearer(LookupCopyRequest { barcode: copy_barcode }, &bearer, self.call_timeout);
        let copy = match catalog.lookup_copy(call).await {
            Ok(copy) => Some(copy.into_inner()),
            Err(status) if status.code() == Code::NotFound => None,
            Err(status) => return Err(dependency_status("catalog", status)),
        };
        let (staff, zone, now) = (caller.subject_id.clone(), self.time_zone, self.clock.now());
        let schools = caller.school_filter().map(<[String]>::to_vec);
        let outcome = self
            .db
            .write(move |connection| {
                let at = lending::CheckInAt { by: &staff, schools: schools.as_deref(), zone, damage: None };
                let copy = copy.as_ref().map(|copy| CopyAt {
                    id: &copy.id,
                    barcode: &copy.barcode,
                    title_id: &copy.title_id,
                    school_id: &copy.school_id,
                    item_type: &copy.item_type,
                });
                lending::record_scan_not_on_loan(connection, copy, at, request_id.as_deref(), now)
            })
            .await?;
        if let CheckInOutcome::NotOnLoan(answer) = &outcome
            && let Some(hold) = &answer.hold
        {
            self.relay.wake();
            tracing::info!(hold.id = %hold.id, copy.id = %hold.copy_id, "copy taken for a hold");
        }
        Ok(outcome)
    }
}

#[tonic::async_trait]
impl CirculationService for Circulation {
    async fn check_out(
        &self,
        request: Request<CheckOutRequest>,
    ) -> Result<Response<CheckOutResponse>, Status> {
        let caller = principal(&request)?;
        let counter = access::counter(&caller)?;
        let request = request.into_inner();
        let card_barcode = validate::barcode("reader_card_barcode", &request.reader_card_barcode)?;
        let copy_barcode = validate::barcode("copy_barcode", &request.copy_barcode)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let now = self.clock.now();
        let occurred_at = request
            .occurred_at
            .as_ref()
            .map(|time| convert::from_timestamp("occurred_at", time))
            .transpose()?;
        let checked_out_at = checkout::loan_time(occurred_at, now)?;

        // A retry of an answered request returns at once, without asking
        // the reader and catalog services again.
        if let Some(request_id) = request_id.clone() {
            let previous = self
                .db
                .run(move |connection| lending::previous_check_out(connection, Some(&request_id)))
                .await?;
            if let Some(answer) = previous {
                return Ok(Response::new(answer));
            }
        }

        let override_reason = validate::optional_text("override_reason", &request.override_reason, 500)?;
        let overriding = !override_reason.is_empty();
        if overriding
            && (counter == Counter::SelfService
                || !matches!(caller.role, Some(Role::Librarian | Role::DistrictAdmin)))
        {
            return Err(Refusal::new(
                Reason::OverrideNotAllowed,
                "only a librarian at the desk may lend past a reader's blocks",
            )
            .into());
        }

        let bearer = self.lookup_token(&caller, counter).await?;
        let assessment = self.assess(&bearer, card_barcode, copy_barcode, checked_out_at).await?;
        let Assessment { reader, copy, rule, calendar, verdict, fulfils, holding, .. } = &assessment;
        if counter == Counter::SelfService && reader.id != caller.subject_id {
            return Err(access::not_for_this_reader("this device is signed in for another reader").into());
        }
        // The loan belongs to the copy's library; a copy sent to another
        // school for a hold is lent at that school.
        if let Ok(copy) = copy {
            let picked_up_here =
                holding.as_ref().is_some_and(|hold| caller.covers_school(&hold.pickup_school_id));
            if !picked_up_here {
                require_school(&caller, &copy.school_id)?;
            }
        }
        // The rules apply as of when the loan happened (a loan recorded
        // after the fact is judged by the card's validity on that day).
        if let Some(refusal) = verdict.first_refusal(overriding) {
            return Err(refusal.clone().into());
        }
        let copy = copy.as_ref().map_err(|refusal| Error::Refused(refusal.clone()))?;
        let overridden = (overriding && verdict.blocks().next().is_some()).then(|| Overridden {
            reason: override_reason,
            blocks: checkout::blocks_to_stored(verdict.blocks()),
        });
        let (due, _) = due::due_under(rule.terms.loan_period, checked_out_at, self.time_zone, calendar);
        let loan = NewLoan {
            id: ids::new_id(),
            reader,
            copy,
            checked_out_at,
            due,
            checked_out_by: &caller.subject_id,
            rule,
            overridden,
            now,
        }
        .row();

        let fulfils = fulfils.clone();
        let limits_rule = (!overriding).then(|| rule.clone());
        let outcome = self
            .db
            .write(move |connection| {
                // A hold may have taken the copy since it was judged.
                if let Some(hold) = db::holds::hold_holding_copy(connection, &loan.copy_id)?
                    && hold.reader_id != loan.reader_id
                {
                    return Err(checkout::taken_for_other(&loan.copy_barcode, &hold).into());
                }
                let outcome = lending::record_checkout(
                    connection,
                    &loan,
                    limits_rule.as_ref(),
                    request_id.as_deref(),
                    now,
                )?;
                if let (CheckOutOutcome::Lent(_), Some(hold)) = (&outcome, &fulfils) {
                    lending::fulfil_hold(connection, hold, &loan.checked_out_by, now)?;
                }
                Ok::<_, Error>(outcome)
            })
            .await?;
        if let CheckOutOutcome::Lent(answer) = &outcome {
            self.relay.wake();
            if let Some(loan) = &answer.loan {
                tracing::info!(
                    loan.id = %loan.id,
                    copy.id = %loan.copy_id,
                    reader.id = %loan.reader_id,
                    due_date = %loan.due_date,
                    rule.id = %loan.rule_id,
                    rule.version = loan.rule_version,
                    "copy lent"
                );
                if let Some(overridden) = &loan.r#override {
                    tracing::info!(
                        loan.id = %loan.id,
                        staff.id = %overridden.by,
                        blocks = %overridden.blocks.join(","),
                        "copy lent past blocks"
                    );
                }
            }
        }
        Ok(Response::new(outcome.into_response()))
    }

    async fn check_in(&self, request: Request<CheckInRequest>) -> Result<Response<CheckInResponse>, Status> {
        let caller = principal(&request)?;
        let counter = access::counter(&caller)?;
        let request = request.into_inner();
        let copy_barcode = validate::barcode("copy_barcode", &request.copy_barcode)?;
        let damage = damage_of(&request, counter)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let now = self.clock.now();
        let staff = caller.subject_id.clone();
        // A self-service machine takes back any copy of its own school, not
        // only the signed-in reader's.
        let schools = caller.school_filter().map(<[String]>::to_vec);
        let zone = self.time_zone;
        let (scanned, retry_id) = (copy_barcode.clone(), request_id.clone());
        let outcome = self
            .db
            .write(move |connection| {
                let damage = damage.as_ref().map(|(note, fee)| lending::Damage { note, fee: *fee });
                let at = lending::CheckInAt { by: &staff, schools: schools.as_deref(), zone, damage };
                lending::record_checkin(connection, &copy_barcode, at, request_id.as_deref(), now)
            })
            .await?;
        let outcome = match outcome {
            CheckInOutcome::NotOnLoan(_) => self.scanned_not_on_loan(&caller, scanned, retry_id).await?,
            other => other,
        };
        if let CheckInOutcome::Returned(answer) = &outcome {
            self.relay.wake();
            if let Some(loan) = &answer.loan {
                tracing::info!(
                    loan.id = %loan.id,
                    copy.id = %loan.copy_id,
                    reader.id = %loan.reader_id,
                    "copy returned"
                );
            }
        }
        Ok(Response::new(outcome.into_response()))
    }

    async fn renew(&self, request: Request<pb::RenewRequest>) -> Result<Response<pb::RenewResponse>, Status> {
        self.renew_one(request).await
    }

    async fn renew_all(
        &self,
        request: Request<pb::RenewAllRequest>,
    ) -> Result<Response<pb::RenewAllResponse>, Status> {
        self.renew_every(request).await
    }

    async fn declare_lost(
        &self,
        request: Request<pb::DeclareLostRequest>,
    ) -> Result<Response<pb::DeclareLostResponse>, Status> {
        Circulation::declare_lost(self, request).await
    }

    async fn claim_returned(
        &self,
        request: Request<pb::ClaimReturnedRequest>,
    ) -> Result<Response<Loan>, Status> {
        Circulation::claim_returned(self, request).await
    }

    async fn change_due_date(
        &self,
        request: Request<pb::ChangeDueDateRequest>,
    ) -> Result<Response<Loan>, Status> {
        Circulation::change_due_date(self, request).await
    }

    async fn get_loan(&self, request: Request<GetLoanRequest>) -> Result<Response<Loan>, Status> {
        let caller = principal(&request)?;
        if caller.kind != SubjectKind::Reader {
            require_staff(&caller)?;
        }
        let id = ids::parse_id("id", &request.into_inner().id)?;
        let lookup_id = id.clone();
        let row = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::find_loan(connection, &lookup_id)?) })
            .await?;
        let Some(row) = row else {
            return Err(Refusal::new(Reason::LoanNotFound, format!("no loan has id {id}")).into());
        };
        // A reader sees only their own loans (an anonymized loan is no
        // one's), staff those of their schools.
        require_staff_or_self(&caller, row.reader_id.as_deref().unwrap_or_default())?;
        require_school(&caller, &row.school_id)?;
        Ok(Response::new(convert::loan(&row, self.clock.now())))
    }

    async fn list_loans(
        &self,
        request: Request<ListLoansRequest>,
    ) -> Result<Response<ListLoansResponse>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        require_staff_or_self(&caller, &reader_id)?;
        // Staff see the reader's loans at the schools they work for; a
        // reader sees all their own.
        let schools = match caller.kind {
            SubjectKind::Reader => None,
            _ => caller.school_filter().map(<[String]>::to_vec),
        };
        let state = loan_state(request.filter)?;
        let limit = validate::page_size("page_size", request.page_size, 50, 500)?;
        let after = paging::decode("page_token", &request.page_token)?;
        let rows = self
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
        let now = self.clock.now();
        Ok(Response::new(ListLoansResponse {
            loans: rows.iter().map(|row| convert::loan(row, now)).collect(),
            next_page_token,
        }))
    }

    async fn list_overdue_loans(
        &self,
        request: Request<ListOverdueLoansRequest>,
    ) -> Result<Response<ListLoansResponse>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        require_school(&caller, &school_id)?;
        let class_id = if request.class_id.is_empty() {
            None
        } else {
            Some(ids::parse_id("class_id", &request.class_id)?)
        };
        let now = self.clock.now();
        let due = due::listed_window(request.due_within_days, now)?;
        let limit = validate::page_size("page_size", request.page_size, 50, 500)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::list_loans_due(connection, &school_id, class_id.as_deref(), due, offset, limit + 1)?)
            })
            .await?;
        let (rows, more) = paging::split_page(rows, limit);
        let next_page_token =
            if more { paging::encode(&(offset + limit).to_string()) } else { String::new() };
        Ok(Response::new(ListLoansResponse {
            loans: rows.iter().map(|row| convert::loan(row, now)).collect(),
            next_page_token,
        }))
    }

    async fn get_school_calendar(
        &self,
        request: Request<GetSchoolCalendarRequest>,
    ) -> Result<Response<pb::SchoolCalendar>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let school_id = ids::parse_id("school_id", &request.into_inner().school_id)?;
        require_school(&caller, &school_id)?;
        let lookup_id = school_id.clone();
        let stored = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(calendars::load_calendar(connection, &lookup_id)?)
            })
            .await?;
        Ok(Response::new(convert::calendar(&school_id, stored.as_ref())))
    }

    async fn set_school_calendar(
        &self,
        request: Request<pb::SchoolCalendar>,
    ) -> Result<Response<pb::SchoolCalendar>, Status> {
        let caller = principal(&request)?;
        require_role(&caller, &[Role::DistrictAdmin, Role::Librarian])?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        require_school(&caller, &school_id)?;
        let stored = StoredCalendar {
            calendar: SchoolCalendar::from_request(&request)?,
            updated_by: caller.subject_id.clone(),
            // Microseconds, as both databases keep them.
            updated_at: self.clock.now().trunc_subsecs(6).naive_utc(),
        };
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let answer = convert::calendar(&school_id, Some(&stored));
        let (write_id, to_store, to_remember) = (school_id.clone(), stored.clone(), answer.clone());
        let replaced = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(first) = previous(connection, SET_CALENDAR, request_id.as_deref())? {
                    return Ok(Err(first));
                }
                calendars::replace_calendar(connection, &write_id, &to_store)?;
                remember(connection, SET_CALENDAR, request_id.as_deref(), &to_remember, to_store.updated_at)?;
                Ok(Ok(()))
            })
            .await?;
        if let Err(first) = replaced {
            return Ok(Response::new(first));
        }
        tracing::info!(
            school.id = %school_id,
            closed_weekdays = stored.calendar.closed_weekdays.len(),
            closures = stored.calendar.closures.len(),
            terms = stored.calendar.terms.len(),
            "school calendar replaced"
        );
        Ok(Response::new(answer))
    }

    async fn explain_check_out(
        &self,
        request: Request<pb::ExplainCheckOutRequest>,
    ) -> Result<Response<pb::CheckOutExplanation>, Status> {
        self.explain(request).await
    }

    async fn list_circulation_rules(
        &self,
        request: Request<pb::ListCirculationRulesRequest>,
    ) -> Result<Response<pb::ListCirculationRulesResponse>, Status> {
        self.list_rules(request).await
    }

    async fn get_circulation_rule(
        &self,
        request: Request<pb::GetCirculationRuleRequest>,
    ) -> Result<Response<pb::CirculationRule>, Status> {
        self.get_rule(request).await
    }

    async fn create_circulation_rule(
        &self,
        request: Request<pb::CreateCirculationRuleRequest>,
    ) -> Result<Response<pb::CirculationRule>, Status> {
        self.create_rule(request).await
    }

    async fn update_circulation_rule(
        &self,
        request: Request<pb::UpdateCirculationRuleRequest>,
    ) -> Result<Response<pb::CirculationRule>, Status> {
        self.update_rule(request).await
    }

    async fn delete_circulation_rule(
        &self,
        request: Request<pb::DeleteCirculationRuleRequest>,
    ) -> Result<Response<pb::DeleteCirculationRuleResponse>, Status> {
        self.delete_rule(request).await
    }

    async fn place_hold(&self, request: Request<pb::PlaceHoldRequest>) -> Result<Response<pb::Hold>, Status> {
        Circulation::place_hold(self, request).await
    }

    async fn cancel_hold(
        &self,
        request: Request<pb::CancelHoldRequest>,
    ) -> Result<Response<pb::Hold>, Status> {
        Circulation::cancel_hold(self, request).await
    }

    async fn list_holds(
        &self,
        request: Request<pb::ListHoldsRequest>,
    ) -> Result<Response<pb::ListHoldsResponse>, Status> {
        self.holds_of_reader(request).await
    }

    async fn list_pull_list(
        &self,
        request: Request<pb::ListPullListRequest>,
    ) -> Result<Response<pb::ListPullListResponse>, Status> {
        self.pull_list(request).await
    }

    async fn get_reader_summary(
        &self,
        request: Request<pb::GetReaderSummaryRequest>,
    ) -> Result<Response<pb::ReaderSummary>, Status> {
        self.summary(request).await
    }

    async fn get_reading_report(
        &self,
        request: Request<pb::GetReadingReportRequest>,
    ) -> Result<Response<pb::ReadingReport>, Status> {
        self.reading_report(request).await
    }

    async fn list_fees(
        &self,
        request: Request<pb::ListFeesRequest>,
    ) -> Result<Response<pb::ListFeesResponse>, Status> {
        self.fees_of_reader(request).await
    }

    async fn charge_fee(&self, request: Request<pb::ChargeFeeRequest>) -> Result<Response<pb::Fee>, Status> {
        self.charge(request).await
    }

    async fn pay_fees(
        &self,
        request: Request<pb::PayFeesRequest>,
    ) -> Result<Response<pb::PayFeesResponse>, Status> {
        self.pay(request).await
    }

    async fn waive_fee(&self, request: Request<pb::WaiveFeeRequest>) -> Result<Response<pb::Fee>, Status> {
        self.waive_one(request).await
    }

    async fn waive_fees(
        &self,
        request: Request<pb::WaiveFeesRequest>,
    ) -> Result<Response<pb::WaiveFeesResponse>, Status> {
        self.waive_group(request).await
    }

    async fn get_reader_obligations(
        &self,
        request: Request<GetReaderObligationsRequest>,
    ) -> Result<Response<ReaderObligations>, Status> {
        let caller = principal(&request)?;
        if caller.kind != SubjectKind::Service {
            require_staff(&caller)?;
        }
        let reader_id = ids::parse_id("reader_id", &request.into_inner().reader_id)?;
        let lookup_id = reader_id.clone();
        let (open_loans, unpaid_fees) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let open = db::count_open_loans(connection, &lookup_id)?;
                let (unpaid, _) = fees::unpaid(connection, &lookup_id)?;
                Ok((i32::try_from(open).unwrap_or(i32::MAX), i32::try_from(unpaid).unwrap_or(i32::MAX)))
            })
            .await?;
        Ok(Response::new(ReaderObligations { reader_id, open_loans, unpaid_fees }))
    }
}

/// The damage reported with a check-in, checked: staff only, a note, a
/// fee in range.
fn damage_of(request: &CheckInRequest, counter: Counter) -> Result<Option<(String, i64)>, Status> {
    if !request.damaged {
        return Ok(None);
    }
    if counter != Counter::Desk {
        return Err(Refusal::new(Reason::RoleNotAllowed, "damage is reported at the desk").into());
    }
    let note = validate::required_text("damage_note", &request.damage_note, 500)?;
    let fee = match request.damage_fee {
        0 => 0,
        fee => crate::fees::amount("damage_fee", fee)?,
    };
    Ok(Some((note, fee)))
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
