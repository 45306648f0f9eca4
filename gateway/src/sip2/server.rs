//! The SIP2 edge's accept loop: plain TCP or TLS (rustls, the configured
//! certificate), at most `max_connections` at once — a further connection
//! is closed at once, before it costs a handshake — and a graceful stop:
//! no new connections, idle ones closed, a message in flight answered
//! before its connection closes, and after a grace whatever is still open
//! is dropped.

use std::sync::Arc;
use std::time::Duration;

use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tracing::Instrument as _;

use super::Edge;
use super::connection;
use super::limits::Total;

/// How long a machine may take to finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a stop waits for messages in flight: a service call's own
/// deadline and the answer's write fit in it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The TLS settings for SIP2: the HTTP edge's configuration offers HTTP/2
/// and HTTP/1.1 by ALPN, which a self-check machine asking for something
/// else (or a SIP2-specific protocol name) would fail on; SIP2 names none.
fn without_alpn(tls: Arc<ServerConfig>) -> Arc<ServerConfig> {
    if tls.alpn_protocols.is_empty() {
        return tls;
    }
    let mut config = (*tls).clone();
    config.alpn_protocols.clear();
    Arc::new(config)
}

/// Serves `edge` on `listener` until `shutdown` fires.
pub async fn serve(
    edge: Edge,
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    shutdown: Shutdown,
) -> Result<(), ServeError> {
    let acceptor = tls.map(without_alpn).map(TlsAcceptor::from);
    let total = Arc::new(Total::default());
    let mut connections = JoinSet::new();
    tracing::info!(address = ?listener.local_addr().ok(), tls = acceptor.is_some(), "serving SIP2");
    let stopping = shutdown.wait();
    tokio::pin!(stopping);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stopping => break,
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(%error, "cannot accept a SIP2 connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = Total::take(&total, edge.config().max_connections) else {
            tracing::warn!(peer = %peer, open = total.open(), "SIP2 connection cap reached; closing the new connection");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let edge = edge.clone();
        let acceptor = acceptor.clone();
        let shutdown = shutdown.clone();
        let span = tracing::info_span!("sip2", peer = %peer, device.id = tracing::field::Empty);
        connections.spawn(
            async move {
                let _slot = slot;
                match acceptor {
                    None => connection::run(stream, &edge, &shutdown).await,
                    Some(acceptor) => {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                            Ok(Ok(stream)) => connection::run(stream, &edge, &shutdown).await,
                            Ok(Err(error)) => tracing::debug!(%error, "SIP2 TLS handshake failed"),
                            Err(_) => tracing::debug!("SIP2 TLS handshake timed out"),
                        }
                    }
                }
            }
            .instrument(span),
        );
    }
    drop(listener);
    let drained =
        tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} })
            .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "SIP2 connections still open after the shutdown grace; closing them"
        );
        connections.shutdown().await;
    }
    Ok(())
}
