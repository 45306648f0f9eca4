//! The notification service's configuration.

use std::net::SocketAddr;

use lectern_common::settings::ServiceSettings;
use lectern_core::config::{ConfigError, ports};
use lectern_core::process::ServerConfig;

/// How the notification service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listener, database, reader service, timeouts, clock.
    pub settings: ServiceSettings,
}

impl ServerConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self { settings: ServiceSettings::from_env("notification", ports::NOTIFICATION)? })
    }

    fn listen_addr(&self) -> SocketAddr {
        self.settings.listen
    }
}
