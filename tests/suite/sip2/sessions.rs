//! How long a machine's connection lives and who it lends to without a
//! PIN: a card-only machine (young children's) lends on the card alone,
//! any other asks for the PIN first; a connection silent past the idle
//! limit is closed by Lectern, and a keep-alive 99 within it keeps it open.

use std::time::Duration;

use lectern_proto::circulation::v1::GetReaderSummaryRequest;
use lectern_proto::reader::v1::DeviceSettings;
use tokio::time::Instant;

use super::machine::{FIXED_12, Machine, NO_DATE, checkout_message, date, field, lent};
use super::{Library, machine_of};

#[tokio::test]
async fn a_card_only_machine_lends_on_the_card_alone_and_any_other_wants_the_pin() {
    let library = Library::open().await;
    let suite = &library.suite;
    library.reader(&library.school, "R100001", "0427").await;
    let title = suite.title("9787534687983", "草房子", "曹文轩").await;
    for copy in ["P000001", "P000002"] {
        suite.copy(&title, &library.school, copy).await;
    }
    let (card_only, card_only_key) = machine_of(
        suite,
        &library.school.id,
        Some(DeviceSettings { card_only: true, ..DeviceSettings::default() }),
    )
    .await;

    // The usual machine: a check-out without a PIN and no one signed in is
    // refused, and says to enter the PIN.
    let mut with_pin = library.machine().await;
    let refused = with_pin.checkout("R100001", "P000001", &date(1)).await;
    assert!(refused.starts_with("120"), "{refused}");
    assert!(field(&refused, FIXED_12, "AF").is_some_and(|text| !text.is_empty()), "{refused}");

    // The card-only machine: the card alone lends, with the title.
    let mut young = Machine::logged_in(library.address(), &card_only, &card_only_key).await;
    let answer = young.checkout("R100001", "P000001", &date(2)).await;
    assert!(lent(&answer), "{answer}");
    assert_eq!(field(&answer, FIXED_12, "AJ").as_deref(), Some("草房子"), "{answer}");
    // An unknown card is still refused there.
    let unknown = young.ask(&format!("11NN{}{NO_DATE}AO|AAR999999|ABP000002|AC|", date(3))).await;
    assert!(unknown.starts_with("120"), "{unknown}");
    // A PIN typed anyway is still checked: a wrong one lends nothing.
    let wrong = young.ask(&format!("{}AD9999|", checkout_message("R100001", "P000002", &date(4)))).await;
    assert!(wrong.starts_with("120"), "{wrong}");

    let loans: Vec<String> =
        suite
            .loans()
            .get_reader_summary(suite.admin(GetReaderSummaryRequest {
                reader_card_barcode: "R100001".into(),
                ..Default::default()
            }))
            .await
            .expect("the reader's summary")
            .into_inner()
            .loans
            .into_iter()
            .map(|loan| loan.copy_barcode)
            .collect();
    assert_eq!(loans, ["P000001"]);
}

/// The idle limit of the test below: long enough for a busy two-core
/// machine to answer a status message well within it.
const IDLE: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn an_idle_connection_is_closed_and_a_keep_alive_keeps_it_open() {
    let library = Library::open_with(|config| config.sip2.idle_timeout = IDLE).await;
    let mut kept = library.machine().await;
    let mut idle = library.machine().await;

    // Keep-alives every half limit, for twice the limit in all.
    let mut last_word = Instant::now();
    for _ in 0..4 {
        assert!(kept.open_for(IDLE / 2).await, "closed although it sent a keep-alive in time");
        let status = kept.ask("9900302.00").await;
        assert!(status.starts_with("98Y"), "{status}");
        last_word = Instant::now();
    }

    // The other one has said nothing since its login: Lectern closed it,
    // and still serves new connections.
    assert!(idle.closed().await, "the idle connection is closed");
    let mut fresh = library.machine().await;
    let status = fresh.ask("9900302.00").await;
    assert!(status.starts_with("98Y"), "{status}");
    // The kept one too, once it falls silent, and not before the limit.
    assert!(kept.closed().await, "closed after it fell silent");
    assert!(last_word.elapsed() >= IDLE, "closed after {:?}", last_word.elapsed());
}
