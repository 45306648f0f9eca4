//! Queries of the planner and the reminder API: loan and hold schedules,
//! reminders and the deliveries they make, the delivery log and opt-outs. Each takes the caller's connection, so they compose
//! inside the caller's transaction.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{deliveries, hold_schedules, loan_schedules, opt_outs, reminders};

/// A schedule's state while its loan or hold is open.
pub const OPEN: &str = "open";
/// A schedule's state once its loan came back, was lost or anonymized, or
/// its hold ended.
pub const CLOSED: &str = "closed";

/// A reminder waiting for the planner to find its recipients (made at
/// once by an event: hold ready, fee charged, loan lost).
pub const PLANNED: &str = "planned";
/// A reminder whose deliveries were made.
pub const QUEUED: &str = "queued";
/// A reminder that no longer applied when its turn came.
pub const SKIPPED: &str = "skipped";

/// An open (or closed) loan as circulation's events described it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = loan_schedules)]
pub struct LoanSchedule {
    pub loan_id: String,
    pub school_id: String,
    pub reader_id: String,
    pub title: String,
    pub copy_barcode: String,
    /// "YYYY-MM-DD".
    pub due_date: String,
    pub state: String,
    pub updated_at: NaiveDateTime,
}

/// A copy on the hold shelf, as circulation's events described it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = hold_schedules)]
pub struct HoldSchedule {
    pub hold_id: String,
    pub school_id: String,
    pub reader_id: String,
    pub title: String,
    /// The last day it waits, "YYYY-MM-DD".
    pub expires_on: String,
    pub state: String,
    pub updated_at: NaiveDateTime,
}

/// A reminder: one per (subject, trigger).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reminders)]
pub struct ReminderRow {
    pub id: String,
    pub school_id: String,
    pub reader_id: String,
    /// The loan, hold or fee.
    pub subject_id: String,
    pub trigger_name: String,
    pub title: String,
    pub due_date: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub state: String,
    /// The school day it was made for.
    pub day: String,
    pub created_at: NaiveDateTime,
}

/// A delivery as the planner makes it: pending, no attempt yet.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = deliveries)]
pub struct NewDelivery {
    pub id: String,
    pub reminder_id: String,
    pub school_id: String,
    pub reader_id: String,
    pub reader_name: String,
    pub trigger_name: String,
    pub channel: String,
    pub recipient: String,
    pub contact_id: String,
    pub address: String,
    pub language: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: String,
    pub provider_id: String,
    /// Filled in by the sender when it renders the text.
    pub subject: String,
    pub message_id: String,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = deliveries)]
pub struct DeliveryRecord {
    pub id: String,
    pub reminder_id: String,
    pub school_id: String,
    pub reader_id: String,
    pub reader_name: String,
    pub trigger_name: String,
    pub channel: String,
    pub recipient: String,
    pub contact_id: String,
    pub address: String,
    pub language: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: String,
    pub provider_id: String,
    pub subject: String,
    pub message_id: String,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

// --- Schedules ---

/// Records a loan as open with its due day (a check-out, a renewal, a due
/// day changed by hand), keeping nothing of an earlier state.
pub fn upsert_loan_schedule(connection: &mut DbConnection, schedule: &LoanSchedule) -> QueryResult<()> {
    let updated =
        diesel::update(loan_schedules::table.find(&schedule.loan_id)).set(schedule).execute(connection)?;
    if updated == 0 {
        diesel::insert_into(loan_schedules::table).values(schedule).execute(connection)?;
    }
    Ok(())
}

/// Changes an open loan's due day (the planner saw another one at
/// circulation); returns whether it was open.
pub fn move_loan_due_date(
    connection: &mut DbConnection,
    loan_id: &str,
    due_date: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        loan_schedules::table
            .filter(loan_schedules::loan_id.eq(loan_id))
            .filter(loan_schedules::state.eq(OPEN)),
    )
    .set((loan_schedules::due_date.eq(due_date), loan_schedules::updated_at.eq(now)))
    .execute(connection)?;
    Ok(updated > 0)
}

/// Closes a loan's schedule; returns whether it was open.
pub fn close_loan_schedule(
    connection: &mut DbConnection,
    loan_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        loan_schedules::table
            .filter(loan_schedules::loan_id.eq(loan_id))
            .filter(loan_schedules::state.eq(OPEN)),
    )
    .set((loan_schedules::state.eq(CLOSED), loan_schedules::updated_at.eq(now)))
    .execute(connection)?;
    Ok(updated > 0)
}

