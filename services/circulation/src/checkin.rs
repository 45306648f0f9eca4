//! Check-in, top to bottom: who is at the counter and at which school, then
//! one write transaction. A copy of any school of the district is taken
//! back at any desk, kiosk or book drop: its loan is closed (fined by the
//! rule it was made under, on its own school's calendar), and the answer
//! says where the copy goes next: to a reader waiting for it (on the hold
//! shelf here, or in transit to their pickup school), home to its own
//! school, or back on the shelf (`policy::routing`). A copy that was not
//! on loan may be arriving from a journey, or wanted by a hold.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use lectern_common::Error;
use lectern_common::db::DbConnection;
use lectern_common::idempotency::{Answer, Idempotent};
use lectern_common::outbox;
use lectern_core::identity::Principal;
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::{self as pb, CheckInResponse, CheckInRoute};

use crate::context::Circulation;
use crate::convert;
use crate::db::holds::{self, HoldRow};
use crate::db::transits::{self, TransitRow};
use crate::db::{self, LoanRow, calendars, rules};
use crate::desk::{Counter, Desk};
use crate::events::{self, ANONYMIZED_SUBSCRIBERS, LOAN_SUBSCRIBERS};
use crate::hold_shelf::{self, CopyAt};
use crate::ledger;
use crate::policy::calendar::day_text;
use crate::policy::due::is_overdue;
use crate::policy::fees::{CHARGED_BY_CIRCULATION, MAX_REASON_CHARS};
use crate::policy::fines::{self, Lateness};
use crate::policy::history::HistoryRule;
use crate::policy::routing::{self, Route, Why};
use crate::transits::{self as journeys, Reason as TransitReason};

/// The operation name under which check-in answers are remembered.
const CHECK_IN: &str = "circulation.CheckIn";

/// A check-in, as the desk, kiosk or book drop asked for it.
#[derive(Debug, Clone)]
struct CheckIn {
    pub copy_barcode: String,
    pub request_id: Option<String>,
    /// Set when the copy came back damaged: what, and the fee (0: none).
    pub damage: Option<(String, i64)>,
    /// The desk's school, if the request named it.
    pub desk_school_id: String,
}

impl CheckIn {
    /// The request's fields, checked.
    fn from_request(request: pb::CheckInRequest) -> Result<Self, FieldError> {
        let damage = if request.damaged {
            let note = validate::required_text("damage_note", &request.damage_note, MAX_REASON_CHARS)?;
            let fee = match request.damage_fee {
                0 => 0,
                fee => crate::policy::fees::amount("damage_fee", fee)?,
            };
            Some((note, fee))
        } else {
            None
        };
        Ok(Self {
            copy_barcode: validate::barcode("copy_barcode", &request.copy_barcode)?,
            request_id: validate::request_id("request_id", &request.request_id)?,
            damage,
            desk_school_id: request.desk_school_id,
        })
    }
}

