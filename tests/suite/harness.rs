//! Boots a suite for one test and gives it clients with an admin's token.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::NaiveDate;
use lectern::suite::{Databases, Suite, SuiteConfig};
use lectern_common::outbox::RelayConfig;
pub use lectern_common::testing::eventually;
use lectern_common::testing::{Dates as _, TestDatabase, lazy_channel};
use lectern_core::clock::{Clock as _, ManualClock};
use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::collection_service_client::CollectionServiceClient;
use lectern_proto::catalog::v1::{Contributor, CreateCopyRequest, CreateTitleRequest, Title};
use lectern_proto::circulation::v1::CheckOutRequest;
use lectern_proto::circulation::v1::circulation_rule_service_client::CirculationRuleServiceClient;
use lectern_proto::circulation::v1::fee_service_client::FeeServiceClient;
use lectern_proto::circulation::v1::hold_service_client::HoldServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::school_calendar_service_client::SchoolCalendarServiceClient;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::notification::v1::notification_service_client::NotificationServiceClient;
use lectern_proto::reader::v1::audit_service_client::AuditServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    ChangePasswordRequest, CreateClassRequest, CreateDeviceRequest, CreateDeviceResponse,
    CreateReaderRequest, CreateSchoolRequest, CreateStaffAccountRequest, DeviceKind, DeviceSettings,
    LoginRequest, LoginResponse, Reader, ReaderCredentials, School, SetReaderPinRequest, StaffCredentials,
    StaffRole, login_request,
};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

pub const ADMIN_PASSWORD: &str = "correct horse battery";
/// The district service key of test suites.
pub const SERVICE_KEY: &str = "test-service-key-0123456789";

/// A running suite with its databases and an admin session.
pub struct TestSuite {
    pub suite: Suite,
    /// Every service's clock; tests move it to make time pass.
    pub clock: ManualClock,
    pub channel: Channel,
    pub admin_token: String,
    pub one_time_password: String,
    databases: Vec<TestDatabase>,
}

impl TestSuite {
    /// A suite with an admin who has chosen their password.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// [`TestSuite::start`], with `configure` changing the suite's
    /// configuration before it starts.
    pub async fn start_with(configure: impl FnOnce(&mut SuiteConfig)) -> Self {
        let mut suite = Self::start_fresh_with(configure).await;
        let login = suite.login("admin", &suite.one_time_password.clone()).await.expect("one-time login");
        let changed = IdentityServiceClient::new(suite.channel.clone())
            .change_password(bearer(
                ChangePasswordRequest {
                    current_password: suite.one_time_password.clone(),
                    new_password: ADMIN_PASSWORD.into(),
                },
                &login.access_token,
            ))
            .await
            .expect("admin password change")
            .into_inner();
        suite.admin_token = changed.login.expect("new login").access_token;
        suite
    }

