//! Queries on copies, their availability view, their status history and
//! repair tickets.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{copies, copy_status_history, repair_tickets, titles};
use super::{CopyRow, RepairTicketRow, StatusChangeRow};

/// Stores a copy.
pub fn insert_copy(connection: &mut DbConnection, copy: &CopyRow) -> QueryResult<()> {
    diesel::insert_into(copies::table).values(copy).execute(connection)?;
    Ok(())
}

/// The copy with `id`, with its title's display title.
pub fn find_copy(connection: &mut DbConnection, id: &str) -> QueryResult<Option<(CopyRow, String)>> {
    copies::table
        .inner_join(titles::table)
        .filter(copies::id.eq(id))
        .select((CopyRow::as_select(), titles::title))
        .first(connection)
        .optional()
}

/// The copy with `barcode`, with its title's display title.
pub fn find_copy_by_barcode(
    connection: &mut DbConnection,
    barcode: &str,
) -> QueryResult<Option<(CopyRow, String)>> {
    copies::table
        .inner_join(titles::table)
        .filter(copies::barcode.eq(barcode))
        .select((CopyRow::as_select(), titles::title))
        .first(connection)
        .optional()
}

/// Copies of a title (at one school, if given) ordered by id, after the copy
/// `after` (exclusive).
pub fn list_copies(
    connection: &mut DbConnection,
    title_id: &str,
    schools: Option<&[String]>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<CopyRow>> {
    let mut query = copies::table
        .filter(copies::title_id.eq(title_id))
        .select(CopyRow::as_select())
        .order(copies::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(schools) = schools {
        query = query.filter(copies::school_id.eq_any(schools.to_vec()));
    }
    if let Some(after) = after {
        query = query.filter(copies::id.gt(after.to_owned()));
    }
    query.load(connection)
}

/// The copies of several titles (at one school, if given), by title and id:
/// one query for a whole page of search hits.
pub fn copies_of_titles(
    connection: &mut DbConnection,
    title_ids: &[String],
    school_id: Option<&str>,
) -> QueryResult<Vec<CopyRow>> {
    if title_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = copies::table
        .filter(copies::title_id.eq_any(title_ids.to_vec()))
        .select(CopyRow::as_select())
        .order((copies::title_id.asc(), copies::id.asc()))
        .into_boxed();
    if let Some(school_id) = school_id {
        query = query.filter(copies::school_id.eq(school_id.to_owned()));
    }
    query.load(connection)
}

/// Records a copy's loan state from an event that happened at `event_at`,
/// unless a newer event was already applied. Returns whether the copy
/// changed (false for an unknown copy or a stale event).
pub fn set_loan_state(
    connection: &mut DbConnection,
    copy_id: &str,
    on_loan: bool,
    due_at: Option<NaiveDateTime>,
    event_at: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = diesel::update(
        copies::table
            .filter(copies::id.eq(copy_id))
            .filter(copies::loan_event_at.is_null().or(copies::loan_event_at.le(event_at))),
    )
    .set((copies::on_loan.eq(on_loan), copies::loan_due_at.eq(due_at), copies::loan_event_at.eq(event_at)))
    .execute(connection)?;
    Ok(changed > 0)
}

/// Whether a copy with `id` exists.
pub fn copy_exists(connection: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(copies::table.filter(copies::id.eq(id)))).get_result(connection)
}

/// Whether a copy with `barcode` exists, and its id.
pub fn copy_id_by_barcode(connection: &mut DbConnection, barcode: &str) -> QueryResult<Option<String>> {
    copies::table.filter(copies::barcode.eq(barcode)).select(copies::id).first(connection).optional()
}

/// Sets a copy's lifecycle status.
pub fn set_copy_status(
    connection: &mut DbConnection,
    id: &str,
    status: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(copies::table.find(id))
        .set((copies::status.eq(status), copies::status_changed_at.eq(now)))
        .execute(connection)?;
    Ok(())
}

/// Records a status change of a copy.
pub fn insert_status_change(connection: &mut DbConnection, change: &StatusChangeRow) -> QueryResult<()> {
    diesel::insert_into(copy_status_history::table).values(change).execute(connection)?;
    Ok(())
}

/// A copy's status changes, oldest first.
pub fn status_history(connection: &mut DbConnection, copy_id: &str) -> QueryResult<Vec<StatusChangeRow>> {
    copy_status_history::table
        .filter(copy_status_history::copy_id.eq(copy_id))
        .select(StatusChangeRow::as_select())
        .order((copy_status_history::occurred_at.asc(), copy_status_history::id.asc()))
        .load(connection)
}

/// The copy's open repair ticket, if any.
pub fn open_repair_ticket(
    connection: &mut DbConnection,
    copy_id: &str,
) -> QueryResult<Option<RepairTicketRow>> {
    repair_tickets::table
        .filter(repair_tickets::copy_id.eq(copy_id).and(repair_tickets::closed_at.is_null()))
        .select(RepairTicketRow::as_select())
        .first(connection)
        .optional()
}

/// Stores a new repair ticket.
pub fn insert_repair_ticket(connection: &mut DbConnection, ticket: &RepairTicketRow) -> QueryResult<()> {
    diesel::insert_into(repair_tickets::table).values(ticket).execute(connection)?;
    Ok(())
}

/// Saves a repair ticket's notes, cost and closing.
pub fn update_repair_ticket(connection: &mut DbConnection, ticket: &RepairTicketRow) -> QueryResult<()> {
    diesel::update(repair_tickets::table.find(&ticket.id))
        .set((
            repair_tickets::notes.eq(&ticket.notes),
            repair_tickets::cost_minor.eq(ticket.cost_minor),
            repair_tickets::currency.eq(&ticket.currency),
            repair_tickets::closed_by.eq(&ticket.closed_by),
            repair_tickets::closed_at.eq(ticket.closed_at),
        ))
        .execute(connection)?;
    Ok(())
}

/// A copy's repair tickets, newest first.
pub fn repair_tickets_of(connection: &mut DbConnection, copy_id: &str) -> QueryResult<Vec<RepairTicketRow>> {
    repair_tickets::table
        .filter(repair_tickets::copy_id.eq(copy_id))
        .select(RepairTicketRow::as_select())
        .order(repair_tickets::opened_at.desc())
        .load(connection)
}

/// Saves the details of a copy a cataloguer may correct.
pub fn save_copy_details(connection: &mut DbConnection, copy: &CopyRow) -> QueryResult<()> {
    diesel::update(copies::table.find(&copy.id))
        .set((
            copies::location_id.eq(&copy.location_id),
            copies::call_number.eq(&copy.call_number),
            copies::item_type.eq(&copy.item_type),
            copies::price_minor.eq(copy.price_minor),
            copies::currency.eq(&copy.currency),
            copies::acquired_on.eq(copy.acquired_on),
            copies::acquisition_source.eq(&copy.acquisition_source),
            copies::condition_note.eq(&copy.condition_note),
        ))
        .execute(connection)?;
    Ok(())
}
