//! `/unsubscribe?token=…`: the page behind the link in every reminder
//! e-mail. Public: a parent opens it from their mailbox, signed in to
//! nothing, in their browser's language. `GET` asks ("stop the library's
//! e-mail reminders?") and changes nothing, so a mail scanner that follows
//! links stops nobody's mail; `POST` stops them (`ReminderService.
//! Unsubscribe`) and says so.
//!
//! `POST` also takes the one-click unsubscribe of RFC 8058 that mail
//! providers send on their own (body `List-Unsubscribe=One-Click`, the
//! token in the query, no cookie). So no CSRF token is required here: the
//! signed token is the whole proof, the call is made without the visitor's
//! session, and a forged request could only do what the link's holder can
//! do anyway. The page's own form still carries the token like every form.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use lectern_proto::notification::v1::reminder_service_client::ReminderServiceClient;
use lectern_proto::notification::v1::{Channel, UnsubscribeRequest};
use serde::Deserialize;
use tonic::Code;

use super::views::{FieldMessage, Shell};
use super::{Visit, render};
use crate::http::Edge;
use crate::http::session::Caller;

/// The longest token taken (a channel, an address and a signature are far
/// shorter); longer ones are not links Lectern made.
const TOKEN_MAX: usize = 1024;

/// What the page says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// "Stop the library's e-mail reminders?", with the button.
    Ask,
    /// They are stopped.
    Done,
    /// The link is not one Lectern made (or was cut short).
    Bad,
    /// Notification cannot answer now.
    Unavailable,
}

/// `GET /unsubscribe` and the answer to `POST /unsubscribe`.
#[derive(Debug, Clone, Template)]
#[template(path = "unsubscribe.html")]
pub struct UnsubscribePage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub step: Step,
    /// The channel in words ("邮件").
    pub channel: String,
    /// The address, partly hidden ("w***@example.cn").
    pub address: String,
    /// The token, for the form to send back.
    pub token: String,
}

impl UnsubscribePage {
    /// The page's heading.
    pub fn title(&self) -> String {
        let t = self.shell.texts();
        match self.step {
            Step::Ask => t.format("unsubscribe.question", &[("channel", &self.channel)]),
            Step::Done => t.get("unsubscribe.done_title").to_owned(),
            Step::Bad => t.get("unsubscribe.bad_title").to_owned(),
            Step::Unavailable => t.get("unsubscribe.title").to_owned(),
        }
    }
}

/// The query: the token from the link.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnsubscribeQuery {
    token: String,
}

/// What a token names, read without checking its signature, only to say
/// on the page whose mail would stop (partly hidden); the service checks
/// the signature when asked to stop. `None` if it is not shaped like a token.
pub fn peek(token: &str) -> Option<(&'static str, String)> {
    if token.is_empty() || token.len() > TOKEN_MAX {
        return None;
    }
    let (payload, signature) = token.split_once('.')?;
    if signature.is_empty() {
        return None;
    }
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let (channel, address) = decoded.split_once('\n')?;
    let channel = channel_id(channel)?;
    (!address.trim().is_empty()).then(|| (channel, hint(address)))
}

/// The catalogue id of a channel as tokens name it.
fn channel_id(name: &str) -> Option<&'static str> {
    match name {
        "email" => Some("unsubscribe.channel.email"),
        "webhook" => Some("unsubscribe.channel.webhook"),
        "in_app" => Some("unsubscribe.channel.in_app"),
        _ => None,
    }
}

/// An address partly hidden, as notification writes it: "w***@example.cn",
/// "138****5678".
pub fn hint(address: &str) -> String {
    let address = address.trim();
    if let Some((local, domain)) = address.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = address.chars().collect();
    if chars.len() >= 7 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}****{tail}")
    } else {
        let first: String = chars.iter().take(1).collect();
        format!("{first}***")
    }
}

fn page(visit: &Visit, step: Step, channel_id: &str, address: String, token: &str) -> UnsubscribePage {
    UnsubscribePage {
        shell: visit.shell(),
        errors: Vec::new(),
        step,
        channel: if channel_id.is_empty() { String::new() } else { visit.text(channel_id) },
        address,
        token: token.to_owned(),
    }
}

/// `GET /unsubscribe?token=…`: asks, changes nothing.
pub async fn show(State(edge): State<Edge>, visit: Visit, Query(query): Query<UnsubscribeQuery>) -> Response {
    let token = query.token.trim();
    let (page, status) = match peek(token) {
        Some((channel, address)) => (page(&visit, Step::Ask, channel, address, token), StatusCode::OK),
        None => (page(&visit, Step::Bad, "", String::new(), ""), StatusCode::BAD_REQUEST),
    };
    visit.finish(&edge, render(&page, status))
}

