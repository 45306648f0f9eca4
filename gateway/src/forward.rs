//! Forwarding: a call to one of the public services is checked against
//! [`crate::authz`] and passed, bytes untouched, to the service that owns
//! it over a long-lived HTTP/2 channel. Every header travels on (the bearer
//! token, `grpc-timeout`, `traceparent` with the gateway's span as parent),
//! so the service sees the caller exactly as the gateway did.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};
use lectern_core::access::role_not_allowed;
use lectern_core::identity::Principal;
use tonic::body::Body;
use tonic::transport::Channel;
use tower::{Service, ServiceExt as _};

use crate::authz;

/// Routes calls by gRPC service name to a channel.
#[derive(Debug, Clone)]
pub struct Forwarder {
    upstreams: Arc<HashMap<&'static str, Upstream>>,
}

#[derive(Debug, Clone)]
struct Upstream {
    /// Short service name for messages: "catalog".
    name: &'static str,
    channel: Channel,
}

impl Forwarder {
    /// A forwarder with no upstreams yet.
    pub fn new() -> Self {
        Self { upstreams: Arc::new(HashMap::new()) }
    }

    /// Sends calls of gRPC service `service` (fully qualified) to `channel`.
    pub fn route(mut self, service: &'static str, name: &'static str, channel: Channel) -> Self {
        Arc::make_mut(&mut self.upstreams).insert(service, Upstream { name, channel });
        self
    }

    /// The fully qualified names of the forwarded services.
    pub fn services(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.upstreams.keys().copied().collect();
        names.sort_unstable();
        names
    }
}

impl Default for Forwarder {
    fn default() -> Self {
        Self::new()
    }
}

fn status_response(status: tonic::Status) -> Response<Body> {
    status.into_http()
}

impl Service<Request<Body>> for Forwarder {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let service = path.trim_start_matches('/').split('/').next().unwrap_or_default();
        let (Some(upstream), Some(access)) = (self.upstreams.get(service).cloned(), authz::access(&path))
        else {
            let status = tonic::Status::unimplemented(format!("{path} is not a Lectern method"));
            return Box::pin(async move { Ok(status_response(status)) });
        };
        if !access.admits(request.extensions().get::<Principal>()) {
            let status: tonic::Status = role_not_allowed().into();
            return Box::pin(async move { Ok(status_response(status)) });
        }
        // The service is a child of the gateway's span in the trace.
        let mut metadata = tonic::metadata::MetadataMap::from_headers(std::mem::take(request.headers_mut()));
        lectern_core::telemetry::inject_context(&mut metadata);
        *request.headers_mut() = metadata.into_headers();
        Box::pin(async move {
            match upstream.channel.oneshot(request).await {
                Ok(response) => Ok(response),
                Err(error) => {
                    tracing::warn!(upstream = upstream.name, %error, "service unreachable");
                    Ok(status_response(tonic::Status::unavailable(format!(
                        "the {} service is unavailable, try again shortly",
                        upstream.name
                    ))))
                }
            }
        })
    }
}
