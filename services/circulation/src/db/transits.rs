//! Stored transits: a copy travelling between schools, open until it is
//! scanned at its destination. The schema keeps one open transit per copy.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::transits;

/// A stored transit.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = transits)]
pub struct TransitRow {
    pub id: String,
    pub copy_id: String,
    pub copy_barcode: String,
    pub title: String,
    /// Empty for journeys that began before transits were recorded.
    pub from_school_id: String,
    pub to_school_id: String,
    /// "home" or "hold".
    pub reason: String,
    pub hold_id: Option<String>,
    pub started_at: NaiveDateTime,
    pub started_by: String,
    pub received_at: Option<NaiveDateTime>,
    pub received_by: Option<String>,
}

/// Records a journey.
pub fn insert(connection: &mut DbConnection, transit: &TransitRow) -> QueryResult<()> {
    diesel::insert_into(transits::table).values(transit).execute(connection)?;
    Ok(())
}

/// The copy's journey under way, if it travels.
pub fn open_for_copy(connection: &mut DbConnection, copy_id: &str) -> QueryResult<Option<TransitRow>> {
    transits::table
        .filter(transits::copy_id.eq(copy_id))
        .filter(transits::received_at.is_null())
        .select(TransitRow::as_select())
        .first(connection)
        .optional()
}

/// Marks the journey `id` arrived; false if it had already.
pub fn receive(connection: &mut DbConnection, id: &str, by: &str, at: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(transits::table.find(id).filter(transits::received_at.is_null()))
        .set((transits::received_at.eq(Some(at)), transits::received_by.eq(Some(by))))
        .execute(connection)?;
    Ok(updated == 1)
}

/// Which journeys of a school to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Coming to the school.
    Incoming,
    /// Leaving it.
    Outgoing,
    /// Either way.
    Both,
}

/// A school's journeys: those under way oldest first, or with
/// `include_received` all of them newest first; `limit` rows from `offset`.
pub fn of_school(
    connection: &mut DbConnection,
    school_id: &str,
    direction: Direction,
    include_received: bool,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<TransitRow>> {
    let mut query = transits::table.select(TransitRow::as_select()).into_boxed();
    query = match direction {
        Direction::Incoming => query.filter(transits::to_school_id.eq(school_id)),
        Direction::Outgoing => query.filter(transits::from_school_id.eq(school_id)),
        Direction::Both => {
            query.filter(transits::to_school_id.eq(school_id).or(transits::from_school_id.eq(school_id)))
        }
    };
    query = if include_received {
        query.order((transits::started_at.desc(), transits::id.desc()))
    } else {
        query.filter(transits::received_at.is_null()).order((transits::started_at.asc(), transits::id.asc()))
    };
    query.offset(offset).limit(limit).load(connection)
}
