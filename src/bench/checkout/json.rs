//! A desk station on the gateway's JSON API, as a phone or a page calls it:
//! `POST /api/<package.Service>/<Method>` with a proto3 JSON body and the
//! session's bearer token, over one HTTP/1.1 keep-alive connection.
//!
//! Answers are read in full and parsed as JSON, as a page's script would,
//! so their cost is part of each call's time.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{HttpConnector, HttpInfo};
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// Where the loan calls live on the HTTP edge.
const LOAN_SERVICE: &str = "/api/lectern.circulation.v1.LoanService";

/// One station's HTTP client with its session's token.
#[derive(Debug, Clone)]
pub struct JsonDesk {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
    token: String,
    /// The client-side addresses of the connections answers came on: one
    /// entry while the station keeps to one connection.
    connections: BTreeSet<SocketAddr>,
}

impl JsonDesk {
    /// A client of the HTTP edge at `address`, signed in with `token`.
    pub fn new(address: SocketAddr, token: &str) -> Self {
        let mut connector = HttpConnector::new();
        // As the server does: a request head and body written in separate
        // segments would otherwise wait for the server's delayed ACK.
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1).build(connector);
        Self {
            client,
            base: format!("http://{address}"),
            token: token.to_owned(),
            connections: BTreeSet::new(),
        }
    }

    /// Lends `copy_barcode` to the reader with `card`; returns the loan's id.
    pub async fn check_out(&mut self, card: &str, copy_barcode: &str) -> anyhow::Result<String> {
        let request = json!({
            "readerCardBarcode": card,
            "copyBarcode": copy_barcode,
            "requestId": lectern_core::ids::new_id(),
        });
        let answer = self.call("CheckOut", &request).await?;
        match answer.pointer("/loan/id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => bail!("CheckOut answered 200 without a loan: {answer}"),
        }
    }

    /// Takes `copy_barcode` back; returns whether it was on loan.
    pub async fn check_in(&mut self, copy_barcode: &str) -> anyhow::Result<bool> {
        let request = json!({
            "copyBarcode": copy_barcode,
            "requestId": lectern_core::ids::new_id(),
        });
        let answer = self.call("CheckIn", &request).await?;
        answer
            .get("wasOnLoan")
            .and_then(Value::as_bool)
            .with_context(|| format!("CheckIn answered 200 without wasOnLoan: {answer}"))
    }

    /// How many connections the station's answers came on since the last
    /// time this was asked.
    pub fn take_connections(&mut self) -> usize {
        std::mem::take(&mut self.connections).len()
    }

    /// One call of the loan service; anything but a 200 with a JSON body
    /// is an error carrying the status and the body.
    async fn call(&mut self, method: &str, body: &Value) -> anyhow::Result<Value> {
        let request = Request::post(format!("{}{LOAN_SERVICE}/{method}", self.base))
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Full::new(Bytes::from(serde_json::to_vec(body)?)))?;
        let response = self.client.request(request).await.with_context(|| format!("{method} over HTTP"))?;
        if let Some(info) = response.extensions().get::<HttpInfo>() {
            self.connections.insert(info.local_addr());
        }
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .with_context(|| format!("reading the answer of {method}"))?
            .to_bytes();
        if status != StatusCode::OK {
            bail!("{method} answered {status}: {}", String::from_utf8_lossy(&bytes));
        }
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{method} answered 200 with a body that is not JSON"))
    }
}
