//! The loan tables against a real database (SQLite by default, PostgreSQL
//! when `LECTERN_TEST_DATABASE_URL` is set): the one-open-loan rule of the
//! schema and a reader's loans by state. Check-out and check-in themselves,
//! their races, events and retries, are tested through the whole suite
//! (`tests/suite`), as desks use them.

// Test helpers outside `#[test]` functions panic on failure, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use lectern_circulation::db::{self, LoanState};
use lectern_common::db::unique_violation_on;

use support::{loan, now, open_db};

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
