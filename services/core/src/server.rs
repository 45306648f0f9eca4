//! The gRPC server every Lectern process runs: the service's routes behind
//! tracing and authentication layers, plus `grpc.health.v1` and reflection
//! (v1 and v1alpha), on an already-bound listener, with graceful shutdown.

use std::future::Future;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use http::{Request, Response};
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tower::{Layer, Service};
use tracing::Instrument as _;

use crate::identity::{AuthLayer, PublicMethods, TokenVerifier};
use crate::readiness::{CheckState, Readiness};

/// What a server needs besides its routes.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Short name for logs: "catalog", "gateway", ...
    pub name: &'static str,
    /// Fully qualified gRPC service names served (for health and reflection).
    pub services: Vec<&'static str>,
    /// Verifies bearer tokens.
    pub verifier: TokenVerifier,
    /// Methods that need no token.
    pub public: PublicMethods,
    /// How long to stay up, reporting NOT_SERVING, after shutdown starts and
    /// before the listener closes, so load balancers stop sending calls
    /// (`LECTERN_DRAIN_DELAY_MS`; 0 on a desk PC, a few seconds in Kubernetes).
    pub drain_delay: Duration,
    /// How long calls in flight (and clients that do not hang up) may keep
    /// the server alive once draining has begun (`LECTERN_SHUTDOWN_GRACE_MS`,
    /// default 10 s: inside Kubernetes' default 30 s termination grace).
    pub shutdown_grace: Duration,
    /// The process's readiness (shared by every server in it). The health
    /// service `""` and each served service follow this server's checks
    /// (those named `<name>.…`); `liveness` is SERVING while it runs.
    pub readiness: Readiness,
}

/// The health service Kubernetes' liveness probe asks: SERVING for the life
/// of the server, whatever its readiness.
pub const LIVENESS: &str = "liveness";

/// Serves `routes` on `listener` until `shutdown` resolves, then reports
/// NOT_SERVING, waits `drain_delay`, stops accepting and lets calls in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status(LIVENESS, ServingStatus::Serving).await;
    // A restarted server is no longer draining.
    let draining_check = format!("{}.draining", options.name);
    options.readiness.set(&draining_check, CheckState::Ready);
    let prefix = format!("{}.", options.name);
    // Answered before the listener accepts: the reporter starts `""` at
    // SERVING, which a server whose checks fail is not.
    let changes = options.readiness.subscribe();
    report(&reporter, options.readiness.is_ready(&prefix), &options.services).await;
    let follower = tokio::spawn(follow_readiness(
        reporter.clone(),
        options.readiness.clone(),
        changes,
        prefix,
        options.services.clone(),
    ));

    let mut reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(lectern_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health");
    let mut reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(lectern_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health");
    for service in &options.services {
        reflection_v1 = reflection_v1.with_service_name(*service);
        reflection_v1alpha = reflection_v1alpha.with_service_name(*service);
    }
    let reflection_v1 = reflection_v1.build_v1()?;
    let reflection_v1alpha = reflection_v1alpha.build_v1alpha()?;

    let routes = routes.add_service(health).add_service(reflection_v1).add_service(reflection_v1alpha);

    let name = options.name;
    let services = options.services.clone();
    let drain_delay = options.drain_delay;
    let shutdown_grace = options.shutdown_grace;
    let readiness = options.readiness.clone();
    let stop_following = follower.abort_handle();
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = draining_tx.send(());
        tracing::info!(server = name, "not ready: draining calls in flight");
        readiness.set(&draining_check, CheckState::NotReady("draining for shutdown".to_owned()));
        // Set here too, not only by the follower, so the answers have
        // changed before the drain delay starts.
        stop_following.abort();
        reporter.set_service_status("", ServingStatus::NotServing).await;
        for service in services {
            reporter.set_service_status(service, ServingStatus::NotServing).await;
        }
        if !drain_delay.is_zero() {
            tokio::time::sleep(drain_delay).await;
        }
    };

    let address = listener.local_addr().ok();
    tracing::info!(server = name, address = ?address, "serving gRPC");
    let server = Server::builder()
        // Outermost: one span per call, so authentication is traced too.
        .layer(TraceLayer { server: name })
        .layer(crate::metrics::MetricsLayer::new(name, &options.services))
        // Before any handler: no call reaches a service without a verified caller.
        .layer(AuthLayer::new(options.verifier, options.public))
        .add_routes(routes)
        // A listener passed in keeps Nagle's algorithm unless told otherwise
        // (tonic's own `tcp_nodelay` applies only to addresses it binds);
        // with it, each small gRPC reply waits on the peer's delayed ACK.
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), signal);
    // A graceful HTTP/2 shutdown waits for every client to acknowledge it;
    // one that never does must not keep the server from stopping.
    let deadline = async move {
        if draining_rx.await.is_err() {
            return std::future::pending().await;
        }
        tokio::time::sleep(drain_delay + shutdown_grace).await;
    };
    let outcome = tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(server = name, grace_ms = shutdown_grace.as_millis() as u64, "calls still open after the shutdown grace; closing them");
            Ok(())
        }
    };
    follower.abort();
    outcome?;
    tracing::info!(server = name, "stopped");
    Ok(())
}

/// Keeps the health answers of `""` and `services` on the checks named
/// `prefix…` of `readiness`: SERVING when all of them are ready.
async fn follow_readiness(
    reporter: tonic_health::server::HealthReporter,
    readiness: Readiness,
    mut changes: tokio::sync::watch::Receiver<u64>,
    prefix: String,
    services: Vec<&'static str>,
) {
    while changes.changed().await.is_ok() {
        report(&reporter, readiness.is_ready(&prefix), &services).await;
    }
}

async fn report(reporter: &tonic_health::server::HealthReporter, ready: bool, services: &[&'static str]) {
    let status = if ready { ServingStatus::Serving } else { ServingStatus::NotServing };
    reporter.set_service_status("", status).await;
    for service in services {
        reporter.set_service_status(*service, status).await;
    }
}

/// Why a server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The transport failed (listener, HTTP/2).
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
    /// The embedded descriptor set could not feed reflection (a build bug).
    #[error("cannot build gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The database could not be opened or migrated (`lectern-common`
    /// turns its database errors into this).
    #[error("{0}")]
    Database(String),
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Anything else that stops a server from starting.
    #[error("{0}")]
    Startup(String),
}

/// Opens a span per call (child of the caller's trace) and logs its outcome.
#[derive(Debug, Clone, Copy)]
struct TraceLayer {
    server: &'static str,
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService { inner, server: self.server }
    }
}

#[derive(Debug, Clone)]
struct TraceService<S> {
    inner: S,
    server: &'static str,
}

impl<S> Service<Request<Body>> for TraceService<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let quiet = path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.");
        let span = tracing::info_span!(
            "grpc",
            server = self.server,
            rpc.method = %path,
            principal = tracing::field::Empty,
        );
        crate::telemetry::adopt_remote_parent(&span, request.headers());
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(
            async move {
                let result = future.await;
                if let Ok(response) = &result {
                    let code = answered_code(response);
                    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                    if !quiet {
                        tracing::info!(grpc.code = ?code, elapsed_ms, "call finished");
                    }
                }
                result
            }
            .instrument(span),
        )
    }
}

/// The gRPC code an answer carries in its headers: tonic sends an error as
/// a trailers-only answer, so `grpc-status` there is the outcome; without
/// it the call went on to succeed (or failed mid-stream, which is not seen
/// here).
pub(crate) fn answered_code(response: &Response<Body>) -> tonic::Code {
    response
        .headers()
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .map_or(tonic::Code::Ok, tonic::Code::from)
}