/// `POST /unsubscribe?token=…`: from the page's button or a mail
/// provider's one-click request (whose body says only
/// `List-Unsubscribe=One-Click`; nothing in the body is needed).
pub async fn stop(State(edge): State<Edge>, visit: Visit, Query(query): Query<UnsubscribeQuery>) -> Response {
    let token = query.token.trim();
    if peek(token).is_none() {
        let page = page(&visit, Step::Bad, "", String::new(), "");
        return visit.finish(&edge, render(&page, StatusCode::BAD_REQUEST));
    }
    let mut client = ReminderServiceClient::new(edge.calls());
    // Without the visitor's session: the token is the proof, nothing else.
    let request = edge.request(UnsubscribeRequest { token: token.to_owned() }, &Caller::Anonymous);
    let (page, status) = match client.unsubscribe(request).await {
        Ok(answer) => {
            let answer = answer.into_inner();
            let channel = match Channel::try_from(answer.channel) {
                Ok(Channel::InApp) => "unsubscribe.channel.in_app",
                Ok(Channel::Webhook) => "unsubscribe.channel.webhook",
                _ => "unsubscribe.channel.email",
            };
            (page(&visit, Step::Done, channel, answer.address_hint, ""), StatusCode::OK)
        }
        Err(failure) => {
            tracing::warn!(code = ?failure.code(), "an unsubscribe link was not taken");
            match failure.code() {
                Code::Unavailable
                | Code::DeadlineExceeded
                | Code::Cancelled
                | Code::Internal
                | Code::Unknown => {
                    let mut page = page(&visit, Step::Unavailable, "", String::new(), token);
                    page.errors.push(FieldMessage::summary(visit.text("unsubscribe.unavailable")));
                    (page, StatusCode::SERVICE_UNAVAILABLE)
                }
                _ => (page(&visit, Step::Bad, "", String::new(), ""), StatusCode::BAD_REQUEST),
            }
        }
    };
    visit.finish(&edge, render(&page, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::i18n::{Lang, text};
    use crate::pages::views::testing::{check_page, shell};

    fn token(channel: &str, address: &str) -> String {
        format!("{}.c2lnbmF0dXJl", URL_SAFE_NO_PAD.encode(format!("{channel}\n{address}")))
    }

    #[test]
    fn a_token_names_its_channel_and_a_hidden_address() {
        assert_eq!(
            peek(&token("email", "wang.ma@example.cn")),
            Some(("unsubscribe.channel.email", "w***@example.cn".to_owned()))
        );
        assert_eq!(
            peek(&token("webhook", "13812345678")),
            Some(("unsubscribe.channel.webhook", "138****5678".to_owned()))
        );
        for bad in ["", "abc", "abc.", &token("fax", "x@y.cn"), &token("email", " "), "!!!.sig"] {
            assert_eq!(peek(bad), None, "{bad}");
        }
        assert_eq!(peek(&"a".repeat(TOKEN_MAX + 1)), None);
    }

    fn sample(lang: Lang, step: Step) -> UnsubscribePage {
        UnsubscribePage {
            shell: shell(lang),
            errors: Vec::new(),
            step,
            channel: text(lang, "unsubscribe.channel.email").to_owned(),
            address: "w***@example.cn".to_owned(),
            token: "cGF5bG9hZA.c2ln<&>".to_owned(),
        }
    }

    #[test]
    fn the_question_posts_the_token_back() {
        for lang in Lang::ALL {
            let html = sample(lang, Step::Ask).render().unwrap();
            check_page(&html, lang);
            assert!(html.contains(r#"action="/unsubscribe?token=cGF5bG9hZA.c2ln&#60;&#38;&#62;""#), "{html}");
            assert!(html.contains("w***@example.cn"));
            assert!(html.contains(text(lang, "unsubscribe.button")));
            assert!(!html.contains("desk-bar"), "no desk frame");
        }
        let html = sample(Lang::ZhCn, Step::Ask).render().unwrap();
        assert!(html.contains("<h1>停止接收图书馆的邮件提醒？</h1>"), "{html}");
    }

    #[test]
    fn done_and_bad_links_say_so_without_a_form() {
        for lang in Lang::ALL {
            let html = sample(lang, Step::Done).render().unwrap();
            check_page(&html, lang);
            assert!(html.contains(&format!("<h1>{}</h1>", text(lang, "unsubscribe.done_title"))));
            assert!(html.contains("w***@example.cn"));
            assert!(!html.contains(r#"action="/unsubscribe"#));
            let html = sample(lang, Step::Bad).render().unwrap();
            check_page(&html, lang);
            assert!(html.contains(text(lang, "unsubscribe.bad")));
            assert!(!html.contains(r#"action="/unsubscribe"#));
        }
        let mut page = sample(Lang::ZhCn, Step::Unavailable);
        page.errors.push(FieldMessage::summary(text(Lang::ZhCn, "unsubscribe.unavailable")));
        let html = page.render().unwrap();
        check_page(&html, Lang::ZhCn);
        assert!(html.contains(r#"action="/unsubscribe?token="#), "the button to try again");
    }
}
