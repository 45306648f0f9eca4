//! The gateway's configuration.

use std::net::SocketAddr;
use std::time::Duration;

use lectern_core::client::ClientConfig;
use lectern_core::clock::SharedClock;
use lectern_core::config::{self, ConfigError, ports};
use lectern_core::process::ServerConfig;

/// How the gateway runs and where the services are.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where clients connect (`LECTERN_LISTEN_ADDR`, default `0.0.0.0:50051`).
    pub listen: SocketAddr,
    /// The reader service (`LECTERN_READER_URL`, default `http://127.0.0.1:50063`).
    pub reader_url: String,
    /// The catalog service (`LECTERN_CATALOG_URL`, default `http://127.0.0.1:50061`).
    pub catalog_url: String,
    /// The circulation service (`LECTERN_CIRCULATION_URL`, default `http://127.0.0.1:50062`).
    pub circulation_url: String,
    /// The notification service (`LECTERN_NOTIFICATION_URL`, default `http://127.0.0.1:50064`).
    pub notification_url: String,
    /// Timeouts of calls to the services (`LECTERN_CONNECT_TIMEOUT_MS`, `LECTERN_CALL_TIMEOUT_MS`).
    pub client: ClientConfig,
    /// Pause between turning not-ready and closing on shutdown (`LECTERN_DRAIN_DELAY_MS`).
    pub drain_delay: Duration,
    /// How long draining may take before open calls are cut (`LECTERN_SHUTDOWN_GRACE_MS`).
    pub shutdown_grace: Duration,
    /// How old the list of signed-out sessions may get before it is
    /// fetched again (`LECTERN_REVOCATION_REFRESH_MS`, default 5000).
    pub revocation_refresh: Duration,
    /// The time source.
    pub clock: SharedClock,
}

fn local(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

impl ServerConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            listen: config::socket_addr("LECTERN_LISTEN_ADDR", &format!("0.0.0.0:{}", ports::GATEWAY))?,
            reader_url: config::string("LECTERN_READER_URL", &local(ports::READER))?,
            catalog_url: config::string("LECTERN_CATALOG_URL", &local(ports::CATALOG))?,
            circulation_url: config::string("LECTERN_CIRCULATION_URL", &local(ports::CIRCULATION))?,
            notification_url: config::string("LECTERN_NOTIFICATION_URL", &local(ports::NOTIFICATION))?,
            client: ClientConfig::from_env()?,
            drain_delay: config::millis("LECTERN_DRAIN_DELAY_MS", Duration::ZERO)?,
            shutdown_grace: config::millis("LECTERN_SHUTDOWN_GRACE_MS", Duration::from_secs(10))?,
            revocation_refresh: config::millis(
                "LECTERN_REVOCATION_REFRESH_MS",
                config::DEFAULT_REVOCATION_REFRESH,
            )?,
            clock: lectern_core::clock::system(),
        })
    }

    fn listen_addr(&self) -> SocketAddr {
        self.listen
    }
}