/// Takes a copy back: the use case behind `LoanService/CheckIn`.
pub async fn check_in(
    circulation: &Circulation,
    caller: &Principal,
    request: pb::CheckInRequest,
) -> Result<Answer<CheckInResponse>, Error> {
    let request = CheckIn::from_request(request)?;
    let desk = Desk::of(caller, &request.desk_school_id)?;
    if request.damage.is_some() && desk.counter != Counter::Desk {
        return Err(Refusal::new(Reason::RoleNotAllowed, "damage is reported at the desk").into());
    }
    let once = Idempotent::new(CHECK_IN, request.request_id.clone());
    let now = circulation.now();
    let at = Scan { by: caller.subject_id.clone(), desk, zone: circulation.time_zone, now };
    let answer = once
        .call(&circulation.db, async {
            let on_loan = {
                let (once, at, caller, barcode, damage) = (
                    once.clone(),
                    at.clone(),
                    caller.clone(),
                    request.copy_barcode.clone(),
                    request.damage.clone(),
                );
                circulation
                    .db
                    .write(move |connection| {
                        once.run(connection, now.naive_utc(), |connection| {
                            close_loan(connection, &caller, &barcode, damage.as_ref(), &at)
                        })
                    })
                    .await
            };
            match on_loan {
                Err(error) if error.reason() == Some(Reason::CopyNotOnLoan) => {}
                other => return other,
            }
            // Not on loan: the catalog says which copy it is, and where it
            // belongs (asked as the district: which copies a desk may take
            // in is decided here).
            let copy = circulation.copy_by_barcode(request.copy_barcode.clone()).await?;
            let (once, caller) = (once.clone(), caller.clone());
            circulation
                .db
                .write(move |connection| {
                    once.run(connection, now.naive_utc(), |connection| {
                        scanned_not_on_loan(connection, &caller, copy.as_ref(), &at)
                    })
                })
                .await
        })
        .await?;
    if let Some(answer) = answer.fresh() {
        circulation.relay.wake();
        if let Some(loan) = &answer.loan {
            crate::counters::checked_in(&loan.school_id);
            tracing::info!(
                loan.id = %loan.id,
                copy.id = %loan.copy_id,
                reader.id = %loan.reader_id,
                route = answer.route().as_str_name(),
                "copy returned"
            );
        }
        if let Some(transit) = &answer.transit {
            tracing::info!(
                transit.id = %transit.id,
                copy.id = %transit.copy_id,
                to_school.id = %transit.to_school_id,
                received = transit.received_time.is_some(),
                "copy in transit"
            );
        }
    }
    Ok(answer)
}

/// Where and when a copy was scanned, and by whom.
#[derive(Debug, Clone)]
struct Scan {
    /// The staff member or reader checking in.
    by: String,
    desk: Desk,
    /// The schools' time zone, in which late days are counted.
    zone: Tz,
    now: DateTime<Utc>,
}

/// Closes the copy's open loan, fines a late return, refunds a lost copy's
/// price, charges damage, and routes the copy. Refuses with
/// COPY_NOT_ON_LOAN (the caller then looks the copy up) when it is not on
/// loan. Runs in the check-in's write transaction.
fn close_loan(
    connection: &mut DbConnection,
    caller: &Principal,
    copy_barcode: &str,
    damage: Option<&(String, i64)>,
    at: &Scan,
) -> Result<CheckInResponse, Error> {
    let Some(mut loan) = db::open_loan_for_barcode(connection, copy_barcode)? else {
        return Err(Refusal::new(Reason::CopyNotOnLoan, format!("copy {copy_barcode} is not on loan")).into());
    };
    let here = at.desk.school_for(&loan.school_id).to_owned();
    caller.require_school(&here)?;
    let (now, returned_at) = (at.now, at.now.naive_utc());
    let history = HistoryRule::from_stored(&loan.history_retention, loan.history_days);
    let anonymize_after = history.anonymize_after(returned_at);
    // A copy declared lost or claimed returned is not fined for lateness:
    // the lost fees (refunded now) or the claim stand for it.
    let marked = loan.lost_at.is_some() || loan.claimed_returned_at.is_some();
    let late = if marked { Lateness::default() } else { lateness_of(connection, &loan, now, at.zone)? };
    let suspended_until = late.suspended_until.map(day_text);
    let closing = db::Closing {
        returned_at,
        checked_in_by: &at.by,
        anonymize_after,
        suspended_until: suspended_until.as_deref(),
    };
    if !db::close_loan(connection, &loan.id, closing)? {
        // Another desk checked the copy in between our read and our update.
        return Err(
            Refusal::new(Reason::CopyNotOnLoan, format!("copy {copy_barcode} was just checked in")).into()
        );
    }
    db::record_return(connection, &loan.id, &here, returned_at)?;
    loan.returned_at = Some(returned_at);
    loan.checked_in_by = Some(at.by.clone());
    loan.anonymize_after = anonymize_after;
    loan.suspended_until.clone_from(&suspended_until);
    let was_overdue = is_overdue(lectern_core::time::utc(loan.due_at), now);
    let damage_note = damage.map(|(note, _)| note.as_str());
    let event = events::loan_returned(ids::new_id(), &loan, was_overdue, damage_note, &here);
    outbox::enqueue(connection, &event, &loan.copy_id, &LOAN_SUBSCRIBERS, returned_at)?;
    if loan.lost_at.is_some() {
        ledger::refund_lost_price(connection, &loan.id, &at.by, returned_at)?;
    }
    let damage = match damage.filter(|(_, fee)| *fee > 0) {
        Some((note, fee)) => {
            let fee = ledger::fee_on_loan(&loan, "damaged", *fee, note.clone(), &at.by, returned_at);
            ledger::charge(connection, &fee)?;
            Some(convert::fee(&fee, &[]))
        }
        None => None,
    };
    // The fine is charged after the receipt event, so a notice of the
    // return goes out before the notice of what it cost.
    let fine = if late.fine > 0 {
        let note = format!("{} open days late, due {}", late.open_days, loan.due_date);
        let fee = ledger::fee_on_loan(&loan, "overdue", late.fine, note, CHARGED_BY_CIRCULATION, returned_at);
        ledger::charge(connection, &fee)?;
        Some(convert::fee(&fee, &[]))
    } else {
        None
    };
    let copy = CopyAt {
        id: &loan.copy_id,
        barcode: &loan.copy_barcode,
        title_id: &loan.title_id,
        school_id: &here,
        item_type: &loan.item_type,
    };
    let (route, hold, transit) = route_returned(connection, copy, &loan.school_id, &loan.title, at)?;
    if history.anonymizes_at_return() {
        // "Never keep": the loan forgets its reader as it closes. The
        // receipt event above still goes out first (the notice is made and
        // then purged), so consumers see one consistent order.
        anonymize(connection, &mut loan, returned_at)?;
    }
    Ok(CheckInResponse {
        was_on_loan: true,
        loan: Some(convert::loan(&loan, now)),
        fine,
        open_days_late: i32::try_from(late.open_days).unwrap_or(i32::MAX),
        suspended_until: suspended_until.unwrap_or_default(),
        hold: hold.map(|hold| convert::hold(&hold, 0)),
        damage,
        route: route.into(),
        transit: transit.as_ref().map(convert::transit),
    })
}

