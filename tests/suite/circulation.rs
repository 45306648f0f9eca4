//! The desk slice: check out, check in, refusals with reason codes, a
//! reader's loans and notices, idempotent retries, and two stations racing.

use std::time::Duration;

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    CheckInRequest, CheckOutRequest, CirculationRule, CreateCirculationRuleRequest, ListLoansRequest,
    LoanFilter, LoanPeriodUnit,
};
use lectern_proto::notification::v1::{ListNoticesRequest, NoticeKind};
use lectern_proto::reader::v1::CreateReaderBlockRequest;
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, eventually};

fn checkout(reader: &str, copy: &str) -> CheckOutRequest {
    CheckOutRequest { reader_card_barcode: reader.into(), copy_barcode: copy.into(), ..Default::default() }
}

fn checkin(copy: &str) -> CheckInRequest {
    CheckInRequest { copy_barcode: copy.into(), request_id: String::new(), ..Default::default() }
}

#[tokio::test]
async fn a_loan_from_check_out_to_check_in_with_its_notices() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let reader = suite.student(&school, "R100001").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "P000001").await;

    let loan = suite
        .loans()
        .check_out(suite.admin(checkout("R100001", "P000001")))
        .await
        .expect("check-out")
        .into_inner()
        .loan
        .unwrap();
    assert_eq!(loan.reader_id, reader.id);
    assert_eq!(loan.title, "草房子");
    assert_eq!(loan.due_date, suite.days_from_now(14), "default loan period is 14 days, in Shanghai time");
    assert!(!loan.overdue);

    // The copy is taken: a second check-out is refused with a reason the desk can switch on.
    let status = assert_refused(
        suite.loans().check_out(suite.admin(checkout("R100001", "P000001"))).await,
        Code::FailedPrecondition,
        Reason::CopyAlreadyOnLoan,
    );
    assert!(!status.message().is_empty());

    let open = suite
        .loans()
        .list_loans(suite.admin(ListLoansRequest { reader_id: reader.id.clone(), ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(open.loans.len(), 1);
    assert_eq!(open.loans[0].id, loan.id);

    // The receipt reaches the reader's inbox through the outbox and relay.
    let notices = eventually(Duration::from_secs(20), "the check-out receipt", || async {
        let notices = suite
            .notifications()
            .list_notices(
                suite.admin(ListNoticesRequest { reader_id: reader.id.clone(), ..Default::default() }),
            )
            .await
            .ok()?
            .into_inner()
            .notices;
        (!notices.is_empty()).then_some(notices)
    })
    .await;
    assert_eq!(notices[0].kind, NoticeKind::CheckoutReceipt as i32);
    assert_eq!(notices[0].message, format!("你借了《草房子》，请在 {} 前归还。", suite.days_from_now(14)));

    let returned = suite.loans().check_in(suite.admin(checkin("P000001"))).await.unwrap().into_inner();
    assert!(returned.was_on_loan);
    assert_eq!(returned.loan.unwrap().id, loan.id);

    // Checking in a copy that is not on loan changes nothing and says so.
    let again = suite.loans().check_in(suite.admin(checkin("P000001"))).await.unwrap().into_inner();
    assert!(!again.was_on_loan);
    // A barcode no copy has is refused: the desk must not say "back on the shelf".
    assert_refused(
        suite.loans().check_in(suite.admin(checkin("NO-SUCH-COPY"))).await,
        Code::NotFound,
        Reason::CopyNotFound,
    );

    let english = eventually(Duration::from_secs(20), "the check-in receipt", || async {
        let notices = suite
            .notifications()
            .list_notices(suite.admin(ListNoticesRequest {
                reader_id: reader.id.clone(),
                language: "en".into(),
                ..Default::default()
            }))
            .await
            .ok()?
            .into_inner()
            .notices;
        (notices.len() == 2).then_some(notices)
    })
    .await;
    assert_eq!(english[0].kind, NoticeKind::CheckinReceipt as i32, "newest first");
    assert_eq!(english[0].message, "\u{201c}草房子\u{201d} has been returned. Thank you!");

    let history = suite
        .loans()
        .list_loans(suite.admin(ListLoansRequest {
            reader_id: reader.id,
            filter: LoanFilter::Returned.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.loans.len(), 1);
    assert!(history.loans[0].returned_at.is_some());
}

#[tokio::test]
async fn check_out_refuses_unknown_expired_and_blocked_with_reasons() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    suite.student(&school, "R100001").await;
    let expired = suite.student_until(&school, "R100050", &suite.days_from_now(-1)).await;
    let blocked = suite.student(&school, "R100060").await;
    let title = suite.title("9787020002207", "红楼梦", "曹雪芹").await;
    suite.copy(&title, &school, "P000001").await;
    suite
        .readers()
        .create_reader_block(suite.admin(CreateReaderBlockRequest {
            reader_id: blocked.id.clone(),
            reason: "书损坏，请找图书管理员".into(),
            ends_on: String::new(),
            request_id: String::new(),
        }))
        .await
        .unwrap();

    let _circulation = suite.loans();
    assert_refused(
        suite.loans().check_out(suite.admin(checkout("R999999", "P000001"))).await,
        Code::NotFound,
        Reason::ReaderNotFound,
    );
    assert_refused(
        suite.loans().check_out(suite.admin(checkout("R100001", "X404"))).await,
        Code::NotFound,
        Reason::CopyNotFound,
    );
    assert_refused(
        suite.loans().check_out(suite.admin(checkout(&expired.card_barcode, "P000001"))).await,
        Code::FailedPrecondition,
        Reason::ReaderExpired,
    );
    let status = assert_refused(
        suite.loans().check_out(suite.admin(checkout(&blocked.card_barcode, "P000001"))).await,
        Code::FailedPrecondition,
        Reason::ReaderBlocked,
    );
    let refusal = lectern_core::refusal::Refusal::from_status(&status).unwrap();
    assert_eq!(refusal.metadata.get("block_reason").map(String::as_str), Some("书损坏，请找图书管理员"));

    // None of the refusals lent anything: the copy is still free.
    suite.loans().check_out(suite.admin(checkout("R100001", "P000001"))).await.expect("copy still free");
}

#[tokio::test]
async fn a_retried_check_out_returns_the_first_answer() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let reader = suite.student(&school, "R100001").await;
    let title = suite.title("9780064400558", "Charlotte's Web", "E. B. White").await;
    suite.copy(&title, &school, "P000001").await;

    let request = CheckOutRequest {
        request_id: "5f1f6b4e-0b1c-4d5e-9c1a-111111111111".into(),
        ..checkout("R100001", "P000001")
    };
    let first = suite.loans().check_out(suite.admin(request.clone())).await.unwrap().into_inner();
    let retry = suite.loans().check_out(suite.admin(request)).await.expect("retry answers").into_inner();
    assert_eq!(first, retry);
    let loans = suite
        .loans()
        .list_loans(suite.admin(ListLoansRequest { reader_id: reader.id, ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(loans.loans.len(), 1, "the retry lent nothing again");
}

#[tokio::test]
async fn fifty_stations_racing_for_one_copy_lend_it_once() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    let cards: Vec<String> = (1..=50).map(|number| format!("R{number:02}")).collect();
    for card in &cards {
        suite.student(&school, card).await;
    }
    let title = suite.title("9787020008728", "西游记", "吴承恩").await;
    suite.copy(&title, &school, "P000001").await;

    let attempts: Vec<_> = cards
        .iter()
        .map(|card| {
            let mut circulation = suite.loans();
            let request = suite.admin(checkout(card, "P000001"));
            tokio::spawn(async move { circulation.check_out(request).await })
        })
        .collect();
    let mut lent = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => lent += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert_eq!(lectern_core::refusal::reason_of(&status), Some(Reason::CopyAlreadyOnLoan));
            }
        }
    }
    assert_eq!(lent, 1);
}

/// A reader at the limit on one desk and a kiosk at the same moment: the
/// limit counts loans made meanwhile, so the reader never holds more than
/// the rule allows.
#[tokio::test]
async fn desks_racing_to_lend_to_one_reader_stop_at_the_limit() {
    let suite = TestSuite::start().await;
    let school = suite.school("XH-PRI", "徐汇区实验小学").await;
    suite.student(&school, "R700001").await;
    suite
        .rules()
        .create_circulation_rule(suite.admin(CreateCirculationRuleRequest {
            rule: Some(CirculationRule {
                school_id: school.id.clone(),
                reader_category: "student".into(),
                loanable: true,
                loan_period_unit: LoanPeriodUnit::Days.into(),
                loan_period: 14,
                renewal_period_days: 14,
                hold_shelf_days: 7,
                max_loans: Some(2),
                ..Default::default()
            }),
            request_id: String::new(),
        }))
        .await
        .expect("a limit of two loans");
    let title = suite.title("9787020008728", "西游记", "吴承恩").await;
    let copies: Vec<String> = (1..=12).map(|number| format!("L{number:06}")).collect();
    for copy in &copies {
        suite.copy(&title, &school, copy).await;
    }

    let attempts: Vec<_> = copies
        .iter()
        .map(|copy| {
            let request = suite.admin(checkout("R700001", copy));
            let mut circulation = suite.loans();
            tokio::spawn(async move { circulation.check_out(request).await })
        })
        .collect();
    let mut lent = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => lent += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                assert_eq!(lectern_core::refusal::reason_of(&status), Some(Reason::LoanLimitReached));
            }
        }
    }
    assert_eq!(lent, 2, "as many loans as the rule allows");
}
