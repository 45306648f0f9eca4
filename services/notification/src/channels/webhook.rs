//! The signed webhook: one JSON POST per delivery to the district's own
//! gateway (an SMS or WeChat bridge). The receiver checks
//! `X-Lectern-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`
//! against `X-Lectern-Timestamp` (unix seconds) and answers 2xx once it
//! has the message, optionally with `{"id": …}` naming it.

use std::fmt::Write as _;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::config::WebhookConfig;
use super::email::{Refused, scrub};
use crate::templates::Item;

/// How long the receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the receiver gets.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct WebhookPayload {
    /// The delivery's id: the receiver's key against duplicates.
    pub id: String,
    pub school_id: String,
    /// The trigger's stored name, e.g. "overdue_1".
    pub trigger: String,
    /// "sms" or "wechat".
    pub channel: String,
    /// The phone number or WeChat open id.
    pub to: String,
    /// "zh-CN" or "en".
    pub language: String,
    pub subject: String,
    pub body: String,
    pub items: Vec<Item>,
}

impl std::fmt::Debug for WebhookPayload {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("WebhookPayload").field("id", &self.id).finish_non_exhaustive()
    }
}

/// "sms" for a phone number (the reader service keeps them as digits with
/// an optional "+"), "wechat" for anything else (an open id).
pub fn channel_for_address(address: &str) -> &'static str {
    let digits = address.strip_prefix('+').unwrap_or(address);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) { "sms" } else { "wechat" }
}

/// The district's webhook receiver.
#[derive(Clone)]
pub struct WebhookChannel {
    client: reqwest::Client,
    url: String,
    secret: Option<String>,
}

impl std::fmt::Debug for WebhookChannel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("WebhookChannel").field("url", &self.url).finish_non_exhaustive()
    }
}

impl WebhookChannel {
    /// A client for the receiver.
    pub fn new(config: &WebhookConfig) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent("lectern-notification")
            .build()
            .map_err(|error| format!("cannot set up the webhook client: {error}"))?;
        Ok(Self { client, url: config.url.clone(), secret: config.secret.clone() })
    }

    /// POSTs one delivery; the answer's `id` (if any) is the provider id.
    pub async fn send(&self, payload: &WebhookPayload, unix_seconds: i64) -> Result<String, Refused> {
        let body = serde_json::to_string(payload)
            .map_err(|error| Refused::permanent(format!("the message cannot be written as JSON: {error}")))?;
        let timestamp = unix_seconds.to_string();
        let mut request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Lectern-Timestamp", &timestamp);
        if let Some(secret) = &self.secret {
            request = request.header("X-Lectern-Signature", signature(secret, &timestamp, &body));
        }
        let response = request.body(body).send().await.map_err(|error| Refused {
            permanent: false,
            detail: format!("the webhook could not be reached: {}", error.without_url()),
            unreachable: true,
        })?;
        let status = response.status();
        let answer = response.text().await.unwrap_or_default();
        if status.is_success() {
            return Ok(provider_id(&answer));
        }
        let words: String = answer.chars().take(200).collect();
        Err(Refused::transient(scrub(&format!("webhook answered {status}: {words}"), &payload.to)))
    }
}

/// `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`.
pub fn signature(secret: &str, timestamp: &str, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length: this branch is never taken.
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let mut hex = String::with_capacity(64 + 7);
    hex.push_str("sha256=");
    for byte in mac.finalize().into_bytes() {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// The `id` of a JSON answer (string or number); empty without one.
fn provider_id(answer: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(answer) {
        Ok(serde_json::Value::Object(fields)) => match fields.get("id") {
            Some(serde_json::Value::String(id)) => id.chars().take(200).collect(),
            Some(serde_json::Value::Number(id)) => id.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hex_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently:
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature("key", "1700000000", "{\"a\":1}"),
            "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
        let one = signature("key", "1", "body");
        assert_eq!(one.len(), 7 + 64);
        assert!(one[7..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(one, signature("key", "2", "body"));
        assert_ne!(one, signature("other", "1", "body"));
    }

    #[test]
    fn answers_and_addresses_are_read() {
        assert_eq!(provider_id(r#"{"id":"msg-1"}"#), "msg-1");
        assert_eq!(provider_id(r#"{"id":42}"#), "42");
        assert_eq!(provider_id("ok"), "");
        assert_eq!(channel_for_address("+8613800138000"), "sms");
        assert_eq!(channel_for_address("oAbC-12_x"), "wechat");
    }
}
