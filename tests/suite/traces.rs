//! Traces a district can follow: the suite runs as separate processes
//! (`lectern serve <server>`, as in Kubernetes), each exporting spans over
//! OTLP to a collector this test runs in process (a tonic server of the
//! collector's `TraceService`). One check-out through the gateway is one
//! trace: the gateway's call, circulation's, the reader and catalog look-ups
//! circulation makes, and — carried by the event's `traceparent` — the
//! relay's delivery of `loan.checked_out` and the catalog's and the
//! notification service's `EventSink` calls. Every span's parent is in the
//! trace, each process names itself `lectern-<server>`, and a JSON log line
//! written during the check-out carries its trace id.
//!
//! Runs on the test databases of the run (SQLite files, or PostgreSQL with
//! `LECTERN_TEST_DATABASE_URL`); how spans link does not depend on the
//! backend.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lectern_common::testing::{TestDatabase, lazy_channel};
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::{Contributor, CreateCopyRequest, CreateTitleRequest};
use lectern_proto::circulation::v1::CheckOutRequest;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    ChangePasswordRequest, CreateClassRequest, CreateReaderRequest, CreateSchoolRequest,
    CreateStaffAccountRequest, LoginRequest, StaffCredentials, StaffRole, login_request,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use tokio::sync::Notify;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{SERVICE_KEY, bearer};

const ADMIN_PASSWORD: &str = "a district admin's own passphrase";
const CHECK_OUT: &str = "/lectern.circulation.v1.LoanService/CheckOut";
const DELIVER: &str = "/lectern.events.v1.EventSink/Deliver";

/// One span as the collector received it, with its process's name.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    method: String,
}

/// The test's OTLP collector: keeps every span it is sent.
#[derive(Debug, Default, Clone)]
struct Collector {
    spans: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut received = Vec::new();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|resource| &resource.attributes)
                .find(|attribute| attribute.key == "service.name")
                .and_then(|attribute| string_value(attribute.value.as_ref()?))
                .unwrap_or_default();
            for span in resource_spans.scope_spans.into_iter().flat_map(|scope| scope.spans) {
                let method = span
                    .attributes
                    .iter()
                    .find(|attribute| attribute.key == "rpc.method")
                    .and_then(|attribute| string_value(attribute.value.as_ref()?))
                    .unwrap_or_default();
                received.push(Received {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    method,
                });
            }
        }
        self.spans.lock().unwrap().extend(received);
        self.arrived.notify_waiters();
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

