//! Returns anywhere in the district: a book of one school comes back at
//! another school's desk, is checked in there, and goes where it is
//! wanted: home to its own school, on the hold shelf where a reader waits,
//! or to a third school's hold shelf. Both desks see the journey until the
//! book is scanned where it was going.

use std::time::Duration;

use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1::{Availability, LookupCopyRequest};
use lectern_proto::circulation::v1::{
    CheckInRequest, CheckInResponse, CheckInRoute, CheckOutRequest, HoldStatus, ListTransitsRequest,
    PlaceHoldRequest, Transit, TransitDirection, TransitReason,
};
use lectern_proto::reader::v1::{School, StaffRole};
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, bearer, eventually};

fn check_out(card: &str, barcode: &str) -> CheckOutRequest {
    CheckOutRequest { reader_card_barcode: card.into(), copy_barcode: barcode.into(), ..Default::default() }
}

fn check_in(barcode: &str) -> CheckInRequest {
    CheckInRequest { copy_barcode: barcode.into(), ..Default::default() }
}

/// A check-in at the desk of `school`.
fn check_in_at(barcode: &str, school: &School) -> CheckInRequest {
    CheckInRequest { desk_school_id: school.id.clone(), ..check_in(barcode) }
}

async fn returned_at(suite: &TestSuite, token: &str, barcode: &str) -> CheckInResponse {
    suite.loans().check_in(bearer(check_in(barcode), token)).await.expect("checked in").into_inner()
}

async fn transits(
    suite: &TestSuite,
    token: &str,
    school: &School,
    direction: TransitDirection,
    all: bool,
) -> Vec<Transit> {
    suite
        .loans()
        .list_transits(bearer(
            ListTransitsRequest {
                school_id: school.id.clone(),
                direction: direction.into(),
                include_received: all,
                ..Default::default()
            },
            token,
        ))
        .await
        .expect("transits listed")
        .into_inner()
        .transits
}

async fn availability(suite: &TestSuite, barcode: &str) -> Availability {
    let copy = suite
        .catalog()
        .lookup_copy(suite.admin(LookupCopyRequest { barcode: barcode.into() }))
        .await
        .unwrap();
    copy.into_inner().availability()
}

