//! The signed-in session between two `lectern` commands: which server, the
//! bearer token and when it expires, and the refresh token that buys a new
//! one until the session ends, kept in a JSON file only its owner can read
//! (mode 0600, written whole and renamed into place so a crash never leaves
//! half a token behind). [`Session::freshness`] decides when to refresh, and
//! [`lock`] keeps two commands from refreshing at once (a refresh token
//! works once: spending it twice ends the session).

use std::ffi::OsString;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use lectern_proto::reader::v1::LoginResponse;

use super::format::{staff_role, utc};

/// Where the CLI talks to when nothing else says: `lectern up`'s gateway.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";

/// A saved sign-in.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// The gateway the token was issued by, normalised by [`server_url`].
    pub server: String,
    /// The bearer token. Never printed, never logged.
    pub token: String,
    /// When the token stops working, if the server said.
    pub expires_at: Option<DateTime<Utc>>,
    /// The token that buys a new access token (once); empty in a session
    /// saved before sessions could be refreshed. Never printed, never logged.
    pub refresh_token: String,
    /// When the refresh token, and so the session, stops working.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The sign-in name, for `whoami`.
    pub username: String,
    /// The staff role in words ("librarian").
    pub role: String,
}

// Written by hand so that `{:?}` can never put the token on a screen or in
// a log.
impl std::fmt::Debug for Session {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Session")
            .field("server", &self.server)
            .field("token", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &"<hidden>")
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish()
    }
}

/// How long before its expiry an access token is renewed, so that a call
/// started with it does not meet the end of its life on the way.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(1);

/// What a command must do with the saved session before calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// The access token is good for more than [`REFRESH_MARGIN`] (or is
    /// about to expire but cannot be renewed): use it.
    Fresh,
    /// The access token has expired or is about to, and the refresh token
    /// is still good: renew first.
    Refresh,
    /// Neither token works any more: sign in again.
    Ended,
}

impl Session {
    /// The session to save from a sign-in or refresh answer.
    pub fn from_login(answer: &LoginResponse, server: String, username: String) -> Self {
        let time =
            |time: Option<&prost_types::Timestamp>| time.and_then(|time| utc(time.seconds, time.nanos));
        Self {
            server,
            token: answer.access_token.clone(),
            expires_at: time(answer.expire_time.as_ref()),
            refresh_token: answer.refresh_token.clone(),
            refresh_expires_at: time(answer.refresh_expire_time.as_ref()),
            username,
            role: staff_role(answer.role).to_owned(),
        }
    }

    /// Whether the token has expired at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expires_at| expires_at <= now)
    }

    /// Whether the refresh token can still be spent at `now`. One without
    /// an expiry is left to the server to judge.
    pub fn can_refresh(&self, now: DateTime<Utc>) -> bool {
        !self.refresh_token.is_empty() && self.refresh_expires_at.is_none_or(|until| until > now)
    }

    /// Whether the session needs renewing at `now` before a call.
    pub fn freshness(&self, now: DateTime<Utc>) -> Freshness {
        let expiring = self.expires_at.is_some_and(|expires_at| expires_at - REFRESH_MARGIN <= now);
        match (expiring, self.can_refresh(now), self.is_expired(now)) {
            (false, _, _) => Freshness::Fresh,
            (true, true, _) => Freshness::Refresh,
            (true, false, false) => Freshness::Fresh,
            (true, false, true) => Freshness::Ended,
        }
    }

    /// The session as the JSON stored in the file.
    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "server": self.server,
            "access_token": self.token,
            "expire_time": self.expires_at.map(|time| time.to_rfc3339()),
            "refresh_token": self.refresh_token,
            "refresh_expire_time": self.refresh_expires_at.map(|time| time.to_rfc3339()),
            "username": self.username,
            "role": self.role,
        });
        format!("{value:#}\n")
    }

    /// Reads a session back from its JSON.
    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        let value: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
        let text_field =
            |name: &str| value.get(name).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let server = text_field("server");
        let token = text_field("access_token");
        if server.is_empty() || token.is_empty() {
            bail!("no server or token in it");
        }
        let time_field = |name: &str| -> anyhow::Result<Option<DateTime<Utc>>> {
            match value.get(name).and_then(serde_json::Value::as_str) {
                Some(time) => Ok(Some(
                    DateTime::parse_from_rfc3339(time)
                        .with_context(|| format!("{name} is not an RFC 3339 time"))?
                        .with_timezone(&Utc),
                )),
                None => Ok(None),
            }
        };
        Ok(Self {
            server,
            token,
            expires_at: time_field("expire_time")?,
            // Absent in files saved before sessions could be refreshed.
            refresh_token: text_field("refresh_token"),
            refresh_expires_at: time_field("refresh_expire_time")?,
            username: text_field("username"),
            role: text_field("role"),
        })
    }
}

