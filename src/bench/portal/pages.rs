//! The weight of the portal's pages on a phone: a reader signs in through
//! the portal's form, as in WeChat's browser, and opens each screen; each
//! page's weight is its HTML plus every stylesheet, script and image it
//! links under `/assets/` (what a first visit downloads; later visits take
//! the assets from the cache). Asked with `accept-encoding: gzip`, so the
//! bytes are what travels: compressed if the edge compresses.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use anyhow::{Context as _, bail, ensure};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use hyper::{Method, Response, StatusCode};
use lectern_gateway::http::session::Cookies;
use lectern_gateway::pages::encode;

use super::connection::Connection;

/// A page's weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageWeight {
    /// The route opened, as the portal names it (`/portal/titles/{title_id}`).
    pub path: String,
    /// Bytes of the HTML as sent.
    pub html: usize,
    /// Bytes of the assets it links, as sent.
    pub assets: usize,
    /// Whether the edge compressed the HTML.
    pub compressed: bool,
}

impl PageWeight {
    /// HTML and assets.
    pub fn total(&self) -> usize {
        self.html + self.assets
    }
}

/// Signs the holder of `card` in through `/portal/signin` at `address` and
/// weighs each of the portal's screens, `title_id` being a title to open
/// and `query` a search.
pub async fn weigh(
    address: SocketAddr,
    card: &str,
    pin: &str,
    query: &str,
    title_id: &str,
) -> anyhow::Result<Vec<PageWeight>> {
    let mut browser = Browser { edge: Connection::new(address), cookies: BTreeMap::new() };
    let mut weights = vec![browser.weigh("/portal/signin", "/portal/signin").await?];
    let csrf = browser.cookies.get(Cookies::new(false).csrf_name()).cloned().unwrap_or_default();
    let form = [("csrf", csrf.as_str()), ("card", card), ("pin", pin)]
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let request = browser
        .edge
        .request(Method::POST, "/portal/signin")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))?;
    let signed_in = browser.send(request).await?;
    let went_to = signed_in.headers().get(LOCATION).and_then(|to| to.to_str().ok()).unwrap_or_default();
    ensure!(
        signed_in.status().is_redirection() && went_to.starts_with("/portal"),
        "signing card {card} in at /portal/signin answered {} to {went_to:?}",
        signed_in.status()
    );
    let search = format!("/portal/search?q={}", encode(query));
    let title = format!("/portal/titles/{title_id}");
    for (route, path) in [
        ("/portal", "/portal"),
        ("/portal/search?q=…", search.as_str()),
        ("/portal/titles/{title_id}", title.as_str()),
        ("/portal/loans", "/portal/loans"),
        ("/portal/holds", "/portal/holds"),
        ("/portal/history", "/portal/history"),
        ("/portal/notices", "/portal/notices"),
        ("/portal/report", "/portal/report"),
        ("/portal/preferences", "/portal/preferences"),
        ("/portal/family", "/portal/family"),
    ] {
        weights.push(browser.weigh(route, path).await?);
    }
    Ok(weights)
}

/// A phone's browser: one connection, the cookies the edge sets.
struct Browser {
    edge: Connection,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    /// Opens `path` (of `route`) and fetches what it links under `/assets/`.
    async fn weigh(&mut self, route: &str, path: &str) -> anyhow::Result<PageWeight> {
        let page = self.get(path).await?;
        if page.status() != StatusCode::OK {
            bail!("GET {path} answered {}", page.status());
        }
        let compressed = page.headers().contains_key(CONTENT_ENCODING);
        let html = String::from_utf8_lossy(page.body()).into_owned();
        let mut assets = 0;
        for asset in linked_assets(&html) {
            let answer = self.get(&asset).await?;
            ensure!(
                answer.status() == StatusCode::OK,
                "GET {asset} (linked from {path}) answered {}",
                answer.status()
            );
            assets += answer.body().len();
        }
        Ok(PageWeight { path: route.to_owned(), html: page.body().len(), assets, compressed })
    }

    async fn get(&mut self, path: &str) -> anyhow::Result<Response<Bytes>> {
        let request =
            self.edge.request(Method::GET, path).header(ACCEPT_ENCODING, "gzip").body(Full::default())?;
        self.send(request).await.with_context(|| format!("GET {path}"))
    }

    /// Sends `request` with the cookies kept, and keeps those it sets.
    async fn send(&mut self, mut request: hyper::Request<Full<Bytes>>) -> anyhow::Result<Response<Bytes>> {
        if !self.cookies.is_empty() {
            let cookies: Vec<_> =
                self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect();
            request.headers_mut().insert(COOKIE, cookies.join("; ").parse()?);
        }
        let answer = self.edge.send(request).await?;
        for set in answer.headers().get_all(SET_COOKIE).iter().filter_map(|value| value.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.trim().split_once('=') else { continue };
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(answer)
    }
}

/// The `/assets/…` paths `html` links (`href="…"` or `src="…"`), each once.
fn linked_assets(html: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for attribute in ["href=\"", "src=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            let value = rest.split('"').next().unwrap_or_default();
            if value.starts_with("/assets/") {
                found.insert(value.to_owned());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_links_its_stylesheet_and_script_once() {
        let html = r#"<link rel="stylesheet" href="/assets/portal.css"><a href="/portal/loans">借阅</a>
            <script src="/assets/portal.js" defer></script><link rel="stylesheet" href="/assets/portal.css">
            <img src="https://example.cn/x.png">"#;
        assert_eq!(
            linked_assets(html).into_iter().collect::<Vec<_>>(),
            ["/assets/portal.css", "/assets/portal.js"]
        );
    }
}
