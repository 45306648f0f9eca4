//! A desk station on the gateway's JSON API, as a phone or a page calls it:
//! `POST /api/<package.Service>/<Method>` with a proto3 JSON body and the
//! session's bearer token, over one HTTP/1.1 keep-alive connection.
//!
//! Answers are read in full and parsed as JSON, as a page's script would,
//! so their cost is part of each call's time.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::edge::EdgeConnection;

/// Where the loan calls live on the HTTP edge.
const LOAN_SERVICE: &str = "/api/lectern.circulation.v1.LoanService";

/// One station's HTTP client with its session's token.
#[derive(Debug, Clone)]
pub struct JsonDesk {
    pub edge: EdgeConnection,
    token: String,
}

impl JsonDesk {
    /// A client of the HTTP edge at `address`, signed in with `token`.
    pub fn new(address: SocketAddr, token: &str) -> Self {
        Self { edge: EdgeConnection::new(address), token: token.to_owned() }
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

    /// One call of the loan service; anything but a 200 with a JSON body
    /// is an error carrying the status and the body.
    async fn call(&mut self, method: &str, body: &Value) -> anyhow::Result<Value> {
        let request = self
            .edge
            .request(Method::POST, &format!("{LOAN_SERVICE}/{method}"))
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Full::new(Bytes::from(serde_json::to_vec(body)?)))?;
        let answer = self.edge.send(request).await?;
        if answer.status() != StatusCode::OK {
            bail!("{method} answered {}: {}", answer.status(), String::from_utf8_lossy(answer.body()));
        }
        serde_json::from_slice(answer.body())
            .with_context(|| format!("{method} answered 200 with a body that is not JSON"))
    }
}
