//! Lost, found, claimed returned, and due days set by hand, through the
//! gateway: a lost copy is charged at its price plus the rule's processing
//! fee; when it turns up its price is refunded, also what was already
//! paid; a reader's claim to have returned a book stops it blocking them;
//! a librarian moves a due day with a reason.

use chrono::Duration;
use lectern_core::clock::Clock as _;
use lectern_core::refusal::Reason;
use std::time::Duration as StdDuration;

use lectern_proto::catalog::v1::{CopyStatus, CreateCopyRequest, LookupCopyRequest, Money};
use lectern_proto::circulation::v1::{
    ChangeDueDateRequest, CheckInRequest, CirculationRule, ClaimReturnedRequest,
    CreateCirculationRuleRequest, DeclareLostRequest, FeeEntryKind, FeeKind, ListFeesRequest, LoanPeriodUnit,
    PayFeesRequest,
};
use lectern_proto::reader::v1::StaffRole;
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer, eventually, lent_days_ago};

#[tokio::test]
async fn lost_copies_are_charged_and_refunded_when_found() {
    let suite = TestSuite::start().await;
    let school = suite.school("LOST-PRI", "遗失小学").await;
    let reader = suite.student(&school, "R900001").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    for barcode in ["L900001", "L900002", "L900003", "L900004"] {
        suite
            .catalog()
            .create_copy(suite.admin(CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: barcode.into(),
                school_id: school.id.clone(),
                price: Some(Money { minor_units: 2_500, currency: "CNY".into() }),
                ..Default::default()
            }))
            .await
            .expect("copy");
    }
    let librarian = suite.staff("lost.librarian", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("lost.assistant", StaffRole::Assistant, &[&school]).await;
    suite
        .rules()
        .create_circulation_rule(bearer(
            CreateCirculationRuleRequest {
                rule: Some(CirculationRule {
                    school_id: school.id.clone(),
                    loanable: true,
                    loan_period_unit: LoanPeriodUnit::Days.into(),
                    loan_period: 14,
                    renewal_period_days: 14,
                    hold_shelf_days: 7,
                    lost_processing_fee: 500,
                    block_when_overdue_days: Some(7),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &librarian,
        ))
        .await
        .expect("rule");

    // Long overdue, then declared lost: price and processing fee.
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R900001", "L900001", 40), &librarian))
        .await
        .expect("lent");
    assert_refused(
        suite.loans().check_out(bearer(lent_days_ago(&suite, "R900001", "L900002", 0), &librarian)).await,
        Code::FailedPrecondition,
        Reason::ReaderHasOverdue,
    );
    let lost = suite
        .loans()
        .declare_lost(bearer(
            DeclareLostRequest { copy_barcode: "L900001".into(), ..Default::default() },
            &assistant,
        ))
        .await
        .expect("declared lost")
        .into_inner();
    assert!(lost.loan.as_ref().is_some_and(|loan| loan.lost_time.is_some() && loan.returned_at.is_none()));
    let charged: Vec<(i32, i64)> = lost.fees.iter().map(|fee| (fee.kind, fee.amount)).collect();
    assert_eq!(charged, [(FeeKind::Lost.into(), 2_500), (FeeKind::Processing.into(), 500)]);
    assert_refused(
        suite
            .loans()
            .declare_lost(bearer(
                DeclareLostRequest { copy_barcode: "L900001".into(), ..Default::default() },
                &librarian,
            ))
            .await,
        Code::FailedPrecondition,
        Reason::LoanAlreadyMarked,
    );
    // A lost copy no longer blocks its reader (its fees stand for it).
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R900001", "L900002", 0), &librarian))
        .await
        .expect("lends again");

    // The catalog hears of it: the copy is lost.
    let status_of = |barcode: &'static str| {
        let suite = &suite;
        async move {
            suite
                .catalog()
                .lookup_copy(suite.admin(LookupCopyRequest { barcode: barcode.into() }))
                .await
                .ok()
                .map(|copy| copy.into_inner().status())
        }
    };
    eventually(StdDuration::from_secs(20), "the copy to be lost in the catalog", || async {
        (status_of("L900001").await == Some(CopyStatus::Lost)).then_some(())
    })
    .await;

    // Part paid, then found: the price is refunded, paid part included;
    // the processing fee stands; no overdue fine.
    suite
        .fees()
        .pay_fees(bearer(
            PayFeesRequest { reader_id: reader.id.clone(), amount: 1_000, ..Default::default() },
            &assistant,
        ))
        .await
        .expect("paid");
    let found = suite
        .loans()
        .check_in(bearer(
            CheckInRequest {
                copy_barcode: "L900001".into(),
                request_id: String::new(),
                ..Default::default()
            },
            &assistant,
        ))
        .await
        .expect("found")
        .into_inner();
    assert!(found.was_on_loan && found.fine.is_none());
    let fees = suite
        .fees()
        .list_fees(bearer(
            ListFeesRequest { reader_id: reader.id.clone(), include_settled: true },
            &assistant,
        ))
        .await
        .expect("fees")
        .into_inner();
    assert_eq!(fees.balance, 500, "only the processing fee is owed");
    let price = fees.fees.iter().find(|fee| fee.kind == FeeKind::Lost as i32).expect("the price fee");
    let entries: Vec<(i32, i64)> = price.entries.iter().map(|entry| (entry.kind, entry.amount)).collect();
    assert_eq!(
        entries,
        [
            (FeeEntryKind::Payment.into(), 1_000),
            (FeeEntryKind::Waiver.into(), 1_500),
            (FeeEntryKind::Refund.into(), 1_000)
        ]
    );

    // Claimed returned: it stops blocking the reader.
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R900001", "L900003", 30), &librarian))
        .await
        .expect("lent long ago");
    assert_refused(
        suite.loans().check_out(bearer(lent_days_ago(&suite, "R900001", "L900004", 0), &librarian)).await,
        Code::FailedPrecondition,
        Reason::ReaderHasOverdue,
    );
    let claimed = suite
        .loans()
        .claim_returned(bearer(
            ClaimReturnedRequest { copy_barcode: "L900003".into(), ..Default::default() },
            &assistant,
        ))
        .await
        .expect("claim recorded")
        .into_inner();
    assert!(claimed.claimed_returned_time.is_some());
    let loan = suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R900001", "L900004", 0), &librarian))
        .await
        .expect("lends again")
        .into_inner()
        .loan
        .unwrap();

    // A librarian moves a due day, with a reason; an assistant may not.
    let today = suite.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let new_day = (today + Duration::days(30)).format("%Y-%m-%d").to_string();
    let change = ChangeDueDateRequest {
        loan_id: loan.id.clone(),
        due_date: new_day.clone(),
        reason: "暑假阅读".into(),
        request_id: String::new(),
    };
    assert_refused(
        suite.loans().change_due_date(bearer(change.clone(), &assistant)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_invalid(
        suite
            .loans()
            .change_due_date(bearer(
                ChangeDueDateRequest { due_date: "2020-01-01".into(), ..change.clone() },
                &librarian,
            ))
            .await,
        "due_date",
    );
    let moved = suite.loans().change_due_date(bearer(change, &librarian)).await.expect("moved").into_inner();
    assert_eq!(moved.due_date, new_day);

    // Back damaged: a fee, and the catalog marks the copy damaged.
    let damaged = suite
        .loans()
        .check_in(bearer(
            CheckInRequest {
                copy_barcode: "L900004".into(),
                damaged: true,
                damage_note: "封面撕破".into(),
                damage_fee: 800,
                ..Default::default()
            },
            &assistant,
        ))
        .await
        .expect("checked in damaged")
        .into_inner();
    assert_eq!(damaged.damage.map(|fee| (fee.kind, fee.amount)), Some((FeeKind::Damaged.into(), 800)));
    eventually(StdDuration::from_secs(20), "the copy to be damaged in the catalog", || async {
        (status_of("L900004").await == Some(CopyStatus::Damaged)).then_some(())
    })
    .await;
}
