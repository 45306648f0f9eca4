//! The catalog service: titles (bibliographic records, one per ISBN),
//! copies (the books on the shelves, barcodes unique in the district), and
//! search by ISBN, title or author in Chinese or English, with each copy's
//! availability. Availability comes from circulation's loan events, which
//! this service consumes through its `EventSink`. Stocktake sessions
//! (`StocktakeService`: [`stocktake`] rules, [`stocktake_session`] storage)
//! count a school's shelves against its copies.
//!
//! The domain modules ([`isbn`], [`titles`], [`copies`], [`search`],
//! [`events`]) and the query functions in [`db`] are public so that
//! `lectern` tools and tests can drive them without a server.

mod config;
pub mod copies;
pub mod db;
pub mod events;
mod grpc;
mod grpc_collection;
mod grpc_stocktake;
// MARC import, export and ISBN intake.
mod grpc_marc;
pub mod lifecycle;
pub mod locations;
pub mod marc;
pub mod search;
pub mod stocktake;
pub mod stocktake_scan;
pub mod stocktake_session;
pub mod title_updates;
pub mod titles;

// Search index, availability counts and home-screen lists (issue 4).
pub mod discovery;
pub mod search_terms;

use lectern_common::db::Migrations;
use lectern_core::identity::PublicMethods;
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use lectern_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use lectern_proto::catalog::v1::collection_service_server::CollectionServiceServer;
use lectern_proto::catalog::v1::discovery_service_server::DiscoveryServiceServer;
use lectern_proto::catalog::v1::marc_service_server::MarcServiceServer;
use lectern_proto::catalog::v1::stocktake_service_server::StocktakeServiceServer;
use lectern_proto::events::v1::event_sink_server::EventSinkServer;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub use config::Config;
pub use lectern_biblio::isbn;
pub use lectern_common::Error;

/// The service's migrations, for SQLite and PostgreSQL.
pub const MIGRATIONS: Migrations = Migrations {
    sqlite: diesel_migrations::embed_migrations!("../../migrations/catalog/sqlite"),
    postgres: diesel_migrations::embed_migrations!("../../migrations/catalog/postgres"),
};

/// Runs pending migrations and returns their versions.
pub fn migrate(config: &Config) -> Result<Vec<String>, ServeError> {
    Ok(config.settings.migrate(MIGRATIONS)?)
}

/// Serves the catalog service on `listener` until `shutdown` fires.
pub async fn serve(config: Config, listener: TcpListener, shutdown: Shutdown) -> Result<(), ServeError> {
    let settings = config.settings;
    let db = settings.open_database(MIGRATIONS).await?.named("catalog");
    settings.watch_database("catalog", &db, &shutdown);
    let verifier = settings.remote_verifier()?;
    let service = grpc::Catalog {
        db,
        clock: settings.clock.clone(),
        reader: ReaderServiceClient::new(settings.reader_channel()?),
        call_timeout: settings.client.call_timeout,
    };
    // Titles catalogued before the search index existed are indexed once.
    let indexed = search::index_unindexed(&service.db, 500)
        .await
        .map_err(|error| ServeError::Startup(format!("cannot index titles for search: {error}")))?;
    if indexed > 0 {
        tracing::info!(titles = indexed, "titles added to the search index");
    }
    let marc = grpc_marc::Marc {
        db: service.db.clone(),
        clock: service.clock.clone(),
        reader: service.reader.clone(),
        call_timeout: service.call_timeout,
        sources: std::sync::Arc::new([
            std::sync::Arc::new(marc::intake::MarcPool::new(service.db.clone())) as _
        ]),
    };
    let routes = Routes::new(CatalogServiceServer::new(service.clone()))
        .add_service(CollectionServiceServer::new(service.clone()))
        .add_service(DiscoveryServiceServer::new(service.clone()))
        .add_service(MarcServiceServer::new(marc))
        .add_service(EventSinkServer::new(service.clone()))
        // Stocktake sessions: their own service, same handlers' state.
        .add_service(StocktakeServiceServer::new(service));
    let options = settings.serve_options(
        "catalog",
        vec![
            "lectern.catalog.v1.CatalogService",
            "lectern.catalog.v1.CollectionService",
            "lectern.catalog.v1.MarcService",
            "lectern.catalog.v1.DiscoveryService",
            "lectern.events.v1.EventSink",
            "lectern.catalog.v1.StocktakeService",
        ],
        verifier,
        PublicMethods::default(),
    );
    lectern_core::server::serve(listener, routes, options, shutdown.wait()).await
}