/// A copy taken back at `copy.school_id` (the desk's school): a reader
/// waiting for the title gets it first; otherwise it goes home if it is
/// not there, or back on the shelf.
fn route_returned(
    connection: &mut DbConnection,
    copy: CopyAt<'_>,
    home: &str,
    title: &str,
    at: &Scan,
) -> Result<(CheckInRoute, Option<HoldRow>, Option<TransitRow>), Error> {
    let trapped = hold_shelf::trap(connection, copy, &at.by, at.now, at.zone)?;
    let pickup = trapped.as_ref().map(|(hold, _)| hold.pickup_school_id.as_str());
    match routing::after_return(copy.school_id, home, pickup) {
        Route::Shelf => Ok((CheckInRoute::Shelf, None, None)),
        Route::HoldShelf => Ok((CheckInRoute::HoldShelf, trapped.map(|(hold, _)| hold), None)),
        Route::Transit { why: Why::Hold, .. } => {
            let (hold, transit) = trapped.map_or((None, None), |(hold, transit)| (Some(hold), transit));
            Ok((CheckInRoute::Transit, hold, transit))
        }
        Route::Transit { to_school_id, why: Why::Home } => {
            let transit = journeys::start(
                connection,
                copy,
                title,
                &to_school_id,
                (TransitReason::Home, None),
                &at.by,
                at.now.naive_utc(),
            )?;
            Ok((CheckInRoute::Transit, None, Some(transit)))
        }
    }
}

