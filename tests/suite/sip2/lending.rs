//! Lending and returning at a machine: the patron signed in with a PIN,
//! only the machine's school's copies lent, returns routed (shelf or
//! transit home), a check-out resent after a lost answer — on the same
//! connection or after a reconnect — lending once with the same answer,
//! and wrong PINs counted together with the gateway's sign-in.

use lectern_core::refusal::Reason;
use lectern_proto::circulation::v1::{CheckOutRequest, GetReaderSummaryRequest};
use tonic::Code;

use super::Library;
use super::machine::{FIXED_10, FIXED_12, FIXED_64, date, field, lent, sealed, unsealed};
use crate::harness::{TestSuite, assert_refused};
use crate::self_service::reader_login_at;

/// The copies lent to `card` now (asked as the admin).
async fn loans_of(suite: &TestSuite, card: &str) -> Vec<String> {
    let summary = suite
        .loans()
        .get_reader_summary(
            suite.admin(GetReaderSummaryRequest { reader_card_barcode: card.into(), ..Default::default() }),
        )
        .await
        .expect("the reader's summary")
        .into_inner();
    let mut copies: Vec<String> = summary.loans.into_iter().map(|loan| loan.copy_barcode).collect();
    copies.sort();
    copies
}

#[tokio::test]
async fn a_machine_lends_its_schools_copies_once_even_when_an_answer_is_lost() {
    let library = Library::open().await;
    let suite = &library.suite;
    let theirs = suite.school("XH-MID", "徐汇中学").await;
    library.reader(&library.school, "R100001", "0427").await;
    library.reader(&theirs, "R200001", "2001").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    for copy in ["P000001", "P000002", "P000003"] {
        suite.copy(&title, &library.school, copy).await;
    }
    suite.copy(&title, &theirs, "Q000001").await;
    suite.copy(&title, &theirs, "Q000002").await;

    let mut machine = library.machine().await;
    // The card with its PIN signs the patron in.
    let patron = machine.patron("R100001", "0427").await;
    assert_eq!(field(&patron, FIXED_64, "BL").as_deref(), Some("Y"), "{patron}");
    assert_eq!(field(&patron, FIXED_64, "CQ").as_deref(), Some("Y"), "{patron}");
    assert!(field(&patron, FIXED_64, "AE").is_some_and(|name| !name.is_empty()), "{patron}");
    // An invented card never authenticates.
    let unknown = machine.ask(&format!("63001{}          AO|AAR999999|AD0427|", date(2))).await;
    assert_eq!(field(&unknown, FIXED_64, "BL").as_deref(), Some("N"), "{unknown}");
    assert_eq!(field(&unknown, FIXED_64, "CQ").as_deref(), Some("N"), "{unknown}");
    // Another school's reader is not served here.
    let stranger = machine.patron("R200001", "2001").await;
    assert_eq!(field(&stranger, FIXED_64, "CQ").as_deref(), Some("N"), "{stranger}");
    machine.patron("R100001", "0427").await;

    // Another school's copy: 12 with ok 0 and a reason on the screen.
    let refused = machine.checkout("R100001", "Q000001", &date(10)).await;
    assert!(refused.starts_with("120"), "{refused}");
    assert!(field(&refused, FIXED_12, "AF").is_some_and(|text| !text.is_empty()), "{refused}");
    // Its own school's: lent, with the title and the due day.
    let answer = machine.checkout("R100001", "P000001", &date(11)).await;
    assert!(lent(&answer), "{answer}");
    assert_eq!(field(&answer, FIXED_12, "AJ").as_deref(), Some("草房子"), "{answer}");
    assert!(field(&answer, FIXED_12, "AH").is_some_and(|due| !due.is_empty()), "{answer}");

    // The same bytes again on the same connection: the same answer, byte
    // for byte, and no second act.
    let resent = sealed(&super::machine::checkout_message("R100001", "P000002", &date(12)), 5);
    assert!(machine.send(&resent).await);
    let first = machine.answer().await.expect("an answer");
    assert!(machine.send(&resent).await);
    assert_eq!(machine.answer().await.as_deref(), Some(first.as_str()));
    assert!(lent(&first), "{first}");

    // The answer lost with the connection: after a reconnect the machine
    // sends the same check-out (same transaction date) again.
    let message = format!("{}AD0427|", super::machine::checkout_message("R100001", "P000003", &date(13)));
    let before = machine.ask(&message).await;
    assert!(lent(&before), "{before}");
    drop(machine);
    let mut machine = library.machine().await;
    let after = machine.ask(&message).await;
    assert_eq!(unsealed(&after), unsealed(&before), "the same answer after a reconnect");
    assert_eq!(loans_of(suite, "R100001").await, ["P000001", "P000002", "P000003"]);

    // Returns at the machine need no patron: the device is the return box.
    suite
        .loans()
        .check_out(suite.admin(CheckOutRequest {
            reader_card_barcode: "R200001".into(),
            copy_barcode: "Q000002".into(),
            ..Default::default()
        }))
        .await
        .unwrap();
    let mut return_box = library.machine().await;
    let home = return_box.ask(&format!("09N{}{}APdoor|AO|ABP000001|AC|", date(20), date(20))).await;
    assert!(home.starts_with("101"), "{home}");
    assert_eq!(field(&home, FIXED_10, "AJ").as_deref(), Some("草房子"), "{home}");
    assert_eq!(field(&home, FIXED_10, "CL").as_deref(), Some("1"), "to the shelf: {home}");
    let away = return_box.ask(&format!("09N{}{}APdoor|AO|ABQ000002|AC|", date(21), date(21))).await;
    assert!(away.starts_with("101"), "{away}");
    assert_eq!(&away[5..6], "Y", "alert: {away}");
    assert_eq!(field(&away, FIXED_10, "CL").as_deref(), Some("3"), "into the transit box: {away}");
    assert_eq!(field(&away, FIXED_10, "CV").as_deref(), Some("04"), "{away}");
    assert_eq!(field(&away, FIXED_10, "CT").as_deref(), Some("徐汇中学"), "{away}");
    assert!(!away.contains("R200001"), "no patron on a return's answer: {away}");
    assert_eq!(loans_of(suite, "R100001").await, ["P000002", "P000003"]);
    assert!(loans_of(suite, "R200001").await.is_empty());
}

