//! A phone's one HTTP/1.1 connection to the edge, kept alive: hyper's
//! connection-level client, one request after the other. Unlike a pooled
//! client it never opens a second connection because the first was not yet
//! handed back to its pool, so "one connection per phone" holds by
//! construction; if the edge closes it, the next request opens another,
//! and [`Connection::opened`] says so.

use std::net::SocketAddr;

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::HOST;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A phone's connection to the HTTP edge.
#[derive(Debug)]
pub struct Connection {
    address: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
    opened: usize,
}

impl Connection {
    /// A connection to the edge at `address`, opened at the first request.
    pub fn new(address: SocketAddr) -> Self {
        Self { address, sender: None, opened: 0 }
    }

    /// A request for `path`, to finish with headers and a body.
    pub fn request(&self, method: Method, path: &str) -> hyper::http::request::Builder {
        Request::builder().method(method).uri(path).header(HOST, self.address.to_string())
    }

    /// Sends `request` and reads the answer in full.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Response<Bytes>> {
        let what = format!("{} {}", request.method(), request.uri().path());
        let sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.open().await?,
        };
        let sender = self.sender.insert(sender);
        sender.ready().await.with_context(|| what.clone())?;
        let response = sender.send_request(request).await.with_context(|| what.clone())?;
        let (head, body) = response.into_parts();
        let bytes = body.collect().await.with_context(|| format!("reading the answer to {what}"))?.to_bytes();
        Ok(Response::from_parts(head, bytes))
    }

    /// Connections opened so far (one while the edge kept the first alive).
    pub fn opened(&self) -> usize {
        self.opened
    }

    async fn open(&mut self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let stream = TcpStream::connect(self.address)
            .await
            .with_context(|| format!("cannot reach the edge at {}", self.address))?;
        // As the server does: a request head and body written in separate
        // segments would otherwise wait for the server's delayed ACK.
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        // The connection's task ends when the phone drops its sender.
        tokio::spawn(connection);
        self.opened += 1;
        Ok(sender)
    }
}
