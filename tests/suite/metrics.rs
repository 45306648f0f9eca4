//! The ops port's `/metrics` as district IT's Prometheus scrapes it: a
//! `lectern up --demo` process (on the suite's backend), scraped before and
//! after a morning at the primary school's desk over gRPC (two check-outs,
//! a retried check-out answered from memory, one refused, one return) and a
//! call to the JSON API. The counters move by exactly that work; the pool
//! and outbox series are there; the relay empties the outbox.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use lectern_common::db::with_database;
use lectern_common::testing::postgres_server_url;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{CheckInRequest, CheckOutRequest};
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::{LoginRequest, StaffCredentials, login_request};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::bearer;
use crate::sip2::machine::Machine;
use crate::up::{ServerDatabases, Up};

const CHECK_OUT: &str = "/lectern.circulation.v1.LoanService/CheckOut";

/// How long the relay may take to deliver the morning's events.
const DELIVERED_WITHIN: Duration = Duration::from_secs(30);

/// One series of a scrape: its name and labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Series {
    name: String,
    labels: BTreeMap<String, String>,
}

/// A scrape of `/metrics`: every series and its value.
#[derive(Debug)]
struct Scrape(Vec<(Series, f64)>);

impl Scrape {
    fn parse(text: &str) -> Self {
        let mut samples = Vec::new();
        for line in text.lines().filter(|line| !line.is_empty() && !line.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a value: {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, labels_of(rest.strip_suffix('}').unwrap())),
                None => (series, BTreeMap::new()),
            };
            samples.push((Series { name: name.to_owned(), labels }, value));
        }
        Self(samples)
    }

    /// The sum of the series named `name` that have all of `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|(_, value)| value).sum()
    }

    /// Whether a series named `name` with all of `labels` is there.
    fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        self.matching(name, labels).next().is_some()
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = (&'a Series, f64)> + 'a {
        self.0
            .iter()
            .filter(move |(series, _)| {
                series.name == name
                    && labels
                        .iter()
                        .all(|(key, value)| series.labels.get(*key).map(String::as_str) == Some(*value))
            })
            .map(|(series, value)| (series, *value))
    }
}

/// `a="x",b="y"` (values escaped as the exposition format escapes them).
fn labels_of(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((index, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => {}
                },
                '"' => {
                    end = index + 1;
                    break;
                }
                other => value.push(other),
            }
        }
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        rest = &after[end..];
    }
    labels
}

/// A plain HTTP/1.0 exchange (no keep-alive, no chunking): the status
/// code and body.
async fn http(address: &str, request: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {answer}"));
    let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap();
    (status, body.to_owned())
}

async fn scrape(address: &str) -> Scrape {
    let (status, body) = http(address, &format!("GET /metrics HTTP/1.0\r\nHost: {address}\r\n\r\n")).await;
    assert_eq!(status, 200, "{body}");
    Scrape::parse(&body)
}

/// `host:port` of a banner URL such as `http://127.0.0.1:9464/metrics`.
fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap().to_owned()
}

fn lend(card: &str, copy: &str, request_id: &str, token: &str) -> tonic::Request<CheckOutRequest> {
    bearer(
        CheckOutRequest {
            reader_card_barcode: card.into(),
            copy_barcode: copy.into(),
            request_id: request_id.into(),
            ..Default::default()
        },
        token,
    )
}

