//! The reader service: the district's schools and classes, its readers
//! (students, teachers, staff, ...) with their library cards and manual
//! blocks, and the district's source of identity: staff accounts, sign-in,
//! and the keys that sign the tokens every Lectern server verifies. It also
//! keeps readers' rights over their data (categories' history rules, export,
//! erasure); an erasure is published through its outbox, and the relay
//! started by [`serve`] delivers it to circulation and notification.

mod accounts;
mod audit;
mod bootstrap;
mod categories;
mod config;
mod convert;
mod db;
mod error;
mod family;
mod grpc;
mod organisation;
mod passwords;
mod privacy;
mod profile;
mod reader_updates;
mod readers;
mod roster;
mod school_year;
mod sessions;
mod tokens;

use std::sync::Arc;

use futures::future::BoxFuture;
use lectern_common::db::Migrations;
use lectern_common::outbox::{self, Relay, RelayWaker, Subscriber};
use lectern_core::client;
use lectern_core::identity::{PublicMethods, TokenSource, TokenVerifier};
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::events::subscribers::{CIRCULATION, NOTIFICATION};
use lectern_proto::notification::v1::notification_service_client::NotificationServiceClient;
use lectern_proto::reader::v1::audit_service_server::AuditServiceServer;
use lectern_proto::reader::v1::family_service_server::FamilyServiceServer;
use lectern_proto::reader::v1::identity_service_server::IdentityServiceServer;
use lectern_proto::reader::v1::reader_profile_service_server::ReaderProfileServiceServer;
use lectern_proto::reader::v1::reader_service_server::ReaderServiceServer;
use lectern_proto::reader::v1::roster_service_server::RosterServiceServer;
use lectern_proto::reader::v1::school_year_service_server::SchoolYearServiceServer;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub use bootstrap::FirstAdmin;
pub use config::Config;
pub use error::Error;
/// A random password of the kind Lectern hands out once (no look-alike
/// characters), for tools that set passwords on someone's behalf.
pub use passwords::one_time as generate_password;
pub use sessions::Lifetimes as SessionLifetimes;

/// The service's migrations, for SQLite and PostgreSQL.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../../migrations/reader/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../../migrations/reader/postgres"),
};

