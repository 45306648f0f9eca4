//! Calls to other services: lazily connecting channels with connect and
//! request timeouts (a service that is down answers UNAVAILABLE at once, a
//! hung one within the deadline), and requests that carry the caller's
//! token and the trace context to the next hop.

use std::time::Duration;

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

use crate::config::ConfigError;
use crate::identity::Principal;

/// How a service reaches another.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// How long to wait for a TCP connection.
    pub connect_timeout: Duration,
    /// The deadline of every call.
    pub call_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(1), call_timeout: Duration::from_secs(5) }
    }
}

impl ClientConfig {
    /// From `LECTERN_CONNECT_TIMEOUT_MS` (default 1000) and
    /// `LECTERN_CALL_TIMEOUT_MS` (default 5000).
    pub fn from_env() -> Result<Self, ConfigError> {
        let default = Self::default();
        Ok(Self {
            connect_timeout: crate::config::millis("LECTERN_CONNECT_TIMEOUT_MS", default.connect_timeout)?,
            call_timeout: crate::config::millis("LECTERN_CALL_TIMEOUT_MS", default.call_timeout)?,
        })
    }
}

/// A channel to `url` (e.g. `http://127.0.0.1:50061`). It connects on first
/// use and reconnects after failures, so services may start in any order.
pub fn channel(variable: &str, url: &str, config: &ClientConfig) -> Result<Channel, ConfigError> {
    let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|error| ConfigError {
        variable: variable.to_owned(),
        problem: format!("{url:?} is not a URL like http://127.0.0.1:50061: {error}"),
    })?;
    Ok(endpoint
        .connect_timeout(config.connect_timeout)
        .timeout(config.call_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true)
        .connect_lazy())
}

/// A request with a deadline and the current trace context.
pub fn with_deadline<T>(message: T, deadline: Duration) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(deadline);
    crate::telemetry::inject_context(request.metadata_mut());
    request
}

/// A request made on behalf of `principal`: it carries their token.
pub fn on_behalf<T>(message: T, principal: &Principal, deadline: Duration) -> tonic::Request<T> {
    with_bearer(message, &principal.token, deadline)
}

/// A request carrying `token` as its bearer token.
pub fn with_bearer<T>(message: T, token: &str, deadline: Duration) -> tonic::Request<T> {
    let mut request = with_deadline(message, deadline);
    set_bearer(request.metadata_mut(), token);
    request
}

/// Sets `authorization: Bearer <token>`.
pub fn set_bearer(metadata: &mut MetadataMap, token: &str) {
    if let Ok(value) = MetadataValue::try_from(format!("Bearer {token}")) {
        metadata.insert("authorization", value);
    }
}

/// Turns a failed call to another service into the status to answer with:
/// the dependency's refusals and invalid arguments pass through; transport
/// trouble and timeouts become UNAVAILABLE naming the dependency.
pub fn dependency_status(dependency: &str, status: tonic::Status) -> tonic::Status {
    use tonic::Code;
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown => {
            tracing::warn!(dependency, code = ?status.code(), message = status.message(), "dependency unavailable");
            tonic::Status::unavailable(format!("the {dependency} service is unavailable, try again shortly"))
        }
        Code::Internal => {
            tracing::error!(dependency, message = status.message(), "dependency failed");
            tonic::Status::internal("internal error")
        }
        _ => status,
    }
}
