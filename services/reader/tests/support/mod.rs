//! What the reader service's tests share, on top of
//! `lectern_common::testing`: the reader service on a loopback port of its
//! own, against a migrated throw-away database, on the test clock, with the
//! services it calls out of reach; and tokens signed with the service's own
//! key for any staff member, school scope or reader — so a test can act as
//! "a librarian of school A" without building accounts.

// Each test file uses part of these helpers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{Binary, Text};
use lectern_common::db::{Db, DbConnection};
use lectern_common::settings::ServiceSettings;
use lectern_common::testing::{TestDatabase, TestServer};
use lectern_core::clock::{Clock as _, ManualClock};
use lectern_core::identity::{Grant, Role, SigningKey, TokenSigner};
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::school_year_service_client::SchoolYearServiceClient;
use lectern_proto::reader::v1::*;
use lectern_reader::Config;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// The district key services sign in with.
pub const SERVICE_KEY: &str = "test-district-service-key";

/// Where the services the reader service calls (circulation,
/// notification) are not: nothing listens on the discard port, so a call
/// there fails at once.
pub const NOWHERE: &str = "http://127.0.0.1:9";

/// A database of the reader service, migrated.
pub fn database() -> TestDatabase {
    TestDatabase::migrated("reader", lectern_reader::MIGRATIONS)
}

/// The reader service's configuration for `database`, on `clock`, with
/// circulation and notification out of reach.
pub fn config(database: &TestDatabase, clock: &ManualClock) -> Config {
    let settings = ServiceSettings::local(database.url(), NOWHERE, Arc::new(clock.clone()));
    let mut config = Config::local(settings, SERVICE_KEY);
    config.circulation_url = NOWHERE.into();
    config.notification_url = NOWHERE.into();
    config
}

/// The reader service running on loopback.
pub struct Running(TestServer);

/// Starts the reader service with `config` and waits, with a deadline,
/// until it answers (it signs its first key and admin in before).
pub async fn serve(config: Config) -> Running {
    let server = TestServer::start(|listener, shutdown| lectern_reader::serve(config, listener, shutdown));
    server.wait_serving().await;
    Running(server)
}

impl Running {
    /// A channel to the service.
    pub fn channel(&self) -> Channel {
        self.0.channel()
    }

    /// An `IdentityService` client.
    pub fn identity(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.channel())
    }

    /// A `ReaderService` client.
    pub fn readers(&self) -> ReaderServiceClient<Channel> {
        ReaderServiceClient::new(self.channel())
    }

    /// Shuts the server down and checks it stopped cleanly.
    pub async fn stop(self) {
        self.0.stop().await;
    }
}

/// A signer with the reader service's own key, read from its database at
/// `url`, so a test can act as anyone without signing in. Its tokens run
/// on `clock`, the service's.
pub fn signer(url: &str, clock: &ManualClock) -> TokenSigner {
    const KEY_QUERY: &str =
        "SELECT key_id, private_key, public_key FROM signing_keys WHERE retired_at IS NULL";
    let db = Db::connect(url, 1).unwrap();
    let mut connection = db.connection().unwrap();
    let row: KeyRow = match &mut *connection {
        DbConnection::Sqlite(sqlite) => diesel::sql_query(KEY_QUERY).get_result(sqlite).unwrap(),
        DbConnection::Pg(pg) => diesel::sql_query(KEY_QUERY).get_result(pg).unwrap(),
    };
    let key = SigningKey {
        key_id: row.key_id,
        private_pkcs8: row.private_key,
        public_key: row.public_key.as_slice().try_into().unwrap(),
        created_at: clock.now(),
    };
    TokenSigner::new(key, Arc::new(clock.clone()))
}

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = Text)]
    key_id: String,
    #[diesel(sql_type = Binary)]
    private_key: Vec<u8>,
    #[diesel(sql_type = Binary)]
    public_key: Vec<u8>,
}

/// The reader service, its database, its clock and a signer for test tokens.
pub struct Server {
    _database: TestDatabase,
    pub db: Db,
    /// The service's clock.
    pub clock: ManualClock,
    running: Running,
    signer: TokenSigner,
}

