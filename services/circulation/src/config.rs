//! The circulation service's configuration.

use std::net::SocketAddr;
use std::time::Duration;

use lectern_common::outbox::RelayConfig;
use lectern_common::settings::ServiceSettings;
use lectern_core::config::{self, ConfigError, ports};
use lectern_core::process::ServerConfig;

/// How often the anonymization job runs when none is configured.
const DEFAULT_ANONYMIZE_INTERVAL: Duration = Duration::from_secs(3600);

/// How the circulation service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listener, database, reader service, timeouts, clock.
    pub settings: ServiceSettings,
    /// The catalog service: copy look-ups and the availability events
    /// (`LECTERN_CATALOG_URL`, default `http://127.0.0.1:50061`).
    pub catalog_url: String,
    /// The notification service, which receives loan events
    /// (`LECTERN_NOTIFICATION_URL`, default `http://127.0.0.1:50064`).
    pub notification_url: String,
    /// The district's service key, with which the event relay signs in to
    /// the reader service (`LECTERN_SERVICE_KEY`, required).
    pub service_key: String,
    /// The time zone of due days (`LECTERN_TIME_ZONE`, default
    /// `Asia/Shanghai`).
    pub time_zone: chrono_tz::Tz,
    /// Event relay pacing (`LECTERN_RELAY_POLL_MS`, default 1000;
    /// `LECTERN_RELAY_RETRY_MAX_MS`, default 10000).
    pub relay: RelayConfig,
    /// How often returned loans due for anonymization are anonymized
    /// (`LECTERN_ANONYMIZE_INTERVAL_MS`, default 3600000: hourly).
    pub anonymize_interval: Duration,
}

impl Config {
    /// A configuration for `lectern up` or a test: the given settings and
    /// neighbours, the default time zone and relay pacing.
    pub fn local(
        settings: ServiceSettings,
        catalog_url: &str,
        notification_url: &str,
        service_key: &str,
    ) -> Self {
        Self {
            settings,
            catalog_url: catalog_url.to_owned(),
            notification_url: notification_url.to_owned(),
            service_key: service_key.to_owned(),
            time_zone: chrono_tz::Asia::Shanghai,
            relay: RelayConfig::default(),
            anonymize_interval: DEFAULT_ANONYMIZE_INTERVAL,
        }
    }
}

impl ServerConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            settings: ServiceSettings::from_env("circulation", ports::CIRCULATION)?,
            catalog_url: config::string(
                "LECTERN_CATALOG_URL",
                &format!("http://127.0.0.1:{}", ports::CATALOG),
            )?,
            notification_url: config::string(
                "LECTERN_NOTIFICATION_URL",
                &format!("http://127.0.0.1:{}", ports::NOTIFICATION),
            )?,
            service_key: config::required("LECTERN_SERVICE_KEY")?,
            time_zone: config::time_zone("LECTERN_TIME_ZONE", chrono_tz::Asia::Shanghai)?,
            relay: RelayConfig::from_env()?,
            anonymize_interval: config::millis("LECTERN_ANONYMIZE_INTERVAL_MS", DEFAULT_ANONYMIZE_INTERVAL)?,
        })
    }

    fn listen_addr(&self) -> SocketAddr {
        self.settings.listen
    }

    fn readiness(&self) -> lectern_core::readiness::Readiness {
        self.settings.readiness.clone()
    }
}
