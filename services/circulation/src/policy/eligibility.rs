//! Whether a reader may take a copy home now. The decision is made from
//! the reader and the copy as their services answered the desk's scans,
//! the circulation rule that applies and the reader's standing (loans,
//! fees); each broken rule is one refusal with a reason code, checked in a
//! fixed order so the desk always shows the same first problem. Plain
//! functions, no I/O.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::FieldError;

use crate::policy::borrower::{Borrower, Item, ItemStatus};
use crate::policy::calendar::day_text;
use crate::policy::due::{is_overdue, local_date};
use crate::policy::rule::Rule;

/// How far ahead of the server's clock a recorded loan time may be (desk
/// clocks drift a little).
const FUTURE_TOLERANCE: Duration = Duration::minutes(1);
/// How far back a loan may be recorded after the fact.
const BACKDATE_LIMIT: Duration = Duration::days(365);

/// A reader's copies on loan and unpaid fees: what the loan limits and the
/// automatic blocks are judged on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// The item type and due time of each copy on loan.
    pub loans: Vec<(String, DateTime<Utc>)>,
    /// Fees not paid nor waived, in minor units.
    pub unpaid_fees: i64,
    /// The last day of a suspension for late returns, if any.
    pub suspended_until: Option<NaiveDate>,
}

impl Standing {
    /// Copies on loan of `item_type`.
    pub fn loans_of(&self, item_type: &str) -> usize {
        self.loans.iter().filter(|(loan_type, _)| loan_type == item_type).count()
    }

    /// How many days the longest-overdue copy is past its due day at `now`
    /// (0 if none is overdue). Days are the school's calendar days.
    pub fn longest_overdue_days(&self, now: DateTime<Utc>, zone: Tz) -> i64 {
        let today = local_date(now, zone);
        self.loans
            .iter()
            .filter(|(_, due_at)| is_overdue(*due_at, now))
            .map(|(_, due_at)| (today - local_date(*due_at, zone)).num_days().max(1))
            .max()
            .unwrap_or(0)
    }
}

/// Everything a check-out is judged on.
#[derive(Debug, Clone, Copy)]
pub struct Case<'a> {
    /// The scanned reader, as the reader service answered.
    pub reader: &'a Borrower,
    /// The scanned copy, or why it was not found.
    pub copy: Result<&'a Item, &'a Refusal>,
    /// The rule that applies.
    pub rule: &'a Rule,
    /// The reader's loans and fees.
    pub standing: &'a Standing,
    /// The copy's open loan, if it is on loan.
    pub open_loan: Option<&'a OpenLoan>,
    /// What holds say about the copy.
    pub holds: HoldsOnCopy<'a>,
    /// When the loan would happen.
    pub at: DateTime<Utc>,
    /// The school's time zone.
    pub zone: Tz,
}

/// A copy's open loan: what the desk is told when it scans a copy that is
/// out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLoan {
    pub id: String,
    pub copy_barcode: String,
    /// "YYYY-MM-DD".
    pub due_date: String,
}

/// Another reader's hold a copy was taken for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldFor {
    /// The hold's id.
    pub hold_id: String,
    /// On the hold shelf (else in transit to the pickup school).
    pub on_hold_shelf: bool,
}

/// What holds say about lending a copy to a reader.
#[derive(Debug, Clone, Copy, Default)]
pub struct HoldsOnCopy<'a> {
    /// The hold of another reader the copy was taken for (hold shelf or
    /// transit), if any.
    pub taken_for_other: Option<&'a HeldFor>,
    /// Readers in line ahead of this one for such a copy, and the copies
    /// of the title on open shelves in the district (this one included).
    pub waiting: Option<(usize, usize)>,
}

/// Everything that stands in the way of a check-out, in the order the desk
/// checks them. Blocks ([`is_block`]) may be lent past by a librarian;
/// the rest may not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub problems: Vec<Refusal>,
}

impl Verdict {
    /// The refusal the desk shows first; with `overriding`, blocks are
    /// passed over.
    pub fn first_refusal(&self, overriding: bool) -> Option<&Refusal> {
        self.problems.iter().find(|problem| !(overriding && is_block(problem.reason)))
    }

