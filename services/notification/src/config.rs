//! The notification service's configuration.

use std::net::SocketAddr;
use std::time::Duration;

use lectern_common::settings::ServiceSettings;
use lectern_core::config::{self, ConfigError, ports};
use lectern_core::process::ServerConfig;

use crate::channels::ChannelConfig;

/// How often the planner looks for due reminders when nothing wakes it.
const DEFAULT_REMINDER_INTERVAL: Duration = Duration::from_secs(300);
/// How often the sender looks for deliveries due when nothing wakes it.
const DEFAULT_SENDER_INTERVAL: Duration = Duration::from_secs(30);

/// How the notification service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listener, database, reader service, timeouts, clock.
    pub settings: ServiceSettings,
    /// The circulation service: loans re-checked before a reminder, school
    /// calendars (`LECTERN_CIRCULATION_URL`, default
    /// `http://127.0.0.1:50062`).
    pub circulation_url: String,
    /// The district's service key, with which the planner and the sender
    /// sign in to the reader service, and which signs unsubscribe links
    /// (`LECTERN_SERVICE_KEY`, required).
    pub service_key: String,
    /// The schools' time zone: their days, quiet hours and daily caps
    /// (`LECTERN_TIME_ZONE`, default `Asia/Shanghai`).
    pub time_zone: chrono_tz::Tz,
    /// Where readers' browsers reach Lectern, for the unsubscribe link in
    /// messages (`LECTERN_PUBLIC_URL`, default `http://127.0.0.1:8080`).
    pub public_url: String,
    /// How often the planner runs when nothing wakes it
    /// (`LECTERN_REMINDER_INTERVAL_MS`, default 300000: five minutes).
    pub reminder_interval: Duration,
    /// How often the sender looks for due deliveries when nothing wakes it
    /// (`LECTERN_SENDER_INTERVAL_MS`, default 30000).
    pub sender_interval: Duration,
    /// The district's SMTP relay and webhook (`LECTERN_SMTP_…`,
    /// `LECTERN_WEBHOOK_…`); nothing configured by default.
    pub channels: ChannelConfig,
}

impl Config {
    /// A configuration for `lectern up` or a test: the given settings and
    /// neighbours, the default time zone and pacing, no channels, links to
    /// the local gateway.
    pub fn local(settings: ServiceSettings, circulation_url: &str, service_key: &str) -> Self {
        Self {
            settings,
            circulation_url: circulation_url.to_owned(),
            service_key: service_key.to_owned(),
            time_zone: chrono_tz::Asia::Shanghai,
            public_url: format!("http://127.0.0.1:{}", ports::GATEWAY_HTTP),
            reminder_interval: DEFAULT_REMINDER_INTERVAL,
            sender_interval: DEFAULT_SENDER_INTERVAL,
            channels: ChannelConfig::default(),
        }
    }
}

impl ServerConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            settings: ServiceSettings::from_env("notification", ports::NOTIFICATION)?,
            circulation_url: config::string(
                "LECTERN_CIRCULATION_URL",
                &format!("http://127.0.0.1:{}", ports::CIRCULATION),
            )?,
            service_key: config::required("LECTERN_SERVICE_KEY")?,
            time_zone: config::time_zone("LECTERN_TIME_ZONE", chrono_tz::Asia::Shanghai)?,
            public_url: config::string(
                "LECTERN_PUBLIC_URL",
                &format!("http://127.0.0.1:{}", ports::GATEWAY_HTTP),
            )?
            .trim_end_matches('/')
            .to_owned(),
            reminder_interval: config::millis("LECTERN_REMINDER_INTERVAL_MS", DEFAULT_REMINDER_INTERVAL)?,
            sender_interval: config::millis("LECTERN_SENDER_INTERVAL_MS", DEFAULT_SENDER_INTERVAL)?,
            channels: ChannelConfig::from_env()?,
        })
    }

    fn listen_addr(&self) -> SocketAddr {
        self.settings.listen
    }

    fn readiness(&self) -> lectern_core::readiness::Readiness {
        self.settings.readiness.clone()
    }
}