    /// A suite whose admin still has the one-time password.
    pub async fn start_fresh() -> Self {
        Self::start_fresh_with(|_| {}).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<LoginResponse, Status> {
        GatewayServiceClient::new(self.channel.clone())
            .login(LoginRequest {
                credentials: Some(login_request::Credentials::Staff(StaffCredentials {
                    username: username.into(),
                    password: password.into(),
                })),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// A channel straight to one server ("reader", …, "gateway"),
    /// bypassing the gateway; it connects on first use.
    pub fn channel_to(&self, server: &str) -> Channel {
        lazy_channel(self.suite.address(server).unwrap_or_else(|| panic!("no server named {server}")))
    }

    /// The suite clock's day (in Shanghai).
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// The day `days` after the suite clock's (before it when negative),
    /// as requests spell dates: `YYYY-MM-DD`.
    pub fn days_from_now(&self, days: i64) -> String {
        self.clock.days_from_now(days)
    }

    /// A request carrying the admin's token.
    pub fn admin<T>(&self, message: T) -> Request<T> {
        bearer(message, &self.admin_token)
    }

    pub fn readers(&self) -> ReaderServiceClient<Channel> {
        ReaderServiceClient::new(self.channel.clone())
    }
    pub fn readers_audit(&self) -> AuditServiceClient<Channel> {
        AuditServiceClient::new(self.channel.clone())
    }
    pub fn identity(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.channel.clone())
    }
    pub fn catalog(&self) -> CatalogServiceClient<Channel> {
        CatalogServiceClient::new(self.channel.clone())
    }
    pub fn collection(&self) -> CollectionServiceClient<Channel> {
        CollectionServiceClient::new(self.channel.clone())
    }
    /// Loans: check-out, check-in, renewals, loan changes, reports.
    pub fn loans(&self) -> LoanServiceClient<Channel> {
        LoanServiceClient::new(self.channel.clone())
    }

    /// Holds, the hold shelf and the pull list.
    pub fn holds(&self) -> HoldServiceClient<Channel> {
        HoldServiceClient::new(self.channel.clone())
    }

    /// The fees ledger.
    pub fn fees(&self) -> FeeServiceClient<Channel> {
        FeeServiceClient::new(self.channel.clone())
    }

    /// Circulation rules.
    pub fn rules(&self) -> CirculationRuleServiceClient<Channel> {
        CirculationRuleServiceClient::new(self.channel.clone())
    }

    /// School calendars.
    pub fn calendars(&self) -> SchoolCalendarServiceClient<Channel> {
        SchoolCalendarServiceClient::new(self.channel.clone())
    }
    pub fn notifications(&self) -> NotificationServiceClient<Channel> {
        NotificationServiceClient::new(self.channel.clone())
    }

    pub async fn school(&self, code: &str, name: &str) -> School {
        self.readers()
            .create_school(self.admin(CreateSchoolRequest {
                code: code.into(),
                name: name.into(),
                request_id: String::new(),
            }))
            .await
            .expect("school created")
            .into_inner()
    }

    /// A student in a fresh class of `school`, their card valid for a year
    /// from the suite clock's day.
    pub async fn student(&self, school: &School, card: &str) -> Reader {
        self.student_until(school, card, &self.days_from_now(365)).await
    }

    /// A student in a fresh class of `school`, card valid until `expires_on`.
    pub async fn student_until(&self, school: &School, card: &str, expires_on: &str) -> Reader {
        let class = self
            .readers()
            .create_class(self.admin(CreateClassRequest {
                school_id: school.id.clone(),
                name: format!("三年级({card})班"),
                grade: 3,
                school_year: "2026-2027".into(),
                request_id: String::new(),
            }))
            .await
            .expect("class created")
            .into_inner();
        self.readers()
            .create_reader(self.admin(CreateReaderRequest {
                school_id: school.id.clone(),
                card_barcode: card.into(),
                name: "王小明".into(),
                category: "student".into(),
                class_id: class.id,
                expires_on: expires_on.into(),
                ..Default::default()
            }))
            .await
            .expect("reader registered")
            .into_inner()
    }

    /// A SIP2 machine registered at `school_id` with `settings`: the device
    /// and its key.
    pub async fn sip2_device(
        &self,
        school_id: &str,
        settings: Option<DeviceSettings>,
    ) -> CreateDeviceResponse {
        self.identity()
            .create_device(self.admin(CreateDeviceRequest {
                school_id: school_id.into(),
                kind: DeviceKind::Sip2.into(),
                label: "自助借还机".into(),
                settings,
            }))
            .await
            .expect("SIP2 machine registered")
            .into_inner()
    }

    /// A staff member with `role` working for `schools`, signed in with a
    /// password of their own; returns their token.
    pub async fn staff(&self, username: &str, role: StaffRole, schools: &[&School]) -> String {
        let first_password = "first-password-1";
        self.identity()
            .create_staff_account(self.admin(CreateStaffAccountRequest {
                username: username.into(),
                display_name: username.into(),
                role: role.into(),
                initial_password: first_password.into(),
                school_ids: schools.iter().map(|school| school.id.clone()).collect(),
                request_id: String::new(),
            }))
            .await
            .expect("staff account created");
        let login = self.login(username, first_password).await.expect("first sign-in");
        self.identity()
            .change_password(bearer(
                ChangePasswordRequest {
                    current_password: first_password.into(),
                    new_password: format!("{username}-own-password"),
                },
                &login.access_token,
            ))
            .await
            .expect("password changed")
            .into_inner()
            .login
            .expect("a fresh token")
            .access_token
    }

    /// Gives `reader` the PIN `pin` and signs them in at the gateway with
    /// their card, as on a phone; returns their token.
    pub async fn reader_signed_in(&self, reader: &Reader, pin: &str) -> String {
        self.readers()
            .set_reader_pin(self.admin(SetReaderPinRequest { reader_id: reader.id.clone(), pin: pin.into() }))
            .await
            .expect("PIN set");
        GatewayServiceClient::new(self.channel.clone())
            .login(LoginRequest {
                credentials: Some(login_request::Credentials::Reader(ReaderCredentials {
                    card_barcode: reader.card_barcode.clone(),
                    pin: pin.into(),
                })),
            })
            .await
            .expect("reader sign-in")
            .into_inner()
            .access_token
    }

    pub async fn title(&self, isbn: &str, title: &str, author: &str) -> Title {
        self.catalog()
            .create_title(self.admin(CreateTitleRequest {
                isbn: isbn.into(),
                title: title.into(),
                contributors: vec![Contributor { name: author.into(), role: 1 }],
                publisher: "江苏少年儿童出版社".into(),
                publication_year: 2017,
                language: "zh".into(),
                ..Default::default()
            }))
            .await
            .expect("title catalogued")
            .into_inner()
    }

    pub async fn copy(&self, title: &Title, school: &School, barcode: &str) {
        self.catalog()
            .create_copy(self.admin(CreateCopyRequest {
                title_id: title.id.clone(),
                barcode: barcode.into(),
                school_id: school.id.clone(),
                ..Default::default()
            }))
            .await
            .expect("copy added");
    }
}

impl Drop for TestSuite {
    /// Drops the four databases at once: on PostgreSQL each drop waits for
    /// a checkpoint, and drops made together share one.
    fn drop(&mut self) {
        std::thread::scope(|scope| {
            for database in self.databases.drain(..) {
                scope.spawn(move || drop(database));
            }
        });
    }
}

/// A check-out of `copy` to the holder of `card`, recorded as made
/// `days_ago` days before the suite's clock.
pub fn lent_days_ago(suite: &TestSuite, card: &str, copy: &str, days_ago: i64) -> CheckOutRequest {
    let at = suite.clock.now() - chrono::Duration::days(days_ago);
    CheckOutRequest {
        reader_card_barcode: card.into(),
        copy_barcode: copy.into(),
        occurred_at: Some(prost_types::Timestamp { seconds: at.timestamp(), nanos: 0 }),
        ..Default::default()
    }
}

/// A request with `token` as bearer.
pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    lectern_core::client::set_bearer(request.metadata_mut(), token);
    request
}

/// Asserts a refusal: its code and reason.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, reason: Reason) -> Status {
    let status = result.expect_err("the call should have been refused");
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    assert_eq!(reason_of(&status), Some(reason), "unexpected reason: {status:?}");
    status
}

/// Asserts INVALID_ARGUMENT whose message names `field`.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) {
    let status = result.expect_err("the call should have been refused");
    assert_eq!(status.code(), Code::InvalidArgument, "unexpected status: {status:?}");
    assert!(status.message().contains(field), "message {:?} should name {field}", status.message());
}

