//! A desk station on the desk pages, sending exactly what the desk's script
//! (`gateway/assets/lectern.js`) sends: signed in through the staff sign-in
//! form, with the session and CSRF cookies a browser keeps, each scan a
//! form POST with `x-lectern-fragment: 1` over one HTTP/1.1 keep-alive
//! connection, whose answer is the HTML the script puts into the page.
//!
//! - check-out: `POST /desk/scan` with the reader in view (their id and
//!   card, as the panel's hidden inputs add them) and the copy scanned; the
//!   answer is the desk's panel, the outcome above the reader as they are
//!   now.
//! - check-in: `POST /returns/scan` with the copy scanned; the answer is
//!   the book's line in the return box.
//!
//! A refusal answers 200 too (the script shows it), so each answer is read
//! in full and must say `data-outcome="ok"`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::{bail, ensure};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use hyper::{HeaderMap, Method, Response, StatusCode};
use lectern_gateway::http::session::Cookies;
use lectern_gateway::pages::encode;
use lectern_gateway::pages::i18n::{Lang, text};
use lectern_gateway::pages::school::FRAGMENT_HEADER;

use super::edge::EdgeConnection;

/// What every answer the script accepts as done says.
const OUTCOME_OK: &str = r#"data-outcome="ok""#;

/// One station's browser on the desk pages.
#[derive(Debug, Clone)]
pub struct PageDesk {
    pub edge: EdgeConnection,
    /// The cookies the edge set, by name, as a browser keeps them: the
    /// session (renewed by the edge on the way through when near its end)
    /// and the CSRF token the forms carry.
    cookies: BTreeMap<String, String>,
}

impl PageDesk {
    /// Signs `username` in through the staff sign-in form of the edge at
    /// `address`, as a librarian at a new browser does.
    pub async fn sign_in(address: SocketAddr, username: &str, password: &str) -> anyhow::Result<Self> {
        let mut desk = Self { edge: EdgeConnection::new(address), cookies: BTreeMap::new() };
        // The sign-in page hands out the CSRF cookie the form needs.
        let page = desk.edge.request(Method::GET, "/signin").body(Full::default())?;
        let page = desk.send(page).await?;
        ensure!(page.status() == StatusCode::OK, "GET /signin answered {}", page.status());
        let fields = [("username", username), ("password", password), ("next", "/desk")];
        let signed_in = desk.post_form("/signin/staff", &fields, false).await?;
        let went_to = signed_in.headers().get(LOCATION).and_then(|to| to.to_str().ok()).unwrap_or_default();
        ensure!(
            signed_in.status().is_redirection() && went_to == "/desk",
            "signing {username} in through the form answered {} to {went_to:?}: {}",
            signed_in.status(),
            visible_text(signed_in.body()),
        );
        ensure!(desk.cookies.contains_key(names().session_name()), "signing {username} in set no session");
        Ok(desk)
    }

    /// Scans `copy_barcode` at the lending desk with the reader `reader_id`
    /// (card `card`) in view.
    pub async fn check_out(&mut self, reader_id: &str, card: &str, copy_barcode: &str) -> anyhow::Result<()> {
        let fields = [("reader", reader_id), ("card", card), ("scan", copy_barcode)];
        let answer = self.post_form("/desk/scan", &fields, true).await?;
        done(&answer)
    }

    /// Scans `copy_barcode` at the return box; it must have been on loan.
    pub async fn check_in(&mut self, copy_barcode: &str) -> anyhow::Result<()> {
        let answer = self.post_form("/returns/scan", &[("scan", copy_barcode)], true).await?;
        done(&answer)?;
        let html = String::from_utf8_lossy(answer.body());
        if Lang::ALL.iter().any(|&lang| html.contains(text(lang, "returns.was_not_on_loan"))) {
            bail!("the return box took {copy_barcode} back but it was not on loan");
        }
        Ok(())
    }

