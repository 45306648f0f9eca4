//! E-mail over the district's SMTP relay (lettre). A message is plain
//! UTF-8 text with the school as sender, a Message-ID we make ourselves
//! (so the delivery log can name it), and the one-click unsubscribe
//! headers mail providers look for. What the relay says goes into the
//! delivery log, with the recipient's address taken out.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::response::Response;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::config::{Security, SmtpConfig};

/// How long one conversation with the relay may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One e-mail to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    /// The sender's display name, e.g. "徐汇区实验小学图书馆".
    pub from_name: String,
    pub from: String,
    /// Where replies go; empty: to `from`.
    pub reply_to: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The one-click unsubscribe link; empty: no such headers (test mail).
    pub unsubscribe_url: String,
}

// Addresses and texts are readers' data: never in Debug output.
impl std::fmt::Debug for Mail {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Mail").finish_non_exhaustive()
    }
}

/// What the relay said when it took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The message's Message-ID, "<uuid@lectern>".
    pub message_id: String,
    /// The relay's answer, e.g. "250 2.0.0 Ok: queued as 4F2A".
    pub detail: String,
}

/// Why a message did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The relay refused for good (5xx, or an address that cannot be one):
    /// trying again would not help.
    pub permanent: bool,
    /// The relay's words, or what went wrong on the way; never the address.
    pub detail: String,
    /// The relay (or receiver) could not be reached at all: later messages
    /// in the same pass would fail the same way.
    pub unreachable: bool,
}

impl Refused {
    /// A failure worth trying again later.
    pub fn transient(detail: impl Into<String>) -> Self {
        Self { permanent: false, detail: detail.into(), unreachable: false }
    }

    /// A failure that will not go away by itself.
    pub fn permanent(detail: impl Into<String>) -> Self {
        Self { permanent: true, detail: detail.into(), unreachable: false }
    }
}

/// The district's SMTP relay.
#[derive(Clone)]
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for EmailChannel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("EmailChannel").finish_non_exhaustive()
    }
}

impl EmailChannel {
    /// A transport for the relay. Connections are made per send; nothing
    /// is dialled here.
    pub fn new(smtp: &SmtpConfig) -> Result<Self, String> {
        let builder = match smtp.security {
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|error| format!("cannot set up STARTTLS to {}: {error}", smtp.host))?,
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|error| format!("cannot set up TLS to {}: {error}", smtp.host))?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone()),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
        if let Some(username) = &smtp.username {
            builder = builder
                .credentials(Credentials::new(username.clone(), smtp.password.clone().unwrap_or_default()));
        }
        Ok(Self { transport: builder.build() })
    }

    /// Sends one message; the answer names its Message-ID.
    pub async fn send(&self, mail: &Mail) -> Result<Accepted, Refused> {
        let message_id = new_message_id();
        let message = build_message(mail, &message_id)?;
        match self.transport.send(message).await {
            Ok(response) => Ok(Accepted { message_id, detail: describe(&response) }),
            Err(error) => {
                let detail = scrub(&error.to_string(), &mail.to);
                // No SMTP reply code: the relay was not reached (or hung up).
                let unreachable = error.status().is_none() && !error.is_permanent();
                Err(Refused { permanent: error.is_permanent(), detail, unreachable })
            }
        }
    }
}

/// A fresh Message-ID, "<uuid@lectern>".
pub fn new_message_id() -> String {
    format!("<{}@lectern>", lectern_core::ids::new_id())
}

