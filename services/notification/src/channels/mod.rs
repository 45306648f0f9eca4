//! The channels messages leave by: e-mail over the district's SMTP relay
//! and the signed webhook. The inbox is a table of this service and needs
//! no channel. [`Channels`] also knows how a school signs its e-mails and
//! where the unsubscribe link points.

pub mod config;
pub mod email;
pub mod webhook;

#[cfg(test)]
mod wire_tests;

use std::sync::Arc;

use lectern_proto::notification::v1::{Channel, SendTestEmailResponse};

pub use self::config::ChannelConfig;
use self::email::{Accepted, EmailChannel, Mail, Refused};
use self::webhook::{WebhookChannel, WebhookPayload};
use crate::notices::Language;
use crate::settings::SchoolSettings;

/// The district's channels, ready to send. Cheap to clone.
#[derive(Clone)]
pub struct Channels {
    inner: Arc<Inner>,
}

struct Inner {
    config: ChannelConfig,
    /// The relay, or why it could not be set up.
    email: Option<Result<EmailChannel, String>>,
    webhook: Option<Result<WebhookChannel, String>>,
    public_url: String,
    unsubscribe_key: String,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Channels")
            .field("config", &self.inner.config)
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

impl Channels {
    /// Channels from their configuration. `public_url` is where readers
    /// reach Lectern (the unsubscribe page); `unsubscribe_key` signs the
    /// links (the service key).
    pub fn new(config: ChannelConfig, public_url: String, unsubscribe_key: String) -> Self {
        let email = config.smtp.as_ref().map(EmailChannel::new);
        let webhook = config.webhook.as_ref().map(WebhookChannel::new);
        let problems = [
            email.as_ref().and_then(|built| built.as_ref().err()),
            webhook.as_ref().and_then(|built| built.as_ref().err()),
        ];
        for problem in problems.into_iter().flatten() {
            tracing::error!(%problem, "a channel could not be set up; its messages wait");
        }
        Self {
            inner: Arc::new(Inner {
                config,
                email,
                webhook,
                public_url: public_url.trim_end_matches('/').to_owned(),
                unsubscribe_key,
            }),
        }
    }

    /// The configuration (secrets hidden in its `Debug`).
    pub fn config(&self) -> &ChannelConfig {
        &self.inner.config
    }

    /// Whether an SMTP relay is configured.
    pub fn email_configured(&self) -> bool {
        self.inner.config.smtp.is_some()
    }

    /// Whether a webhook receiver is configured.
    pub fn webhook_configured(&self) -> bool {
        self.inner.config.webhook.is_some()
    }

    /// The public unsubscribe link for `address` on `channel`.
    pub fn unsubscribe_url(&self, channel: Channel, address: &str) -> String {
        let token = crate::unsubscribe::token(&self.inner.unsubscribe_key, channel, address);
        format!("{}/unsubscribe?token={token}", self.inner.public_url)
    }

    /// A school's e-mail to `to`, signed as the school: its sender name
    /// (else "<school name>图书馆" / "<school name> Library"), its From
    /// (else the district's), its Reply-To.
    pub fn mail(
        &self,
        school: &SchoolSettings,
        school_name: &str,
        language: Language,
        to: &str,
        subject: String,
        body: String,
    ) -> Mail {
        let from_name = if school.sender_name.trim().is_empty() {
            match language {
                Language::ZhCn => format!("{school_name}图书馆"),
                Language::En => format!("{school_name} Library"),
            }
        } else {
            school.sender_name.trim().to_owned()
        };
        let from = if school.from_address.trim().is_empty() {
            self.inner.config.smtp_from.clone()
        } else {
            school.from_address.trim().to_owned()
        };
        Mail {
            from_name,
            from,
            reply_to: school.reply_to.trim().to_owned(),
            to: to.trim().to_owned(),
            subject,
            body,
            unsubscribe_url: self.unsubscribe_url(Channel::Email, to),
        }
    }

    /// Sends an e-mail through the relay.
    pub async fn send_email(&self, mail: &Mail) -> Result<Accepted, Refused> {
        match &self.inner.email {
            None => Err(Refused::transient("e-mail is not set up (LECTERN_SMTP_URL)")),
            Some(Err(problem)) => Err(Refused::transient(problem.clone())),
            Some(Ok(email)) => email.send(mail).await,
        }
    }

    /// POSTs one delivery to the webhook; answers the receiver's id.
    pub async fn send_webhook(&self, payload: &WebhookPayload, unix_seconds: i64) -> Result<String, Refused> {
        match &self.inner.webhook {
            None => Err(Refused::transient("the webhook is not set up (LECTERN_WEBHOOK_URL)")),
            Some(Err(problem)) => Err(Refused::transient(problem.clone())),
            Some(Ok(webhook)) => webhook.send(payload, unix_seconds).await,
        }
    }

    /// Sends a test message with a school's sender and says what the relay
    /// answered.
    pub async fn send_test_email(
        &self,
        school: &SchoolSettings,
        school_name: &str,
        to: &str,
    ) -> SendTestEmailResponse {
        let subject = format!("【{school_name}图书馆】测试邮件 / Test message");
        let body = format!(
            "这是 {school_name} 图书馆的测试邮件。收到它，说明借阅提醒可以通过邮件送达。\n\n\
             This is a test message from the {school_name} library: reminders can reach you by e-mail.\n"
        );
        let mut mail = self.mail(school, school_name, Language::ZhCn, to, subject, body);
        // A test message is not a subscription: nothing to leave.
        mail.unsubscribe_url.clear();
        match self.send_email(&mail).await {
            Ok(accepted) => SendTestEmailResponse {
                accepted: true,
                detail: accepted.detail,
                message_id: accepted.message_id,
            },
            Err(refused) => {
                SendTestEmailResponse { accepted: false, detail: refused.detail, message_id: String::new() }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_school_signs_its_mail_and_the_link_unsubscribes_its_address() {
        let config = ChannelConfig { smtp_from: "library@district.cn".into(), ..ChannelConfig::default() };
        let channels = Channels::new(config, "https://lectern.example.cn/".into(), "key".into());
        let mut school = SchoolSettings::defaults("school-1");
        let mail =
            channels.mail(&school, "实验小学", Language::ZhCn, "wang@example.cn", "s".into(), "b".into());
        assert_eq!((mail.from_name.as_str(), mail.from.as_str()), ("实验小学图书馆", "library@district.cn"));
        let token =
            mail.unsubscribe_url.strip_prefix("https://lectern.example.cn/unsubscribe?token=").unwrap();
        assert_eq!(
            crate::unsubscribe::verify("key", token).unwrap(),
            (Channel::Email, "wang@example.cn".into())
        );
        school.sender_name = "实验小学书香馆".into();
        school.from_address = "books@school.cn".into();
        school.reply_to = "li@school.cn".into();
        let mail =
            channels.mail(&school, "实验小学", Language::En, "wang@example.cn", "s".into(), "b".into());
        assert_eq!(
            (mail.from_name.as_str(), mail.from.as_str(), mail.reply_to.as_str()),
            ("实验小学书香馆", "books@school.cn", "li@school.cn")
        );
    }

    #[tokio::test]
    async fn without_a_relay_a_test_message_says_so() {
        let channels = Channels::new(ChannelConfig::default(), "http://x".into(), "key".into());
        let answer = channels.send_test_email(&SchoolSettings::defaults("s"), "实验小学", "a@b.cn").await;
        assert!(!answer.accepted);
        assert!(answer.detail.contains("LECTERN_SMTP_URL"));
    }
}
