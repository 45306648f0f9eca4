//! The check-out and check-in transactions: each one, inside a single
//! `Db::write` transaction, changes the loan, records the event in the
//! outbox and remembers the answer to the client's request id, so the
//! change, its publication and its idempotent answer commit together or not
//! at all. Callers wake the relay once the transaction has committed.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use diesel::Connection as _;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_common::idempotency::{previous, remember};
use lectern_common::outbox;
use lectern_core::identity::school_not_allowed;
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::circulation::v1::{CheckInResponse, CheckOutResponse};

use crate::calendar::day_text;
use crate::checkout;
use crate::convert::{self, utc};
use crate::db::fees::FeeRow;
use crate::db::holds::{self, HoldRow};
use crate::db::{self, LoanRow, calendars, rules};
use crate::due::is_overdue;
use crate::events::{self, ANONYMIZED_SUBSCRIBERS, LOAN_SUBSCRIBERS};
use crate::fees::CHARGED_BY_CIRCULATION;
use crate::fines::{self, Lateness};
use crate::history::HistoryRule;
use crate::hold_shelf::{self, CopyAt};
use crate::ledger;
use crate::policy::Rule;
use lectern_common::Error;

/// The operation name under which check-out answers are remembered.
pub const CHECK_OUT: &str = "CheckOut";
/// The operation name under which check-in answers are remembered.
pub const CHECK_IN: &str = "CheckIn";

/// How a check-out ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckOutOutcome {
    /// The copy was lent now; an event waits in the outbox.
    Lent(CheckOutResponse),
    /// The request id was answered before; nothing changed.
    Repeated(CheckOutResponse),
}

impl CheckOutOutcome {
    /// The answer to send.
    pub fn into_response(self) -> CheckOutResponse {
        match self {
            Self::Lent(response) | Self::Repeated(response) => response,
        }
    }
}

/// How a check-in ended.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckInOutcome {
    /// The loan was closed now; an event waits in the outbox.
    Returned(CheckInResponse),
    /// The copy was not on loan; nothing changed.
    NotOnLoan(CheckInResponse),
    /// The request id was answered before; nothing changed.
    Repeated(CheckInResponse),
}

impl CheckInOutcome {
    /// The answer to send.
    pub fn into_response(self) -> CheckInResponse {
        match self {
            Self::Returned(response) | Self::NotOnLoan(response) | Self::Repeated(response) => response,
        }
    }
}

/// The refusal for a copy that is already lent, naming the open loan.
pub fn already_on_loan(open: &LoanRow) -> Refusal {
    Refusal::new(
        Reason::CopyAlreadyOnLoan,
        format!("copy {} is already on loan, due {}; check it in first", open.copy_barcode, open.due_date),
    )
    .with("loan_id", open.id.clone())
    .with("due_date", open.due_date.clone())
}

