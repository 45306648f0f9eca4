//! Readers are mostly children: no log line may carry a reader's name, a
//! guardian's phone or email, a password or a token. This test captures
//! every log line of a full demo scenario at debug level, a self-check
//! machine's SIP2 session included, and scans it.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use lectern_core::clock::Clock as _;
use lectern_proto::catalog::v1::SearchTitlesRequest;
use lectern_proto::circulation::v1::{CheckInRequest, CheckOutRequest, ListLoansRequest};
use lectern_proto::notification::v1::ListNoticesRequest;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    ContactChannel, ContactWho, CreateReaderContactRequest, CreateReaderRequest, EraseReaderRequest,
    ExportReaderDataRequest, ListReaderContactsRequest, LookupReaderRequest,
};

use crate::harness::{TestSuite, bearer};

/// Everything logged by this test binary, from the first call of `capture`.
fn capture() -> Arc<Mutex<Vec<u8>>> {
    static CAPTURED: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let sink = buffer.clone();
            tracing_subscriber::fmt()
                .with_env_filter("debug,h2=info,hyper=info,hyper_util=info,tower=info,tonic=info")
                .with_ansi(false)
                .with_writer(move || Sink(sink.clone()))
                .try_init()
                .expect("no other subscriber in the suite tests");
            buffer
        })
        .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_full_scenario_logs_no_reader_names_contacts_or_passwords() {
    let captured = capture();
    let suite = TestSuite::start_fresh().await;
    let one_time = suite.one_time_password.clone();
    let (admin, demo) =
        lectern::demo::load_at(&suite.suite.gateway_url(), "admin", &one_time, suite.clock.now())
            .await
            .unwrap();
    let token = suite.login("admin", &admin.password).await.unwrap().access_token;
    let readers = lectern::demo::DemoReader::all().unwrap();

    // The desk's day: look up, lend, refuse, return, read notices.
    let reader = suite
        .readers()
        .lookup_reader(bearer(LookupReaderRequest { card_barcode: "R100030".into() }, &token))
        .await
        .unwrap()
        .into_inner();
    let hits = suite
        .catalog()
        .search_titles(bearer(SearchTitlesRequest { query: "森林".into(), ..Default::default() }, &token))
        .await
        .unwrap()
        .into_inner()
        .hits;
    let barcode = hits[0].copies[0].barcode.clone();
    suite
        .loans()
        .check_out(bearer(
            CheckOutRequest {
                reader_card_barcode: "R100030".into(),
                copy_barcode: barcode.clone(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap();
    let expired = readers.iter().find(|reader| reader.expires_on.starts_with("2025")).unwrap();
    suite
        .loans()
        .check_out(bearer(
            CheckOutRequest {
                reader_card_barcode: expired.card_barcode.clone(),
                copy_barcode: barcode.clone(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    suite
        .readers()
        .create_reader(bearer(
            CreateReaderRequest {
                school_id: reader.school_id.clone(),
                card_barcode: "R100030".into(),
                name: reader.name.clone(),
                category: "student".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    suite
        .loans()
        .check_in(bearer(
            CheckInRequest { copy_barcode: barcode, request_id: String::new(), ..Default::default() },
            &token,
        ))
        .await
        .unwrap();
    suite
        .loans()
        .list_loans(bearer(ListLoansRequest { reader_id: reader.id.clone(), ..Default::default() }, &token))
        .await
        .unwrap();
    suite
        .notifications()
        .list_notices(bearer(
            ListNoticesRequest { reader_id: reader.id.clone(), ..Default::default() },
            &token,
        ))
        .await
        .unwrap();
    // The desk looks up how to reach the family, and mistypes a new number.
    let mut profiles = ReaderProfileServiceClient::new(suite.channel.clone());
    let contacts = profiles
        .list_reader_contacts(bearer(ListReaderContactsRequest { reader_id: reader.id.clone() }, &token))
        .await
        .unwrap()
        .into_inner()
        .contacts;
    assert_eq!(contacts.len(), 2, "the demo gives every reader a guardian's phone and email");
    profiles
        .create_reader_contact(bearer(
            CreateReaderContactRequest {
                reader_id: reader.id.clone(),
                who: ContactWho::Guardian.into(),
                channel: ContactChannel::Email.into(),
                value: "mistyped.guardian-address".into(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap_err();
    // A family asks for the child's data, then for its erasure.
    let export = suite
        .readers()
        .export_reader_data(bearer(ExportReaderDataRequest { reader_id: reader.id.clone() }, &token))
        .await
        .unwrap()
        .into_inner();
    assert!(export.json.contains(&reader.name), "the export itself carries the name");
    suite
        .readers()
        .erase_reader(bearer(
            EraseReaderRequest { reader_id: reader.id.clone(), ..Default::default() },
            &token,
        ))
        .await
        .unwrap();
    assert!(suite.login("admin", "a wrong password").await.is_err());
    let (sip2_card, sip2_pin) = sip2_session(&suite, &demo, &readers, &token).await;

    let log = String::from_utf8_lossy(&captured.lock().unwrap()).into_owned();
    // The capture works: the scenario's own lines are there.
    assert!(log.contains("copy lent") && log.contains("reader registered"), "nothing was captured");
    assert!(log.contains("reader data exported") && log.contains("reader erased"));
    for reader in &readers {
        assert!(!log.contains(&reader.name), "a log line names reader {}", reader.card_barcode);
        assert!(!log.contains(&reader.guardian_phone()), "a log line has a phone of {}", reader.card_barcode);
        assert!(
            !log.contains(&reader.guardian_email()),
            "a log line has an email of {}",
            reader.card_barcode
        );
    }
    assert!(log.contains("lent at the SIP2 machine"), "the SIP2 session was not captured");
    assert!(
        !log.contains(&sip2_card),
        "a log line has the card (or the card sent as a PIN) of a SIP2 patron"
    );
    assert!(!log.contains(&sip2_pin), "a log line has the PIN of a SIP2 patron");
    assert!(!log.contains("mistyped.guardian-address"), "a log line has a rejected contact value");
    for secret in [&one_time, &admin.password, &token] {
        assert!(!log.contains(secret.as_str()), "a log line carries a password or token");
    }
}

/// A patron's session at the demo's SIP2 machine: a machine that sends the
/// card as the PIN is refused, then the card with its PIN signs the reader
/// in, the account is read, a book lent and the session ended. The card
/// and the PIN used, which no log line may carry.
async fn sip2_session(
    suite: &TestSuite,
    demo: &lectern::demo::DemoSummary,
    readers: &[lectern::demo::DemoReader],
    token: &str,
) -> (String, String) {
    use crate::sip2::machine::{Machine, NO_DATE, date};
    use lectern_proto::catalog::v1::Availability;
    use lectern_proto::circulation::v1::GetReaderSummaryRequest;
    use lectern_proto::reader::v1::SetReaderPinRequest;

    // A reader of the machine's school who may borrow: no loans, no blocks.
    let mut patron = None;
    for candidate in readers.iter().filter(|reader| {
        reader.school_code == lectern::demo::DEVICE_SCHOOL
            && !reader.expires_on.starts_with("2025")
            && reader.card_barcode != "R100030"
    }) {
        let summary = suite
            .loans()
            .get_reader_summary(bearer(
                GetReaderSummaryRequest {
                    reader_card_barcode: candidate.card_barcode.clone(),
                    ..Default::default()
                },
                token,
            ))
            .await
            .unwrap()
            .into_inner();
        if summary.loans.is_empty() && summary.blocks.is_empty() {
            patron = summary.reader;
            break;
        }
    }
    let patron = patron.expect("a demo reader who may borrow");
    // A PIN that no timestamp or id is likely to contain.
    let pin = "73519046".to_owned();
    suite
        .readers()
        .set_reader_pin(bearer(SetReaderPinRequest { reader_id: patron.id.clone(), pin: pin.clone() }, token))
        .await
        .unwrap();
    let on_shelf = suite
        .catalog()
        .search_titles(bearer(
            SearchTitlesRequest {
                query: "森林".into(),
                school_id: patron.school_id.clone(),
                held_at_school_only: true,
                available_now: true,
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
        .hits;
    let copy = on_shelf
        .iter()
        .flat_map(|hit| &hit.copies)
        .find(|copy| copy.availability() == Availability::OnShelf)
        .expect("a copy on the shelf at the machine's school")
        .barcode
        .clone();
    let device = demo.devices.iter().find(|device| device.label == "SIP2 machine").expect("the demo machine");
    let address = suite.suite.sip2_addr().expect("the suite listens for SIP2");
    let mut machine = Machine::logged_in(address, &device.id, &device.key).await;
    let card = patron.card_barcode.clone();
    let refused = machine.ask(&format!("63001{}          AO|AA{card}|AD{card}|", date(1))).await;
    assert!(refused.contains("CQN"), "{refused}");
    let account = machine.ask(&format!("63001{}  Y       AO|AA{card}|AD{pin}|", date(2))).await;
    assert!(account.contains(&patron.name) && account.contains("CQY"), "{account}");
    let lent = machine.ask(&format!("11NN{}{NO_DATE}AO|AA{card}|AB{copy}|AC|", date(3))).await;
    assert!(lent.starts_with("121"), "{lent}");
    let ended = machine.ask(&format!("35{}AO|AA{card}|", date(4))).await;
    assert!(ended.starts_with("36Y"), "{ended}");
    (card, pin)
}
