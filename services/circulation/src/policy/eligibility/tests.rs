//! The check-out decision, without a server or a database. The reader and
//! the copy are written as the reader and catalog services answer them and
//! read as check-out reads them (`convert`).

use lectern_proto::catalog::v1::{Copy, CopyStatus};
use lectern_proto::reader::v1::{Reader, ReaderBlock, ReaderStatus};

use super::*;
use crate::convert;
use crate::policy::fixtures::{ZONE, morning};
use crate::policy::rule::{Scope, Terms};

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

fn block(reason: &str) -> ReaderBlock {
    ReaderBlock { id: "block-1".into(), reason: reason.into(), ..Default::default() }
}

/// The reasons of every problem, in order.
fn reasons(reader: &Reader, copy: &Copy, terms: Terms, standing: &Standing, day: &str) -> Vec<Reason> {
    let rule = rule(terms);
    let case = Case {
        reader: &convert::borrower(reader),
        copy: Ok(&convert::item(copy)),
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
            (item_type.to_string(), crate::policy::due::end_of_local_day(due_day, ZONE))
        })
        .collect();
    Standing { loans, unpaid_fees: 0, suspended_until: None }
}

#[test]
fn an_active_reader_may_borrow_an_available_copy() {
    assert_eq!(reasons(&reader(), &copy(), Terms::plain(), &Standing::default(), "2026-03-01"), []);
    let no_expiry = Reader { expires_on: String::new(), ..reader() };
    assert_eq!(reasons(&no_expiry, &copy(), Terms::plain(), &Standing::default(), "2099-01-01"), []);
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
        reasons(&reader, &damaged, Terms::plain(), &Standing::default(), "2026-03-01"),
        [Reason::ReaderInactive]
    );
}

#[test]
fn an_expired_card_is_refused_the_day_after_its_last_day() {
    let reader = Reader { expires_on: "2026-07-31".into(), blocks: vec![block("lost book")], ..reader() };
    // The last valid day itself is fine (the block is what refuses then).
    assert_eq!(
        first(&reader, &copy(), Terms::plain(), &Standing::default(), "2026-07-31"),
        Some(Reason::ReaderBlocked)
    );
    let rule = rule(Terms::plain());
    let standing = Standing::default();
    let copy = copy();
    let verdict = assess(Case {
        reader: &convert::borrower(&reader),
        copy: Ok(&convert::item(&copy)),
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
    let reader =
        Reader { blocks: vec![block("book damaged, talk to the librarian"), block("second")], ..reader() };
    let terms = Terms {
        max_loans: Some(2),
        max_loans_of_item_type: Some(1),
        block_when_overdue_days: Some(7),
        block_when_fees_over: Some(1_000),
        ..Terms::plain()
    };
    let standing =
        Standing { unpaid_fees: 1_001, ..on_loan(&[("book", "2026-02-01"), ("dvd", "2026-03-20")]) };
    let damaged = Copy { status: CopyStatus::Damaged.into(), ..copy() };
    let rule = rule(terms);
    let verdict = assess(Case {
        reader: &convert::borrower(&reader),
        copy: Ok(&convert::item(&damaged)),
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
        convert::blocks_to_stored(verdict.blocks()),
        "READER_BLOCKED,LOAN_LIMIT_REACHED,LOAN_LIMIT_REACHED,READER_HAS_OVERDUE,READER_OWES_FEES"
    );
}

#[test]
fn a_suspension_blocks_up_to_and_including_its_last_day() {
    let last_day = NaiveDate::parse_from_str("2026-03-05", "%Y-%m-%d").unwrap();
    let suspended = Standing { suspended_until: Some(last_day), ..Standing::default() };
    assert_eq!(
        first(&reader(), &copy(), Terms::plain(), &suspended, "2026-03-05"),
        Some(Reason::ReaderSuspended)
    );
    assert_eq!(first(&reader(), &copy(), Terms::plain(), &suspended, "2026-03-06"), None);
}

#[test]
fn limits_count_up_to_and_including_the_maximum() {
    let terms = Terms { max_loans: Some(2), ..Terms::plain() };
    let one = on_loan(&[("book", "2026-03-10")]);
    assert_eq!(first(&reader(), &copy(), terms.clone(), &one, "2026-03-01"), None);
    let two = on_loan(&[("book", "2026-03-10"), ("dvd", "2026-03-10")]);
    assert_eq!(first(&reader(), &copy(), terms, &two, "2026-03-01"), Some(Reason::LoanLimitReached));
    // The item type limit counts only copies of the scanned copy's type.
    let per_type = Terms { max_loans_of_item_type: Some(1), ..self::Terms::plain() };
    let dvd = on_loan(&[("dvd", "2026-03-10")]);
    assert_eq!(first(&reader(), &copy(), per_type.clone(), &dvd, "2026-03-01"), None);
    let book = on_loan(&[("book", "2026-03-10")]);
    assert_eq!(first(&reader(), &copy(), per_type, &book, "2026-03-01"), Some(Reason::LoanLimitReached));
}

#[test]
fn overdue_blocks_only_beyond_the_allowed_days_and_fees_only_over_the_limit() {
    let terms = Terms { block_when_overdue_days: Some(3), block_when_fees_over: Some(500), ..Terms::plain() };
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
    assert_eq!(first(&reader(), &copy(), self::Terms::plain(), &standing, "2026-03-01"), None);
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
        let rule = rule(Terms::plain());
        let standing = Standing::default();
        let verdict = assess(Case {
            reader: &convert::borrower(&reader()),
            copy: Ok(&convert::item(&copy)),
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
    let reference = Terms { loanable: false, ..Terms::plain() };
    assert_eq!(
        first(&reader(), &copy(), reference, &Standing::default(), "2026-03-01"),
        Some(Reason::CopyNotLoanable)
    );
}

#[test]
fn an_unknown_copy_comes_after_the_blocks_and_a_lent_copy_last() {
    let reader = Reader { blocks: vec![block("see the librarian")], ..reader() };
    let rule = rule(Terms::plain());
    let standing = Standing::default();
    let not_found = Refusal::new(Reason::CopyNotFound, "no copy has barcode X");
    let case = Case {
        reader: &convert::borrower(&reader),
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

    let copy = convert::item(&copy());
    let open = OpenLoan { id: "loan-0".into(), copy_barcode: "C0001".into(), due_date: "2026-03-15".into() };
    let verdict = assess(Case { copy: Ok(&copy), open_loan: Some(&open), ..case });
    assert_eq!(verdict.first_refusal(true).unwrap().reason, Reason::CopyAlreadyOnLoan);
}

#[test]
fn holds_of_others_come_last() {
    let rule = rule(Terms::plain());
    let standing = Standing::default();
    let copy = copy();
    let reader = reader();
    let case = Case {
        reader: &convert::borrower(&reader),
        copy: Ok(&convert::item(&copy)),
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