/// Lends a copy: stores `loan`, enqueues `loan.checked_out` and remembers
/// the answer under `request_id`. With `limits`, that rule's loan limits
/// are judged again first, under the reader's lock: another desk may have
/// lent to the same reader since the check-out was judged. Run inside
/// `Db::write`.
pub fn record_checkout(
    connection: &mut DbConnection,
    loan: &LoanRow,
    limits: Option<&Rule>,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CheckOutOutcome, Error> {
    if let Some(answer) = previous_check_out(connection, request_id)? {
        return Ok(CheckOutOutcome::Repeated(answer));
    }
    if let (Some(rule), Some(reader_id)) = (limits, &loan.reader_id) {
        db::lock_reader_for_lending(connection, reader_id)?;
        let loans = db::open_loans_of_reader(connection, reader_id)?;
        if let Some(reached) = checkout::loan_limits(&loans, Some(&loan.item_type), rule).into_iter().next() {
            return Err(reached.into());
        }
    }
    if let Some(open) = db::open_loan_for_copy(connection, &loan.copy_id)? {
        return Err(already_on_loan(&open).into());
    }
    // On PostgreSQL a station lending the same copy at the same moment also
    // passes the check above; the unique index stops the second insert. The
    // insert runs in a savepoint so this transaction can still read which
    // loan won (or find that the winner was this very request, retried).
    let inserted = connection.transaction(|connection| db::insert_loan(connection, loan));
    match inserted {
        Ok(()) => {}
        Err(error) if unique_violation_on(&error, "copy_id") => {
            if let Some(answer) = previous_check_out(connection, request_id)? {
                return Ok(CheckOutOutcome::Repeated(answer));
            }
            let refusal = match db::open_loan_for_copy(connection, &loan.copy_id)? {
                Some(open) => already_on_loan(&open),
                None => Refusal::new(
                    Reason::CopyAlreadyOnLoan,
                    format!("copy {} is already on loan", loan.copy_barcode),
                ),
            };
            return Err(refusal.into());
        }
        Err(error) => return Err(error.into()),
    }
    let event = events::loan_checked_out(ids::new_id(), loan);
    outbox::enqueue(connection, &event, &loan.copy_id, &LOAN_SUBSCRIBERS, now.naive_utc())?;
    let answer = CheckOutResponse { loan: Some(convert::loan(loan, now)) };
    remember(connection, CHECK_OUT, request_id, &answer, now.naive_utc())?;
    Ok(CheckOutOutcome::Lent(answer))
}

/// Ends `hold` as fulfilled: its reader borrowed the copy. Run inside the
/// check-out's transaction; a hold that ended meanwhile is left as it is.
pub fn fulfil_hold(
    connection: &mut DbConnection,
    hold: &HoldRow,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    holds::close(connection, hold, "fulfilled", now.naive_utc(), by)?;
    Ok(())
}

/// Takes a copy back: closes its open loan (found by barcode), fines a
/// late return, takes the copy for the first hold waiting for it, enqueues
/// the events and remembers the answer. A copy that is not on loan changes
/// nothing here: the caller looks it up and goes on with
/// [`record_scan_not_on_loan`]. Run inside `Db::write`.
pub fn record_checkin(
    connection: &mut DbConnection,
    copy_barcode: &str,
    at: CheckInAt<'_>,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CheckInOutcome, Error> {
    let checked_in_by = at.by;
    if let Some(answer) = previous_check_in(connection, request_id)? {
        return Ok(CheckInOutcome::Repeated(answer));
    }
    let Some(mut loan) = db::open_loan_for_barcode(connection, copy_barcode)? else {
        return Ok(not_on_loan());
    };
    if at.schools.is_some_and(|schools| !schools.contains(&loan.school_id)) {
        return Err(school_not_allowed().into());
    }
    let returned_at = now.naive_utc();
    let rule = HistoryRule::from_stored(&loan.history_retention, loan.history_days);
    let anonymize_after = rule.anonymize_after(returned_at);
    // A copy declared lost or claimed returned is not fined for lateness:
    // the lost fees (refunded now) or the claim stand for it.
    let marked = loan.lost_at.is_some() || loan.claimed_returned_at.is_some();
    let late = if marked { Lateness::default() } else { lateness_of(connection, &loan, now, at.zone)? };
    let suspended_until = late.suspended_until.map(day_text);
    let closing = db::Closing {
        returned_at,
        checked_in_by,
        anonymize_after,
        suspended_until: suspended_until.as_deref(),
    };
    if !db::close_loan(connection, &loan.id, closing)? {
        // Another station checked the copy in between our read and our
        // update (PostgreSQL); perhaps it was this request, retried.
        if let Some(answer) = previous_check_in(connection, request_id)? {
            return Ok(CheckInOutcome::Repeated(answer));
        }
        return Ok(not_on_loan());
    }
    loan.returned_at = Some(returned_at);
    loan.checked_in_by = Some(checked_in_by.to_owned());
    loan.anonymize_after = anonymize_after;
    loan.suspended_until.clone_from(&suspended_until);
    let was_overdue = is_overdue(utc(loan.due_at), now);
    let event = events::loan_returned(ids::new_id(), &loan, was_overdue, at.damage.map(|damage| damage.note));
    outbox::enqueue(connection, &event, &loan.copy_id, &LOAN_SUBSCRIBERS, returned_at)?;
    if loan.lost_at.is_some() {
        ledger::refund_lost_price(connection, &loan.id, checked_in_by, returned_at)?;
    }
    let damage = match at.damage.filter(|damage| damage.fee > 0) {
        Some(damage) => {
            let fee = damage_fee(&loan, damage, checked_in_by, returned_at);
            ledger::charge(connection, &fee)?;
            Some(convert::fee(&fee, &[]))
        }
        None => None,
    };
    // The fine is charged after the receipt event, so a notice of the
    // return goes out before the notice of what it cost. A fee is a debt,
    // not loan history: it names the reader even when the loan forgets them.
    let fine = if late.fine > 0 {
        let fee = overdue_fine(&loan, &late, returned_at);
        ledger::charge(connection, &fee)?;
        Some(convert::fee(&fee, &[]))
    } else {
        None
    };
    // A reader waiting for the title gets the copy: on the hold shelf
    // here, or in transit to their pickup school.
    let copy = CopyAt {
        id: &loan.copy_id,
        barcode: &loan.copy_barcode,
        title_id: &loan.title_id,
        school_id: &loan.school_id,
        item_type: &loan.item_type,
    };
    let hold = hold_shelf::trap(connection, copy, now, at.zone)?;
    if rule.anonymizes_at_return() {
        // "Never keep": the loan forgets its reader as it closes. The
        // receipt event above still goes out first (the notice is made and
        // then purged), so consumers see one consistent order.
        anonymize(connection, &mut loan, returned_at)?;
    }
    let answer = CheckInResponse {
        was_on_loan: true,
        loan: Some(convert::loan(&loan, now)),
        fine,
        open_days_late: i32::try_from(late.open_days).unwrap_or(i32::MAX),
        suspended_until: suspended_until.unwrap_or_default(),
        hold: hold.map(|hold| convert::hold(&hold, 0)),
        damage,
    };
    remember(connection, CHECK_IN, request_id, &answer, returned_at)?;
    Ok(CheckInOutcome::Returned(answer))
}

/// Who takes a copy back, and for which schools.
#[derive(Debug, Clone, Copy)]
pub struct CheckInAt<'a> {
    /// The staff member or reader checking in.
    pub by: &'a str,
    /// The schools whose loans they may close (`None`: every school).
    pub schools: Option<&'a [String]>,
    /// The schools' time zone, in which late days are counted.
    pub zone: Tz,
    /// Set when the copy came back damaged.
    pub damage: Option<Damage<'a>>,
}

