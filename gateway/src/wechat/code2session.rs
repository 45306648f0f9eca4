//! WeChat's `auth.code2Session`: `GET {api_base}/sns/jscode2session` with
//! the app id, its secret and the `wx.login` code, answering the user's
//! openid (and unionid). WeChat answers errors with HTTP 200 and an
//! `errcode`; [`interpret`] turns any answer into a user or a
//! [`WechatError`] a phone can act on, and is tested without a network.
//! The `session_key` in the answer is never read into a field: it is
//! dropped with the body, so it can reach no log, store or client.

use std::time::Duration;

use lectern_core::refusal::{Reason, Refusal};
use serde::Deserialize;
use tonic::Status;

use crate::config::WechatConfig;

/// The largest answer read from WeChat; a real one is under 200 bytes.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The WeChat user a code belonged to.
#[derive(Clone, PartialEq, Eq)]
pub struct WechatUser {
    /// The user's id in this mini-program.
    pub openid: String,
    /// The user's id across the district's WeChat apps, when WeChat sent it.
    pub unionid: Option<String>,
}

// Openids identify a person: never in a log line by accident.
impl std::fmt::Debug for WechatUser {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("WechatUser").finish_non_exhaustive()
    }
}

/// Why WeChat gave no user for a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatError {
    /// No app id or secret is set, or WeChat refused them.
    #[error("WeChat sign-in is not set up")]
    NotConfigured,
    /// The code is wrong, used or expired (40029, 40163).
    #[error("WeChat refused the sign-in code")]
    CodeInvalid,
    /// The user signs in too often (45011).
    #[error("WeChat says this user signs in too often")]
    RateLimited,
    /// WeChat blocked the user as high-risk (40226).
    #[error("WeChat blocked this user")]
    UserBlocked,
    /// WeChat is busy, unreachable, slow or answered nonsense; the text
    /// says which, for the log (never a secret or an id).
    #[error("WeChat is unavailable: {0}")]
    Unavailable(String),
}

impl WechatError {
    /// The reason code a phone switches on.
    pub fn reason(&self) -> Reason {
        match self {
            Self::NotConfigured => Reason::WechatNotConfigured,
            Self::CodeInvalid => Reason::WechatCodeInvalid,
            Self::RateLimited => Reason::WechatRateLimited,
            Self::UserBlocked => Reason::WechatUserBlocked,
            Self::Unavailable(_) => Reason::WechatUnavailable,
        }
    }
}

impl From<WechatError> for Status {
    fn from(error: WechatError) -> Self {
        let message = match &error {
            WechatError::NotConfigured => {
                "WeChat sign-in is not set up for this library; sign in with card and PIN"
            }
            WechatError::CodeInvalid => {
                "the WeChat sign-in code is wrong, used or expired: call wx.login again"
            }
            WechatError::RateLimited => "WeChat says this user signs in too often: try again in a minute",
            WechatError::UserBlocked => "WeChat does not allow this user to sign in",
            WechatError::Unavailable(_) => "WeChat is busy or cannot be reached: try again shortly",
        };
        Refusal::new(error.reason(), message).into()
    }
}

/// The fields of a `code2Session` answer Lectern reads. `session_key` is
/// deliberately absent: serde skips it.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
}

/// What an answer of WeChat with HTTP status `status` and `body` means.
pub fn interpret(status: u16, body: &[u8]) -> Result<WechatUser, WechatError> {
    if !(200..300).contains(&status) {
        return Err(WechatError::Unavailable(format!("HTTP status {status}")));
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|_| WechatError::Unavailable("an answer that is not code2Session JSON".to_owned()))?;
    match answer.errcode.unwrap_or(0) {
        0 => {}
        40029 | 40163 => return Err(WechatError::CodeInvalid),
        45011 => return Err(WechatError::RateLimited),
        40226 => return Err(WechatError::UserBlocked),
        // A wrong app id or secret: the district must fix the settings,
        // retrying does not help.
        40013 | 40125 | 41002 | 41004 => {
            tracing::error!(
                wechat.errcode = answer.errcode,
                "WeChat refused the app id or secret (LECTERN_WECHAT_APP_ID, LECTERN_WECHAT_APP_SECRET)"
            );
            return Err(WechatError::NotConfigured);
        }
        other => return Err(WechatError::Unavailable(format!("errcode {other}"))),
    }
    let openid = answer.openid.map(|openid| openid.trim().to_owned()).unwrap_or_default();
    if openid.is_empty() || openid.len() > 128 {
        return Err(WechatError::Unavailable("an answer without an openid".to_owned()));
    }
    let unionid =
        answer.unionid.map(|unionid| unionid.trim().to_owned()).filter(|unionid| !unionid.is_empty());
    Ok(WechatUser { openid, unionid })
}

/// Whether `code` can be a `wx.login` code at all: short, printable, no
/// spaces. Anything else is refused before WeChat is asked.
pub fn plausible_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= 128 && code.bytes().all(|byte| byte.is_ascii_graphic())
}

/// A client of `code2Session` for one mini-program.
#[derive(Clone)]
pub struct Code2Session {
    client: reqwest::Client,
    url: String,
    app_id: String,
    app_secret: String,
}