impl Server {
    pub async fn start() -> Self {
        let database = database();
        let clock = lectern_common::testing::clock();
        let running = serve(config(&database, &clock)).await;
        let db = Db::connect(database.url(), 2).unwrap();
        let signer = signer(database.url(), &clock);
        Self { _database: database, db, clock, running, signer }
    }

    /// A token for `grant`.
    pub fn token(&self, grant: &Grant) -> String {
        self.signer.sign(grant, chrono::Duration::minutes(30)).unwrap().0
    }

    /// A district admin's token.
    pub fn admin(&self) -> String {
        self.token(&Grant::staff("admin-1", Role::DistrictAdmin, Vec::new()))
    }

    /// A token of a staff member with `role` working for `school_id`.
    pub fn staff(&self, id: &str, role: Role, school_id: &str) -> String {
        self.token(&Grant::staff(id, role, vec![school_id.to_owned()]))
    }

    /// A channel to the server.
    pub fn channel(&self) -> Channel {
        self.running.channel()
    }

    pub fn readers(&self) -> ReaderServiceClient<Channel> {
        self.running.readers()
    }

    pub fn profiles(&self) -> ReaderProfileServiceClient<Channel> {
        ReaderProfileServiceClient::new(self.channel())
    }

    pub fn school_years(&self) -> SchoolYearServiceClient<Channel> {
        SchoolYearServiceClient::new(self.channel())
    }

    /// A school created by the admin.
    pub async fn school(&self, code: &str) -> School {
        let request = CreateSchoolRequest {
            code: code.into(),
            name: format!("{code} 学校"),
            request_id: String::new(),
        };
        self.readers().create_school(bearer(request, &self.admin())).await.unwrap().into_inner()
    }

    /// A class of `school_id` created by the admin.
    pub async fn class(&self, school_id: &str, name: &str, grade: i32, school_year: &str) -> Class {
        let request = CreateClassRequest {
            school_id: school_id.into(),
            name: name.into(),
            grade,
            school_year: school_year.into(),
            request_id: String::new(),
        };
        self.readers().create_class(bearer(request, &self.admin())).await.unwrap().into_inner()
    }

    /// A reader of `category` in `class_id` (may be empty) created by the admin.
    pub async fn reader(&self, school_id: &str, card: &str, category: &str, class_id: &str) -> Reader {
        let request = CreateReaderRequest {
            school_id: school_id.into(),
            card_barcode: card.into(),
            name: format!("读者{card}"),
            category: category.into(),
            class_id: class_id.into(),
            ..Default::default()
        };
        self.readers().create_reader(bearer(request, &self.admin())).await.unwrap().into_inner()
    }

    /// Runs SQL on the service's database directly (test set-up only).
    pub fn execute(&self, sqlite: &str, postgres: &str) {
        let mut connection = self.db.connection().unwrap();
        let sql = match &*connection {
            DbConnection::Sqlite(_) => sqlite,
            DbConnection::Pg(_) => postgres,
        };
        diesel::connection::SimpleConnection::batch_execute(&mut *connection, sql).unwrap();
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }
}

/// A request with `token` as bearer.
pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    lectern_core::client::with_bearer(message, token, Duration::from_secs(30))
}

/// A staff member's sign-in.
pub fn staff_login(username: &str, password: &str) -> LoginRequest {
    LoginRequest {
        credentials: Some(login_request::Credentials::Staff(StaffCredentials {
            username: username.into(),
            password: password.into(),
        })),
    }
}

/// Asserts a refusal with `code` and `reason`.
#[track_caller]
pub fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    reason: lectern_core::refusal::Reason,
) {
    let status = result.expect_err("the call should have been refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert_eq!(lectern_core::refusal::reason_of(&status), Some(reason), "{status:?}");
}

/// Asserts INVALID_ARGUMENT naming `field`.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, field: &str) {
    let status = result.expect_err("the call should have been refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with(field), "{:?} should name {field}", status.message());
}
