//! The signed-in session between two `lectern` commands: which server, the
//! bearer token and when it expires, kept in a JSON file only its owner can
//! read (mode 0600, written whole and renamed into place so a crash never
//! leaves half a token behind).

use std::ffi::OsString;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};

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
            .field("username", &self.username)
            .field("role", &self.role)
            .finish()
    }
}

impl Session {
    /// Whether the token has expired at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expires_at| expires_at <= now)
    }

    /// The session as the JSON stored in the file.
    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "server": self.server,
            "access_token": self.token,
            "expire_time": self.expires_at.map(|time| time.to_rfc3339()),
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
        let expires_at = match value.get("expire_time").and_then(serde_json::Value::as_str) {
            Some(time) => Some(
                DateTime::parse_from_rfc3339(time)
                    .context("expire_time is not an RFC 3339 time")?
                    .with_timezone(&Utc),
            ),
            None => None,
        };
        Ok(Self { server, token, expires_at, username: text_field("username"), role: text_field("role") })
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
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
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
        let no_expiry = Session { expires_at: None, ..session() };
        assert_eq!(Session::from_json(&no_expiry.to_json()).unwrap(), no_expiry);
        assert!(Session::from_json("{}").is_err());
        assert!(Session::from_json("not json").is_err());
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
}
