//! The transactional outbox: a service records each event in the same
//! database transaction as the change it describes ([`enqueue`]), and a
//! [`Relay`] delivers the events, at least once and in order, to each
//! subscribing service's `EventSink` over gRPC. A subscriber that is down
//! only delays its events; nothing is lost and the change itself never waits.
//!
//! With several replicas, one relay at a time delivers to a subscriber: it
//! holds a lease row in `relay_leases`, renewed while it works.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_proto::events::v1::event_sink_client::EventSinkClient;
use lectern_proto::events::v1::{DeliverRequest, Event};
use prost::Message;
use tokio::sync::watch;
use tonic::transport::Channel;
use tracing::Instrument as _;

use crate::db::schema::{outbox_deliveries, outbox_events, relay_leases};
use crate::db::{Db, DbConnection, DbError};
use lectern_core::clock::SharedClock;
use lectern_core::identity::TokenSource;
use lectern_core::shutdown::Shutdown;

/// Records `event` for delivery to each of `subscribers`. Call inside the
/// transaction that makes the change.
///
/// The stored event carries the trace context of the current span (the
/// request making the change) unless it has one already, so the relay's
/// delivery and the consumers' work join that request's trace.
pub fn enqueue(
    connection: &mut DbConnection,
    event: &Event,
    subject: &str,
    subscribers: &[&str],
    now: NaiveDateTime,
) -> Result<i64, diesel::result::Error> {
    let seq: i64 = diesel::insert_into(outbox_events::table)
        .values((
            outbox_events::event_id.eq(&event.id),
            outbox_events::event_type.eq(&event.r#type),
            outbox_events::subject.eq(subject),
            outbox_events::payload.eq(encode_with_trace(event)),
            outbox_events::created_at.eq(now),
        ))
        .returning(outbox_events::seq)
        .get_result(connection)?;
    for subscriber in subscribers {
        diesel::insert_into(outbox_deliveries::table)
            .values((
                outbox_deliveries::seq.eq(seq),
                outbox_deliveries::subscriber.eq(*subscriber),
                outbox_deliveries::attempts.eq(0),
            ))
            .execute(connection)?;
    }
    Ok(seq)
}

/// `event` encoded for the outbox, with the current trace context.
fn encode_with_trace(event: &Event) -> Vec<u8> {
    if event.traceparent.is_empty() {
        let traceparent = lectern_core::telemetry::current_traceparent();
        if !traceparent.is_empty() {
            return Event { traceparent, ..event.clone() }.encode_to_vec();
        }
    }
    event.encode_to_vec()
}

/// A service that receives events.
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// Its name, as stored in `outbox_deliveries.subscriber`.
    pub name: &'static str,
    /// Its `EventSink`.
    pub channel: Channel,
}

/// How the relay paces itself.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Events per delivery call.
    pub batch_size: i64,
    /// How often to look for events committed by other replicas or
    /// processes (in-process commits wake the relay at once).
    pub poll_interval: Duration,
    /// First wait after a failed delivery; doubles up to `retry_max`.
    pub retry_min: Duration,
    /// Longest wait between attempts.
    pub retry_max: Duration,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// Deadline of one delivery call.
    pub call_timeout: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 100,
            poll_interval: Duration::from_secs(1),
            retry_min: Duration::from_millis(200),
            retry_max: Duration::from_secs(10),
            lease: Duration::from_secs(30),
            call_timeout: Duration::from_secs(5),
        }
    }
}

impl RelayConfig {
    /// The pacing a deployment sets: `LECTERN_RELAY_POLL_MS` (default
    /// 1000) and `LECTERN_RELAY_RETRY_MAX_MS` (default 10000).
    pub fn from_env() -> Result<Self, lectern_core::config::ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            poll_interval: lectern_core::config::millis("LECTERN_RELAY_POLL_MS", defaults.poll_interval)?,
            retry_max: lectern_core::config::millis("LECTERN_RELAY_RETRY_MAX_MS", defaults.retry_max)?,
            ..defaults
        })
    }
}

/// Runs a server (`served`) with the background tasks of its service (the
/// relay's delivery loops, periodic jobs) beside it, all stopped by the
/// same shutdown. If the server fails without the process shutting down,
/// the tasks are stopped too rather than left waiting for a shutdown that
/// never comes.
pub async fn serve_beside<F>(
    served: F,
    tasks: Vec<tokio::task::JoinHandle<()>>,
) -> Result<(), lectern_core::server::ServeError>
where
    F: std::future::Future<Output = Result<(), lectern_core::server::ServeError>>,
{
    let served = served.await;
    if served.is_err() {
        for task in &tasks {
            task.abort();
        }
    }
    for task in tasks {
        if let Err(error) = task.await
            && !error.is_cancelled()
        {
            tracing::error!(%error, "a background task failed");
        }
    }
    served
}

