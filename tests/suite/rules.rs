//! Circulation rules through the gateway: librarians and the district set
//! rules for their scope, the most specific one decides a loan, limits and
//! overdue copies block borrowing, a librarian may lend past a block with a
//! reason, and the explain call tells the desk why. Loans remember the rule
//! version they were made under.

use chrono::Duration;
use lectern_core::clock::Clock as _;
use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::CreateCopyRequest;
use lectern_proto::circulation::v1::{
    CheckOutRequest, CirculationRule, CreateCirculationRuleRequest, DeleteCirculationRuleRequest,
    ExplainCheckOutRequest, GetCirculationRuleRequest, GetLoanRequest, ListCirculationRulesRequest, Loan,
    LoanPeriodUnit, UpdateCirculationRuleRequest,
};
use lectern_proto::reader::v1::{CreateReaderBlockRequest, StaffRole};
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer};

const DISTRICT_DEFAULT: &str = "00000000-0000-7000-8000-000000000001";

fn checkout(card: &str, copy: &str) -> CheckOutRequest {
    CheckOutRequest { reader_card_barcode: card.into(), copy_barcode: copy.into(), ..Default::default() }
}

fn explain(card: &str, copy: &str) -> ExplainCheckOutRequest {
    ExplainCheckOutRequest { reader_card_barcode: card.into(), copy_barcode: copy.into() }
}

/// A rule with the district default's usual terms for `school_id`,
/// `reader_category` and `item_type` ("" for any).
fn rule(school_id: &str, reader_category: &str, item_type: &str) -> CirculationRule {
    CirculationRule {
        school_id: school_id.into(),
        reader_category: reader_category.into(),
        item_type: item_type.into(),
        loanable: true,
        loan_period_unit: LoanPeriodUnit::Days.into(),
        loan_period: 14,
        renewals: 1,
        renewal_period_days: 14,
        hold_shelf_days: 7,
        max_holds: 5,
        ..Default::default()
    }
}

fn create(rule: CirculationRule) -> CreateCirculationRuleRequest {
    CreateCirculationRuleRequest { rule: Some(rule), request_id: String::new() }
}

fn ids(rules: &[CirculationRule]) -> Vec<&str> {
    rules.iter().map(|rule| rule.id.as_str()).collect()
}

