//! The ops port every Lectern process can open (`LECTERN_METRICS_LISTEN`,
//! off unless set; `0.0.0.0:9464` in Kubernetes): `/metrics` for
//! Prometheus, `/livez` and `/readyz` for people and probes that speak
//! HTTP. Never the public HTTP port: what is on it is for district IT.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::readiness::Readiness;

/// The content type of Prometheus' text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The ops routes over this process's `readiness`.
pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

/// Serves the ops routes on `listener` until `shutdown` resolves. It stays
/// up while the servers drain, so `/readyz` shows them draining.
pub async fn serve(
    listener: TcpListener,
    readiness: Readiness,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let address = listener.local_addr().ok();
    tracing::info!(address = ?address, "serving /metrics, /livez and /readyz");
    axum::serve(listener, router(readiness)).with_graceful_shutdown(shutdown).await
}

/// Binds the ops port at `address`.
pub async fn bind(address: SocketAddr) -> Result<TcpListener, crate::server::ServeError> {
    TcpListener::bind(address).await.map_err(|error| {
        crate::server::ServeError::Startup(format!("cannot listen on {address} (metrics): {error}"))
    })
}

async fn metrics() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], crate::metrics::render())
}

/// A process that answers at all is alive: nothing here waits on a
/// database or another service, so a slow one never restarts the pod.
async fn livez() -> &'static str {
    "ok\n"
}

/// 200 when every check is ready, else 503; either way one line per check,
/// so whoever looks sees what is missing.
async fn readyz(State(readiness): State<Readiness>) -> impl IntoResponse {
    let status = if readiness.is_ready("") { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], readiness.report(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readiness::CheckState;
    use tower::ServiceExt as _;

    async fn get(readiness: &Readiness, path: &str) -> (StatusCode, String) {
        let request = axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap();
        let response = router(readiness.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn readyz_names_what_is_missing_and_livez_does_not_care() {
        let readiness = Readiness::default();
        readiness.set("catalog.database", CheckState::Ready);
        assert_eq!(get(&readiness, "/readyz").await, (StatusCode::OK, "catalog.database: ready\n".into()));
        readiness.set("catalog.database", CheckState::NotReady("database unavailable: timed out".into()));
        assert_eq!(
            get(&readiness, "/readyz").await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "catalog.database: not ready (database unavailable: timed out)\n".into()
            )
        );
        assert_eq!(get(&readiness, "/livez").await, (StatusCode::OK, "ok\n".into()));
    }
}