/// A loan's schedule, open or closed.
pub fn find_loan_schedule(connection: &mut DbConnection, loan_id: &str) -> QueryResult<Option<LoanSchedule>> {
    loan_schedules::table.find(loan_id).select(LoanSchedule::as_select()).first(connection).optional()
}

/// The school's most recently scheduled open loan (for a preview).
pub fn newest_open_loan(connection: &mut DbConnection, school_id: &str) -> QueryResult<Option<LoanSchedule>> {
    loan_schedules::table
        .filter(loan_schedules::school_id.eq(school_id))
        .filter(loan_schedules::state.eq(OPEN))
        .order((loan_schedules::updated_at.desc(), loan_schedules::loan_id.desc()))
        .select(LoanSchedule::as_select())
        .first(connection)
        .optional()
}

/// The loan a preview is rendered for when none is named: the school's
/// newest open loan a text of this kind could be about — overdue for
/// overdue texts (`overdue` true), not yet overdue for "due soon" and "due
/// today" (false) — or, with none such, its newest open loan.
pub fn preview_loan(
    connection: &mut DbConnection,
    school_id: &str,
    overdue: Option<bool>,
    today: &str,
) -> QueryResult<Option<LoanSchedule>> {
    let fitting = match overdue {
        Some(overdue) => {
            let query = loan_schedules::table
                .filter(loan_schedules::school_id.eq(school_id))
                .filter(loan_schedules::state.eq(OPEN))
                .order((loan_schedules::updated_at.desc(), loan_schedules::loan_id.desc()))
                .select(LoanSchedule::as_select())
                .into_boxed();
            let query = if overdue {
                query.filter(loan_schedules::due_date.lt(today.to_owned()))
            } else {
                query.filter(loan_schedules::due_date.ge(today.to_owned()))
            };
            query.first(connection).optional()?
        }
        None => None,
    };
    match fitting {
        Some(loan) => Ok(Some(loan)),
        None => newest_open_loan(connection, school_id),
    }
}

/// A school's open loans.
pub fn open_loan_schedules(connection: &mut DbConnection, school_id: &str) -> QueryResult<Vec<LoanSchedule>> {
    loan_schedules::table
        .filter(loan_schedules::school_id.eq(school_id))
        .filter(loan_schedules::state.eq(OPEN))
        .order(loan_schedules::loan_id)
        .select(LoanSchedule::as_select())
        .load(connection)
}

/// Records a copy on the hold shelf.
pub fn upsert_hold_schedule(connection: &mut DbConnection, schedule: &HoldSchedule) -> QueryResult<()> {
    let updated =
        diesel::update(hold_schedules::table.find(&schedule.hold_id)).set(schedule).execute(connection)?;
    if updated == 0 {
        diesel::insert_into(hold_schedules::table).values(schedule).execute(connection)?;
    }
    Ok(())
}

/// Closes a hold's schedule; returns whether it was open.
pub fn close_hold_schedule(
    connection: &mut DbConnection,
    hold_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        hold_schedules::table
            .filter(hold_schedules::hold_id.eq(hold_id))
            .filter(hold_schedules::state.eq(OPEN)),
    )
    .set((hold_schedules::state.eq(CLOSED), hold_schedules::updated_at.eq(now)))
    .execute(connection)?;
    Ok(updated > 0)
}

/// Closes a reader's open holds of a title (the copy was lent to them,
/// which ends its hold shelf time without a hold event); returns how many.
pub fn close_holds_collected(
    connection: &mut DbConnection,
    reader_id: &str,
    title: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        hold_schedules::table
            .filter(hold_schedules::reader_id.eq(reader_id))
            .filter(hold_schedules::title.eq(title))
            .filter(hold_schedules::state.eq(OPEN)),
    )
    .set((hold_schedules::state.eq(CLOSED), hold_schedules::updated_at.eq(now)))
    .execute(connection)
}

/// A school's copies waiting on the hold shelf.
pub fn open_hold_schedules(connection: &mut DbConnection, school_id: &str) -> QueryResult<Vec<HoldSchedule>> {
    hold_schedules::table
        .filter(hold_schedules::school_id.eq(school_id))
        .filter(hold_schedules::state.eq(OPEN))
        .order(hold_schedules::hold_id)
        .select(HoldSchedule::as_select())
        .load(connection)
}

