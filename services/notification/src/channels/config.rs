//! The district's channels as the environment sets them up: the SMTP relay
//! and the signed webhook. Secrets (the SMTP password, the webhook's
//! signing secret) come from a variable or, better, from a file named by
//! the `…_FILE` variable; they never appear in `Debug` output, logs or any
//! answer of the API.

use lectern_core::config::ConfigError;
use lectern_proto::notification::v1::{ChannelSettings, EmailSettings, WebhookSettings};

/// How the connection to the SMTP relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed
    /// (`smtp://host:587`).
    StartTls,
    /// TLS from the first byte (`smtps://host:465`).
    Tls,
    /// No encryption (`smtp://host:25?tls=none`): only for a school's own
    /// relay on its own network, and for tests.
    None,
}

impl Security {
    /// The name the API shows: "starttls", "tls" or "none".
    pub fn name(self) -> &'static str {
        match self {
            Self::StartTls => "starttls",
            Self::Tls => "tls",
            Self::None => "none",
        }
    }
}

/// The district's SMTP relay.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The user it signs in as (`LECTERN_SMTP_USERNAME`); none: no sign-in.
    pub username: Option<String>,
    /// `LECTERN_SMTP_PASSWORD` or the file `LECTERN_SMTP_PASSWORD_FILE` names.
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The district's webhook receiver.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Where deliveries are POSTed (`LECTERN_WEBHOOK_URL`, http or https).
    pub url: String,
    /// The signing key (`LECTERN_WEBHOOK_SECRET` or
    /// `LECTERN_WEBHOOK_SECRET_FILE`); none: requests go unsigned.
    pub secret: Option<String>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The district's channels. `Default` is nothing configured: the inbox
/// still works, e-mail and webhook deliveries wait (failed, retried) until
/// a relay is set up.
///
/// Variables:
/// - `LECTERN_SMTP_URL`: the relay. `smtp://host:port` connects in plain
///   and requires STARTTLS (port 587 when none is given);
///   `smtps://host:port` speaks TLS from the start (465);
///   `smtp://host:port?tls=none` sends without encryption, for a school's
///   own relay on its own network and for tests (a local `aiosmtpd`).
///   The URL carries no user or password.
/// - `LECTERN_SMTP_USERNAME`, `LECTERN_SMTP_PASSWORD` or
///   `LECTERN_SMTP_PASSWORD_FILE`: signing in to the relay.
/// - `LECTERN_SMTP_FROM`: the district's From address, used when a school
///   set none (required with `LECTERN_SMTP_URL`).
/// - `LECTERN_WEBHOOK_URL`, `LECTERN_WEBHOOK_SECRET` or
///   `LECTERN_WEBHOOK_SECRET_FILE`: the signed webhook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelConfig {
    /// The SMTP relay; none: e-mail is not configured.
    pub smtp: Option<SmtpConfig>,
    /// The district's From address (`LECTERN_SMTP_FROM`).
    pub smtp_from: String,
    /// The webhook; none: not configured.
    pub webhook: Option<WebhookConfig>,
}

