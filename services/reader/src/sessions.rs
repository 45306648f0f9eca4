//! Sign-in sessions: every interactive sign-in opens one, its access
//! tokens name it (`sid`), and its refresh token buys new access tokens
//! until the session expires or ends. Refresh tokens carry 256 bits
//! (random at sign-in, derived afterwards) and are stored only as SHA-256
//! hashes: they are high-entropy, so a slow hash adds nothing.
//!
//! Each refresh hands out the presented token's successor, derived from it
//! with a key every replica shares ([`SuccessorKey`]): the same token always
//! has the same successor, yet nobody without the key can compute it. That
//! buys a short grace ([`GRACE`]): two tabs, parallel requests or two
//! replicas renewing with the same token at once all get the same answer —
//! the one that rotated, and the others the same successor again, without a
//! further rotation. Presenting a spent token later, or one whose session
//! has rotated again since (a grandparent), means a copy is in someone
//! else's hands, and the whole session ends (reuse detection).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use lectern_common::db::DbConnection;
use lectern_core::identity::SubjectKind;
use sha2::{Digest, Sha256};

use crate::db::{self, SessionRow};
use crate::error::Error;

/// Why a session ended, as stored.
pub mod reason {
    /// The holder signed out.
    pub const LOGOUT: &str = "logout";
    /// A spent refresh token was presented again.
    pub const REFRESH_REUSED: &str = "refresh_reused";
    /// The account, reader or device may no longer sign in.
    pub const SUBJECT_DISABLED: &str = "subject_disabled";
    /// The password was changed.
    pub const PASSWORD_CHANGED: &str = "password_changed";
}

/// How long sessions last, per kind of holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Staff at a desk (`LECTERN_SESSION_HOURS_STAFF`, default 12 hours).
    pub staff: chrono::Duration,
    /// Readers on the portal or a phone (`LECTERN_SESSION_HOURS_READER`,
    /// default 30 days).
    pub reader: chrono::Duration,
    /// Kiosks and SIP2 machines (`LECTERN_SESSION_HOURS_DEVICE`, default 30 days).
    pub device: chrono::Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            staff: chrono::Duration::hours(12),
            reader: chrono::Duration::days(30),
            device: chrono::Duration::days(30),
        }
    }
}

impl Lifetimes {
    /// The lifetime of a session of `kind`. A reader signed in at a kiosk
    /// gets one access token's worth (`access_ttl`): the next reader at
    /// the same kiosk must not inherit a long session.
    pub fn of(&self, kind: SubjectKind, at_device: bool, access_ttl: chrono::Duration) -> chrono::Duration {
        match kind {
            SubjectKind::Reader if at_device => access_ttl,
            SubjectKind::Reader => self.reader,
            SubjectKind::Device => self.device,
            SubjectKind::Staff | SubjectKind::Service => self.staff,
        }
    }
}

/// A fresh refresh token: 32 random bytes, base64url.
pub fn new_refresh_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How long a spent refresh token still gets the answer its exchange got
/// (the same successor, unrotated), as long as the session has not rotated
/// since: long enough for tabs and replicas renewing at the same moment,
/// short enough that a copied token found later still ends the session.
pub const GRACE: chrono::Duration = chrono::Duration::seconds(30);

/// Says what the successor key is for, so that it differs from any other
/// key derived from the service key.
const SUCCESSOR_KEY_LABEL: &[u8] = b"lectern refresh successor key";

/// Prefixes every token whose successor is derived.
const SUCCESSOR_LABEL: &[u8] = b"lectern refresh successor";

/// Derives a refresh token's successor:
/// `base64url(HMAC-SHA256(key, "lectern refresh successor" || token))`.
/// The key comes from the district service key, which every reader replica
/// shares, so every replica derives the same successor and the grace holds
/// across replicas. Without a service key it is random per process: the
/// grace then holds only when both refreshes reach the same replica (and
/// not across a restart); a refresh racing on another replica counts as
/// reuse. Changing the service key does the same to refreshes in flight.
#[derive(Clone)]
pub struct SuccessorKey {
    /// HMAC-SHA256 keyed, ready to take a token.
    mac: Hmac<Sha256>,
}

impl SuccessorKey {
    /// The key derived from `service_key`, or a random one without it.
    pub fn from_service_key(service_key: Option<&str>) -> Self {
        let secret = match service_key {
            Some(service_key) => keyed(service_key.as_bytes())
                .chain_update(SUCCESSOR_KEY_LABEL)
                .finalize()
                .into_bytes()
                .to_vec(),
            None => rand::random::<[u8; 32]>().to_vec(),
        };
        Self { mac: keyed(&secret) }
    }

    /// The refresh token that follows `token`.
    pub fn successor(&self, token: &str) -> String {
        let digest = self.mac.clone().chain_update(SUCCESSOR_LABEL).chain_update(token.as_bytes()).finalize();
        URL_SAFE_NO_PAD.encode(digest.into_bytes())
    }
}

impl std::fmt::Debug for SuccessorKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SuccessorKey").finish_non_exhaustive()
    }
}

/// HMAC-SHA256 keyed with `key`.
fn keyed(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length (longer ones are hashed first).
    Hmac::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC-SHA256 refused a key"))
}

/// The stored form of a refresh token: SHA-256, hex.
pub fn hash_refresh_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A new session row for `subject_id` and its refresh token.
pub fn new_session(
    subject_id: &str,
    kind: SubjectKind,
    device_id: Option<&str>,
    now: NaiveDateTime,
    lifetime: chrono::Duration,
) -> (SessionRow, String) {
    let token = new_refresh_token();
    let row = SessionRow {
        id: lectern_core::ids::new_id(),
        subject_id: subject_id.to_owned(),
        subject_kind: kind.as_str().to_owned(),
        device_id: device_id.map(str::to_owned),
        refresh_hash: hash_refresh_token(&token),
        created_at: now,
        last_used_at: now,
        expires_at: now + lifetime,
        revoked_at: None,
        revoked_reason: None,
        binding_id: None,
    };
    (row, token)
}

