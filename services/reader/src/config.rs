//! The reader service's configuration.

use std::net::SocketAddr;

use lectern_common::outbox::RelayConfig;
use lectern_common::settings::ServiceSettings;
use lectern_core::config::{self, ConfigError, ports};
use lectern_core::process::ServerConfig;

/// The shortest service key `from_env` accepts: the key is all that stands
/// between the network and a service token.
const MIN_SERVICE_KEY_CHARS: usize = 16;
/// Token lifetimes `from_env` accepts, in seconds: long enough that a
/// service token outlives its one-minute refresh margin, short enough that
/// a stolen token dies within a week.
const TOKEN_TTL_SECS: std::ops::RangeInclusive<i64> = 120..=604_800;

/// How the reader service runs. `Debug` leaves the secrets out.
#[derive(Clone)]
pub struct Config {
    /// Listener, database, timeouts, clock.
    pub settings: ServiceSettings,
    /// The district's shared key that Lectern services present to get
    /// service tokens (`LECTERN_SERVICE_KEY`, at least 16 characters);
    /// `None` refuses every service sign-in.
    pub service_key: Option<String>,
    /// How long a token is valid (`LECTERN_TOKEN_TTL_SECS`, default 3600).
    pub token_ttl: chrono::Duration,
    /// The district's time zone, which decides what "today" is for block
    /// end dates (`LECTERN_TIME_ZONE`, default `Asia/Shanghai`).
    pub time_zone: chrono_tz::Tz,
    /// The password of the first district admin, created when there is no
    /// staff account at all (`LECTERN_BOOTSTRAP_ADMIN_PASSWORD`); when
    /// unset a random one-time password is generated and printed once.
    pub bootstrap_admin_password: Option<String>,
    /// Wrong passwords in a row that lock an account
    /// (`LECTERN_LOCKOUT_ATTEMPTS`, default 5, 1–100).
    pub lockout_attempts: u32,
    /// How long a locked account stays locked
    /// (`LECTERN_LOCKOUT_MINUTES`, default 15, 1–1440).
    pub lockout_period: chrono::Duration,
    /// The circulation service: open loans before an erasure, loans for an
    /// export, and the erasure events (`LECTERN_CIRCULATION_URL`, default
    /// `http://127.0.0.1:50062`).
    pub circulation_url: String,
    /// The notification service: notices for an export, and the erasure
    /// events (`LECTERN_NOTIFICATION_URL`, default `http://127.0.0.1:50064`).
    pub notification_url: String,
    /// Event relay pacing (`LECTERN_RELAY_POLL_MS`, default 1000;
    /// `LECTERN_RELAY_RETRY_MAX_MS`, default 10000).
    pub relay: RelayConfig,
    /// How long sign-in sessions (and so refresh tokens) last, per kind of
    /// holder (`LECTERN_SESSION_HOURS_STAFF`, `…_READER`, `…_DEVICE`).
    pub session_lifetimes: crate::sessions::Lifetimes,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Config")
            .field("settings", &self.settings)
            .field("service_key", &self.service_key.as_ref().map(|_| "<set>"))
            .field("token_ttl", &self.token_ttl)
            .field("time_zone", &self.time_zone)
            .field("bootstrap_admin_password", &self.bootstrap_admin_password.as_ref().map(|_| "<set>"))
            .field("lockout_attempts", &self.lockout_attempts)
            .field("lockout_period", &self.lockout_period)
            .field("circulation_url", &self.circulation_url)
            .field("notification_url", &self.notification_url)
            .field("relay", &self.relay)
            .field("session_lifetimes", &self.session_lifetimes)
            .finish()
    }
}

impl Config {
    /// A configuration for `lectern up` and tests: the given settings and
    /// service key, everything else at its default (set `circulation_url`
    /// and `notification_url` when the neighbours are elsewhere).
    pub fn local(settings: ServiceSettings, service_key: &str) -> Self {
        Self {
            settings,
            service_key: Some(service_key.to_owned()),
            token_ttl: chrono::Duration::seconds(3600),
            time_zone: chrono_tz::Asia::Shanghai,
            bootstrap_admin_password: None,
            lockout_attempts: 5,
            lockout_period: chrono::Duration::minutes(15),
            circulation_url: format!("http://127.0.0.1:{}", ports::CIRCULATION),
            notification_url: format!("http://127.0.0.1:{}", ports::NOTIFICATION),
            relay: RelayConfig::default(),
            session_lifetimes: crate::sessions::Lifetimes::default(),
        }
    }
}

