//! Sign-in sessions: every interactive sign-in opens one, its access
//! tokens name it (`sid`), and its refresh token (random, 256 bits, stored
//! only as a SHA-256 hash: it is high-entropy, so a slow hash adds nothing)
//! buys new access tokens until the session expires or ends. Each refresh
//! hands out a new refresh token; presenting a spent one means a copy is
//! in someone else's hands, and the whole session ends (reuse detection).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
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
    };
    (row, token)
}

/// What presenting a refresh token came to.
#[derive(Debug)]
pub enum Exchange {
    /// The current token of an open session: `session` now has
    /// `new_token` as its refresh token.
    Rotated { session: SessionRow, new_token: String },
    /// A spent token: the session it belonged to (of `subject_id`) has
    /// just been ended.
    Reused { session_id: String, subject_id: String },
    /// Unknown, expired, or of an ended session.
    Ended,
}

/// Exchanges `token` for a new refresh token, in the caller's write
/// transaction.
pub fn exchange(connection: &mut DbConnection, token: &str, now: NaiveDateTime) -> Result<Exchange, Error> {
    let hash = hash_refresh_token(token);
    if let Some(session) = db::sessions::find_by_refresh_hash(connection, &hash)? {
        if session.revoked_at.is_some() || session.expires_at <= now {
            return Ok(Exchange::Ended);
        }
        let new_token = new_refresh_token();
        let new_hash = hash_refresh_token(&new_token);
        if !db::sessions::rotate(connection, &session.id, &hash, &new_hash, now)? {
            return Ok(Exchange::Ended);
        }
        let session = SessionRow { refresh_hash: new_hash, last_used_at: now, ..session };
        return Ok(Exchange::Rotated { session, new_token });
    }
    if let Some(session_id) = db::sessions::find_spent(connection, &hash)? {
        db::sessions::revoke(connection, &session_id, reason::REFRESH_REUSED, now)?;
        let subject_id = db::sessions::find(connection, &session_id)?
            .map(|session| session.subject_id)
            .unwrap_or_default();
        return Ok(Exchange::Reused { session_id, subject_id });
    }
    Ok(Exchange::Ended)
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
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_stored_only_hashed() {
        let first = new_refresh_token();
        let second = new_refresh_token();
        assert_ne!(first, second);
        assert_eq!(first.len(), 43, "32 bytes in base64url without padding");
        let hash = hash_refresh_token(&first);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&first));
        assert_eq!(hash, hash_refresh_token(&first), "the same token always hashes alike");
        assert_ne!(hash, hash_refresh_token(&second));
        // The SHA-256 test vector of "abc".
        assert_eq!(
            hash_refresh_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_new_session_stores_the_hash_and_its_lifetime() {
        let now = chrono::Utc::now().naive_utc();
        let (row, token) = new_session("acc-1", SubjectKind::Staff, None, now, chrono::Duration::hours(12));
        assert_eq!(row.refresh_hash, hash_refresh_token(&token));
        assert_eq!(row.expires_at - now, chrono::Duration::hours(12));
        assert_eq!(row.subject_kind, "staff");
        assert!(row.revoked_at.is_none());
    }

    #[test]
    fn readers_at_a_kiosk_get_short_sessions() {
        let lifetimes = Lifetimes::default();
        let ttl = chrono::Duration::minutes(15);
        assert_eq!(lifetimes.of(SubjectKind::Reader, true, ttl), ttl);
        assert_eq!(lifetimes.of(SubjectKind::Reader, false, ttl), chrono::Duration::days(30));
        assert_eq!(lifetimes.of(SubjectKind::Staff, false, ttl), chrono::Duration::hours(12));
        assert_eq!(lifetimes.of(SubjectKind::Device, false, ttl), chrono::Duration::days(30));
    }

    #[tokio::test]
    async fn sessions_long_expired_are_purged_with_their_spent_tokens() {
        let database = lectern_common::testing::TestDatabase::create("readerpurge");
        let db = lectern_common::db::Db::connect(database.url(), 2).unwrap();
        db.migrate(crate::MIGRATIONS).unwrap();
        let clock = lectern_core::clock::ManualClock::starting_at(chrono::Utc::now());
        let shared: lectern_core::clock::SharedClock = std::sync::Arc::new(clock.clone());
        let now = shared.now().naive_utc();
        let hour = chrono::Duration::hours(1);
        let (old, old_token) =
            new_session("acc-1", SubjectKind::Staff, None, now - chrono::Duration::days(3), hour);
        let (fresh, fresh_token) = new_session("acc-1", SubjectKind::Staff, None, now, hour);
        let (old_id, fresh_id) = (old.id.clone(), fresh.id.clone());
        db.write(move |connection| -> Result<_, Error> {
            db::sessions::insert(connection, &old)?;
            db::sessions::insert(connection, &fresh)?;
            for (session, token) in [(&old, &old_token), (&fresh, &fresh_token)] {
                let spent = hash_refresh_token(token);
                db::sessions::rotate(
                    connection,
                    &session.id,
                    &session.refresh_hash,
                    &spent,
                    session.created_at,
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(purge_expired(&db, &shared, hour).await.unwrap(), 1);
        let (old_left, fresh_left) = db
            .run(move |connection| -> Result<_, Error> {
                Ok((db::sessions::find(connection, &old_id)?, db::sessions::find(connection, &fresh_id)?))
            })
            .await
            .unwrap();
        assert!(old_left.is_none());
        assert!(fresh_left.is_some());
        assert_eq!(purge_expired(&db, &shared, hour).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_refresh_token_works_once_and_its_reuse_ends_the_session() {
        let database = lectern_common::testing::TestDatabase::create("readerexchange");
        let db = lectern_common::db::Db::connect(database.url(), 2).unwrap();
        db.migrate(crate::MIGRATIONS).unwrap();
        let now = chrono::Utc::now().naive_utc();
        let (session, first) =
            new_session("reader-1", SubjectKind::Reader, None, now, chrono::Duration::days(30));
        let session_id = session.id.clone();
        let outcome = db
            .write(move |connection| -> Result<_, Error> {
                db::sessions::insert(connection, &session)?;
                let Exchange::Rotated { session: rotated, new_token: second } =
                    exchange(connection, &first, now)?
                else {
                    panic!("the current refresh token rotates");
                };
                assert_eq!(rotated.refresh_hash, hash_refresh_token(&second));
                let reused = exchange(connection, &first, now)?;
                let after_reuse = exchange(connection, &second, now)?;
                let unknown = exchange(connection, &new_refresh_token(), now)?;
                let stored = db::sessions::find(connection, &rotated.id)?;
                Ok((reused, after_reuse, unknown, stored))
            })
            .await
            .unwrap();
        let (reused, after_reuse, unknown, stored) = outcome;
        assert!(
            matches!(reused, Exchange::Reused { session_id: ref id, ref subject_id } if *id == session_id && subject_id == "reader-1")
        );
        assert!(matches!(after_reuse, Exchange::Ended), "the whole session ended");
        assert!(matches!(unknown, Exchange::Ended));
        let stored = stored.unwrap();
        assert!(stored.revoked_at.is_some());
        assert_eq!(stored.revoked_reason.as_deref(), Some(reason::REFRESH_REUSED));
    }
}
