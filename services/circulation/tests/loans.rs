//! The loan tables and the check-out and check-in transactions against a
//! real database (SQLite by default, PostgreSQL when
//! `LECTERN_TEST_DATABASE_URL` is set): the one-open-loan rule, racing
//! stations, the outbox rows each change leaves, and idempotent retries.

// Test helpers outside `#[test]` functions panic on failure, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::Duration;
use diesel::prelude::*;
use lectern_circulation::db::{self, LoanState};
use lectern_circulation::lending::{self, CheckInAt, CheckInOutcome, CheckOutOutcome};
use lectern_circulation::{CATALOG, Error, NOTIFICATION};
use lectern_common::db::schema::outbox_events;
use lectern_common::db::unique_violation_on;
use lectern_core::refusal::Reason;
use lectern_proto::events::v1::{Event, event};
use prost::Message;

use support::{loan, now, open_db, pending};

#[test]
fn the_schema_allows_one_open_loan_per_copy() {
    let (_database, db) = open_db();
    let mut connection = db.connection().unwrap();
    let at = now();
    let first = loan("C0001", "reader-1", at);
    db::insert_loan(&mut connection, &first).unwrap();

    let second = loan("C0001", "reader-2", at);
    let error = db::insert_loan(&mut connection, &second).unwrap_err();
    assert!(unique_violation_on(&error, "copy_id"), "{error}");

    // Another copy is not affected.
    db::insert_loan(&mut connection, &loan("C0002", "reader-2", at)).unwrap();

    // Once the first loan is closed, the copy may be lent again, once.
    assert!(db::close_loan(&mut connection, &first.id, closing(at)).unwrap());
    assert!(!db::close_loan(&mut connection, &first.id, closing(at)).unwrap());
    db::insert_loan(&mut connection, &second).unwrap();
    let third = loan("C0001", "reader-3", at);
    assert!(unique_violation_on(&db::insert_loan(&mut connection, &third).unwrap_err(), "copy_id"));
    assert_eq!(db::count_loans_of_copy(&mut connection, "copy-C0001").unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_stations_lending_one_copy_make_one_loan() {
    let (_database, db) = open_db();
    let at = now();
    let tasks: Vec<_> = (0..20)
        .map(|station| {
            let db = db.clone();
            let loan = loan("C0001", &format!("reader-{station}"), at);
            tokio::spawn(async move {
                db.write(move |connection| lending::record_checkout(connection, &loan, None, None, at)).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut refusals = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(CheckOutOutcome::Lent(answer)) => winners.push(answer.loan.unwrap()),
            Ok(other) => panic!("unexpected outcome {other:?}"),
            Err(Error::Refused(refusal)) => refusals.push(refusal),
            Err(error) => panic!("unexpected error {error}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one station lends the copy");
    assert_eq!(refusals.len(), 19);
    let winner = &winners[0];
    for refusal in &refusals {
        assert_eq!(refusal.reason, Reason::CopyAlreadyOnLoan);
        assert_eq!(refusal.metadata.get("loan_id"), Some(&winner.id));
        assert_eq!(refusal.metadata.get("due_date"), Some(&winner.due_date));
    }
    let count = db
        .run(|connection| -> Result<i64, Error> { Ok(db::count_loans_of_copy(connection, "copy-C0001")?) })
        .await
        .unwrap();
    assert_eq!(count, 1);
    // Only the winner published an event.
    assert_eq!(pending(&db, NOTIFICATION).await, 1);
    assert_eq!(pending(&db, CATALOG).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_leaves_one_event_for_each_subscriber() {
    let (_database, db) = open_db();
    let at = now();
    let lent = loan("C0001", "reader-1", at);
    let loan_id = lent.id.clone();
    db.write(move |connection| lending::record_checkout(connection, &lent, None, None, at)).await.unwrap();
    assert_eq!(pending(&db, NOTIFICATION).await, 1);
    assert_eq!(pending(&db, CATALOG).await, 1);

    // Returned a day late: the event says so.
    let late = at + Duration::days(15);
    let outcome = db
        .write(move |connection| {
            lending::record_checkin(
                connection,
                "C0001",
                CheckInAt { by: "staff-2", schools: None, zone: chrono_tz::Asia::Shanghai, damage: None },
                None,
                late,
            )
        })
        .await
        .unwrap();
    let CheckInOutcome::Returned(answer) = outcome else {
        panic!("expected a return, got {outcome:?}");
    };
    assert!(answer.was_on_loan);
    let returned = answer.loan.unwrap();
    assert_eq!(returned.id, loan_id);
    assert!(returned.returned_at.is_some());
    assert!(!returned.overdue, "a returned loan is no longer overdue");
    assert_eq!(pending(&db, NOTIFICATION).await, 2);
    assert_eq!(pending(&db, CATALOG).await, 2);

    let stored: Vec<(String, String, Vec<u8>)> = db
        .run(|connection| -> Result<_, Error> {
            Ok(outbox_events::table
                .order(outbox_events::seq.asc())
                .select((outbox_events::event_type, outbox_events::subject, outbox_events::payload))
                .load(connection)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    let events: Vec<Event> =
        stored.iter().map(|(_, _, payload)| Event::decode(payload.as_slice()).unwrap()).collect();
    assert_eq!(stored[0].0, "loan.checked_out");
    assert_eq!(stored[0].1, "copy-C0001", "events are ordered per copy");
    assert_eq!(events[0].r#type, "loan.checked_out");
    assert_eq!(events[0].source, "circulation");
    assert_eq!(events[0].school_id, "school-1");
    match &events[0].payload {
        Some(event::Payload::LoanCheckedOut(payload)) => {
            assert_eq!(payload.loan_id, loan_id);
            assert_eq!(payload.title, "草房子");
            assert!(!payload.due_date.is_empty());
        }
        other => panic!("unexpected payload {other:?}"),
    }
    assert_eq!(stored[1].0, "loan.returned");
    match &events[1].payload {
        Some(event::Payload::LoanReturned(payload)) => {
            assert_eq!(payload.loan_id, loan_id);
            assert!(payload.was_overdue);
        }
        other => panic!("unexpected payload {other:?}"),
    }

    // A copy that is not on loan is a clean answer that publishes nothing.
    let outcome = db
        .write(move |connection| {
            lending::record_checkin(
                connection,
                "C0001",
                CheckInAt { by: "staff-2", schools: None, zone: chrono_tz::Asia::Shanghai, damage: None },
                None,
                late,
            )
        })
        .await
        .unwrap();
    assert!(matches!(&outcome, CheckInOutcome::NotOnLoan(answer) if !answer.was_on_loan));
    assert_eq!(pending(&db, NOTIFICATION).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_request_id_gets_the_first_answer() {
    let (_database, db) = open_db();
    let at = now();
    let first = loan("C0001", "reader-1", at);
    let first_id = first.id.clone();
    let outcome = db
        .write(move |connection| lending::record_checkout(connection, &first, None, Some("req-1"), at))
        .await
        .unwrap();
    assert!(matches!(outcome, CheckOutOutcome::Lent(_)));

    // The desk retries after a timeout: a new loan draft, the same request id.
    let retry = loan("C0001", "reader-1", at + Duration::seconds(5));
    let outcome = db
        .write(move |connection| lending::record_checkout(connection, &retry, None, Some("req-1"), at))
        .await
        .unwrap();
    let CheckOutOutcome::Repeated(answer) = outcome else {
        panic!("expected the first answer, got {outcome:?}");
    };
    assert_eq!(answer.loan.unwrap().id, first_id);
    assert_eq!(pending(&db, NOTIFICATION).await, 1, "nothing published twice");

    // The same id for another operation is refused.
    let error = db
        .write(move |connection| {
            lending::record_checkin(
                connection,
                "C0001",
                CheckInAt { by: "staff-1", schools: None, zone: chrono_tz::Asia::Shanghai, damage: None },
                Some("req-1"),
                at,
            )
        })
        .await
        .unwrap_err();
    assert!(matches!(&error, Error::Refused(refusal) if refusal.reason == Reason::RequestIdReused));

    // A check-in retried returns its first answer too.
    let first_return = db
        .write(move |connection| {
            lending::record_checkin(
                connection,
                "C0001",
                CheckInAt { by: "staff-1", schools: None, zone: chrono_tz::Asia::Shanghai, damage: None },
                Some("req-2"),
                at,
            )
        })
        .await
        .unwrap()
        .into_response();
    assert!(first_return.was_on_loan);
    let retried = db
        .write(move |connection| {
            lending::record_checkin(
                connection,
                "C0001",
                CheckInAt { by: "staff-1", schools: None, zone: chrono_tz::Asia::Shanghai, damage: None },
                Some("req-2"),
                at,
            )
        })
        .await
        .unwrap();
    assert_eq!(retried, CheckInOutcome::Repeated(first_return));
    assert_eq!(pending(&db, NOTIFICATION).await, 2);

    // "Not on loan" is remembered as well, once the scan is settled (a
    // hold may take the copy; here the catalog does not know it).
    let not_on_loan = db
        .write(move |connection| {
            let at_desk =
                CheckInAt { by: "staff-1", schools: None, zone: chrono_tz::Asia::Shanghai, damage: None };
            let outcome = lending::record_checkin(connection, "C0009", at_desk, Some("req-3"), at)?;
            assert!(matches!(outcome, CheckInOutcome::NotOnLoan(_)));
            lending::record_scan_not_on_loan(connection, None, at_desk, Some("req-3"), at)
        })
        .await
        .unwrap();
    assert!(matches!(not_on_loan, CheckInOutcome::NotOnLoan(_)));
    let again = db
        .write(move |connection| {
            lending::record_checkin(
                connection,
                "C0009",
                CheckInAt { by: "staff-1", schools: None, zone: chrono_tz::Asia::Shanghai, damage: None },
                Some("req-3"),
                at,
            )
        })
        .await
        .unwrap();
    assert!(matches!(again, CheckInOutcome::Repeated(answer) if !answer.was_on_loan));
}

#[test]
fn a_readers_loans_are_listed_newest_first_by_state() {
    let (_database, db) = open_db();
    let mut connection = db.connection().unwrap();
    let at = now();
    let mut ids = Vec::new();
    for barcode in ["C1", "C2", "C3", "C4"] {
        let lent = loan(barcode, "reader-1", at);
        db::insert_loan(&mut connection, &lent).unwrap();
        ids.push(lent.id);
    }
    db::insert_loan(&mut connection, &loan("C5", "reader-2", at)).unwrap();
    assert!(db::close_loan(&mut connection, &ids[1], closing(at)).unwrap());

    let listed = |state, after: Option<&str>, limit| -> Vec<String> {
        let mut connection = db.connection().unwrap();
        db::list_loans(
            &mut connection,
            db::LoanFilter { reader_id: "reader-1", state, schools: None },
            after,
            limit,
        )
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect()
    };
    assert_eq!(
        listed(LoanState::All, None, 10),
        vec![ids[3].clone(), ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    assert_eq!(listed(LoanState::Open, None, 10), vec![ids[3].clone(), ids[2].clone(), ids[0].clone()]);
    assert_eq!(listed(LoanState::Returned, None, 10), vec![ids[1].clone()]);
    assert_eq!(listed(LoanState::All, Some(&ids[2]), 2), vec![ids[1].clone(), ids[0].clone()]);
    let found = db::open_loan_for_barcode(&mut connection, "C3").unwrap().unwrap();
    assert_eq!(found.id, ids[2]);
    assert!(db::open_loan_for_barcode(&mut connection, "C2").unwrap().is_none());
}

/// Closing a loan at `at`, at the desk, with nothing more to note.
fn closing(at: chrono::DateTime<chrono::Utc>) -> db::Closing<'static> {
    db::Closing {
        returned_at: at.naive_utc(),
        checked_in_by: "staff-1",
        anonymize_after: None,
        suspended_until: None,
    }
}
