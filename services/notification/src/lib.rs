//! The notification service: readers' notices and reminders. It consumes
//! circulation's events through its `EventSink`: each event's receipt is
//! stored once in the reader's inbox (`notices`), and the loans and holds
//! the events describe are scheduled for reminders (`events`). The planner
//! (`plan`, deciding with `schedule`) makes the reminders due each school
//! day and their deliveries; the sender (`sender`, over `channels`) hands
//! them to the inbox, e-mail and the webhook, with texts from `templates`.
//! `ReminderService` (`reminders_grpc`) lets the desk set it all up and
//! read the delivery log. A loan that stops naming its reader
//! (`loan.anonymized`) and an erased reader (`reader.erased`, from the
//! reader service) take their notices with them.

mod channels;
mod config;
mod db;
mod events;
mod grpc;
mod notices;
mod plan;
mod reminders_grpc;
mod schedule;
mod sender;
mod settings;
mod templates;
mod triggers;
mod unsubscribe;

use std::sync::Arc;

use lectern_common::db::Migrations;
use lectern_common::outbox;
use lectern_core::client;
use lectern_core::identity::{PublicMethods, ServiceTokens, TokenSource};
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::school_calendar_service_client::SchoolCalendarServiceClient;
use lectern_proto::events::v1::event_sink_server::EventSinkServer;
use lectern_proto::notification::v1::notification_service_server::NotificationServiceServer;
use lectern_proto::notification::v1::reminder_service_server::ReminderServiceServer;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tonic::service::Routes;

use crate::channels::Channels;

pub use channels::ChannelConfig;
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

/// Full paths of the methods anyone may call without a token: the
/// unsubscribe link in a message is its own proof.
const PUBLIC_METHODS: [&str; 1] = ["/lectern.notification.v1.ReminderService/Unsubscribe"];

/// Serves the notification service on `listener` until `shutdown` fires,
/// with the reminder planner and the sender running beside it; all stop on
/// `shutdown`.
pub async fn serve(config: Config, listener: TcpListener, shutdown: Shutdown) -> Result<(), ServeError> {
    let settings = config.settings;
    let db = settings.open_database(MIGRATIONS).await?.named("notification");
    settings.watch_database("notification", &db, &shutdown);
    let verifier = settings.remote_verifier()?;
    let reader_channel = settings.reader_channel()?;
    let circulation_channel =
        client::channel("LECTERN_CIRCULATION_URL", &config.circulation_url, &settings.client)?;
    let tokens: Arc<dyn TokenSource> = ServiceTokens::new(
        reader_channel.clone(),
        "notification",
        &config.service_key,
        settings.clock.clone(),
    );
    let channels = Channels::new(config.channels, config.public_url, config.service_key.clone());
    let planner_waker = Arc::new(Notify::new());
    let sender_waker = Arc::new(Notify::new());

    let sender = sender::Sender {
        db: db.clone(),
        clock: settings.clock.clone(),
        channels: channels.clone(),
        loans: LoanServiceClient::new(circulation_channel.clone()),
        readers: ReaderServiceClient::new(reader_channel.clone()),
        profiles: ReaderProfileServiceClient::new(reader_channel.clone()),
        tokens: tokens.clone(),
        zone: config.time_zone,
        waker: sender_waker.clone(),
        interval: config.sender_interval,
        call_timeout: settings.client.call_timeout,
    };
    let planner = plan::Planner {
        db: db.clone(),
        clock: settings.clock.clone(),
        zone: config.time_zone,
        loans: LoanServiceClient::new(circulation_channel.clone()),
        calendars: SchoolCalendarServiceClient::new(circulation_channel),
        profiles: ReaderProfileServiceClient::new(reader_channel.clone()),
        tokens: tokens.clone(),
        call_timeout: settings.client.call_timeout,
        channels: channels.clone(),
        waker: planner_waker.clone(),
        sender: sender_waker,
        interval: config.reminder_interval,
    };
    let tasks = vec![planner.clone().spawn(shutdown.clone()), sender.clone().spawn(shutdown.clone())];

    let service = grpc::Notification {
        db: db.clone(),
        clock: settings.clock.clone(),
        zone: config.time_zone,
        planner: planner_waker,
    };
    let reminders = reminders_grpc::Reminders {
        db,
        clock: settings.clock.clone(),
        zone: config.time_zone,
        planner,
        sender,
        channels,
        service_key: config.service_key,
        readers: ReaderServiceClient::new(reader_channel.clone()),
        profiles: ReaderProfileServiceClient::new(reader_channel),
        tokens,
        call_timeout: settings.client.call_timeout,
    };
    let routes = Routes::new(NotificationServiceServer::new(service.clone()))
        .add_service(ReminderServiceServer::new(reminders))
        .add_service(EventSinkServer::new(service));
    let options = settings.serve_options(
        "notification",
        vec![
            "lectern.notification.v1.NotificationService",
            "lectern.notification.v1.ReminderService",
            "lectern.events.v1.EventSink",
        ],
        verifier,
        PublicMethods::new(PUBLIC_METHODS),
    );
    outbox::serve_beside(lectern_core::server::serve(listener, routes, options, shutdown.wait()), tasks).await
}
