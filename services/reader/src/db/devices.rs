//! Self-service devices (kiosks, SIP2 machines) and their sign-in lockout.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::devices;

/// A stored device. `Debug` leaves the key hash out.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = devices)]
pub struct DeviceRow {
    pub id: String,
    pub school_id: String,
    /// "kiosk" or "sip2".
    pub kind: String,
    pub label: String,
    /// argon2id hash of the device key.
    pub key_hash: String,
    pub disabled: bool,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// Readers sign in with their card alone.
    pub card_only: bool,
    /// "utf-8", "gb18030" or "cp850".
    pub charset: String,
    /// "zh-CN" or "en".
    pub language: String,
    /// SIP2 answers end with CR LF.
    pub crlf: bool,
}

/// A device's settings, as stored.
#[derive(Debug, Clone, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = devices)]
pub struct DeviceSettingsRow {
    pub card_only: bool,
    pub charset: String,
    pub language: String,
    pub crlf: bool,
}

impl std::fmt::Debug for DeviceRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DeviceRow")
            .field("id", &self.id)
            .field("school_id", &self.school_id)
            .field("kind", &self.kind)
            .field("disabled", &self.disabled)
            .field("locked_until", &self.locked_until)
            .field("card_only", &self.card_only)
            .field("charset", &self.charset)
            .field("language", &self.language)
            .field("crlf", &self.crlf)
            .finish_non_exhaustive()
    }
}

/// Stores a device.
pub fn insert(connection: &mut DbConnection, device: &DeviceRow) -> QueryResult<()> {
    diesel::insert_into(devices::table).values(device).execute(connection)?;
    Ok(())
}

/// The device with `id`.
pub fn find(connection: &mut DbConnection, id: &str) -> QueryResult<Option<DeviceRow>> {
    devices::table.find(id).select(DeviceRow::as_select()).first(connection).optional()
}

/// A page of devices, of `schools` only when given, oldest first.
pub fn list(
    connection: &mut DbConnection,
    schools: Option<&[String]>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<DeviceRow>> {
    let mut query = devices::table.select(DeviceRow::as_select()).into_boxed();
    if let Some(schools) = schools {
        query = query.filter(devices::school_id.eq_any(schools.to_vec()));
    }
    query.order((devices::created_at, devices::id)).offset(offset).limit(limit).load(connection)
}

/// Replaces a device's settings.
pub fn update_settings(
    connection: &mut DbConnection,
    id: &str,
    settings: &DeviceSettingsRow,
) -> QueryResult<()> {
    diesel::update(devices::table.find(id)).set(settings).execute(connection)?;
    Ok(())
}

/// Disables a device.
pub fn disable(connection: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(devices::table.find(id)).set(devices::disabled.eq(true)).execute(connection)?;
    Ok(())
}

/// Records a wrong key; at `lock_after` in a row the device is locked until
/// `locked_until`. Returns whether this failure locked it.
pub fn record_failed_login(
    connection: &mut DbConnection,
    id: &str,
    lock_after: i32,
    locked_until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(devices::table.find(id))
        .set(devices::failed_logins.eq(devices::failed_logins + 1))
        .execute(connection)?;
    let locked = diesel::update(devices::table.find(id).filter(devices::failed_logins.ge(lock_after)))
        .set((devices::failed_logins.eq(0), devices::locked_until.eq(Some(locked_until))))
        .execute(connection)?;
    Ok(locked == 1)
}

/// Clears the count of wrong keys after a successful sign-in.
pub fn record_successful_login(connection: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(devices::table.find(id).filter(devices::failed_logins.gt(0)))
        .set(devices::failed_logins.eq(0))
        .execute(connection)?;
    Ok(())
}
