//! The patron's account at a machine, against a running suite: 65 renews
//! every loan, 37 pays a fee the desk charged (and circulation no longer
//! has it), 15 places a hold the reader then has (and a refused one says
//! why), and 23 tells a blocked patron from one who may borrow.

use std::time::Duration;

use lectern_proto::circulation::v1::{
    ChargeFeeRequest, CheckOutRequest, FeeKind, GetReaderSummaryRequest, ReaderSummary,
};
use lectern_proto::reader::v1::CreateReaderBlockRequest;

use super::Library;
use super::machine::{FIXED_16, FIXED_24, FIXED_38, FIXED_64, FIXED_66, date, field, fields, lent};
use crate::harness::TestSuite;

/// The reader's account as circulation reports it (asked as the admin).
async fn summary_of(suite: &TestSuite, card: &str) -> ReaderSummary {
    suite
        .loans()
        .get_reader_summary(
            suite.admin(GetReaderSummaryRequest { reader_card_barcode: card.into(), ..Default::default() }),
        )
        .await
        .expect("the reader's summary")
        .into_inner()
}

#[tokio::test]
async fn a_patron_renews_all_pays_a_fee_and_places_a_hold_at_the_machine() {
    let library = Library::open().await;
    let suite = &library.suite;
    library.reader(&library.school, "R100001", "0427").await;
    suite.student(&library.school, "R100002").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    for copy in ["P000001", "P000002", "P000003"] {
        suite.copy(&title, &library.school, copy).await;
    }
    let mut machine = library.machine().await;
    machine.patron("R100001", "0427").await;
    for (n, copy) in ["P000001", "P000002"].into_iter().enumerate() {
        let answer = machine.checkout("R100001", copy, &date(10 + n as u32)).await;
        assert!(lent(&answer), "{answer}");
    }

    // 65: both loans renewed, counted and listed; none refused.
    let renewed = machine.ask(&format!("65{}AO|AAR100001|", date(20))).await;
    assert!(renewed.starts_with("66"), "{renewed}");
    assert_eq!(&renewed[2..11], "100020000", "ok, 2 renewed, 0 not: {renewed}");
    let mut items = fields(&renewed, FIXED_66, "BM");
    items.sort();
    assert_eq!(items, ["P000001", "P000002"], "{renewed}");
    assert!(fields(&renewed, FIXED_66, "BN").is_empty(), "{renewed}");
    assert!(field(&renewed, FIXED_66, "AF").is_some_and(|text| !text.is_empty()), "{renewed}");
    let account = summary_of(suite, "R100001").await;
    assert_eq!(account.loans.len(), 2);
    assert!(account.loans.iter().all(|loan| loan.renewals == 1), "{:?}", account.loans);

    // The desk charges a damaged book; the machine lists it as a fine.
    let loan = account.loans.iter().find(|loan| loan.copy_barcode == "P000001").expect("the loan");
    let fee = suite
        .fees()
        .charge_fee(suite.admin(ChargeFeeRequest {
            loan_id: loan.id.clone(),
            kind: FeeKind::Damaged.into(),
            amount: 300,
            note: "封面撕破".into(),
            request_id: String::new(),
        }))
        .await
        .expect("the desk charges a damaged book")
        .into_inner();
    let owed = machine.ask(&format!("63001{}   Y      AO|AAR100001|", date(30))).await;
    assert!(owed.starts_with("64"), "{owed}");
    assert_eq!(field(&owed, FIXED_64, "BV").as_deref(), Some("3.00"), "{owed}");
    assert_eq!(&owed[2 + 35 + 12..2 + 35 + 16], "0001", "one fine item: {owed}");
    let fine = field(&owed, FIXED_64, "AV").expect("the fine listed");
    assert!(fine.starts_with(&fee.id) && fine.contains("3.00"), "{owed}");

    // 37: the machine took 3.00 for that fee; circulation has it paid.
    let paid = machine.ask(&format!("37{}0100CNYBV3.00|AO|AAR100001|CG{}|BKcash-1|", date(31), fee.id)).await;
    assert!(paid.starts_with("38Y"), "payment accepted: {paid}");
    assert_eq!(field(&paid, FIXED_38, "AA").as_deref(), Some("R100001"), "{paid}");
    assert_eq!(field(&paid, FIXED_38, "BK").as_deref(), Some("cash-1"), "{paid}");
    assert!(field(&paid, FIXED_38, "AF").is_some_and(|text| !text.is_empty()), "{paid}");
    let account = summary_of(suite, "R100001").await;
    assert_eq!(account.balance, 0, "nothing owed: {:?}", account.fees);
    assert!(account.fees.iter().all(|fee| fee.outstanding == 0), "{:?}", account.fees);
    let settled = machine.ask(&format!("63001{}   Y      AO|AAR100001|", date(32))).await;
    assert_eq!(field(&settled, FIXED_64, "BV").as_deref(), Some("0.00"), "{settled}");
    assert_eq!(&settled[2 + 35 + 12..2 + 35 + 16], "0000", "no fine items: {settled}");

    // 15: a hold on a copy lent to someone else; the reader has it.
    suite
        .loans()
        .check_out(suite.admin(CheckOutRequest {
            reader_card_barcode: "R100002".into(),
            copy_barcode: "P000003".into(),
            ..Default::default()
        }))
        .await
        .expect("lent at the desk");
    let placed = machine.ask(&format!("15+{}AO|AAR100001|ABP000003|", date(40))).await;
    assert!(placed.starts_with("161N"), "placed, not ready yet: {placed}");
    assert_eq!(field(&placed, FIXED_16, "AJ").as_deref(), Some("草房子"), "{placed}");
    assert_eq!(field(&placed, FIXED_16, "BR").as_deref(), Some("1"), "first in line: {placed}");
    assert!(field(&placed, FIXED_16, "AF").is_some_and(|text| !text.is_empty()), "{placed}");
    let holds = summary_of(suite, "R100001").await.holds;
    assert_eq!(holds.len(), 1, "{holds:?}");
    assert_eq!(holds[0].title, "草房子");
    // The same hold again is refused: 0, and why on the screen.
    let again = machine.ask(&format!("15+{}AO|AAR100001|ABP000003|", date(41))).await;
    assert!(again.starts_with("160"), "refused: {again}");
    assert!(field(&again, FIXED_16, "AF").is_some_and(|text| !text.is_empty()), "{again}");
    assert_eq!(summary_of(suite, "R100001").await.holds.len(), 1);
}