#[tokio::test]
async fn a_book_returned_at_another_school_goes_home_and_is_received_there() {
    let suite = TestSuite::start().await;
    let primary = suite.school("XH-PRI", "徐汇区实验小学").await;
    let middle = suite.school("XH-MID", "徐汇区实验中学").await;
    let at_primary = suite.staff("li.hua", StaffRole::Librarian, &[&primary]).await;
    let at_middle = suite.staff("wang.fang", StaffRole::Librarian, &[&middle]).await;
    suite.student(&primary, "R100001").await;
    let title = suite.title("9787020002207", "红楼梦", "曹雪芹").await;
    suite.copy(&title, &primary, "P000001").await;
    let loan = suite
        .loans()
        .check_out(bearer(check_out("R100001", "P000001"), &at_primary))
        .await
        .expect("lent at its own school")
        .into_inner()
        .loan
        .unwrap();

    // The student brings it back to the middle school's desk.
    let returned = returned_at(&suite, &at_middle, "P000001").await;
    assert!(returned.was_on_loan);
    assert_eq!(returned.loan.as_ref().map(|loan| loan.id.as_str()), Some(loan.id.as_str()));
    assert_eq!(returned.route(), CheckInRoute::Transit);
    let journey = returned.transit.clone().expect("a journey home");
    assert_eq!(
        (journey.from_school_id.as_str(), journey.to_school_id.as_str()),
        (middle.id.as_str(), primary.id.as_str())
    );
    assert_eq!(journey.reason(), TransitReason::Home);
    assert_eq!(journey.copy_barcode, "P000001");
    assert!(journey.received_time.is_none());

    // Both desks see it on the way; neither sees the other's list.
    let outgoing = transits(&suite, &at_middle, &middle, TransitDirection::Outgoing, false).await;
    assert_eq!(outgoing.iter().map(|transit| transit.id.as_str()).collect::<Vec<_>>(), [journey.id.as_str()]);
    let incoming = transits(&suite, &at_primary, &primary, TransitDirection::Incoming, false).await;
    assert_eq!(incoming.len(), 1);
    assert!(transits(&suite, &at_primary, &primary, TransitDirection::Outgoing, false).await.is_empty());
    assert_refused(
        suite
            .loans()
            .list_transits(bearer(
                ListTransitsRequest { school_id: primary.id.clone(), ..Default::default() },
                &at_middle,
            ))
            .await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    // The catalog shows it travelling, not on a shelf.
    eventually(Duration::from_secs(30), "the copy shown in transit", || async {
        (availability(&suite, "P000001").await == Availability::InTransit).then_some(())
    })
    .await;

    // Scanned again at the middle school, it is still on its way.
    let again = returned_at(&suite, &at_middle, "P000001").await;
    assert!(!again.was_on_loan);
    assert_eq!(again.route(), CheckInRoute::Transit);
    assert_eq!(again.transit.as_ref().map(|transit| transit.id.as_str()), Some(journey.id.as_str()));

    // Home: received, back on the shelf.
    let home = returned_at(&suite, &at_primary, "P000001").await;
    assert!(!home.was_on_loan);
    assert_eq!(home.route(), CheckInRoute::Shelf);
    assert!(home.transit.as_ref().is_some_and(|transit| transit.received_time.is_some()), "{home:?}");
    assert!(transits(&suite, &at_primary, &primary, TransitDirection::Incoming, false).await.is_empty());
    let history = transits(&suite, &at_primary, &primary, TransitDirection::Incoming, true).await;
    assert_eq!(history.len(), 1);
    assert!(history[0].received_time.is_some());
    eventually(Duration::from_secs(30), "the copy back on its shelf", || async {
        (availability(&suite, "P000001").await == Availability::OnShelf).then_some(())
    })
    .await;
    // And it lends at home again.
    suite.loans().check_out(bearer(check_out("R100001", "P000001"), &at_primary)).await.expect("lent again");
}

#[tokio::test]
async fn a_book_returned_where_a_reader_waits_goes_on_that_hold_shelf_or_travels_to_theirs() {
    let suite = TestSuite::start().await;
    let primary = suite.school("XH-PRI", "徐汇区实验小学").await;
    let middle = suite.school("XH-MID", "徐汇区实验中学").await;
    let high = suite.school("XH-HIGH", "徐汇区实验高中").await;
    let at_primary = suite.staff("li.hua", StaffRole::Librarian, &[&primary]).await;
    let at_middle = suite.staff("wang.fang", StaffRole::Librarian, &[&middle]).await;
    let at_high = suite.staff("zhao.lei", StaffRole::Librarian, &[&high]).await;
    suite.student(&primary, "R100001").await;
    let waiting_at_middle = suite.student(&middle, "M100001").await;
    let waiting_at_high = suite.student(&high, "H100001").await;
    let title = suite.title("9787020002207", "红楼梦", "曹雪芹").await;
    suite.copy(&title, &primary, "P000001").await;
    suite.copy(&title, &primary, "P000002").await;
    suite.loans().check_out(bearer(check_out("R100001", "P000001"), &at_primary)).await.expect("lent");
    suite.loans().check_out(bearer(check_out("R100001", "P000002"), &at_primary)).await.expect("lent");
    // Two readers wait for the title: first at the middle school, then at the high school.
    for (card, token) in [("M100001", &at_middle), ("H100001", &at_high)] {
        suite
            .holds()
            .place_hold(bearer(
                PlaceHoldRequest {
                    reader_card_barcode: card.into(),
                    title_id: title.id.clone(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .expect("hold placed");
    }

    // The first copy comes back at the middle school, where the first reader waits.
    let first = returned_at(&suite, &at_middle, "P000001").await;
    assert_eq!(first.route(), CheckInRoute::HoldShelf);
    let hold = first.hold.expect("taken for the hold");
    assert_eq!(hold.reader_id, waiting_at_middle.id);
    assert_eq!(hold.status(), HoldStatus::Ready);
    assert!(first.transit.is_none(), "nothing travels");
    // The reader borrows it there.
    suite
        .loans()
        .check_out(bearer(check_out("M100001", "P000001"), &at_middle))
        .await
        .expect("lent where it waits for the reader");

    // The second comes back at the middle school too: the next reader
    // waits at the high school, so it travels there.
    let second = returned_at(&suite, &at_middle, "P000002").await;
    assert_eq!(second.route(), CheckInRoute::Transit);
    let journey = second.transit.expect("a journey to the high school");
    assert_eq!(journey.to_school_id, high.id);
    assert_eq!(journey.reason(), TransitReason::Hold);
    assert_eq!(second.hold.as_ref().map(|hold| hold.status()), Some(HoldStatus::InTransit));
    assert_eq!(transits(&suite, &at_high, &high, TransitDirection::Incoming, false).await.len(), 1);
    // It arrives: received, on the high school's hold shelf for the reader.
    let arrived = returned_at(&suite, &at_high, "P000002").await;
    assert_eq!(arrived.route(), CheckInRoute::HoldShelf);
    assert!(arrived.transit.as_ref().is_some_and(|transit| transit.received_time.is_some()));
    let ready = arrived.hold.expect("the hold it came for");
    assert_eq!((ready.reader_id.as_str(), ready.status()), (waiting_at_high.id.as_str(), HoldStatus::Ready));
    assert!(transits(&suite, &at_high, &high, TransitDirection::Incoming, false).await.is_empty());
}

#[tokio::test]
async fn staff_of_several_schools_say_which_desk_they_stand_at() {
    let suite = TestSuite::start().await;
    let primary = suite.school("XH-PRI", "徐汇区实验小学").await;
    let middle = suite.school("XH-MID", "徐汇区实验中学").await;
    let covering = suite.staff("chen.jing", StaffRole::Librarian, &[&primary, &middle]).await;
    let at_primary = suite.staff("li.hua", StaffRole::Librarian, &[&primary]).await;
    suite.student(&primary, "R100001").await;
    let title = suite.title("9787020002207", "红楼梦", "曹雪芹").await;
    suite.copy(&title, &primary, "P000001").await;
    suite.copy(&title, &primary, "P000002").await;
    for barcode in ["P000001", "P000002"] {
        suite.loans().check_out(bearer(check_out("R100001", barcode), &at_primary)).await.expect("lent");
    }

    // Without a desk, a librarian of several schools works at the book's own school.
    let at_home = returned_at(&suite, &covering, "P000001").await;
    assert_eq!(at_home.route(), CheckInRoute::Shelf);
    // Standing at the middle school's desk, the book goes home.
    let elsewhere = suite
        .loans()
        .check_in(bearer(check_in_at("P000002", &middle), &covering))
        .await
        .expect("checked in at the middle school")
        .into_inner();
    assert_eq!(elsewhere.route(), CheckInRoute::Transit);
    // A librarian of one school is at that school: naming another is a mistake.
    let other =
        suite.loans().check_in(bearer(check_in_at("P000002", &middle), &at_primary)).await.unwrap_err();
    assert_eq!(other.code(), Code::InvalidArgument, "{other:?}");
    assert!(other.message().starts_with("desk_school_id"), "{other:?}");
}
