//! A reader's own reading report through the gateway, as the portal asks
//! for it: the reader sees their loans per month, per main class and the
//! titles they read, over the last 365 days or a range they choose; a loan
//! their history rule no longer keeps is not theirs any more; staff of
//! their school see the same, nobody else sees anything.

use std::collections::BTreeMap;

use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::CreateCopyRequest;
use lectern_proto::circulation::v1::{CheckInRequest, GetReaderReadingReportRequest, ReaderReadingReport};
use lectern_proto::reader::v1::{HistoryRetention, HistoryRule, StaffRole, UpdateReaderCategoryRequest};
use tonic::Code;

use crate::harness::{TestSuite, assert_invalid, assert_refused, bearer, lent_days_ago};

fn ask(reader_id: &str, from: &str, to: &str) -> GetReaderReadingReportRequest {
    GetReaderReadingReportRequest { reader_id: reader_id.into(), from_date: from.into(), to_date: to.into() }
}

async fn lend(suite: &TestSuite, librarian: &str, card: &str, copy: &str, days_ago: i64) {
    suite
        .loans()
        .check_out(bearer(lent_days_ago(suite, card, copy, days_ago), librarian))
        .await
        .expect("lent");
}

async fn take_back(suite: &TestSuite, librarian: &str, copy: &str) {
    let request = CheckInRequest { copy_barcode: copy.into(), ..Default::default() };
    suite.loans().check_in(bearer(request, librarian)).await.expect("back");
}

async fn report_of(
    suite: &TestSuite,
    token: &str,
    request: GetReaderReadingReportRequest,
) -> Result<tonic::Response<ReaderReadingReport>, tonic::Status> {
    suite.loans().get_reader_reading_report(bearer(request, token)).await
}