#[tokio::test]
async fn the_most_specific_rule_decides_and_the_desk_can_ask_why() {
    let suite = TestSuite::start().await;
    let school = suite.school("RULE-PRI", "规则小学").await;
    let other = suite.school("RULE-MID", "规则中学").await;
    suite.student(&school, "R500001").await;
    let blocked = suite.student(&school, "R500002").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    for (barcode, item_type) in [
        ("C500001", "book"),
        ("C500002", "book"),
        ("C500003", "book"),
        ("C500004", "book"),
        ("P500001", "picture_book"),
        ("F500001", "reference"),
    ] {
        suite
            .catalog()
            .create_copy(suite.admin(CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: barcode.into(),
                school_id: school.id.clone(),
                item_type: item_type.into(),
                ..Default::default()
            }))
            .await
            .expect("copy added");
    }
    let librarian = suite.staff("rule.librarian", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("rule.assistant", StaffRole::Assistant, &[&school]).await;
    let stranger = suite.staff("rule.stranger", StaffRole::Librarian, &[&other]).await;

    // At first only the district default is in force, and it decides.
    let listed = suite
        .rules()
        .list_circulation_rules(bearer(
            ListCirculationRulesRequest { school_id: school.id.clone() },
            &assistant,
        ))
        .await
        .expect("staff read the rules")
        .into_inner()
        .rules;
    assert_eq!(ids(&listed), [DISTRICT_DEFAULT]);
    assert!(listed[0].district_default);
    assert_eq!((listed[0].loan_period, listed[0].max_loans), (14, None));
    let why = suite
        .loans()
        .explain_check_out(bearer(explain("R500001", "C500001"), &assistant))
        .await
        .expect("the desk asks")
        .into_inner();
    assert_eq!(why.rule.as_ref().map(|rule| rule.id.as_str()), Some(DISTRICT_DEFAULT));
    assert!(why.would_lend && why.blocks.is_empty(), "{why:?}");
    assert!(why.why.contains("district default"), "{}", why.why);
    assert_eq!(why.due_how, "14 days");

    // Who may set which rules.
    let students = rule(&school.id, "student", "");
    assert_refused(
        suite.rules().create_circulation_rule(bearer(create(rule("", "", "reference")), &librarian)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        suite.rules().create_circulation_rule(bearer(create(students.clone()), &stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_refused(
        suite.rules().create_circulation_rule(bearer(create(students.clone()), &assistant)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_invalid(
        suite
            .rules()
            .create_circulation_rule(bearer(
                create(CirculationRule { loan_period: 0, ..students.clone() }),
                &librarian,
            ))
            .await,
        "rule.loan_period",
    );

    // The school's librarian: students borrow 2 books for 7 days, and not
    // while a book is overdue more than 3 days; reference books stay in.
    let student_rule = CirculationRule {
        name: "学生".into(),
        loan_period: 7,
        max_loans: Some(2),
        block_when_overdue_days: Some(3),
        ..students.clone()
    };
    let request_id = lectern_core::ids::new_id();
    let created = suite
        .rules()
        .create_circulation_rule(bearer(
            CreateCirculationRuleRequest { rule: Some(student_rule.clone()), request_id: request_id.clone() },
            &librarian,
        ))
        .await
        .expect("the librarian sets a rule for the school")
        .into_inner();
    assert_eq!((created.version, created.max_loans, created.district_default), (1, Some(2), false));
    let retried = suite
        .rules()
        .create_circulation_rule(bearer(
            CreateCirculationRuleRequest { rule: Some(student_rule.clone()), request_id },
            &librarian,
        ))
        .await
        .expect("a retry answers as the first call")
        .into_inner();
    assert_eq!(retried, created);
    assert_refused(
        suite.rules().create_circulation_rule(bearer(create(student_rule.clone()), &librarian)).await,
        Code::AlreadyExists,
        Reason::RuleScopeTaken,
    );
    let reference = suite
        .rules()
        .create_circulation_rule(bearer(
            create(CirculationRule { loanable: false, ..rule(&school.id, "", "reference") }),
            &librarian,
        ))
        .await
        .expect("reference rule")
        .into_inner();
    let picture_books = suite
        .rules()
        .create_circulation_rule(
            suite.admin(create(CirculationRule { loan_period: 21, ..rule("", "", "picture_book") })),
        )
        .await
        .expect("the district admin sets a district rule")
        .into_inner();
    let listed = suite
        .rules()
        .list_circulation_rules(bearer(
            ListCirculationRulesRequest { school_id: school.id.clone() },
            &assistant,
        ))
        .await
        .expect("listed")
        .into_inner()
        .rules;
    assert_eq!(ids(&listed), [reference.id.as_str(), &created.id, &picture_books.id, DISTRICT_DEFAULT]);
    let district_only = suite
        .rules()
        .list_circulation_rules(bearer(ListCirculationRulesRequest::default(), &stranger))
        .await
        .expect("district rules")
        .into_inner()
        .rules;
    assert_eq!(ids(&district_only), [picture_books.id.as_str(), DISTRICT_DEFAULT]);

    // A book: the student rule, 7 days, remembered on the loan.
    let first = suite
        .loans()
        .check_out(bearer(checkout("R500001", "C500001"), &librarian))
        .await
        .expect("first loan")
        .into_inner()
        .loan
        .unwrap();
    let today = suite.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    assert_eq!(first.due_date, (today + Duration::days(7)).format("%Y-%m-%d").to_string());
    assert_eq!((first.rule_id.as_str(), first.rule_version), (created.id.as_str(), 1));
    assert_eq!(first.item_type, "book");
    assert_eq!(first.r#override, None);
    // A reference book: school and item type outrank school and category.
    assert_refused(
        suite.loans().check_out(bearer(checkout("R500001", "F500001"), &librarian)).await,
        Code::FailedPrecondition,
        Reason::CopyNotLoanable,
    );
    let why = suite
        .loans()
        .explain_check_out(bearer(explain("R500001", "F500001"), &assistant))
        .await
        .expect("explained")
        .into_inner();
    assert_eq!(why.rule.map(|rule| rule.id), Some(reference.id.clone()));
    assert_eq!(ids(&why.outranked), [created.id.as_str(), DISTRICT_DEFAULT]);
    assert_eq!((why.would_lend, why.refusal_reason.as_str()), (false, "COPY_NOT_LOANABLE"));

    // The limit: a second book, then a third is refused and explained.
    suite.loans().check_out(bearer(checkout("R500001", "C500002"), &librarian)).await.expect("second loan");
    assert_refused(
        suite.loans().check_out(bearer(checkout("R500001", "C500003"), &librarian)).await,
        Code::FailedPrecondition,
        Reason::LoanLimitReached,
    );
    let why = suite
        .loans()
        .explain_check_out(bearer(explain("R500001", "C500003"), &assistant))
        .await
        .expect("explained")
        .into_inner();
    assert_eq!((why.loans, why.loans_of_item_type), (2, 2));
    assert_eq!(why.blocks, ["LOAN_LIMIT_REACHED"]);
    assert!(why.refusal_message.contains("2"), "{}", why.refusal_message);

    // Only a librarian lends past it, with a reason kept on the loan.
    let overriding = |by: &str| {
        bearer(CheckOutRequest { override_reason: "班主任担保".into(), ..checkout("R500001", "C500003") }, by)
    };
    assert_refused(
        suite.loans().check_out(overriding(&assistant)).await,
        Code::PermissionDenied,
        Reason::OverrideNotAllowed,
    );
    let third: Loan = suite
        .loans()
        .check_out(overriding(&librarian))
        .await
        .expect("the librarian lends past the limit")
        .into_inner()
        .loan
        .unwrap();
    let kept = third.r#override.expect("the override is on the loan");
    assert_eq!(
        (kept.reason.as_str(), kept.blocks.as_slice()),
        ("班主任担保", ["LOAN_LIMIT_REACHED".to_owned()].as_slice())
    );
    assert!(!kept.by.is_empty());

    // A new version: 5 books. A change made to the old version is refused.
    let changed = suite
        .rules()
        .update_circulation_rule(bearer(
            UpdateCirculationRuleRequest {
                rule: Some(CirculationRule {
                    id: created.id.clone(),
                    version: 1,
                    max_loans: Some(5),
                    ..student_rule.clone()
                }),
                request_id: String::new(),
            },
            &librarian,
        ))
        .await
        .expect("the librarian changes the rule")
        .into_inner();
    assert_eq!((changed.version, changed.max_loans), (2, Some(5)));
    assert_refused(
        suite
            .rules()
            .update_circulation_rule(bearer(
                UpdateCirculationRuleRequest {
                    rule: Some(CirculationRule {
                        id: created.id.clone(),
                        version: 1,
                        ..student_rule.clone()
                    }),
                    request_id: String::new(),
                },
                &librarian,
            ))
            .await,
        Code::Aborted,
        Reason::RuleVersionChanged,
    );
    assert_invalid(
        suite
            .rules()
            .update_circulation_rule(bearer(
                UpdateCirculationRuleRequest {
                    rule: Some(CirculationRule {
                        id: created.id.clone(),
                        version: 2,
                        reader_category: "teacher".into(),
                        ..student_rule.clone()
                    }),
                    request_id: String::new(),
                },
                &librarian,
            ))
            .await,
        "rule.school_id",
    );
    // The first loan still names version 1, which still reads as it was.
    let loan = suite
        .loans()
        .get_loan(suite.admin(GetLoanRequest { id: first.id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(loan.rule_version, 1);
    let version_one = suite
        .rules()
        .get_circulation_rule(bearer(
            GetCirculationRuleRequest { id: created.id.clone(), version: 1 },
            &assistant,
        ))
        .await
        .expect("an old version")
        .into_inner();
    assert_eq!((version_one.version, version_one.max_loans), (1, Some(2)));

    // A book lent 15 days ago for 7 days is 8 days overdue: the next loan
    // is refused, even of another item type under another rule's period.
    let at = suite.clock.now() - Duration::days(15);
    suite
        .loans()
        .check_out(bearer(
            CheckOutRequest {
                occurred_at: Some(prost_types::Timestamp { seconds: at.timestamp(), nanos: 0 }),
                ..checkout("R500001", "C500004")
            },
            &librarian,
        ))
        .await
        .expect("a loan recorded after the fact");
    let refused = assert_refused(
        suite.loans().check_out(bearer(checkout("R500001", "P500001"), &librarian)).await,
        Code::FailedPrecondition,
        Reason::ReaderHasOverdue,
    );
    assert!(refused.message().contains("8 days"), "{}", refused.message());

    // Retired, the student rule gives way to the district's picture-book rule.
    assert_refused(
        suite
            .rules()
            .delete_circulation_rule(suite.admin(DeleteCirculationRuleRequest {
                id: DISTRICT_DEFAULT.into(),
                request_id: String::new(),
            }))
            .await,
        Code::FailedPrecondition,
        Reason::RuleIsDistrictDefault,
    );
    assert_refused(
        suite
            .rules()
            .delete_circulation_rule(bearer(
                DeleteCirculationRuleRequest { id: created.id.clone(), request_id: String::new() },
                &stranger,
            ))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    let retired = suite
        .rules()
        .delete_circulation_rule(bearer(
            DeleteCirculationRuleRequest { id: created.id.clone(), request_id: String::new() },
            &librarian,
        ))
        .await
        .expect("retired")
        .into_inner();
    assert_eq!(retired.rule.map(|rule| rule.version), Some(2));
    assert_refused(
        suite
            .rules()
            .delete_circulation_rule(bearer(
                DeleteCirculationRuleRequest { id: created.id.clone(), request_id: String::new() },
                &librarian,
            ))
            .await,
        Code::NotFound,
        Reason::RuleNotFound,
    );
    let picture_book = suite
        .loans()
        .check_out(bearer(checkout("R500001", "P500001"), &librarian))
        .await
        .expect("no block under the district rules")
        .into_inner()
        .loan
        .unwrap();
    assert_eq!(picture_book.rule_id, picture_books.id);
    assert_eq!(picture_book.due_date, (today + Duration::days(21)).format("%Y-%m-%d").to_string());

    // A librarian's block comes before an unknown copy; past it, the copy.
    suite
        .readers()
        .create_reader_block(suite.admin(CreateReaderBlockRequest {
            reader_id: blocked.id.clone(),
            reason: "请先到图书馆".into(),
            ..Default::default()
        }))
        .await
        .expect("blocked");
    assert_refused(
        suite.loans().check_out(bearer(checkout("R500002", "NO-SUCH-COPY"), &librarian)).await,
        Code::FailedPrecondition,
        Reason::ReaderBlocked,
    );
    assert_refused(
        suite
            .loans()
            .check_out(bearer(
                CheckOutRequest {
                    override_reason: "已与班主任确认".into(),
                    ..checkout("R500002", "NO-SUCH-COPY")
                },
                &librarian,
            ))
            .await,
        Code::NotFound,
        Reason::CopyNotFound,
    );
}
