//! Whether a reader may take a copy home now, and what a new loan records.
//! The decision is made from the reader and the copy as their services
//! answered the desk's scans, the circulation rule that applies and the
//! reader's standing (loans, fees); each broken rule is one refusal with a
//! reason code, checked in a fixed order so the desk always shows the same
//! first problem. Plain functions, no I/O.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use lectern_common::refusal::{Reason, Refusal};
use lectern_common::validate::FieldError;
use lectern_proto::catalog::v1::{Copy, CopyStatus};
use lectern_proto::reader::v1::{Reader, ReaderStatus};

use crate::calendar::day_text;
use crate::db::LoanRow;
use crate::db::holds::HoldRow;
use crate::due::{Due, is_overdue, local_date};
use crate::history::HistoryRule;
use crate::lending::already_on_loan;
use crate::policy::Rule;

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
    pub reader: &'a Reader,
    /// The scanned copy, or why it was not found.
    pub copy: Result<&'a Copy, &'a Refusal>,
    /// The rule that applies.
    pub rule: &'a Rule,
    /// The reader's loans and fees.
    pub standing: &'a Standing,
    /// The copy's open loan, if it is on loan.
    pub open_loan: Option<&'a LoanRow>,
    /// What holds say about the copy.
    pub holds: HoldsOnCopy<'a>,
    /// When the loan would happen.
    pub at: DateTime<Utc>,
    /// The school's time zone.
    pub zone: Tz,
}

