//! MARC import on a real database (SQLite by default, PostgreSQL when
//! `LECTERN_TEST_DATABASE_URL` is set), below the gRPC layer: what a
//! synthetic file of thousands of records does, and how fast.
//!
//! The speed figure is an ignored test, run by hand:
//! `cargo test -p lectern-catalog --test marc -- --ignored --nocapture`
//! (add `--release` for the figure a deployment sees).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::NaiveDateTime;
use lectern_catalog::marc::apply::ImportState;
use lectern_catalog::marc::import::{BATCH_RECORDS, Format, ImportOptions};
use lectern_catalog::marc::local::import_file;
use lectern_catalog::{MIGRATIONS, db};
use lectern_common::db::Db;
use lectern_common::testing::{TestDatabase, postgres_server_url};
use lectern_core::ids;
use lectern_proto::catalog::v1::{MarcRecordProblem, MarcRecordResult};
use lectern_synthetic::marc as synthetic_marc;

/// The test clock's start: where these tests stand.
fn now() -> NaiveDateTime {
    lectern_common::testing::start().naive_utc()
}

fn isbn13(serial: u64) -> String {
    synthetic_marc::isbn13(serial)
}

fn synthetic_file(count: u64) -> Vec<u8> {
    synthetic_marc::file(count).unwrap()
}

fn push_record(file: &mut Vec<u8>, serial: u64, barcode: &str, cn: bool) {
    synthetic_marc::push_record(file, serial, barcode, cn).unwrap();
}

fn options(school_id: &str, dry_run: bool) -> ImportOptions {
    ImportOptions {
        format: Format::Iso2709,
        school_id: Some(school_id.to_owned()),
        dry_run,
        pool_only: false,
        holdings: None,
        source_name: "synthetic.mrc".into(),
        request_id: None,
    }
}

/// Imports `file` the way the service does, batch by batch.
fn import(db: &Db, file: &[u8], options: ImportOptions) -> ImportState {
    import_reporting(db, file, options).0
}

/// Imports `file` and returns the rejected records too.
fn import_reporting(db: &Db, file: &[u8], options: ImportOptions) -> (ImportState, Vec<MarcRecordResult>) {
    let mut connection = db.connection().unwrap();
    import_file(&mut connection, file, &options, now()).unwrap()
}

fn database() -> (Db, TestDatabase) {
    let database = TestDatabase::migrated("catalog", MIGRATIONS);
    let db = Db::connect(database.url(), 2).unwrap();
    (db, database)
}

#[test]
fn a_file_of_many_batches_imports_once_and_dedups_on_the_second_run() {
    let (db, _database) = database();
    let school = ids::new_id();
    let records = BATCH_RECORDS as u64 + 203;
    let file = synthetic_file(records);
    let dry = import(&db, &file, options(&school, true));
    assert_eq!((dry.counts.titles_created, dry.counts.copies_created), (records, records));
    let mut connection = db.connection().unwrap();
    assert_eq!(db::count_pooled(&mut connection).unwrap(), 0, "a dry run writes nothing");
    let first = import(&db, &file, options(&school, false));
    assert_eq!(
        (first.counts.titles_created, first.counts.copies_created, first.counts.pooled),
        (records, records, records)
    );
    let again = import(&db, &file, options(&school, false));
    assert_eq!(
        (again.counts.titles_created, again.counts.titles_matched, again.counts.copies_existing),
        (0, records, records)
    );
    assert_eq!(db::count_pooled(&mut connection).unwrap(), records as i64);
}

