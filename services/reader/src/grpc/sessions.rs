//! Sessions at the identity service: opening one at each sign-in,
//! refreshing it (re-reading the account, reader or device, so a disabled
//! holder or a changed role takes effect at the next refresh), signing
//! out, the list of ended sessions other servers fetch, and rotating the
//! token signing key.

use lectern_core::identity::{Grant, Principal};
use lectern_core::validate::FieldError;
use lectern_proto::reader::v1::{
    ListRevokedSessionsRequest, ListRevokedSessionsResponse, LoginResponse, LogoutResponse,
    RefreshSessionRequest, VerificationKey,
};

use super::Identity;
use crate::audit::{self, Entry, action, outcome};
use crate::db::readers::STATUS_ACTIVE;
use crate::db::{self, SessionRow, StaffRow};
use crate::error::{Error, ReaderRefusal};
use crate::sessions::{self, Exchange};
use crate::{convert, tokens};

/// Longer than any refresh token Lectern hands out.
const MAX_REFRESH_TOKEN_CHARS: usize = 200;

impl Identity {
    /// Opens a session for `grant` and returns its first token.
    pub(super) async fn open_session(&self, grant: Grant, role: i32) -> Result<LoginResponse, Error> {
        self.open_session_through(grant, role, None).await
    }

    /// Opens a session for `grant`, signed in through WeChat binding
    /// `binding_id` if there is one (removing the binding ends the
    /// session), and returns its first token.
    pub(super) async fn open_session_through(
        &self,
        grant: Grant,
        role: i32,
        binding_id: Option<&str>,
    ) -> Result<LoginResponse, Error> {
        let now = self.clock.now().naive_utc();
        let lifetime = self.session_lifetimes.of(grant.kind, grant.device_id.is_some(), self.issuer.ttl());
        let (mut session, refresh_token) =
            sessions::new_session(&grant.subject, grant.kind, grant.device_id.as_deref(), now, lifetime);
        session.binding_id = binding_id.map(str::to_owned);
        let stored = session.clone();
        let newest = self
            .db
            .write(move |connection| -> Result<_, Error> {
                db::sessions::insert(connection, &stored)?;
                tokens::current_key(connection, now)
            })
            .await?;
        self.issuer.adopt(newest).await?;
        let grant = grant.in_session(&session.id);
        self.issuer.in_session(&grant, role, &session, refresh_token)
    }