#[tokio::test]
async fn a_reader_sees_what_they_read_and_nobody_elses() {
    let suite = TestSuite::start().await;
    let school = suite.school("RRP-PRI", "读书小学").await;
    let other_school = suite.school("RRO-PRI", "别的小学").await;
    let ann = suite.student(&school, "R970001").await;
    let bob = suite.student(&school, "R970002").await;
    let novel = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    let science = suite.title("978-7-5357-3360-3", "时间简史", "霍金").await;
    let classic = suite.title("978-7-02-000220-7", "西游记", "吴承恩").await;
    for (title, barcode, call_number) in [
        (&novel, "E970001", "I287.45/C12"),
        (&novel, "E970002", "I287.45/C12"),
        (&science, "E970101", "P159/H1"),
        (&classic, "E970201", "I242.4/W8"),
    ] {
        suite
            .catalog()
            .create_copy(suite.admin(CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: barcode.into(),
                school_id: school.id.clone(),
                call_number: call_number.into(),
                ..Default::default()
            }))
            .await
            .expect("copy");
    }
    let librarian = suite.staff("rr.librarian", StaffRole::Librarian, &[&school]).await;
    let stranger = suite.staff("rr.stranger", StaffRole::Librarian, &[&other_school]).await;
    // Ann read 草房子 twice (300 and 40 days ago) and has 时间简史 now; Bob has 西游记.
    lend(&suite, &librarian, "R970001", "E970001", 300).await;
    take_back(&suite, &librarian, "E970001").await;
    lend(&suite, &librarian, "R970001", "E970002", 40).await;
    take_back(&suite, &librarian, "E970002").await;
    lend(&suite, &librarian, "R970001", "E970101", 10).await;
    lend(&suite, &librarian, "R970002", "E970201", 5).await;
    // From now on students' returned loans forget them: Ann's next loan,
    // once back, is no longer hers to see.
    suite
        .readers()
        .update_reader_category(suite.admin(UpdateReaderCategoryRequest {
            code: "student".into(),
            history_rule: Some(HistoryRule {
                retention: HistoryRetention::NeverKeep.into(),
                anonymize_after_days: 0,
            }),
            ..Default::default()
        }))
        .await
        .expect("category");
    lend(&suite, &librarian, "R970001", "E970001", 2).await;
    take_back(&suite, &librarian, "E970001").await;

    let ann_token = suite.reader_signed_in(&ann, "4321").await;
    let day = |days_ago: i64| suite.days_from_now(-days_ago);
    let report: ReaderReadingReport = suite
        .loans()
        .get_reader_reading_report(bearer(ask(&ann.id, "", ""), &ann_token))
        .await
        .expect("Ann's report")
        .into_inner();
    // No dates: the last 365 days up to today.
    assert_eq!((report.from_date.clone(), report.to_date.clone()), (day(364), day(0)));
    assert_eq!((report.loans, report.titles), (3, 2), "{report:?}");
    let mut months: BTreeMap<String, i32> = BTreeMap::new();
    for days_ago in [300, 40, 10] {
        *months.entry(day(days_ago)[..7].to_owned()).or_default() += 1;
    }
    let shown: Vec<(String, i32)> = report.months.iter().map(|m| (m.month.clone(), m.loans)).collect();
    assert_eq!(shown, months.into_iter().collect::<Vec<_>>());
    let classes: Vec<(&str, i32)> =
        report.classifications.iter().map(|c| (c.class.as_str(), c.loans)).collect();
    assert_eq!(classes, [("I", 2), ("P", 1)]);
    let read: Vec<(&str, String, i32)> =
        report.titles_read.iter().map(|t| (t.title.as_str(), t.last_borrowed_on.clone(), t.times)).collect();
    assert_eq!(read, [("时间简史", day(10), 1), ("草房子", day(40), 2)]);
    assert!(report.titles_read.iter().all(|t| t.title != "西游记"), "Bob's book is not Ann's");

    // A range of her choosing: only the last month.
    let recent = suite
        .loans()
        .get_reader_reading_report(bearer(ask(&ann.id, &day(30), &day(0)), &ann_token))
        .await
        .expect("recent")
        .into_inner();
    assert_eq!((recent.loans, recent.titles_read.len()), (1, 1));

    // The school's librarian sees the same report; staff of another school
    // and another reader see nothing.
    let seen_by_staff = suite
        .loans()
        .get_reader_reading_report(bearer(ask(&ann.id, "", ""), &librarian))
        .await
        .expect("staff")
        .into_inner();
    assert_eq!(seen_by_staff, report);
    assert_refused(
        suite.loans().get_reader_reading_report(bearer(ask(&ann.id, "", ""), &stranger)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    let bob_token = suite.reader_signed_in(&bob, "8765").await;
    assert_refused(
        suite.loans().get_reader_reading_report(bearer(ask(&ann.id, "", ""), &bob_token)).await,
        Code::PermissionDenied,
        Reason::RoleNotAllowed,
    );
    let bobs = suite
        .loans()
        .get_reader_reading_report(bearer(ask(&bob.id, "", ""), &bob_token))
        .await
        .expect("Bob's report")
        .into_inner();
    assert_eq!(bobs.titles_read.iter().map(|t| t.title.as_str()).collect::<Vec<_>>(), ["西游记"]);
    let anonymous = suite.loans().get_reader_reading_report(ask(&ann.id, "", "")).await;
    assert_eq!(anonymous.expect_err("no token").code(), Code::Unauthenticated);

    // Bad input names the field.
    assert_invalid(report_of(&suite, &ann_token, ask("not-an-id", "", "")).await, "reader_id");
    assert_invalid(report_of(&suite, &ann_token, ask(&ann.id, &day(30), "")).await, "to_date");
    assert_invalid(report_of(&suite, &ann_token, ask(&ann.id, "", &day(0))).await, "from_date");
    assert_invalid(report_of(&suite, &ann_token, ask(&ann.id, &day(0), &day(30))).await, "to_date");
    assert_invalid(report_of(&suite, &ann_token, ask(&ann.id, "2026/01/01", &day(0))).await, "from_date");
    assert_invalid(report_of(&suite, &ann_token, ask(&ann.id, &day(400), &day(0))).await, "to_date");
}
