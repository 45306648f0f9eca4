//! What the reader service's tests share: the reader service on
//! loopback against a throw-away database, and tokens signed with the
//! service's own key for any staff member, school scope or reader — so a
//! test can act as "a librarian of school A" without building accounts.

// Each test file uses part of these helpers.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Binary, Text};
use lectern_common::db::{Db, DbConnection};
use lectern_common::settings::ServiceSettings;
use lectern_common::testing::TestDatabase;
use lectern_core::clock;
use lectern_core::identity::{Grant, Role, SigningKey, TokenSigner};
use lectern_core::shutdown::Shutdown;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::school_year_service_client::SchoolYearServiceClient;
use lectern_proto::reader::v1::*;
use lectern_reader::Config;
use tokio::net::TcpListener;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// The reader service, its database and a signer for test tokens.
pub struct Server {
    _database: TestDatabase,
    pub db: Db,
    channel: Channel,
    signer: TokenSigner,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<Result<(), lectern_core::server::ServeError>>,
}

/// The reader service running on loopback.
pub struct Running {
    pub channel: Channel,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<Result<(), lectern_core::server::ServeError>>,
}

/// Starts the reader service with `config` on a loopback port and waits,
/// with a deadline, until it answers.
pub async fn serve(config: Config) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = Shutdown::new();
    let task = tokio::spawn(lectern_reader::serve(config, listener, shutdown.clone()));
    // The listener is bound already; keep trying until the server answers
    // or the deadline passes.
    let deadline = Instant::now() + Duration::from_secs(30);
    let channel = loop {
        let answer = match IdentityServiceClient::connect(url.clone()).await {
            Ok(mut client) => client.list_verification_keys(ListVerificationKeysRequest {}).await.is_ok(),
            Err(_) => false,
        };
        if answer {
            break Channel::from_shared(url.clone()).unwrap().connect().await.unwrap();
        }
        assert!(!task.is_finished(), "the reader service stopped");
        assert!(Instant::now() < deadline, "the reader service never answered");
        tokio::task::yield_now().await;
    };
    Running { channel, shutdown, task }
}

/// A signer with the reader service's own key, read from its database at
/// `url`, so a test can act as anyone without signing in.
pub fn signer(url: &str) -> TokenSigner {
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
        created_at: chrono::Utc::now(),
    };
    TokenSigner::new(key, clock::system())
}

impl Running {
    /// An `IdentityService` client.
    pub fn identity(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.channel.clone())
    }

    /// A `ReaderService` client.
    pub fn readers(&self) -> ReaderServiceClient<Channel> {
        ReaderServiceClient::new(self.channel.clone())
    }

    /// Shuts the server down and checks it stopped cleanly.
    pub async fn stop(self) {
        self.shutdown.trigger();
        self.task.await.unwrap().unwrap();
    }
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

impl Server {
    pub async fn start(label: &str) -> Self {
        let database = TestDatabase::create(label);
        let config = Config::local(
            ServiceSettings::local(database.url(), "http://127.0.0.1:9", clock::system()),
            "test-district-service-key",
        );
        let Running { channel, shutdown, task } = serve(config).await;
        let db = Db::connect(database.url(), 2).unwrap();
        let signer = signer(database.url());
        Self { _database: database, db, channel, signer, shutdown, task }
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
        self.channel.clone()
    }

    pub fn readers(&self) -> ReaderServiceClient<Channel> {
        ReaderServiceClient::new(self.channel.clone())
    }

    pub fn profiles(&self) -> ReaderProfileServiceClient<Channel> {
        ReaderProfileServiceClient::new(self.channel.clone())
    }

    pub fn school_years(&self) -> SchoolYearServiceClient<Channel> {
        SchoolYearServiceClient::new(self.channel.clone())
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
        self.shutdown.trigger();
        self.task.await.unwrap().unwrap();
    }
}

/// A request with `token` as bearer.
pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    lectern_core::client::with_bearer(message, token, Duration::from_secs(30))
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