impl std::fmt::Debug for Code2Session {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Code2Session").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Code2Session {
    /// A client for the app in `config`; `None` when sign-in is not set up.
    pub fn new(config: &WechatConfig) -> Result<Option<Self>, reqwest::Error> {
        let Some((app_id, app_secret)) = config.credentials() else { return Ok(None) };
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(3)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Some(Self {
            client,
            url: format!("{}/sns/jscode2session", config.api_base.trim_end_matches('/')),
            app_id: app_id.to_owned(),
            app_secret: app_secret.to_owned(),
        }))
    }

    /// The mini-program's app id.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The WeChat user whose `wx.login` produced `code`.
    pub async fn exchange(&self, code: &str) -> Result<WechatUser, WechatError> {
        let query = [
            ("appid", self.app_id.as_str()),
            ("secret", self.app_secret.as_str()),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ];
        // The URL carries the secret: errors are described without it.
        let mut response = self.client.get(&self.url).query(&query).send().await.map_err(describe)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(WechatError::Unavailable("an answer that is too long".to_owned()));
            }
            body.extend_from_slice(&chunk);
        }
        interpret(status, &body)
    }
}

/// A transport error in words that carry no URL (the URL holds the secret).
fn describe(error: reqwest::Error) -> WechatError {
    let what = if error.is_timeout() {
        "no answer in time"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "the connection failed"
    };
    WechatError::Unavailable(what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(body: &str) -> WechatError {
        interpret(200, body.as_bytes()).unwrap_err()
    }

    #[test]
    fn an_answer_with_an_openid_is_the_user_and_the_session_key_is_dropped() {
        let user = interpret(200, br#"{"openid":"o-ren","session_key":"k3y","unionid":"u-ren"}"#).unwrap();
        assert_eq!(user.openid, "o-ren");
        assert_eq!(user.unionid.as_deref(), Some("u-ren"));
        assert!(!format!("{user:?}").contains("o-ren"));
        // Older answers send errcode 0 on success; no unionid is fine.
        let user =
            interpret(200, br#"{"errcode":0,"errmsg":"ok","openid":"o-1","session_key":"k"}"#).unwrap();
        assert_eq!(user.unionid, None);
    }

    #[test]
    fn errcodes_map_to_what_a_phone_can_do() {
        assert_eq!(error_of(r#"{"errcode":40029,"errmsg":"invalid code"}"#), WechatError::CodeInvalid);
        assert_eq!(error_of(r#"{"errcode":40163,"errmsg":"code been used"}"#), WechatError::CodeInvalid);
        assert_eq!(
            error_of(r#"{"errcode":45011,"errmsg":"api minute-quota reach limit"}"#),
            WechatError::RateLimited
        );
        assert_eq!(error_of(r#"{"errcode":40226,"errmsg":"high risk user"}"#), WechatError::UserBlocked);
        assert_eq!(error_of(r#"{"errcode":40013,"errmsg":"invalid appid"}"#), WechatError::NotConfigured);
        assert!(matches!(error_of(r#"{"errcode":-1,"errmsg":"system busy"}"#), WechatError::Unavailable(_)));
        assert!(matches!(error_of(r#"{"errcode":12345}"#), WechatError::Unavailable(_)));
    }

    #[test]
    fn garbage_server_errors_and_missing_openids_are_unavailable() {
        for (status, body) in [
            (200, "<html>busy</html>"),
            (200, ""),
            (200, r#"{"session_key":"k"}"#),
            (200, r#"{"openid":"","session_key":"k"}"#),
            (200, r#"{"openid":42}"#),
            (502, r#"{"openid":"o-1"}"#),
            (500, "oops"),
        ] {
            assert!(
                matches!(interpret(status, body.as_bytes()), Err(WechatError::Unavailable(_))),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn each_error_carries_its_reason_and_http_status() {
        use lectern_core::status::http_status;
        let cases = [
            (WechatError::CodeInvalid, Reason::WechatCodeInvalid, 401),
            (WechatError::RateLimited, Reason::WechatRateLimited, 429),
            (WechatError::UserBlocked, Reason::WechatUserBlocked, 403),
            (WechatError::Unavailable("x".into()), Reason::WechatUnavailable, 503),
            (WechatError::NotConfigured, Reason::WechatNotConfigured, 400),
        ];
        for (error, reason, http) in cases {
            let status = Status::from(error);
            assert_eq!(lectern_core::refusal::reason_of(&status), Some(reason));
            assert_eq!(http_status(status.code()).as_u16(), http, "{reason:?}");
        }
    }

    #[test]
    fn only_plausible_codes_are_sent() {
        assert!(plausible_code("081abcDEF-_x"));
        assert!(!plausible_code(""));
        assert!(!plausible_code("a b"));
        assert!(!plausible_code("码"));
        assert!(!plausible_code(&"a".repeat(129)));
    }

    #[test]
    fn no_client_without_an_app_id_and_secret() {
        assert!(Code2Session::new(&WechatConfig::default()).unwrap().is_none());
        let config = WechatConfig {
            app_id: Some("wx1".into()),
            app_secret: Some(crate::config::Secret::new("secret-value")),
            ..WechatConfig::default()
        };
        let client = Code2Session::new(&config).unwrap().unwrap();
        assert!(!format!("{client:?}").contains("secret-value"));
        assert!(!format!("{config:?}").contains("secret-value"));
    }
}