fn string_value(value: &opentelemetry_proto::tonic::common::v1::AnyValue) -> Option<String> {
    match &value.value {
        Some(any_value::Value::StringValue(text)) => Some(text.clone()),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Collector {
    /// Starts the collector on a loopback port; returns its URL.
    async fn start(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service = TraceServiceServer::new(self.clone());
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await
        });
        format!("http://{address}")
    }

    /// Waits until `found` finds what it looks for in the spans received.
    async fn wait_for<T>(&self, within: Duration, what: &str, found: impl Fn(&[Received]) -> Option<T>) -> T {
        let deadline = Instant::now() + within;
        loop {
            let arrived = self.arrived.notified();
            if let Some(value) = found(&self.spans.lock().unwrap()) {
                return value;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let spans = self.spans.lock().unwrap();
                panic!("the collector never saw {what}; it has {} spans: {spans:#?}", spans.len());
            }
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }
}

/// A `lectern serve <server>` process; killed when dropped if still running.
struct Server {
    name: &'static str,
    child: Child,
    stdout: Arc<Mutex<String>>,
}

impl Server {
    fn start(name: &'static str, env: &BTreeMap<&str, String>) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lectern"));
        command.args(["serve", name]).env_clear().envs(env).stdout(Stdio::piped()).stderr(Stdio::inherit());
        let mut child =
            command.spawn().unwrap_or_else(|error| panic!("cannot start lectern serve {name}: {error}"));
        // Logs go to standard output, as a container's do.
        let stdout = Arc::new(Mutex::new(String::new()));
        let pipe = child.stdout.take().unwrap();
        let log = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Self { name, child, stdout }
    }

    fn log(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// SIGTERM, as Kubernetes stops a pod; the process flushes its last
    /// spans and exits with success.
    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    }

    fn wait_exit(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "lectern serve {} exited with {status}:\n{}",
                    self.name,
                    self.log()
                );
                return;
            }
            assert!(Instant::now() < deadline, "lectern serve {} did not stop on SIGTERM", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- lectern serve {} ---\n{}", self.name, self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address nothing listens on now, for a server to take.
fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Waits until the server at `address` answers health checks with SERVING.
async fn wait_serving(server: &Server, address: SocketAddr, deadline: Instant) {
    let mut health = HealthClient::new(lazy_channel(address));
    loop {
        let answer = health.check(HealthCheckRequest { service: String::new() }).await;
        if answer.is_ok_and(|answer| answer.into_inner().status == ServingStatus::Serving as i32) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lectern serve {} never became ready:\n{}",
            server.name,
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sign_in(gateway: &Channel, username: &str, password: &str) -> String {
    GatewayServiceClient::new(gateway.clone())
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Staff(StaffCredentials {
                username: username.into(),
                password: password.into(),
            })),
        })
        .await
        .unwrap_or_else(|status| panic!("{username} cannot sign in: {status:?}"))
        .into_inner()
        .access_token
}

/// Signs in with a first password and chooses `new_password`, as staff do
/// the first time; returns the new session's token.
async fn first_sign_in(gateway: &Channel, username: &str, first: &str, new_password: &str) -> String {
    let token = sign_in(gateway, username, first).await;
    IdentityServiceClient::new(gateway.clone())
        .change_password(bearer(
            ChangePasswordRequest { current_password: first.into(), new_password: new_password.into() },
            &token,
        ))
        .await
        .expect("password changed")
        .into_inner()
        .login
        .expect("a fresh session")
        .access_token
}

/// A school with a librarian, a student and one copy of a title, made
/// through the gateway as district IT would; returns the librarian's token.
async fn school_with_a_copy(gateway: &Channel) -> String {
    let admin = first_sign_in(gateway, "admin", ADMIN_PASSWORD, "the admin's second passphrase").await;
    let readers = ReaderServiceClient::new(gateway.clone());
    let school = readers
        .clone()
        .create_school(bearer(
            CreateSchoolRequest {
                code: "XH-PRI".into(),
                name: "徐汇区实验小学".into(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("school created")
        .into_inner();
    let class = readers
        .clone()
        .create_class(bearer(
            CreateClassRequest {
                school_id: school.id.clone(),
                name: "三年级(2)班".into(),
                grade: 3,
                school_year: "2026-2027".into(),
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("class created")
        .into_inner();
    let expires_on = (chrono::Utc::now() + chrono::Duration::days(365)).format("%Y-%m-%d").to_string();
    readers
        .clone()
        .create_reader(bearer(
            CreateReaderRequest {
                school_id: school.id.clone(),
                card_barcode: "R100001".into(),
                name: "王小明".into(),
                category: "student".into(),
                class_id: class.id,
                expires_on,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("reader registered");
    IdentityServiceClient::new(gateway.clone())
        .create_staff_account(bearer(
            CreateStaffAccountRequest {
                username: "librarian".into(),
                display_name: "图书管理员".into(),
                role: StaffRole::Librarian.into(),
                initial_password: "first-password-1".into(),
                school_ids: vec![school.id.clone()],
                request_id: String::new(),
            },
            &admin,
        ))
        .await
        .expect("librarian account created");
    let title = CatalogServiceClient::new(gateway.clone())
        .create_title(bearer(
            CreateTitleRequest {
                isbn: "978-7-5346-8798-3".into(),
                title: "草房子".into(),
                contributors: vec![Contributor { name: "曹文轩".into(), role: 1 }],
                language: "zh".into(),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("title catalogued")
        .into_inner();
    CatalogServiceClient::new(gateway.clone())
        .create_copy(bearer(
            CreateCopyRequest {
                title_id: title.id,
                barcode: "P000001".into(),
                school_id: school.id,
                ..Default::default()
            },
            &admin,
        ))
        .await
        .expect("copy added");
    first_sign_in(gateway, "librarian", "first-password-1", "the librarian's own passphrase").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_check_out_is_one_trace_across_the_processes_and_the_relay() {
    let started = Instant::now();
    let collector = Collector::default();
    let otlp = collector.start().await;

    let databases: HashMap<&str, TestDatabase> = [
        ("reader", TestDatabase::migrated("reader", lectern_reader::MIGRATIONS)),
        ("catalog", TestDatabase::migrated("catalog", lectern_catalog::MIGRATIONS)),
        ("circulation", TestDatabase::migrated("circulation", lectern_circulation::MIGRATIONS)),
        ("notification", TestDatabase::migrated("notification", lectern_notification::MIGRATIONS)),
    ]
    .into_iter()
    .collect();
    let names = ["reader", "catalog", "circulation", "notification", "gateway"];
    let addresses: HashMap<&str, SocketAddr> = names.iter().map(|name| (*name, free_address())).collect();
    let url = |name: &str| format!("http://{}", addresses[name]);

    let mut servers = Vec::new();
    for name in names {
        let mut env: BTreeMap<&str, String> = BTreeMap::from([
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("LECTERN_LISTEN_ADDR", addresses[name].to_string()),
            ("LECTERN_SERVICE_KEY", SERVICE_KEY.to_owned()),
            ("LECTERN_READER_URL", url("reader")),
            ("LECTERN_CATALOG_URL", url("catalog")),
            ("LECTERN_CIRCULATION_URL", url("circulation")),
            ("LECTERN_NOTIFICATION_URL", url("notification")),
            ("LECTERN_HTTP_LISTEN", "off".to_owned()),
            ("LECTERN_PUBLIC_URL", "http://127.0.0.1:8080".to_owned()),
            ("LECTERN_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
            ("LECTERN_SHUTDOWN_GRACE_MS", "2000".to_owned()),
            ("LECTERN_LOG_FORMAT", "json".to_owned()),
            ("LECTERN_LOG", "info".to_owned()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.clone()),
            // Spans leave each process within a fifth of a second.
            ("OTEL_BSP_SCHEDULE_DELAY", "200".to_owned()),
        ]);
        if let Some(database) = databases.get(name) {
            env.insert("LECTERN_DATABASE_URL", database.url().to_owned());
        }
        servers.push(Server::start(name, &env));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for server in &servers {
        wait_serving(server, addresses[server.name], deadline).await;
    }

    let gateway = lazy_channel(addresses["gateway"]);
    let librarian = school_with_a_copy(&gateway).await;
    let loan = LoanServiceClient::new(gateway.clone())
        .check_out(bearer(
            CheckOutRequest {
                reader_card_barcode: "R100001".into(),
                copy_barcode: "P000001".into(),
                ..Default::default()
            },
            &librarian,
        ))
        .await
        .expect("check-out")
        .into_inner()
        .loan
        .expect("a loan");

    // The gateway's span of the check-out is where the trace starts.
    let trace_id = collector
        .wait_for(Duration::from_secs(30), "the gateway's check-out span", |spans| {
            spans
                .iter()
                .find(|span| span.service == "lectern-gateway" && span.method == CHECK_OUT)
                .map(|span| span.trace_id.clone())
        })
        .await;
    // Everything the check-out caused, in every process, in that trace.
    let trace = collector
        .wait_for(Duration::from_secs(30), "the whole check-out trace", |spans| {
            let trace: Vec<Received> =
                spans.iter().filter(|span| span.trace_id == trace_id).cloned().collect();
            let has = |service: &str, method: &str| {
                trace.iter().any(|span| span.service == service && span.method.ends_with(method))
            };
            let complete = has("lectern-circulation", CHECK_OUT)
                && has("lectern-reader", "/LookupReader")
                && has("lectern-catalog", "/LookupCopy")
                && trace
                    .iter()
                    .any(|span| span.service == "lectern-circulation" && span.name == "relay.deliver")
                && has("lectern-catalog", DELIVER)
                && has("lectern-notification", DELIVER);
            complete.then_some(trace)
        })
        .await;

    // One root, the gateway's call; every other span's parent is in the trace.
    let ids: BTreeSet<&str> = trace.iter().map(|span| span.span_id.as_str()).collect();
    let roots: Vec<&Received> = trace.iter().filter(|span| span.parent_span_id.is_empty()).collect();
    assert_eq!(roots.len(), 1, "one root span: {roots:#?}");
    assert_eq!((roots[0].service.as_str(), roots[0].method.as_str()), ("lectern-gateway", CHECK_OUT));
    for span in &trace {
        assert!(
            span.parent_span_id.is_empty() || ids.contains(span.parent_span_id.as_str()),
            "the parent of {span:?} is not in the trace: {trace:#?}"
        );
    }
    // Each process names itself.
    let services: BTreeSet<&str> = trace.iter().map(|span| span.service.as_str()).collect();
    assert_eq!(
        services,
        BTreeSet::from([
            "lectern-catalog",
            "lectern-circulation",
            "lectern-gateway",
            "lectern-notification",
            "lectern-reader"
        ]),
        "{trace:#?}"
    );
    // The consumers' calls descend from the relay's delivery, which
    // descends from circulation's check-out (through the event).
    let by_id: HashMap<&str, &Received> = trace.iter().map(|span| (span.span_id.as_str(), span)).collect();
    let ancestors = |span: &Received| {
        let mut chain = Vec::new();
        let mut parent = by_id.get(span.parent_span_id.as_str());
        while let Some(up) = parent {
            chain.push(format!("{} {} {}", up.service, up.name, up.method));
            parent = by_id.get(up.parent_span_id.as_str());
        }
        chain
    };
    for consumer in ["lectern-catalog", "lectern-notification"] {
        let delivery = trace.iter().find(|span| span.service == consumer && span.method == DELIVER).unwrap();
        let chain = ancestors(delivery);
        assert!(chain.iter().any(|up| up.starts_with("lectern-circulation relay.deliver")), "{chain:?}");
        assert!(chain.iter().any(|up| up == &format!("lectern-circulation grpc {CHECK_OUT}")), "{chain:?}");
    }

    // Circulation's JSON log of the loan carries the trace id.
    let circulation = servers.iter().find(|server| server.name == "circulation").unwrap();
    let logged = circulation
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .any(|line| {
            line["trace_id"] == trace_id.as_str()
                && line.get("loan.id").and_then(serde_json::Value::as_str) == Some(loan.id.as_str())
        });
    assert!(logged, "no JSON log line of the loan with trace id {trace_id}:\n{}", circulation.log());

    // SIGTERM: each process stops cleanly; no log names the reader.
    for server in &mut servers {
        server.terminate();
    }
    for server in &mut servers {
        server.wait_exit(Duration::from_secs(15));
        assert!(!server.log().contains("王小明"), "{} logged the reader's name", server.name);
    }
    eprintln!("traces test took {:?}", started.elapsed());
}