/// Schools with open schedules or planned reminders, of `only` if given.
pub fn schools_to_plan(connection: &mut DbConnection, only: Option<&str>) -> QueryResult<Vec<String>> {
    let mut schools: Vec<String> = loan_schedules::table
        .filter(loan_schedules::state.eq(OPEN))
        .select(loan_schedules::school_id)
        .distinct()
        .load(connection)?;
    schools.extend(
        hold_schedules::table
            .filter(hold_schedules::state.eq(OPEN))
            .select(hold_schedules::school_id)
            .distinct()
            .load::<String>(connection)?,
    );
    schools.extend(
        reminders::table
            .filter(reminders::state.eq(PLANNED))
            .select(reminders::school_id)
            .distinct()
            .load::<String>(connection)?,
    );
    schools.sort();
    schools.dedup();
    if let Some(only) = only {
        schools.retain(|school| school == only);
    }
    Ok(schools)
}

// --- Reminders ---

/// Which of `subject_ids` already have a reminder, as (subject, trigger).
pub fn existing_reminders(
    connection: &mut DbConnection,
    subject_ids: &[String],
) -> QueryResult<HashSet<(String, String)>> {
    let mut found = HashSet::new();
    for chunk in subject_ids.chunks(500) {
        let rows: Vec<(String, String)> = reminders::table
            .filter(reminders::subject_id.eq_any(chunk))
            .select((reminders::subject_id, reminders::trigger_name))
            .load(connection)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Stores a reminder unless one for its (subject, trigger) exists; returns
/// whether this call stored it. A second replica planning the same
/// reminder finds it made, without an error that would end its
/// transaction.
pub fn insert_reminder(connection: &mut DbConnection, reminder: &ReminderRow) -> QueryResult<bool> {
    let insert = diesel::insert_into(reminders::table).values(reminder).on_conflict_do_nothing();
    let inserted = match connection {
        DbConnection::Pg(pg) => insert.execute(pg)?,
        DbConnection::Sqlite(sqlite) => insert.execute(sqlite)?,
    };
    Ok(inserted == 1)
}

/// Reminders made by events and waiting for their recipients, of one
/// school.
pub fn planned_reminders(connection: &mut DbConnection, school_id: &str) -> QueryResult<Vec<ReminderRow>> {
    reminders::table
        .filter(reminders::state.eq(PLANNED))
        .filter(reminders::school_id.eq(school_id))
        .order(reminders::id)
        .select(ReminderRow::as_select())
        .load(connection)
}

/// Moves a planned reminder to `state`; returns whether it was still
/// planned (another replica may have taken it).
pub fn settle_planned(connection: &mut DbConnection, reminder_id: &str, state: &str) -> QueryResult<bool> {
    let updated = diesel::update(
        reminders::table.filter(reminders::id.eq(reminder_id)).filter(reminders::state.eq(PLANNED)),
    )
    .set(reminders::state.eq(state))
    .execute(connection)?;
    Ok(updated > 0)
}

/// Stores a reminder's deliveries.
pub fn insert_deliveries(connection: &mut DbConnection, rows: &[NewDelivery]) -> QueryResult<usize> {
    let mut count = 0;
    for row in rows {
        count += diesel::insert_into(deliveries::table).values(row).execute(connection)?;
    }
    Ok(count)
}

/// Cancels the deliveries still to go out about a subject (a returned
/// loan): pending and failed ones; returns how many.
pub fn cancel_deliveries_about(
    connection: &mut DbConnection,
    subject_id: &str,
    why: &str,
) -> QueryResult<usize> {
    let reminder_ids = reminders::table.filter(reminders::subject_id.eq(subject_id)).select(reminders::id);
    diesel::update(
        deliveries::table
            .filter(deliveries::reminder_id.eq_any(reminder_ids))
            .filter(deliveries::state.eq_any(["pending", "failed"])),
    )
    .set((
        deliveries::state.eq("cancelled"),
        deliveries::last_error.eq(why),
        deliveries::lease_holder.eq(None::<String>),
    ))
    .execute(connection)
}

/// Cancels the deliveries still to go out about a loan's old due day
/// (renewed, or changed by hand); returns how many.
pub fn cancel_deliveries_for_old_due_date(
    connection: &mut DbConnection,
    loan_id: &str,
    due_date: &str,
    why: &str,
) -> QueryResult<usize> {
    let reminder_ids = reminders::table
        .filter(reminders::subject_id.eq(loan_id))
        .filter(reminders::due_date.ne(due_date))
        .select(reminders::id);
    diesel::update(
        deliveries::table
            .filter(deliveries::reminder_id.eq_any(reminder_ids))
            .filter(deliveries::state.eq_any(["pending", "failed"])),
    )
    .set((
        deliveries::state.eq("cancelled"),
        deliveries::last_error.eq(why),
        deliveries::lease_holder.eq(None::<String>),
    ))
    .execute(connection)
}

/// Cancels what was still to go out to an address that opted out of a
/// channel; returns how many.
pub fn cancel_deliveries_to(
    connection: &mut DbConnection,
    channel: &str,
    address: &str,
    why: &str,
) -> QueryResult<usize> {
    diesel::update(
        deliveries::table
            .filter(deliveries::channel.eq(channel))
            .filter(deliveries::address.eq(address))
            .filter(deliveries::state.eq_any(["pending", "failed"])),
    )
    .set((
        deliveries::state.eq("cancelled"),
        deliveries::last_error.eq(why),
        deliveries::lease_holder.eq(None::<String>),
    ))
    .execute(connection)
}

/// Removes everything kept about an erased reader: deliveries (they hold
/// names and addresses), reminders and schedules. Returns how many
/// deliveries went.
pub fn forget_reader(connection: &mut DbConnection, reader_id: &str) -> QueryResult<usize> {
    let count =
        diesel::delete(deliveries::table.filter(deliveries::reader_id.eq(reader_id))).execute(connection)?;
    diesel::delete(reminders::table.filter(reminders::reader_id.eq(reader_id))).execute(connection)?;
    diesel::delete(loan_schedules::table.filter(loan_schedules::reader_id.eq(reader_id)))
        .execute(connection)?;
    diesel::delete(hold_schedules::table.filter(hold_schedules::reader_id.eq(reader_id)))
        .execute(connection)?;
    Ok(count)
}

// --- Opt-outs ---

/// Which of `addresses` (channel, address) asked for no more messages.
pub fn opted_out(
    connection: &mut DbConnection,
    addresses: &[String],
) -> QueryResult<HashSet<(String, String)>> {
    let mut found = HashSet::new();
    for chunk in addresses.chunks(500) {
        let rows: Vec<(String, String)> = opt_outs::table
            .filter(opt_outs::address.eq_any(chunk))
            .select((opt_outs::channel, opt_outs::address))
            .load(connection)?;
        found.extend(rows);
    }
    Ok(found)
}

// --- The delivery log ---

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub school_id: String,
    /// A stored state name, or any.
    pub state: Option<String>,
    pub reader_id: Option<String>,
}

/// A school's deliveries, newest first, after `after` (exclusive), each
/// with its reminder's subject and title.
pub fn list_deliveries(
    connection: &mut DbConnection,
    filter: &DeliveryFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<(DeliveryRecord, String, String)>> {
    let mut query = deliveries::table
        .inner_join(reminders::table)
        .filter(deliveries::school_id.eq(&filter.school_id))
        .select((DeliveryRecord::as_select(), reminders::subject_id, reminders::title))
        .order(deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(state) = &filter.state {
        query = query.filter(deliveries::state.eq(state.clone()));
    }
    if let Some(reader_id) = &filter.reader_id {
        query = query.filter(deliveries::reader_id.eq(reader_id.clone()));
    }
    if let Some(after) = after {
        query = query.filter(deliveries::id.lt(after.to_owned()));
    }
    query.load(connection)
}

/// One delivery with its reminder's subject and title.
pub fn find_delivery(
    connection: &mut DbConnection,
    id: &str,
) -> QueryResult<Option<(DeliveryRecord, String, String)>> {
    deliveries::table
        .inner_join(reminders::table)
        .filter(deliveries::id.eq(id))
        .select((DeliveryRecord::as_select(), reminders::subject_id, reminders::title))
        .first(connection)
        .optional()
}

/// Puts a failed or dead delivery back in line for now, keeping its
/// attempts; returns whether it was failed or dead.
pub fn resend_delivery(connection: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let updated = diesel::update(
        deliveries::table.filter(deliveries::id.eq(id)).filter(deliveries::state.eq_any(["failed", "dead"])),
    )
    .set((
        deliveries::state.eq("pending"),
        deliveries::next_attempt_at.eq(now),
        deliveries::lease_holder.eq(None::<String>),
        deliveries::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)?;
    Ok(updated > 0)
}

/// (made at, channel, state) of a school's deliveries made in
/// [`from`, `until`), for the report.
pub fn delivery_states(
    connection: &mut DbConnection,
    school_id: &str,
    from: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDateTime, String, String)>> {
    deliveries::table
        .filter(deliveries::school_id.eq(school_id))
        .filter(deliveries::created_at.ge(from))
        .filter(deliveries::created_at.lt(until))
        .select((deliveries::created_at, deliveries::channel, deliveries::state))
        .load(connection)
}