impl ChannelConfig {
    /// Reads the channels from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the channels from `var` (the environment, or a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get =
            |name: &str| var(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let smtp = match get("LECTERN_SMTP_URL") {
            None => None,
            Some(url) => {
                let (host, port, security) = parse_smtp_url(&url)?;
                Some(SmtpConfig {
                    host,
                    port,
                    security,
                    username: get("LECTERN_SMTP_USERNAME"),
                    password: secret(&var, "LECTERN_SMTP_PASSWORD")?,
                })
            }
        };
        let smtp_from = get("LECTERN_SMTP_FROM").unwrap_or_default();
        if !smtp_from.is_empty() && !looks_like_address(&smtp_from) {
            return Err(problem("LECTERN_SMTP_FROM", "must be an e-mail address like library@school.cn"));
        }
        if smtp.is_some() && smtp_from.is_empty() {
            return Err(problem(
                "LECTERN_SMTP_FROM",
                "must be set with LECTERN_SMTP_URL: the From address of the district's e-mails",
            ));
        }
        let webhook = match get("LECTERN_WEBHOOK_URL") {
            None => None,
            Some(url) => {
                let parsed = reqwest::Url::parse(&url).map_err(|_| {
                    problem("LECTERN_WEBHOOK_URL", "is not a URL like https://sms.example.cn/lectern")
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(problem("LECTERN_WEBHOOK_URL", "must be an http:// or https:// URL"));
                }
                Some(WebhookConfig { url, secret: secret(&var, "LECTERN_WEBHOOK_SECRET")? })
            }
        };
        Ok(Self { smtp, smtp_from, webhook })
    }

    /// How the channels are set up, without secrets, for the API.
    pub fn settings_proto(&self) -> ChannelSettings {
        let email = match &self.smtp {
            Some(smtp) => EmailSettings {
                configured: true,
                host: smtp.host.clone(),
                port: i32::from(smtp.port),
                security: smtp.security.name().to_owned(),
                username: smtp.username.clone().unwrap_or_default(),
                password_set: smtp.password.is_some(),
                from_address: self.smtp_from.clone(),
            },
            None => EmailSettings { from_address: self.smtp_from.clone(), ..EmailSettings::default() },
        };
        let webhook = match &self.webhook {
            Some(webhook) => WebhookSettings {
                configured: true,
                url: webhook.url.clone(),
                secret_set: webhook.secret.is_some(),
            },
            None => WebhookSettings::default(),
        };
        ChannelSettings { email: Some(email), webhook: Some(webhook) }
    }
}

fn problem(variable: &str, problem: &str) -> ConfigError {
    ConfigError { variable: variable.to_owned(), problem: problem.to_owned() }
}

fn looks_like_address(value: &str) -> bool {
    value.contains('@') && !value.contains(char::is_whitespace) && value.len() <= 254
}

/// `smtp://host[:port][?tls=none]` or `smtps://host[:port]`.
fn parse_smtp_url(url: &str) -> Result<(String, u16, Security), ConfigError> {
    const VARIABLE: &str = "LECTERN_SMTP_URL";
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| problem(VARIABLE, "is not a URL like smtp://relay.school.cn:587"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(problem(
            VARIABLE,
            "must not hold a user or password: use LECTERN_SMTP_USERNAME and LECTERN_SMTP_PASSWORD_FILE",
        ));
    }
    let host = parsed
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| problem(VARIABLE, "names no host, e.g. smtp://relay.school.cn:587"))?
        .trim_matches(['[', ']'])
        .to_owned();
    let mut tls = None;
    for (key, value) in parsed.query_pairs() {
        match (key.as_ref(), value.as_ref()) {
            ("tls", "none") => tls = Some(Security::None),
            ("tls", "starttls") => tls = Some(Security::StartTls),
            _ => {
                return Err(problem(
                    VARIABLE,
                    "the only option is ?tls=none (plain, for a school's own relay)",
                ));
            }
        }
    }
    let (security, default_port) = match (parsed.scheme(), tls) {
        ("smtp", None | Some(Security::StartTls)) => (Security::StartTls, 587),
        ("smtp", Some(_)) => (Security::None, 25),
        ("smtps", None) => (Security::Tls, 465),
        ("smtps", Some(_)) => {
            return Err(problem(VARIABLE, "smtps:// always uses TLS; use smtp://…?tls=none for plain"));
        }
        _ => return Err(problem(VARIABLE, "must start with smtp:// (STARTTLS) or smtps:// (TLS)")),
    };
    Ok((host, parsed.port().unwrap_or(default_port), security))
}