/// What presenting a refresh token came to.
#[derive(Debug)]
pub enum Exchange {
    /// The current token of an open session: `session` now has
    /// `new_token`, its successor, as its refresh token.
    Rotated { session: SessionRow, new_token: String },
    /// A token spent within [`GRACE`] whose successor is still current
    /// (another tab or replica exchanged it a moment ago): `new_token` is
    /// that successor again, and nothing changed.
    Repeated { session: SessionRow, new_token: String },
    /// A spent token: the session it belonged to (of `subject_id`) has
    /// just been ended.
    Reused { session_id: String, subject_id: String },
    /// Unknown, expired, or of an ended session.
    Ended,
}

/// Exchanges `token` for its successor, in the caller's write transaction.
pub fn exchange(
    connection: &mut DbConnection,
    token: &str,
    key: &SuccessorKey,
    now: NaiveDateTime,
) -> Result<Exchange, Error> {
    let hash = hash_refresh_token(token);
    match db::sessions::find_by_refresh_hash(connection, &hash)? {
        Some(session) => exchange_current(connection, session, token, key, now),
        None => exchange_spent(connection, token, key, now),
    }
}

/// Rotates `token`, the current refresh token of `session` when it was read.
fn exchange_current(
    connection: &mut DbConnection,
    session: SessionRow,
    token: &str,
    key: &SuccessorKey,
    now: NaiveDateTime,
) -> Result<Exchange, Error> {
    if !is_open(&session, now) {
        return Ok(Exchange::Ended);
    }
    let new_token = key.successor(token);
    let new_hash = hash_refresh_token(&new_token);
    if !db::sessions::rotate(connection, &session.id, &hash_refresh_token(token), &new_hash, now)? {
        // A concurrent exchange of the same token won the race (or the
        // session just ended); its commit is visible now, so the token is
        // a spent one, and the tab that lost must not end the session.
        return exchange_spent(connection, token, key, now);
    }
    let session = SessionRow { refresh_hash: new_hash, last_used_at: now, ..session };
    Ok(Exchange::Rotated { session, new_token })
}

/// Answers a token that is not current: within the grace the same
/// successor again, otherwise the end of its session.
fn exchange_spent(
    connection: &mut DbConnection,
    token: &str,
    key: &SuccessorKey,
    now: NaiveDateTime,
) -> Result<Exchange, Error> {
    let Some(spent) = db::sessions::find_spent(connection, &hash_refresh_token(token))? else {
        return Ok(Exchange::Ended);
    };
    let session = db::sessions::find(connection, &spent.session_id)?;
    if let Some(session) = session.as_ref()
        && now - spent.spent_at < GRACE
        && is_open(session, now)
    {
        let new_token = key.successor(token);
        // Only the newest spent token qualifies: had the session rotated
        // again, this would be a grandparent, and a copy.
        if session.refresh_hash == hash_refresh_token(&new_token) {
            return Ok(Exchange::Repeated { session: session.clone(), new_token });
        }
    }
    db::sessions::revoke(connection, &spent.session_id, reason::REFRESH_REUSED, now)?;
    let subject_id = session.map(|session| session.subject_id).unwrap_or_default();
    Ok(Exchange::Reused { session_id: spent.session_id, subject_id })
}

/// Whether `session` can still be refreshed.
fn is_open(session: &SessionRow, now: NaiveDateTime) -> bool {
    session.revoked_at.is_none() && session.expires_at > now
}

/// How long an expired session is kept after every token it issued has
/// expired, for questions about yesterday's sign-ins.
const KEEP_EXPIRED: chrono::Duration = chrono::Duration::days(1);

/// Sessions deleted per transaction.
const PURGE_BATCH: i64 = 500;

/// How often [`purge_expired`] runs.
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes sessions (and their spent refresh tokens) that expired so long
/// ago that no token of theirs can still be valid, keeping a day more.
/// Several replicas doing it at once do no harm.
pub async fn purge_expired(
    db: &lectern_common::db::Db,
    clock: &lectern_core::clock::SharedClock,
    access_ttl: chrono::Duration,
) -> Result<usize, Error> {
    let cutoff = clock.now().naive_utc() - crate::tokens::retirement_delay(access_ttl) - KEEP_EXPIRED;
    let mut total = 0;
    // In batches, so no write transaction holds the lock for long.
    loop {
        let purged = db
            .write(move |connection| -> Result<_, Error> {
                Ok(db::sessions::purge_expired(connection, cutoff, PURGE_BATCH)?)
            })
            .await?;
        total += purged;
        if purged < usize::try_from(PURGE_BATCH).unwrap_or(usize::MAX) {
            return Ok(total);
        }
    }
}

/// Runs [`purge_expired`] every [`PURGE_EVERY`] until `shutdown`.
pub async fn purge_until(
    db: lectern_common::db::Db,
    clock: lectern_core::clock::SharedClock,
    access_ttl: chrono::Duration,
    shutdown: lectern_core::shutdown::Shutdown,
) {
    let mut every = tokio::time::interval(PURGE_EVERY);
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = every.tick() => match purge_expired(&db, &clock, access_ttl).await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "expired sign-in sessions deleted"),
                Err(error) => tracing::warn!(%error, "cannot delete expired sign-in sessions"),
            },
        }
    }
}

#[cfg(test)]
mod tests;
