//! The idempotency wrapper against a real database (SQLite by default,
//! PostgreSQL when `LECTERN_TEST_DATABASE_URL` is set): copies of one call
//! sent at the same moment change things once and all get the first
//! answer; a call that spans several transactions holds its request id
//! until it answers, gives it up when it fails, and loses it to a retry
//! when its server died holding it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{SubsecRound, Utc};
use lectern_common::Error;
use lectern_common::db::{COMMON_MIGRATIONS, Db};
use lectern_common::idempotency::{Answer, HELD_CLAIM_LEASE, Held, Idempotent};
use lectern_common::outbox;
use lectern_common::testing::TestDatabase;
use lectern_core::clock::{ManualClock, SharedClock};
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::events::v1::Event;
use prost_types::Timestamp;
use tokio::sync::Barrier;

const COPIES: usize = 10;

fn open() -> (TestDatabase, Db) {
    let database = TestDatabase::migrated("common", COMMON_MIGRATIONS);
    let db = Db::connect(database.url(), 12).unwrap();
    (database, db)
}

/// What a call changes: one outbox row per run.
fn change(connection: &mut lectern_common::db::DbConnection, run: i64) -> Result<Timestamp, Error> {
    let event = Event { id: lectern_core::ids::new_id(), ..Default::default() };
    outbox::enqueue(connection, &event, "subject", &["someone"], Utc::now().naive_utc())?;
    Ok(Timestamp { seconds: run, nanos: 0 })
}

async fn changes(db: &Db) -> i64 {
    db.run(|connection| -> Result<i64, Error> { Ok(outbox::pending_count(connection, "someone")?) })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copies_of_one_write_sent_at_once_change_once_and_get_one_answer() {
    let (_database, db) = open();
    let start = Arc::new(Barrier::new(COPIES));
    let tasks: Vec<_> = (0..COPIES)
        .map(|run| {
            let (db, start) = (db.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let once = Idempotent::new("test.Write", Some("request-1".into()));
                let run = i64::try_from(run).unwrap();
                once.write(&db, Utc::now().naive_utc(), move |connection| change(connection, run)).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap().unwrap());
    }
    let fresh: Vec<Timestamp> = answers.iter().filter_map(Answer::fresh).cloned().collect();
    assert_eq!(fresh.len(), 1, "one copy made the change");
    let answers: Vec<Timestamp> = answers.into_iter().map(Answer::into_inner).collect();
    assert!(answers.iter().all(|answer| *answer == fresh[0]), "all got its answer: {answers:?}");
    assert_eq!(changes(&db).await, 1);

    // Another operation may not reuse the id; a call without one always runs.
    let reused = Idempotent::new("test.Other", Some("request-1".into()))
        .write(&db, Utc::now().naive_utc(), |connection| change(connection, 99))
        .await
        .unwrap_err();
    assert_eq!(reused.reason(), Some(Reason::RequestIdReused));
    for _ in 0..2 {
        Idempotent::new("test.Write", None)
            .write(&db, Utc::now().naive_utc(), |c| change(c, 7))
            .await
            .unwrap();
    }
    assert_eq!(changes(&db).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_refused_for_what_the_first_call_changed_gets_the_first_answer() {
    let (_database, db) = open();
    let once = Idempotent::new("test.Lend", Some("request-2".into()));
    let first = once.write(&db, Utc::now().naive_utc(), |connection| change(connection, 1)).await.unwrap();
    // The copy looked before writing and saw the change: "already on loan".
    let copy = once
        .call(&db, async {
            Err::<Answer<Timestamp>, Error>(Refusal::new(Reason::CopyAlreadyOnLoan, "on loan").into())
        })
        .await
        .unwrap();
    assert_eq!(copy, Answer::Repeated(first.into_inner()));
    // Without a stored answer the refusal stands.
    let fresh = Idempotent::new("test.Lend", Some("request-3".into()));
    let refused = fresh
        .call(&db, async {
            Err::<Answer<Timestamp>, Error>(Refusal::new(Reason::CopyAlreadyOnLoan, "on loan").into())
        })
        .await
        .unwrap_err();
    assert_eq!(refused.reason(), Some(Reason::CopyAlreadyOnLoan));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_request_id_answers_its_copies_when_it_completes_and_frees_them_when_it_fails() {
    let (_database, db) = open();
    let clock: SharedClock = Arc::new(ManualClock::starting_at(Utc::now()));
    let once = Idempotent::new("test.Import", Some("request-4".into()));
    let Held::Claimed(claim) = once.hold::<Timestamp>(&db, &clock, Duration::ZERO).await.unwrap() else {
        panic!("the first call claims the id");
    };
    // A copy arriving while the first runs, and told not to wait, is told
    // to try again.
    let busy = once.hold::<Timestamp>(&db, &clock, Duration::ZERO).await.unwrap_err();
    assert_eq!(busy.reason(), Some(Reason::RequestInProgress));
    // A copy that waits gets the first call's answer once it completes.
    let waiting = {
        let (db, clock, once) = (db.clone(), clock.clone(), once.clone());
        tokio::spawn(async move { once.hold::<Timestamp>(&db, &clock, Duration::from_secs(30)).await })
    };
    let answer = Timestamp { seconds: 42, nanos: 0 };
    let stored = answer;
    db.write(move |connection| claim.complete(connection, &stored)).await.unwrap();
    match waiting.await.unwrap().unwrap() {
        Held::Answered(got) => assert_eq!(got, answer),
        Held::Claimed(_) => panic!("the copy ran the call again"),
    }

    // A call that fails gives its id up: the retry runs.
    let failing = Idempotent::new("test.Import", Some("request-5".into()));
    let Held::Claimed(claim) = failing.hold::<Timestamp>(&db, &clock, Duration::ZERO).await.unwrap() else {
        panic!("claimed");
    };
    claim.release(&db).await.unwrap();
    assert!(matches!(
        failing.hold::<Timestamp>(&db, &clock, Duration::ZERO).await.unwrap(),
        Held::Claimed(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_left_by_a_server_that_died_is_taken_over_after_its_lease() {
    let (_database, db) = open();
    let manual = ManualClock::starting_at(Utc::now().trunc_subsecs(6));
    let clock: SharedClock = Arc::new(manual.clone());
    let once = Idempotent::new("test.Import", Some("request-6".into()));
    let Held::Claimed(mut dead) = once.hold::<Timestamp>(&db, &clock, Duration::ZERO).await.unwrap() else {
        panic!("claimed");
    };
    manual.advance(chrono::Duration::from_std(HELD_CLAIM_LEASE).unwrap() + chrono::Duration::seconds(1));
    let Held::Claimed(_taken) = once.hold::<Timestamp>(&db, &clock, Duration::ZERO).await.unwrap() else {
        panic!("the retry takes the stale claim over");
    };
    // The old holder, should it come back, may not go on.
    let later = clock.now().naive_utc();
    let lost = db.write(move |connection| dead.refresh(connection, later)).await.unwrap_err();
    assert_eq!(lost.code(), tonic::Code::Internal);
}
