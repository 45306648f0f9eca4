//! Telemetry, started once in `main`: `tracing` logs (text for a desk PC,
//! JSON for a cluster, filtered by `LECTERN_LOG`), and OpenTelemetry traces
//! exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. W3C trace
//! context rides every gRPC hop, so one check-out is one trace.
//!
//! Log fields are dotted ids (`loan.id`, `reader.id`); never a reader's
//! name, PIN, contact details or a token.

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Keeps the trace exporter alive; call [`Telemetry::shutdown`] before exit
/// so the last spans are sent.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the trace exporter. Safe to call from async code:
    /// the blocking flush runs on the blocking pool.
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(error) = provider.shutdown() {
                    eprintln!("trace exporter did not shut down cleanly: {error}");
                }
            })
            .await;
        }
    }
}

/// Starts logging and tracing for the process named `service`.
///
/// - `LECTERN_LOG`: filter directives, default `default_filter` (`info`
///   for a server; `lectern up` keeps a desk PC's console to warnings).
/// - `LECTERN_LOG_FORMAT`: `text` (default) or `json`.
/// - `OTEL_EXPORTER_OTLP_ENDPOINT`: where to send traces (gRPC), e.g.
///   `http://otel-collector:4317`; unset means no trace export.
pub fn init(service: &str, default_filter: &str) -> Result<Telemetry, String> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_env("LECTERN_LOG")
        .or_else(|_| EnvFilter::try_new(default_filter))
        .map_err(|error| format!("LECTERN_LOG: {error}"))?;
    let json = std::env::var("LECTERN_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let fmt = if json {
        tracing_subscriber::fmt::layer().json().flatten_event(true).boxed()
    } else {
        tracing_subscriber::fmt::layer().with_target(false).boxed()
    };

    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|value| !value.is_empty());
    let provider = match endpoint {
        Some(endpoint) => {
            use opentelemetry_otlp::WithExportConfig as _;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build()
                .map_err(|error| format!("OTEL_EXPORTER_OTLP_ENDPOINT: {error}"))?;
            let resource = opentelemetry_sdk::Resource::builder()
                .with_service_name(format!("lectern-{service}"))
                .build();
            Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
        }
        None => None,
    };
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(format!("lectern-{service}")))
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .map_err(|error| format!("cannot start logging: {error}"))?;
    Ok(Telemetry { provider })
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) =
            (MetadataKey::from_bytes(key.as_bytes()), MetadataValue::try_from(value.as_str()))
        {
            self.0.insert(key, value);
        }
    }
}

/// Writes the current span's trace context (`traceparent`) into outgoing
/// metadata.
pub fn inject_context(metadata: &mut MetadataMap) {
    let context = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut MetadataInjector(metadata));
    });
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Makes `span` a child of the trace context in incoming headers, if any.
pub fn adopt_remote_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    let _ = span.set_parent(parent);
}
