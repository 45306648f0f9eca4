//! Queries on the parts of a record besides its title row: ISBNs, subject
//! headings, item types and shelf locations.

use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{item_types, shelf_locations, title_isbns, title_subjects};
use super::{ItemTypeRow, LocationRow, SubjectRow};

/// Records that `isbn13` belongs to `title_id`.
pub fn insert_title_isbn(connection: &mut DbConnection, isbn13: &str, title_id: &str) -> QueryResult<()> {
    diesel::insert_into(title_isbns::table)
        .values((title_isbns::isbn13.eq(isbn13), title_isbns::title_id.eq(title_id)))
        .execute(connection)?;
    Ok(())
}

/// The title that has ISBN-13 `isbn13`, if any.
pub fn title_id_by_isbn(connection: &mut DbConnection, isbn13: &str) -> QueryResult<Option<String>> {
    title_isbns::table.find(isbn13).select(title_isbns::title_id).first(connection).optional()
}

/// Every ISBN-13 of the titles `title_ids`, as (title id, ISBN-13).
pub fn isbns_of(connection: &mut DbConnection, title_ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    if title_ids.is_empty() {
        return Ok(Vec::new());
    }
    title_isbns::table
        .filter(title_isbns::title_id.eq_any(title_ids))
        .select((title_isbns::title_id, title_isbns::isbn13))
        .order((title_isbns::title_id.asc(), title_isbns::isbn13.asc()))
        .load(connection)
}

/// Stores one subject heading of a title.
pub fn insert_subject(connection: &mut DbConnection, subject: &SubjectRow) -> QueryResult<()> {
    diesel::insert_into(title_subjects::table).values(subject).execute(connection)?;
    Ok(())
}

/// The subject headings of the titles `title_ids`, by title and order.
pub fn subjects_of(connection: &mut DbConnection, title_ids: &[String]) -> QueryResult<Vec<SubjectRow>> {
    if title_ids.is_empty() {
        return Ok(Vec::new());
    }
    title_subjects::table
        .filter(title_subjects::title_id.eq_any(title_ids))
        .select(SubjectRow::as_select())
        .order((title_subjects::title_id.asc(), title_subjects::position.asc()))
        .load(connection)
}

/// Every item type, by code.
pub fn item_types(connection: &mut DbConnection) -> QueryResult<Vec<ItemTypeRow>> {
    item_types::table.select(ItemTypeRow::as_select()).order(item_types::code.asc()).load(connection)
}

/// The item type `code`, if there is one.
pub fn find_item_type(connection: &mut DbConnection, code: &str) -> QueryResult<Option<ItemTypeRow>> {
    item_types::table.find(code).select(ItemTypeRow::as_select()).first(connection).optional()
}

/// Stores a new item type.
pub fn insert_item_type(connection: &mut DbConnection, item_type: &ItemTypeRow) -> QueryResult<()> {
    diesel::insert_into(item_types::table).values(item_type).execute(connection)?;
    Ok(())
}

/// The shelf location `id`, if there is one.
pub fn find_location(connection: &mut DbConnection, id: &str) -> QueryResult<Option<LocationRow>> {
    shelf_locations::table.find(id).select(LocationRow::as_select()).first(connection).optional()
}

/// The shelf location of `school_id` called `name`, if there is one.
pub fn find_location_by_name(
    connection: &mut DbConnection,
    school_id: &str,
    name: &str,
) -> QueryResult<Option<LocationRow>> {
    shelf_locations::table
        .filter(shelf_locations::school_id.eq(school_id).and(shelf_locations::name.eq(name)))
        .select(LocationRow::as_select())
        .first(connection)
        .optional()
}

/// The shelf locations of a school, by name.
pub fn locations_of_school(connection: &mut DbConnection, school_id: &str) -> QueryResult<Vec<LocationRow>> {
    shelf_locations::table
        .filter(shelf_locations::school_id.eq(school_id))
        .select(LocationRow::as_select())
        .order(shelf_locations::name.asc())
        .load(connection)
}

/// The names of the shelf locations `ids`, as (id, name).
pub fn location_names(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    shelf_locations::table
        .filter(shelf_locations::id.eq_any(ids))
        .select((shelf_locations::id, shelf_locations::name))
        .load(connection)
}

/// Stores a new shelf location.
pub fn insert_location(connection: &mut DbConnection, location: &LocationRow) -> QueryResult<()> {
    diesel::insert_into(shelf_locations::table).values(location).execute(connection)?;
    Ok(())
}
