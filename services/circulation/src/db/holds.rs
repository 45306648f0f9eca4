//! Stored holds. Every change of a hold's state is a conditional update on
//! the state it was read in, so two desks (or a desk and the expiry job)
//! acting on one hold at once change it once; a partial unique index keeps
//! a copy taken for one hold at a time.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::holds;
use crate::policy::holds::InLine;

/// Hold states in which the hold still counts.
pub const OPEN: [&str; 3] = ["waiting", "in_transit", "ready"];

/// A stored hold.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = holds)]
pub struct HoldRow {
    pub id: String,
    /// The reader; `None` once the reader was erased.
    pub reader_id: Option<String>,
    /// Their category when placing it (which rule sets the hold shelf days).
    pub reader_category: String,
    pub title_id: String,
    pub title: String,
    /// The copy asked for, for a copy-level hold.
    pub wanted_copy_id: Option<String>,
    /// The copy taken for the hold.
    pub copy_id: Option<String>,
    pub copy_barcode: Option<String>,
    /// Its item type (which rule sets the hold shelf days).
    pub copy_item_type: Option<String>,
    pub pickup_school_id: String,
    /// "waiting", "in_transit", "ready", "fulfilled", "cancelled" or "expired".
    pub status: String,
    pub placed_by: String,
    pub placed_at: NaiveDateTime,
    pub ready_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<String>,
}

impl InLine for HoldRow {
    fn hold_id(&self) -> &str {
        &self.id
    }
    fn waiting(&self) -> bool {
        self.status == "waiting"
    }
    fn reader_id(&self) -> Option<&str> {
        self.reader_id.as_deref()
    }
    fn wanted_copy_id(&self) -> Option<&str> {
        self.wanted_copy_id.as_deref()
    }
}

/// Stores a new hold.
pub fn insert_hold(connection: &mut DbConnection, hold: &HoldRow) -> QueryResult<()> {
    diesel::insert_into(holds::table).values(hold).execute(connection)?;
    Ok(())
}

/// One hold.
pub fn find_hold(connection: &mut DbConnection, id: &str) -> QueryResult<Option<HoldRow>> {
    holds::table.find(id).select(HoldRow::as_select()).first(connection).optional()
}

/// A title's open holds, in the order they were placed.
pub fn open_holds_of_title(connection: &mut DbConnection, title_id: &str) -> QueryResult<Vec<HoldRow>> {
    holds::table
        .filter(holds::title_id.eq(title_id))
        .filter(holds::status.eq_any(OPEN))
        .order(holds::id.asc())
        .select(HoldRow::as_select())
        .load(connection)
}

/// A reader's holds, newest first: open ones, or all.
pub fn holds_of_reader(
    connection: &mut DbConnection,
    reader_id: &str,
    include_closed: bool,
) -> QueryResult<Vec<HoldRow>> {
    let mut query = holds::table
        .filter(holds::reader_id.eq(reader_id))
        .order(holds::id.desc())
        .select(HoldRow::as_select())
        .into_boxed();
    if !include_closed {
        query = query.filter(holds::status.eq_any(OPEN));
    }
    query.load(connection)
}

/// The hold a copy is taken for (in transit or on the hold shelf), if any.
pub fn hold_holding_copy(connection: &mut DbConnection, copy_id: &str) -> QueryResult<Option<HoldRow>> {
    holds::table
        .filter(holds::copy_id.eq(copy_id))
        .filter(holds::status.eq_any(["in_transit", "ready"]))
        .select(HoldRow::as_select())
        .first(connection)
        .optional()
}

/// The titles with holds waiting for a copy, each with its waiting holds in
/// line order.
pub fn waiting_holds(connection: &mut DbConnection) -> QueryResult<Vec<HoldRow>> {
    holds::table
        .filter(holds::status.eq("waiting"))
        .order((holds::title_id.asc(), holds::id.asc()))
        .select(HoldRow::as_select())
        .load(connection)
}

/// The holds waiting on `school_id`'s hold shelf, the soonest to expire
/// first (then in the order placed), skipping `offset`. Read through the
/// partial index of ready holds by pickup school: a shelf holds tens of
/// books, sorted in memory.
pub fn ready_on_shelf(
    connection: &mut DbConnection,
    school_id: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<HoldRow>> {
    holds::table
        .filter(holds::pickup_school_id.eq(school_id))
        .filter(holds::status.eq("ready"))
        .order((holds::expires_at.asc(), holds::id.asc()))
        .offset(offset)
        .limit(limit)
        .select(HoldRow::as_select())
        .load(connection)
}

/// Takes `copy` for a waiting hold: in transit, or ready on the hold shelf
/// until `expires_at`. Returns false if the hold no longer waits.
pub fn take(
    connection: &mut DbConnection,
    hold_id: &str,
    copy: (&str, &str, &str),
    ready: Option<(NaiveDateTime, NaiveDateTime)>,
) -> QueryResult<bool> {
    let (copy_id, copy_barcode, item_type) = copy;
    let status = if ready.is_some() { "ready" } else { "in_transit" };
    let updated =
        diesel::update(holds::table.filter(holds::id.eq(hold_id)).filter(holds::status.eq("waiting")))
            .set((
                holds::copy_id.eq(Some(copy_id)),
                holds::copy_barcode.eq(Some(copy_barcode)),
                holds::copy_item_type.eq(Some(item_type)),
                holds::status.eq(status),
                holds::ready_at.eq(ready.map(|(at, _)| at)),
                holds::expires_at.eq(ready.map(|(_, until)| until)),
            ))
            .execute(connection)?;
    Ok(updated == 1)
}

/// A hold's copy arrived at the pickup school: ready until `expires_at`.
/// Returns false if the hold was no longer in transit.
pub fn arrive(
    connection: &mut DbConnection,
    hold_id: &str,
    at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<bool> {
    let updated =
        diesel::update(holds::table.filter(holds::id.eq(hold_id)).filter(holds::status.eq("in_transit")))
            .set((
                holds::status.eq("ready"),
                holds::ready_at.eq(Some(at)),
                holds::expires_at.eq(Some(expires_at)),
            ))
            .execute(connection)?;
    Ok(updated == 1)
}

/// Ends a hold that is still in `from` with `status` ("fulfilled",
/// "cancelled" or "expired"). Returns false if it was no longer in `from`.
pub fn close(
    connection: &mut DbConnection,
    hold: &HoldRow,
    status: &str,
    at: NaiveDateTime,
    by: &str,
) -> QueryResult<bool> {
    let updated =
        diesel::update(holds::table.filter(holds::id.eq(&hold.id)).filter(holds::status.eq(&hold.status)))
            .set((holds::status.eq(status), holds::closed_at.eq(Some(at)), holds::closed_by.eq(Some(by))))
            .execute(connection)?;
    Ok(updated == 1)
}

/// Holds on the hold shelf whose time ran out before `now`, soonest first.
pub fn expired_on_shelf(
    connection: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<HoldRow>> {
    holds::table
        .filter(holds::status.eq("ready"))
        .filter(holds::expires_at.lt(now))
        .order(holds::expires_at.asc())
        .limit(limit)
        .select(HoldRow::as_select())
        .load(connection)
}

/// An erased reader's holds stop naming them.
pub fn forget_reader(connection: &mut DbConnection, reader_id: &str) -> QueryResult<usize> {
    diesel::update(holds::table.filter(holds::reader_id.eq(reader_id)))
        .set(holds::reader_id.eq(None::<String>))
        .execute(connection)
}
