//! The anonymization job: returned loans whose history rule's time has
//! come stop naming their reader. Each loan keeps its snapshot (category,
//! class, grade, school, title) for statistics; `reader_id` is cleared and
//! a `loan.anonymized` event tells the notification service to purge the
//! loan's notices. Runs every `LECTERN_ANONYMIZE_INTERVAL_MS`; with several
//! replicas one at a time holds the job's lease, and a loan is published
//! only by the transaction that actually cleared it, so no loan is
//! anonymized (or announced) twice. The job also removes outbox events
//! every subscriber received more than a week ago, since a loan event names
//! its reader, and ends holds whose copy waited on the hold shelf past its
//! day: the copy goes to the next reader in line or back to the shelf.

use std::time::Duration;

use chrono::NaiveDateTime;
use lectern_common::db::Db;
use lectern_common::outbox::{self, RelayWaker};
use lectern_core::clock::SharedClock;
use lectern_core::shutdown::Shutdown;

use crate::db;
use crate::{checkin, hold_shelf};
use lectern_common::Error;

/// The job's lease name in `relay_leases`.
pub const LEASE: &str = "job:anonymize-loans";
/// Loans anonymized per transaction.
const BATCH: i64 = 200;
/// How long delivered events stay in the outbox: they name readers, so the
/// job removes them once this old (after every subscriber has them).
pub const OUTBOX_RETENTION_DAYS: i64 = 7;
/// How long the lease outlives one interval, so the holder renews it in
/// time and a dead holder is replaced after at most this much more.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

/// The periodic job.
#[derive(Debug, Clone)]
pub struct AnonymizeJob {
    /// The circulation database.
    pub db: Db,
    /// Time source (a test's `ManualClock`).
    pub clock: SharedClock,
    /// Wakes the relay when events were recorded.
    pub relay: RelayWaker,
    /// How often to run.
    pub interval: Duration,
    /// The schools' time zone (hold shelf days of the next reader in line).
    pub zone: chrono_tz::Tz,
}

impl AnonymizeJob {
    /// Runs the job now and then every `interval` until `shutdown` fires.
    pub fn spawn(self, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
        let holder = lectern_core::ids::new_id();
        tokio::spawn(async move {
            let stop = shutdown.wait();
            tokio::pin!(stop);
            loop {
                match self.run_once(&holder).await {
                    Ok(Some(count)) if count > 0 => {
                        self.relay.wake();
                        tracing::info!(count, "returned loans anonymized and expired holds passed on");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "loan anonymization failed; retrying next interval"),
                }
                tokio::select! {
                    () = tokio::time::sleep(self.interval) => {}
                    () = &mut stop => return,
                }
            }
        })
    }

    /// One run as `holder`: `None` if another replica holds the lease,
    /// else how many loans were anonymized.
    pub async fn run_once(&self, holder: &str) -> Result<Option<usize>, Error> {
        let lease =
            chrono::Duration::from_std(self.interval + LEASE_MARGIN).unwrap_or(chrono::Duration::hours(1));
        let mut total = 0;
        loop {
            let now = self.clock.now().naive_utc();
            let holder = holder.to_owned();
            let zone = self.zone;
            let done = self
                .db
                .write(move |connection| -> Result<Option<(usize, bool)>, Error> {
                    if !outbox::take_lease(connection, LEASE, &holder, now, now + lease)? {
                        return Ok(None);
                    }
                    let (count, more) = anonymize_batch(connection, now)?;
                    let (expired, more_expired) = expire_holds_batch(connection, now, zone)?;
                    let pruned = outbox::prune_delivered(
                        connection,
                        now - chrono::Duration::days(OUTBOX_RETENTION_DAYS),
                        BATCH,
                    )?;
                    let more = more || more_expired || i64::try_from(pruned).unwrap_or(i64::MAX) >= BATCH;
                    Ok(Some((count + expired, more)))
                })
                .await?;
            match done {
                None => return Ok(None),
                Some((count, more)) => {
                    total += count;
                    if !more {
                        return Ok(Some(total));
                    }
                }
            }
        }
    }
}

/// Anonymizes up to one batch of due loans in the caller's transaction;
/// returns how many, and whether a full batch was found (more may wait).
fn anonymize_batch(
    connection: &mut lectern_common::db::DbConnection,
    now: NaiveDateTime,
) -> Result<(usize, bool), Error> {
    let due = db::loans_due_for_anonymization(connection, now, BATCH)?;
    let more = i64::try_from(due.len()).unwrap_or(i64::MAX) >= BATCH;
    let mut count = 0;
    for mut loan in due {
        if checkin::anonymize(connection, &mut loan, now)? {
            tracing::debug!(loan.id = %loan.id, "loan anonymized");
            count += 1;
        }
    }
    Ok((count, more))
}

/// Ends up to one batch of holds whose copy waited on the hold shelf past
/// its day, passing each copy on; returns how many, and whether a full
/// batch was found.
fn expire_holds_batch(
    connection: &mut lectern_common::db::DbConnection,
    now: NaiveDateTime,
    zone: chrono_tz::Tz,
) -> Result<(usize, bool), Error> {
    let expired = db::holds::expired_on_shelf(connection, now, BATCH)?;
    let more = i64::try_from(expired.len()).unwrap_or(i64::MAX) >= BATCH;
    let mut count = 0;
    let at = chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(now, chrono::Utc);
    for hold in expired {
        if db::holds::close(connection, &hold, "expired", now, "circulation")? {
            hold_shelf::pass_on(connection, &hold, "expired", at, zone)?;
            tracing::debug!(hold.id = %hold.id, "hold expired on the shelf");
            count += 1;
        }
    }
    Ok((count, more))
}

/// The lease holder of runs started by hand.
const MANUAL_HOLDER: &str = "manual";

/// Runs the job once now, for tests and operators' tools: `None` if a
/// running replica holds the lease. Runs by hand share one holder name;
/// should two overlap, a loan is still published only by the transaction
/// that cleared it.
pub async fn anonymize_due_loans(db: &Db, clock: &SharedClock) -> Result<Option<usize>, Error> {
    let job = AnonymizeJob {
        db: db.clone(),
        clock: clock.clone(),
        relay: RelayWaker::default(),
        interval: Duration::from_secs(1),
        zone: chrono_tz::Asia::Shanghai,
    };
    job.run_once(MANUAL_HOLDER).await
}