    /// The blocks among the problems.
    pub fn blocks(&self) -> impl Iterator<Item = &Refusal> {
        self.problems.iter().filter(|problem| is_block(problem.reason))
    }
}

/// Whether a refusal is a block a librarian may lend past: a librarian's
/// manual block, or one of the automatic blocks of the rule.
pub fn is_block(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::ReaderBlocked
            | Reason::ReaderSuspended
            | Reason::LoanLimitReached
            | Reason::ReaderHasOverdue
            | Reason::ReaderOwesFees
    )
}

/// Judges a check-out: the reader (inactive, expired, blocked by hand),
/// the automatic blocks (a suspension for late returns; the rule's loan
/// limits, overdue copies, unpaid fees), then the copy (unknown, not loanable by status or rule, on loan).
pub fn assess(case: Case<'_>) -> Verdict {
    let Case { reader, copy, rule, standing, open_loan, holds, at, zone } = case;
    let terms = &rule.terms;
    let mut problems = Vec::new();
    if let Some(refusal) = reader.card_refusal(at, zone) {
        problems.push(refusal);
        return Verdict { problems };
    }
    problems.extend(reader.block_refusal());
    if let Some(last_day) = standing.suspended_until.filter(|last_day| *last_day >= local_date(at, zone)) {
        let last_day = day_text(last_day);
        problems.push(
            Refusal::new(
                Reason::ReaderSuspended,
                format!("this reader may not borrow until after {last_day}, for returning books late"),
            )
            .with("suspended_until", last_day),
        );
    }
    problems.extend(loan_limits(&standing.loans, copy.ok().map(|copy| copy.item_type.as_str()), rule));
    let overdue_days = standing.longest_overdue_days(at, zone);
    if let Some(limit) = terms.block_when_overdue_days
        && overdue_days > i64::from(limit)
    {
        problems.push(
            Refusal::new(
                Reason::ReaderHasOverdue,
                format!(
                    "this reader has a copy overdue by {overdue_days} days; the rule allows borrowing only \
                     while none is overdue by more than {limit}"
                ),
            )
            .with("overdue_days", overdue_days.to_string())
            .with("limit_days", limit.to_string())
            .with("rule_id", rule.id.clone()),
        );
    }
    if let Some(limit) = terms.block_when_fees_over
        && standing.unpaid_fees > limit
    {
        problems.push(
            Refusal::new(
                Reason::ReaderOwesFees,
                format!(
                    "this reader owes {} in unpaid fees, over the rule's limit of {}",
                    money_text(standing.unpaid_fees),
                    money_text(limit)
                ),
            )
            .with("unpaid_fees", standing.unpaid_fees.to_string())
            .with("limit", limit.to_string())
            .with("rule_id", rule.id.clone()),
        );
    }
    let copy = match copy {
        Ok(copy) => copy,
        Err(not_found) => {
            problems.push(not_found.clone());
            return Verdict { problems };
        }
    };
    if let ItemStatus::NotLendable { described, name } = copy.status {
        problems.push(
            Refusal::new(
                Reason::CopyNotLoanable,
                format!("copy {} cannot be lent: it is {described}", copy.barcode),
            )
            .with("status", name),
        );
    } else if !terms.loanable {
        problems.push(
            Refusal::new(
                Reason::CopyNotLoanable,
                format!(
                    "copy {} cannot be lent: the circulation rule for it ({}) does not lend such items",
                    copy.barcode,
                    rule.scope.describe()
                ),
            )
            .with("rule_id", rule.id.clone())
            .with("item_type", copy.item_type.clone()),
        );
    }
    if let Some(open) = open_loan {
        problems.push(already_on_loan(open));
    }
    if let Some(hold) = holds.taken_for_other {
        problems.push(taken_for_other(&copy.barcode, hold));
    } else if let Some((ahead, on_shelves)) = holds.waiting
        && ahead > 0
        && on_shelves <= ahead
    {
        problems.push(
            Refusal::new(
                Reason::HeldForAnotherReader,
                format!(
                    "{ahead} readers are waiting for this title and no copy is spare ({on_shelves} on the shelves)"
                ),
            )
            .with("waiting", ahead.to_string()),
        );
    }
    Verdict { problems }
}

