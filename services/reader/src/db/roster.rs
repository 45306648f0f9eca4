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

/// Stores a reader's changed fields (everything a roster may change).
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
        ))
        .execute(connection)?;
    Ok(())
}
