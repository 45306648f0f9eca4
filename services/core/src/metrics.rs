//! Prometheus metrics of the process: the recorder ([`install`], once per
//! process), the text the ops port serves ([`render`]), and the layer that
//! counts and times the calls of every gRPC server ([`MetricsLayer`]).
//!
//! Code anywhere records with the `metrics` macros (`metrics::counter!`
//! and friends). Without a recorder (in-process tests, tools) those calls
//! do nothing, so recording never needs to know whether metrics are on.
//! Every name starts with `lectern_`; durations are in seconds; histograms
//! whose name ends in `_seconds` share [`DURATION_BUCKETS`]. Label values
//! are always from a bounded set (a method of a served service, a matched
//! route pattern, a school): never a raw path, id of a reader or message.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use http::{Request, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use prost::Message as _;
use tonic::body::Body;
use tower::{Layer, Service};

/// Bucket bounds (seconds) of every `_seconds` histogram: from a 1 ms
/// in-memory answer to a 10 s call that is about to time out.
pub const DURATION_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How often histograms are folded into their buckets between scrapes, so
/// their raw samples do not pile up in a process nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Label value for a gRPC path that is not a method of a served service.
pub const OTHER: &str = "other";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder for this process. Call once, early in
/// `main` (inside the async runtime, which runs the upkeep task); a second
/// call changes nothing. A recorder that cannot be installed (another one
/// was, by a library) leaves metrics off with a warning: the district's
/// work goes on.
pub fn install() {
    if HANDLE.get().is_some() {
        return;
    }
    let handle = match PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), DURATION_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
    {
        Ok(handle) => handle,
        Err(error) => {
            tracing::warn!(%error, "metrics are off: cannot install the Prometheus recorder");
            return;
        }
    };
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let upkeep = handle.clone();
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(UPKEEP_INTERVAL).await;
                upkeep.run_upkeep();
            }
        });
    }
    let _ = HANDLE.set(handle);
}

/// The current metrics in Prometheus text format; empty when no recorder
/// is installed.
pub fn render() -> String {
    HANDLE.get().map(PrometheusHandle::render).unwrap_or_default()
}

/// The canonical name of a gRPC status code (the `code` label).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Every method path (`/pkg.Service/Method`) of Lectern's protos, by
/// service name, read once from the embedded descriptor set.
fn methods_by_service() -> &'static HashMap<String, Vec<Arc<str>>> {
    static METHODS: OnceLock<HashMap<String, Vec<Arc<str>>>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let mut methods: HashMap<String, Vec<Arc<str>>> = HashMap::new();
        // The set is built into the binary by build.rs: if it did not decode,
        // every method would be labelled `other`, which the scrape test sees.
        let Ok(set) = prost_types::FileDescriptorSet::decode(lectern_proto::FILE_DESCRIPTOR_SET) else {
            return methods;
        };
        for file in set.file {
            let package = file.package.unwrap_or_default();
            for service in file.service {
                let name = format!("{package}.{}", service.name.unwrap_or_default());
                let paths = service
                    .method
                    .iter()
                    .map(|method| {
                        Arc::from(format!("/{name}/{}", method.name.as_deref().unwrap_or_default()))
                    })
                    .collect();
                methods.insert(name, paths);
            }
        }
        methods
    })
}

/// Counts and times the calls of one gRPC server:
/// `lectern_grpc_requests_total{server,method,code}` and
/// `lectern_grpc_request_duration_seconds{server,method}`. Health checks and
/// reflection are left out (probes would drown the district's calls). The
/// code is the one of a trailers-only answer (how tonic answers an error);
/// an error sent after a streamed answer began counts as OK. For a
/// streaming call the duration is the time to the answer's headers.
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    server: &'static str,
    methods: Arc<HashSet<Arc<str>>>,
}

impl MetricsLayer {
    /// The layer of the server `server` serving `services` (fully qualified
    /// names): their methods are labelled by path, anything else `other`.
    pub fn new(server: &'static str, services: &[&'static str]) -> Self {
        let all = methods_by_service();
        let methods = services
            .iter()
            .filter_map(|service| all.get(*service))
            .flatten()
            .cloned()
            .collect::<HashSet<_>>();
        Self { server, methods: Arc::new(methods) }
    }

    fn method_label(&self, path: &str) -> Option<metrics::SharedString> {
        if path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.") {
            return None;
        }
        Some(match self.methods.get(path) {
            Some(method) => metrics::SharedString::from(Arc::clone(method)),
            None => metrics::SharedString::const_str(OTHER),
        })
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService { inner, layer: self.clone() }
    }
}

