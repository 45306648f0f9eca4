//! The desk's hold shelf: the holds whose copy waits at a school for its
//! reader, the soonest to expire first; not the holds still waiting for a
//! copy, nor another school's shelf.

use chrono::Duration;
use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    CheckInRequest, Hold, HoldStatus, ListHoldShelfRequest, ListHoldShelfResponse, PlaceHoldRequest,
};
use lectern_proto::reader::v1::{School, StaffRole};
use tonic::Code;

use crate::harness::{ADMIN_PASSWORD, TestSuite, assert_invalid, assert_refused, bearer};

fn on_title(card: &str, title_id: &str) -> PlaceHoldRequest {
    PlaceHoldRequest { reader_card_barcode: card.into(), title_id: title_id.into(), ..Default::default() }
}

/// Scans `copy` at the desk: a copy someone holds goes on the hold shelf.
async fn pulled(suite: &TestSuite, token: &str, copy: &str) -> Hold {
    let scanned = CheckInRequest { copy_barcode: copy.into(), ..Default::default() };
    let answer = suite.loans().check_in(bearer(scanned, token)).await.expect("scanned").into_inner();
    let hold = answer.hold.expect("taken for a hold");
    assert_eq!(hold.status(), HoldStatus::Ready);
    hold
}

fn shelf(school: &School, page_size: i32, page_token: &str) -> ListHoldShelfRequest {
    ListHoldShelfRequest { school_id: school.id.clone(), page_size, page_token: page_token.into() }
}

async fn hold_shelf(suite: &TestSuite, token: &str, request: ListHoldShelfRequest) -> ListHoldShelfResponse {
    suite.holds().list_hold_shelf(bearer(request, token)).await.expect("the hold shelf").into_inner()
}

fn ids(holds: &[Hold]) -> Vec<&str> {
    holds.iter().map(|hold| hold.id.as_str()).collect()
}

#[tokio::test]
async fn the_hold_shelf_lists_what_waits_here_soonest_to_expire_first() {
    let suite = TestSuite::start().await;
    let here = suite.school("SHELF-PRI", "书架小学").await;
    let there = suite.school("SHELF-MID", "书架中学").await;
    for card in ["R990001", "R990002", "R990003"] {
        suite.student(&here, card).await;
    }
    suite.student(&there, "R990101").await;
    let first = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    let second = suite.title("978-7-02-000872-8", "西游记", "吴承恩").await;
    let theirs = suite.title("978-7-5324-3012-3", "小王子", "圣埃克苏佩里").await;
    let unavailable = suite.title("978-7-5448-0001-3", "没有书的书", "佚名").await;
    suite.copy(&first, &here, "SH990001").await;
    suite.copy(&second, &here, "SH990002").await;
    suite.copy(&theirs, &there, "SH990101").await;
    let at_here = suite.staff("shelf.here", StaffRole::Librarian, &[&here]).await;
    let at_there = suite.staff("shelf.there", StaffRole::Librarian, &[&there]).await;

    // Three holds here (one on a title no copy can fill: it keeps
    // waiting), one at the other school.
    let placed_first =
        suite.holds().place_hold(bearer(on_title("R990001", &first.id), &at_here)).await.expect("hold");
    let placed_second =
        suite.holds().place_hold(bearer(on_title("R990002", &second.id), &at_here)).await.expect("hold");
    let waiting =
        suite.holds().place_hold(bearer(on_title("R990003", &unavailable.id), &at_here)).await.expect("hold");
    assert_eq!(waiting.into_inner().status(), HoldStatus::Waiting);
    suite.holds().place_hold(bearer(on_title("R990101", &theirs.id), &at_there)).await.expect("hold there");
    assert!(hold_shelf(&suite, &at_here, shelf(&here, 0, "")).await.holds.is_empty());

    // The hold placed second goes on the shelf a day before the first, so
    // it stops waiting a day sooner and comes first.
    let second_ready = pulled(&suite, &at_here, "SH990002").await;
    assert_eq!(second_ready.id, placed_second.into_inner().id);
    pulled(&suite, &at_there, "SH990101").await;
    suite.clock.advance(Duration::days(1));
    let at_here = signed_in_again(&suite, "shelf.here").await;
    let first_ready = pulled(&suite, &at_here, "SH990001").await;
    assert_eq!(first_ready.id, placed_first.into_inner().id);
    let seconds = |hold: &Hold| hold.expire_time.as_ref().map(|at| at.seconds);
    assert!(seconds(&second_ready) < seconds(&first_ready), "{second_ready:?} {first_ready:?}");

    let listed = hold_shelf(&suite, &at_here, shelf(&here, 0, "")).await;
    assert_eq!(ids(&listed.holds), [second_ready.id.as_str(), first_ready.id.as_str()]);
    assert!(listed.next_page_token.is_empty());
    let shown = &listed.holds[0];
    assert_eq!(
        (shown.status(), shown.copy_barcode.as_str(), shown.title.as_str(), shown.position),
        (HoldStatus::Ready, "SH990002", "西游记", 0)
    );
    assert_eq!((shown.ready_time.is_some(), shown.pickup_school_id.as_str()), (true, here.id.as_str()));

    // A page at a time.
    let page = hold_shelf(&suite, &at_here, shelf(&here, 1, "")).await;
    assert_eq!(ids(&page.holds), [second_ready.id.as_str()]);
    assert!(!page.next_page_token.is_empty());
    let next = hold_shelf(&suite, &at_here, shelf(&here, 1, &page.next_page_token)).await;
    assert_eq!(ids(&next.holds), [first_ready.id.as_str()]);
    assert!(next.next_page_token.is_empty());

    // The other school's shelf has its own hold; district admins see both.
    let at_there = signed_in_again(&suite, "shelf.there").await;
    let theirs = hold_shelf(&suite, &at_there, shelf(&there, 0, "")).await;
    assert_eq!(theirs.holds.len(), 1);
    assert_eq!(theirs.holds[0].copy_barcode, "SH990101");
    let admin = suite.login("admin", ADMIN_PASSWORD).await.expect("admin").access_token;
    assert_eq!(hold_shelf(&suite, &admin, shelf(&here, 0, "")).await.holds.len(), 2);

    // Another school's librarian is refused; a bad page size names itself.
    assert_refused(
        suite.holds().list_hold_shelf(bearer(shelf(&here, 0, ""), &at_there)).await,
        Code::PermissionDenied,
        Reason::SchoolNotAllowed,
    );
    assert_invalid(suite.holds().list_hold_shelf(bearer(shelf(&here, -1, ""), &at_here)).await, "page_size");
    assert_invalid(
        suite.holds().list_hold_shelf(bearer(shelf(&here, 0, "not a token"), &at_here)).await,
        "page_token",
    );
    let mut no_school = shelf(&here, 0, "");
    no_school.school_id.clear();
    assert_invalid(suite.holds().list_hold_shelf(bearer(no_school, &at_here)).await, "school_id");
}

/// A fresh token of staff member `username` (see `TestSuite::staff`).
async fn signed_in_again(suite: &TestSuite, username: &str) -> String {
    suite.login(username, &format!("{username}-own-password")).await.expect("signed in").access_token
}
