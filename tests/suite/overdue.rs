//! The desk's overdue and due-soon lists: per school, optionally per class,
//! longest overdue first, paged; they follow the clock as loans fall due.

use lectern_core::clock::Clock as _;
use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{CheckOutRequest, ListOverdueLoansRequest, Loan};
use lectern_proto::reader::v1::StaffRole;
use tonic::Code;

use crate::harness::{ADMIN_PASSWORD, TestSuite, assert_invalid, assert_refused, bearer};

fn checkout(reader: &str, copy: &str, days_ago: i64, suite: &TestSuite) -> CheckOutRequest {
    let at = suite.clock.now() - chrono::Duration::days(days_ago);
    CheckOutRequest {
        reader_card_barcode: reader.into(),
        copy_barcode: copy.into(),
        occurred_at: Some(prost_types::Timestamp { seconds: at.timestamp(), nanos: 0 }),
        ..Default::default()
    }
}

/// A fresh access token for `username`, after the clock moved past the old one.
async fn signed_in(suite: &TestSuite, username: &str, password: &str) -> String {
    suite.login(username, password).await.expect("signed in again").access_token
}

fn barcodes(loans: &[Loan]) -> Vec<&str> {
    loans.iter().map(|loan| loan.copy_barcode.as_str()).collect()
}

fn list(school_id: &str, class_id: &str, due_within_days: i32) -> ListOverdueLoansRequest {
    ListOverdueLoansRequest {
        school_id: school_id.into(),
        class_id: class_id.into(),
        due_within_days,
        ..Default::default()
    }
}

#[tokio::test]
async fn overdue_and_due_soon_lists_follow_the_clock() {
    let suite = TestSuite::start().await;
    let school = suite.school("OD-PRI", "逾期小学").await;
    let other = suite.school("OD-MID", "逾期中学").await;
    let first = suite.student(&school, "R400001").await;
    let second = suite.student(&school, "R400002").await;
    suite.student(&other, "R400003").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    for barcode in ["A400001", "A400002", "A400003"] {
        suite.copy(&title, &school, barcode).await;
    }
    suite.copy(&title, &other, "B400001").await;
    let librarian = suite.staff("od.librarian", StaffRole::Librarian, &[&school]).await;
    for (reader, copy, days_ago) in [
        ("R400001", "A400001", 0),
        ("R400002", "A400002", 0),
        ("R400001", "A400003", 20),
        ("R400003", "B400001", 20),
    ] {
        suite.loans().check_out(suite.admin(checkout(reader, copy, days_ago, &suite))).await.expect("lent");
    }

    // Lent 20 days ago for 14: overdue. The other school's overdue loan is not listed.
    let overdue = suite
        .loans()
        .list_overdue_loans(bearer(list(&school.id, "", 0), &librarian))
        .await
        .expect("the school's overdue list")
        .into_inner();
    assert_eq!(barcodes(&overdue.loans), ["A400003"]);
    assert!(overdue.loans[0].overdue && overdue.next_page_token.is_empty());
    assert_eq!(overdue.loans[0].reader_id, first.id);
    // By class: the first reader's class has it, the second's has none.
    let by_class = |class_id: &str| list(&school.id, class_id, 0);
    let first_class = suite.loans().list_overdue_loans(suite.admin(by_class(&first.class_id))).await.unwrap();
    assert_eq!(barcodes(&first_class.into_inner().loans), ["A400003"]);
    let second_class =
        suite.loans().list_overdue_loans(suite.admin(by_class(&second.class_id))).await.unwrap();
    assert!(second_class.into_inner().loans.is_empty());
    // Nothing falls due within three days yet.
    let soon =
        suite.loans().list_overdue_loans(suite.admin(list(&school.id, "", 3))).await.unwrap().into_inner();
    assert!(soon.loans.is_empty(), "{soon:?}");

    // Twelve days on, today's loans fall due within three days, in due order.
    suite.clock.advance(chrono::Duration::days(12));
    // Tokens have run out meanwhile: sign in again.
    let admin = signed_in(&suite, "admin", ADMIN_PASSWORD).await;
    let soon =
        suite.loans().list_overdue_loans(bearer(list(&school.id, "", 3), &admin)).await.unwrap().into_inner();
    assert_eq!(barcodes(&soon.loans), ["A400001", "A400002"]);
    assert!(soon.loans.iter().all(|loan| !loan.overdue));
    // They are due on the day after tomorrow, whatever the hour now: within
    // two days (the due day counts), not within one.
    assert!(soon.loans.iter().all(|loan| loan.due_date == suite.days_from_now(2)));
    let two_days =
        suite.loans().list_overdue_loans(bearer(list(&school.id, "", 2), &admin)).await.unwrap().into_inner();
    assert_eq!(barcodes(&two_days.loans), ["A400001", "A400002"]);
    let one_day =
        suite.loans().list_overdue_loans(bearer(list(&school.id, "", 1), &admin)).await.unwrap().into_inner();
    assert!(one_day.loans.is_empty(), "{one_day:?}");

    // Three more days: all three are overdue, the longest overdue first, a page at a time.
    suite.clock.advance(chrono::Duration::days(3));
    let admin = signed_in(&suite, "admin", ADMIN_PASSWORD).await;
    let librarian = signed_in(&suite, "od.librarian", "od.librarian-own-password").await;
    let page = ListOverdueLoansRequest { page_size: 2, ..list(&school.id, "", 0) };
    let first_page =
        suite.loans().list_overdue_loans(bearer(page.clone(), &admin)).await.unwrap().into_inner();
    assert_eq!(barcodes(&first_page.loans), ["A400003", "A400001"]);
    assert!(!first_page.next_page_token.is_empty());
    let next = ListOverdueLoansRequest { page_token: first_page.next_page_token, ..page };
    let second_page = suite.loans().list_overdue_loans(bearer(next, &admin)).await.unwrap().into_inner();
    assert_eq!(barcodes(&second_page.loans), ["A400002"]);
    assert!(second_page.next_page_token.is_empty());

    // Another school's list is refused; so is a look-ahead beyond 60 days.
    assert_refused(
        suite.loans().list_overdue_loans(bearer(list(&other.id, "", 0), &librarian)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_invalid(
        suite.loans().list_overdue_loans(bearer(list(&school.id, "", 61), &admin)).await,
        "due_within_days",
    );
}