#[test]
fn a_refused_record_leaves_the_rest_of_its_batch_written() {
    let (db, _database) = database();
    let school = ids::new_id();
    import(&db, &synthetic_file(10), options(&school, false));
    let mut file = Vec::new();
    for serial in 10..20 {
        push_record(&mut file, serial, &format!("S{serial:07}"), serial % 2 == 1);
    }
    // A new title whose barcode is a copy of another title: refused.
    push_record(&mut file, 100, "S0000003", false);
    // A title of this batch again, with a second copy: matched.
    push_record(&mut file, 12, "S0000500", true);
    // A title and copy of the earlier import: both already there.
    push_record(&mut file, 5, "S0000005", false);
    for serial in 20..23 {
        push_record(&mut file, serial, &format!("S{serial:07}"), serial % 2 == 1);
    }
    let (state, rejected) = import_reporting(&db, &file, options(&school, false));
    let counts = state.counts;
    assert_eq!(
        (counts.records_read, counts.records_rejected, counts.titles_created, counts.titles_matched),
        (16, 1, 13, 2)
    );
    assert_eq!((counts.copies_created, counts.copies_existing, counts.pooled), (14, 1, 15));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].record, 11);
    assert_eq!(rejected[0].problem(), MarcRecordProblem::BarcodeTaken);
    let mut connection = db.connection().unwrap();
    assert_eq!(db::title_id_by_isbn(&mut connection, &isbn13(100)).unwrap(), None, "nothing half-written");
    let twelve = db::title_id_by_isbn(&mut connection, &isbn13(12)).unwrap().unwrap();
    let (second_copy, _) = db::find_copy_by_barcode(&mut connection, "S0000500").unwrap().unwrap();
    assert_eq!(second_copy.title_id, twelve);
    let (last_copy, _) = db::find_copy_by_barcode(&mut connection, "S0000022").unwrap().unwrap();
    assert_eq!(Some(last_copy.title_id), db::title_id_by_isbn(&mut connection, &isbn13(22)).unwrap());
}

#[test]
fn a_batch_matches_the_titles_and_copies_it_makes_itself() {
    let (db, _database) = database();
    let school = ids::new_id();
    let mut file = Vec::new();
    push_record(&mut file, 1, "S0000001", false);
    push_record(&mut file, 1, "S0000002", true);
    push_record(&mut file, 1, "S0000001", false);
    let (state, rejected) = import_reporting(&db, &file, options(&school, false));
    let counts = state.counts;
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!((counts.titles_created, counts.titles_matched), (1, 2));
    assert_eq!((counts.copies_created, counts.copies_existing, counts.pooled), (2, 1, 3));
    let mut connection = db.connection().unwrap();
    assert_eq!(db::count_pooled(&mut connection).unwrap(), 1);
    let title = db::title_id_by_isbn(&mut connection, &isbn13(1)).unwrap().unwrap();
    let (copy, _) = db::find_copy_by_barcode(&mut connection, "S0000002").unwrap().unwrap();
    assert_eq!(copy.title_id, title);
    // The batch indexed the title for search as indexing it alone does.
    let imported = search_index_of(&mut connection, &title);
    assert!(!imported.2.is_empty());
    assert!(lectern_catalog::search::index_title(&mut connection, &title).unwrap());
    assert_eq!(search_index_of(&mut connection, &title), imported);
}

/// A title's stored search text and key, field texts and index entries.
fn search_index_of(
    connection: &mut lectern_common::db::DbConnection,
    title_id: &str,
) -> (db::TitleRow, db::SearchFieldsRow, Vec<String>) {
    use db::schema::{title_search_fields, title_search_terms};
    use diesel::prelude::*;
    let row = db::find_title(connection, title_id).unwrap().unwrap();
    let fields = title_search_fields::table
        .find(title_id)
        .select(db::SearchFieldsRow::as_select())
        .first(connection)
        .unwrap();
    let terms = title_search_terms::table
        .filter(title_search_terms::title_id.eq(title_id))
        .select(title_search_terms::term)
        .order(title_search_terms::term.asc())
        .load(connection)
        .unwrap();
    (row, fields, terms)
}

#[test]
#[ignore = "a figure, not a check: run by hand with --ignored --nocapture"]
fn import_speed() {
    let count =
        std::env::var("LECTERN_MARC_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let (db, _database) = database();
    let school = ids::new_id();
    let file = synthetic_file(count);
    let started = Instant::now();
    let state = import(&db, &file, options(&school, false));
    let took = started.elapsed();
    assert_eq!(state.counts.copies_created, count);
    let backend = if postgres_server_url().is_some() { "PostgreSQL" } else { "SQLite" };
    println!(
        "MARC import on {backend}: {count} records ({} KiB) in {:.2} s = {:.0} records/s",
        file.len() / 1024,
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );
}
