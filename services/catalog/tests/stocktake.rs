//! Stocktake sessions on a real database (SQLite by default, PostgreSQL
//! when `LECTERN_TEST_DATABASE_URL` is set): a refused confirm changes
//! nothing, a confirmed one marks the copies missing with their status
//! history, and a closed session takes no more changes.

// Test helpers fail the test loudly on anything unexpected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_catalog::copies::{self, CopyDraft};
use lectern_catalog::db::schema::{copies as copy_table, copy_status_history};
use lectern_catalog::stocktake_scan::{self, ScanDraft};
use lectern_catalog::stocktake_session::{self as session, Confirmation, StartDraft};
use lectern_catalog::titles::{self, TitleDraft};
use lectern_catalog::{Error, MIGRATIONS};
use lectern_common::db::{Db, DbConnection, write_transaction};
use lectern_common::testing::TestDatabase;
use lectern_core::ids;
use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1 as pb;

/// The test clock's start: where these tests stand.
fn now() -> NaiveDateTime {
    lectern_common::testing::start().naive_utc()
}

fn school_with_copies(connection: &mut DbConnection, barcodes: &[&str]) -> String {
    let school = ids::new_id();
    let title =
        pb::CreateTitleRequest {
            isbn: "9787534687983".into(), title: "草房子".into(), ..Default::default()
        };
    let draft = TitleDraft::from_request(&title).unwrap();
    let title =
        write_transaction(connection, |connection| titles::create(connection, &draft, ids::new_id(), now()))
            .unwrap();
    // One transaction for all: a large school is set up in seconds.
    write_transaction(connection, |connection| -> Result<(), Error> {
        for barcode in barcodes {
            let request = pb::CreateCopyRequest {
                title_id: title.row.id.clone(),
                barcode: (*barcode).into(),
                school_id: school.clone(),
                ..Default::default()
            };
            let draft = CopyDraft::from_request(&request).unwrap();
            copies::create(connection, &draft, ids::new_id(), now())?;
        }
        Ok(())
    })
    .unwrap();
    school
}

fn scans(barcodes: &[&str]) -> Vec<ScanDraft> {
    barcodes
        .iter()
        .enumerate()
        .map(|(index, barcode)| {
            ScanDraft::from_scan(index, &pb::Scan { barcode: (*barcode).into(), location: String::new() })
        })
        .collect()
}

fn reason(error: Error) -> Reason {
    match error {
        Error::Refused(refusal) => refusal.reason,
        other => panic!("not a refusal: {other:?}"),
    }
}

#[test]
fn finalizing_marks_unscanned_copies_missing_with_history_once() {
    let database = TestDatabase::migrated("catalog", MIGRATIONS);
    let db = Db::connect(database.url(), 1).unwrap();
    let mut connection = db.connection().unwrap();
    let connection = &mut *connection;
    let school = school_with_copies(connection, &["S1", "S2", "S3"]);
    let draft = StartDraft { school_id: school.clone(), name: "期末盘点".into(), locations: vec![] };
    let id = ids::new_id();
    let started = write_transaction(connection, |connection| {
        session::start(connection, &draft, id.clone(), "li.hua", now())
    })
    .unwrap();
    assert_eq!(started.progress.unwrap().in_scope, 3);

    let answer = write_transaction(connection, |connection| {
        stocktake_scan::record_scans(connection, &id, "", &scans(&["S1", "", "S1"]), "wang.fang", now())
    })
    .unwrap();
    let outcomes: Vec<_> = answer.results.iter().map(|result| result.outcome()).collect();
    assert_eq!(outcomes, vec![pb::ScanOutcome::Ok, pb::ScanOutcome::Invalid, pb::ScanOutcome::Duplicate]);
    assert_eq!(answer.results[1].error, "scans[1].barcode: is required");
    let long = ScanDraft::from_scan(4, &pb::Scan { barcode: "S2".into(), location: "架".repeat(101) });
    assert_eq!(long.location.unwrap_err(), "scans[4].location: is longer than 100 characters");

    let row = session::load(connection, &id).unwrap();
    let preview = session::preview(connection, &row, 10).unwrap();
    assert_eq!(preview.count, 2);

    // A wrong count is refused and changes nothing.
    let refused = write_transaction(connection, |connection| {
        session::finalize(connection, &id, &Confirmation::Count(3), "li.hua", now(), 10)
    })
    .unwrap_err();
    assert_eq!(reason(refused), Reason::StocktakeChanged);
    let missing: i64 =
        copy_table::table.filter(copy_table::status.eq("missing")).count().get_result(connection).unwrap();
    assert_eq!(missing, 0);

    let done = write_transaction(connection, |connection| {
        session::finalize(
            connection,
            &id,
            &Confirmation::Token(preview.preview_token.clone()),
            "li.hua",
            now(),
            10,
        )
    })
    .unwrap();
    assert!(done.finalized);
    assert_eq!(done.count, 2);
    let history: Vec<(String, String, String, String)> = copy_status_history::table
        .select((
            copy_status_history::from_status,
            copy_status_history::to_status,
            copy_status_history::actor_id,
            copy_status_history::reason,
        ))
        .load(connection)
        .unwrap();
    assert_eq!(history.len(), 2);
    for (from, to, actor, why) in history {
        assert_eq!((from.as_str(), to.as_str(), actor.as_str()), ("available", "missing", "li.hua"));
        assert!(why.contains("期末盘点") && why.contains(&id), "{why}");
    }

    // Closed: no more scans, no second finalize, no cancel.
    let closed = write_transaction(connection, |connection| {
        stocktake_scan::record_scans(connection, &id, "", &scans(&["S2"]), "wang.fang", now())
    })
    .unwrap_err();
    assert_eq!(reason(closed), Reason::StocktakeClosed);
    let again = write_transaction(connection, |connection| {
        session::finalize(connection, &id, &Confirmation::Count(0), "li.hua", now(), 10)
    })
    .unwrap_err();
    assert_eq!(reason(again), Reason::StocktakeClosed);
    let cancel =
        write_transaction(connection, |connection| session::cancel(connection, &id, "li.hua", now()))
            .unwrap_err();
    assert_eq!(reason(cancel), Reason::StocktakeClosed);
    assert_eq!(reason(session::load(connection, &ids::new_id()).unwrap_err()), Reason::StocktakeNotFound);
}

