//! Security headers on every answer of the HTTP edge: a content security
//! policy that allows only Lectern's own scripts, styles and images (no
//! inline script), no framing by other sites, no caching of anything but
//! the embedded assets (pages and API answers carry readers' data), and
//! HSTS when Lectern itself speaks HTTPS.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

/// What pages may load: their own scripts, styles and images, nothing inline.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// One span per request (a child of the caller's trace when it sends
/// `traceparent`), so a check-out over JSON is one trace through the
/// gateway and the services, and one log line with its outcome. The path
/// is logged without its query, which may name a school or a format but
/// never a reader.
pub async fn trace(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "http",
        http.method = %request.method(),
        http.path = %request.uri().path(),
        http.status = tracing::field::Empty,
    );
    lectern_core::telemetry::adopt_remote_parent(&span, request.headers());
    let started = std::time::Instant::now();
    let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    let status = response.status().as_u16();
    span.record("http.status", status);
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, elapsed_ms, "request failed");
        } else {
            tracing::debug!(status, elapsed_ms, "request");
        }
    });
    response
}

/// Whether the edge speaks HTTPS itself (for HSTS).
#[derive(Debug, Clone, Copy)]
pub struct Https(pub bool);

/// Adds the security headers to every response.
pub async fn security_headers(State(https): State<Https>, request: Request, next: Next) -> Response {
    let cacheable = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if !cacheable {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https.0 {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}
