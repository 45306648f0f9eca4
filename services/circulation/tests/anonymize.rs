//! Loan history rules against a real database (SQLite by default,
//! PostgreSQL when `LECTERN_TEST_DATABASE_URL` is set): a never-keep loan
//! forgets its reader at the return, a days rule when its time has come,
//! "keep" never; each anonymization publishes one `loan.anonymized` to the
//! notification service; with two replicas only the lease holder runs the
//! job; an erased reader's loans all forget them.

// Test helpers outside `#[test]` functions panic on failure, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use lectern_circulation::Error;
use lectern_circulation::anonymize::{AnonymizeJob, anonymize_due_loans};
use lectern_circulation::db::{self, LoanRow};
use lectern_circulation::events::{self, LOAN_SUBSCRIBERS};
use lectern_circulation::policy::history::HistoryRule;
use lectern_common::db::Db;
use lectern_common::outbox::{self, RelayWaker};
use lectern_core::clock::{ManualClock, SharedClock};
use lectern_core::ids;
use lectern_proto::events::subscribers::{CATALOG, NOTIFICATION};

use support::{loan, now, open_db, pending};

fn with_rule(mut row: LoanRow, retention: &str, days: Option<i32>) -> LoanRow {
    row.history_retention = retention.to_owned();
    row.history_days = days;
    row
}

/// A loan made at `lent_at` and returned at `returned_at`, stored as
/// check-out and check-in store it, with their events (its history rule
/// sets when it is due to forget the reader).
async fn lend_and_return(db: &Db, row: LoanRow, lent_at: DateTime<Utc>, returned_at: DateTime<Utc>) {
    assert!(row.checked_out_at <= lent_at.naive_utc());
    let returned = returned_at.naive_utc();
    let rule = HistoryRule::from_stored(&row.history_retention, row.history_days);
    db.write(move |connection| -> Result<(), Error> {
        db::insert_loan(connection, &row)?;
        let lent = events::loan_checked_out(ids::new_id(), &row);
        outbox::enqueue(connection, &lent, &row.copy_id, &LOAN_SUBSCRIBERS, lent_at.naive_utc())?;
        let closing = db::Closing {
            returned_at: returned,
            checked_in_by: "staff-1",
            anonymize_after: rule.anonymize_after(returned),
            suspended_until: None,
        };
        assert!(db::close_loan(connection, &row.id, closing)?);
        let back = events::loan_returned(ids::new_id(), &row, false, None, &row.school_id);
        outbox::enqueue(connection, &back, &row.copy_id, &LOAN_SUBSCRIBERS, returned)?;
        Ok(())
    })
    .await
    .unwrap();
}

async fn stored(db: &Db, id: &str) -> LoanRow {
    let id = id.to_owned();
    db.run(move |connection| -> Result<_, Error> { Ok(db::find_loan(connection, &id)?) })
        .await
        .unwrap()
        .unwrap()
}

fn clock_at(at: DateTime<Utc>) -> (ManualClock, SharedClock) {
    let clock = ManualClock::starting_at(at);
    let shared: SharedClock = Arc::new(clock.clone());
    (clock, shared)
}

#[tokio::test]
async fn a_days_rule_anonymizes_when_its_time_has_come_and_keep_never_does() {
    let (_database, db) = open_db();
    let at = now();
    let returned_at = at + Duration::days(1);
    let timed = with_rule(loan("C0001", "reader-1", at), "anonymize_after_days", Some(3));
    let kept = with_rule(loan("C0002", "reader-1", at), "keep", None);
    lend_and_return(&db, timed.clone(), at, returned_at).await;
    lend_and_return(&db, kept.clone(), at, returned_at).await;
    assert_eq!(
        stored(&db, &timed.id).await.anonymize_after,
        Some((returned_at + Duration::days(3)).naive_utc())
    );
    assert_eq!(stored(&db, &kept.id).await.anonymize_after, None);

    let (clock, shared) = clock_at(returned_at + Duration::days(3) - Duration::seconds(1));
    assert_eq!(anonymize_due_loans(&db, &shared).await.unwrap(), Some(0));
    assert_eq!(stored(&db, &timed.id).await.reader_id.as_deref(), Some("reader-1"));

    clock.advance(Duration::seconds(1));
    assert_eq!(anonymize_due_loans(&db, &shared).await.unwrap(), Some(1));
    assert_eq!(stored(&db, &timed.id).await.reader_id, None);
    // A second run finds nothing more, and publishes nothing more.
    let before = pending(&db, NOTIFICATION).await;
    clock.advance(Duration::days(3650));
    assert_eq!(anonymize_due_loans(&db, &shared).await.unwrap(), Some(0));
    assert_eq!(pending(&db, NOTIFICATION).await, before);
    assert_eq!(stored(&db, &kept.id).await.reader_id.as_deref(), Some("reader-1"));
}

