//! Telemetry, started once in `main`: `tracing` logs (text for a desk PC,
//! JSON for a cluster, filtered by `LECTERN_LOG`), and OpenTelemetry traces
//! exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. W3C trace
//! context rides every gRPC hop, so one check-out is one trace.
//!
//! Events carry the trace too: the outbox stores the `traceparent` of the
//! change that made an event ([`current_traceparent`]) and the relay's
//! delivery continues it ([`adopt_traceparent`]), so the consumers' work is
//! part of the same trace.
//!
//! With trace export on, every log line written inside a span carries that
//! span's `trace_id` and `span_id`, so a log search leads to the trace.
//!
//! Log fields are dotted ids (`loan.id`, `reader.id`); never a reader's
//! name, PIN, contact details or a token.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
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
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|value| !value.is_empty());
    let traced = endpoint.is_some();
    let fmt = match (json, traced) {
        (true, false) => tracing_subscriber::fmt::layer().json().flatten_event(true).boxed(),
        (true, true) => tracing_subscriber::fmt::layer()
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(WithTraceIds {
                inner: tracing_subscriber::fmt::format().json().flatten_event(true),
                json: true,
            })
            .boxed(),
        (false, false) => tracing_subscriber::fmt::layer().with_target(false).boxed(),
        // The ids are spliced into each formatted line, which is written to
        // a plain buffer first: no colours then (a server's log, not a desk
        // PC's console).
        (false, true) => tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .event_format(WithTraceIds {
                inner: tracing_subscriber::fmt::format().with_target(false).with_ansi(false),
                json: false,
            })
            .boxed(),
    };

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

/// The W3C `traceparent` of the current span (`00-<trace id>-<span id>-01`),
/// or an empty string when there is no trace (export off, or no span).
pub fn current_traceparent() -> String {
    let context = tracing::Span::current().context();
    if !context.span().span_context().is_valid() {
        return String::new();
    }
    let mut carrier = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut carrier);
    });
    carrier.remove("traceparent").unwrap_or_default()
}

/// The span context a stored `traceparent` names, if it is a valid one.
pub fn remote_span_context(traceparent: &str) -> Option<opentelemetry::trace::SpanContext> {
    if traceparent.is_empty() {
        return None;
    }
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    let span_context = context.span().span_context().clone();
    span_context.is_valid().then_some(span_context)
}

/// Makes `span` a child of the change a stored `traceparent` names (an
/// event's), so work done later for that change joins its trace. An empty
/// or malformed value leaves `span` a root.
pub fn adopt_traceparent(span: &tracing::Span, traceparent: &str) {
    if let Some(span_context) = remote_span_context(traceparent) {
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(span_context));
    }
}

/// Links `span` to the change a stored `traceparent` names, for work that
/// serves several changes at once (a batch of events) but has one parent.
pub fn link_traceparent(span: &tracing::Span, traceparent: &str) {
    if let Some(span_context) = remote_span_context(traceparent) {
        span.add_link(span_context);
    }
}

/// A log line format that adds the current span's `trace_id` and `span_id`
/// (as hex, as trace viewers show them) to what `inner` writes. The
/// OpenTelemetry layer makes an entered span's context the thread's current
/// one, which is where the ids are read from.
struct WithTraceIds<F> {
    inner: F,
    json: bool,
}

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: tracing::Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let current = opentelemetry::Context::current();
        let span = current.span();
        let ids = span.span_context();
        if !ids.is_valid() {
            return self.inner.format_event(context, writer, event);
        }
        let mut line = String::new();
        self.inner.format_event(context, Writer::new(&mut line), event)?;
        let (trace_id, span_id) = (ids.trace_id(), ids.span_id());
        if self.json {
            // The JSON formatter writes one object per line: the ids go in
            // as its first members.
            match line.strip_prefix('{') {
                Some(rest) => {
                    write!(writer, "{{\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\",{rest}")
                }
                None => writer.write_str(&line),
            }
        } else {
            let body = line.strip_suffix('\n').unwrap_or(&line);
            writeln!(writer, "{body} trace_id={trace_id} span_id={span_id}")
        }
    }
}