    /// The grant of a staff account with the schools it works for, read
    /// afresh, in one place so that sign-in, password change and refresh
    /// agree (a change of schools counts from the next refresh).
    pub(super) async fn staff_grant(&self, account: &StaffRow) -> Result<(Grant, i32), Error> {
        let staff_id = account.id.clone();
        let schools = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::staff::schools_of(connection, &staff_id)?) })
            .await?;
        tokens::staff_grant(account, schools)
    }

    /// `RefreshSession`: a new access token and refresh token for the
    /// session of `request.refresh_token` (the same refresh token again
    /// for a token exchanged moments ago, see [`sessions::GRACE`]).
    pub(super) async fn refresh(&self, request: RefreshSessionRequest) -> Result<LoginResponse, Error> {
        let token = request.refresh_token.trim().to_owned();
        if token.is_empty() {
            return Err(FieldError::new("refresh_token", "is required").into());
        }
        if token.len() > MAX_REFRESH_TOKEN_CHARS {
            return Err(ReaderRefusal::SessionEnded.into());
        }
        let now = self.clock.now().naive_utc();
        let key = self.successor_key.clone();
        let exchanged = self
            .db
            .write(move |connection| -> Result<_, Error> {
                let exchanged = sessions::exchange(connection, &token, &key, now)?;
                if let Exchange::Reused { subject_id, .. } = &exchanged {
                    audit::record(
                        connection,
                        Entry::own(action::REFRESH, outcome::REUSED, Some(subject_id)),
                        now,
                    )?;
                }
                Ok(exchanged)
            })
            .await?;
        let (session, new_token) = match exchanged {
            Exchange::Rotated { session, new_token } => (session, new_token),
            Exchange::Repeated { session, new_token } => {
                tracing::info!(session.id = %session.id, "refresh token exchanged again within its grace: same successor");
                (session, new_token)
            }
            Exchange::Reused { session_id, subject_id } => {
                tracing::warn!(session.id = %session_id, subject.id = %subject_id, "a spent refresh token was used again: session ended");
                return Err(ReaderRefusal::SessionEnded.into());
            }
            Exchange::Ended => return Err(ReaderRefusal::SessionEnded.into()),
        };
        let Some((grant, role)) = self.current_grant(&session).await? else {
            let session_id = session.id.clone();
            self.db
                .write(move |connection| -> Result<_, Error> {
                    Ok(db::sessions::revoke(
                        connection,
                        &session_id,
                        sessions::reason::SUBJECT_DISABLED,
                        now,
                    )?)
                })
                .await?;
            tracing::info!(session.id = %session.id, "session ended: its holder may no longer sign in");
            return Err(ReaderRefusal::AccountLocked.into());
        };
        let newest = self
            .db
            .run(move |connection| -> Result<_, Error> { tokens::current_key(connection, now) })
            .await?;
        self.issuer.adopt(newest).await?;
        let grant = grant.in_session(&session.id);
        self.issuer.in_session(&grant, role, &session, new_token)
    }

    /// What the holder of `session` may do now (`None` if they may no
    /// longer sign in at all), read afresh from the database.
    async fn current_grant(&self, session: &SessionRow) -> Result<Option<(Grant, i32)>, Error> {
        let subject_id = session.subject_id.clone();
        let kind = session.subject_kind.clone();
        let device_id = session.device_id.clone();
        let binding_id = session.binding_id.clone();
        let found = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(match kind.as_str() {
                    "staff" => db::staff::find_by_id(connection, &subject_id)?
                        .filter(|account| !account.disabled)
                        .map(Holder::Staff),
                    "reader" => {
                        let reader = db::readers::reader_by_id(connection, &subject_id)?
                            .filter(|reader| reader.status == STATUS_ACTIVE);
                        let device = match &device_id {
                            Some(device_id) => db::devices::find(connection, device_id)?,
                            None => None,
                        };
                        // A session through a WeChat binding lasts as long as the binding.
                        let family = match &binding_id {
                            Some(binding_id) => match db::family::find_binding(connection, binding_id)? {
                                Some(binding) if binding.reader_id == subject_id => Some(binding.account_id),
                                _ => return Ok(None),
                            },
                            None => None,
                        };
                        match (reader, device_id) {
                            (Some(reader), None) => {
                                Some(Holder::Reader(reader.id, reader.school_id, None, family))
                            }
                            (Some(reader), Some(_)) => device
                                .filter(|device| !device.disabled && device.school_id == reader.school_id)
                                .map(|device| {
                                    Holder::Reader(reader.id, reader.school_id, Some(device.id), None)
                                }),
                            (None, _) => None,
                        }
                    }
                    "device" => db::devices::find(connection, &subject_id)?
                        .filter(|device| !device.disabled)
                        .map(|device| Holder::Device(device.id, device.school_id)),
                    _ => None,
                })
            })
            .await?;
        Ok(match found {
            None => None,
            Some(Holder::Staff(account)) => Some(self.staff_grant(&account).await?),
            Some(Holder::Reader(reader_id, school_id, device_id, family_account)) => {
                let grant = Grant::reader(&reader_id, &school_id);
                let grant = match device_id {
                    Some(device_id) => grant.at_device(&device_id),
                    None => grant,
                };
                let grant = match family_account {
                    Some(account_id) => grant.in_family(&account_id),
                    None => grant,
                };
                Some((grant, 0))
            }
            Some(Holder::Device(device_id, school_id)) => Some((Grant::device(&device_id, &school_id), 0)),
        })
    }

    /// `Logout`: ends the caller's session.
    pub(super) async fn end_session(&self, caller: Principal) -> Result<LogoutResponse, Error> {
        let session_id = caller.session_id.ok_or(ReaderRefusal::NoSession)?;
        let now = self.clock.now().naive_utc();
        let subject_id = caller.subject_id;
        let ended = session_id.clone();
        self.db
            .write(move |connection| -> Result<_, Error> {
                if db::sessions::revoke(connection, &ended, sessions::reason::LOGOUT, now)? {
                    audit::record(
                        connection,
                        Entry::own(action::LOGOUT, outcome::SUCCEEDED, Some(&subject_id)),
                        now,
                    )?;
                }
                Ok(())
            })
            .await?;
        tracing::info!(session.id = %session_id, "signed out");
        Ok(LogoutResponse { session_id })
    }

    /// `ListRevokedSessions`: sessions ended recently enough that access
    /// tokens of theirs may not have expired yet (and, when asked, only
    /// those ended since `request.since`).
    pub(super) async fn revoked_sessions(
        &self,
        request: ListRevokedSessionsRequest,
    ) -> Result<ListRevokedSessionsResponse, Error> {
        let now = self.clock.now().naive_utc();
        let window_start = now - tokens::retirement_delay(self.issuer.ttl());
        let asked = request.since.and_then(|time| chrono::DateTime::from_timestamp(time.seconds, 0));
        let since = asked.map_or(window_start, |asked| asked.naive_utc().max(window_start));
        let session_ids = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::sessions::revoked_since(connection, since)?)
            })
            .await?;
        Ok(ListRevokedSessionsResponse { session_ids, as_of: Some(lectern_core::time::timestamp(now)) })
    }

    /// `RotateSigningKey`: stores a new key, published at once and signing
    /// [`tokens::PUBLISH_DELAY`] later, on every replica (each reads the
    /// current key whenever it signs); verifiers fetch it when they first
    /// see its key id.
    pub(super) async fn rotate_key(&self, caller: &Principal) -> Result<VerificationKey, Error> {
        let now = self.clock.now();
        let ttl = self.issuer.ttl();
        let actor = caller.subject_id.clone();
        let row = self
            .db
            .write(move |connection| -> Result<_, Error> {
                let row = tokens::store_new_key(connection, now, ttl)?;
                let entry = Entry::about(action::KEY_ROTATION, outcome::SUCCEEDED, &actor, &row.key_id);
                audit::record(connection, entry, now.naive_utc())?;
                Ok(row)
            })
            .await?;
        tracing::info!(key.id = %row.key_id, "token signing key rotated; it signs once published");
        Ok(convert::verification_key(row))
    }
}

/// Who a session belongs to, as the database has them now.
enum Holder {
    Staff(db::StaffRow),
    /// Reader id, school, the device they signed in at, and the WeChat
    /// account they signed in through.
    Reader(String, String, Option<String>, Option<String>),
    /// Device id and school.
    Device(String, String),
}