    /// Sends a form with the CSRF token and a new request id, as the
    /// script does; `fragment` asks for the changed part of the page only.
    async fn post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        fragment: bool,
    ) -> anyhow::Result<Response<Bytes>> {
        let csrf = self.cookies.get(names().csrf_name()).cloned().unwrap_or_default();
        let request_id = lectern_core::ids::new_id();
        let body = [("csrf", csrf.as_str()), ("request_id", request_id.as_str())]
            .iter()
            .chain(fields)
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request =
            self.edge.request(Method::POST, path).header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if fragment {
            request = request.header(FRAGMENT_HEADER, "1");
        }
        self.send(request.body(Full::new(Bytes::from(body)))?).await
    }

    /// Sends `request` with the cookies kept, and keeps those it sets.
    async fn send(&mut self, mut request: hyper::Request<Full<Bytes>>) -> anyhow::Result<Response<Bytes>> {
        if !self.cookies.is_empty() {
            let cookies: Vec<_> =
                self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect();
            request.headers_mut().insert(COOKIE, cookies.join("; ").parse()?);
        }
        let answer = self.edge.send(request).await?;
        self.keep_cookies(answer.headers());
        Ok(answer)
    }

    fn keep_cookies(&mut self, headers: &HeaderMap) {
        for set in headers.get_all(SET_COOKIE).iter().filter_map(|value| value.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.trim().split_once('=') else { continue };
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }
}

/// The cookies' names on the bench's edge (plain HTTP on loopback).
fn names() -> Cookies {
    Cookies::new(false)
}

/// Whether a scan's fragment is a 200 that says it was done.
fn done(answer: &Response<Bytes>) -> anyhow::Result<()> {
    let html = String::from_utf8_lossy(answer.body());
    if answer.status() != StatusCode::OK || !html.contains(OUTCOME_OK) {
        bail!("the page answered {}: {}", answer.status(), visible_text(answer.body()));
    }
    Ok(())
}

/// What a person would read in `html`, briefly, for an error message.
fn visible_text(html: &[u8]) -> String {
    let html = String::from_utf8_lossy(html);
    let mut words = String::new();
    let mut in_tag = false;
    for character in html.chars() {
        match character {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                words.push(' ');
            }
            _ if !in_tag => words.push(character),
            _ => {}
        }
    }
    words.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_quotes_what_the_page_says() {
        let html = "<div data-outcome=\"refused\">\n  <p class=\"x\">这本书已借出</p><p>请先还书</p></div>";
        assert_eq!(visible_text(html.as_bytes()), "这本书已借出 请先还书");
    }

    #[test]
    fn a_refusal_is_not_done() {
        let refused = Response::new(Bytes::from_static(br#"<div data-outcome="refused">"#));
        assert!(done(&refused).is_err());
        let lent = Response::new(Bytes::from_static(br#"<div data-outcome="ok">"#));
        assert!(done(&lent).is_ok());
        let mut failed = Response::new(Bytes::from_static(br#"<div data-outcome="ok">"#));
        *failed.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        assert!(done(&failed).is_err());
    }

    #[test]
    fn cookies_are_kept_renewed_and_removed_as_a_browser_does() {
        let mut desk =
            PageDesk { edge: EdgeConnection::new(([127, 0, 0, 1], 1).into()), cookies: BTreeMap::new() };
        let mut headers = HeaderMap::new();
        headers.append(SET_COOKIE, "lectern_session=a.b~r; Path=/; HttpOnly".parse().unwrap());
        headers.append(SET_COOKIE, "lectern_csrf=t1; Path=/".parse().unwrap());
        desk.keep_cookies(&headers);
        let mut renewed = HeaderMap::new();
        renewed.append(SET_COOKIE, "lectern_csrf=t2; Path=/".parse().unwrap());
        desk.keep_cookies(&renewed);
        assert_eq!(desk.cookies.get("lectern_csrf").map(String::as_str), Some("t2"));
        let mut ended = HeaderMap::new();
        ended.append(SET_COOKIE, "lectern_session=; Path=/; Max-Age=0".parse().unwrap());
        desk.keep_cookies(&ended);
        assert_eq!(desk.cookies.keys().collect::<Vec<_>>(), ["lectern_csrf"]);
    }
}