// ---- reminders: the district's channels, a second notification replica, the log ----

/// The district's channels for a suite: a plain SMTP relay at `smtp` (no
/// TLS, no sign-in; From `library@district.example.cn`) and a webhook
/// `(url, secret)`, each optional.
pub fn channels(
    smtp: Option<SocketAddr>,
    webhook: Option<(&str, &str)>,
) -> lectern_notification::ChannelConfig {
    let mut vars = std::collections::HashMap::new();
    if let Some(relay) = smtp {
        vars.insert("LECTERN_SMTP_URL", format!("smtp://{relay}?tls=none"));
        vars.insert("LECTERN_SMTP_FROM", "library@district.example.cn".to_owned());
    }
    if let Some((url, secret)) = webhook {
        vars.insert("LECTERN_WEBHOOK_URL", url.to_owned());
        vars.insert("LECTERN_WEBHOOK_SECRET", secret.to_owned());
    }
    lectern_notification::ChannelConfig::from_vars(|name| vars.get(name).cloned()).expect("channel settings")
}

/// A notification server of its own, beside a suite's, on the same
/// database: a second replica.
pub struct Replica {
    pub channel: Channel,
    shutdown: lectern_core::shutdown::Shutdown,
    handle: tokio::task::JoinHandle<Result<(), lectern_core::server::ServeError>>,
}

