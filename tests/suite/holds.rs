//! Holds through the gateway: readers queue for a title, a returned copy
//! goes to the first in line (on the hold shelf, or in transit to another
//! school), the desk's pull list finds copies on the shelves, a copy on the
//! hold shelf is lent only to its reader, a hold not picked up in time
//! passes the copy on, and readers waiting ahead with no copy to spare stop
//! others borrowing and renewing — also when two readers race for the last
//! copy.

use std::time::Duration;

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{
    CancelHoldRequest, CheckInRequest, CheckOutRequest, Hold, HoldStatus, ListHoldsRequest,
    ListPullListRequest, PlaceHoldRequest, RenewRequest,
};
use lectern_proto::notification::v1::{ListNoticesRequest, NoticeKind};
use lectern_proto::reader::v1::StaffRole;
use tonic::Code;

use crate::harness::{TestSuite, assert_refused, bearer, eventually};

fn checkout(card: &str, copy: &str) -> CheckOutRequest {
    CheckOutRequest { reader_card_barcode: card.into(), copy_barcode: copy.into(), ..Default::default() }
}

fn checkin(copy: &str) -> CheckInRequest {
    CheckInRequest { copy_barcode: copy.into(), request_id: String::new(), ..Default::default() }
}

fn on_title(card: &str, title_id: &str) -> PlaceHoldRequest {
    PlaceHoldRequest { reader_card_barcode: card.into(), title_id: title_id.into(), ..Default::default() }
}

fn status(hold: &Hold) -> HoldStatus {
    HoldStatus::try_from(hold.status).unwrap_or(HoldStatus::Unspecified)
}

#[tokio::test]
async fn holds_queue_for_a_title_and_copies_go_to_the_first_in_line() {
    let suite = TestSuite::start().await;
    let here = suite.school("HOLD-PRI", "预约小学").await;
    let there = suite.school("HOLD-MID", "预约中学").await;
    let mut readers = Vec::new();
    for card in ["R800001", "R800002", "R800003", "R800004", "R800005", "R800006"] {
        readers.push(suite.student(&here, card).await);
    }
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    suite.copy(&title, &here, "H800001").await;
    suite.copy(&title, &here, "H800002").await;
    suite.copy(&title, &there, "H800101").await;
    let librarian = suite.staff("hold.librarian", StaffRole::Librarian, &[&here]).await;
    let elsewhere = suite.staff("hold.elsewhere", StaffRole::Librarian, &[&there]).await;
    let _circulation = suite.loans();

    // Both copies here are out with the first reader.
    for copy in ["H800001", "H800002"] {
        suite.loans().check_out(bearer(checkout("R800001", copy), &librarian)).await.expect("lent");
    }

    // The second reader holds the title from their phone, the third at the desk.
    let phone = suite.reader_signed_in(&readers[1], "1357").await;
    let second = suite
        .holds()
        .place_hold(bearer(on_title("", &title.id), &phone))
        .await
        .expect("a reader places a hold")
        .into_inner();
    assert_eq!(
        (status(&second), second.position, second.pickup_school_id.as_str()),
        (HoldStatus::Waiting, 1, here.id.as_str())
    );
    let third = suite
        .holds()
        .place_hold(bearer(on_title("R800003", &title.id), &librarian))
        .await
        .expect("desk hold")
        .into_inner();
    assert_eq!(third.position, 2);
    assert_refused(
        suite.holds().place_hold(bearer(on_title("", &title.id), &phone)).await,
        Code::AlreadyExists,
        Reason::HoldAlreadyPlaced,
    );

    // Readers waiting: the first reader cannot renew.
    assert_refused(
        suite
            .loans()
            .renew(bearer(RenewRequest { copy_barcode: "H800001".into(), ..Default::default() }, &librarian))
            .await,
        Code::FailedPrecondition,
        Reason::HeldForAnotherReader,
    );

    // The other school's pull list has the copy on its shelf for the first in line.
    let pull = suite
        .holds()
        .list_pull_list(bearer(ListPullListRequest { school_id: there.id.clone() }, &elsewhere))
        .await
        .expect("pull list")
        .into_inner()
        .entries;
    assert_eq!(pull.len(), 1);
    assert_eq!((pull[0].copy_barcode.as_str(), pull[0].hold_id.as_str()), ("H800101", second.id.as_str()));
    let none_here = suite
        .holds()
        .list_pull_list(bearer(ListPullListRequest { school_id: here.id.clone() }, &librarian))
        .await
        .expect("pull list here")
        .into_inner();
    assert!(none_here.entries.is_empty());

    // Pulled and scanned there, it travels; scanned here, it waits on the hold shelf.
    let sent =
        suite.loans().check_in(bearer(checkin("H800101"), &elsewhere)).await.expect("pulled").into_inner();
    let sent = sent.hold.expect("taken for the hold");
    assert_eq!((sent.id.as_str(), status(&sent)), (second.id.as_str(), HoldStatus::InTransit));
    let arrived =
        suite.loans().check_in(bearer(checkin("H800101"), &librarian)).await.expect("arrived").into_inner();
    let arrived = arrived.hold.expect("the hold it came for");
    assert_eq!(status(&arrived), HoldStatus::Ready);
    assert!(arrived.expire_time.is_some());

    // On the hold shelf it is lent only to its reader, here.
    assert_refused(
        suite.loans().check_out(bearer(checkout("R800003", "H800101"), &librarian)).await,
        Code::FailedPrecondition,
        Reason::HeldForAnotherReader,
    );
    suite.loans().check_out(bearer(checkout("R800002", "H800101"), &librarian)).await.expect("picked up");
    let holds = suite
        .holds()
        .list_holds(bearer(
            ListHoldsRequest { reader_id: readers[1].id.clone(), include_closed: true },
            &phone,
        ))
        .await
        .expect("own holds")
        .into_inner()
        .holds;
    assert_eq!(holds.iter().map(status).collect::<Vec<_>>(), [HoldStatus::Fulfilled]);

    // A return here goes to the next in line, who hears it is ready.
    let returned =
        suite.loans().check_in(bearer(checkin("H800001"), &librarian)).await.expect("returned").into_inner();
    let trapped = returned.hold.expect("taken for the next hold");
    assert_eq!((trapped.id.as_str(), status(&trapped)), (third.id.as_str(), HoldStatus::Ready));
    let notice = eventually(Duration::from_secs(20), "the hold-ready notice", || async {
        suite
            .notifications()
            .list_notices(
                suite.admin(ListNoticesRequest { reader_id: readers[2].id.clone(), ..Default::default() }),
            )
            .await
            .ok()?
            .into_inner()
            .notices
            .into_iter()
            .find(|notice| notice.kind == NoticeKind::HoldReady as i32)
    })
    .await;
    assert!(notice.message.starts_with("你预约的《草房子》已到馆"), "{}", notice.message);

    // Cancelled, its copy goes back on the shelf (no one else waits).
    let cancelled = suite
        .holds()
        .cancel_hold(bearer(
            CancelHoldRequest { hold_id: third.id.clone(), request_id: String::new() },
            &librarian,
        ))
        .await
        .expect("cancelled")
        .into_inner();
    assert_eq!(status(&cancelled), HoldStatus::Cancelled);
    assert_refused(
        suite
            .holds()
            .cancel_hold(bearer(
                CancelHoldRequest { hold_id: third.id.clone(), request_id: String::new() },
                &librarian,
            ))
            .await,
        Code::FailedPrecondition,
        Reason::HoldClosed,
    );

    // A hold not picked up in time expires; the copy goes back on the shelf.
    let fourth = suite
        .holds()
        .place_hold(bearer(on_title("R800004", &title.id), &librarian))
        .await
        .expect("hold")
        .into_inner();
    let returned =
        suite.loans().check_in(bearer(checkin("H800002"), &librarian)).await.expect("returned").into_inner();
    assert_eq!(returned.hold.map(|hold| hold.id), Some(fourth.id.clone()));
    suite.clock.advance(chrono::Duration::days(10));
    // Tokens expire as the clock moves: sign in again.
    let librarian =
        suite.login("hold.librarian", "hold.librarian-own-password").await.expect("signed in").access_token;
    let expired = eventually(Duration::from_secs(20), "the hold to expire", || async {
        let holds = suite
            .holds()
            .list_holds(bearer(
                ListHoldsRequest { reader_id: readers[3].id.clone(), include_closed: true },
                &librarian,
            ))
            .await
            .ok()?
            .into_inner()
            .holds;
        holds.into_iter().find(|hold| status(hold) == HoldStatus::Expired)
    })
    .await;
    assert_eq!(expired.id, fourth.id);

    // One reader waits; two copies on the shelf: one may go to someone else,
    // the last one only to the reader waiting.
    suite.holds().place_hold(bearer(on_title("R800005", &title.id), &librarian)).await.expect("hold");
    suite
        .loans()
        .check_out(bearer(checkout("R800006", "H800001"), &librarian))
        .await
        .expect("a copy to spare");
    assert_refused(
        suite.loans().check_out(bearer(checkout("R800001", "H800002"), &librarian)).await,
        Code::FailedPrecondition,
        Reason::HeldForAnotherReader,
    );
    suite
        .loans()
        .check_out(bearer(checkout("R800005", "H800002"), &librarian))
        .await
        .expect("the waiting reader");
}

