//! The catalog service's configuration.

use std::net::SocketAddr;

use lectern_common::settings::ServiceSettings;
use lectern_core::config::{ConfigError, ports};
use lectern_core::process::ServerConfig;

/// How the catalog service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listener, database, reader service (asked whether a copy's school
    /// exists), timeouts, clock.
    pub settings: ServiceSettings,
}

impl Config {
    /// The configuration inside `lectern up` or a test: everything comes
    /// from `settings`.
    pub fn local(settings: ServiceSettings) -> Self {
        Self { settings }
    }
}

impl ServerConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self { settings: ServiceSettings::from_env("catalog", ports::CATALOG)? })
    }

    fn listen_addr(&self) -> SocketAddr {
        self.settings.listen
    }

    fn readiness(&self) -> lectern_core::readiness::Readiness {
        self.settings.readiness.clone()
    }
}