/// A session lifetime in hours from `variable`: 1 hour to a year.
fn session_hours(variable: &str, default: chrono::Duration) -> Result<chrono::Duration, ConfigError> {
    let hours: i64 = config::parsed(variable, default.num_hours())?;
    if !(1..=8760).contains(&hours) {
        return Err(ConfigError {
            variable: variable.to_owned(),
            problem: format!("{hours} is not between 1 and 8760 hours"),
        });
    }
    Ok(chrono::Duration::hours(hours))
}

impl ServerConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        let service_key = config::optional_string("LECTERN_SERVICE_KEY")?;
        if let Some(key) = &service_key
            && key.chars().count() < MIN_SERVICE_KEY_CHARS
        {
            return Err(ConfigError {
                variable: "LECTERN_SERVICE_KEY".to_owned(),
                problem: format!("must have at least {MIN_SERVICE_KEY_CHARS} characters"),
            });
        }
        let ttl_secs: i64 = config::parsed("LECTERN_TOKEN_TTL_SECS", 3600)?;
        if !TOKEN_TTL_SECS.contains(&ttl_secs) {
            return Err(ConfigError {
                variable: "LECTERN_TOKEN_TTL_SECS".to_owned(),
                problem: format!(
                    "{ttl_secs} is not between {} and {} seconds",
                    TOKEN_TTL_SECS.start(),
                    TOKEN_TTL_SECS.end()
                ),
            });
        }
        let defaults = crate::sessions::Lifetimes::default();
        let lockout_attempts: u32 = config::parsed("LECTERN_LOCKOUT_ATTEMPTS", 5)?;
        if !(1..=100).contains(&lockout_attempts) {
            return Err(ConfigError {
                variable: "LECTERN_LOCKOUT_ATTEMPTS".to_owned(),
                problem: format!("{lockout_attempts} is not between 1 and 100"),
            });
        }
        let lockout_minutes: i64 = config::parsed("LECTERN_LOCKOUT_MINUTES", 15)?;
        if !(1..=1440).contains(&lockout_minutes) {
            return Err(ConfigError {
                variable: "LECTERN_LOCKOUT_MINUTES".to_owned(),
                problem: format!("{lockout_minutes} is not between 1 and 1440 minutes"),
            });
        }
        Ok(Self {
            settings: ServiceSettings::from_env("reader", ports::READER)?,
            service_key,
            token_ttl: chrono::Duration::seconds(ttl_secs),
            time_zone: config::time_zone("LECTERN_TIME_ZONE", chrono_tz::Asia::Shanghai)?,
            bootstrap_admin_password: config::optional_string("LECTERN_BOOTSTRAP_ADMIN_PASSWORD")?,
            lockout_attempts,
            lockout_period: chrono::Duration::minutes(lockout_minutes),
            circulation_url: config::string(
                "LECTERN_CIRCULATION_URL",
                &format!("http://127.0.0.1:{}", ports::CIRCULATION),
            )?,
            notification_url: config::string(
                "LECTERN_NOTIFICATION_URL",
                &format!("http://127.0.0.1:{}", ports::NOTIFICATION),
            )?,
            relay: RelayConfig::from_env()?,
            session_lifetimes: crate::sessions::Lifetimes {
                staff: session_hours("LECTERN_SESSION_HOURS_STAFF", defaults.staff)?,
                reader: session_hours("LECTERN_SESSION_HOURS_READER", defaults.reader)?,
                device: session_hours("LECTERN_SESSION_HOURS_DEVICE", defaults.device)?,
            },
        })
    }

    fn listen_addr(&self) -> SocketAddr {
        self.settings.listen
    }

    fn readiness(&self) -> lectern_core::readiness::Readiness {
        self.settings.readiness.clone()
    }
}