/// What holds say about lending a copy to a reader.
#[derive(Debug, Clone, Copy, Default)]
pub struct HoldsOnCopy<'a> {
    /// The hold of another reader the copy was taken for (hold shelf or
    /// transit), if any.
    pub taken_for_other: Option<&'a HoldRow>,
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
    if reader.status() == ReaderStatus::Inactive {
        problems.push(Refusal::precondition(
            Reason::ReaderInactive,
            "this reader's record is inactive (left the school or graduated); they cannot borrow",
        ));
        return Verdict { problems };
    }
    if let Some(expired_on) = expiry(&reader.expires_on).filter(|last_day| *last_day < local_date(at, zone)) {
        let expired_on = day_text(expired_on);
        problems.push(
            Refusal::precondition(
                Reason::ReaderExpired,
                format!("this reader's card expired on {expired_on}; renew the card before lending"),
            )
            .with("expired_on", expired_on),
        );
        return Verdict { problems };
    }
    if let Some(block) = reader.blocks.first() {
        problems.push(
            Refusal::precondition(
                Reason::ReaderBlocked,
                format!("this reader is blocked from borrowing: {}", block.reason),
            )
            .with("block_reason", block.reason.clone()),
        );
    }
    if let Some(last_day) = standing.suspended_until.filter(|last_day| *last_day >= local_date(at, zone)) {
        let last_day = day_text(last_day);
        problems.push(
            Refusal::precondition(
                Reason::ReaderSuspended,
                format!("this reader may not borrow until after {last_day}, for returning books late"),
            )
            .with("suspended_until", last_day),
        );
    }
    if let Some(max) = terms.max_loans
        && standing.loans.len() >= max as usize
    {
        problems.push(limit_reached(standing.loans.len(), max, None, rule));
    }
    if let (Some(max), Ok(copy)) = (terms.max_loans_of_item_type, copy) {
        let loans = standing.loans_of(&copy.item_type);
        if loans >= max as usize {
            problems.push(limit_reached(loans, max, Some(&copy.item_type), rule));
        }
    }
    let overdue_days = standing.longest_overdue_days(at, zone);
    if let Some(limit) = terms.block_when_overdue_days
        && overdue_days > i64::from(limit)
    {
        problems.push(
            Refusal::precondition(
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
            Refusal::precondition(
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
    let status = copy.status();
    if status != CopyStatus::Available {
        problems.push(
            Refusal::precondition(
                Reason::CopyNotLoanable,
                format!("copy {} cannot be lent: it is {}", copy.barcode, describe(status)),
            )
            .with("status", status.as_str_name()),
        );
    } else if !terms.loanable {
        problems.push(
            Refusal::precondition(
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
            Refusal::precondition(
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
pub fn taken_for_other(barcode: &str, hold: &HoldRow) -> Refusal {
    let where_ = if hold.status == "ready" { "on the hold shelf" } else { "in transit" };
    Refusal::precondition(
        Reason::HeldForAnotherReader,
        format!("copy {barcode} is {where_} for another reader's hold"),
    )
    .with("hold_id", hold.id.clone())
}

fn limit_reached(loans: usize, max: u32, item_type: Option<&str>, rule: &Rule) -> Refusal {
    let message = match item_type {
        None => format!("this reader has {loans} copies on loan, as many as the rule allows ({max})"),
        Some(item_type) => format!(
            "this reader has {loans} copies of item type {item_type} on loan, as many as the rule allows ({max})"
        ),
    };
    let refusal = Refusal::precondition(Reason::LoanLimitReached, message)
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

/// The card's last valid day. The reader service checks the format when it
/// stores the date, so an unreadable value is treated as "no expiry" rather
/// than turning every loan of that reader away over a data fault.
fn expiry(expires_on: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(expires_on.trim(), "%Y-%m-%d").ok()
}

/// A copy status in words a librarian uses.
fn describe(status: CopyStatus) -> &'static str {
    match status {
        CopyStatus::Unspecified => "of unknown status",
        CopyStatus::InProcess => "still being processed",
        CopyStatus::Available => "available",
        CopyStatus::Damaged => "reported damaged",
        CopyStatus::InRepair => "in repair",
        CopyStatus::Missing => "missing",
        CopyStatus::Lost => "lost",
        CopyStatus::Withdrawn => "withdrawn",
    }
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

/// Who lends what, when: everything a new loan records.
#[derive(Debug, Clone)]
pub struct NewLoan<'a> {
    /// The new loan's id.
    pub id: String,
    /// The borrowing reader, as looked up.
    pub reader: &'a Reader,
    /// The lent copy, as looked up.
    pub copy: &'a Copy,
    /// When the loan happened.
    pub checked_out_at: DateTime<Utc>,
    /// When it is due.
    pub due: Due,
    /// The staff member at the desk (subject id).
    pub checked_out_by: &'a str,
    /// The rule version the loan is made under.
    pub rule: &'a Rule,
    /// The blocks a librarian lent past, if any.
    pub overridden: Option<Overridden>,
    /// When the row is written.
    pub now: DateTime<Utc>,
}

/// The class number of a call number: the part before the book number
/// ("I287.45/C12" → "I287.45"); empty for an empty call number.
pub fn classification_of(call_number: &str) -> String {
    call_number.split('/').next().unwrap_or_default().trim().to_owned()
}

/// A librarian's decision to lend past blocks, as the loan keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    /// Why, in the librarian's words.
    pub reason: String,
    /// The blocks lent past, as stored (see [`blocks_to_stored`]).
    pub blocks: String,
}

impl NewLoan<'_> {
    /// The loan row, with the reader's category, class and grade as they
    /// are today, for reports that must not change when the reader does,
    /// and the category's history rule, which decides when the returned
    /// loan stops naming the reader.
    pub fn row(&self) -> LoanRow {
        let (history_retention, history_days) =
            HistoryRule::from_wire(self.reader.history_rule.as_ref()).to_stored();
        LoanRow {
            id: self.id.clone(),
            reader_id: Some(self.reader.id.clone()),
            copy_id: self.copy.id.clone(),
            copy_barcode: self.copy.barcode.clone(),
            title_id: self.copy.title_id.clone(),
            title: self.copy.title.clone(),
            school_id: self.copy.school_id.clone(),
            checked_out_at: self.checked_out_at.naive_utc(),
            due_at: self.due.at.naive_utc(),
            due_date: self.due.date_text(),
            returned_at: None,
            reader_category: self.reader.category.clone(),
            reader_class_id: Some(self.reader.class_id.clone()).filter(|id| !id.is_empty()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{LoanPeriod, Scope, Terms};
    use lectern_proto::reader::v1::ReaderBlock;

    const ZONE: Tz = chrono_tz::Asia::Shanghai;

    /// 08:00 on `day` in Shanghai.
    fn morning(day: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{day}T08:00:00+08:00")).unwrap().with_timezone(&Utc)
    }

    fn reader() -> Reader {
        Reader {
            id: "reader-1".into(),
            school_id: "school-1".into(),
            card_barcode: "R0001".into(),
            category: "student".into(),
            class_id: "class-1".into(),
            grade: 3,
            status: ReaderStatus::Active.into(),
            expires_on: "2027-07-31".into(),
            ..Default::default()
        }
    }

    fn copy() -> Copy {
        Copy {
            id: "copy-1".into(),
            title_id: "title-1".into(),
            barcode: "C0001".into(),
            school_id: "school-1".into(),
            status: CopyStatus::Available.into(),
            title: "草房子".into(),
            item_type: "book".into(),
            ..Default::default()
        }
    }

    fn rule(terms: Terms) -> Rule {
        Rule {
            id: "rule-1".into(),
            version: 3,
            scope: Scope { reader_category: Some("student".into()), ..Scope::default() },
            name: String::new(),
            terms,
            updated_by: "admin".into(),
            updated_at: chrono::NaiveDateTime::default(),
        }
    }

    fn terms() -> Terms {
        Terms {
            loanable: true,
            loan_period: LoanPeriod::Days(14),
            max_loans: None,
            max_loans_of_item_type: None,
            renewals: 1,
            renewal_period_days: 14,
            no_renewal_when_held: true,
            grace_days: 0,
            fine_per_open_day: 0,
            fine_cap: 0,
            suspension_days_per_overdue_day: 0,
            lost_processing_fee: 0,
            hold_shelf_days: 7,
            max_holds: 5,
            block_when_overdue_days: None,
            block_when_fees_over: None,
        }
    }

    fn block(reason: &str) -> ReaderBlock {
        ReaderBlock { id: "block-1".into(), reason: reason.into(), ..Default::default() }
    }

    /// The reasons of every problem, in order.
    fn reasons(reader: &Reader, copy: &Copy, terms: Terms, standing: &Standing, day: &str) -> Vec<Reason> {
        let rule = rule(terms);
        let case = Case {
            reader,
            copy: Ok(copy),
            rule: &rule,
            standing,
            open_loan: None,
            holds: HoldsOnCopy::default(),
            at: morning(day),
            zone: ZONE,
        };
        assess(case).problems.iter().map(|problem| problem.reason).collect()
    }

    fn first(reader: &Reader, copy: &Copy, terms: Terms, standing: &Standing, day: &str) -> Option<Reason> {
        reasons(reader, copy, terms, standing, day).first().copied()
    }

    /// A standing with copies of `item_type` due on the given days (end of day, Shanghai).
    fn on_loan(loans: &[(&str, &str)]) -> Standing {
        let loans = loans
            .iter()
            .map(|(item_type, due_day)| {
                let due_day = NaiveDate::parse_from_str(due_day, "%Y-%m-%d").unwrap();
                (item_type.to_string(), crate::due::end_of_local_day(due_day, ZONE))
            })
            .collect();
        Standing { loans, unpaid_fees: 0, suspended_until: None }
    }

    #[test]
    fn an_active_reader_may_borrow_an_available_copy() {
        assert_eq!(reasons(&reader(), &copy(), terms(), &Standing::default(), "2026-03-01"), []);
        let no_expiry = Reader { expires_on: String::new(), ..reader() };
        assert_eq!(reasons(&no_expiry, &copy(), terms(), &Standing::default(), "2099-01-01"), []);
    }

    #[test]
    fn an_inactive_reader_is_refused_first_and_alone() {
        let reader = Reader {
            status: ReaderStatus::Inactive.into(),
            expires_on: "2020-01-01".into(),
            blocks: vec![block("lost book")],
            ..reader()
        };
        let damaged = Copy { status: CopyStatus::Damaged.into(), ..copy() };
        assert_eq!(
            reasons(&reader, &damaged, terms(), &Standing::default(), "2026-03-01"),
            [Reason::ReaderInactive]
        );
    }

    #[test]
    fn an_expired_card_is_refused_the_day_after_its_last_day() {
        let reader = Reader { expires_on: "2026-07-31".into(), blocks: vec![block("lost book")], ..reader() };
        // The last valid day itself is fine (the block is what refuses then).
        assert_eq!(
            first(&reader, &copy(), terms(), &Standing::default(), "2026-07-31"),
            Some(Reason::ReaderBlocked)
        );
        let rule = rule(terms());
        let standing = Standing::default();
        let copy = copy();
        let verdict = assess(Case {
            reader: &reader,
            copy: Ok(&copy),
            rule: &rule,
            standing: &standing,
            open_loan: None,
            holds: HoldsOnCopy::default(),
            at: morning("2026-08-01"),
            zone: ZONE,
        });
        let refusal = verdict.first_refusal(true).unwrap();
        assert_eq!(refusal.reason, Reason::ReaderExpired, "an override does not lift an expired card");
        assert_eq!(refusal.metadata.get("expired_on").map(String::as_str), Some("2026-07-31"));
        assert!(refusal.message.contains("2026-07-31"));
    }

    #[test]
    fn the_blocks_come_in_order_before_the_copy_and_an_override_passes_them() {
        let reader = Reader {
            blocks: vec![block("book damaged, talk to the librarian"), block("second")],
            ..reader()
        };
        let terms = Terms {
            max_loans: Some(2),
            max_loans_of_item_type: Some(1),
            block_when_overdue_days: Some(7),
            block_when_fees_over: Some(1_000),
            ..terms()
        };
        let standing =
            Standing { unpaid_fees: 1_001, ..on_loan(&[("book", "2026-02-01"), ("dvd", "2026-03-20")]) };
        let damaged = Copy { status: CopyStatus::Damaged.into(), ..copy() };
        let rule = rule(terms);
        let verdict = assess(Case {
            reader: &reader,
            copy: Ok(&damaged),
            rule: &rule,
            standing: &standing,
            open_loan: None,
            holds: HoldsOnCopy::default(),
            at: morning("2026-03-01"),
            zone: ZONE,
        });
        let found: Vec<Reason> = verdict.problems.iter().map(|problem| problem.reason).collect();
        assert_eq!(
            found,
            [
                Reason::ReaderBlocked,
                Reason::LoanLimitReached,
                Reason::LoanLimitReached,
                Reason::ReaderHasOverdue,
                Reason::ReaderOwesFees,
                Reason::CopyNotLoanable,
            ]
        );
        assert_eq!(
            verdict.problems[0].metadata.get("block_reason").map(String::as_str),
            Some("book damaged, talk to the librarian")
        );
        assert_eq!(verdict.problems[2].metadata.get("item_type").map(String::as_str), Some("book"));
        // Due 1 February, seen on 1 March: 28 days overdue.
        assert_eq!(verdict.problems[3].metadata.get("overdue_days").map(String::as_str), Some("28"));
        assert!(verdict.problems[4].message.contains("10.01"), "{}", verdict.problems[4].message);
        assert_eq!(verdict.first_refusal(false).unwrap().reason, Reason::ReaderBlocked);
        assert_eq!(verdict.first_refusal(true).unwrap().reason, Reason::CopyNotLoanable);
        assert_eq!(
            blocks_to_stored(verdict.blocks()),
            "READER_BLOCKED,LOAN_LIMIT_REACHED,LOAN_LIMIT_REACHED,READER_HAS_OVERDUE,READER_OWES_FEES"
        );
    }

    #[test]
    fn a_suspension_blocks_up_to_and_including_its_last_day() {
        let last_day = NaiveDate::parse_from_str("2026-03-05", "%Y-%m-%d").unwrap();
        let suspended = Standing { suspended_until: Some(last_day), ..Standing::default() };
        assert_eq!(
            first(&reader(), &copy(), terms(), &suspended, "2026-03-05"),
            Some(Reason::ReaderSuspended)
        );
        assert_eq!(first(&reader(), &copy(), terms(), &suspended, "2026-03-06"), None);
    }

    #[test]
    fn limits_count_up_to_and_including_the_maximum() {
        let terms = Terms { max_loans: Some(2), ..terms() };
        let one = on_loan(&[("book", "2026-03-10")]);
        assert_eq!(first(&reader(), &copy(), terms.clone(), &one, "2026-03-01"), None);
        let two = on_loan(&[("book", "2026-03-10"), ("dvd", "2026-03-10")]);
        assert_eq!(first(&reader(), &copy(), terms, &two, "2026-03-01"), Some(Reason::LoanLimitReached));
        // The item type limit counts only copies of the scanned copy's type.
        let per_type = Terms { max_loans_of_item_type: Some(1), ..self::terms() };
        let dvd = on_loan(&[("dvd", "2026-03-10")]);
        assert_eq!(first(&reader(), &copy(), per_type.clone(), &dvd, "2026-03-01"), None);
        let book = on_loan(&[("book", "2026-03-10")]);
        assert_eq!(first(&reader(), &copy(), per_type, &book, "2026-03-01"), Some(Reason::LoanLimitReached));
    }

    #[test]
    fn overdue_blocks_only_beyond_the_allowed_days_and_fees_only_over_the_limit() {
        let terms = Terms { block_when_overdue_days: Some(3), block_when_fees_over: Some(500), ..terms() };
        // Due 26 February: on 1 March it is 3 days overdue, allowed.
        let standing = on_loan(&[("book", "2026-02-26")]);
        assert_eq!(first(&reader(), &copy(), terms.clone(), &standing, "2026-03-01"), None);
        assert_eq!(
            first(&reader(), &copy(), terms.clone(), &standing, "2026-03-02"),
            Some(Reason::ReaderHasOverdue)
        );
        let owes = Standing { unpaid_fees: 500, ..Standing::default() };
        assert_eq!(first(&reader(), &copy(), terms.clone(), &owes, "2026-03-01"), None);
        let owes_more = Standing { unpaid_fees: 501, ..Standing::default() };
        assert_eq!(first(&reader(), &copy(), terms, &owes_more, "2026-03-01"), Some(Reason::ReaderOwesFees));
        // Without limits in the rule nothing blocks.
        let standing = Standing { unpaid_fees: 99_999, ..on_loan(&[("book", "2025-01-01")]) };
        assert_eq!(first(&reader(), &copy(), self::terms(), &standing, "2026-03-01"), None);
    }

    #[test]
    fn only_available_copies_of_loanable_rules_are_lent() {
        for status in [
            CopyStatus::Unspecified,
            CopyStatus::InProcess,
            CopyStatus::Damaged,
            CopyStatus::InRepair,
            CopyStatus::Missing,
            CopyStatus::Lost,
            CopyStatus::Withdrawn,
        ] {
            let copy = Copy { status: status.into(), ..copy() };
            let rule = rule(terms());
            let standing = Standing::default();
            let verdict = assess(Case {
                reader: &reader(),
                copy: Ok(&copy),
                rule: &rule,
                standing: &standing,
                open_loan: None,
                holds: HoldsOnCopy::default(),
                at: morning("2026-03-01"),
                zone: ZONE,
            });
            let refusal = verdict.first_refusal(false).unwrap();
            assert_eq!(refusal.reason, Reason::CopyNotLoanable);
            assert_eq!(refusal.metadata.get("status").map(String::as_str), Some(status.as_str_name()));
            assert!(refusal.message.contains("C0001"));
        }
        let reference = Terms { loanable: false, ..terms() };
        assert_eq!(
            first(&reader(), &copy(), reference, &Standing::default(), "2026-03-01"),
            Some(Reason::CopyNotLoanable)
        );
    }

    #[test]
    fn an_unknown_copy_comes_after_the_blocks_and_a_lent_copy_last() {
        let reader = Reader { blocks: vec![block("see the librarian")], ..reader() };
        let rule = rule(terms());
        let standing = Standing::default();
        let not_found = Refusal::precondition(Reason::CopyNotFound, "no copy has barcode X");
        let case = Case {
            reader: &reader,
            copy: Err(&not_found),
            rule: &rule,
            standing: &standing,
            open_loan: None,
            holds: HoldsOnCopy::default(),
            at: morning("2026-03-01"),
            zone: ZONE,
        };
        let verdict = assess(case);
        assert_eq!(verdict.first_refusal(false).unwrap().reason, Reason::ReaderBlocked);
        assert_eq!(verdict.first_refusal(true).unwrap().reason, Reason::CopyNotFound);

        let copy = copy();
        let now = morning("2026-03-01");
        let due = crate::due::due(now, 14, ZONE, &crate::calendar::SchoolCalendar::default());
        let open = NewLoan {
            id: "loan-0".into(),
            reader: &self::reader(),
            copy: &copy,
            checked_out_at: now,
            due,
            checked_out_by: "staff-1",
            rule: &rule,
            overridden: None,
            now,
        }
        .row();
        let verdict = assess(Case { copy: Ok(&copy), open_loan: Some(&open), ..case });
        assert_eq!(verdict.first_refusal(true).unwrap().reason, Reason::CopyAlreadyOnLoan);
    }

    #[test]
    fn holds_of_others_come_last() {
        let rule = rule(terms());
        let standing = Standing::default();
        let copy = copy();
        let reader = reader();
        let case = Case {
            reader: &reader,
            copy: Ok(&copy),
            rule: &rule,
            standing: &standing,
            open_loan: None,
            holds: HoldsOnCopy::default(),
            at: morning("2026-03-01"),
            zone: ZONE,
        };
        // Two readers ahead, two copies on the shelves: lending this one
        // would leave one for two.
        let short =
            assess(Case { holds: HoldsOnCopy { waiting: Some((2, 2)), ..HoldsOnCopy::default() }, ..case });
        assert_eq!(short.first_refusal(true).unwrap().reason, Reason::HeldForAnotherReader);
        let spare =
            assess(Case { holds: HoldsOnCopy { waiting: Some((2, 3)), ..HoldsOnCopy::default() }, ..case });
        assert_eq!(spare.problems, []);
        let nobody =
            assess(Case { holds: HoldsOnCopy { waiting: Some((0, 1)), ..HoldsOnCopy::default() }, ..case });
        assert_eq!(nobody.problems, []);
    }

    #[test]
    fn overdue_days_are_school_days_since_the_due_day() {
        let standing = on_loan(&[("book", "2026-03-01"), ("book", "2026-02-20")]);
        assert_eq!(standing.longest_overdue_days(morning("2026-03-01"), ZONE), 9);
        assert_eq!(on_loan(&[("book", "2026-03-01")]).longest_overdue_days(morning("2026-03-01"), ZONE), 0);
        assert_eq!(on_loan(&[("book", "2026-03-01")]).longest_overdue_days(morning("2026-03-02"), ZONE), 1);
    }

    #[test]
    fn a_loan_keeps_the_class_number_of_the_call_number() {
        assert_eq!(classification_of("I287.45/C12"), "I287.45");
        assert_eq!(classification_of(" TP311 "), "TP311");
        assert_eq!(classification_of(""), "");
    }

    #[test]
    fn money_reads_as_the_desk_writes_it() {
        assert_eq!(money_text(0), "0.00");
        assert_eq!(money_text(5), "0.05");
        assert_eq!(money_text(1_250), "12.50");
        assert_eq!(money_text(-300), "-3.00");
        assert_eq!(
            blocks_from_stored(Some("READER_BLOCKED,READER_OWES_FEES")),
            ["READER_BLOCKED", "READER_OWES_FEES"]
        );
        assert!(blocks_from_stored(None).is_empty());
    }

    #[test]
    fn loan_times_may_be_recorded_after_the_fact_but_not_ahead() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(loan_time(None, now), Ok(now));
        let yesterday = now - Duration::days(1);
        assert_eq!(loan_time(Some(yesterday), now), Ok(yesterday));
        let drift = now + Duration::seconds(30);
        assert_eq!(loan_time(Some(drift), now), Ok(drift));
        let ahead = loan_time(Some(now + Duration::minutes(2)), now).unwrap_err();
        assert_eq!(ahead.field, "occurred_at");
        assert!(loan_time(Some(now - Duration::days(366)), now).is_err());
        assert!(loan_time(Some(now - Duration::days(365)), now).is_ok());
    }

    #[test]
    fn a_new_loan_snapshots_the_reader_copy_rule_and_override() {
        let reader = Reader { class_id: String::new(), grade: 0, category: "teacher".into(), ..reader() };
        let copy = copy();
        let rule = rule(terms());
        let now = Utc::now();
        let due = crate::due::due(now, 14, ZONE, &crate::calendar::SchoolCalendar::default());
        let row = NewLoan {
            id: "loan-1".into(),
            reader: &reader,
            copy: &copy,
            checked_out_at: now,
            due,
            checked_out_by: "staff-1",
            rule: &rule,
            overridden: Some(Overridden {
                reason: "家长已赔书".into(), blocks: "READER_BLOCKED".into()
            }),
            now,
        }
        .row();
        assert_eq!(row.reader_class_id, None);
        assert_eq!(row.reader_category, "teacher");
        assert_eq!(row.title, "草房子");
        assert_eq!(row.school_id, "school-1");
        assert_eq!(row.item_type, "book");
        assert_eq!((row.rule_id.as_deref(), row.rule_version), (Some("rule-1"), Some(3)));
        assert_eq!(row.override_reason.as_deref(), Some("家长已赔书"));
        assert_eq!(row.overridden_by.as_deref(), Some("staff-1"));
        assert_eq!(row.overridden_blocks.as_deref(), Some("READER_BLOCKED"));
        assert_eq!(row.due_date, due.date_text());
        assert_eq!(row.returned_at, None);
        assert_eq!((row.history_retention.as_str(), row.history_days), ("keep", None));
    }
}