#[tokio::test]
async fn patron_status_tells_a_blocked_patron_from_one_who_may_borrow() {
    let library = Library::open().await;
    let suite = &library.suite;
    let reader = library.reader(&library.school, "R100001", "0427").await;
    let mut machine = library.machine().await;

    // In good standing: no flag set, card and PIN good, the name, nothing owed.
    let good = machine.ask(&format!("23001{}AO|AAR100001|AD0427|", date(1))).await;
    assert!(good.starts_with("24"), "{good}");
    assert_eq!(&good[2..16], " ".repeat(14), "no privilege denied: {good}");
    assert_eq!(field(&good, FIXED_24, "AA").as_deref(), Some("R100001"), "{good}");
    assert_eq!(field(&good, FIXED_24, "AE").as_deref(), Some(reader.name.as_str()), "{good}");
    assert_eq!(field(&good, FIXED_24, "BL").as_deref(), Some("Y"), "{good}");
    assert_eq!(field(&good, FIXED_24, "CQ").as_deref(), Some("Y"), "{good}");
    assert_eq!(field(&good, FIXED_24, "BH").as_deref(), Some("CNY"), "{good}");
    assert_eq!(field(&good, FIXED_24, "BV").as_deref(), Some("0.00"), "{good}");
    let welcome = fields(&good, FIXED_24, "AF");
    assert_eq!(welcome.len(), 1, "a welcome only: {good}");

    // The desk blocks the card: charge, renewal and hold denied, and why.
    suite
        .readers()
        .create_reader_block(suite.admin(CreateReaderBlockRequest {
            reader_id: reader.id.clone(),
            reason: "丢失图书未赔偿".into(),
            ..Default::default()
        }))
        .await
        .expect("blocked at the desk");
    // Circulation learns of the block from the reader service's event.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut every = tokio::time::interval(Duration::from_millis(50));
    let mut n = 2;
    let blocked = loop {
        every.tick().await;
        let answer = machine.ask(&format!("23001{}AO|AAR100001|AD0427|", date(n))).await;
        if answer.starts_with("24Y") {
            break answer;
        }
        assert!(tokio::time::Instant::now() < deadline, "the block never showed: {answer}");
        n += 1;
    };
    let flags = &blocked[2..16];
    assert_eq!(&flags[..4], "YY Y", "charge, renewal and hold denied: {blocked}");
    assert_eq!(field(&blocked, FIXED_24, "BL").as_deref(), Some("Y"), "the card is still valid: {blocked}");
    assert_eq!(field(&blocked, FIXED_24, "AE").as_deref(), Some(reader.name.as_str()), "{blocked}");
    let messages = fields(&blocked, FIXED_24, "AF");
    assert!(messages.len() >= 2, "the welcome and why: {blocked}");
}