/// The session file: `LECTERN_SESSION_FILE`, else
/// `$XDG_CONFIG_HOME/lectern/session.json`, else
/// `$HOME/.config/lectern/session.json`.
pub fn session_path() -> anyhow::Result<PathBuf> {
    resolve_path(
        std::env::var_os("LECTERN_SESSION_FILE"),
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
    .context("cannot tell where to keep the session: set LECTERN_SESSION_FILE or HOME")
}

/// [`session_path`] from the three variables' values. Empty values count as
/// unset, and a relative `XDG_CONFIG_HOME` is ignored as the XDG spec asks.
pub fn resolve_path(
    session_file: Option<OsString>,
    config_home: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    let set = |value: Option<OsString>| value.filter(|value| !value.is_empty()).map(PathBuf::from);
    if let Some(file) = set(session_file) {
        return Some(file);
    }
    let config = set(config_home)
        .filter(|path| path.is_absolute())
        .or_else(|| set(home).map(|home| home.join(".config")))?;
    Some(config.join("lectern").join("session.json"))
}

/// `text` as a gateway URL: trimmed, without a trailing "/", and with
/// "http://" in front when no scheme was given ("127.0.0.1:50051").
pub fn server_url(text: &str) -> anyhow::Result<String> {
    let text = text.trim().trim_end_matches('/');
    if text.is_empty() {
        bail!("--server is empty: give a URL like {DEFAULT_SERVER}");
    }
    if text.chars().any(|character| character.is_whitespace() || character.is_control()) {
        bail!("--server {text:?} is not a URL like {DEFAULT_SERVER}");
    }
    if text.contains("://") { Ok(text.to_owned()) } else { Ok(format!("http://{text}")) }
}

/// The server to use: `--server` (or LECTERN_SERVER), else the session's,
/// else [`DEFAULT_SERVER`].
pub fn choose_server(flag: Option<&str>, session: Option<&Session>) -> anyhow::Result<String> {
    match (flag, session) {
        (Some(flag), _) => server_url(flag),
        (None, Some(session)) => Ok(session.server.clone()),
        (None, None) => Ok(DEFAULT_SERVER.to_owned()),
    }
}

/// The saved session, if there is one.
pub fn load(path: &Path) -> anyhow::Result<Option<Session>> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", path.display()));
        }
    };
    let session = Session::from_json(&text)
        .with_context(|| format!("{} is not a Lectern session; run `lectern login` again", path.display()))?;
    Ok(Some(session))
}

/// Saves `session`, readable and writable by its owner only.
pub fn save(path: &Path, session: &Session) -> anyhow::Result<()> {
    make_folder(path)?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    // A leftover from an interrupted save may have other permissions:
    // start afresh so `mode` applies.
    match fs::remove_file(&temporary) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).with_context(|| format!("cannot remove {}", temporary.display()));
        }
        _ => {}
    }
    let write = || -> std::io::Result<()> {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary)?;
        // The umask cannot widen 0600, but be explicit about the result.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(session.to_json().as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    };
    write().with_context(|| format!("cannot save the session in {}", path.display()))
}

