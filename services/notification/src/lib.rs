//! The notification service: readers' notices. It consumes circulation's
//! events (check-out and check-in receipts now; due-soon and overdue
//! reminders, holds and fees later) through its `EventSink`, stores each
//! event's notice once, and lists a reader's in-app inbox. A loan that
//! stops naming its reader (`loan.anonymized`) and an erased reader
//! (`reader.erased`, from the reader service) take their notices with them.

mod config;
mod db;
mod grpc;
mod notices;
mod settings;
mod triggers;

use lectern_common::db::Migrations;
use lectern_core::identity::PublicMethods;
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use lectern_proto::events::v1::event_sink_server::EventSinkServer;
use lectern_proto::notification::v1::notification_service_server::NotificationServiceServer;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub use config::Config;
pub use lectern_common::Error;

/// The service's migrations, for SQLite and PostgreSQL.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../../migrations/notification/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../../migrations/notification/postgres"),
};

/// Runs pending migrations and returns their versions.
pub fn migrate(config: &Config) -> Result<Vec<String>, ServeError> {
    Ok(config.settings.migrate(MIGRATIONS)?)
}

/// Serves the notification service on `listener` until `shutdown` fires.
pub async fn serve(config: Config, listener: TcpListener, shutdown: Shutdown) -> Result<(), ServeError> {
    let settings = config.settings;
    let db = settings.open_database(MIGRATIONS).await?;
    let verifier = settings.remote_verifier()?;
    let service = grpc::Notification { db, clock: settings.clock.clone() };
    let routes = Routes::new(NotificationServiceServer::new(service.clone()))
        .add_service(EventSinkServer::new(service));
    let options = settings.serve_options(
        "notification",
        vec!["lectern.notification.v1.NotificationService", "lectern.events.v1.EventSink"],
        verifier,
        PublicMethods::default(),
    );
    lectern_core::server::serve(listener, routes, options, shutdown.wait()).await
}
