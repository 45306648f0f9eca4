//! Check-out, top to bottom: who is at the counter and where, the scanned
//! reader and copy (asked of the reader and catalog services), what the
//! rules say (`policy::eligibility`), and the one write transaction that
//! lends the copy. Between judging and writing, another desk may have lent
//! the copy, lent to the same reader, or a hold may have taken the copy;
//! the transaction checks those again before it writes. The explain call
//! judges exactly as check-out does, and lends nothing.

use chrono::{DateTime, Utc};
use diesel::Connection as _;
use lectern_common::Error;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_common::idempotency::{Answer, Idempotent};
use lectern_common::outbox;
use lectern_core::access::Access;
use lectern_core::identity::{Principal, Role};
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::{self as pb, CheckOutExplanation, CheckOutResponse};

use crate::context::Circulation;
use crate::convert;
use crate::db::holds::{self, HoldRow};
use crate::db::{self, LoanRow, calendars, fees, rules};
use crate::desk::{Counter, Desk, not_for_this_reader};
use crate::events::{self, LOAN_SUBSCRIBERS};
use crate::policy::borrower::{Borrower, Item};
use crate::policy::calendar::{SchoolCalendar, parse_day};
use crate::policy::due::{self, Due};
use crate::policy::eligibility::{
    self, Case, HeldFor, HoldsOnCopy, OpenLoan, Standing, Verdict, already_on_loan, at_other_school,
    taken_for_other,
};
use crate::policy::holds as line;
use crate::policy::rule::Rule;

/// The operation name under which check-out answers are remembered.
const CHECK_OUT: &str = "circulation.CheckOut";

/// A check-out, as the desk asked for it.
#[derive(Debug, Clone)]
struct CheckOut {
    pub card_barcode: String,
    pub copy_barcode: String,
    pub request_id: Option<String>,
    /// When the loan happened, for a loan recorded after the fact.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Lend past the reader's blocks for this reason (empty: do not).
    pub override_reason: String,
    /// The desk's school, if the request named it.
    pub desk_school_id: String,
}

impl CheckOut {
    /// The request's fields, checked.
    fn from_request(request: pb::CheckOutRequest) -> Result<Self, FieldError> {
        Ok(Self {
            card_barcode: validate::barcode("reader_card_barcode", &request.reader_card_barcode)?,
            copy_barcode: validate::barcode("copy_barcode", &request.copy_barcode)?,
            request_id: validate::request_id("request_id", &request.request_id)?,
            occurred_at: request
                .occurred_at
                .as_ref()
                .map(|time| lectern_core::time::timestamp_field("occurred_at", time))
                .transpose()?,
            override_reason: validate::optional_text("override_reason", &request.override_reason, 500)?,
            desk_school_id: request.desk_school_id,
        })
    }
}