/// The largest roster import request: a district's OneRoster export of a
/// few thousand readers is a few MiB; this leaves ample room.
const MAX_ROSTER_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Methods that need no token: signing in, refreshing a session (the
/// refresh token is the credential), binding a WeChat account (the binding
/// ticket is; a family token sent along is checked by the handler), and
/// what every server needs to verify tokens (the keys and the ended
/// sessions).
const PUBLIC_METHODS: [&str; 5] = [
    "/lectern.reader.v1.FamilyService/BindReader",
    "/lectern.reader.v1.IdentityService/Login",
    "/lectern.reader.v1.IdentityService/ListVerificationKeys",
    "/lectern.reader.v1.IdentityService/RefreshSession",
    "/lectern.reader.v1.IdentityService/ListRevokedSessions",
];

/// Runs pending migrations and returns their versions.
pub fn migrate(config: &Config) -> Result<Vec<String>, ServeError> {
    Ok(config.settings.migrate(MIGRATIONS)?)
}

/// Opens and migrates the database and, if there is no staff account at
/// all, creates the district admin `admin` who must change the password at
/// first sign-in. Returns the credentials when the password was generated
/// here; `None` when an account already existed or the password came from
/// `LECTERN_BOOTSTRAP_ADMIN_PASSWORD`.
pub async fn bootstrap_first_admin(config: &Config) -> Result<Option<FirstAdmin>, ServeError> {
    let db = config.settings.open_database(MIGRATIONS).await?;
    bootstrap::first_admin(&db, config).await
}

/// Serves the reader service on `listener` until `shutdown` fires. On a
/// fresh database it first creates the district admin and prints the
/// one-time password once to stdout.
pub async fn serve(config: Config, listener: TcpListener, shutdown: Shutdown) -> Result<(), ServeError> {
    let db = config.settings.open_database(MIGRATIONS).await?.named("reader");
    config.settings.watch_database("reader", &db, &shutdown);
    if let Some(admin) = bootstrap::first_admin(&db, &config).await? {
        bootstrap::announce(&admin);
    }
    let clock = config.settings.clock.clone();
    let key = tokens::signing_key(&db, &clock, config.token_ttl).await.map_err(bootstrap::startup_error)?;
    tracing::info!(key.id = %key.key_id, "signing tokens");
    // This server verifies tokens with the keys and sessions in its own
    // database rather than asking itself over the network.
    let keys = Arc::new(tokens::DbKeys::new(db.clone()));
    let issuer = tokens::Issuer::new(key, keys.clone(), clock.clone(), config.token_ttl);
    let verifier = TokenVerifier::new(keys, clock.clone())
        .with_revocations(Arc::new(tokens::DbRevocations::new(db.clone())));
    let (db_for_purge, clock_for_purge) = (db.clone(), clock.clone());
    let client_config = &config.settings.client;
    let circulation_channel =
        client::channel("LECTERN_CIRCULATION_URL", &config.circulation_url, client_config)?;
    let notification_channel =
        client::channel("LECTERN_NOTIFICATION_URL", &config.notification_url, client_config)?;
    let waker = RelayWaker::default();
    let relay = Relay {
        db: db.clone(),
        subscribers: vec![
            Subscriber { name: CIRCULATION, channel: circulation_channel.clone() },
            Subscriber { name: NOTIFICATION, channel: notification_channel.clone() },
        ],
        tokens: Arc::new(OwnServiceTokens(issuer.clone())),
        config: config.relay.clone(),
        waker: waker.clone(),
        clock: clock.clone(),
    };
    let mut relay_tasks = relay.spawn(shutdown.clone());
    let readers = grpc::Readers {
        db: db.clone(),
        clock: clock.clone(),
        time_zone: config.time_zone,
        circulation: LoanServiceClient::new(circulation_channel),
        notifications: NotificationServiceClient::new(notification_channel),
        call_timeout: client_config.call_timeout,
        relay: waker,
    };
    let profiles = grpc::Profiles { db: db.clone(), clock: clock.clone() };
    let school_years = grpc::SchoolYears { db: db.clone(), clock: clock.clone() };
    let roster = grpc::Roster { db: db.clone(), clock: clock.clone(), time_zone: config.time_zone };
    let identity = grpc::Identity {
        db: db.clone(),
        clock,
        issuer,
        service_key: config.service_key.as_deref().map(Arc::from),
        lockout: accounts::Lockout { attempts: config.lockout_attempts, period: config.lockout_period },
        session_lifetimes: config.session_lifetimes,
        successor_key: sessions::SuccessorKey::from_service_key(config.service_key.as_deref()),
        verifier: verifier.clone(),
    };
    let family = grpc::Family { identity: identity.clone() };
    let routes = Routes::new(ReaderServiceServer::new(readers))
        .add_service(IdentityServiceServer::new(identity))
        .add_service(FamilyServiceServer::new(family))
        .add_service(ReaderProfileServiceServer::new(profiles))
        .add_service(SchoolYearServiceServer::new(school_years))
        .add_service(RosterServiceServer::new(roster).max_decoding_message_size(MAX_ROSTER_REQUEST_BYTES))
        .add_service(AuditServiceServer::new(grpc::Audit { db }));
    let options = config.settings.serve_options(
        "reader",
        vec![
            "lectern.reader.v1.ReaderService",
            "lectern.reader.v1.IdentityService",
            "lectern.reader.v1.FamilyService",
            "lectern.reader.v1.AuditService",
            "lectern.reader.v1.ReaderProfileService",
            "lectern.reader.v1.SchoolYearService",
            "lectern.reader.v1.RosterService",
        ],
        verifier,
        PublicMethods::new(PUBLIC_METHODS),
    );
    // Expired sessions are deleted hourly (any replica; deleting twice is harmless).
    relay_tasks.push(tokio::spawn(sessions::purge_until(
        db_for_purge,
        clock_for_purge,
        config.token_ttl,
        shutdown.clone(),
    )));
    outbox::serve_beside(lectern_core::server::serve(listener, routes, options, shutdown.wait()), relay_tasks)
        .await
}

/// The relay's tokens: this service issues them itself rather than signing
/// in to itself over the network.
#[derive(Debug)]
struct OwnServiceTokens(tokens::Issuer);

impl TokenSource for OwnServiceTokens {
    fn bearer(&self) -> BoxFuture<'_, Result<String, tonic::Status>> {
        Box::pin(async move {
            self.0.service("reader").map(|login| login.access_token).map_err(tonic::Status::from)
        })
    }
}
