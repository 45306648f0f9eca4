//! Browser sessions, kept by the browser: the token pair (access token and
//! refresh token) in one `HttpOnly; SameSite=Strict` cookie (`Secure` over
//! HTTPS), so the gateway stays stateless and any replica serves any
//! request. A token near its end is renewed on the way through
//! ([`session_layer`]), once at a time: parallel requests and tabs of one
//! browser send the same refresh token, and all of them wait for the one
//! renewal in flight (and take its answer for a short while after), since
//! the reader service ends a session whose spent refresh token comes back
//! later than its short grace.
//!
//! Requests that use the cookie must prove they come from Lectern's own
//! pages: a CSRF token, random per browser, kept in a second HttpOnly
//! cookie and written into every page; forms send it as the `csrf` field,
//! scripts as the `X-CSRF-Token` header ([`csrf_matches`]). Requests with
//! a bearer token carry no ambient credential and need none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};
use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use lectern_core::clock::SharedClock;
use lectern_core::identity::{TokenError, TokenVerifier, bearer};
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{LoginResponse, RefreshSessionRequest};
use sha2::{Digest as _, Sha256};

use super::Edge;
use super::call::Calls;

/// How long a finished renewal's answer is handed to requests that still
/// carry the refresh token it spent (their browser had not yet stored the
/// new cookie). Shorter than the reader service's grace for the same token.
const RECENT: chrono::Duration = chrono::Duration::seconds(20);

/// The cookies' names and attributes.
#[derive(Debug, Clone, Copy)]
pub struct Cookies {
    secure: bool,
}

impl Cookies {
    /// Cookies for a site reached over HTTPS (`secure`) or plain HTTP.
    pub fn new(secure: bool) -> Self {
        Self { secure }
    }

    /// The session cookie's name; `__Host-` over HTTPS, so no other host
    /// or path can set it.
    pub fn session_name(self) -> &'static str {
        if self.secure { "__Host-lectern_session" } else { "lectern_session" }
    }

    /// The CSRF cookie's name.
    pub fn csrf_name(self) -> &'static str {
        if self.secure { "__Host-lectern_csrf" } else { "lectern_csrf" }
    }

    fn build(self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
        // Tokens are base64url and dots: always a valid header value.
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("lectern_invalid=1"))
    }

    /// The session cookie for `tokens`, kept until the session ends.
    pub fn session(self, tokens: &Tokens) -> HeaderValue {
        self.build(self.session_name(), &tokens.cookie_value(), tokens.max_age_seconds)
    }

    /// Removes the session cookie.
    pub fn clear_session(self) -> HeaderValue {
        self.build(self.session_name(), "", 0)
    }

    /// The CSRF cookie with `token`, kept for a year.
    pub fn csrf(self, token: &str) -> HeaderValue {
        self.build(self.csrf_name(), token, 365 * 24 * 3600)
    }
}

/// A new random CSRF token.
pub fn new_csrf_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of cookie `name` in `headers`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Whether `provided` is this browser's CSRF token.
pub fn csrf_matches(headers: &HeaderMap, cookies: Cookies, provided: Option<&str>) -> bool {
    match (cookie(headers, cookies.csrf_name()), provided) {
        (Some(expected), Some(provided)) => {
            // Compare digests, so the time taken says nothing about the token.
            Sha256::digest(expected.as_bytes()) == Sha256::digest(provided.as_bytes())
        }
        _ => false,
    }
}

/// The refusal of a cookie request without the page's CSRF token.
pub fn csrf_refusal() -> Refusal {
    Refusal::new(
        Reason::CsrfTokenInvalid,
        "the page's security token is missing or old: reload the page and try again",
    )
}

/// A session's token pair, as the cookie keeps it.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The bearer token.
    pub access: String,
    /// The refresh token.
    pub refresh: String,
    /// Seconds until the session (its refresh token) ends.
    pub max_age_seconds: i64,
    /// The staff username that signed in, for the pages to greet them by;
    /// empty for readers, whose names are never kept in a cookie.
    pub label: String,
    /// When the session ends (seconds since the epoch).
    pub ends_at: i64,
}

/// What the session cookie holds besides the tokens, for the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    /// The staff username that signed in; empty for readers.
    pub label: String,
    /// When the session ends (seconds since the epoch).
    pub ends_at: i64,
}

impl Tokens {
    /// The pair of a sign-in or renewal, at `now`.
    pub fn from_login(response: &LoginResponse, now: chrono::DateTime<chrono::Utc>, label: &str) -> Self {
        let ends = response
            .refresh_expire_time
            .as_ref()
            .and_then(|time| chrono::DateTime::from_timestamp(time.seconds, 0))
            .unwrap_or(now);
        Self {
            access: response.access_token.clone(),
            refresh: response.refresh_token.clone(),
            max_age_seconds: (ends - now).num_seconds().max(0),
            label: label.to_owned(),
            ends_at: ends.timestamp(),
        }
    }