/// Lends a copy: the use case behind `LoanService/CheckOut`.
pub async fn check_out(
    circulation: &Circulation,
    caller: &Principal,
    request: pb::CheckOutRequest,
) -> Result<Answer<CheckOutResponse>, Error> {
    let request = CheckOut::from_request(request)?;
    let desk = Desk::of(caller, &request.desk_school_id)?;
    if desk.counter == Counter::ReturnBox {
        return Err(not_for_this_reader("sign the reader in at this device first").into());
    }
    let now = circulation.now();
    let checked_out_at = eligibility::loan_time(request.occurred_at, now)?;
    let overriding = !request.override_reason.is_empty();
    if overriding && (desk.counter == Counter::SelfService || !caller.is_staff_from(Role::Librarian)) {
        return Err(Refusal::new(
            Reason::OverrideNotAllowed,
            "only a librarian at the desk may lend past a reader's blocks",
        )
        .into());
    }
    let once = Idempotent::new(CHECK_OUT, request.request_id.clone());
    let lent = once
        .call(&circulation.db, async {
            let bearer = lookup_token(circulation, caller, desk.counter).await?;
            let assessment =
                assess(circulation, &bearer, request.card_barcode, request.copy_barcode, checked_out_at)
                    .await?;
            let Assessment { reader, copy, school_id, rule, calendar, verdict, fulfils, holding, .. } =
                assessment;
            if desk.counter == Counter::SelfService && reader.id != caller.subject_id {
                return Err(not_for_this_reader("this device is signed in for another reader").into());
            }
            // The loan belongs to the copy's library, and is made at its
            // desk, or at the desk where the copy waits for this reader.
            if let Ok(copy) = &copy {
                let here = desk.school_for(&copy.school_id);
                caller.require_school(here)?;
                let picked_up_here = holding.as_ref().is_some_and(|hold| hold.pickup_school_id == here);
                if copy.school_id != here && !picked_up_here {
                    return Err(at_other_school(&copy.barcode, &copy.school_id).into());
                }
            }
            // The rules apply as of when the loan happened (a loan recorded
            // after the fact is judged by the card's validity on that day).
            if let Some(refusal) = verdict.first_refusal(overriding) {
                return Err(refusal.clone().into());
            }
            let copy = copy?;
            let (due, _) =
                due::due_under(rule.terms.loan_period, checked_out_at, circulation.time_zone, &calendar);
            let overridden = (overriding && verdict.blocks().next().is_some()).then(|| Overridden {
                reason: request.override_reason.clone(),
                blocks: convert::blocks_to_stored(verdict.blocks()),
            });
            let loan = NewLoan {
                reader: &reader,
                copy: &copy,
                school_id: &school_id,
                checked_out_at,
                due,
                checked_out_by: &caller.subject_id,
                rule: &rule,
                overridden,
                now,
            }
            .row();
            // An override lends past the limits too, so they are not judged again.
            let limits = (!overriding).then_some(rule);
            let once = once.clone();
            circulation
                .db
                .write(move |connection| {
                    once.run(connection, now.naive_utc(), |connection| {
                        lend(connection, &loan, limits.as_ref(), fulfils.as_ref(), now)
                    })
                })
                .await
        })
        .await?;
    if let Some(loan) = lent.fresh().and_then(|answer| answer.loan.as_ref()) {
        circulation.relay.wake();
        crate::counters::checked_out(&loan.school_id);
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
    Ok(lent)
}

/// Which rule applies and why, and what a check-out would answer now: the
/// use case behind `LoanService/ExplainCheckOut`.
pub async fn explain_check_out(
    circulation: &Circulation,
    caller: &Principal,
    request: pb::ExplainCheckOutRequest,
) -> Result<CheckOutExplanation, Error> {
    caller.require(Access::STAFF)?;
    let card_barcode = validate::barcode("reader_card_barcode", &request.reader_card_barcode)?;
    let copy_barcode = validate::barcode("copy_barcode", &request.copy_barcode)?;
    let now = circulation.now();
    let zone = circulation.time_zone;
    let assessment = assess(circulation, &caller.token, card_barcode, copy_barcode, now).await?;
    let Assessment { copy, school_id, rule, why, outranked, standing, calendar, verdict, .. } = assessment;
    caller.require_school(&school_id)?;
    let first = verdict.first_refusal(false);
    let (due, due_how) = due::due_under(rule.terms.loan_period, now, zone, &calendar);
    let item_type = copy.as_ref().map(|copy| copy.item_type.as_str()).unwrap_or_default();
    let count = |count: usize| i32::try_from(count).unwrap_or(i32::MAX);
    Ok(CheckOutExplanation {
        rule: Some(convert::rule(&rule)),
        why,
        outranked: outranked.iter().map(convert::rule).collect(),
        would_lend: first.is_none(),
        refusal_reason: first.map(|refusal| refusal.reason.as_str_name().to_owned()).unwrap_or_default(),
        refusal_message: first.map(|refusal| refusal.message.clone()).unwrap_or_default(),
        blocks: verdict.blocks().map(|block| block.reason.as_str_name().to_owned()).collect(),
        due_date: due.date_text(),
        due_how,
        loans: count(standing.loans.len()),
        loans_of_item_type: count(standing.loans_of(item_type)),
        longest_overdue_days: i32::try_from(standing.longest_overdue_days(now, zone)).unwrap_or(i32::MAX),
        unpaid_fees: standing.unpaid_fees,
    })
}

/// The token to look the reader up with: staff's own (so the reader
/// service checks their schools), or circulation's for a reader at a
/// self-service device, who is checked here instead.
async fn lookup_token(
    circulation: &Circulation,
    caller: &Principal,
    counter: Counter,
) -> Result<String, Error> {
    match counter {
        Counter::Desk => Ok(caller.token.clone()),
        Counter::SelfService => circulation.service_token().await,
        Counter::ReturnBox => Err(not_for_this_reader("sign the reader in at this device first").into()),
    }
}

/// A scanned reader and copy, judged for a loan.
#[derive(Debug)]
struct Assessment {
    reader: Borrower,
    copy: Result<Item, Refusal>,
    /// The lending school (the reader's, if the copy is unknown).
    school_id: String,
    rule: Rule,
    why: String,
    outranked: Vec<Rule>,
    standing: Standing,
    calendar: SchoolCalendar,
    verdict: Verdict,
    /// The reader's own hold a loan of the copy fills, if any.
    fulfils: Option<HoldRow>,
    /// The hold the copy is taken for (hold shelf or transit), if any.
    holding: Option<HoldRow>,
}

/// Looks up a scanned reader (with `reader_bearer`) and copy at the same
/// time, and judges a loan of it at `at`: the rule that applies, the
/// reader's standing, holds on the copy, and every problem in the desk's
/// order. An unknown reader refuses at once; an unknown copy is judged in
/// its turn, after the reader's blocks.
async fn assess(
    circulation: &Circulation,
    reader_bearer: &str,
    card_barcode: String,
    copy_barcode: String,
    at: DateTime<Utc>,
) -> Result<Assessment, Error> {
    let (reader, copy) = tokio::join!(
        circulation.reader_by_card(reader_bearer, card_barcode),
        circulation.copy_by_barcode(copy_barcode.clone()),
    );
    let reader = convert::borrower(&reader?);
    let copy = copy?
        .map(|copy| convert::item(&copy))
        .ok_or_else(|| Refusal::new(Reason::CopyNotFound, format!("no copy has barcode {copy_barcode}")));
    // The lending school's rules and calendar; with an unknown copy, the
    // reader's school stands in for the blocks.
    let school_id = copy.as_ref().map_or(reader.school_id.clone(), |copy| copy.school_id.clone());
    let item_type = copy.as_ref().ok().map(|copy| copy.item_type.clone());
    let copy_ids = copy.as_ref().ok().map(|copy| (copy.id.clone(), copy.title_id.clone()));
    let (reader_id, category, lookup_school) =
        (reader.id.clone(), reader.category.clone(), school_id.clone());
    let (calendar, applicable, standing, open_loan, (holding, queue)) = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            let calendar = calendars::calendar_of(connection, &lookup_school)?;
            let applicable =
                rules::applicable_rule(connection, &lookup_school, &category, item_type.as_deref())?;
            let standing = standing_of(connection, &reader_id)?;
            let (open_loan, holds_on_copy) = match copy_ids {
                Some((copy_id, title_id)) => (
                    db::open_loan_for_copy(connection, &copy_id)?,
                    (
                        holds::hold_holding_copy(connection, &copy_id)?,
                        holds::open_holds_of_title(connection, &title_id)?,
                    ),
                ),
                None => (None, (None, Vec::new())),
            };
            Ok((calendar, applicable, standing, open_loan, holds_on_copy))
        })
        .await?;
    // Holds: a copy taken for someone else's hold is theirs; one taken for
    // this reader, or a place at the head of the line, is lent and fills
    // the hold; otherwise readers ahead in line need a copy each.
    let own = |hold: &HoldRow| hold.reader_id.as_deref() == Some(reader.id.as_str());
    let taken_for_other = holding.as_ref().filter(|hold| !own(hold)).map(held_for);
    let mut fulfils = holding.as_ref().filter(|hold| own(hold)).cloned();
    let mut waiting = None;
    if let (Ok(lent), None) = (&copy, &taken_for_other) {
        let ahead = if fulfils.is_some() { 0 } else { line::others_ahead(&queue, &lent.id, &reader.id) };
        if ahead > 0 {
            let on_shelves = circulation
                .copies_of_title(&lent.title_id, None)
                .await?
                .iter()
                .filter(|copy| crate::holds::on_open_shelf(copy))
                .count();
            waiting = Some((ahead, on_shelves));
        }
        if fulfils.is_none() {
            fulfils = line::own_waiting(&queue, &lent.id, &reader.id).cloned();
        }
    }
    let open_loan = open_loan.as_ref().map(open_loan_of);
    let verdict = eligibility::assess(Case {
        reader: &reader,
        copy: copy.as_ref(),
        rule: &applicable.rule,
        standing: &standing,
        open_loan: open_loan.as_ref(),
        holds: HoldsOnCopy { taken_for_other: taken_for_other.as_ref(), waiting },
        at,
        zone: circulation.time_zone,
    });
    Ok(Assessment {
        reader,
        copy,
        school_id,
        rule: applicable.rule,
        why: applicable.why,
        outranked: applicable.outranked,
        standing,
        calendar,
        verdict,
        fulfils,
        holding,
    })
}

