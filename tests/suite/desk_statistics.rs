//! A school library's numbers at a glance, as its home page shows them:
//! each check-out, return, hold and journey between schools moves exactly
//! the numbers it should, and "today" ends at midnight in the school's
//! time zone, not in UTC.

use chrono::Duration;
use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    CheckInRequest, CheckOutRequest, CirculationRule, CreateCirculationRuleRequest, DeskStatistics,
    GetDeskStatisticsRequest, HoldStatus, LoanPeriodUnit, PlaceHoldRequest,
};
use lectern_proto::reader::v1::{School, StaffRole};
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer, lent_days_ago};

async fn statistics(suite: &TestSuite, token: &str, school: &School) -> DeskStatistics {
    suite
        .loans()
        .get_desk_statistics(bearer(GetDeskStatisticsRequest { school_id: school.id.clone() }, token))
        .await
        .expect("statistics")
        .into_inner()
}

fn check_out(card: &str, copy: &str) -> CheckOutRequest {
    CheckOutRequest { reader_card_barcode: card.into(), copy_barcode: copy.into(), ..Default::default() }
}

fn check_in(copy: &str) -> CheckInRequest {
    CheckInRequest { copy_barcode: copy.into(), ..Default::default() }
}

/// The counts, in the order the proto lists them after `day`.
fn counts(stats: &DeskStatistics) -> [i32; 8] {
    [
        stats.loans_today,
        stats.returns_today,
        stats.on_loan,
        stats.overdue,
        stats.holds_ready,
        stats.holds_to_pull,
        stats.in_transit_to,
        stats.in_transit_from,
    ]
}