    fn cookie_value(&self) -> String {
        format!("{}~{}~{}~{}", self.access, self.refresh, URL_SAFE_NO_PAD.encode(&self.label), self.ends_at)
    }

    /// The access token, refresh token and facts of a cookie's value.
    fn from_cookie(value: &str) -> Option<(String, String, SessionFacts)> {
        let mut parts = value.split('~');
        let (access, refresh) = (parts.next()?, parts.next()?);
        let label = parts.next().and_then(|label| URL_SAFE_NO_PAD.decode(label).ok()).unwrap_or_default();
        let ends_at = parts.next().and_then(|ends| ends.parse().ok()).unwrap_or_default();
        let facts = SessionFacts { label: String::from_utf8_lossy(&label).into_owned(), ends_at };
        (!access.is_empty() && !refresh.is_empty()).then(|| (access.to_owned(), refresh.to_owned(), facts))
    }
}

/// Who a request comes from, as far as the edge can tell before the
/// services check.
#[derive(Debug, Clone)]
pub enum Caller {
    /// An `Authorization: Bearer` header: passed on untouched.
    Bearer(String),
    /// The session cookie, with the access token to use (renewed on the
    /// way through if it was near its end).
    Cookie(String),
    /// The cookie named a session that has ended (or was unreadable): the
    /// browser is signed out and its cookie removed.
    Ended,
    /// No credentials.
    Anonymous,
}

impl Caller {
    /// The bearer token to call the services with.
    pub fn token(&self) -> Option<&str> {
        match self {
            Self::Bearer(token) | Self::Cookie(token) => Some(token),
            Self::Ended | Self::Anonymous => None,
        }
    }

    /// Whether the request rides on the cookie, and so needs the CSRF token.
    pub fn uses_cookie(&self) -> bool {
        matches!(self, Self::Cookie(_))
    }
}

/// What a renewal came to.
#[derive(Debug, Clone)]
enum Renewed {
    Tokens(Tokens),
    /// The session ended (signed out, reused token, holder disabled).
    Ended,
    /// The reader service did not answer; the request goes on with the
    /// old token, which may still be valid.
    Failed,
}

type Renewal = Shared<BoxFuture<'static, Renewed>>;

/// Renewals by the SHA-256 of the refresh token they spend, with when each began.
type Renewals = Arc<Mutex<HashMap<String, (chrono::DateTime<chrono::Utc>, Renewal)>>>;

/// Reads and renews browser sessions.
#[derive(Clone)]
pub struct Sessions {
    verifier: TokenVerifier,
    identity: IdentityServiceClient<Calls>,
    clock: SharedClock,
    margin: Duration,
    call_timeout: Duration,
    pub cookies: Cookies,
    renewals: Renewals,
}

impl Sessions {
    /// Sessions verified by `verifier` and renewed through `calls`.
    pub fn new(
        verifier: TokenVerifier,
        calls: Calls,
        clock: SharedClock,
        margin: Duration,
        call_timeout: Duration,
        cookies: Cookies,
    ) -> Self {
        Self {
            verifier,
            identity: IdentityServiceClient::new(calls),
            clock,
            margin,
            call_timeout,
            cookies,
            renewals: Arc::default(),
        }
    }

    /// What the session cookie says about the session, if there is one.
    pub fn facts(&self, headers: &HeaderMap) -> Option<SessionFacts> {
        let value = cookie(headers, self.cookies.session_name())?;
        Tokens::from_cookie(value).map(|(_, _, facts)| facts)
    }

    /// The caller of a valid `token`.
    pub async fn principal(&self, token: &str) -> Option<lectern_core::identity::Principal> {
        self.verifier.verify(token).await.ok()
    }

    /// The caller of a request, and the session cookie to set if it changed.
    pub async fn caller(&self, headers: &HeaderMap) -> (Caller, Option<HeaderValue>) {
        if let Some(token) = headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(bearer)
        {
            return (Caller::Bearer(token), None);
        }
        let Some(value) = cookie(headers, self.cookies.session_name()) else {
            return (Caller::Anonymous, None);
        };
        let Some((access, refresh, facts)) = Tokens::from_cookie(value) else {
            return (Caller::Ended, Some(self.cookies.clear_session()));
        };
        let fresh_enough = match self.verifier.verify(&access).await {
            Ok(principal) => {
                let left = (principal.expires_at - self.clock.now()).to_std().unwrap_or_default();
                left > self.margin
            }
            Err(TokenError::Expired) => false,
            // Revoked, signed by a retired key, or not ours: the session is over.
            Err(_) => return (Caller::Ended, Some(self.cookies.clear_session())),
        };
        if fresh_enough {
            return (Caller::Cookie(access), None);
        }
        match self.renew(refresh, facts.label).await {
            Renewed::Tokens(tokens) => {
                let cookie = self.cookies.session(&tokens);
                (Caller::Cookie(tokens.access), Some(cookie))
            }
            Renewed::Ended => (Caller::Ended, Some(self.cookies.clear_session())),
            Renewed::Failed => (Caller::Cookie(access), None),
        }
    }

