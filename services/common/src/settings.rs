//! The settings every service behind the gateway reads the same way: where
//! it listens, its database, the reader service it verifies tokens with,
//! timeouts, and the clock.

use std::net::SocketAddr;
use std::time::Duration;

use lectern_core::config::{
    ConfigError, DEFAULT_REVOCATION_REFRESH, millis, parsed, ports, socket_addr, string,
};

/// Settings every service reads the same way.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Where to listen (`LECTERN_LISTEN_ADDR`, default `0.0.0.0:<port>`).
    pub listen: SocketAddr,
    /// The service's own database (`LECTERN_DATABASE_URL`): a SQLite file
    /// path (default `./lectern-data/<service>.db`) or a `postgres://` URL.
    pub database_url: String,
    /// Database connections (`LECTERN_DB_POOL_SIZE`, default 8).
    pub db_pool_size: u32,
    /// The reader service, source of identity (`LECTERN_READER_URL`,
    /// default `http://127.0.0.1:50063`).
    pub reader_url: String,
    /// Timeouts of calls to other services.
    pub client: lectern_core::client::ClientConfig,
    /// Pause between turning not-ready and closing the listener on shutdown
    /// (`LECTERN_DRAIN_DELAY_MS`, default 0).
    pub drain_delay: Duration,
    /// How long draining may take before open calls are cut
    /// (`LECTERN_SHUTDOWN_GRACE_MS`, default 10000).
    pub shutdown_grace: Duration,
    /// How old the list of signed-out sessions fetched from the reader
    /// service may get before it is fetched again
    /// (`LECTERN_REVOCATION_REFRESH_MS`, default 5000).
    pub revocation_refresh: Duration,
    /// The time source (the system clock outside tests).
    pub clock: lectern_core::clock::SharedClock,
    /// The process's readiness, shared by every server in it (`lectern up`
    /// gives all its servers one).
    pub readiness: lectern_core::readiness::Readiness,
    /// How often the database check runs (`LECTERN_READINESS_INTERVAL_MS`,
    /// default 5000).
    pub readiness_interval: Duration,
}

impl ServiceSettings {
    /// Reads the settings of `service`, whose standalone port is `port`.
    pub fn from_env(service: &str, port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            listen: socket_addr("LECTERN_LISTEN_ADDR", &format!("0.0.0.0:{port}"))?,
            database_url: string("LECTERN_DATABASE_URL", &format!("./lectern-data/{service}.db"))?,
            db_pool_size: parsed("LECTERN_DB_POOL_SIZE", 8)?,
            reader_url: string("LECTERN_READER_URL", &format!("http://127.0.0.1:{}", ports::READER))?,
            client: lectern_core::client::ClientConfig::from_env()?,
            drain_delay: millis("LECTERN_DRAIN_DELAY_MS", Duration::ZERO)?,
            shutdown_grace: millis("LECTERN_SHUTDOWN_GRACE_MS", Duration::from_secs(10))?,
            revocation_refresh: millis("LECTERN_REVOCATION_REFRESH_MS", DEFAULT_REVOCATION_REFRESH)?,
            clock: lectern_core::clock::system(),
            readiness: lectern_core::readiness::Readiness::default(),
            readiness_interval: lectern_core::readiness::interval_from_env()?,
        })
    }

    /// Settings for a service inside `lectern up` or a test: loopback, the
    /// given database, the given reader service.
    pub fn local(database_url: &str, reader_url: &str, clock: lectern_core::clock::SharedClock) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.to_owned(),
            db_pool_size: 4,
            reader_url: reader_url.to_owned(),
            client: lectern_core::client::ClientConfig::default(),
            drain_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(10),
            revocation_refresh: DEFAULT_REVOCATION_REFRESH,
            clock,
            readiness: lectern_core::readiness::Readiness::default(),
            readiness_interval: lectern_core::readiness::DEFAULT_INTERVAL,
        }
    }

    /// Runs the service's pending migrations (the `migrate` command of its
    /// binary, a Kubernetes job) and returns their versions.
    pub fn migrate(&self, migrations: crate::db::Migrations) -> Result<Vec<String>, crate::db::DbError> {
        crate::db::Db::connect(&self.database_url, 1)?.migrate(migrations)
    }

    /// Opens and migrates the service's database (blocking work, run off
    /// the async runtime).
    pub async fn open_database(
        &self,
        migrations: crate::db::Migrations,
    ) -> Result<crate::db::Db, crate::db::DbError> {
        let url = self.database_url.clone();
        let pool_size = self.db_pool_size;
        tokio::task::spawn_blocking(move || {
            let db = crate::db::Db::connect(&url, pool_size)?;
            let applied = db.migrate(migrations)?;
            if !applied.is_empty() {
                tracing::info!(count = applied.len(), "database migrations applied");
            }
            Ok(db)
        })
        .await
        .map_err(|error| crate::db::DbError::Unavailable(error.to_string()))?
    }

    /// A channel to the reader service.
    pub fn reader_channel(&self) -> Result<tonic::transport::Channel, ConfigError> {
        lectern_core::client::channel("LECTERN_READER_URL", &self.reader_url, &self.client)
    }

    /// A token verifier that fetches keys and signed-out sessions from the
    /// reader service.
    pub fn remote_verifier(&self) -> Result<lectern_core::identity::TokenVerifier, ConfigError> {
        let reader = self.reader_channel()?;
        Ok(lectern_core::identity::remote_verifier(reader, self.revocation_refresh, self.clock.clone()))
    }

    /// The server options for `name` serving `services`.
    pub fn serve_options(
        &self,
        name: &'static str,
        services: Vec<&'static str>,
        verifier: lectern_core::identity::TokenVerifier,
        public: lectern_core::identity::PublicMethods,
    ) -> lectern_core::server::ServeOptions {
        lectern_core::server::ServeOptions {
            name,
            services,
            verifier,
            public,
            drain_delay: self.drain_delay,
            shutdown_grace: self.shutdown_grace,
            readiness: self.readiness.clone(),
        }
    }

    /// Checks the database of the server `name` every
    /// `readiness_interval` until `shutdown` (the `<name>.database` check).
    pub fn watch_database(
        &self,
        name: &str,
        db: &crate::db::Db,
        shutdown: &lectern_core::shutdown::Shutdown,
    ) {
        crate::db::ready::watch(
            db.clone(),
            self.readiness.clone(),
            format!("{name}.database"),
            self.readiness_interval,
            shutdown.wait(),
        );
    }
}
