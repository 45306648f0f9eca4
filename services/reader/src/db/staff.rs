//! Staff accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{staff_accounts, staff_schools};

/// A stored staff account. `Debug` leaves the password hash out.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = staff_accounts)]
pub struct StaffRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub password_change_required: bool,
    pub disabled: bool,
    /// Wrong passwords in a row since the last successful sign-in or lockout.
    pub failed_logins: i32,
    pub created_at: NaiveDateTime,
    pub password_changed_at: Option<NaiveDateTime>,
    /// Sign-ins are refused until then, after too many wrong passwords.
    pub locked_until: Option<NaiveDateTime>,
}

impl std::fmt::Debug for StaffRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StaffRow")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("password_change_required", &self.password_change_required)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// Stores an account.
pub fn insert_account(connection: &mut DbConnection, account: &StaffRow) -> QueryResult<()> {
    diesel::insert_into(staff_accounts::table).values(account).execute(connection)?;
    Ok(())
}

/// The account with `id`.
pub fn find_by_id(connection: &mut DbConnection, id: &str) -> QueryResult<Option<StaffRow>> {
    staff_accounts::table.find(id).select(StaffRow::as_select()).first(connection).optional()
}

/// The account signing in as `username` (already lower case).
pub fn find_by_username(connection: &mut DbConnection, username: &str) -> QueryResult<Option<StaffRow>> {
    staff_accounts::table
        .filter(staff_accounts::username.eq(username))
        .select(StaffRow::as_select())
        .first(connection)
        .optional()
}

/// Whether `username` is taken.
pub fn username_exists(connection: &mut DbConnection, username: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(staff_accounts::table.filter(staff_accounts::username.eq(username))))
        .get_result(connection)
}

/// Whether any account exists at all.
pub fn any_account(connection: &mut DbConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(staff_accounts::table.select(staff_accounts::id)))
        .get_result(connection)
}

/// Replaces the password of `id` if its hash is still `old_hash` (so two
/// changes at once cannot both succeed), and lifts the change requirement.
/// Returns whether it did.
pub fn replace_password(
    connection: &mut DbConnection,
    id: &str,
    old_hash: &str,
    new_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        staff_accounts::table
            .filter(staff_accounts::id.eq(id))
            .filter(staff_accounts::password_hash.eq(old_hash)),
    )
    .set((
        staff_accounts::password_hash.eq(new_hash),
        staff_accounts::password_change_required.eq(false),
        staff_accounts::password_changed_at.eq(Some(now)),
    ))
    .execute(connection)?;
    Ok(changed > 0)
}

/// Accounts by username, `limit` of them from `offset`.
pub fn list_accounts(connection: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<Vec<StaffRow>> {
    staff_accounts::table
        .select(StaffRow::as_select())
        .order(staff_accounts::username.asc())
        .offset(offset)
        .limit(limit)
        .load(connection)
}

/// Records a wrong password: the count goes up, and at `lock_after` the
/// account is locked until `locked_until` and the count starts again.
/// Returns whether this failure locked the account.
pub fn record_failed_login(
    connection: &mut DbConnection,
    id: &str,
    lock_after: i32,
    locked_until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(staff_accounts::table.find(id))
        .set(staff_accounts::failed_logins.eq(staff_accounts::failed_logins + 1))
        .execute(connection)?;
    let locked =
        diesel::update(staff_accounts::table.find(id).filter(staff_accounts::failed_logins.ge(lock_after)))
            .set((staff_accounts::failed_logins.eq(0), staff_accounts::locked_until.eq(Some(locked_until))))
            .execute(connection)?;
    Ok(locked == 1)
}

/// Clears the count of wrong passwords after a successful sign-in.
pub fn record_successful_login(connection: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(staff_accounts::table.find(id).filter(staff_accounts::failed_logins.gt(0)))
        .set(staff_accounts::failed_logins.eq(0))
        .execute(connection)?;
    Ok(())
}

/// The schools `staff_id` works for, sorted.
pub fn schools_of(connection: &mut DbConnection, staff_id: &str) -> QueryResult<Vec<String>> {
    staff_schools::table
        .filter(staff_schools::staff_id.eq(staff_id))
        .select(staff_schools::school_id)
        .order(staff_schools::school_id.asc())
        .load(connection)
}

/// The schools of each of `staff_ids`, as (staff id, school id) pairs.
pub fn schools_of_accounts(
    connection: &mut DbConnection,
    staff_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    staff_schools::table
        .filter(staff_schools::staff_id.eq_any(staff_ids))
        .select((staff_schools::staff_id, staff_schools::school_id))
        .order((staff_schools::staff_id.asc(), staff_schools::school_id.asc()))
        .load(connection)
}

/// Makes `school_ids` the schools of `staff_id`, replacing any before.
pub fn replace_schools(
    connection: &mut DbConnection,
    staff_id: &str,
    school_ids: &[String],
) -> QueryResult<()> {
    diesel::delete(staff_schools::table.filter(staff_schools::staff_id.eq(staff_id))).execute(connection)?;
    for school_id in school_ids {
        diesel::insert_into(staff_schools::table)
            .values((staff_schools::staff_id.eq(staff_id), staff_schools::school_id.eq(school_id)))
            .execute(connection)?;
    }
    Ok(())
}

/// Disables or enables account `id`. Returns whether it exists.
pub fn set_disabled(connection: &mut DbConnection, id: &str, disabled: bool) -> QueryResult<bool> {
    let changed = diesel::update(staff_accounts::table.find(id))
        .set(staff_accounts::disabled.eq(disabled))
        .execute(connection)?;
    Ok(changed == 1)
}
