//! Readers, their categories and their manual blocks.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{
    classes, reader_blocks, reader_categories, reader_contacts, reader_credentials, reader_notes,
    reader_preferences, readers,
};

/// Stored reader statuses.
pub const STATUS_ACTIVE: &str = "active";
/// A reader who has left; kept for history.
pub const STATUS_INACTIVE: &str = "inactive";

/// The key a reader's name is searched by: the name in lower case.
pub fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// A stored reader.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = readers)]
pub struct ReaderRow {
    pub id: String,
    pub school_id: String,
    pub card_barcode: String,
    pub name: String,
    pub category: String,
    pub class_id: Option<String>,
    pub status: String,
    pub expires_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    /// Student or staff number, unique within the school.
    pub number: Option<String>,
    /// The name in lower case, for search.
    pub name_key: String,
}

/// A stored manual block.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reader_blocks)]
pub struct BlockRow {
    pub id: String,
    pub reader_id: String,
    pub reason: String,
    pub ends_on: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub created_by: String,
    pub lifted_at: Option<NaiveDateTime>,
    pub lifted_by: Option<String>,
}

/// A reader as the API shows it: with the class's name and grade and the
/// blocks in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderView {
    pub reader: ReaderRow,
    pub class_name: Option<String>,
    pub grade: Option<i32>,
    pub blocks: Vec<BlockRow>,
    /// The category's history rule: retention and days.
    pub history: (String, Option<i32>),
}

/// A reader with the name and grade of their class and their category's
/// history rule.
type ReaderWithClass = (ReaderRow, Option<String>, Option<i32>, (String, Option<i32>));

/// Whether `code` is a known reader category.
pub fn category_exists(connection: &mut DbConnection, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(reader_categories::table.find(code))).get_result(connection)
}

/// Stores a reader.
pub fn insert_reader(connection: &mut DbConnection, reader: &ReaderRow) -> QueryResult<()> {
    diesel::insert_into(readers::table).values(reader).execute(connection)?;
    Ok(())
}

/// Stores a reader's changed fields: everything but the id, the school and
/// the registration time.
pub fn update_reader(connection: &mut DbConnection, reader: &ReaderRow) -> QueryResult<()> {
    diesel::update(readers::table.find(&reader.id))
        .set((
            readers::name.eq(&reader.name),
            readers::name_key.eq(&reader.name_key),
            readers::category.eq(&reader.category),
            readers::card_barcode.eq(&reader.card_barcode),
            readers::class_id.eq(&reader.class_id),
            readers::expires_on.eq(reader.expires_on),
            readers::status.eq(&reader.status),
            readers::number.eq(&reader.number),
        ))
        .execute(connection)?;
    Ok(())
}

/// The id of the reader who holds the card `card_barcode`, if any.
pub fn card_holder(connection: &mut DbConnection, card_barcode: &str) -> QueryResult<Option<String>> {
    readers::table
        .filter(readers::card_barcode.eq(card_barcode))
        .select(readers::id)
        .first(connection)
        .optional()
}

/// Whether a reader with `id` exists.
pub fn reader_exists(connection: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(readers::table.find(id))).get_result(connection)
}

/// The school of reader `id`.
pub fn school_of(connection: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    readers::table.find(id).select(readers::school_id).first(connection).optional()
}

/// Which reader to read.
#[derive(Debug, Clone, Copy)]
pub enum ReaderKey<'a> {
    /// By id.
    Id(&'a str),
    /// By the card barcode.
    CardBarcode(&'a str),
}

/// One reader with their class and the blocks in force on `today`.
pub fn reader_view(
    connection: &mut DbConnection,
    key: ReaderKey<'_>,
    today: NaiveDate,
) -> QueryResult<Option<ReaderView>> {
    let query = readers::table
        .left_join(classes::table)
        .inner_join(reader_categories::table)
        .select((
            ReaderRow::as_select(),
            classes::name.nullable(),
            classes::grade.nullable(),
            (reader_categories::history_retention, reader_categories::history_days),
        ))
        .into_boxed();
    let query = match key {
        ReaderKey::Id(id) => query.filter(readers::id.eq(id.to_owned())),
        ReaderKey::CardBarcode(code) => query.filter(readers::card_barcode.eq(code.to_owned())),
    };
    let found: Option<ReaderWithClass> = query.first(connection).optional()?;
    match found {
        None => Ok(None),
        Some(row) => Ok(with_blocks(connection, vec![row], today)?.pop()),
    }
}

/// The escape character of LIKE patterns built here.
const LIKE_ESCAPE: char = '\\';

/// Readers of a school (of one class, if given), by name then id, `limit`
/// of them from `offset`, with their blocks in force on `today`. With a
/// `needle`, only those whose card barcode or number is the needle, or
/// whose name contains it in any case.
pub fn list_readers(
    connection: &mut DbConnection,
    school_id: &str,
    class_id: Option<&str>,
    needle: Option<&str>,
    today: NaiveDate,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<ReaderView>> {
    let mut query = readers::table
        .left_join(classes::table)
        .inner_join(reader_categories::table)
        .filter(readers::school_id.eq(school_id.to_owned()))
        .select((
            ReaderRow::as_select(),
            classes::name.nullable(),
            classes::grade.nullable(),
            (reader_categories::history_retention, reader_categories::history_days),
        ))
        .order((readers::name.asc(), readers::id.asc()))
        .offset(offset)
        .limit(limit)
        .into_boxed();
    if let Some(class_id) = class_id {
        query = query.filter(readers::class_id.eq(class_id.to_owned()));
    }
    if let Some(needle) = needle {
        let escaped: String = needle
            .to_lowercase()
            .chars()
            .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec![LIKE_ESCAPE, c] } else { vec![c] })
            .collect();
        query = query.filter(
            readers::card_barcode
                .eq(needle.to_owned())
                .or(readers::number.eq(needle.to_owned()))
                .or(readers::name_key.like(format!("%{escaped}%")).escape(LIKE_ESCAPE)),
        );
    }
    let rows: Vec<ReaderWithClass> = query.load(connection)?;
    with_blocks(connection, rows, today)
}

