//! Reading reports through the gateway: loans per month, grade and class,
//! top titles, the classification spread and the active-reader rate, over
//! a date range; a year-end promotion that moves every student to a new
//! class and grade does not change what the report says about the past.

use chrono::Duration;
use lectern_core::clock::Clock as _;
use lectern_proto::catalog::v1::CreateCopyRequest;
use lectern_proto::circulation::v1::{CheckInRequest, GetReadingReportRequest, ReadingReport};
use lectern_proto::reader::v1::school_year_service_client::SchoolYearServiceClient;
use lectern_proto::reader::v1::{StaffRole, YearEndRequest};

use crate::harness::{TestSuite, assert_invalid, bearer, lent_days_ago};

#[tokio::test]
async fn reading_reports_count_loans_as_they_were_made() {
    let suite = TestSuite::start().await;
    let school = suite.school("REP-PRI", "报表小学").await;
    let first = suite.student(&school, "R960001").await;
    suite.student(&school, "R960002").await;
    suite.student(&school, "R960003").await;
    let novel = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    let science = suite.title("978-7-5357-3360-3", "时间简史", "霍金").await;
    for (title, barcode, call_number) in [
        (&novel, "E960001", "I287.45/C12"),
        (&novel, "E960002", "I287.45/C12"),
        (&science, "E960101", "P159/H1"),
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
    let librarian = suite.staff("rep.librarian", StaffRole::Librarian, &[&school]).await;
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R960001", "E960001", 40), &librarian))
        .await
        .expect("lent");
    suite
        .loans()
        .check_in(bearer(
            CheckInRequest {
                copy_barcode: "E960001".into(),
                request_id: String::new(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .expect("back");
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R960001", "E960101", 10), &librarian))
        .await
        .expect("lent");
    suite
        .loans()
        .check_out(bearer(lent_days_ago(&suite, "R960002", "E960002", 10), &librarian))
        .await
        .expect("lent");

    let today = suite.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let day = |days_ago: i64| (today - Duration::days(days_ago)).format("%Y-%m-%d").to_string();
    let month = |days_ago: i64| (today - Duration::days(days_ago)).format("%Y-%m").to_string();
    let ask = |grade: i32, class_id: &str| GetReadingReportRequest {
        school_id: school.id.clone(),
        from_date: day(60),
        to_date: day(0),
        grade,
        class_id: class_id.into(),
        top_titles: 0,
    };
    let report: ReadingReport =
        suite.loans().get_reading_report(bearer(ask(0, ""), &librarian)).await.expect("report").into_inner();
    assert_eq!((report.loans, report.borrowers, report.readers), (3, 2, 3));
    assert!((report.active_reader_rate - 2.0 / 3.0).abs() < 1e-9, "{}", report.active_reader_rate);
    let top: Vec<(&str, i32)> =
        report.top_titles.iter().map(|title| (title.title.as_str(), title.loans)).collect();
    assert_eq!(top, [("草房子", 2), ("时间简史", 1)]);
    let classes: Vec<(&str, i32)> =
        report.classifications.iter().map(|class| (class.class.as_str(), class.loans)).collect();
    assert_eq!(classes, [("I", 2), ("P", 1)]);
    let in_months: i32 = report.months.iter().map(|row| row.loans).sum();
    assert_eq!(in_months, 3);
    assert!(report.months.iter().any(|row| row.month == month(40) && row.class_id == first.class_id));
    assert!(report.months.iter().all(|row| row.grade == 3));

    // One class: only its reader's two loans.
    let one_class = suite
        .loans()
        .get_reading_report(bearer(ask(0, &first.class_id), &librarian))
        .await
        .expect("class")
        .into_inner();
    assert_eq!((one_class.loans, one_class.borrowers), (2, 1));

    // A shorter range leaves out the older loan.
    let recent = suite
        .loans()
        .get_reading_report(bearer(GetReadingReportRequest { from_date: day(20), ..ask(0, "") }, &librarian))
        .await
        .expect("recent")
        .into_inner();
    assert_eq!(recent.loans, 2);
    assert_invalid(
        suite
            .loans()
            .get_reading_report(bearer(
                GetReadingReportRequest { from_date: day(0), to_date: day(5), ..ask(0, "") },
                &librarian,
            ))
            .await,
        "to_date",
    );

    // Everyone moves up a grade into new classes; the past stays as it was.
    SchoolYearServiceClient::new(suite.channel.clone())
        .apply_year_end(bearer(
            YearEndRequest {
                school_id: school.id.clone(),
                from_school_year: "2026-2027".into(),
                to_school_year: "2027-2028".into(),
                top_grade: 6,
                graduate_expires_on: "2027-07-15".into(),
                request_id: String::new(),
            },
            &librarian,
        ))
        .await
        .expect("promoted");
    let after =
        suite.loans().get_reading_report(bearer(ask(3, ""), &librarian)).await.expect("after").into_inner();
    assert_eq!(
        (after.months.clone(), after.top_titles.clone(), after.loans),
        (report.months, report.top_titles, 3)
    );
    assert_eq!(after.readers, 0, "no one is in grade 3 now");
}