#[tokio::test]
async fn metrics_move_with_a_morning_at_the_desk() {
    let folder = tempfile::tempdir().unwrap();
    let data_dir = folder.path().join("data").display().to_string();
    let mut args = vec![
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
        "--sip2-listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
    ];
    let server = postgres_server_url();
    let databases = server.as_deref().map(|server| ServerDatabases::new(server, "metrics"));
    let database_url = match (&server, &databases) {
        (Some(server), Some(databases)) => Some(with_database(server, &databases.prefix)),
        _ => None,
    };
    if let Some(url) = &database_url {
        args.extend(["--database-url", url]);
    }
    let up = Up::start(&args);
    let metrics = authority(up.field("metrics:"));
    let http_edge = authority(up.field("desk (browser):"));
    let gateway = Channel::from_shared(format!("http://{}", up.field("gateway (gRPC):")))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let (username, password) = up.sign_in_line("librarian:");
    let before = scrape(&metrics).await;

    // The primary school's librarian: two books for R100012, the first one
    // sent twice (the desk retried), one refused (R100001 is long overdue),
    // and one of the two comes back.
    let token = GatewayServiceClient::new(gateway.clone())
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Staff(StaffCredentials { username, password })),
        })
        .await
        .unwrap()
        .into_inner()
        .access_token;
    let mut loans = LoanServiceClient::new(gateway.clone());
    let first_id = lectern_core::ids::new_id();
    let first = loans.check_out(lend("R100012", "P000002", &first_id, &token)).await.unwrap().into_inner();
    let school = first.loan.unwrap().school_id;
    let again = loans.check_out(lend("R100012", "P000002", &first_id, &token)).await.unwrap().into_inner();
    assert!(again.loan.is_some(), "the retry gets the first answer");
    loans.check_out(lend("R100012", "P000003", &lectern_core::ids::new_id(), &token)).await.unwrap();
    let refused = loans.check_out(lend("R100001", "P000005", &lectern_core::ids::new_id(), &token)).await;
    assert_eq!(refused.unwrap_err().code(), Code::FailedPrecondition);
    loans
        .check_in(bearer(
            CheckInRequest {
                copy_barcode: "P000002".into(),
                request_id: lectern_core::ids::new_id(),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap();
    // The self-check machine logs in (and stays connected until after
    // the scrape).
    let (device, key) = up.sign_in_line("SIP2 machine:");
    let sip2_address = up.field("SIP2 (self-check):").split(", ").next().unwrap().parse().unwrap();
    let mut machine = Machine::connect(sip2_address).await;
    assert!(machine.login(&device, &key).await, "the demo's SIP2 machine logs in");
    // A phone reads the JSON API's description.
    let (status, _) =
        http(&http_edge, &format!("GET /api/openapi.json HTTP/1.0\r\nHost: {http_edge}\r\n\r\n")).await;
    assert_eq!(status, 200);

    let after = scrape(&metrics).await;
    let delta = |name: &str, labels: &[(&str, &str)]| after.sum(name, labels) - before.sum(name, labels);

    // The desk's work, per school, once each (the retry is not a loan).
    assert_eq!(delta("lectern_checkouts_total", &[("school", &school)]), 2.0);
    assert_eq!(delta("lectern_checkins_total", &[("school", &school)]), 1.0);
    assert_eq!(delta("lectern_renewals_total", &[]), 0.0);

    // Calls per method and code, at the gateway and at circulation.
    for server in ["gateway", "circulation"] {
        let method = [("server", server), ("method", CHECK_OUT)];
        assert_eq!(delta("lectern_grpc_requests_total", &method), 4.0, "{server}");
        let refused = [("server", server), ("method", CHECK_OUT), ("code", "FAILED_PRECONDITION")];
        assert_eq!(delta("lectern_grpc_requests_total", &refused), 1.0, "{server}");
        let ok = [("server", server), ("method", CHECK_OUT), ("code", "OK")];
        assert_eq!(delta("lectern_grpc_requests_total", &ok), 3.0, "{server}");
        assert_eq!(delta("lectern_grpc_request_duration_seconds_count", &method), 4.0, "{server}");
        let slowest = [("server", server), ("method", CHECK_OUT), ("le", "+Inf")];
        assert_eq!(delta("lectern_grpc_request_duration_seconds_bucket", &slowest), 4.0, "{server}");
    }
    // Probes and reflection are not counted, and no raw path became a label.
    assert!(!after.has("lectern_grpc_requests_total", &[("method", "/grpc.health.v1.Health/Check")]));
    assert_eq!(
        delta("lectern_http_requests_total", &[("route", "/api/openapi.json"), ("status", "200")]),
        1.0
    );
    assert!(after.has("lectern_http_request_duration_seconds_bucket", &[("route", "/api/openapi.json")]));

    // The machine: one connection of a school, its login counted.
    let connected = |scrape: &Scrape| {
        scrape
            .matching("lectern_sip2_connections", &[])
            .filter(|(series, _)| series.labels.get("school").is_some_and(|school| school != "none"))
            .map(|(_, value)| value)
            .sum::<f64>()
    };
    assert_eq!(connected(&after) - connected(&before), 1.0);
    assert_eq!(delta("lectern_sip2_connections", &[("school", "none")]), 0.0);
    assert_eq!(delta("lectern_sip2_messages_total", &[("message", "93"), ("outcome", "ok")]), 1.0);
    drop(machine);

    // Every service's pool, and how long circulation waited for connections.
    for server in ["catalog", "circulation", "reader", "notification"] {
        for state in ["idle", "in_use"] {
            assert!(
                after.has("lectern_db_pool_connections", &[("server", server), ("state", state)]),
                "{server} {state}"
            );
        }
        assert!(after.sum("lectern_db_pool_max_connections", &[("server", server)]) >= 1.0, "{server}");
    }
    assert!(delta("lectern_db_pool_wait_seconds_count", &[("server", "circulation")]) >= 5.0);

    // The relay delivers the morning's events: the backlog of each of
    // circulation's subscribers returns to zero and deliveries moved.
    let deadline = Instant::now() + DELIVERED_WITHIN;
    loop {
        let now = scrape(&metrics).await;
        let subscribers = ["catalog", "notification"];
        let emptied = subscribers.iter().all(|subscriber| {
            let labels = [("server", "circulation"), ("subscriber", *subscriber)];
            now.has("lectern_outbox_backlog", &labels)
                && now.has("lectern_outbox_oldest_age_seconds", &labels)
                && now.sum("lectern_outbox_backlog", &labels) == 0.0
                && now.sum("lectern_outbox_oldest_age_seconds", &labels) == 0.0
                && now.sum("lectern_relay_deliveries_total", &labels)
                    >= before.sum("lectern_relay_deliveries_total", &labels) + 3.0
        });
        // The machine hung up: its connection is no longer counted.
        if emptied && connected(&now) == connected(&before) {
            break;
        }
        assert!(Instant::now() < deadline, "the outbox did not empty:\n{:#?}", now.0);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(up);
    drop(databases);
}
