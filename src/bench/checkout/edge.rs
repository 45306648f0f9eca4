//! One station's HTTP/1.1 connection to the gateway's edge, shared by the
//! JSON and the page columns: hyper-util's client keeping one connection
//! alive, with `TCP_NODELAY`, noting which connection each answer came on
//! so a round can check that the station kept to one.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{HttpConnector, HttpInfo};
use hyper_util::rt::TokioExecutor;

/// A station's client of the HTTP edge.
#[derive(Debug, Clone)]
pub struct EdgeConnection {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    /// The client-side addresses of the connections answers came on: one
    /// entry while the station keeps to one connection.
    connections: BTreeSet<SocketAddr>,
}

impl EdgeConnection {
    /// A client of the HTTP edge at `address`.
    pub fn new(address: SocketAddr) -> Self {
        let mut connector = HttpConnector::new();
        // As the server does: a request head and body written in separate
        // segments would otherwise wait for the server's delayed ACK.
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1).build(connector);
        Self { client, base: format!("http://{address}"), connections: BTreeSet::new() }
    }

    /// A request for `path` on the edge, to finish with headers and a body.
    pub fn request(&self, method: Method, path: &str) -> hyper::http::request::Builder {
        Request::builder().method(method).uri(format!("{}{path}", self.base))
    }

    /// Sends `request` and reads the answer in full.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Response<Bytes>> {
        let what = format!("{} {}", request.method(), request.uri().path());
        let response = self.client.request(request).await.with_context(|| what.clone())?;
        if let Some(info) = response.extensions().get::<HttpInfo>() {
            self.connections.insert(info.local_addr());
        }
        let (head, body) = response.into_parts();
        let bytes = body.collect().await.with_context(|| format!("reading the answer to {what}"))?.to_bytes();
        Ok(Response::from_parts(head, bytes))
    }

    /// How many connections the station's answers came on since the last
    /// time this was asked.
    pub fn take_connections(&mut self) -> usize {
        std::mem::take(&mut self.connections).len()
    }
}