/// Wakes the relay when a transaction with events has committed. Each
/// subscriber's loop remembers which wake-ups it has seen, so one that
/// comes while a loop is busy delivering is not lost to it.
#[derive(Debug, Clone)]
pub struct RelayWaker(Arc<watch::Sender<u64>>);

impl Default for RelayWaker {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }
}

impl RelayWaker {
    /// Tells the relay that events are waiting.
    pub fn wake(&self) {
        self.0.send_modify(|wakes| *wakes = wakes.wrapping_add(1));
    }
}

/// Delivers the outbox of one service to its subscribers.
#[derive(Debug, Clone)]
pub struct Relay {
    /// The publishing service's database.
    pub db: Db,
    /// Who receives its events.
    pub subscribers: Vec<Subscriber>,
    /// Bearer tokens for the relay's calls.
    pub tokens: Arc<dyn TokenSource>,
    /// Pacing.
    pub config: RelayConfig,
    /// Wake-ups from the publishing code.
    pub waker: RelayWaker,
    /// Time source for leases.
    pub clock: SharedClock,
}

struct Pending {
    seqs: Vec<i64>,
    events: Vec<Event>,
}

impl Relay {
    /// Starts one delivery loop per subscriber; they end when `shutdown` fires.
    pub fn spawn(self, shutdown: Shutdown) -> Vec<tokio::task::JoinHandle<()>> {
        let holder = lectern_core::ids::new_id();
        self.subscribers
            .iter()
            .cloned()
            .map(|subscriber| {
                let relay = self.clone();
                let shutdown = shutdown.clone();
                let holder = holder.clone();
                tokio::spawn(async move { relay.run(subscriber, holder, shutdown).await })
            })
            .collect()
    }

    async fn run(self, subscriber: Subscriber, holder: String, shutdown: Shutdown) {
        let mut client = EventSinkClient::new(subscriber.channel.clone());
        let mut woken = self.waker.0.subscribe();
        let mut backoff = self.config.retry_min;
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            if shutdown.is_triggered() {
                return;
            }
            // Events committed before the wake-ups seen so far are found by
            // this step; a wake-up from now on may be for newer ones.
            woken.borrow_and_update();
            let wait = match self.step(&mut client, subscriber.name, &holder).await {
                Ok(Step::Delivered { full_batch: true }) => {
                    backoff = self.config.retry_min;
                    continue;
                }
                // A short batch was all there was: look again when woken,
                // at once if that happened during the delivery.
                Ok(Step::Delivered { full_batch: false } | Step::Idle) => {
                    backoff = self.config.retry_min;
                    Some(self.config.poll_interval)
                }
                Ok(Step::NotHolder) => Some(self.config.poll_interval),
                Err(error) => {
                    crate::outbox_metrics::failed(self.db.server(), subscriber.name);
                    tracing::warn!(subscriber = subscriber.name, %error, retry_in_ms = backoff.as_millis() as u64, "event delivery failed");
                    let wait = backoff;
                    backoff = (backoff * 2).min(self.config.retry_max);
                    // A failure is not woken early: the subscriber needs time.
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = &mut stop => return,
                    }
                    None
                }
            };
            if let Some(wait) = wait {
                tokio::select! {
                    // An error means the waker is gone; the poll still runs.
                    _ = woken.changed() => {}
                    () = tokio::time::sleep(wait) => {}
                    () = &mut stop => return,
                }
            }
        }
    }

    async fn step(
        &self,
        client: &mut EventSinkClient<Channel>,
        subscriber: &'static str,
        holder: &str,
    ) -> Result<Step, RelayError> {
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::seconds(30));
        let batch_size = self.config.batch_size;
        let now = self.clock.now().naive_utc();
        let holder_owned = holder.to_owned();
        let server = self.db.server();
        let pending = self
            .db
            .run(move |connection| -> Result<Option<Pending>, DbError> {
                crate::outbox_metrics::observe_backlog(connection, server, subscriber, now);
                if !take_lease(connection, subscriber, &holder_owned, now, now + lease)? {
                    return Ok(None);
                }
                Ok(Some(load_pending(connection, subscriber, batch_size)?))
            })
            .await?;
        let Some(pending) = pending else {
            return Ok(Step::NotHolder);
        };
        if pending.seqs.is_empty() {
            return Ok(Step::Idle);
        }
        let token = self.tokens.bearer().await.map_err(RelayError::Token)?;
        let count = pending.events.len();
        let span = delivery_span(subscriber, &pending.events);
        // Made inside the span, so the call carries its trace context and the
        // subscriber's work continues the events' trace.
        let request = span.in_scope(|| {
            lectern_core::client::with_bearer(
                DeliverRequest { events: pending.events },
                &token,
                self.config.call_timeout,
            )
        });
        let seqs = pending.seqs;
        match client.deliver(request).instrument(span).await {
            Ok(response) => {
                let delivered_at = self.clock.now().naive_utc();
                self.db
                    .run(move |connection| -> Result<(), DbError> {
                        diesel::update(
                            outbox_deliveries::table
                                .filter(outbox_deliveries::subscriber.eq(subscriber))
                                .filter(outbox_deliveries::seq.eq_any(&seqs)),
                        )
                        .set((
                            outbox_deliveries::delivered_at.eq(Some(delivered_at)),
                            outbox_deliveries::attempts.eq(outbox_deliveries::attempts + 1),
                            outbox_deliveries::last_error.eq(None::<String>),
                        ))
                        .execute(connection)?;
                        Ok(())
                    })
                    .await?;
                crate::outbox_metrics::delivered(server, subscriber, count);
                tracing::debug!(
                    subscriber,
                    count,
                    accepted = response.into_inner().accepted,
                    "events delivered"
                );
                Ok(Step::Delivered { full_batch: i64::try_from(count).unwrap_or(i64::MAX) >= batch_size })
            }
            Err(status) => {
                let message = format!("{:?}: {}", status.code(), status.message());
                let first = seqs[0];
                let recorded = message.clone();
                self.db
                    .run(move |connection| -> Result<(), DbError> {
                        diesel::update(
                            outbox_deliveries::table
                                .filter(outbox_deliveries::subscriber.eq(subscriber))
                                .filter(outbox_deliveries::seq.eq(first)),
                        )
                        .set((
                            outbox_deliveries::attempts.eq(outbox_deliveries::attempts + 1),
                            outbox_deliveries::last_error.eq(Some(recorded)),
                        ))
                        .execute(connection)?;
                        Ok(())
                    })
                    .await?;
                Err(RelayError::Delivery(message))
            }
        }
    }
}

