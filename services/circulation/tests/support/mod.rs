//! What the circulation tests share, on top of `lectern_common::testing`:
//! a migrated throw-away database and loans to lend.

#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use lectern_circulation::MIGRATIONS;
use lectern_circulation::db::LoanRow;
use lectern_common::db::{Db, DbError};
use lectern_common::outbox;
use lectern_common::testing::TestDatabase;
use lectern_core::ids;

/// A migrated database for one test; keep the `TestDatabase` alive as long
/// as the `Db`.
pub fn open_db() -> (TestDatabase, Db) {
    let database = TestDatabase::migrated("circulation", MIGRATIONS);
    let db = Db::connect(database.url(), 8).unwrap();
    (database, db)
}

/// Where these tests stand: the test clock's start.
pub fn now() -> DateTime<Utc> {
    lectern_common::testing::start()
}

/// A new open loan of the copy with `barcode` (its id is `copy-<barcode>`)
/// to `reader_id`, made at `at` and due 14 days later.
pub fn loan(barcode: &str, reader_id: &str, at: DateTime<Utc>) -> LoanRow {
    let due_at = at + Duration::days(14);
    LoanRow {
        id: ids::new_id(),
        reader_id: Some(reader_id.to_owned()),
        copy_id: format!("copy-{barcode}"),
        copy_barcode: barcode.to_owned(),
        title_id: "title-1".to_owned(),
        title: "草房子".to_owned(),
        school_id: "school-1".to_owned(),
        checked_out_at: at.naive_utc(),
        due_at: due_at.naive_utc(),
        due_date: due_at.format("%Y-%m-%d").to_string(),
        returned_at: None,
        reader_category: "student".to_owned(),
        reader_class_id: Some("class-1".to_owned()),
        reader_grade: 3,
        checked_out_by: "staff-1".to_owned(),
        checked_in_by: None,
        created_at: at.naive_utc(),
        history_retention: "keep".to_owned(),
        history_days: None,
        anonymize_after: None,
        anonymized_at: None,
        item_type: "book".to_owned(),
        rule_id: Some(lectern_circulation::db::rules::DISTRICT_DEFAULT.to_owned()),
        rule_version: Some(1),
        override_reason: None,
        overridden_by: None,
        overridden_blocks: None,
        suspended_until: None,
        renewals: 0,
        lost_at: None,
        claimed_returned_at: None,
        classification: String::new(),
    }
}

/// How many events wait for `subscriber`.
pub async fn pending(db: &Db, subscriber: &'static str) -> i64 {
    db.run(move |connection| -> Result<i64, DbError> { Ok(outbox::pending_count(connection, subscriber)?) })
        .await
        .unwrap()
}
