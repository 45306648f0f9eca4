//! Readers' PINs and their sign-in lockout.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::reader_credentials;

/// A reader's stored PIN. `Debug` leaves the hash out.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reader_credentials)]
pub struct PinRow {
    pub reader_id: String,
    pub pin_hash: String,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl std::fmt::Debug for PinRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PinRow")
            .field("reader_id", &self.reader_id)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// The PIN of `reader_id`, if one is set.
pub fn find(connection: &mut DbConnection, reader_id: &str) -> QueryResult<Option<PinRow>> {
    reader_credentials::table.find(reader_id).select(PinRow::as_select()).first(connection).optional()
}

/// Sets (or replaces) a reader's PIN, clearing any lockout. Call inside a
/// write transaction.
pub fn set(connection: &mut DbConnection, pin: &PinRow) -> QueryResult<()> {
    diesel::delete(reader_credentials::table.find(&pin.reader_id)).execute(connection)?;
    diesel::insert_into(reader_credentials::table).values(pin).execute(connection)?;
    Ok(())
}

/// Records a wrong PIN; at `lock_after` in a row the reader is locked until
/// `locked_until`. Returns whether this failure locked them.
pub fn record_failed_login(
    connection: &mut DbConnection,
    reader_id: &str,
    lock_after: i32,
    locked_until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(reader_credentials::table.find(reader_id))
        .set(reader_credentials::failed_logins.eq(reader_credentials::failed_logins + 1))
        .execute(connection)?;
    let locked = diesel::update(
        reader_credentials::table.find(reader_id).filter(reader_credentials::failed_logins.ge(lock_after)),
    )
    .set((reader_credentials::failed_logins.eq(0), reader_credentials::locked_until.eq(Some(locked_until))))
    .execute(connection)?;
    Ok(locked == 1)
}

/// Clears the count of wrong PINs after a successful sign-in.
pub fn record_successful_login(connection: &mut DbConnection, reader_id: &str) -> QueryResult<()> {
    diesel::update(reader_credentials::table.find(reader_id).filter(reader_credentials::failed_logins.gt(0)))
        .set(reader_credentials::failed_logins.eq(0))
        .execute(connection)?;
    Ok(())
}
