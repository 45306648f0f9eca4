//! Signing in and out at the desk: `login` (with the first-sign-in password
//! change), `logout` and `whoami`. Passwords are read without echo or from
//! the environment for scripts, and never printed; neither is the token.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use chrono::Utc;
use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::gateway::v1::WhoAmIRequest;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{
    ChangePasswordRequest, LoginRequest, LoginResponse, LogoutRequest, StaffCredentials, login_request,
};
use tonic::Code;

use super::Connection;
use super::desk::{Desk, channel, renew, request};
use super::format::{here_minute, remaining};
use super::session::{self, Freshness, Session, choose_server};
use super::status::describe;

/// How many times to ask for a new password whose two entries differ.
const NEW_PASSWORD_TRIES: usize = 3;

/// Shortest password the reader service accepts (identity.proto).
const MIN_PASSWORD_CHARS: usize = 10;

/// Options of `lectern login`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// Your staff sign-in name, e.g. li.lan (asked for if not given)
    #[arg(long, short = 'u', env = "LECTERN_USERNAME", value_name = "USERNAME")]
    pub username: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern login`.
pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let path = session::session_path()?;
    // A broken session file must not stop anyone from signing in afresh.
    let previous = session::load(&path).ok().flatten();
    let server = choose_server(args.connection.server.as_deref(), previous.as_ref())?;
    let username = match args.username.filter(|name| !name.trim().is_empty()) {
        Some(name) => name.trim().to_owned(),
        None => ask_line("Username: ").await?,
    };
    let password = secret("LECTERN_PASSWORD", "Password: ").await?;
    let session = sign_in(&path, server, username, password).await?;
    print!("{}", signed_in_line(&session));
    Ok(())
}

/// Signs `username` in at `server` with `password` (choosing a new one if
/// it was a one-time password) and saves the session in the file at `path`.
pub async fn sign_in(
    path: &Path,
    server: String,
    username: String,
    password: String,
) -> anyhow::Result<Session> {
    let channel = channel(&server)?;
    let message = LoginRequest {
        credentials: Some(login_request::Credentials::Staff(StaffCredentials {
            username: username.clone(),
            password: password.clone(),
        })),
    };
    let mut answer = GatewayServiceClient::new(channel.clone())
        .login(request(message, None))
        .await
        .map_err(|status| login_failure(&status, &server))?
        .into_inner();

    if answer.password_change_required {
        eprintln!(
            "This was a one-time password: choose your own now (at least {MIN_PASSWORD_CHARS} characters)."
        );
        let new_password = new_password().await?;
        let change = ChangePasswordRequest { current_password: password, new_password };
        answer = IdentityServiceClient::new(channel)
            .change_password(request(change, Some(&answer.access_token)))
            .await
            .map_err(|status| anyhow!("password not changed: {}", describe(&status, &server)))?
            .into_inner()
            .login
            .context("the server changed the password but sent no new session: run `lectern login` with the new password")?;
        println!("password changed");
    }

    let session = session_from(&answer, server, username);
    // A sign-in while another command renews the old session waits for it,
    // so the renewal cannot overwrite the new session.
    let _lock = session::lock(path).await?;
    session::save(path, &session)?;
    Ok(session)
}

/// Turns a failed sign-in into words. A plain UNAUTHENTICATED here means
/// wrong credentials, not an expired session.
fn login_failure(status: &tonic::Status, server: &str) -> anyhow::Error {
    if lectern_core::refusal::Refusal::from_status(status).is_none() && status.code() == Code::Unauthenticated
    {
        return anyhow!("sign-in refused: {}", super::table::clean(status.message()));
    }
    anyhow!(describe(status, server))
}

/// The session to save from a sign-in answer.
fn session_from(answer: &LoginResponse, server: String, username: String) -> Session {
    Session::from_login(answer, server, username)
}

/// "signed in as li.lan (librarian) at URL until 2026-11-28 18:00\n".
fn signed_in_line(session: &Session) -> String {
    let until = session
        .expires_at
        .map(|time| format!(" until {} (local time)", here_minute(time)))
        .unwrap_or_default();
    format!("signed in as {} ({}) at {}{until}\n", session.username, session.role, session.server)
}

/// The new password: LECTERN_NEW_PASSWORD, or asked twice without echo.
async fn new_password() -> anyhow::Result<String> {
    if let Some(password) = from_env("LECTERN_NEW_PASSWORD") {
        return Ok(password);
    }
    for _ in 0..NEW_PASSWORD_TRIES {
        let first = ask_secret("New password: ").await?;
        if first.chars().count() < MIN_PASSWORD_CHARS {
            eprintln!("too short: at least {MIN_PASSWORD_CHARS} characters");
            continue;
        }
        let second = ask_secret("New password again: ").await?;
        if first == second {
            return Ok(first);
        }
        eprintln!("the two passwords differ; try again");
    }
    bail!("password not changed: no matching new password given")
}

/// A secret from `variable`, else asked on the terminal without echo.
async fn secret(variable: &str, prompt: &'static str) -> anyhow::Result<String> {
    match from_env(variable) {
        Some(value) => Ok(value),
        None => ask_secret(prompt).await,
    }
}

/// A non-empty environment variable.
fn from_env(variable: &str) -> Option<String> {
    std::env::var(variable).ok().filter(|value| !value.is_empty())
}

/// Asks on the terminal without echo. Blocking terminal reads run off the
/// async workers.
async fn ask_secret(prompt: &'static str) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || rpassword::prompt_password(prompt))
        .await
        .context("the password prompt stopped")?
        .context("cannot ask for a password here: set LECTERN_PASSWORD (and LECTERN_NEW_PASSWORD)")
}

/// Asks for one line on standard input.
async fn ask_line(prompt: &'static str) -> anyhow::Result<String> {
    let line = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        use std::io::Write as _;
        let mut stderr = std::io::stderr();
        stderr.write_all(prompt.as_bytes())?;
        stderr.flush()?;
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            // End of input: finish the prompt's line before the error.
            stderr.write_all(b"\n")?;
        }
        Ok(line)
    })
    .await
    .context("the prompt stopped")?
    .context("cannot read the username: give --username")?;
    let line = line.trim();
    if line.is_empty() {
        bail!("no username given: use --username");
    }
    Ok(line.to_owned())
}

/// `lectern logout`: ends the session at the server (its tokens stop
/// working everywhere), then forgets it here. An expired access token is
/// renewed first, since the session lives on as long as its refresh token.
/// The saved session is forgotten even when the server cannot be reached:
/// the session then ends when it expires.
pub async fn logout() -> anyhow::Result<()> {
    println!("{}", sign_out(&session::session_path()?, Utc::now()).await?);
    Ok(())
}

/// [`logout`] with the session file at `path`, at `now`; the line to show.
pub async fn sign_out(path: &Path, now: chrono::DateTime<Utc>) -> anyhow::Result<String> {
    // A broken session file is forgotten like a good one.
    let saved = session::load(path).ok().flatten();
    let ended_at_server = match saved {
        Some(saved) => end_session(path, saved, now).await,
        None => Ok(()),
    };
    if !session::remove(path)? {
        return Ok("not signed in: nothing to do".to_owned());
    }
    Ok(match ended_at_server {
        Ok(()) => "signed out".to_owned(),
        Err(problem) => {
            format!(
                "signed out here; the server did not confirm ({problem}): the session ends when it expires"
            )
        }
    })
}

/// Calls `Logout` with the saved session's token, renewed if need be.
async fn end_session(path: &Path, saved: Session, now: chrono::DateTime<Utc>) -> anyhow::Result<()> {
    let saved = match saved.freshness(now) {
        Freshness::Fresh => saved,
        Freshness::Ended => return Ok(()),
        Freshness::Refresh => match renew(path, now).await? {
            Some(renewed) => renewed,
            // Over already: nothing left to end.
            None => return Ok(()),
        },
    };
    match IdentityServiceClient::new(channel(&saved.server)?)
        .logout(request(LogoutRequest {}, Some(&saved.token)))
        .await
    {
        Ok(_) => Ok(()),
        // Ended already (signed out elsewhere, or the password changed).
        Err(status) if reason_of(&status) == Some(Reason::SessionEnded) => Ok(()),
        Err(status) => Err(anyhow!(describe(&status, &saved.server))),
    }
}

/// `lectern whoami`.
pub async fn whoami(connection: Connection) -> anyhow::Result<()> {
    let desk = Desk::open(&connection).await?;
    let answer = desk
        .gateway()
        .who_am_i(desk.request(WhoAmIRequest {}))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    let role = if answer.role.is_empty() { answer.kind.clone() } else { answer.role.replace('_', " ") };
    let name = if desk.session.username.is_empty() {
        answer.subject_id.clone()
    } else {
        desk.session.username.clone()
    };
    println!("signed in as {name} ({role}) at {}", desk.server);
    println!("account id: {}", answer.subject_id);
    let now = Utc::now();
    let until = now + chrono::Duration::seconds(answer.expires_in_seconds);
    print!("{}", session_lines(&desk.session, now, until, answer.expires_in_seconds));
    Ok(())
}

/// The lines of `whoami` about how long the session lasts: the access
/// token's end (`token_until`, `token_seconds` from now) and, if it can be
/// renewed, until when.
fn session_lines(
    session: &Session,
    now: chrono::DateTime<Utc>,
    token_until: chrono::DateTime<Utc>,
    token_seconds: i64,
) -> String {
    let token = format!("{} (in {})", here_minute(token_until), remaining(token_seconds));
    if session.refresh_token.is_empty() {
        return format!("session ends: {token}; run `lectern login` again then\n");
    }
    let renewable = match session.refresh_expires_at {
        Some(until) => {
            format!("{} (in {})", here_minute(until), remaining((until - now).num_seconds()))
        }
        None => "as long as the server allows".to_owned(),
    };
    format!("token renewed automatically, next at: {token}\nsession can be renewed until: {renewable}\n")
}

#[cfg(test)]
mod tests {
    use lectern_proto::reader::v1::StaffRole;
    use prost_types::Timestamp;

    use super::super::format::utc;
    use super::*;

    #[test]
    fn a_sign_in_becomes_a_session_without_showing_the_token() {
        let answer = LoginResponse {
            access_token: "tok".into(),
            expire_time: Some(Timestamp { seconds: 1_800_000_000, nanos: 0 }),
            password_change_required: false,
            subject_id: "0190".into(),
            role: StaffRole::Librarian as i32,
            refresh_token: "refresh".into(),
            refresh_expire_time: Some(Timestamp { seconds: 1_800_039_600, nanos: 0 }),
            ..LoginResponse::default()
        };
        let session = session_from(&answer, "http://desk:1".into(), "li.lan".into());
        assert_eq!(session.role, "librarian");
        assert_eq!(session.expires_at, utc(1_800_000_000, 0));
        assert_eq!(session.refresh_token, "refresh");
        let line = signed_in_line(&session);
        assert!(line.starts_with("signed in as li.lan (librarian) at http://desk:1 until "));
        assert!(!line.contains("tok"));
        assert!(!line.contains("refresh"));
        assert_eq!(session.refresh_expires_at, utc(1_800_039_600, 0));
    }

    #[test]
    fn whoami_says_until_when_the_session_can_be_renewed() {
        let now = utc(1_800_000_000, 0).unwrap();
        let token_until = now + chrono::Duration::minutes(59);
        let session = Session {
            server: "http://desk:1".into(),
            token: "tok".into(),
            expires_at: Some(token_until),
            refresh_token: "refresh".into(),
            refresh_expires_at: Some(now + chrono::Duration::hours(11)),
            username: "li.lan".into(),
            role: "librarian".into(),
        };
        let lines = session_lines(&session, now, token_until, 59 * 60);
        assert!(lines.contains("(in 59 min)"), "{lines}");
        assert!(lines.contains("session can be renewed until: "), "{lines}");
        assert!(lines.ends_with("(in 11 h)\n"), "{lines}");
        assert!(!lines.contains("refresh\n") && !lines.contains("tok "));
        let old = Session { refresh_token: String::new(), refresh_expires_at: None, ..session };
        let lines = session_lines(&old, now, token_until, 59 * 60);
        assert!(
            lines.starts_with("session ends: ") && lines.contains("run `lectern login` again"),
            "{lines}"
        );
    }

    #[test]
    fn wrong_credentials_are_not_an_expired_session() {
        let error = login_failure(&tonic::Status::unauthenticated("wrong username or password"), "x");
        assert_eq!(error.to_string(), "sign-in refused: wrong username or password");
    }
}
