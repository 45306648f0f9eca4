//! The sender's queries on deliveries: claiming due ones under a lease,
//! recording what each attempt did, and counting what a school sent
//! today for its daily cap. Claims are safe with several replicas: on
//! PostgreSQL the due rows are locked with `FOR UPDATE SKIP LOCKED` (a
//! second replica skips them instead of waiting), on SQLite the claim runs
//! in a `BEGIN IMMEDIATE` transaction (one writer at a time); either way
//! the lease written in the same transaction keeps the rows out of other
//! claims until it expires.

use chrono::NaiveDateTime;
use diesel::dsl::count;
use diesel::prelude::*;
use lectern_common::db::{DbConnection, write_transaction};

use super::schema::{deliveries, opt_outs, reminders};

/// States a delivery is claimed in.
const DUE_STATES: [&str; 2] = ["pending", "failed"];

/// A claimed delivery with what its text needs from its reminder.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Claimed {
    pub id: String,
    pub school_id: String,
    pub reader_id: String,
    pub reader_name: String,
    pub trigger_name: String,
    pub channel: String,
    pub recipient: String,
    pub address: String,
    pub language: String,
    pub attempts: i32,
    /// The reminder's loan, hold or fee.
    pub subject_id: String,
    pub title: String,
    pub due_date: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

/// Claims up to `limit` due deliveries for `holder` until `lease_until`,
/// oldest due first, and returns them.
pub fn claim(
    connection: &mut DbConnection,
    holder: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    write_transaction(connection, |connection| {
        let due = deliveries::table
            .filter(deliveries::state.eq_any(DUE_STATES))
            .filter(deliveries::next_attempt_at.le(now))
            .filter(deliveries::lease_until.is_null().or(deliveries::lease_until.lt(now)))
            .order((deliveries::next_attempt_at.asc(), deliveries::id.asc()))
            .select(deliveries::id)
            .limit(limit);
        let ids: Vec<String> = match connection {
            // Rows another replica is claiming right now are skipped, not
            // waited for: it sends them, this one takes the next ones.
            DbConnection::Pg(pg) => due.for_update().skip_locked().load(pg)?,
            // BEGIN IMMEDIATE already made this the only writer.
            DbConnection::Sqlite(sqlite) => due.load(sqlite)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(deliveries::table.filter(deliveries::id.eq_any(&ids)))
            .set((deliveries::lease_holder.eq(holder), deliveries::lease_until.eq(lease_until)))
            .execute(connection)?;
        deliveries::table
            .inner_join(reminders::table)
            .filter(deliveries::id.eq_any(&ids))
            .order((deliveries::next_attempt_at.asc(), deliveries::id.asc()))
            .select((
                deliveries::id,
                deliveries::school_id,
                deliveries::reader_id,
                deliveries::reader_name,
                deliveries::trigger_name,
                deliveries::channel,
                deliveries::recipient,
                deliveries::address,
                deliveries::language,
                deliveries::attempts,
                reminders::subject_id,
                reminders::title,
                reminders::due_date,
                reminders::amount_minor,
                reminders::currency,
            ))
            .load(connection)
    })
}

/// Records deliveries as sent (one message: a digest shares
/// `message_id`). Only rows this holder still leases change.
pub fn mark_sent(
    connection: &mut DbConnection,
    ids: &[String],
    holder: &str,
    subject: &str,
    provider_id: &str,
    message_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(leased(ids, holder))
        .set((
            deliveries::state.eq("sent"),
            deliveries::attempts.eq(deliveries::attempts + 1),
            deliveries::last_error.eq(""),
            deliveries::subject.eq(subject),
            deliveries::provider_id.eq(provider_id),
            deliveries::message_id.eq(message_id),
            deliveries::sent_at.eq(Some(now)),
            deliveries::lease_holder.eq(None::<String>),
            deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(connection)
}

/// A failed attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// The subject line that was tried.
    pub subject: &'a str,
    /// What the provider said (never the address).
    pub error: &'a str,
    /// When to try again; `None`: give up (dead).
    pub next_attempt_at: Option<NaiveDateTime>,
}

/// Records a failed attempt: `failed` with the next try, or `dead`.
pub fn mark_failed(
    connection: &mut DbConnection,
    id: &str,
    holder: &str,
    attempt: &Attempt<'_>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let ids = [id.to_owned()];
    let state = if attempt.next_attempt_at.is_some() { "failed" } else { "dead" };
    diesel::update(leased(&ids, holder))
        .set((
            deliveries::state.eq(state),
            deliveries::attempts.eq(attempt.attempts),
            deliveries::subject.eq(attempt.subject),
            deliveries::last_error.eq(attempt.error),
            // A dead delivery is not tried again; its time is when it died.
            deliveries::next_attempt_at.eq(attempt.next_attempt_at.unwrap_or(now)),
            deliveries::lease_holder.eq(None::<String>),
            deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(connection)
}

/// Cancels deliveries that no longer apply (`why`: "returned", "opted out").
pub fn cancel(connection: &mut DbConnection, ids: &[String], holder: &str, why: &str) -> QueryResult<usize> {
    diesel::update(leased(ids, holder))
        .set((
            deliveries::state.eq("cancelled"),
            deliveries::last_error.eq(why),
            deliveries::lease_holder.eq(None::<String>),
            deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(connection)
}

/// Puts deliveries back to wait until `until` (the daily cap), pending.
pub fn defer(
    connection: &mut DbConnection,
    ids: &[String],
    holder: &str,
    until: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(leased(ids, holder))
        .set((
            deliveries::state.eq("pending"),
            deliveries::next_attempt_at.eq(until),
            deliveries::lease_holder.eq(None::<String>),
            deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(connection)
}

/// Gives claimed deliveries back untouched, for the next pass (circulation
/// could not be asked about their loans).
pub fn release(connection: &mut DbConnection, ids: &[String], holder: &str) -> QueryResult<usize> {
    diesel::update(leased(ids, holder))
        .set((deliveries::lease_holder.eq(None::<String>), deliveries::lease_until.eq(None::<NaiveDateTime>)))
        .execute(connection)
}

/// How many messages (a digest counts once) a school sent over `channel`
/// since `since`.
pub fn count_sent_since(
    connection: &mut DbConnection,
    school_id: &str,
    channel: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    deliveries::table
        .filter(deliveries::school_id.eq(school_id))
        .filter(deliveries::channel.eq(channel))
        .filter(deliveries::sent_at.ge(since))
        .filter(deliveries::state.eq("sent"))
        .select(count(deliveries::message_id).aggregate_distinct())
        .get_result(connection)
}

/// Which of `addresses` opted out of `channel`.
pub fn opted_out(
    connection: &mut DbConnection,
    channel: &str,
    addresses: &[String],
) -> QueryResult<Vec<String>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    opt_outs::table
        .filter(opt_outs::channel.eq(channel))
        .filter(opt_outs::address.eq_any(addresses))
        .select(opt_outs::address)
        .load(connection)
}

/// Deliveries among some ids that one holder still leases.
type Leased<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<deliveries::table, diesel::dsl::EqAny<deliveries::id, &'a [String]>>,
    diesel::dsl::Eq<deliveries::lease_holder, &'a str>,
>;

/// The rows of `ids` this holder still leases.
fn leased<'a>(ids: &'a [String], holder: &'a str) -> Leased<'a> {
    deliveries::table.filter(deliveries::id.eq_any(ids)).filter(deliveries::lease_holder.eq(holder))
}