/// The service [`MetricsLayer`] wraps around a server's routes.
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    layer: MetricsLayer,
}

impl<S> Service<Request<Body>> for MetricsService<S>
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
        let method = self.layer.method_label(request.uri().path());
        let server = self.layer.server;
        let started = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            if let Some(method) = method {
                let code = match &result {
                    Ok(response) => crate::server::answered_code(response),
                    // The transport failed the call before any answer.
                    Err(_) => tonic::Code::Unknown,
                };
                metrics::histogram!(
                    "lectern_grpc_request_duration_seconds",
                    "server" => server,
                    "method" => method.clone(),
                )
                .record(started.elapsed().as_secs_f64());
                metrics::counter!(
                    "lectern_grpc_requests_total",
                    "server" => server,
                    "method" => method,
                    "code" => code_name(code),
                )
                .increment(1);
            }
            result
        })
    }
}

/// Every metric name Lectern registers (with the `_total` of counters; a
/// histogram `x` is scraped as `x_bucket`, `x_sum` and `x_count`). The
/// dashboard's test checks its queries name only these.
pub const NAMES: &[&str] = &[
    "lectern_grpc_requests_total",
    "lectern_grpc_request_duration_seconds",
    "lectern_http_requests_total",
    "lectern_http_request_duration_seconds",
    "lectern_db_pool_connections",
    "lectern_db_pool_max_connections",
    "lectern_db_pool_wait_seconds",
    "lectern_db_pool_timeouts_total",
    "lectern_outbox_backlog",
    "lectern_outbox_oldest_age_seconds",
    "lectern_relay_deliveries_total",
    "lectern_relay_failures_total",
    "lectern_notification_deliveries_total",
    "lectern_checkouts_total",
    "lectern_checkins_total",
    "lectern_renewals_total",
    "lectern_sip2_connections",
    "lectern_sip2_messages_total",
    "lectern_kiosk_sign_ins_total",
    "lectern_ready",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_of_served_services_are_labelled_and_others_are_not() {
        let layer = MetricsLayer::new("circulation", &["lectern.circulation.v1.LoanService"]);
        assert_eq!(
            layer.method_label("/lectern.circulation.v1.LoanService/CheckOut").as_deref(),
            Some("/lectern.circulation.v1.LoanService/CheckOut")
        );
        assert_eq!(layer.method_label("/lectern.circulation.v1.LoanService/Nope").as_deref(), Some(OTHER));
        assert_eq!(layer.method_label("/lectern.catalog.v1.CatalogService/GetTitle").as_deref(), Some(OTHER));
        assert_eq!(layer.method_label("/grpc.health.v1.Health/Check"), None);
        assert_eq!(layer.method_label("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"), None);
    }

    /// The metric names in `text`: every `lectern_…` word, histogram
    /// suffixes taken off.
    fn names_in(text: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("lectern_") {
            let word: String = rest[start..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            rest = &rest[start + word.len()..];
            let name = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix).filter(|base| base.ends_with("_seconds")))
                .unwrap_or(&word);
            names.push(name.to_owned());
        }
        names
    }

    fn exprs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("expr" | "definition", serde_json::Value::String(expr)) => found.push(expr.clone()),
                        _ => exprs(value, found),
                    }
                }
            }
            serde_json::Value::Array(values) => values.iter().for_each(|value| exprs(value, found)),
            _ => {}
        }
    }

    /// The district's dashboard queries only metrics Lectern registers, and
    /// has a query in every panel.
    #[test]
    fn the_dashboard_queries_only_lectern_metrics() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../k8s/base/monitoring/lectern-dashboard.json");
        let text = std::fs::read_to_string(path).unwrap();
        let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut found = Vec::new();
        exprs(&dashboard, &mut found);
        assert!(found.len() >= 15, "{found:?}");
        for expr in &found {
            let names = names_in(expr);
            assert!(!names.is_empty(), "no metric in {expr}");
            for name in names {
                assert!(NAMES.contains(&name.as_str()), "{name} (in {expr}) is not a Lectern metric");
            }
        }
        let variables = dashboard["templating"]["list"].as_array().unwrap();
        for name in ["datasource", "school"] {
            assert!(variables.iter().any(|variable| variable["name"] == name), "no ${name} variable");
        }
    }
}