/// The reader holding `card_barcode`.
pub fn reader_by_card(connection: &mut DbConnection, card_barcode: &str) -> QueryResult<Option<ReaderRow>> {
    readers::table
        .filter(readers::card_barcode.eq(card_barcode))
        .select(ReaderRow::as_select())
        .first(connection)
        .optional()
}

/// The id of the reader of `school_id` who has the student/staff
/// `number`, if any.
pub fn number_holder(
    connection: &mut DbConnection,
    school_id: &str,
    number: &str,
) -> QueryResult<Option<String>> {
    readers::table
        .filter(readers::school_id.eq(school_id))
        .filter(readers::number.eq(number))
        .select(readers::id)
        .first(connection)
        .optional()
}

/// Attaches the blocks in force on `today` to each reader, in one query.
fn with_blocks(
    connection: &mut DbConnection,
    rows: Vec<ReaderWithClass>,
    today: NaiveDate,
) -> QueryResult<Vec<ReaderView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|(reader, _, _, _)| reader.id.clone()).collect();
    let blocks: Vec<BlockRow> = reader_blocks::table
        .filter(reader_blocks::reader_id.eq_any(ids))
        .filter(reader_blocks::lifted_at.is_null())
        .filter(reader_blocks::ends_on.is_null().or(reader_blocks::ends_on.ge(today)))
        .select(BlockRow::as_select())
        .order(reader_blocks::id.asc())
        .load(connection)?;
    let mut by_reader: HashMap<String, Vec<BlockRow>> = HashMap::new();
    for block in blocks {
        by_reader.entry(block.reader_id.clone()).or_default().push(block);
    }
    Ok(rows
        .into_iter()
        .map(|(reader, class_name, grade, history)| ReaderView {
            blocks: by_reader.remove(&reader.id).unwrap_or_default(),
            reader,
            class_name,
            grade,
            history,
        })
        .collect())
}

/// Stores a block.
pub fn insert_block(connection: &mut DbConnection, block: &BlockRow) -> QueryResult<()> {
    diesel::insert_into(reader_blocks::table).values(block).execute(connection)?;
    Ok(())
}

/// Lifts the block `block_id` of `reader_id`, if it is not lifted yet;
/// returns whether it did.
pub fn lift_block(
    connection: &mut DbConnection,
    reader_id: &str,
    block_id: &str,
    lifted_by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let lifted = diesel::update(
        reader_blocks::table
            .filter(reader_blocks::id.eq(block_id))
            .filter(reader_blocks::reader_id.eq(reader_id))
            .filter(reader_blocks::lifted_at.is_null()),
    )
    .set((reader_blocks::lifted_at.eq(now), reader_blocks::lifted_by.eq(lifted_by)))
    .execute(connection)?;
    Ok(lifted > 0)
}

/// Every block ever placed on a reader, lifted or not, oldest first (for
/// the reader's data export).
pub fn all_blocks(connection: &mut DbConnection, reader_id: &str) -> QueryResult<Vec<BlockRow>> {
    reader_blocks::table
        .filter(reader_blocks::reader_id.eq(reader_id))
        .select(BlockRow::as_select())
        .order(reader_blocks::id.asc())
        .load(connection)
}

/// Deletes a reader and everything personal hanging off the record (PIN,
/// blocks). Returns whether the reader existed. Call inside a write
/// transaction.
pub fn delete_reader(connection: &mut DbConnection, reader_id: &str) -> QueryResult<bool> {
    diesel::delete(reader_credentials::table.filter(reader_credentials::reader_id.eq(reader_id)))
        .execute(connection)?;
    // Contact points (guardians' phones and emails), preferences and staff
    // notes are personal data too.
    diesel::delete(reader_contacts::table.filter(reader_contacts::reader_id.eq(reader_id)))
        .execute(connection)?;
    diesel::delete(reader_preferences::table.filter(reader_preferences::reader_id.eq(reader_id)))
        .execute(connection)?;
    diesel::delete(reader_notes::table.filter(reader_notes::reader_id.eq(reader_id))).execute(connection)?;
    diesel::delete(reader_blocks::table.filter(reader_blocks::reader_id.eq(reader_id)))
        .execute(connection)?;
    let deleted = diesel::delete(readers::table.find(reader_id)).execute(connection)?;
    Ok(deleted == 1)
}

/// The reader with `id`.
pub fn reader_by_id(connection: &mut DbConnection, id: &str) -> QueryResult<Option<ReaderRow>> {
    readers::table.find(id).select(ReaderRow::as_select()).first(connection).optional()
}
