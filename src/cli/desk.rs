//! A signed-in connection to the gateway: the channel, the bearer token,
//! a 10-second deadline on every call, fresh request ids for changes, and
//! one retry of a change whose answer was lost (safe because the retry
//! carries the same request id, so the server answers it from memory).
//! Opening the desk renews an access token about to expire with the
//! session's refresh token, so a librarian signs in once a day.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};
use lectern_core::refusal::{Reason, reason_of};
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::collection_service_client::CollectionServiceClient;
use lectern_proto::catalog::v1::stocktake_service_client::StocktakeServiceClient;
use lectern_proto::circulation::v1::circulation_rule_service_client::CirculationRuleServiceClient;
use lectern_proto::circulation::v1::fee_service_client::FeeServiceClient;
use lectern_proto::circulation::v1::hold_service_client::HoldServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::school_calendar_service_client::SchoolCalendarServiceClient;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::notification::v1::notification_service_client::NotificationServiceClient;
use lectern_proto::notification::v1::reminder_service_client::ReminderServiceClient;
use lectern_proto::reader::v1::RefreshSessionRequest;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::roster_service_client::RosterServiceClient;
use lectern_proto::reader::v1::school_year_service_client::SchoolYearServiceClient;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};

use super::Connection;
use super::session::{self, Freshness, Session, choose_server};
use super::status::{SIGNED_OUT, describe};

/// The deadline of every call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for a TCP connection before saying the server is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause before the one retry of a change.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// A lazily connecting channel to the gateway at `server`.
pub fn channel(server: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(server.to_owned())
        .map_err(|_| anyhow!("--server {server:?} is not a URL like {}", session::DEFAULT_SERVER))?;
    Ok(endpoint.connect_timeout(CONNECT_TIMEOUT).timeout(CALL_TIMEOUT).connect_lazy())
}

/// A request with the deadline and, if given, the bearer token.
pub fn request<T>(message: T, token: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(CALL_TIMEOUT);
    if let Some(token) = token {
        lectern_core::client::set_bearer(request.metadata_mut(), token);
    }
    request
}

/// A fresh request id for one change; its retries reuse it.
pub fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether a failed change may have reached the server (or never left)
/// and is worth sending once more with the same request id.
pub fn worth_retrying(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled)
}

/// Runs `call` and, if it failed in transit, once more. Only for changes
/// whose message carries a request id.
pub async fn retrying<T, F, Fut>(call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    retrying_after(RETRY_PAUSE, call).await
}

/// [`retrying`] with the pause before the retry given.
async fn retrying_after<T, F, Fut>(pause: Duration, mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    match call().await {
        Err(status) if worth_retrying(&status) => {
            tokio::time::sleep(pause).await;
            call().await
        }
        answer => answer,
    }
}

/// The signed-in desk: where to call and with which token.
#[derive(Debug, Clone)]
pub struct Desk {
    /// The gateway's URL, for messages.
    pub server: String,
    /// The saved session.
    pub session: Session,
    channel: Channel,
}

impl Desk {
    /// The desk of the saved session, refusing one made at another server
    /// than `--server` names (the token is only sent to the server that
    /// issued it). An access token that has expired, or expires within
    /// [`session::REFRESH_MARGIN`], is first renewed with the refresh token
    /// and the new session saved; a session that cannot be renewed any more
    /// is refused.
    pub async fn open(connection: &Connection) -> anyhow::Result<Self> {
        Self::open_at(connection, &session::session_path()?, Utc::now()).await
    }

    /// [`Desk::open`] with the session file at `path`, at `now` (the suite
    /// tests pass a file of their own and the suite's clock).
    pub async fn open_at(connection: &Connection, path: &Path, now: DateTime<Utc>) -> anyhow::Result<Self> {
        let Some(session) = session::load(path)? else {
            bail!(SIGNED_OUT);
        };
        let server = choose_server(connection.server.as_deref(), Some(&session))?;
        if server != session.server {
            bail!(
                "you are signed in at {}, not {server}: run `lectern login --server {server}`",
                session.server
            );
        }
        let session = match session.freshness(now) {
            Freshness::Fresh => session,
            Freshness::Ended => bail!(SIGNED_OUT),
            Freshness::Refresh => renew(path, now).await?.ok_or_else(|| anyhow!(SESSION_ENDED))?,
        };
        // A sign-in elsewhere may have replaced the session meanwhile.
        if server != session.server {
            bail!(
                "you are signed in at {}, not {server}: run `lectern login --server {server}`",
                session.server
            );
        }
        let channel = channel(&server)?;
        Ok(Self { server, session, channel })
    }

