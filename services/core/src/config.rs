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
    /// The gateway's HTTP edge: pages and the JSON API.
    pub const GATEWAY_HTTP: u16 = 8080;
    /// The gateway's SIP2 port for self-check machines (plain TCP).
    pub const GATEWAY_SIP2: u16 = 6001;
    /// The gateway's SIP2 port over TLS.
    pub const GATEWAY_SIP2_TLS: u16 = 6002;
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
