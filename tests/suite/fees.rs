//! Fines and the fees ledger through the gateway: a late return is fined
//! by the loan's rule for the open days it was late (weekends do not
//! count), past the grace day and up to the cap; unpaid fees over the
//! rule's limit block borrowing; the desk charges a damaged book, takes
//! payments (oldest fee first, retried safely), and a librarian waives one
//! fee or a whole class's.

use chrono::{Datelike, Days, Weekday};
use lectern_core::clock::Clock as _;
use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    ChargeFeeRequest, CheckInRequest, CirculationRule, CreateCirculationRuleRequest, FeeEntryKind, FeeKind,
    GetReaderObligationsRequest, ListFeesRequest, LoanPeriodUnit, PayFeesRequest, SchoolCalendar,
    SetSchoolCalendarRequest, WaiveFeeRequest, WaiveFeesRequest,
};
use lectern_proto::reader::v1::{EraseReaderRequest, StaffRole};
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer, lent_days_ago};

fn check_in(copy: &str) -> CheckInRequest {
    CheckInRequest { copy_barcode: copy.into(), request_id: String::new(), ..Default::default() }
}

#[tokio::test]
async fn late_returns_are_fined_on_open_days_and_the_ledger_settles_them() {
    let suite = TestSuite::start().await;
    let school = suite.school("FEE-PRI", "罚款小学").await;
    let first = suite.student(&school, "R600001").await;
    let second = suite.student(&school, "R600002").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    for barcode in ["F600001", "F600002", "F600003", "F600004"] {
        suite.copy(&title, &school, barcode).await;
    }
    let librarian = suite.staff("fee.librarian", StaffRole::Librarian, &[&school]).await;
    let assistant = suite.staff("fee.assistant", StaffRole::Assistant, &[&school]).await;

    // Closed at weekends; 7-day loans, 0.10 per open day after one day of
    // grace, at most 0.50 a loan; over 0.20 unpaid blocks borrowing.
    let weekends =
        SchoolCalendar { school_id: school.id.clone(), closed_weekdays: vec![6, 7], ..Default::default() };
    suite
        .calendars()
        .set_school_calendar(bearer(
            SetSchoolCalendarRequest { calendar: Some(weekends), request_id: String::new() },
            &librarian,
        ))
        .await
        .expect("calendar");
    suite
        .rules()
        .create_circulation_rule(bearer(
            CreateCirculationRuleRequest {
                rule: Some(CirculationRule {
                    school_id: school.id.clone(),
                    loanable: true,
                    loan_period_unit: LoanPeriodUnit::Days.into(),
                    loan_period: 7,
                    renewal_period_days: 7,
                    grace_days: 1,
                    fine_per_open_day: 10,
                    fine_cap: 50,
                    hold_shelf_days: 7,
                    block_when_fees_over: Some(20),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &librarian,
        ))
        .await
        .expect("rule");

    // Lent 11 days ago for 7 days: the due day is 4 days ago, moved off a
    // weekend if need be. The fine counts the open days after it.
    let loan = suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R600001", "F600001", 11), &librarian))
        .await
        .expect("lent")
        .into_inner()
        .loan
        .unwrap();
    let due_day = chrono::NaiveDate::parse_from_str(&loan.due_date, "%Y-%m-%d").unwrap();
    let today = suite.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let open_days = (1..)
        .map(|ahead| due_day + Days::new(ahead))
        .take_while(|day| *day <= today)
        .filter(|day| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun))
        .count();
    let expected_fine = ((open_days.saturating_sub(1) as i64) * 10).min(50);
    let returned = suite
        .loans()
        .check_in(bearer(check_in("F600001"), &assistant))
        .await
        .expect("checked in")
        .into_inner();
    assert_eq!(returned.open_days_late, open_days as i32);
    assert_eq!(returned.fine.as_ref().map_or(0, |fine| fine.amount), expected_fine);
    assert!(returned.suspended_until.is_empty());

    // A fine under the limit does not block; make sure there is one over it.
    let fees = suite
        .fees()
        .list_fees(bearer(
            ListFeesRequest { reader_id: first.id.clone(), include_settled: false },
            &assistant,
        ))
        .await
        .expect("fees")
        .into_inner();
    assert_eq!(fees.balance, expected_fine);
    let damaged = suite
        .fees()
        .charge_fee(bearer(
            ChargeFeeRequest {
                loan_id: loan.id.clone(),
                kind: FeeKind::Damaged.into(),
                amount: 300,
                note: "封面撕破".into(),
                request_id: String::new(),
            },
            &assistant,
        ))
        .await
        .expect("the desk charges a damaged book")
        .into_inner();
    assert_eq!((damaged.outstanding, damaged.copy_barcode.as_str()), (300, "F600001"));
    assert_invalid(
        suite
            .fees()
            .charge_fee(bearer(
                ChargeFeeRequest {
                    loan_id: loan.id.clone(),
                    kind: FeeKind::Overdue.into(),
                    amount: 5,
                    ..Default::default()
                },
                &assistant,
            ))
            .await,
        "kind",
    );
    let owed = expected_fine + 300;
    let refused = assert_refused(
        suite.loans().check_out(bearer(lent_days_ago(&suite, "R600001", "F600002", 0), &librarian)).await,
        Code::FailedPrecondition,
        Reason::ReaderOwesFees,
    );
    assert!(
        refused.message().contains(&format!("{}.{:02}", owed / 100, owed % 100)),
        "{}",
        refused.message()
    );

    // A reader who owes fees cannot be erased until they are settled.
    assert_refused(
        suite
            .readers()
            .erase_reader(
                suite.admin(EraseReaderRequest { reader_id: first.id.clone(), request_id: String::new() }),
            )
            .await,
        Code::FailedPrecondition,
        Reason::ReaderHasUnpaidFees,
    );

    // A payment goes to the oldest fee first; a retry takes nothing twice;
    // more than is owed is refused.
    let pay = PayFeesRequest {
        reader_id: first.id.clone(),
        amount: expected_fine + 100,
        fee_id: String::new(),
        request_id: lectern_core::ids::new_id(),
    };
    let paid = suite.fees().pay_fees(bearer(pay.clone(), &assistant)).await.expect("paid").into_inner();
    assert_eq!(paid.balance, 200);
    let retried = suite.fees().pay_fees(bearer(pay, &assistant)).await.expect("retried").into_inner();
    assert_eq!(retried, paid);
    assert_refused(
        suite
            .fees()
            .pay_fees(bearer(
                PayFeesRequest { reader_id: first.id.clone(), amount: 201, ..Default::default() },
                &assistant,
            ))
            .await,
        Code::FailedPrecondition,
        Reason::PaymentTooLarge,
    );

    // Only a librarian lets a reader off, with a reason kept on the fee.
    let waive = WaiveFeeRequest {
        fee_id: damaged.id.clone(),
        reason: "家长已修补".into(),
        request_id: String::new(),
    };
    assert_refused(
        suite.fees().waive_fee(bearer(waive.clone(), &assistant)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let waived =
        suite.fees().waive_fee(bearer(waive.clone(), &librarian)).await.expect("waived").into_inner();
    assert_eq!(waived.outstanding, 0);
    let kinds: Vec<(i32, i64)> = waived.entries.iter().map(|entry| (entry.kind, entry.amount)).collect();
    assert_eq!(kinds, [(FeeEntryKind::Payment.into(), 100), (FeeEntryKind::Waiver.into(), 200)]);
    assert_eq!(waived.entries[1].reason, "家长已修补");
    assert_refused(
        suite.fees().waive_fee(bearer(waive, &librarian)).await,
        Code::FailedPrecondition,
        Reason::FeeSettled,
    );
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R600001", "F600002", 0), &librarian))
        .await
        .expect("settled, the reader borrows again");

    // The second reader's class is let off at the end of the year.
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R600002", "F600003", 20), &librarian))
        .await
        .expect("lent long ago");
    let late = suite.loans().check_in(bearer(check_in("F600003"), &assistant)).await.unwrap().into_inner();
    assert_eq!(late.fine.map(|fine| fine.amount), Some(50), "capped");
    assert_invalid(
        suite
            .fees()
            .waive_fees(bearer(
                WaiveFeesRequest {
                    school_id: school.id.clone(),
                    reason: "学年结束".into(),
                    ..Default::default()
                },
                &librarian,
            ))
            .await,
        "class_id",
    );
    let bulk = suite
        .fees()
        .waive_fees(bearer(
            WaiveFeesRequest {
                school_id: school.id.clone(),
                class_id: second.class_id.clone(),
                reason: "学年结束".into(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .expect("bulk waiver")
        .into_inner();
    assert_eq!((bulk.fees, bulk.amount), (1, 50));
    let obligations = suite
        .loans()
        .get_reader_obligations(bearer(
            GetReaderObligationsRequest { reader_id: second.id.clone() },
            &librarian,
        ))
        .await
        .expect("obligations")
        .into_inner();
    assert_eq!(obligations.unpaid_fees, 0);
    let history = suite
        .fees()
        .list_fees(bearer(
            ListFeesRequest { reader_id: second.id.clone(), include_settled: true },
            &assistant,
        ))
        .await
        .expect("history")
        .into_inner();
    assert_eq!((history.fees.len(), history.balance), (1, 0));

    // A reader sees their own fees from their phone, and no one else's.
    let phone = suite.reader_signed_in(&second, "2468").await;
    let own = suite
        .fees()
        .list_fees(bearer(ListFeesRequest { reader_id: second.id.clone(), include_settled: true }, &phone))
        .await
        .expect("own fees")
        .into_inner();
    assert_eq!(own, history);
    assert_refused(
        suite
            .fees()
            .list_fees(bearer(ListFeesRequest { reader_id: first.id.clone(), include_settled: true }, &phone))
            .await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
}
