//! Sign-in sessions and the refresh tokens already exchanged.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{sessions, spent_refresh_tokens};

/// A stored session. `Debug` leaves the refresh-token hash out.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub subject_id: String,
    /// "staff", "reader" or "device".
    pub subject_kind: String,
    /// For a reader signed in at a kiosk or SIP2 machine: that device.
    pub device_id: Option<String>,
    /// SHA-256 (hex) of the current refresh token.
    pub refresh_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// Why it ended: "logout", "refresh_reused", "account_changed", ...
    pub revoked_reason: Option<String>,
    /// For a reader signed in through a WeChat binding: that binding.
    pub binding_id: Option<String>,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SessionRow")
            .field("id", &self.id)
            .field("subject_id", &self.subject_id)
            .field("subject_kind", &self.subject_kind)
            .field("device_id", &self.device_id)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// Stores a new session.
pub fn insert(connection: &mut DbConnection, session: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table).values(session).execute(connection)?;
    Ok(())
}

/// The session with `id`.
pub fn find(connection: &mut DbConnection, id: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table.find(id).select(SessionRow::as_select()).first(connection).optional()
}

/// The session whose current refresh token hashes to `refresh_hash`.
pub fn find_by_refresh_hash(
    connection: &mut DbConnection,
    refresh_hash: &str,
) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .filter(sessions::refresh_hash.eq(refresh_hash))
        .select(SessionRow::as_select())
        .first(connection)
        .optional()
}

/// A refresh token already exchanged: the session it belonged to, and when.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = spent_refresh_tokens)]
pub struct SpentToken {
    pub session_id: String,
    pub spent_at: NaiveDateTime,
}

/// The already-exchanged refresh token that hashes to `refresh_hash`.
pub fn find_spent(connection: &mut DbConnection, refresh_hash: &str) -> QueryResult<Option<SpentToken>> {
    spent_refresh_tokens::table
        .find(refresh_hash)
        .select(SpentToken::as_select())
        .first(connection)
        .optional()
}

/// Replaces the session's refresh token `old_hash` with `new_hash` and
/// remembers the old one as spent. Returns false if `old_hash` is no longer
/// current: a concurrent refresh won (on PostgreSQL this update first waits
/// for the winner to commit, so what it wrote is visible afterwards).
pub fn rotate(
    connection: &mut DbConnection,
    session_id: &str,
    old_hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::refresh_hash.eq(old_hash))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((sessions::refresh_hash.eq(new_hash), sessions::last_used_at.eq(now)))
    .execute(connection)?;
    if updated != 1 {
        return Ok(false);
    }
    diesel::insert_into(spent_refresh_tokens::table)
        .values((
            spent_refresh_tokens::refresh_hash.eq(old_hash),
            spent_refresh_tokens::session_id.eq(session_id),
            spent_refresh_tokens::spent_at.eq(now),
        ))
        .execute(connection)?;
    Ok(true)
}

/// Ends a session (if it has not ended yet). Returns whether it was open.
pub fn revoke(
    connection: &mut DbConnection,
    session_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set((sessions::revoked_at.eq(Some(now)), sessions::revoked_reason.eq(Some(reason))))
        .execute(connection)?;
    Ok(updated == 1)
}

/// Ends every open session of `subject_id`, and every session of a reader
/// signed in at device `subject_id`. Returns how many ended.
pub fn revoke_subject(
    connection: &mut DbConnection,
    subject_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::subject_id.eq(subject_id).or(sessions::device_id.eq(subject_id)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((sessions::revoked_at.eq(Some(now)), sessions::revoked_reason.eq(Some(reason))))
    .execute(connection)
}

/// Whether session `session_id` has ended. An unknown session counts as
/// ended: every token with a `sid` was issued with its session stored.
pub fn is_revoked(connection: &mut DbConnection, session_id: &str) -> QueryResult<bool> {
    let revoked_at: Option<Option<NaiveDateTime>> =
        sessions::table.find(session_id).select(sessions::revoked_at).first(connection).optional()?;
    Ok(revoked_at.is_none_or(|revoked_at| revoked_at.is_some()))
}

/// Ids of the sessions ended at or after `since`.
pub fn revoked_since(connection: &mut DbConnection, since: NaiveDateTime) -> QueryResult<Vec<String>> {
    sessions::table
        .filter(sessions::revoked_at.ge(since))
        .select(sessions::id)
        .order(sessions::id)
        .load(connection)
}

/// Deletes up to `limit` sessions that expired before `cutoff`, with their
/// spent refresh tokens. Returns how many sessions went.
pub fn purge_expired(connection: &mut DbConnection, cutoff: NaiveDateTime, limit: i64) -> QueryResult<usize> {
    let expired: Vec<String> = sessions::table
        .filter(sessions::expires_at.lt(cutoff))
        .select(sessions::id)
        .order(sessions::id)
        .limit(limit)
        .load(connection)?;
    if expired.is_empty() {
        return Ok(0);
    }
    diesel::delete(spent_refresh_tokens::table.filter(spent_refresh_tokens::session_id.eq_any(&expired)))
        .execute(connection)?;
    diesel::delete(sessions::table.filter(sessions::id.eq_any(&expired))).execute(connection)
}