/// A secret from `NAME` or from the file `NAME_FILE` (one of them).
fn secret(var: &impl Fn(&str) -> Option<String>, name: &str) -> Result<Option<String>, ConfigError> {
    let file_variable = format!("{name}_FILE");
    let direct = var(name).filter(|value| !value.trim().is_empty());
    let file = var(&file_variable).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => Err(problem(name, &format!("set {name} or {file_variable}, not both"))),
        // A password may have spaces at either end; keep it as given.
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => {
            let contents = std::fs::read_to_string(&path)
                .map_err(|error| problem(&file_variable, &format!("cannot read {path}: {error}")))?;
            // Files written by `echo` end with a newline that is not part of the secret.
            let value = contents.trim_end_matches(['\n', '\r']).to_owned();
            if value.is_empty() {
                return Err(problem(&file_variable, &format!("{path} is empty")));
            }
            Ok(Some(value))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<ChannelConfig, ConfigError> {
        let vars: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        ChannelConfig::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn nothing_set_is_nothing_configured() {
        let channels = config(&[]).unwrap();
        assert_eq!(channels, ChannelConfig::default());
        let settings = channels.settings_proto();
        assert!(!settings.email.unwrap().configured);
        assert!(!settings.webhook.unwrap().configured);
    }

    #[test]
    fn the_three_smtp_urls_pick_their_security() {
        let from = ("LECTERN_SMTP_FROM", "library@district.cn");
        let smtp = |url: &str| config(&[("LECTERN_SMTP_URL", url), from]).unwrap().smtp.unwrap();
        let starttls = smtp("smtp://relay.school.cn");
        assert_eq!(
            (starttls.host.as_str(), starttls.port, starttls.security),
            ("relay.school.cn", 587, Security::StartTls)
        );
        let tls = smtp("smtps://relay.school.cn:2465");
        assert_eq!((tls.port, tls.security), (2465, Security::Tls));
        let plain = smtp("smtp://127.0.0.1:2525?tls=none");
        assert_eq!((plain.host.as_str(), plain.port, plain.security), ("127.0.0.1", 2525, Security::None));
    }

    #[test]
    fn bad_urls_name_their_variable() {
        let from = ("LECTERN_SMTP_FROM", "library@district.cn");
        for url in [
            "relay.school.cn",
            "http://relay:25",
            "smtp://user:pw@relay:25",
            "smtp://relay?tls=maybe",
            "smtps://relay?tls=none",
        ] {
            let error = config(&[("LECTERN_SMTP_URL", url), from]).unwrap_err();
            assert_eq!(error.variable, "LECTERN_SMTP_URL", "{url}");
            assert!(!error.problem.contains("pw"), "the problem must not repeat a password");
        }
        assert_eq!(
            config(&[("LECTERN_SMTP_URL", "smtp://relay:25")]).unwrap_err().variable,
            "LECTERN_SMTP_FROM"
        );
        assert_eq!(
            config(&[("LECTERN_WEBHOOK_URL", "ftp://x")]).unwrap_err().variable,
            "LECTERN_WEBHOOK_URL"
        );
        assert_eq!(
            config(&[("LECTERN_WEBHOOK_URL", "not a url")]).unwrap_err().variable,
            "LECTERN_WEBHOOK_URL"
        );
    }

    #[test]
    fn secrets_come_from_a_file_and_never_show() {
        let path = std::env::temp_dir().join(format!("lectern-smtp-secret-{}", std::process::id()));
        std::fs::write(&path, "s3cret-pw\n").unwrap();
        let path_text = path.to_string_lossy().into_owned();
        let channels = config(&[
            ("LECTERN_SMTP_URL", "smtp://relay.school.cn:587"),
            ("LECTERN_SMTP_FROM", "library@district.cn"),
            ("LECTERN_SMTP_USERNAME", "lectern"),
            ("LECTERN_SMTP_PASSWORD_FILE", &path_text),
            ("LECTERN_WEBHOOK_URL", "https://sms.district.cn/hook"),
            ("LECTERN_WEBHOOK_SECRET", "hook-secret"),
        ])
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(channels.smtp.as_ref().unwrap().password.as_deref(), Some("s3cret-pw"));
        let debug = format!("{channels:?}");
        assert!(!debug.contains("s3cret-pw") && !debug.contains("hook-secret"), "{debug}");
        let settings = channels.settings_proto();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret-pw") && !shown.contains("hook-secret"));
        assert!(settings.email.unwrap().password_set);
        assert!(settings.webhook.unwrap().secret_set);
        let both = config(&[
            ("LECTERN_WEBHOOK_URL", "https://sms.district.cn/hook"),
            ("LECTERN_WEBHOOK_SECRET", "a"),
            ("LECTERN_WEBHOOK_SECRET_FILE", "/nonexistent"),
        ]);
        assert_eq!(both.unwrap_err().variable, "LECTERN_WEBHOOK_SECRET");
        let missing = config(&[
            ("LECTERN_WEBHOOK_URL", "https://sms.district.cn/hook"),
            ("LECTERN_WEBHOOK_SECRET_FILE", "/nonexistent/secret"),
        ]);
        assert_eq!(missing.unwrap_err().variable, "LECTERN_WEBHOOK_SECRET_FILE");
    }
}
