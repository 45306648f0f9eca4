//! Readers' contact points, notification preferences and staff notes.
//! Contact values are personal data: these rows are read only by the
//! profile calls and never logged.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{classes, reader_contacts, reader_notes, reader_preferences, readers};

/// A stored contact point.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reader_contacts)]
pub struct ContactRow {
    pub id: String,
    pub reader_id: String,
    /// "reader", "guardian" or "homeroom_teacher".
    pub who: String,
    /// "email", "phone" or "wechat".
    pub channel: String,
    pub value: String,
    pub label: String,
    pub created_at: NaiveDateTime,
}

/// Stored notification preferences.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reader_preferences)]
pub struct PreferencesRow {
    pub reader_id: String,
    pub notify_email: bool,
    pub notify_sms: bool,
    pub notify_wechat: bool,
    pub notify_in_app: bool,
    /// "zh-CN" or "en".
    pub language: String,
    pub updated_at: NaiveDateTime,
}

/// Who a reader is, for addressing notices: id, school, name, and the
/// class's id and name when the reader is in one.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct AddresseeRow {
    pub reader_id: String,
    pub school_id: String,
    pub name: String,
    pub class_id: Option<String>,
    pub class_name: Option<String>,
}

/// A stored staff note.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reader_notes)]
pub struct NoteRow {
    pub id: String,
    pub reader_id: String,
    pub body: String,
    pub author_id: String,
    pub created_at: NaiveDateTime,
}

/// A reader's contact points, oldest first.
pub fn contacts(connection: &mut DbConnection, reader_id: &str) -> QueryResult<Vec<ContactRow>> {
    reader_contacts::table
        .filter(reader_contacts::reader_id.eq(reader_id))
        .select(ContactRow::as_select())
        .order((reader_contacts::created_at.asc(), reader_contacts::id.asc()))
        .load(connection)
}

/// The readers among `reader_ids` with their class names, in one query;
/// ids of no reader are skipped.
pub fn addressees(connection: &mut DbConnection, reader_ids: &[String]) -> QueryResult<Vec<AddresseeRow>> {
    readers::table
        .left_join(classes::table)
        .filter(readers::id.eq_any(reader_ids))
        .select((readers::id, readers::school_id, readers::name, readers::class_id, classes::name.nullable()))
        .load(connection)
}

/// The contact points of all of `reader_ids`, by reader, each reader's
/// oldest first.
pub fn contacts_of_readers(
    connection: &mut DbConnection,
    reader_ids: &[String],
) -> QueryResult<Vec<ContactRow>> {
    reader_contacts::table
        .filter(reader_contacts::reader_id.eq_any(reader_ids))
        .select(ContactRow::as_select())
        .order((
            reader_contacts::reader_id.asc(),
            reader_contacts::created_at.asc(),
            reader_contacts::id.asc(),
        ))
        .load(connection)
}

/// The stored preferences of those of `reader_ids` who ever set any.
pub fn preferences_of_readers(
    connection: &mut DbConnection,
    reader_ids: &[String],
) -> QueryResult<Vec<PreferencesRow>> {
    reader_preferences::table
        .filter(reader_preferences::reader_id.eq_any(reader_ids))
        .select(PreferencesRow::as_select())
        .load(connection)
}

/// How many contact points a reader has.
pub fn contact_count(connection: &mut DbConnection, reader_id: &str) -> QueryResult<i64> {
    reader_contacts::table.filter(reader_contacts::reader_id.eq(reader_id)).count().get_result(connection)
}

/// Whether the reader already has this contact point.
pub fn contact_exists(connection: &mut DbConnection, contact: &ContactRow) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        reader_contacts::table
            .filter(reader_contacts::reader_id.eq(&contact.reader_id))
            .filter(reader_contacts::who.eq(&contact.who))
            .filter(reader_contacts::channel.eq(&contact.channel))
            .filter(reader_contacts::value.eq(&contact.value)),
    ))
    .get_result(connection)
}

/// Stores a contact point.
pub fn insert_contact(connection: &mut DbConnection, contact: &ContactRow) -> QueryResult<()> {
    diesel::insert_into(reader_contacts::table).values(contact).execute(connection)?;
    Ok(())
}

/// Deletes contact `contact_id` of `reader_id`; returns whether there was one.
pub fn delete_contact(connection: &mut DbConnection, reader_id: &str, contact_id: &str) -> QueryResult<bool> {
    let deleted = diesel::delete(
        reader_contacts::table
            .filter(reader_contacts::id.eq(contact_id))
            .filter(reader_contacts::reader_id.eq(reader_id)),
    )
    .execute(connection)?;
    Ok(deleted > 0)
}

/// A reader's stored preferences, if they were ever set.
pub fn preferences(connection: &mut DbConnection, reader_id: &str) -> QueryResult<Option<PreferencesRow>> {
    reader_preferences::table.find(reader_id).select(PreferencesRow::as_select()).first(connection).optional()
}

/// Stores a reader's preferences, replacing earlier ones.
pub fn set_preferences(connection: &mut DbConnection, row: &PreferencesRow) -> QueryResult<()> {
    let updated =
        diesel::update(reader_preferences::table.find(&row.reader_id)).set(row).execute(connection)?;
    if updated == 0 {
        diesel::insert_into(reader_preferences::table).values(row).execute(connection)?;
    }
    Ok(())
}

/// Stores a note.
pub fn insert_note(connection: &mut DbConnection, note: &NoteRow) -> QueryResult<()> {
    diesel::insert_into(reader_notes::table).values(note).execute(connection)?;
    Ok(())
}

/// A reader's notes, newest first, `limit` of them from `offset`.
pub fn notes(
    connection: &mut DbConnection,
    reader_id: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<NoteRow>> {
    reader_notes::table
        .filter(reader_notes::reader_id.eq(reader_id))
        .select(NoteRow::as_select())
        .order((reader_notes::created_at.desc(), reader_notes::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(connection)
}

/// Deletes note `note_id` of `reader_id`; returns whether there was one.
pub fn delete_note(connection: &mut DbConnection, reader_id: &str, note_id: &str) -> QueryResult<bool> {
    let deleted = diesel::delete(
        reader_notes::table
            .filter(reader_notes::id.eq(note_id))
            .filter(reader_notes::reader_id.eq(reader_id)),
    )
    .execute(connection)?;
    Ok(deleted > 0)
}
