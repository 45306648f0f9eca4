//! The consuming side of events: each event id is processed once, whatever
//! the number of deliveries.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::consumed_events;

/// Runs `handle` for an event unless it was consumed before, and records it
/// as consumed in the same transaction. Returns whether it was new.
///
/// Call inside a write transaction; if two deliveries race, the second
/// fails on the primary key, its transaction rolls back and the publisher's
/// retry finds the event consumed.
pub fn consume_once<E, F>(
    connection: &mut DbConnection,
    event_id: &str,
    event_type: &str,
    now: chrono::NaiveDateTime,
    handle: F,
) -> Result<bool, E>
where
    E: From<diesel::result::Error>,
    F: FnOnce(&mut DbConnection) -> Result<(), E>,
{
    let seen: Option<String> = consumed_events::table
        .find(event_id)
        .select(consumed_events::event_id)
        .first(connection)
        .optional()?;
    if seen.is_some() {
        return Ok(false);
    }
    handle(connection)?;
    diesel::insert_into(consumed_events::table)
        .values((
            consumed_events::event_id.eq(event_id),
            consumed_events::event_type.eq(event_type),
            consumed_events::consumed_at.eq(now),
        ))
        .execute(connection)?;
    Ok(true)
}
