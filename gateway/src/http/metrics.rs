//! The HTTP edge's metrics: `lectern_http_requests_total{route,status}`
//! and `lectern_http_request_duration_seconds{route}`. The route is the
//! pattern that matched (`/api/{service}/{method}`, `/desk/loans/{id}`),
//! never the raw path, so ids and barcodes do not become series; requests
//! no route matched share the route `unmatched`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The route label of a request no route matched (a 404, a probe).
pub const UNMATCHED: &str = "unmatched";

/// Counts and times every request (a middleware: see [`super::router`]).
pub async fn record(request: Request, next: Next) -> Response {
    let route: metrics::SharedString = match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned().into(),
        None => metrics::SharedString::const_str(UNMATCHED),
    };
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    metrics::histogram!("lectern_http_request_duration_seconds", "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "lectern_http_requests_total",
        "route" => route,
        "status" => response.status().as_u16().to_string(),
    )
    .increment(1);
    response
}
