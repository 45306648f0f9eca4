//! The **raw** round of `lectern bench checkout`: the storage work of the
//! stations' check-out/check-in cycles as bare transactions on
//! circulation's database, through circulation's own queries and events,
//! after the suite has stopped. The ceiling the gateway rounds are measured
//! against.

use std::time::Instant;

use anyhow::Context as _;
use chrono::Utc;
use lectern_circulation::db::{self as circulation_db, Closing, LoanRow};
use lectern_circulation::events::{self, LOAN_SUBSCRIBERS};
use lectern_common::db::{Db, DbError};
use lectern_common::outbox;
use lectern_core::ids;

use super::{Desk, warm_up_cycles};
use crate::bench::latency::{Latencies, Throughput};

/// All stations of a round straight to the database at once.
pub(super) async fn raw_round(circulation: &Db, desks: &[Desk], cycles: usize) -> anyhow::Result<Throughput> {
    let mut patterns = Vec::with_capacity(desks.len());
    for desk in desks {
        let loan_id = desk.pattern.clone().context("a station made no loan")?;
        let pattern = circulation
            .run(move |connection| circulation_db::find_loan(connection, &loan_id).map_err(DbError::from))
            .await?
            .context("a loan the suite made is gone")?;
        patterns.push((desk.reader_id.clone(), pattern));
    }
    // Warm up every station's connection, then time.
    let warming: Vec<_> = patterns
        .iter()
        .map(|(reader, pattern)| {
            tokio::spawn(raw_station(
                circulation.clone(),
                reader.clone(),
                pattern.clone(),
                warm_up_cycles(cycles),
            ))
        })
        .collect();
    for station in warming {
        station.await??;
    }
    let started = Instant::now();
    let stations: Vec<_> = patterns
        .into_iter()
        .map(|(reader, pattern)| tokio::spawn(raw_station(circulation.clone(), reader, pattern, cycles)))
        .collect();
    let mut latencies = Latencies::default();
    for station in stations {
        latencies.extend(station.await??);
    }
    Ok(Throughput { elapsed: started.elapsed(), latencies })
}

/// One raw station: `cycles` cycles, one after the other.
async fn raw_station(
    db: Db,
    reader_id: String,
    pattern: LoanRow,
    cycles: usize,
) -> anyhow::Result<Latencies> {
    let mut latencies = Latencies::default();
    for _ in 0..cycles {
        raw_cycle(&db, &reader_id, &pattern, &mut latencies).await?;
    }
    Ok(latencies)
}

/// The storage work of one check-out and one check-in, each in one write
/// transaction, with circulation's own queries and events.
async fn raw_cycle(
    db: &Db,
    reader_id: &str,
    pattern: &LoanRow,
    latencies: &mut Latencies,
) -> anyhow::Result<()> {
    let now = Utc::now().naive_utc();
    let loan = LoanRow {
        id: ids::new_id(),
        reader_id: Some(reader_id.to_owned()),
        checked_out_at: now,
        created_at: now,
        returned_at: None,
        checked_in_by: None,
        anonymize_after: None,
        anonymized_at: None,
        ..pattern.clone()
    };

    let started = Instant::now();
    let lent = loan.clone();
    db.write(move |connection| {
        circulation_db::count_open_loans(connection, lent.reader_id.as_deref().unwrap_or_default())?;
        if circulation_db::open_loan_for_copy(connection, &lent.copy_id)?.is_some() {
            return Err(anyhow::anyhow!("copy {} is still on loan", lent.copy_barcode));
        }
        circulation_db::insert_loan(connection, &lent)?;
        let event = events::loan_checked_out(ids::new_id(), &lent);
        outbox::enqueue(connection, &event, &lent.copy_id, &LOAN_SUBSCRIBERS, now)?;
        Ok(())
    })
    .await?;
    latencies.record(started.elapsed());

    let started = Instant::now();
    db.write(move |connection| {
        let returned_at = Utc::now().naive_utc();
        let Some(mut open) = circulation_db::open_loan_for_barcode(connection, &loan.copy_barcode)? else {
            return Err(anyhow::anyhow!("copy {} is not on loan", loan.copy_barcode));
        };
        let by = loan.checked_out_by.clone();
        let closing =
            Closing { returned_at, checked_in_by: &by, anonymize_after: None, suspended_until: None };
        if !circulation_db::close_loan(connection, &open.id, closing)? {
            return Err(anyhow::anyhow!("copy {} was returned meanwhile", loan.copy_barcode));
        }
        open.returned_at = Some(returned_at);
        open.checked_in_by = Some(by);
        let event = events::loan_returned(ids::new_id(), &open, false, None, &open.school_id);
        outbox::enqueue(connection, &event, &open.copy_id, &LOAN_SUBSCRIBERS, returned_at)?;
        Ok(())
    })
    .await?;
    latencies.record(started.elapsed());
    Ok(())
}