/// The message as it goes on the wire.
pub fn build_message(mail: &Mail, message_id: &str) -> Result<Message, Refused> {
    let from: Address = mail.from.trim().parse().map_err(|_| {
        Refused::permanent("the From address is not an e-mail address; check the school's settings")
    })?;
    let to: Address = mail
        .to
        .trim()
        .parse()
        .map_err(|_| Refused::permanent("the recipient's address is not an e-mail address"))?;
    let from_name = mail.from_name.trim();
    let mut builder = Message::builder()
        .from(Mailbox::new((!from_name.is_empty()).then(|| from_name.to_owned()), from))
        .to(Mailbox::new(None, to))
        .subject(mail.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .header(ContentType::TEXT_PLAIN);
    if !mail.reply_to.trim().is_empty() {
        let reply_to: Address = mail.reply_to.trim().parse().map_err(|_| {
            Refused::permanent("the Reply-To address is not an e-mail address; check the school's settings")
        })?;
        builder = builder.reply_to(Mailbox::new(None, reply_to));
    }
    if !mail.unsubscribe_url.is_empty() {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", mail.unsubscribe_url),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    builder
        .body(mail.body.clone())
        .map_err(|error| Refused::permanent(format!("the message cannot be built: {error}")))
}

/// The relay's answer in one line, e.g. "250 2.0.0 Ok: queued".
fn describe(response: &Response) -> String {
    let lines: Vec<&str> = response.message().collect();
    format!("{} {}", response.code(), lines.join(" ")).trim().to_owned()
}

/// The relay's words without the recipient's address: relays like to say
/// "550 <wang@example.cn>: Recipient address rejected", and the delivery
/// log shows errors to staff who may not see contacts.
pub fn scrub(detail: &str, address: &str) -> String {
    let detail = detail.replace(['\n', '\r'], " ");
    let needle = address.trim().to_ascii_lowercase();
    if needle.is_empty() {
        return detail.chars().take(500).collect();
    }
    // ASCII lower-casing keeps byte offsets, so positions found in the
    // lowered copy are positions in the original.
    let lowered = detail.to_ascii_lowercase();
    let mut scrubbed = String::with_capacity(detail.len());
    let mut rest = 0;
    for (start, _) in lowered.match_indices(&needle) {
        scrubbed.push_str(&detail[rest..start]);
        scrubbed.push_str("<recipient>");
        rest = start + needle.len();
    }
    scrubbed.push_str(&detail[rest..]);
    let detail = scrubbed;
    detail.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Mail {
        Mail {
            from_name: "徐汇区实验小学图书馆".into(),
            from: "library@xh.example.cn".into(),
            reply_to: "teacher.li@xh.example.cn".into(),
            to: "wang.mama@example.cn".into(),
            subject: "【徐汇区实验小学图书馆】王小明借的书已逾期".into(),
            body: "您好！\n\n《草房子》已逾期 3 天。".into(),
            unsubscribe_url: "https://lectern.example.cn/unsubscribe?token=abc.def".into(),
        }
    }

    #[test]
    fn a_message_carries_sender_unsubscribe_headers_and_utf8() {
        let message = build_message(&mail(), "<id-1@lectern>").unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(text.contains("Message-ID: <id-1@lectern>"), "{text}");
        assert!(
            text.contains("List-Unsubscribe: <https://lectern.example.cn/unsubscribe?token=abc.def>"),
            "{text}"
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{text}");
        assert!(text.contains("Reply-To: teacher.li@xh.example.cn"), "{text}");
        assert!(text.contains("Content-Type: text/plain; charset=utf-8"), "{text}");
        // The subject and the sender name are encoded words (RFC 2047).
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(text.contains("<library@xh.example.cn>"), "{text}");
    }

    #[test]
    fn a_test_message_has_no_unsubscribe_header_and_bad_addresses_are_permanent() {
        let mut test = mail();
        test.unsubscribe_url.clear();
        test.reply_to.clear();
        let text = String::from_utf8(build_message(&test, "<x@lectern>").unwrap().formatted()).unwrap();
        assert!(!text.contains("List-Unsubscribe"));
        assert!(!text.contains("Reply-To"));
        test.to = "not an address".into();
        let refused = build_message(&test, "<x@lectern>").unwrap_err();
        assert!(refused.permanent);
        assert!(!refused.detail.contains("not an address"));
    }

    #[test]
    fn relay_answers_lose_the_address() {
        assert_eq!(
            scrub(
                "permanent error (550): <Wang.Mama@example.cn>: Recipient address rejected",
                "wang.mama@example.cn"
            ),
            "permanent error (550): <<recipient>>: Recipient address rejected"
        );
        assert!(new_message_id().ends_with("@lectern>"));
        assert!(!format!("{:?}", mail()).contains("wang"));
    }
}
