//! The gateway's readiness: it can do little without the services behind
//! it, so each upstream (catalog, circulation, reader, notification) is
//! asked `grpc.health.v1.Health/Check` on the gateway's own channel to it,
//! and sets the check `gateway.upstream.<name>`. `/readyz` then says which
//! upstream is missing and why.

use std::future::Future;
use std::time::{Duration, Instant};

use lectern_core::readiness::{CheckState, Readiness, check_timeout};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// The name of the check of `upstream`.
pub fn check_name(upstream: &str) -> String {
    format!("gateway.upstream.{upstream}")
}

/// Asks `channel`'s server once whether it is serving (service `""`: all
/// of it), within `timeout`.
pub async fn check(channel: Channel, timeout: Duration) -> CheckState {
    let mut client = HealthClient::new(channel);
    let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
    request.set_timeout(timeout);
    match tokio::time::timeout(timeout, client.check(request)).await {
        Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32 => CheckState::Ready,
        Ok(Ok(_)) => CheckState::NotReady("not serving".to_owned()),
        Ok(Err(status)) => CheckState::NotReady(format!("unreachable: {}", cause(&status))),
        Err(_) => CheckState::NotReady(format!("unreachable: no answer within {} ms", timeout.as_millis())),
    }
}

/// The status message and its innermost cause ("connection refused"
/// rather than only "transport error").
fn cause(status: &tonic::Status) -> String {
    let mut innermost: Option<&dyn std::error::Error> = None;
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        innermost = Some(error);
        source = error.source();
    }
    match innermost {
        Some(error) if error.to_string() != status.message() => format!("{} ({error})", status.message()),
        _ => status.message().to_owned(),
    }
}

/// How long an upstream may stay missing from the gateway's start before
/// it is logged: at start the services come up beside the gateway.
const STARTUP_GRACE: Duration = Duration::from_secs(10);

/// Checks `upstream` on `channel` now and every `interval` (sooner while
/// it is missing, so a start or a return is seen quickly) until
/// `shutdown` resolves. Logs once when it goes away and once when it is back.
pub fn watch(
    upstream: &'static str,
    channel: Channel,
    readiness: Readiness,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let name = check_name(upstream);
    readiness.set(&name, CheckState::NotReady("not checked yet".to_owned()));
    tokio::spawn(async move {
        tokio::pin!(shutdown);
        let timeout = check_timeout(interval);
        let started = Instant::now();
        let mut was_ready = false;
        let mut warned = false;
        let mut retry = Duration::from_millis(50);
        loop {
            let state = tokio::select! {
                () = &mut shutdown => return,
                state = check(channel.clone(), timeout) => state,
            };
            let pause = match &state {
                CheckState::Ready => {
                    if warned {
                        tracing::info!(upstream, "ready: the upstream service answers again");
                    }
                    warned = false;
                    was_ready = true;
                    retry = Duration::from_millis(50);
                    interval
                }
                CheckState::NotReady(reason) => {
                    if !warned && (was_ready || started.elapsed() >= STARTUP_GRACE) {
                        tracing::warn!(upstream, %reason, "not ready: an upstream service is missing");
                        warned = true;
                    }
                    was_ready = false;
                    let pause = retry.min(interval);
                    retry = (retry * 2).min(interval);
                    pause
                }
            };
            readiness.set(&name, state);
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    });
}
