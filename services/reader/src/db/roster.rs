//! The queries of a roster import: everything the plan compares against,
//! loaded in a few queries however long the roster is, and the writes.

use std::collections::HashMap;

use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{classes, readers};
use super::{ClassRow, ReaderRow};

/// How many values go into one `IN (...)` list.
const CHUNK: usize = 500;

/// Every reader of a school.
pub fn school_readers(connection: &mut DbConnection, school_id: &str) -> QueryResult<Vec<ReaderRow>> {
    readers::table
        .filter(readers::school_id.eq(school_id))
        .select(ReaderRow::as_select())
        .order(readers::id.asc())
        .load(connection)
}

/// Every class of a school.
pub fn school_classes(connection: &mut DbConnection, school_id: &str) -> QueryResult<Vec<ClassRow>> {
    classes::table
        .filter(classes::school_id.eq(school_id))
        .select(ClassRow::as_select())
        .order(classes::id.asc())
        .load(connection)
}

/// Reader id by card barcode, for those of `cards` some reader (of any
/// school) holds.
pub fn card_holders(connection: &mut DbConnection, cards: &[String]) -> QueryResult<HashMap<String, String>> {
    let mut holders = HashMap::new();
    for chunk in cards.chunks(CHUNK) {
        let found: Vec<(String, String)> = readers::table
            .filter(readers::card_barcode.eq_any(chunk))
            .select((readers::card_barcode, readers::id))
            .load(connection)?;
        holders.extend(found);
    }
    Ok(holders)
}
