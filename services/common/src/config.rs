//! Configuration comes from `LECTERN_…` environment variables only. Each
//! helper reads one variable and, when its value is unusable, returns an
//! error that names the variable so an operator knows what to fix.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// A variable that is set but unusable.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {variable}: {problem}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: String,
    /// What is wrong with its value.
    pub problem: String,
}

fn raw(variable: &str) -> Result<Option<String>, ConfigError> {
    match std::env::var(variable) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value.trim().to_owned())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(ConfigError { variable: variable.to_owned(), problem: "is not valid UTF-8".to_owned() })
        }
    }
}

/// A text variable, or `default` when unset or empty.
pub fn string(variable: &str, default: &str) -> Result<String, ConfigError> {
    Ok(raw(variable)?.unwrap_or_else(|| default.to_owned()))
}

/// A text variable that may be unset.
pub fn optional_string(variable: &str) -> Result<Option<String>, ConfigError> {
    raw(variable)
}

/// A variable parsed with `FromStr`, or `default` when unset or empty.
pub fn parsed<T>(variable: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match raw(variable)? {
        None => Ok(default),
        Some(value) => value.parse().map_err(|error: T::Err| ConfigError {
            variable: variable.to_owned(),
            problem: format!("{value:?} is not valid: {error}"),
        }),
    }
}

/// A socket address such as `0.0.0.0:50061`.
pub fn socket_addr(variable: &str, default: &str) -> Result<SocketAddr, ConfigError> {
    let value = string(variable, default)?;
    value.parse().map_err(|_| ConfigError {
        variable: variable.to_owned(),
        problem: format!("{value:?} is not an address like 0.0.0.0:50061"),
    })
}

/// A duration given in milliseconds.
pub fn millis(variable: &str, default: Duration) -> Result<Duration, ConfigError> {
    let default_ms = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
    parsed(variable, default_ms).map(Duration::from_millis)
}

/// A duration given in seconds.
pub fn seconds(variable: &str, default: Duration) -> Result<Duration, ConfigError> {
    parsed(variable, default.as_secs()).map(Duration::from_secs)
}

/// A time zone name from the IANA database, such as `Asia/Shanghai`.
pub fn time_zone(variable: &str, default: chrono_tz::Tz) -> Result<chrono_tz::Tz, ConfigError> {
    match raw(variable)? {
        None => Ok(default),
        Some(value) => value.parse().map_err(|_| ConfigError {
            variable: variable.to_owned(),
            problem: format!("{value:?} is not a time zone name like Asia/Shanghai"),
        }),
    }
}

/// A required secret; an unset variable is an error naming it.
pub fn required(variable: &str) -> Result<String, ConfigError> {
    raw(variable)?
        .ok_or_else(|| ConfigError { variable: variable.to_owned(), problem: "must be set".to_owned() })
}

/// Default ports of the standalone servers.
pub mod ports {
    /// The gateway's gRPC port.
    pub const GATEWAY: u16 = 50051;
    /// The catalog service.
    pub const CATALOG: u16 = 50061;
    /// The circulation service.
    pub const CIRCULATION: u16 = 50062;
    /// The reader service.
    pub const READER: u16 = 50063;
    /// The notification service.
    pub const NOTIFICATION: u16 = 50064;
}

/// How often, by default, servers refetch the signed-out sessions.
pub const DEFAULT_REVOCATION_REFRESH: Duration = Duration::from_secs(5);

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
    pub client: crate::client::ClientConfig,
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
    pub clock: crate::clock::SharedClock,
}

impl ServiceSettings {
    /// Reads the settings of `service`, whose standalone port is `port`.
    pub fn from_env(service: &str, port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            listen: socket_addr("LECTERN_LISTEN_ADDR", &format!("0.0.0.0:{port}"))?,
            database_url: string("LECTERN_DATABASE_URL", &format!("./lectern-data/{service}.db"))?,
            db_pool_size: parsed("LECTERN_DB_POOL_SIZE", 8)?,
            reader_url: string("LECTERN_READER_URL", &format!("http://127.0.0.1:{}", ports::READER))?,
            client: crate::client::ClientConfig::from_env()?,
            drain_delay: millis("LECTERN_DRAIN_DELAY_MS", Duration::ZERO)?,
            shutdown_grace: millis("LECTERN_SHUTDOWN_GRACE_MS", Duration::from_secs(10))?,
            revocation_refresh: millis("LECTERN_REVOCATION_REFRESH_MS", DEFAULT_REVOCATION_REFRESH)?,
            clock: crate::clock::system(),
        })
    }

    /// Settings for a service inside `lectern up` or a test: loopback, the
    /// given database, the given reader service.
    pub fn local(database_url: &str, reader_url: &str, clock: crate::clock::SharedClock) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.to_owned(),
            db_pool_size: 4,
            reader_url: reader_url.to_owned(),
            client: crate::client::ClientConfig::default(),
            drain_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(10),
            revocation_refresh: DEFAULT_REVOCATION_REFRESH,
            clock,
        }
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
        crate::client::channel("LECTERN_READER_URL", &self.reader_url, &self.client)
    }

    /// A token verifier that fetches keys and signed-out sessions from the
    /// reader service.
    pub fn remote_verifier(&self) -> Result<crate::identity::TokenVerifier, ConfigError> {
        let reader = self.reader_channel()?;
        Ok(crate::identity::remote_verifier(reader, self.revocation_refresh, self.clock.clone()))
    }

    /// The server options for `name` serving `services`.
    pub fn serve_options(
        &self,
        name: &'static str,
        services: Vec<&'static str>,
        verifier: crate::identity::TokenVerifier,
        public: crate::identity::PublicMethods,
    ) -> crate::server::ServeOptions {
        crate::server::ServeOptions {
            name,
            services,
            verifier,
            public,
            drain_delay: self.drain_delay,
            shutdown_grace: self.shutdown_grace,
        }
    }
}