#[tokio::test]
async fn the_days_numbers_move_with_the_desk() {
    let suite = TestSuite::start().await;
    let primary = suite.school("STAT-PRI", "统计小学").await;
    let middle = suite.school("STAT-MID", "统计中学").await;
    let at_primary = suite.staff("stat.primary", StaffRole::Librarian, &[&primary]).await;
    let assistant = suite.staff("stat.assistant", StaffRole::Assistant, &[&primary]).await;
    let at_middle = suite.staff("stat.middle", StaffRole::Librarian, &[&middle]).await;
    suite.student(&primary, "R980001").await;
    suite.student(&middle, "R980101").await;
    let lent = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    let held = suite.title("978-7-02-000872-8", "西游记", "吴承恩").await;
    for barcode in ["S980001", "S980002", "S980003"] {
        suite.copy(&lent, &primary, barcode).await;
    }
    suite.copy(&held, &primary, "S980201").await;
    suite.copy(&lent, &middle, "S980101").await;
    suite
        .rules()
        .create_circulation_rule(bearer(
            CreateCirculationRuleRequest {
                rule: Some(CirculationRule {
                    school_id: primary.id.clone(),
                    loanable: true,
                    loan_period_unit: LoanPeriodUnit::Days.into(),
                    loan_period: 7,
                    renewal_period_days: 7,
                    hold_shelf_days: 7,
                    max_holds: 3,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &at_primary,
        ))
        .await
        .expect("rule");

    let first = statistics(&suite, &assistant, &primary).await;
    assert_eq!(first.day, suite.days_from_now(0));
    assert_eq!(first.school_id, primary.id);
    assert_eq!(counts(&first), [0; 8]);

    // Two books lent today, one recorded today as lent two weeks ago
    // (overdue now, and not one of today's loans).
    for copy in ["S980001", "S980002"] {
        suite.loans().check_out(bearer(check_out("R980001", copy), &at_primary)).await.expect("lent");
    }
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R980001", "S980003", 14), &at_primary))
        .await
        .expect("lent after the fact");
    // [loans today, returns today, on loan, overdue, ready, to pull, to, from]
    assert_eq!(counts(&statistics(&suite, &at_primary, &primary).await), [2, 0, 3, 1, 0, 0, 0, 0]);

    // One comes back: a return today; today's loans stay two.
    suite.loans().check_in(bearer(check_in("S980001"), &at_primary)).await.expect("returned");
    assert_eq!(counts(&statistics(&suite, &at_primary, &primary).await), [2, 1, 2, 1, 0, 0, 0, 0]);

    // The middle school's book, lent there, comes back at the primary
    // school's desk: a return here, a journey from here to there.
    suite.loans().check_out(bearer(check_out("R980101", "S980101"), &at_middle)).await.expect("lent there");
    assert_eq!(counts(&statistics(&suite, &at_middle, &middle).await), [1, 0, 1, 0, 0, 0, 0, 0]);
    suite.loans().check_in(bearer(check_in("S980101"), &at_primary)).await.expect("returned here");
    assert_eq!(counts(&statistics(&suite, &at_primary, &primary).await), [2, 2, 2, 1, 0, 0, 0, 1]);
    assert_eq!(counts(&statistics(&suite, &at_middle, &middle).await), [1, 0, 0, 0, 0, 0, 1, 0]);

    // A hold on a title whose copy stands on the shelf here: one to pull.
    // Pulled and scanned, it waits on the hold shelf (not a return).
    let hold = suite
        .holds()
        .place_hold(bearer(
            PlaceHoldRequest {
                reader_card_barcode: "R980001".into(),
                title_id: held.id.clone(),
                ..Default::default()
            },
            &at_primary,
        ))
        .await
        .expect("hold placed")
        .into_inner();
    assert_eq!(hold.status(), HoldStatus::Waiting);
    assert_eq!(counts(&statistics(&suite, &at_primary, &primary).await), [2, 2, 2, 1, 0, 1, 0, 1]);
    let pulled = suite.loans().check_in(bearer(check_in("S980201"), &at_primary)).await.expect("pulled");
    assert_eq!(pulled.into_inner().hold.map(|hold| hold.status()), Some(HoldStatus::Ready));
    assert_eq!(counts(&statistics(&suite, &at_primary, &primary).await), [2, 2, 2, 1, 1, 0, 0, 1]);

    // The journey ends when the book is scanned at home.
    suite.loans().check_in(bearer(check_in("S980101"), &at_middle)).await.expect("received");
    assert_eq!(counts(&statistics(&suite, &at_primary, &primary).await), [2, 2, 2, 1, 1, 0, 0, 0]);
    assert_eq!(counts(&statistics(&suite, &at_middle, &middle).await), [1, 0, 0, 0, 0, 0, 0, 0]);

    // 23:59 in Shanghai is still today; a minute past midnight there (still
    // the same day in UTC) the day's counts start again from zero.
    // (Sign-ins last an hour: the librarian signs in again.)
    suite.clock.advance(Duration::hours(15) + Duration::minutes(59));
    let at_primary = signed_in_again(&suite, "stat.primary").await;
    let late = statistics(&suite, &at_primary, &primary).await;
    assert_eq!(
        (late.day.as_str(), counts(&late)),
        (suite.days_from_now(0).as_str(), [2, 2, 2, 1, 1, 0, 0, 0])
    );
    suite.clock.advance(Duration::minutes(2));
    let at_primary = signed_in_again(&suite, "stat.primary").await;
    let next = statistics(&suite, &at_primary, &primary).await;
    assert_eq!(next.day, (first_day(&first) + Duration::days(1)).format("%Y-%m-%d").to_string());
    assert_eq!(counts(&next), [0, 0, 2, 1, 1, 0, 0, 0]);
}

/// A fresh token of staff member `username` (see `TestSuite::staff`).
async fn signed_in_again(suite: &TestSuite, username: &str) -> String {
    suite.login(username, &format!("{username}-own-password")).await.expect("signed in again").access_token
}

fn first_day(stats: &DeskStatistics) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(&stats.day, "%Y-%m-%d").unwrap()
}

#[tokio::test]
async fn statistics_are_for_the_schools_own_staff() {
    let suite = TestSuite::start().await;
    let primary = suite.school("STAT2-PRI", "统计二小").await;
    let middle = suite.school("STAT2-MID", "统计二中").await;
    let stranger = suite.staff("stat2.stranger", StaffRole::Librarian, &[&middle]).await;
    assert_eq!(counts(&statistics(&suite, &suite.admin_token, &primary).await), [0; 8], "district admins");
    assert_refused(
        suite
            .loans()
            .get_desk_statistics(bearer(
                GetDeskStatisticsRequest { school_id: primary.id.clone() },
                &stranger,
            ))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    for bad in ["", "STAT2-PRI"] {
        assert_invalid(
            suite
                .loans()
                .get_desk_statistics(bearer(GetDeskStatisticsRequest { school_id: bad.into() }, &stranger))
                .await,
            "school_id",
        );
    }
}