    /// `message` with the deadline and the session's token.
    pub fn request<T>(&self, message: T) -> Request<T> {
        request(message, Some(&self.session.token))
    }

    /// The error to end the command with.
    pub fn fail(&self, status: Status) -> anyhow::Error {
        anyhow!(describe(&status, &self.server))
    }

    pub fn gateway(&self) -> GatewayServiceClient<Channel> {
        GatewayServiceClient::new(self.channel.clone())
    }

    pub fn identity(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.channel.clone())
    }

    pub fn readers(&self) -> ReaderServiceClient<Channel> {
        ReaderServiceClient::new(self.channel.clone())
    }

    /// WeChat bindings and binding codes.
    pub fn family(&self) -> FamilyServiceClient<Channel> {
        FamilyServiceClient::new(self.channel.clone())
    }

    /// A roster client on a channel of its own whose calls may take up to
    /// `timeout` (an import uploads megabytes and streams its progress).
    pub fn roster(&self, timeout: Duration) -> anyhow::Result<RosterServiceClient<Channel>> {
        let endpoint = Endpoint::from_shared(self.server.clone())
            .map_err(|_| anyhow!("--server {:?} is not a URL", self.server))?;
        let channel = endpoint.connect_timeout(CONNECT_TIMEOUT).timeout(timeout).connect_lazy();
        Ok(RosterServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024))
    }

    pub fn school_year(&self) -> SchoolYearServiceClient<Channel> {
        SchoolYearServiceClient::new(self.channel.clone())
    }

    pub fn catalog(&self) -> CatalogServiceClient<Channel> {
        CatalogServiceClient::new(self.channel.clone())
    }

    pub fn collection(&self) -> CollectionServiceClient<Channel> {
        CollectionServiceClient::new(self.channel.clone())
    }

    pub fn stocktake(&self) -> StocktakeServiceClient<Channel> {
        StocktakeServiceClient::new(self.channel.clone())
    }

    /// Loans: check-out, check-in, renewals, loan changes, reports.
    pub fn loans(&self) -> LoanServiceClient<Channel> {
        LoanServiceClient::new(self.channel.clone())
    }

    /// Holds, the hold shelf and the pull list.
    pub fn holds(&self) -> HoldServiceClient<Channel> {
        HoldServiceClient::new(self.channel.clone())
    }

    /// The fees ledger.
    pub fn fees(&self) -> FeeServiceClient<Channel> {
        FeeServiceClient::new(self.channel.clone())
    }

    /// Circulation rules.
    pub fn rules(&self) -> CirculationRuleServiceClient<Channel> {
        CirculationRuleServiceClient::new(self.channel.clone())
    }

    /// School calendars.
    pub fn calendars(&self) -> SchoolCalendarServiceClient<Channel> {
        SchoolCalendarServiceClient::new(self.channel.clone())
    }

    pub fn notifications(&self) -> NotificationServiceClient<Channel> {
        NotificationServiceClient::new(self.channel.clone())
    }

    /// Reminders: what is due, the delivery log.
    pub fn reminders(&self) -> ReminderServiceClient<Channel> {
        ReminderServiceClient::new(self.channel.clone())
    }
}

