//! Renewals through the gateway: a reader renews from their phone, the
//! desk renews one loan or all of a reader's, and each loan is renewed
//! only as often as its rule allows and never while overdue; a retry with
//! the same request id renews nothing twice; the reader gets a receipt
//! with the new due day.

use std::time::Duration;

use lectern_core::clock::Clock as _;
use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    CirculationRule, CreateCirculationRuleRequest, LoanPeriodUnit, RenewAllRequest, RenewRequest,
};
use lectern_proto::notification::v1::{ListNoticesRequest, NoticeKind};
use lectern_proto::reader::v1::StaffRole;
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer, eventually, lent_days_ago};

fn renew(copy: &str, request_id: &str) -> RenewRequest {
    RenewRequest { loan_id: String::new(), copy_barcode: copy.into(), request_id: request_id.into() }
}

#[tokio::test]
async fn loans_are_renewed_as_often_as_their_rule_allows() {
    let suite = TestSuite::start().await;
    let school = suite.school("REN-PRI", "续借小学").await;
    let other = suite.school("REN-MID", "续借中学").await;
    let reader = suite.student(&school, "R700001").await;
    let classmate = suite.student(&school, "R700002").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    for barcode in ["N700001", "N700002", "N700003"] {
        suite.copy(&title, &school, barcode).await;
    }
    let librarian = suite.staff("ren.librarian", StaffRole::Librarian, &[&school]).await;
    let stranger = suite.staff("ren.stranger", StaffRole::Librarian, &[&other]).await;
    suite
        .rules()
        .create_circulation_rule(bearer(
            CreateCirculationRuleRequest {
                rule: Some(CirculationRule {
                    school_id: school.id.clone(),
                    loanable: true,
                    loan_period_unit: LoanPeriodUnit::Days.into(),
                    loan_period: 7,
                    renewals: 1,
                    renewal_period_days: 10,
                    hold_shelf_days: 7,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &librarian,
        ))
        .await
        .expect("rule");
    for (copy, days_ago) in [("N700001", 0), ("N700002", 1), ("N700003", 10)] {
        suite
            .loans()
            .check_out(bearer(lent_days_ago(&suite, "R700001", copy, days_ago), &librarian))
            .await
            .expect("lent");
    }
    let today = suite.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let in_ten_days = (today + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();

    // From the reader's phone: renewed for 10 days from today, once.
    let phone = suite.reader_signed_in(&reader, "1357").await;
    let request_id = lectern_core::ids::new_id();
    let renewed = suite
        .loans()
        .renew(bearer(renew("N700001", &request_id), &phone))
        .await
        .expect("the reader renews their own loan")
        .into_inner()
        .loan
        .unwrap();
    assert_eq!((renewed.due_date.as_str(), renewed.renewals), (in_ten_days.as_str(), 1));
    let retried =
        suite.loans().renew(bearer(renew("N700001", &request_id), &phone)).await.expect("retry").into_inner();
    assert_eq!(retried.loan.map(|loan| loan.renewals), Some(1), "a retry renews nothing twice");
    assert_refused(
        suite.loans().renew(bearer(renew("N700001", ""), &phone)).await,
        Code::FailedPrecondition,
        Reason::RenewalLimitReached,
    );

    // No one else renews it: a classmate, or a librarian of another school.
    let classmate_phone = suite.reader_signed_in(&classmate, "2468").await;
    assert_refused(
        suite.loans().renew(bearer(renew("N700002", ""), &classmate_phone)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    assert_refused(
        suite.loans().renew(bearer(renew("N700002", ""), &stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_invalid(
        suite
            .loans()
            .renew(bearer(
                RenewRequest {
                    loan_id: renewed.id.clone(),
                    copy_barcode: "N700001".into(),
                    request_id: String::new(),
                },
                &librarian,
            ))
            .await,
        "loan_id",
    );

    // At the desk, all at once: one renewed, one used up, one overdue.
    let all = suite
        .loans()
        .renew_all(bearer(
            RenewAllRequest { reader_id: reader.id.clone(), request_id: String::new() },
            &librarian,
        ))
        .await
        .expect("renew all")
        .into_inner();
    let mut outcomes: Vec<(String, bool, String)> = all
        .outcomes
        .iter()
        .map(|outcome| {
            let barcode = outcome.loan.as_ref().map(|loan| loan.copy_barcode.clone()).unwrap_or_default();
            (barcode, outcome.renewed, outcome.refusal_reason.clone())
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("N700001".to_owned(), false, "RENEWAL_LIMIT_REACHED".to_owned()),
            ("N700002".to_owned(), true, String::new()),
            ("N700003".to_owned(), false, "LOAN_OVERDUE".to_owned()),
        ]
    );

    // The reader is told the new due day.
    let receipt = eventually(Duration::from_secs(20), "the renewal receipt", || async {
        let notices = suite
            .notifications()
            .list_notices(
                suite.admin(ListNoticesRequest { reader_id: reader.id.clone(), ..Default::default() }),
            )
            .await
            .ok()?
            .into_inner()
            .notices;
        notices.into_iter().find(|notice| notice.kind == NoticeKind::RenewalReceipt as i32)
    })
    .await;
    assert_eq!(receipt.message, format!("《草房子》已续借，请在 {in_ten_days} 前归还。"));
}