#[tokio::test]
async fn wrong_pins_at_the_machine_and_at_the_gateway_share_one_lockout() {
    let library = Library::open().await;
    let suite = &library.suite;
    library.reader(&library.school, "R100001", "0427").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    suite.copy(&title, &library.school, "P000001").await;

    let mut machine = library.machine().await;
    // Two wrong PINs at the gateway, three at the machine: five in all.
    for _ in 0..2 {
        assert_refused(
            reader_login_at(suite, "R100001", "9999", None).await,
            Code::Unauthenticated,
            Reason::CredentialsInvalid,
        );
    }
    for _ in 0..3 {
        let wrong = machine.patron("R100001", "9999").await;
        assert_eq!(field(&wrong, FIXED_64, "CQ").as_deref(), Some("N"), "{wrong}");
    }
    // Locked everywhere, the right PIN too.
    assert_refused(
        reader_login_at(suite, "R100001", "0427", None).await,
        Code::PermissionDenied,
        Reason::AccountLocked,
    );
    let locked = machine.patron("R100001", "0427").await;
    assert_eq!(field(&locked, FIXED_64, "CQ").as_deref(), Some("N"), "{locked}");
    let message = format!("{}AD0427|", super::machine::checkout_message("R100001", "P000001", &date(30)));
    let refused = machine.ask(&message).await;
    assert!(refused.starts_with("120"), "{refused}");
    assert!(loans_of(suite, "R100001").await.is_empty());
}
