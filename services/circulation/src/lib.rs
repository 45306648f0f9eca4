//! The circulation service: the only service that changes loan state. It
//! lends copies (after asking the reader and catalog services who and what
//! was scanned), takes them back, and lists loans. Every change is recorded
//! as an event in the transactional outbox in the same transaction, and the
//! relay started by [`serve`] delivers the events to the notification and
//! catalog services. It also anonymizes returned loans whose history rule's
//! time has come (`anonymize`) and hears of erased readers (`sink`).
//!
//! One open loan per copy is a rule of the schema (a unique partial index),
//! so two stations lending one copy at the same moment cannot both win.

mod access;
pub mod anonymize;
mod assess;
mod calendar;
mod checkout;
mod config;
mod convert;
mod due;
pub mod events;
mod fees;
mod fines;
mod grpc;
mod grpc_fees;
mod grpc_holds;
mod grpc_loan_changes;
mod grpc_renewals;
mod grpc_reports;
mod grpc_rules;
mod grpc_summary;
pub mod history;
mod hold_shelf;
mod holds;
mod ledger;
mod policy;
mod renewal;
mod reports;
mod sink;

pub mod db;
pub mod lending;

use lectern_common::db::Migrations;
use lectern_common::outbox::{Relay, RelayWaker, Subscriber};
use lectern_core::client;
use lectern_core::identity::{PublicMethods, ServiceTokens};
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::circulation::v1::circulation_service_server::CirculationServiceServer;
use lectern_proto::events::v1::event_sink_server::EventSinkServer;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub use config::Config;
pub use events::{CATALOG, LOAN_SUBSCRIBERS, NOTIFICATION};
pub use lectern_common::Error;
pub use sink::READER_ERASED;

/// The service's migrations, for SQLite and PostgreSQL.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../../migrations/circulation/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../../migrations/circulation/postgres"),
};

/// Runs pending migrations and returns their versions.
pub fn migrate(config: &Config) -> Result<Vec<String>, ServeError> {
    Ok(config.settings.migrate(MIGRATIONS)?)
}

/// Serves the circulation service on `listener` until `shutdown` fires,
/// with its event relay running alongside; both stop on `shutdown`.
pub async fn serve(config: Config, listener: TcpListener, shutdown: Shutdown) -> Result<(), ServeError> {
    let settings = config.settings;
    let db = settings.open_database(MIGRATIONS).await?;
    let verifier = settings.remote_verifier()?;
    let reader_channel = settings.reader_channel()?;
    let catalog_channel = client::channel("LECTERN_CATALOG_URL", &config.catalog_url, &settings.client)?;
    let notification_channel =
        client::channel("LECTERN_NOTIFICATION_URL", &config.notification_url, &settings.client)?;

    let waker = RelayWaker::default();
    // One token cache for the relay and for lookups made for readers at a
    // self-service device (whose own tokens may not read the catalog).
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
    let mut relay_tasks = relay.spawn(shutdown.clone());
    let job = anonymize::AnonymizeJob {
        db: db.clone(),
        clock: settings.clock.clone(),
        relay: waker.clone(),
        interval: config.anonymize_interval,
        zone: config.time_zone,
    };
    relay_tasks.push(job.spawn(shutdown.clone()));
    let sink = sink::Sink { db: db.clone(), clock: settings.clock.clone() };

    let service = grpc::Circulation {
        db,
        clock: settings.clock.clone(),
        readers: ReaderServiceClient::new(reader_channel),
        catalog: CatalogServiceClient::new(catalog_channel),
        call_timeout: settings.client.call_timeout,
        time_zone: config.time_zone,
        relay: waker,
        tokens,
    };
    let routes = Routes::new(CirculationServiceServer::new(service)).add_service(EventSinkServer::new(sink));
    let options = settings.serve_options(
        "circulation",
        vec!["lectern.circulation.v1.CirculationService", "lectern.events.v1.EventSink"],
        verifier,
        PublicMethods::default(),
    );
    let served = lectern_core::server::serve(listener, routes, options, shutdown.wait()).await;
    if served.is_err() {
        // The server failed without the process shutting down; the relay
        // would otherwise outlive it, waiting for a shutdown that never comes.
        for task in &relay_tasks {
            task.abort();
        }
    }
    for task in relay_tasks {
        if let Err(error) = task.await
            && !error.is_cancelled()
        {
            tracing::error!(%error, "event relay or anonymization task failed");
        }
    }
    served
}