/// Creates the folder of the session file at `path`, private to its owner.
fn make_folder(path: &Path) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    Ok(())
}

/// Holds the session's lock file (`<session file>.lock`, mode 0600) until
/// dropped: whoever refreshes holds it from reading the refresh token to
/// saving the new one, so a second command waits and then finds the new
/// session instead of spending the same refresh token again.
pub struct SessionLock {
    _file: fs::File,
}

/// Waits for, then takes, the lock of the session file at `path`. Waiting
/// blocks, so it runs off the async workers.
pub async fn lock(path: &Path) -> anyhow::Result<SessionLock> {
    make_folder(path)?;
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    tokio::task::spawn_blocking(move || -> anyhow::Result<SessionLock> {
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        file.lock().with_context(|| format!("cannot lock {}", lock_path.display()))?;
        Ok(SessionLock { _file: file })
    })
    .await
    .context("waiting for the session lock stopped")?
}

/// Deletes the saved session; false if there was none.
pub fn remove(path: &Path) -> anyhow::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error).with_context(|| format!("cannot delete {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            server: DEFAULT_SERVER.to_owned(),
            token: "secret-token".to_owned(),
            expires_at: DateTime::from_timestamp(1_800_000_000, 0),
            refresh_token: "secret-refresh".to_owned(),
            refresh_expires_at: DateTime::from_timestamp(1_800_039_600, 0),
            username: "li.lan".to_owned(),
            role: "librarian".to_owned(),
        }
    }

    fn os(text: &str) -> Option<OsString> {
        Some(OsString::from(text))
    }

    #[test]
    fn the_session_file_is_found_like_other_tools_config() {
        assert_eq!(
            resolve_path(os("/tmp/s.json"), os("/x"), os("/home/a")),
            Some(PathBuf::from("/tmp/s.json"))
        );
        assert_eq!(
            resolve_path(None, os("/x"), os("/home/a")),
            Some(PathBuf::from("/x/lectern/session.json"))
        );
        assert_eq!(
            resolve_path(os(""), os("relative"), os("/home/a")),
            Some(PathBuf::from("/home/a/.config/lectern/session.json"))
        );
        assert_eq!(resolve_path(None, None, None), None);
        assert_eq!(resolve_path(None, os(""), os("")), None);
    }

    #[test]
    fn server_urls_are_normalised() {
        assert_eq!(server_url("127.0.0.1:50051").unwrap(), "http://127.0.0.1:50051");
        assert_eq!(server_url(" http://lectern.local:50051/ ").unwrap(), "http://lectern.local:50051");
        assert!(server_url("").is_err());
        assert!(server_url("http://a b").is_err());
    }

    #[test]
    fn the_flag_wins_then_the_session_then_the_default() {
        let saved = Session { server: "http://desk:1".to_owned(), ..session() };
        assert_eq!(choose_server(Some("other:2"), Some(&saved)).unwrap(), "http://other:2");
        assert_eq!(choose_server(None, Some(&saved)).unwrap(), "http://desk:1");
        assert_eq!(choose_server(None, None).unwrap(), DEFAULT_SERVER);
    }

    #[test]
    fn a_session_round_trips_through_json_and_hides_its_token() {
        let saved = session();
        assert_eq!(Session::from_json(&saved.to_json()).unwrap(), saved);
        assert!(!format!("{saved:?}").contains("secret-token"));
        assert!(!format!("{saved:?}").contains("secret-refresh"));
        let no_expiry = Session { expires_at: None, refresh_expires_at: None, ..session() };
        assert_eq!(Session::from_json(&no_expiry.to_json()).unwrap(), no_expiry);
        assert!(Session::from_json("{}").is_err());
        assert!(Session::from_json("not json").is_err());
    }

    #[test]
    fn a_session_file_from_before_refresh_tokens_still_loads() {
        let old = r#"{
  "server": "http://127.0.0.1:50051",
  "access_token": "secret-token",
  "expire_time": "2027-01-15T08:00:00+00:00",
  "username": "li.lan",
  "role": "librarian"
}"#;
        let loaded = Session::from_json(old).unwrap();
        assert_eq!(loaded.token, "secret-token");
        assert_eq!(loaded.refresh_token, "");
        assert_eq!(loaded.refresh_expires_at, None);
        assert_eq!(loaded.freshness(loaded.expires_at.unwrap()), Freshness::Ended);
        let bad = old.replace("\"role\"", "\"refresh_expire_time\": \"tomorrow\", \"role\"");
        assert!(Session::from_json(&bad).unwrap_err().to_string().contains("refresh_expire_time"));
    }

    #[test]
    fn a_session_is_refreshed_a_minute_before_its_token_expires() {
        let saved = session();
        let expiry = saved.expires_at.unwrap();
        let seconds = chrono::Duration::seconds;
        assert_eq!(saved.freshness(expiry - seconds(61)), Freshness::Fresh);
        assert_eq!(saved.freshness(expiry - seconds(60)), Freshness::Refresh);
        assert_eq!(saved.freshness(expiry + seconds(3600)), Freshness::Refresh);
        // Twelve hours after signing in the session is over.
        let session_end = saved.refresh_expires_at.unwrap();
        assert_eq!(saved.freshness(session_end - seconds(1)), Freshness::Refresh);
        assert_eq!(saved.freshness(session_end), Freshness::Ended);
        // An old session without a refresh token is used to its last second.
        let old = Session { refresh_token: String::new(), refresh_expires_at: None, ..session() };
        assert_eq!(old.freshness(expiry - seconds(30)), Freshness::Fresh);
        assert_eq!(old.freshness(expiry), Freshness::Ended);
        // A refresh token without an expiry is left to the server to judge.
        let open_ended = Session { refresh_expires_at: None, ..session() };
        assert_eq!(open_ended.freshness(expiry + seconds(86_400)), Freshness::Refresh);
        // A token without an expiry is used until the server refuses it.
        let no_expiry = Session { expires_at: None, ..session() };
        assert_eq!(no_expiry.freshness(session_end + seconds(1)), Freshness::Fresh);
    }

    #[test]
    fn expiry_is_checked_against_the_clock() {
        let saved = session();
        let expiry = saved.expires_at.unwrap();
        assert!(!saved.is_expired(expiry - chrono::Duration::seconds(1)));
        assert!(saved.is_expired(expiry));
    }

    #[test]
    fn the_file_is_private_and_can_be_deleted() {
        let folder = std::env::temp_dir().join(format!("lectern-cli-{}", uuid::Uuid::now_v7()));
        let path = folder.join("nested").join("session.json");
        assert_eq!(load(&path).unwrap(), None);
        save(&path, &session()).unwrap();
        save(&path, &session()).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(&path).unwrap(), Some(session()));
        assert!(remove(&path).unwrap());
        assert!(!remove(&path).unwrap());
        fs::remove_dir_all(&folder).unwrap();
    }

    #[tokio::test]
    async fn the_lock_is_private_and_taken_again_once_released() {
        let folder = std::env::temp_dir().join(format!("lectern-cli-{}", uuid::Uuid::now_v7()));
        let path = folder.join("new").join("session.json");
        let held = lock(&path).await.unwrap();
        let mode = fs::metadata(folder.join("new").join("session.json.lock")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let waiting = tokio::spawn({
            let path = path.clone();
            async move { lock(&path).await.map(|_| ()) }
        });
        drop(held);
        tokio::time::timeout(std::time::Duration::from_secs(10), waiting).await.unwrap().unwrap().unwrap();
        fs::remove_dir_all(&folder).unwrap();
    }
}