impl Replica {
    /// Stops it and waits until it has.
    pub async fn stop(self) {
        self.shutdown.trigger();
        self.handle.await.expect("the replica's task").expect("the replica stops cleanly");
    }
}

impl TestSuite {
    /// [`TestSuite::start`] with the notification service sending through
    /// `channels` (see [`channels`]).
    pub async fn start_with_channels(channels: lectern_notification::ChannelConfig) -> Self {
        Self::start_with(|config| {
            config.notification.channels = channels;
            // Retries and the end of quiet hours are due by the suite
            // clock; the sender looks often enough to see them soon.
            config.notification.sender_interval = Duration::from_millis(200);
        })
        .await
    }

    /// [`TestSuite::start_fresh`], with `configure` changing the suite's
    /// configuration before it starts.
    pub async fn start_fresh_with(configure: impl FnOnce(&mut SuiteConfig)) -> Self {
        let databases = vec![
            TestDatabase::migrated("reader", lectern_reader::MIGRATIONS),
            TestDatabase::migrated("catalog", lectern_catalog::MIGRATIONS),
            TestDatabase::migrated("circulation", lectern_circulation::MIGRATIONS),
            TestDatabase::migrated("notification", lectern_notification::MIGRATIONS),
        ];
        let urls = Databases {
            reader: databases[0].url().to_owned(),
            catalog: databases[1].url().to_owned(),
            circulation: databases[2].url().to_owned(),
            notification: databases[3].url().to_owned(),
        };
        let mut config = SuiteConfig::new(urls, SocketAddr::from(([127, 0, 0, 1], 0)), SERVICE_KEY.into());
        let clock = lectern_common::testing::clock();
        config.clock = std::sync::Arc::new(clock.clone());
        // A consumer that is down is retried quickly, so tests see delivery soon after it is back.
        config.relay = RelayConfig {
            poll_interval: Duration::from_millis(200),
            retry_min: Duration::from_millis(50),
            retry_max: Duration::from_millis(200),
            ..RelayConfig::default()
        };
        // The anonymization job runs often, so tests that move the clock see it act soon.
        config.anonymize_interval = Duration::from_millis(100);
        // Signing out takes effect everywhere within this.
        config.revocation_refresh = Duration::from_millis(200);
        configure(&mut config);
        let suite = Suite::start(config).await.expect("suite starts");
        let admin = suite.first_admin.clone().expect("a fresh suite creates the first admin");
        let channel = lazy_channel(suite.gateway_addr());
        Self {
            suite,
            clock,
            channel,
            admin_token: String::new(),
            one_time_password: admin.password,
            databases,
        }
    }

    /// A second notification server on this suite's notification database,
    /// with the suite's clock and neighbours, sending through `channels`.
    pub async fn second_notification(&self, channels: lectern_notification::ChannelConfig) -> Replica {
        let url = |server: &str| format!("http://{}", self.suite.address(server).expect("a running server"));
        let settings = lectern_common::settings::ServiceSettings::local(
            self.databases[3].url(),
            &url("reader"),
            std::sync::Arc::new(self.clock.clone()),
        );
        let mut config = lectern_notification::Config::local(settings, &url("circulation"), SERVICE_KEY);
        config.channels = channels;
        config.sender_interval = Duration::from_millis(200);
        if let Some(public_url) = self.suite.http_url(false) {
            config.public_url = public_url;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let shutdown = lectern_core::shutdown::Shutdown::new();
        let handle = tokio::spawn(lectern_notification::serve(config, listener, shutdown.clone()));
        Replica { channel: lazy_channel(address), shutdown, handle }
    }
}

/// Everything this test process logs at debug level from the first call
/// on. The log is global to a process: a test that captures it runs in a
/// process of its own (see reminders.rs), as the privacy test's capture
/// would refuse a second.
pub fn capture_log() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static CAPTURED: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    CAPTURED
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let sink = buffer.clone();
            tracing_subscriber::fmt()
                .with_env_filter(
                    "debug,h2=info,hyper=info,hyper_util=info,tower=info,tonic=info,lettre=info,reqwest=info",
                )
                .with_ansi(false)
                .with_writer(move || Sink(sink.clone()))
                .try_init()
                .expect("no other subscriber in this process");
            buffer
        })
        .clone()
}
