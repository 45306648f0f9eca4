//! Shelf locations: the signposted places of each school's library
//! (一楼 A 区 3 架), where its copies are shelved and counted in a stocktake.

use chrono::NaiveDateTime;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{FieldError, required_text};
use lectern_proto::catalog::v1 as pb;

use crate::db::{self, LocationRow};
use lectern_common::Error;

/// Longest location name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Reads a location name: trimmed, inner runs of spaces made one, 1–100
/// characters (so "一楼  A 区" and "一楼 A 区" are the same place).
pub fn location_name(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let name = required_text(field, raw, MAX_NAME_CHARS)?;
    Ok(name.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The location `id` if it belongs to `school_id`; else a refusal naming it.
pub fn require_at_school(
    connection: &mut DbConnection,
    id: &str,
    school_id: &str,
) -> Result<LocationRow, Error> {
    match db::find_location(connection, id)? {
        Some(location) if location.school_id == school_id => Ok(location),
        _ => Err(not_found(id).into()),
    }
}

/// FAILED_PRECONDITION / `LOCATION_NOT_FOUND`.
pub fn not_found(id: &str) -> Refusal {
    Refusal::new(Reason::LocationNotFound, format!("the school has no shelf location with id {id}"))
        .with("location_id", id)
}

/// Adds a shelf location to a school (inside a write transaction).
pub fn create(
    connection: &mut DbConnection,
    school_id: &str,
    name: &str,
    id: String,
    now: NaiveDateTime,
) -> Result<LocationRow, Error> {
    if db::find_location_by_name(connection, school_id, name)?.is_some() {
        return Err(name_taken(name).into());
    }
    let row = LocationRow { id, school_id: school_id.to_owned(), name: name.to_owned(), created_at: now };
    db::insert_location(connection, &row).map_err(|error| {
        if unique_violation_on(&error, "name") { Error::from(name_taken(name)) } else { Error::from(error) }
    })?;
    Ok(row)
}

/// The location of `school_id` called `name`, created if it is new (MARC
/// holdings name their locations rather than give ids).
pub fn find_or_create(
    connection: &mut DbConnection,
    school_id: &str,
    name: &str,
    id: String,
    now: NaiveDateTime,
) -> Result<LocationRow, Error> {
    match db::find_location_by_name(connection, school_id, name)? {
        Some(location) => Ok(location),
        None => create(connection, school_id, name, id, now),
    }
}

fn name_taken(name: &str) -> Refusal {
    Refusal::new(Reason::LocationNameTaken, format!("the school already has a location {name}"))
        .with("name", name)
}

/// A stored location as the API message.
pub fn to_proto(row: &LocationRow) -> pb::ShelfLocation {
    pb::ShelfLocation {
        id: row.id.clone(),
        school_id: row.school_id.clone(),
        name: row.name.clone(),
        create_time: Some(lectern_core::time::timestamp(row.created_at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_spaces_collapsed() {
        assert_eq!(location_name("name", " 一楼  A 区   3 架 ").unwrap(), "一楼 A 区 3 架");
        assert_eq!(location_name("name", "  ").unwrap_err().to_string(), "name: is required");
    }
}