#[tokio::test]
async fn an_open_loan_is_never_anonymized_by_the_job() {
    let (_database, db) = open_db();
    let at = now();
    let open = with_rule(loan("C0001", "reader-1", at), "never_keep", None);
    let lent = open.clone();
    db.write(move |connection| -> Result<(), Error> { Ok(db::insert_loan(connection, &lent)?) })
        .await
        .unwrap();
    let (_clock, shared) = clock_at(at + Duration::days(400));
    assert_eq!(anonymize_due_loans(&db, &shared).await.unwrap(), Some(0));
    assert_eq!(stored(&db, &open.id).await.reader_id.as_deref(), Some("reader-1"));
}

#[tokio::test]
async fn only_the_lease_holder_runs_the_job() {
    let (_database, db) = open_db();
    let at = now();
    let row = with_rule(loan("C0001", "reader-1", at), "anonymize_after_days", Some(1));
    lend_and_return(&db, row.clone(), at, at).await;
    let (clock, shared) = clock_at(at + Duration::days(2));
    let job = |clock: &SharedClock| AnonymizeJob {
        db: db.clone(),
        clock: clock.clone(),
        relay: RelayWaker::default(),
        interval: StdDuration::from_secs(60),
        zone: chrono_tz::Asia::Shanghai,
    };
    assert_eq!(job(&shared).run_once("replica-a").await.unwrap(), Some(1));
    assert_eq!(job(&shared).run_once("replica-b").await.unwrap(), None, "replica a holds the lease");
    assert_eq!(job(&shared).run_once("replica-a").await.unwrap(), Some(0), "the holder renews it");
    // A holder that stops renewing is replaced once its lease runs out.
    clock.advance(Duration::minutes(3));
    assert_eq!(job(&shared).run_once("replica-b").await.unwrap(), Some(0));
    assert_eq!(job(&shared).run_once("replica-a").await.unwrap(), None);
}

#[tokio::test]
async fn an_erased_readers_loans_all_forget_them() {
    let (_database, db) = open_db();
    let at = now();
    let first = loan("C0001", "reader-1", at);
    let second = loan("C0002", "reader-1", at);
    let someone_else = loan("C0003", "reader-2", at);
    lend_and_return(&db, first.clone(), at, at + Duration::days(1)).await;
    lend_and_return(&db, second.clone(), at, at + Duration::days(1)).await;
    lend_and_return(&db, someone_else.clone(), at, at + Duration::days(1)).await;
    let erased_at = (at + Duration::days(2)).naive_utc();
    let count = db
        .write(move |connection| -> Result<_, Error> {
            Ok(db::anonymize_reader_loans(connection, "reader-1", erased_at)?)
        })
        .await
        .unwrap();
    assert_eq!(count, 2);
    assert_eq!(stored(&db, &first.id).await.reader_id, None);
    assert_eq!(stored(&db, &second.id).await.anonymized_at, Some(erased_at));
    assert_eq!(stored(&db, &someone_else.id).await.reader_id.as_deref(), Some("reader-2"));
}

#[tokio::test]
async fn delivered_events_leave_the_outbox_after_a_week() {
    use diesel::prelude::*;
    use lectern_common::db::schema::{outbox_deliveries, outbox_events};

    let (_database, db) = open_db();
    let at = now();
    lend_and_return(&db, loan("C0001", "reader-1", at), at, at + Duration::hours(1)).await;
    let count_events = || {
        let db = db.clone();
        async move {
            db.run(|connection| -> Result<i64, Error> {
                Ok(outbox_events::table.count().get_result(connection)?)
            })
            .await
            .unwrap()
        }
    };
    assert_eq!(count_events().await, 2);
    // The catalog has both events, notification has not had them yet.
    db.write(move |connection| -> Result<_, Error> {
        Ok(diesel::update(outbox_deliveries::table.filter(outbox_deliveries::subscriber.eq(CATALOG)))
            .set(outbox_deliveries::delivered_at.eq(Some(at.naive_utc())))
            .execute(connection)?)
    })
    .await
    .unwrap();
    let (clock, shared) = clock_at(at + Duration::days(8));
    anonymize_due_loans(&db, &shared).await.unwrap();
    assert_eq!(count_events().await, 2, "an event some subscriber still waits for stays");

    db.write(move |connection| -> Result<_, Error> {
        Ok(diesel::update(outbox_deliveries::table)
            .set(outbox_deliveries::delivered_at.eq(Some(at.naive_utc())))
            .execute(connection)?)
    })
    .await
    .unwrap();
    clock.advance(Duration::minutes(1));
    anonymize_due_loans(&db, &shared).await.unwrap();
    assert_eq!(count_events().await, 0);
    assert_eq!(pending(&db, NOTIFICATION).await, 0);
}
