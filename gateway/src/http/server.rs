//! The HTTP edge's accept loop: HTTP/1.1 and HTTP/2 on one port, plain or
//! with TLS (rustls, a certificate chain and key from PEM files), and a
//! graceful stop that lets requests in flight finish. A slow or broken
//! TLS handshake is handled in the connection's own task, so it never holds
//! up the next browser.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use lectern_core::server::ServeError;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;

/// How long a client may take to finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's head. hyper also counts
/// the wait for the next request on a kept-alive connection in it, so it
/// is the idle time too: long enough that a desk page scanning a book a
/// minute keeps its connection, short enough that a slow sender does not
/// hold one for ever.
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(75);

/// Reads the certificate chain and key into a TLS configuration that
/// offers HTTP/2 and HTTP/1.1.
pub fn tls_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, ServeError> {
    let unreadable = |path: &std::path::Path, error: &dyn std::fmt::Display| {
        ServeError::Startup(format!("cannot read {}: {error}", path.display()))
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|error| unreadable(&files.cert, &error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| unreadable(&files.cert, &error))?;
    if certs.is_empty() {
        return Err(ServeError::Startup(format!("{} holds no certificate", files.cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| unreadable(&files.key, &error))?;
    // ring builds with a C compiler alone (aws-lc-rs, rustls' other
    // provider, needs CMake); post-quantum key exchange is not needed by a
    // school's kiosks and desks yet.
    #[allow(deprecated)]
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ServeError::Startup(format!("TLS: {error}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|error| ServeError::Startup(format!("TLS certificate and key do not fit: {error}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves one connection (plain or TLS) until it ends or the server stops.
async fn serve_connection<I>(
    builder: &Builder<TokioExecutor>,
    io: I,
    service: TowerToHyperService<axum::Router>,
    watcher: Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service).into_owned();
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%error, "HTTP connection ended with an error");
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting and waits up to `grace` for requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    tls: Option<Arc<ServerConfig>>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> Result<(), ServeError> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(REQUEST_HEAD_TIMEOUT);
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    tracing::info!(address = ?listener.local_addr().ok(), tls = acceptor.is_some(), "serving HTTP");
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(%error, "cannot accept an HTTP connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                None => serve_connection(&builder, stream, service, watcher).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_connection(&builder, stream, service, watcher).await,
                        Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => tracing::warn!("HTTP requests still open after the shutdown grace; closing them"),
    }
    Ok(())
}
