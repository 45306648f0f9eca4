//! The pages: server-rendered HTML over the same calls as any client.

use axum::Router;

use crate::http::Edge;

/// The pages' routes.
pub fn router() -> Router<Edge> {
    Router::new()
}