/// The span of one delivery call: a child of the first event's trace (the
/// change that made it), linked to the traces of the others in the batch.
fn delivery_span(subscriber: &'static str, events: &[Event]) -> tracing::Span {
    let first = events.first();
    let span = tracing::info_span!(
        "relay.deliver",
        subscriber,
        events = events.len(),
        event.id = first.map_or("", |event| event.id.as_str()),
        "event.type" = first.map_or("", |event| event.r#type.as_str()),
    );
    let mut traces = events.iter().map(|event| event.traceparent.as_str()).filter(|value| !value.is_empty());
    if let Some(parent) = traces.next() {
        lectern_core::telemetry::adopt_traceparent(&span, parent);
        let mut linked = vec![parent];
        for traceparent in traces {
            if !linked.contains(&traceparent) {
                lectern_core::telemetry::link_traceparent(&span, traceparent);
                linked.push(traceparent);
            }
        }
    }
    span
}

enum Step {
    /// A batch went out; a full one may have more behind it.
    Delivered {
        full_batch: bool,
    },
    Idle,
    NotHolder,
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("cannot get a service token: {0}")]
    Token(tonic::Status),
    #[error("subscriber refused or unreachable: {0}")]
    Delivery(String),
}

/// Takes or renews the lease named `subscriber`; false if another holder
/// has it. The relay leases one name per subscriber; once-only jobs (loan
/// anonymization) lease their own name (`job:…`) the same way. Call inside
/// the transaction that does the leased work.
pub fn take_lease(
    connection: &mut DbConnection,
    subscriber: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, DbError> {
    let renewed = diesel::update(
        relay_leases::table
            .filter(relay_leases::subscriber.eq(subscriber))
            .filter(relay_leases::holder.eq(holder).or(relay_leases::lease_until.lt(now))),
    )
    .set((relay_leases::holder.eq(holder), relay_leases::lease_until.eq(until)))
    .execute(connection)?;
    if renewed == 1 {
        return Ok(true);
    }
    let exists: i64 =
        relay_leases::table.filter(relay_leases::subscriber.eq(subscriber)).count().get_result(connection)?;
    if exists > 0 {
        return Ok(false);
    }
    match diesel::insert_into(relay_leases::table)
        .values((
            relay_leases::subscriber.eq(subscriber),
            relay_leases::holder.eq(holder),
            relay_leases::lease_until.eq(until),
        ))
        .execute(connection)
    {
        Ok(_) => Ok(true),
        Err(error) if crate::db::is_unique_violation(&error) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The oldest undelivered events for `subscriber`.
fn load_pending(connection: &mut DbConnection, subscriber: &str, limit: i64) -> Result<Pending, DbError> {
    let rows: Vec<(i64, Vec<u8>)> = outbox_deliveries::table
        .inner_join(outbox_events::table)
        .filter(outbox_deliveries::subscriber.eq(subscriber))
        .filter(outbox_deliveries::delivered_at.is_null())
        .order(outbox_deliveries::seq.asc())
        .limit(limit)
        .select((outbox_events::seq, outbox_events::payload))
        .load(connection)?;
    let mut pending =
        Pending { seqs: Vec::with_capacity(rows.len()), events: Vec::with_capacity(rows.len()) };
    for (seq, payload) in rows {
        match Event::decode(payload.as_slice()) {
            Ok(event) => {
                pending.seqs.push(seq);
                pending.events.push(event);
            }
            Err(error) => {
                // Only this service writes the outbox; a row that does not
                // decode is a bug. Set it aside (closed, with the error kept
                // for inspection) rather than block every later event.
                tracing::error!(seq, %error, "undecodable outbox event set aside");
                diesel::update(
                    outbox_deliveries::table
                        .filter(outbox_deliveries::subscriber.eq(subscriber))
                        .filter(outbox_deliveries::seq.eq(seq)),
                )
                .set((
                    outbox_deliveries::delivered_at.eq(Some(chrono::Utc::now().naive_utc())),
                    outbox_deliveries::last_error.eq(Some(format!("undecodable: {error}"))),
                ))
                .execute(connection)?;
            }
        }
    }
    Ok(pending)
}

/// Deletes up to `limit` events created before `before` that every
/// subscriber has received, with their delivery rows; returns how many.
/// Delivered events are kept a while for inspection, but not for ever: a
/// loan event names its reader, and that link must not outlive the loan's
/// anonymization by more than the retention.
pub fn prune_delivered(
    connection: &mut DbConnection,
    before: NaiveDateTime,
    limit: i64,
) -> Result<usize, diesel::result::Error> {
    let undelivered = outbox_deliveries::table
        .filter(outbox_deliveries::seq.eq(outbox_events::seq))
        .filter(outbox_deliveries::delivered_at.is_null());
    let seqs: Vec<i64> = outbox_events::table
        .filter(outbox_events::created_at.lt(before))
        .filter(diesel::dsl::not(diesel::dsl::exists(undelivered)))
        .order(outbox_events::seq.asc())
        .limit(limit)
        .select(outbox_events::seq)
        .load(connection)?;
    diesel::delete(outbox_deliveries::table.filter(outbox_deliveries::seq.eq_any(&seqs)))
        .execute(connection)?;
    diesel::delete(outbox_events::table.filter(outbox_events::seq.eq_any(&seqs))).execute(connection)
}

/// How many events wait for `subscriber` (for tests and metrics).
pub fn pending_count(connection: &mut DbConnection, subscriber: &str) -> Result<i64, diesel::result::Error> {
    outbox_deliveries::table
        .filter(outbox_deliveries::subscriber.eq(subscriber))
        .filter(outbox_deliveries::delivered_at.is_null())
        .count()
        .get_result(connection)
}

/// The consuming side: stores a delivered batch in one write transaction,
/// handing each event not seen before to `handle`. Returns how many were new.
pub async fn consume_batch<E, H>(
    db: &Db,
    clock: &SharedClock,
    events: Vec<Event>,
    handle: H,
) -> Result<u32, E>
where
    E: From<DbError> + From<diesel::result::Error> + Send + 'static,
    H: Fn(&mut DbConnection, &Event) -> Result<(), E> + Send + 'static,
{
    let now = clock.now().naive_utc();
    db.write(move |connection| {
        let mut accepted = 0;
        for event in &events {
            let new = crate::inbox::consume_once(connection, &event.id, &event.r#type, now, |connection| {
                handle(connection, event)
            })?;
            if new {
                accepted += 1;
            }
        }
        Ok(accepted)
    })
    .await
}
