//! The kiosk's cookies: the device's session and the reader's, each kept
//! by the kiosk's browser, apart from the staff session cookie.
//!
//! Both cookies are `HttpOnly; SameSite=Strict` and scoped to `Path=/kiosk`,
//! so the browser never sends them to a staff page, and staff pages, which
//! read only `lectern_session`, would not take them anyway. Over HTTPS they
//! are `Secure` and named `__Secure-…` (a `__Host-` name would need
//! `Path=/`).
//!
//! - The device cookie holds the device's token pair (its session lasts
//!   weeks and is renewed here when the access token nears its end), when
//!   the session ends, whether the kiosk has a receipt printer, and the
//!   school's name and the kiosk's label for the screen's header.
//! - The reader cookie holds the token of the reader signed in at the
//!   kiosk and when they last did something, set again on every action.
//!   The server checks that time on every request: past the idle limit the
//!   reader is signed out, even in a browser whose script stopped. The
//!   browser drops the cookie itself a minute later (`Max-Age`). The
//!   reader's name and card are never kept in it.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue};

use crate::http::session::cookie;

/// The kiosk's session as a device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceSession {
    pub access: String,
    pub refresh: String,
    /// When the device session ends (seconds since the epoch).
    pub ends_at: i64,
    /// Whether a receipt printer is attached.
    pub printer: bool,
    /// The school's name, when the person who set the kiosk up could read it.
    pub school: String,
    /// Where the kiosk stands, as registered.
    pub label: String,
}

impl DeviceSession {
    fn value(&self) -> String {
        format!(
            "{}~{}~{}~{}~{}~{}",
            self.access,
            self.refresh,
            self.ends_at,
            u8::from(self.printer),
            URL_SAFE_NO_PAD.encode(&self.school),
            URL_SAFE_NO_PAD.encode(&self.label),
        )
    }

    fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split('~');
        let access = parts.next().filter(|part| !part.is_empty())?.to_owned();
        let refresh = parts.next().filter(|part| !part.is_empty())?.to_owned();
        let ends_at = parts.next()?.parse().ok()?;
        let printer = parts.next()? == "1";
        let text = |part: Option<&str>| {
            part.and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default()
        };
        let school = text(parts.next());
        let label = text(parts.next());
        Some(Self { access, refresh, ends_at, printer, school, label })
    }
}

/// The reader signed in at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderSession {
    pub access: String,
    /// When they last did something (seconds since the epoch).
    pub last_active: i64,
}

impl ReaderSession {
    fn parse(value: &str) -> Option<Self> {
        let (access, last) = value.split_once('~')?;
        (!access.is_empty())
            .then(|| Self { access: access.to_owned(), last_active: last.parse().unwrap_or(0) })
    }

    /// Whether the reader has been idle longer than `limit` at `now`.
    pub fn idle(&self, now: i64, limit: Duration) -> bool {
        let limit = i64::try_from(limit.as_secs()).unwrap_or(i64::MAX);
        now.saturating_sub(self.last_active) >= limit || self.last_active > now + 60
    }
}

/// The kiosk cookies' names and attributes.
#[derive(Debug, Clone, Copy)]
pub struct KioskCookies {
    secure: bool,
    /// The kiosk's idle limit.
    idle: Duration,
}

/// The language a reader chose at the kiosk, until they leave.
pub const LANG_NAME: &str = "lectern_kiosk_lang";

impl KioskCookies {
    pub fn new(secure: bool, idle: Duration) -> Self {
        Self { secure, idle }
    }

    pub fn device_name(self) -> &'static str {
        if self.secure { "__Secure-lectern_kiosk" } else { "lectern_kiosk" }
    }

    pub fn reader_name(self) -> &'static str {
        if self.secure { "__Secure-lectern_kiosk_reader" } else { "lectern_kiosk_reader" }
    }

    /// A cookie for the kiosk's paths; `None` as `max_age` lasts until the
    /// browser closes.
    fn build(self, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let age = max_age.map(|age| format!("; Max-Age={age}")).unwrap_or_default();
        let cookie = format!("{name}={value}; Path=/kiosk{age}; HttpOnly; SameSite=Strict{secure}");
        // Tokens are base64url and dots, the rest base64url or digits.
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("lectern_invalid=1"))
    }

    pub fn device(self, session: &DeviceSession, now: i64) -> HeaderValue {
        self.build(self.device_name(), &session.value(), Some((session.ends_at - now).max(0)))
    }

    pub fn clear_device(self) -> HeaderValue {
        self.build(self.device_name(), "", Some(0))
    }

    /// The reader cookie, active now. The browser keeps it a minute past
    /// the idle limit, so the server still sees it, finds it idle and ends
    /// the session at the reader service; later it is gone anyway.
    pub fn reader(self, access: &str, now: i64) -> HeaderValue {
        let age = i64::try_from(self.idle.as_secs()).unwrap_or(30) + 60;
        self.build(self.reader_name(), &format!("{access}~{now}"), Some(age))
    }

    pub fn clear_reader(self) -> HeaderValue {
        self.build(self.reader_name(), "", Some(0))
    }

    /// The reader's language, until they sign out (a language tag).
    pub fn lang(self, tag: &str) -> HeaderValue {
        self.build(LANG_NAME, tag, None)
    }

    pub fn clear_lang(self) -> HeaderValue {
        self.build(LANG_NAME, "", Some(0))
    }

    pub fn read_device(self, headers: &HeaderMap) -> Option<DeviceSession> {
        cookie(headers, self.device_name()).and_then(DeviceSession::parse)
    }

    pub fn read_reader(self, headers: &HeaderMap) -> Option<ReaderSession> {
        cookie(headers, self.reader_name()).and_then(ReaderSession::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_cookie_round_trips_and_stays_on_the_kiosk_paths() {
        let session = DeviceSession {
            access: "a.b.c".into(),
            refresh: "r".into(),
            ends_at: 1_000,
            printer: true,
            school: "徐汇区实验小学".into(),
            label: "图书馆门口自助机".into(),
        };
        let cookies = KioskCookies::new(false, Duration::from_secs(30));
        let header = cookies.device(&session, 400);
        let text = header.to_str().unwrap();
        assert!(text.starts_with("lectern_kiosk=a.b.c~r~1000~1~"), "{text}");
        assert!(text.contains("; Path=/kiosk; Max-Age=600; HttpOnly; SameSite=Strict"), "{text}");
        let value = text.split(';').next().unwrap().split_once('=').unwrap().1;
        assert_eq!(DeviceSession::parse(value), Some(session));
        assert_eq!(DeviceSession::parse("a~~1~0"), None);
        assert_eq!(DeviceSession::parse("garbage"), None);
        let secure = KioskCookies::new(true, Duration::from_secs(30)).clear_reader();
        assert!(
            secure.to_str().unwrap().starts_with("__Secure-lectern_kiosk_reader=; Path=/kiosk; Max-Age=0")
        );
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn a_reader_idle_past_the_limit_is_signed_out() {
        let reader = ReaderSession::parse("x.y.z~100").unwrap();
        let limit = Duration::from_secs(30);
        assert!(!reader.idle(129, limit));
        assert!(reader.idle(130, limit));
        // A time in the future is not believed.
        assert!(reader.idle(0, limit));
        assert!(ReaderSession::parse("x.y.z~soon").unwrap().idle(100, limit));
        assert_eq!(ReaderSession::parse("~100"), None);
    }
}