/// A scanned copy that was not on loan (`copy` as the catalog knows it, or
/// `None` if it does not): a copy travelling here is received (and put on
/// the hold shelf for the reader it came for, or back on the shelf, or for
/// a reader who wants it now); one travelling elsewhere goes on; a copy of
/// this school that a waiting hold can use (the pull list) is taken for it;
/// another school's stray copy goes home. Runs in the check-in's write
/// transaction.
fn scanned_not_on_loan(
    connection: &mut DbConnection,
    caller: &Principal,
    copy: Option<&lectern_proto::catalog::v1::Copy>,
    at: &Scan,
) -> Result<CheckInResponse, Error> {
    let Some(copy) = copy else {
        // The catalog does not know the barcode: nothing was taken back,
        // and the desk must not say "back on the shelf".
        return Err(Refusal::new(Reason::CopyNotFound, "no copy has this barcode").into());
    };
    let here = at.desk.school_for(&copy.school_id).to_owned();
    caller.require_school(&here)?;
    let now = at.now.naive_utc();
    let place = CopyAt {
        id: &copy.id,
        barcode: &copy.barcode,
        title_id: &copy.title_id,
        school_id: &here,
        item_type: &copy.item_type,
    };
    let answer = |route: CheckInRoute, hold: Option<HoldRow>, transit: Option<TransitRow>| CheckInResponse {
        was_on_loan: false,
        hold: hold.map(|hold| convert::hold(&hold, 0)),
        route: route.into(),
        transit: transit.as_ref().map(convert::transit),
        ..Default::default()
    };
    if let Some(journey) = transits::open_for_copy(connection, &copy.id)? {
        if journey.to_school_id != here {
            // Still on its way: back into the transit bin.
            return Ok(answer(CheckInRoute::Transit, None, Some(journey)));
        }
        let Some(received) = journeys::receive(connection, &journey, &at.by, now)? else {
            return Ok(answer(CheckInRoute::Shelf, None, None));
        };
        let arrived_for = match &received.hold_id {
            Some(hold_id) => {
                holds::find_hold(connection, hold_id)?.filter(|hold| hold.status == "in_transit")
            }
            None => None,
        };
        if let Some(hold) = arrived_for {
            let ready = hold_shelf::arrive(connection, &hold, at.now, at.zone)?;
            return Ok(answer(CheckInRoute::HoldShelf, ready, Some(received)));
        }
        // Home, or its hold ended on the way: a reader waiting here (or
        // elsewhere) may have it now; the desk is told of its next journey
        // if it has one.
        let (route, hold, onward) = route_returned(connection, place, &copy.school_id, &copy.title, at)?;
        return Ok(answer(route, hold, onward.or(Some(received))));
    }
    if holds::hold_holding_copy(connection, &copy.id)?.is_some() {
        // On a hold shelf, or taken for a hold: it stays where it is.
        return Ok(answer(CheckInRoute::HoldShelf, None, None));
    }
    let (route, hold, transit) = route_returned(connection, place, &copy.school_id, &copy.title, at)?;
    Ok(answer(route, hold, transit))
}

/// What returning `loan` at `now` costs under the rule version it was made
/// under, on the lending school's calendar as it is now. Loans made before
/// rules existed cost nothing.
fn lateness_of(
    connection: &mut DbConnection,
    loan: &LoanRow,
    now: DateTime<Utc>,
    zone: Tz,
) -> Result<Lateness, Error> {
    let due_at = lectern_core::time::utc(loan.due_at);
    let Some(rule_id) = loan.rule_id.as_deref().filter(|_| is_overdue(due_at, now)) else {
        return Ok(Lateness::default());
    };
    let rule = rules::rule_of_loan(connection, Some(rule_id), loan.rule_version)?;
    let calendar = calendars::calendar_of(connection, &loan.school_id)?;
    Ok(fines::lateness(due_at, now, zone, &calendar, &rule.terms))
}

/// Makes `loan` stop naming its reader and tells the notification service,
/// in the caller's transaction. Returns false (and publishes nothing) if
/// the loan no longer named anyone.
pub fn anonymize(
    connection: &mut DbConnection,
    loan: &mut LoanRow,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    if !db::anonymize_loan(connection, &loan.id, now)? {
        return Ok(false);
    }
    loan.reader_id = None;
    loan.anonymized_at = Some(now);
    let event = events::loan_anonymized(ids::new_id(), loan, now);
    outbox::enqueue(connection, &event, &loan.copy_id, &ANONYMIZED_SUBSCRIBERS, now)?;
    Ok(true)
}