/// A copy that came back damaged.
#[derive(Debug, Clone, Copy)]
pub struct Damage<'a> {
    /// What is damaged.
    pub note: &'a str,
    /// The fee charged for it (0: none).
    pub fee: i64,
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
    let due_at = utc(loan.due_at);
    if !is_overdue(due_at, now) {
        return Ok(Lateness::default());
    }
    let Some(rule_id) = &loan.rule_id else {
        return Ok(Lateness::default());
    };
    let Some((rule, _)) = rules::find_rule(connection, rule_id, loan.rule_version)? else {
        return Ok(Lateness::default());
    };
    let calendar = calendars::load_calendar(connection, &loan.school_id)?
        .map(|stored| stored.calendar)
        .unwrap_or_default();
    Ok(fines::lateness(due_at, now, zone, &calendar, &rule.terms))
}

/// The fee for a copy that came back damaged.
fn damage_fee(loan: &LoanRow, damage: Damage<'_>, by: &str, at: NaiveDateTime) -> FeeRow {
    FeeRow {
        id: ids::new_id(),
        reader_id: loan.reader_id.clone(),
        school_id: loan.school_id.clone(),
        loan_id: loan.id.clone(),
        kind: "damaged".to_owned(),
        amount: damage.fee,
        outstanding: damage.fee,
        copy_barcode: loan.copy_barcode.clone(),
        title: loan.title.clone(),
        reader_class_id: loan.reader_class_id.clone(),
        reader_grade: loan.reader_grade,
        note: damage.note.to_owned(),
        created_by: by.to_owned(),
        created_at: at,
    }
}

/// The overdue fine of a loan returned late.
fn overdue_fine(loan: &LoanRow, late: &Lateness, at: NaiveDateTime) -> FeeRow {
    FeeRow {
        id: ids::new_id(),
        reader_id: loan.reader_id.clone(),
        school_id: loan.school_id.clone(),
        loan_id: loan.id.clone(),
        kind: "overdue".to_owned(),
        amount: late.fine,
        outstanding: late.fine,
        copy_barcode: loan.copy_barcode.clone(),
        title: loan.title.clone(),
        reader_class_id: loan.reader_class_id.clone(),
        reader_grade: loan.reader_grade,
        note: format!("{} open days late, due {}", late.open_days, loan.due_date),
        created_by: CHARGED_BY_CIRCULATION.to_owned(),
        created_at: at,
    }
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

/// A scanned copy that is not on loan. The caller goes on with
/// [`record_scan_not_on_loan`], which remembers the answer.
fn not_on_loan() -> CheckInOutcome {
    CheckInOutcome::NotOnLoan(CheckInResponse { was_on_loan: false, ..Default::default() })
}

/// A copy checked in that was not on loan (`copy`, as the catalog knows
/// it, or `None` if it does not): a copy in transit for a hold arrives at
/// its pickup school; a copy on the open shelf that a waiting hold can use
/// (the pull list) is taken for it; anything else changes nothing. Run
/// inside `Db::write`; remembers the answer.
pub fn record_scan_not_on_loan(
    connection: &mut DbConnection,
    copy: Option<CopyAt<'_>>,
    at: CheckInAt<'_>,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CheckInOutcome, Error> {
    if let Some(answer) = previous_check_in(connection, request_id)? {
        return Ok(CheckInOutcome::Repeated(answer));
    }
    let covers =
        |school_id: &str| at.schools.is_none_or(|schools| schools.iter().any(|school| school == school_id));
    let mut hold = None;
    if let Some(copy) = copy {
        hold = match holds::hold_holding_copy(connection, copy.id)? {
            Some(held) if held.status == "in_transit" && covers(&held.pickup_school_id) => {
                hold_shelf::arrive(connection, &held, now, at.zone)?
            }
            Some(_) => None,
            None if covers(copy.school_id) => hold_shelf::trap(connection, copy, now, at.zone)?,
            None => None,
        };
    }
    let answer = CheckInResponse {
        was_on_loan: false,
        hold: hold.map(|hold| convert::hold(&hold, 0)),
        ..Default::default()
    };
    remember(connection, CHECK_IN, request_id, &answer, now.naive_utc())?;
    Ok(CheckInOutcome::NotOnLoan(answer))
}

/// The stored check-out answer for `request_id`, if any.
pub fn previous_check_out(
    connection: &mut DbConnection,
    request_id: Option<&str>,
) -> Result<Option<CheckOutResponse>, Error> {
    Ok(previous(connection, CHECK_OUT, request_id)?)
}

fn previous_check_in(
    connection: &mut DbConnection,
    request_id: Option<&str>,
) -> Result<Option<CheckInResponse>, Error> {
    Ok(previous(connection, CHECK_IN, request_id)?)
}