#[test]
fn a_cancelled_session_frees_its_shelves_and_marks_nothing() {
    let database = TestDatabase::migrated("catalog", MIGRATIONS);
    let db = Db::connect(database.url(), 1).unwrap();
    let mut connection = db.connection().unwrap();
    let connection = &mut *connection;
    let school = school_with_copies(connection, &["S1"]);
    let draft = StartDraft { school_id: school, name: "盘点".into(), locations: vec![] };
    let first = ids::new_id();
    write_transaction(connection, |connection| {
        session::start(connection, &draft, first.clone(), "li.hua", now())
    })
    .unwrap();
    let second = write_transaction(connection, |connection| {
        session::start(connection, &draft, ids::new_id(), "li.hua", now())
    })
    .unwrap_err();
    assert_eq!(reason(second), Reason::StocktakeAlreadyOpen);
    let cancelled =
        write_transaction(connection, |connection| session::cancel(connection, &first, "li.hua", now()))
            .unwrap();
    assert_eq!(cancelled.state(), pb::StocktakeState::Cancelled);
    assert_eq!(cancelled.marked_missing, 0);
    write_transaction(connection, |connection| {
        session::start(connection, &draft, ids::new_id(), "li.hua", now())
    })
    .unwrap();
}

/// Figures, not a timed test: how long a school of `LECTERN_STOCKTAKE_COPIES`
/// (default 20,000) copies takes to start, to record a batch of 1000 scans,
/// to show its progress and to preview finalizing. Run with
/// `cargo test -p lectern-catalog --test stocktake -- --ignored --nocapture`.
#[test]
#[ignore = "prints figures; run by hand"]
fn figures_for_a_large_school() {
    let copies: usize =
        std::env::var("LECTERN_STOCKTAKE_COPIES").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let database = TestDatabase::migrated("catalog", MIGRATIONS);
    let db = Db::connect(database.url(), 1).unwrap();
    let mut connection = db.connection().unwrap();
    let connection = &mut *connection;
    let barcodes: Vec<String> = (0..copies).map(|n| format!("C{n:07}")).collect();
    let refs: Vec<&str> = barcodes.iter().map(String::as_str).collect();
    let school = school_with_copies(connection, &refs);
    let timed = |what: &str, started: std::time::Instant| {
        println!("{what}: {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
    };
    let id = ids::new_id();
    let draft = StartDraft { school_id: school, name: "figures".into(), locations: vec![] };
    let started = std::time::Instant::now();
    write_transaction(connection, |connection| {
        session::start(connection, &draft, id.clone(), "li.hua", now())
    })
    .unwrap();
    timed(&format!("start over {copies} copies (with progress)"), started);
    let batch: Vec<&str> = barcodes.iter().take(1000).map(String::as_str).collect();
    let started = std::time::Instant::now();
    write_transaction(connection, |connection| {
        stocktake_scan::record_scans(connection, &id, "", &scans(&batch), "wang.fang", now())
    })
    .unwrap();
    timed("record a batch of 1000 scans (with progress)", started);
    let started = std::time::Instant::now();
    let row = session::load(connection, &id).unwrap();
    session::view(connection, &row, true).unwrap();
    timed("progress", started);
    let started = std::time::Instant::now();
    let preview = session::preview(connection, &row, 100).unwrap();
    timed(&format!("finalize preview ({} missing)", preview.count), started);
}