/// The refusal of a copy taken for another reader's hold.
pub fn taken_for_other(barcode: &str, hold: &HeldFor) -> Refusal {
    let where_ = if hold.on_hold_shelf { "on the hold shelf" } else { "in transit" };
    Refusal::new(
        Reason::HeldForAnotherReader,
        format!("copy {barcode} is {where_} for another reader's hold"),
    )
    .with("hold_id", hold.hold_id.clone())
}

/// The refusal for a copy that is already lent, naming the open loan.
pub fn already_on_loan(open: &OpenLoan) -> Refusal {
    Refusal::new(
        Reason::CopyAlreadyOnLoan,
        format!("copy {} is already on loan, due {}; check it in first", open.copy_barcode, open.due_date),
    )
    .with("loan_id", open.id.clone())
    .with("due_date", open.due_date.clone())
}

/// The refusal of a copy that belongs to another school than the desk
/// lending it (and waits on no hold shelf here for this reader).
pub fn at_other_school(barcode: &str, school_id: &str) -> Refusal {
    Refusal::new(
        Reason::CopyAtOtherSchool,
        format!(
            "copy {barcode} belongs to another school's library; it is lent there, or sent here for a hold"
        ),
    )
    .with("school_id", school_id)
}

/// The rule's limits on copies on loan, judged on the item types of the
/// reader's open `loans`, for one more copy of `item_type` (if known): the
/// total first, then the item type's.
pub fn loan_limits<T>(loans: &[(String, T)], item_type: Option<&str>, rule: &Rule) -> Vec<Refusal> {
    let terms = &rule.terms;
    let mut reached = Vec::new();
    if let Some(max) = terms.max_loans
        && loans.len() >= max as usize
    {
        reached.push(limit_reached(loans.len(), max, None, rule));
    }
    if let (Some(max), Some(item_type)) = (terms.max_loans_of_item_type, item_type) {
        let of_type = loans.iter().filter(|(loan_type, _)| loan_type == item_type).count();
        if of_type >= max as usize {
            reached.push(limit_reached(of_type, max, Some(item_type), rule));
        }
    }
    reached
}

fn limit_reached(loans: usize, max: u32, item_type: Option<&str>, rule: &Rule) -> Refusal {
    let message = match item_type {
        None => format!("this reader has {loans} copies on loan, as many as the rule allows ({max})"),
        Some(item_type) => format!(
            "this reader has {loans} copies of item type {item_type} on loan, as many as the rule allows ({max})"
        ),
    };
    let refusal = Refusal::new(Reason::LoanLimitReached, message)
        .with("loans", loans.to_string())
        .with("limit", max.to_string())
        .with("rule_id", rule.id.clone());
    match item_type {
        Some(item_type) => refusal.with("item_type", item_type),
        None => refusal,
    }
}

/// An amount in minor units as the desk reads it: "12.50".
pub fn money_text(minor_units: i64) -> String {
    let sign = if minor_units < 0 { "-" } else { "" };
    let minor_units = minor_units.unsigned_abs();
    format!("{sign}{}.{:02}", minor_units / 100, minor_units % 100)
}

/// The blocks a librarian lent past, as stored on the loan.
pub fn blocks_to_stored<'a>(blocks: impl Iterator<Item = &'a Refusal>) -> String {
    blocks.map(|block| block.reason.as_str_name()).collect::<Vec<_>>().join(",")
}

/// The stored blocks of a loan, as reason names.
pub fn blocks_from_stored(stored: Option<&str>) -> Vec<String> {
    stored.unwrap_or_default().split(',').filter(|name| !name.is_empty()).map(str::to_owned).collect()
}

/// When the loan happened: `occurred_at` for a loan recorded after the fact,
/// else `now`. It may not lie in the future (beyond clock drift) nor more
/// than a year back.
pub fn loan_time(
    occurred_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldError> {
    let Some(occurred_at) = occurred_at else {
        return Ok(now);
    };
    if occurred_at > now + FUTURE_TOLERANCE {
        return Err(FieldError::new("occurred_at", "must not be in the future"));
    }
    if occurred_at < now - BACKDATE_LIMIT {
        return Err(FieldError::new("occurred_at", "must not be more than 365 days ago"));
    }
    Ok(occurred_at)
}

#[cfg(test)]
mod tests;
