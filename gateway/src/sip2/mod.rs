//! The SIP2 edge: self-check machines and return boxes speak SIP2 2.00 to
//! Lectern over TCP (plain, or TLS). Each connection logs in (93) as a
//! SIP2 device account of one school; its messages become calls to the
//! services' public methods, made in process through the same
//! authentication and method table as any gRPC client, with the device's
//! token or the token of the reader signed in at the device. The framing
//! and the messages themselves are plain functions in the `lectern-sip2`
//! crate; nothing is decided here that the services do not decide.
//!
//! - `server.rs` accepts connections (TLS, the overall cap, the stop);
//! - `connection.rs` reads frames and writes answers (timeouts);
//! - `session.rs` is one connection's state and front door (checksums,
//!   character set, the answer cache, login, status);
//! - `patron.rs` (who the patron is), `account.rs`, `circulation.rs` and
//!   `items.rs` answer the messages;
//! - `services.rs` makes the calls, `request_id.rs` derives their request
//!   ids, `words.rs` writes the screen messages, `limits.rs` counts
//!   connections.

mod account;
mod circulation;
mod connection;
mod items;
mod limits;
mod metrics;
mod patron;
mod request_id;
mod server;
mod services;
mod session;
mod words;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lectern_core::clock::SharedClock;
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use lectern_sip2::SipDate;
use tokio::net::TcpListener;
use tokio_rustls::rustls::ServerConfig;

use crate::Sip2Config;
use crate::http::call::Calls;

/// The SIP2 edge of one listener.
#[derive(Clone)]
pub struct Edge {
    calls: Calls,
    config: Sip2Config,
    clock: SharedClock,
    time_zone: chrono_tz::Tz,
}

impl std::fmt::Debug for Edge {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Edge")
            .field("config", &self.config)
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

impl Edge {
    /// An edge calling the gateway's routes through `calls`.
    pub fn new(calls: Calls, config: Sip2Config, clock: SharedClock) -> Self {
        let time_zone = config.time_zone;
        Self { calls, config, clock, time_zone }
    }

    /// Serves SIP2 connections on `listener` (over TLS with `tls`) until
    /// `shutdown` fires, then lets the messages in flight be answered.
    pub async fn serve(
        self,
        listener: TcpListener,
        tls: Option<Arc<ServerConfig>>,
        shutdown: Shutdown,
    ) -> Result<(), ServeError> {
        server::serve(self, listener, tls, shutdown).await
    }

    /// The edge's settings.
    fn config(&self) -> &Sip2Config {
        &self.config
    }

    /// The time source.
    fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The calls a connection makes.
    fn services(&self) -> services::Services {
        services::Services::new(self.calls.clone())
    }

    /// `time` as a SIP2 date in the district's local time.
    fn local_date(&self, time: DateTime<Utc>) -> SipDate {
        SipDate::local(time.with_timezone(&self.time_zone).naive_local())
    }
}
