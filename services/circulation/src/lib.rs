//! The circulation service: the only service that changes loan state. It
//! lends copies (after asking the reader and catalog services who and what
//! was scanned), takes them back at any school of the district and sends
//! them where they are wanted, renews, keeps holds, fees, circulation
//! rules and school calendars. Every change is recorded as an event in the
//! transactional outbox in the same transaction, and the relay started by
//! [`serve`] delivers the events to the notification and catalog services.
//! It also anonymizes returned loans whose history rule's time has come
//! (`anonymize`) and hears of erased readers (`sink`).
//!
//! The code reads top-down: `grpc` (one thin handler per RPC) calls the use
//! case of the same name (`checkout`, `checkin`, `renewal`, `loan_changes`,
//! `loans`, `holds`, `fees`, `rules`, `calendars`, `summary`, `reports`,
//! `statistics`),
//! which gathers what it needs (`context`, `db`), asks the rules (`policy`,
//! plain functions over plain types) and writes in one transaction
//! (`hold_shelf`, `transits`, `ledger`, `events`).
//!
//! One open loan per copy is a rule of the schema (a unique partial index),
//! so two stations lending one copy at the same moment cannot both win.

pub mod anonymize;
mod calendars;
mod checkin;
mod checkout;
mod config;
mod context;
mod convert;
mod counters;
pub mod db;
mod desk;
pub mod events;
mod fees;
mod grpc;
mod hold_shelf;
mod holds;
mod ledger;
mod loan_changes;
mod loans;
pub mod policy;
mod reader_report;
mod renewal;
mod reports;
mod rules;
mod sink;
mod statistics;
mod summary;
mod transits;

use lectern_common::db::Migrations;
use lectern_common::outbox::{self, Relay, RelayWaker, Subscriber};
use lectern_core::client;
use lectern_core::identity::{PublicMethods, ServiceTokens};
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::circulation::v1::circulation_rule_service_server::CirculationRuleServiceServer;
use lectern_proto::circulation::v1::fee_service_server::FeeServiceServer;
use lectern_proto::circulation::v1::hold_service_server::HoldServiceServer;
use lectern_proto::circulation::v1::loan_service_server::LoanServiceServer;
use lectern_proto::circulation::v1::school_calendar_service_server::SchoolCalendarServiceServer;
use lectern_proto::events::subscribers::{CATALOG, NOTIFICATION};
use lectern_proto::events::v1::event_sink_server::EventSinkServer;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub use config::Config;
pub use lectern_common::Error;

/// The service's migrations, for SQLite and PostgreSQL.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../../migrations/circulation/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../../migrations/circulation/postgres"),
};

/// The gRPC services circulation serves.
pub const SERVICES: [&str; 5] = [
    "lectern.circulation.v1.LoanService",
    "lectern.circulation.v1.HoldService",
    "lectern.circulation.v1.FeeService",
    "lectern.circulation.v1.CirculationRuleService",
    "lectern.circulation.v1.SchoolCalendarService",
];

/// Runs pending migrations and returns their versions.
pub fn migrate(config: &Config) -> Result<Vec<String>, ServeError> {
    Ok(config.settings.migrate(MIGRATIONS)?)
}

/// Serves the circulation service on `listener` until `shutdown` fires,
/// with its event relay and anonymization job running alongside; all stop
/// on `shutdown`.
pub async fn serve(config: Config, listener: TcpListener, shutdown: Shutdown) -> Result<(), ServeError> {
    let settings = config.settings;
    let db = settings.open_database(MIGRATIONS).await?.named("circulation");
    settings.watch_database("circulation", &db, &shutdown);
    let verifier = settings.remote_verifier()?;
    let reader_channel = settings.reader_channel()?;
    let catalog_channel = client::channel("LECTERN_CATALOG_URL", &config.catalog_url, &settings.client)?;
    let notification_channel =
        client::channel("LECTERN_NOTIFICATION_URL", &config.notification_url, &settings.client)?;

    let waker = RelayWaker::default();
    // One token cache for the relay and for look-ups made as the district.
    let tokens = ServiceTokens::new(
        reader_channel.clone(),
        "circulation",
        &config.service_key,
        settings.clock.clone(),
    );
    let relay = Relay {
        db: db.clone(),
        subscribers: vec![
            Subscriber { name: NOTIFICATION, channel: notification_channel },
            Subscriber { name: CATALOG, channel: catalog_channel.clone() },
        ],
        tokens: tokens.clone(),
        config: config.relay,
        waker: waker.clone(),
        clock: settings.clock.clone(),
    };
    let mut tasks = relay.spawn(shutdown.clone());
    let job = anonymize::AnonymizeJob {
        db: db.clone(),
        clock: settings.clock.clone(),
        relay: waker.clone(),
        interval: config.anonymize_interval,
        zone: config.time_zone,
    };
    tasks.push(job.spawn(shutdown.clone()));
    let sink = sink::Sink { db: db.clone(), clock: settings.clock.clone() };

    let circulation = context::Circulation {
        db,
        clock: settings.clock.clone(),
        time_zone: config.time_zone,
        relay: waker,
        readers: ReaderServiceClient::new(reader_channel),
        catalog: CatalogServiceClient::new(catalog_channel),
        call_timeout: settings.client.call_timeout,
        tokens,
    };
    let routes = Routes::new(LoanServiceServer::new(circulation.clone()))
        .add_service(HoldServiceServer::new(circulation.clone()))
        .add_service(FeeServiceServer::new(circulation.clone()))
        .add_service(CirculationRuleServiceServer::new(circulation.clone()))
        .add_service(SchoolCalendarServiceServer::new(circulation))
        .add_service(EventSinkServer::new(sink));
    let mut services = SERVICES.to_vec();
    services.push("lectern.events.v1.EventSink");
    let options = settings.serve_options("circulation", services, verifier, PublicMethods::default());
    outbox::serve_beside(lectern_core::server::serve(listener, routes, options, shutdown.wait()), tasks).await
}