/// The session of the file at `path`, renewed if it still needs it once
/// this command holds the session lock: another command may have renewed
/// it meanwhile, and its refresh token is then spent. The new session is
/// saved before anything else uses it. None when the session is over (the
/// server refused to renew it, or it was deleted or ended meanwhile). The
/// refresh token goes only to the server that issued it.
pub async fn renew(path: &Path, now: DateTime<Utc>) -> anyhow::Result<Option<Session>> {
    let _lock = session::lock(path).await?;
    let Some(session) = session::load(path)? else {
        return Ok(None);
    };
    match session.freshness(now) {
        Freshness::Fresh => return Ok(Some(session)),
        Freshness::Ended => return Ok(None),
        Freshness::Refresh => {}
    }
    // Never retried: a refresh that reached the server has spent the
    // token, and spending it again would end the session.
    let message = RefreshSessionRequest { refresh_token: session.refresh_token.clone() };
    let answer = match IdentityServiceClient::new(channel(&session.server)?)
        .refresh_session(request(message, None))
        .await
    {
        Ok(answer) => answer.into_inner(),
        Err(status) if session_over(&status) => return Ok(None),
        // Lost in transit: a token with seconds left still works.
        Err(status) if worth_retrying(&status) && !session.is_expired(now) => return Ok(Some(session)),
        Err(status) => bail!(describe(&status, &session.server)),
    };
    let renewed = Session::from_login(&answer, session.server.clone(), session.username.clone());
    session::save(path, &renewed)?;
    Ok(Some(renewed))
}

/// What to say when the server will not renew the session.
pub const SESSION_ENDED: &str = "your session has ended (signed out, password changed, or the day's \
    session is over): run `lectern login`";

/// Whether a refused refresh means the session is over, rather than the
/// server being unreachable or busy.
fn session_over(status: &Status) -> bool {
    matches!(reason_of(status), Some(Reason::SessionEnded | Reason::TokenInvalid))
        || status.code() == Code::Unauthenticated
}

/// Pages of a list call: calls `page` with each page token until the
/// server says there is no next page, at most `max_pages` times.
pub async fn all_pages<T, F, Fut>(max_pages: usize, mut page: F) -> Result<Vec<T>, Status>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String), Status>>,
{
    let mut items = Vec::new();
    let mut token = String::new();
    for _ in 0..max_pages {
        let (mut batch, next) = page(token).await?;
        items.append(&mut batch);
        if next.is_empty() {
            break;
        }
        token = next;
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test]
    async fn a_change_lost_in_transit_is_sent_once_more() {
        let calls = Cell::new(0);
        let answer = retrying_after(Duration::ZERO, || {
            calls.set(calls.get() + 1);
            let attempt = calls.get();
            async move { if attempt == 1 { Err(Status::unavailable("down")) } else { Ok(attempt) } }
        })
        .await;
        assert_eq!(answer.unwrap(), 2);
        assert_eq!(calls.get(), 2);
    }

    #[tokio::test]
    async fn a_refusal_is_not_retried() {
        let calls = Cell::new(0);
        let answer: Result<(), Status> = retrying_after(Duration::ZERO, || {
            calls.set(calls.get() + 1);
            async { Err(Status::failed_precondition("on loan")) }
        })
        .await;
        assert_eq!(answer.unwrap_err().code(), Code::FailedPrecondition);
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn pages_are_followed_to_the_end_but_not_forever() {
        let all = all_pages(10, |token| async move {
            Ok(match token.as_str() {
                "" => (vec![1, 2], "a".to_owned()),
                "a" => (vec![3], "b".to_owned()),
                _ => (vec![4], String::new()),
            })
        })
        .await
        .unwrap();
        assert_eq!(all, vec![1, 2, 3, 4]);
        let capped = all_pages(3, |_| async { Ok((vec![0], "again".to_owned())) }).await.unwrap();
        assert_eq!(capped.len(), 3);
    }

    #[test]
    fn requests_carry_the_deadline_and_token() {
        let with = request((), Some("abc"));
        assert_eq!(
            with.metadata().get("authorization").and_then(|value| value.to_str().ok()),
            Some("Bearer abc")
        );
        assert!(with.metadata().get("grpc-timeout").is_some());
        assert!(request((), None).metadata().get("authorization").is_none());
    }

    #[test]
    fn a_refused_refresh_means_the_session_is_over_but_an_outage_does_not() {
        use lectern_core::refusal::Refusal;

        let ended: Status = Refusal::new(Reason::SessionEnded, "ended").into();
        assert!(session_over(&ended));
        assert!(session_over(&Status::unauthenticated("no")));
        assert!(!session_over(&Status::unavailable("down")));
        let locked: Status = Refusal::new(Reason::AccountLocked, "locked").into();
        assert!(!session_over(&locked));
    }

    #[test]
    fn request_ids_are_fresh() {
        assert_ne!(request_id(), request_id());
    }
}