/// The reader's loans, unpaid fees and suspension: what the automatic
/// blocks and the loan limits are judged on (check-out, the desk's summary).
pub(crate) fn standing_of(connection: &mut DbConnection, reader_id: &str) -> Result<Standing, Error> {
    let loans = db::open_loans_of_reader(connection, reader_id)?;
    let (_, unpaid_fees) = fees::unpaid(connection, reader_id)?;
    let suspended_until = db::suspended_until(connection, reader_id)?;
    Ok(Standing {
        loans: loans
            .into_iter()
            .map(|(item_type, due_at)| (item_type, lectern_core::time::utc(due_at)))
            .collect(),
        unpaid_fees,
        suspended_until: suspended_until.and_then(|day| parse_day(&day)),
    })
}

/// A copy's open loan, as the rules read it.
fn open_loan_of(loan: &LoanRow) -> OpenLoan {
    OpenLoan { id: loan.id.clone(), copy_barcode: loan.copy_barcode.clone(), due_date: loan.due_date.clone() }
}

/// A hold a copy was taken for, as the rules read it.
fn held_for(hold: &HoldRow) -> HeldFor {
    HeldFor { hold_id: hold.id.clone(), on_hold_shelf: hold.status == "ready" }
}

/// Lends a copy, in the check-out's write transaction: judges again what
/// may have changed since the check-out was judged (a hold took the copy;
/// another desk lent to the same reader, with `limits` the rule whose
/// limits apply; another desk lent the copy), stores the loan, fills the
/// reader's hold and enqueues `loan.checked_out`.
fn lend(
    connection: &mut DbConnection,
    loan: &LoanRow,
    limits: Option<&Rule>,
    fulfils: Option<&HoldRow>,
    now: DateTime<Utc>,
) -> Result<CheckOutResponse, Error> {
    if let Some(hold) = holds::hold_holding_copy(connection, &loan.copy_id)?
        && hold.reader_id != loan.reader_id
    {
        return Err(taken_for_other(&loan.copy_barcode, &held_for(&hold)).into());
    }
    if let (Some(rule), Some(reader_id)) = (limits, &loan.reader_id) {
        db::lock_reader_for_lending(connection, reader_id)?;
        let loans = db::open_loans_of_reader(connection, reader_id)?;
        if let Some(reached) =
            eligibility::loan_limits(&loans, Some(&loan.item_type), rule).into_iter().next()
        {
            return Err(reached.into());
        }
    }
    if let Some(open) = db::open_loan_for_copy(connection, &loan.copy_id)? {
        return Err(already_on_loan(&open_loan_of(&open)).into());
    }
    // On PostgreSQL a station lending the same copy at the same moment also
    // passes the check above; the unique index stops the second insert. The
    // insert runs in a savepoint so the transaction can still read which
    // loan won.
    match connection.transaction(|connection| db::insert_loan(connection, loan)) {
        Ok(()) => {}
        Err(error) if unique_violation_on(&error, "copy_id") => {
            let refusal = match db::open_loan_for_copy(connection, &loan.copy_id)? {
                Some(open) => already_on_loan(&open_loan_of(&open)),
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
    if let Some(hold) = fulfils {
        // A hold that ended meanwhile is left as it is.
        holds::close(connection, hold, "fulfilled", now.naive_utc(), &loan.checked_out_by)?;
    }
    Ok(CheckOutResponse { loan: Some(convert::loan(loan, now)) })
}

/// Who lends what, when: everything a new loan records.
#[derive(Debug, Clone)]
struct NewLoan<'a> {
    reader: &'a Borrower,
    copy: &'a Item,
    /// The lending school: the copy's.
    school_id: &'a str,
    checked_out_at: DateTime<Utc>,
    due: Due,
    /// The staff member at the desk, or the reader at a device (subject id).
    checked_out_by: &'a str,
    /// The rule version the loan is made under.
    rule: &'a Rule,
    /// The blocks a librarian lent past, if any.
    overridden: Option<Overridden>,
    /// When the row is written.
    now: DateTime<Utc>,
}

/// A librarian's decision to lend past blocks, as the loan keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Overridden {
    /// Why, in the librarian's words.
    reason: String,
    /// The blocks lent past, as stored.
    blocks: String,
}

impl NewLoan<'_> {
    /// The loan row, with the reader's category, class and grade as they
    /// are today, for reports that must not change when the reader does,
    /// and the category's history rule, which decides when the returned
    /// loan stops naming the reader.
    fn row(&self) -> LoanRow {
        let (history_retention, history_days) = self.reader.history.to_stored();
        LoanRow {
            id: ids::new_id(),
            reader_id: Some(self.reader.id.clone()),
            copy_id: self.copy.id.clone(),
            copy_barcode: self.copy.barcode.clone(),
            title_id: self.copy.title_id.clone(),
            title: self.copy.title.clone(),
            school_id: self.school_id.to_owned(),
            checked_out_at: self.checked_out_at.naive_utc(),
            due_at: self.due.at.naive_utc(),
            due_date: self.due.date_text(),
            returned_at: None,
            reader_category: self.reader.category.clone(),
            reader_class_id: self.reader.class_id.clone(),
            reader_grade: self.reader.grade,
            checked_out_by: self.checked_out_by.to_owned(),
            checked_in_by: None,
            created_at: self.now.naive_utc(),
            history_retention: history_retention.to_owned(),
            history_days,
            anonymize_after: None,
            anonymized_at: None,
            item_type: self.copy.item_type.clone(),
            rule_id: Some(self.rule.id.clone()),
            rule_version: Some(self.rule.version),
            override_reason: self.overridden.as_ref().map(|overridden| overridden.reason.clone()),
            overridden_by: self.overridden.as_ref().map(|_| self.checked_out_by.to_owned()),
            overridden_blocks: self.overridden.as_ref().map(|overridden| overridden.blocks.clone()),
            suspended_until: None,
            renewals: 0,
            lost_at: None,
            claimed_returned_at: None,
            classification: classification_of(&self.copy.call_number),
        }
    }
}

/// The class number of a call number: the part before the book number
/// ("I287.45/C12" → "I287.45"); empty for an empty call number.
fn classification_of(call_number: &str) -> String {
    call_number.split('/').next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests;