    /// Renews with `refresh`, once: callers with the same token share the
    /// renewal in flight, and for [`RECENT`] its answer.
    async fn renew(&self, refresh: String, label: String) -> Renewed {
        let key = hex(&Sha256::digest(refresh.as_bytes()));
        let renewal = {
            let mut renewals = self.renewals.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = self.clock.now();
            renewals.retain(|_, (started, _)| now - *started < RECENT);
            let sessions = self.clone();
            renewals
                .entry(key)
                .or_insert_with(|| (now, sessions.renew_now(refresh, label).boxed().shared()))
                .1
                .clone()
        };
        renewal.await
    }

    async fn renew_now(self, refresh: String, label: String) -> Renewed {
        let request = lectern_core::client::with_deadline(
            RefreshSessionRequest { refresh_token: refresh },
            self.call_timeout,
        );
        let mut identity = self.identity.clone();
        match identity.refresh_session(request).await {
            Ok(response) => Renewed::Tokens(Tokens::from_login(response.get_ref(), self.clock.now(), &label)),
            Err(status)
                if matches!(status.code(), tonic::Code::Unauthenticated | tonic::Code::PermissionDenied) =>
            {
                Renewed::Ended
            }
            Err(status) => {
                tracing::warn!(code = ?status.code(), "cannot renew a browser session");
                Renewed::Failed
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Works out the caller of every request before its handler runs (see
/// [`Caller`]), and sets the renewed or cleared session cookie on the way
/// out.
pub async fn session_layer(State(edge): State<Edge>, mut request: Request, next: Next) -> Response {
    let (caller, set_cookie) = edge.sessions().caller(request.headers()).await;
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    // A page that signed in, out, or changed the password has set the
    // session cookie itself; that one wins over a renewal of the old session.
    let prefix = format!("{}=", edge.sessions().cookies.session_name());
    let page_set_it = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|value| value.to_str().is_ok_and(|value| value.starts_with(&prefix)));
    if let (Some(value), false) = (set_cookie, page_set_it) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie_header: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(cookie_header).unwrap());
        headers
    }

    #[test]
    fn cookies_are_found_by_name() {
        let headers = headers("a=1; lectern_session=x.y~r; lectern_csrf=t");
        assert_eq!(cookie(&headers, "lectern_session"), Some("x.y~r"));
        assert_eq!(cookie(&headers, "lectern_csrf"), Some("t"));
        assert_eq!(cookie(&headers, "missing"), None);
        let facts = |label: &str, ends_at| SessionFacts { label: label.to_owned(), ends_at };
        assert_eq!(Tokens::from_cookie("x.y~r"), Some(("x.y".to_owned(), "r".to_owned(), facts("", 0))));
        assert_eq!(
            Tokens::from_cookie("x.y~r~YWRtaW4~1796634800"),
            Some(("x.y".to_owned(), "r".to_owned(), facts("admin", 1_796_634_800)))
        );
        assert_eq!(Tokens::from_cookie("x.y"), None);
        assert_eq!(Tokens::from_cookie("~r"), None);
    }

    #[test]
    fn the_csrf_token_must_match_the_cookie() {
        let cookies = Cookies::new(false);
        let headers = headers("lectern_csrf=secret");
        assert!(csrf_matches(&headers, cookies, Some("secret")));
        assert!(!csrf_matches(&headers, cookies, Some("guess")));
        assert!(!csrf_matches(&headers, cookies, None));
        assert!(!csrf_matches(&HeaderMap::new(), cookies, Some("secret")));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_https() {
        let tokens = Tokens {
            access: "a.b.c".into(),
            refresh: "r".into(),
            max_age_seconds: 60,
            label: "admin".into(),
            ends_at: 7,
        };
        let plain = Cookies::new(false).session(&tokens);
        assert_eq!(plain, "lectern_session=a.b.c~r~YWRtaW4~7; Path=/; Max-Age=60; HttpOnly; SameSite=Strict");
        let secure = Cookies::new(true).session(&tokens);
        assert_eq!(
            secure,
            "__Host-lectern_session=a.b.c~r~YWRtaW4~7; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(Cookies::new(true).clear_session().to_str().unwrap().contains("Max-Age=0"));
    }
}