#[tokio::test]
async fn two_readers_racing_for_the_last_copy_a_hold_waits_for() {
    let suite = TestSuite::start().await;
    let school = suite.school("RACE-PRI", "抢书小学").await;
    let first = suite.student(&school, "R810001").await;
    suite.student(&school, "R810002").await;
    let title = suite.title("978-7-5346-8798-3", "草房子", "曹文轩").await;
    suite.copy(&title, &school, "H810001").await;
    let _circulation = suite.holds();
    suite.holds().place_hold(suite.admin(on_title("R810001", &title.id))).await.expect("hold");

    // Both at once, at two desks: the reader in line wins; the other is
    // refused, because the hold waits or because the copy is already lent.
    let attempts: Vec<_> = ["R810002", "R810001"]
        .into_iter()
        .map(|card| {
            let request = suite.admin(checkout(card, "H810001"));
            let mut circulation = suite.loans();
            tokio::spawn(async move { (card, circulation.check_out(request).await) })
        })
        .collect();
    for attempt in attempts {
        match attempt.await.unwrap() {
            ("R810001", result) => {
                result.expect("the reader in line borrows it");
            }
            (card, Err(status)) => {
                let reason = lectern_core::refusal::reason_of(&status);
                assert!(
                    matches!(reason, Some(Reason::HeldForAnotherReader | Reason::CopyAlreadyOnLoan)),
                    "{card}: {status:?}"
                );
            }
            (card, Ok(_)) => panic!("{card} took the copy the hold waits for"),
        }
    }
    let holds = suite
        .holds()
        .list_holds(suite.admin(ListHoldsRequest { reader_id: first.id.clone(), include_closed: true }))
        .await
        .expect("holds")
        .into_inner()
        .holds;
    assert_eq!(holds.iter().map(status).collect::<Vec<_>>(), [HoldStatus::Fulfilled]);
}
