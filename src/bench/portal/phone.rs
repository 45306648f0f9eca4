//! One phone on the gateway's JSON API, as the mini-program calls it: the
//! reader signs in once with card and PIN (`GatewayService/Login`), then
//! every round makes the portal's calls with the reader's token over one
//! HTTP/1.1 keep-alive connection: a search at the reader's school, the
//! first title found, their loans, holds, notices and reading report.
//!
//! Answers are read in full and parsed as JSON, as the mini-program would,
//! so their cost is part of each call's time; anything but a 200 fails the
//! bench.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{Context as _, bail};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::latency::Latencies;
use super::connection::Connection;

/// The calls of one round, in the order a phone makes them, by the name the
/// report gives them.
pub const CALLS: [&str; 6] = ["search", "title", "loans", "holds", "notices", "report"];

/// Where the phones search.
const SEARCH: &str = "/api/lectern.catalog.v1.CatalogService/SearchTitles";

/// A phone with its reader signed in.
#[derive(Debug)]
pub struct Phone {
    edge: Connection,
    token: String,
    reader_id: String,
    school_id: String,
}

impl Phone {
    /// Signs the holder of `card` in with `pin` at the edge at `address`;
    /// returns the phone and how long the sign-in took.
    pub async fn sign_in(address: SocketAddr, card: &str, pin: &str) -> anyhow::Result<(Self, Latencies)> {
        let mut phone = Self {
            edge: Connection::new(address),
            token: String::new(),
            reader_id: String::new(),
            school_id: String::new(),
        };
        let started = Instant::now();
        let login = phone
            .call(
                "/api/lectern.gateway.v1.GatewayService/Login",
                &json!({ "reader": { "cardBarcode": card, "pin": pin } }),
            )
            .await
            .with_context(|| format!("signing card {card} in"))?;
        let mut took = Latencies::default();
        took.record(started.elapsed());
        let text =
            |pointer: &str| login.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
        phone.token = text("/accessToken");
        phone.reader_id = text("/subjectId");
        phone.school_id = text("/schoolIds/0");
        if phone.token.is_empty() || phone.reader_id.is_empty() {
            bail!("signing card {card} in answered 200 without a token: {login}");
        }
        Ok((phone, took))
    }

    /// One round of the portal's calls, searching for `query`; adds each
    /// call's time to `latencies` (one per name in [`CALLS`]).
    pub async fn round(
        &mut self,
        query: &str,
        latencies: &mut [Latencies; CALLS.len()],
    ) -> anyhow::Result<()> {
        let reader = self.reader_id.clone();
        let found = self.timed(&mut latencies[0], SEARCH, self.search(query)).await?;
        let title_id = first_hit(&found, query)?;
        self.timed(
            &mut latencies[1],
            "/api/lectern.catalog.v1.CatalogService/GetTitle",
            json!({ "id": title_id }),
        )
        .await?;
        let calls = [
            ("/api/lectern.circulation.v1.LoanService/ListLoans", json!({ "readerId": reader })),
            ("/api/lectern.circulation.v1.HoldService/ListHolds", json!({ "readerId": reader })),
            (
                "/api/lectern.notification.v1.NotificationService/ListNotices",
                json!({ "readerId": reader, "language": "zh-CN" }),
            ),
            ("/api/lectern.circulation.v1.LoanService/GetReaderReadingReport", json!({ "readerId": reader })),
        ];
        for ((path, body), latencies) in calls.into_iter().zip(latencies[2..].iter_mut()) {
            self.timed(latencies, path, body).await?;
        }
        Ok(())
    }

    /// The id of the first title a search for `query` at the reader's
    /// school finds (untimed).
    pub async fn first_title(&mut self, query: &str) -> anyhow::Result<String> {
        let found = self.call(SEARCH, &self.search(query)).await?;
        first_hit(&found, query)
    }

    fn search(&self, query: &str) -> Value {
        json!({ "query": query, "schoolId": self.school_id, "pageSize": 20 })
    }

    /// Makes one call and records how long it took.
    async fn timed(&mut self, latencies: &mut Latencies, path: &str, body: Value) -> anyhow::Result<Value> {
        let started = Instant::now();
        let answer = self.call(path, &body).await?;
        latencies.record(started.elapsed());
        Ok(answer)
    }

    /// One JSON call; anything but a 200 with a JSON body is an error
    /// carrying the status and the body.
    async fn call(&mut self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let mut request = self.edge.request(Method::POST, path).header(CONTENT_TYPE, "application/json");
        if !self.token.is_empty() {
            request = request.header(AUTHORIZATION, format!("Bearer {}", self.token));
        }
        let answer = self.edge.send(request.body(Full::new(Bytes::from(serde_json::to_vec(body)?)))?).await?;
        if answer.status() != StatusCode::OK {
            bail!("{path} answered {}: {}", answer.status(), String::from_utf8_lossy(answer.body()));
        }
        serde_json::from_slice(answer.body())
            .with_context(|| format!("{path} answered 200 with a body that is not JSON"))
    }

    /// How many connections the phone opened (one while the edge kept it
    /// alive throughout).
    pub fn connections(&self) -> usize {
        self.edge.opened()
    }
}

/// The first title of a search's answer.
fn first_hit(found: &Value, query: &str) -> anyhow::Result<String> {
    match found.pointer("/hits/0/title/id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => bail!("searching for {query:?} found nothing: the phones search for words of demo titles"),
    }
}
