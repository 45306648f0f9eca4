//! The outbox relay's metrics, per publishing server and subscriber:
//! what waits (`lectern_outbox_backlog`), how long the oldest of it has
//! waited (`lectern_outbox_oldest_age_seconds`), events delivered
//! (`lectern_relay_deliveries_total`, counted per event) and failed passes
//! (`lectern_relay_failures_total`: a delivery refused or unreachable, or
//! the relay's own database or token trouble).
//!
//! The gauges are measured at the start of each relay pass, by every
//! replica whether or not it holds the subscriber's lease, so they stay
//! current on all of them: a dashboard takes their `max` across replicas,
//! not their sum.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{outbox_deliveries, outbox_events};

/// Sets the backlog gauges of `subscriber` with one query. A failed query
/// leaves them as they were: the relay's pass goes on (and fails on its own
/// if the database is gone).
pub(crate) fn observe_backlog(
    connection: &mut DbConnection,
    server: &'static str,
    subscriber: &'static str,
    now: NaiveDateTime,
) {
    let backlog: Result<(i64, Option<NaiveDateTime>), _> = outbox_deliveries::table
        .inner_join(outbox_events::table)
        .filter(outbox_deliveries::subscriber.eq(subscriber))
        .filter(outbox_deliveries::delivered_at.is_null())
        .select((count_star(), min(outbox_events::created_at)))
        .first(connection);
    match backlog {
        Ok((count, oldest)) => {
            let age = oldest.map_or(0.0, |oldest| (now - oldest).as_seconds_f64().max(0.0));
            #[allow(clippy::cast_precision_loss)] // a backlog beyond 2^53 events is not a gauge's problem
            let count = count as f64;
            metrics::gauge!("lectern_outbox_backlog", "server" => server, "subscriber" => subscriber)
                .set(count);
            metrics::gauge!("lectern_outbox_oldest_age_seconds", "server" => server, "subscriber" => subscriber)
                .set(age);
        }
        Err(error) => tracing::debug!(subscriber, %error, "cannot measure the outbox backlog"),
    }
}

/// `count` events were delivered to `subscriber`.
pub(crate) fn delivered(server: &'static str, subscriber: &'static str, count: usize) {
    metrics::counter!("lectern_relay_deliveries_total", "server" => server, "subscriber" => subscriber)
        .increment(u64::try_from(count).unwrap_or(u64::MAX));
}

/// A relay pass for `subscriber` failed; it is retried after a backoff.
pub(crate) fn failed(server: &'static str, subscriber: &'static str) {
    metrics::counter!("lectern_relay_failures_total", "server" => server, "subscriber" => subscriber)
        .increment(1);
}
