//! WeChat accounts, the readers bound to them and the printed binding
//! codes. Openids, tickets and codes are secrets or personal data: rows
//! here print neither in `Debug`, and nothing here logs.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{binding_codes, reader_bindings, readers, sessions, wechat_accounts};

/// A stored WeChat account. `Debug` leaves the openid, unionid and ticket out.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = wechat_accounts)]
pub struct AccountRow {
    pub id: String,
    pub app_id: String,
    pub openid: String,
    pub unionid: Option<String>,
    /// SHA-256 (hex) of the open binding ticket.
    pub binding_ticket_hash: Option<String>,
    pub binding_ticket_expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub last_sign_in_at: NaiveDateTime,
}

impl std::fmt::Debug for AccountRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("AccountRow").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A stored binding of a reader to a WeChat account.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reader_bindings)]
pub struct BindingRow {
    pub id: String,
    pub account_id: String,
    pub reader_id: String,
    /// "self" or "guardian".
    pub relation: String,
    /// "pin" or "code".
    pub proved_by: String,
    /// The guardian contact matched, for "guardian".
    pub guardian_contact_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_sign_in_at: Option<NaiveDateTime>,
}

/// A stored binding code. `Debug` leaves the hash out.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = binding_codes)]
pub struct CodeRow {
    pub id: String,
    pub reader_id: String,
    /// SHA-256 (hex) of the reader id and the code.
    pub code_hash: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for CodeRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CodeRow")
            .field("id", &self.id)
            .field("reader_id", &self.reader_id)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// The account of `openid` in mini-program `app_id`.
pub fn find_account(
    connection: &mut DbConnection,
    app_id: &str,
    openid: &str,
) -> QueryResult<Option<AccountRow>> {
    wechat_accounts::table
        .filter(wechat_accounts::app_id.eq(app_id))
        .filter(wechat_accounts::openid.eq(openid))
        .select(AccountRow::as_select())
        .first(connection)
        .optional()
}

/// The account with `id`.
pub fn account_by_id(connection: &mut DbConnection, id: &str) -> QueryResult<Option<AccountRow>> {
    wechat_accounts::table.find(id).select(AccountRow::as_select()).first(connection).optional()
}

/// Stores a new account.
pub fn insert_account(connection: &mut DbConnection, account: &AccountRow) -> QueryResult<()> {
    diesel::insert_into(wechat_accounts::table).values(account).execute(connection)?;
    Ok(())
}

/// Records a sign-in of the account (and the unionid WeChat sent, if any).
pub fn record_account_sign_in(
    connection: &mut DbConnection,
    id: &str,
    unionid: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(wechat_accounts::table.find(id))
        .set(wechat_accounts::last_sign_in_at.eq(now))
        .execute(connection)?;
    if let Some(unionid) = unionid {
        diesel::update(wechat_accounts::table.find(id))
            .set(wechat_accounts::unionid.eq(Some(unionid)))
            .execute(connection)?;
    }
    Ok(())
}

/// Gives the account a new binding ticket (replacing any open one).
pub fn set_ticket(
    connection: &mut DbConnection,
    id: &str,
    ticket_hash: &str,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(wechat_accounts::table.find(id))
        .set((
            wechat_accounts::binding_ticket_hash.eq(Some(ticket_hash)),
            wechat_accounts::binding_ticket_expires_at.eq(Some(expires_at)),
        ))
        .execute(connection)?;
    Ok(())
}

/// The account whose unexpired ticket hashes to `ticket_hash`.
pub fn account_by_ticket(
    connection: &mut DbConnection,
    ticket_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<AccountRow>> {
    wechat_accounts::table
        .filter(wechat_accounts::binding_ticket_hash.eq(ticket_hash))
        .filter(wechat_accounts::binding_ticket_expires_at.gt(now))
        .select(AccountRow::as_select())
        .first(connection)
        .optional()
}

/// Spends the account's ticket: it works once.
pub fn clear_ticket(connection: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(wechat_accounts::table.find(id))
        .set((
            wechat_accounts::binding_ticket_hash.eq(None::<String>),
            wechat_accounts::binding_ticket_expires_at.eq(None::<NaiveDateTime>),
        ))
        .execute(connection)?;
    Ok(())
}

/// The bindings of an account, in the order they were made.
pub fn bindings_of_account(connection: &mut DbConnection, account_id: &str) -> QueryResult<Vec<BindingRow>> {
    reader_bindings::table
        .filter(reader_bindings::account_id.eq(account_id))
        .order((reader_bindings::created_at.asc(), reader_bindings::id.asc()))
        .select(BindingRow::as_select())
        .load(connection)
}

/// How many accounts `reader_id` is bound to.
pub fn binding_count_of_reader(connection: &mut DbConnection, reader_id: &str) -> QueryResult<i64> {
    reader_bindings::table.filter(reader_bindings::reader_id.eq(reader_id)).count().get_result(connection)
}

/// The binding with `id`.
pub fn find_binding(connection: &mut DbConnection, id: &str) -> QueryResult<Option<BindingRow>> {
    reader_bindings::table.find(id).select(BindingRow::as_select()).first(connection).optional()
}

/// Stores a new binding.
pub fn insert_binding(connection: &mut DbConnection, binding: &BindingRow) -> QueryResult<()> {
    diesel::insert_into(reader_bindings::table).values(binding).execute(connection)?;
    Ok(())
}

/// Records a sign-in through the binding.
pub fn record_binding_sign_in(
    connection: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(reader_bindings::table.find(id))
        .set(reader_bindings::last_sign_in_at.eq(Some(now)))
        .execute(connection)?;
    Ok(())
}

/// Deletes a binding and ends the sessions opened through it; returns
/// whether there was one.
pub fn delete_binding(
    connection: &mut DbConnection,
    id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    end_sessions_of_binding(connection, id, reason, now)?;
    Ok(diesel::delete(reader_bindings::table.find(id)).execute(connection)? == 1)
}

/// Ends every open session signed in through binding `binding_id`.
fn end_sessions_of_binding(
    connection: &mut DbConnection,
    binding_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table.filter(sessions::binding_id.eq(binding_id)).filter(sessions::revoked_at.is_null()),
    )
    .set((sessions::revoked_at.eq(Some(now)), sessions::revoked_reason.eq(Some(reason))))
    .execute(connection)
}

/// Which bindings a listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindingFilter {
    /// One reader's.
    Reader(String),
    /// Those of readers of these schools.
    Schools(Vec<String>),
    /// Every binding (district admins).
    Everywhere,
}

/// A page of bindings with their readers' schools, newest first.
pub fn list_bindings(
    connection: &mut DbConnection,
    filter: &BindingFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<(BindingRow, String)>> {
    let mut query = reader_bindings::table
        .inner_join(readers::table)
        .select((BindingRow::as_select(), readers::school_id))
        .order((reader_bindings::created_at.desc(), reader_bindings::id.desc()))
        .offset(offset)
        .limit(limit)
        .into_boxed();
    match filter {
        BindingFilter::Reader(reader_id) => query = query.filter(reader_bindings::reader_id.eq(reader_id)),
        BindingFilter::Schools(school_ids) => query = query.filter(readers::school_id.eq_any(school_ids)),
        BindingFilter::Everywhere => {}
    }
    query.load(connection)
}

/// Replaces the reader's unused codes with `code`.
pub fn replace_code(connection: &mut DbConnection, code: &CodeRow) -> QueryResult<()> {
    diesel::delete(
        binding_codes::table
            .filter(binding_codes::reader_id.eq(&code.reader_id))
            .filter(binding_codes::used_at.is_null()),
    )
    .execute(connection)?;
    diesel::insert_into(binding_codes::table).values(code).execute(connection)?;
    Ok(())
}

/// The reader's unused, unexpired code (there is at most one).
pub fn open_code(
    connection: &mut DbConnection,
    reader_id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<CodeRow>> {
    binding_codes::table
        .filter(binding_codes::reader_id.eq(reader_id))
        .filter(binding_codes::used_at.is_null())
        .filter(binding_codes::expires_at.gt(now))
        .order(binding_codes::created_at.desc())
        .select(CodeRow::as_select())
        .first(connection)
        .optional()
}

/// Spends a code: it works once.
pub fn use_code(connection: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    Ok(diesel::update(binding_codes::table.find(id).filter(binding_codes::used_at.is_null()))
        .set(binding_codes::used_at.eq(Some(now)))
        .execute(connection)?
        == 1)
}

/// Deletes the reader's bindings and codes (erasure), ending the sessions
/// opened through the bindings.
pub fn delete_for_reader(
    connection: &mut DbConnection,
    reader_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let binding_ids: Vec<String> = reader_bindings::table
        .filter(reader_bindings::reader_id.eq(reader_id))
        .select(reader_bindings::id)
        .load(connection)?;
    for binding_id in &binding_ids {
        delete_binding(connection, binding_id, "reader erased", now)?;
    }
    diesel::delete(binding_codes::table.filter(binding_codes::reader_id.eq(reader_id)))
        .execute(connection)?;
    Ok(())
}
