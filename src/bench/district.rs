//! A synthetic district catalog in a catalog database, for `lectern bench
//! search`: titles drawn by `lectern_synthetic` (mixed Chinese and English,
//! with authors, subjects, classes, audience ranges), ISBNs (some titles
//! with a second one), and copies spread over the district's schools with
//! some on loan, on the hold shelf or in transit. Rows go straight into a
//! migrated catalog database in multi-row inserts, many per transaction;
//! each title's search index comes from [`search::title_index`], the
//! function the service stores titles with, so the benchmark searches what
//! the service would have written.

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use lectern_catalog::search::{self, IndexedTexts};
use lectern_common::db::{Db, DbConnection, DbError};
use lectern_synthetic::isbn13;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Titles.
    pub titles: u64,
    /// Copies, spread over the titles (some titles have none).
    pub copies: u64,
    /// Schools holding the copies.
    pub schools: u32,
    /// Seed of the random choices (the same seed gives the same catalog,
    /// apart from ids).
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub titles: u64,
    pub copies: u64,
    pub index_entries: u64,
    pub elapsed: Duration,
}

/// Titles per transaction.
const TITLES_PER_BATCH: u64 = 2_000;
/// Rows per INSERT statement.
const ROWS_PER_STATEMENT: usize = 1_000;

/// A SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn timestamp(at: NaiveDateTime) -> String {
    quote(&at.format("%Y-%m-%d %H:%M:%S").to_string())
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "NULL".to_owned(), |value| value.to_string())
}

/// Multi-row INSERT statements for `rows` (each already a parenthesized
/// tuple of literals).
fn inserts(table_and_columns: &str, rows: &[String], sql: &mut String) {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        sql.push_str("INSERT INTO ");
        sql.push_str(table_and_columns);
        sql.push_str(" VALUES ");
        sql.push_str(&chunk.join(","));
        sql.push_str(";\n");
    }
}

/// Rows of one batch, per table.
#[derive(Default)]
struct Batch {
    titles: Vec<String>,
    contributors: Vec<String>,
    subjects: Vec<String>,
    isbns: Vec<String>,
    fields: Vec<String>,
    terms: Vec<String>,
    copies: Vec<String>,
}

impl Batch {
    fn sql(&self) -> String {
        let mut sql = String::new();
        inserts(
            "titles (id, isbn13, title, subtitle, series, publisher, publication_year, language, \
             search_text, title_key, created_at, clc, dewey, call_number, audience_min_grade, audience_max_grade)",
            &self.titles,
            &mut sql,
        );
        inserts("title_contributors (title_id, position, name, role)", &self.contributors, &mut sql);
        inserts("title_subjects (title_id, position, subject)", &self.subjects, &mut sql);
        inserts("title_isbns (isbn13, title_id)", &self.isbns, &mut sql);
        inserts(
            "title_search_fields (title_id, title_text, author_text, subject_text, title_key)",
            &self.fields,
            &mut sql,
        );
        inserts("title_search_terms (term, title_key, title_id)", &self.terms, &mut sql);
        inserts(
            "copies (id, title_id, barcode, school_id, status, call_number, created_at, on_loan, \
             loan_due_at, loan_event_at, on_hold_shelf, in_transit, status_changed_at)",
            &self.copies,
            &mut sql,
        );
        sql
    }
}

/// Fills a migrated, empty catalog database; `progress` hears the number of
/// titles written so far after each transaction.
pub fn generate(db: &Db, plan: &Plan, mut progress: impl FnMut(u64)) -> Result<Summary, DbError> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let schools: Vec<String> = (0..plan.schools.max(1)).map(|_| lectern_core::ids::new_id()).collect();
    let now = chrono::Utc::now().naive_utc();
    let mut connection = db.connection()?;
    let copies_per_title = plan.copies as f64 / plan.titles.max(1) as f64;
    let (mut written, mut copies_written, mut entries) = (0_u64, 0_u64, 0_u64);
    while written < plan.titles {
        let mut batch = Batch::default();
        let batch_end = (written + TITLES_PER_BATCH).min(plan.titles);
        for number in written..batch_end {
            let id = lectern_core::ids::new_id();
            let title = lectern_synthetic::draft(&mut rng);
            let texts = IndexedTexts {
                title: &title.title,
                other_titles: vec![title.subtitle.as_str(), title.series.as_str()],
                names: title.names.iter().map(String::as_str).collect(),
                subjects: title.subjects.iter().map(String::as_str).collect(),
            };
            let index = search::title_index(&id, &texts);
            let isbn = isbn13(&format!("978{}{:08}", if title.language == "zh" { 7 } else { 0 }, number));
            let created_at = now - chrono::Duration::minutes(rng.gen_range(0..60 * 24 * 730));
            let call_number = if title.clc.is_empty() { title.dewey } else { title.clc };
            batch.titles.push(format!(
                "({},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{})",
                quote(&id),
                quote(&isbn),
                quote(&title.title),
                quote(&title.subtitle),
                quote(&title.series),
                quote(lectern_synthetic::publisher(&mut rng)),
                rng.gen_range(1980..=2026),
                quote(title.language),
                quote(&index.search_text),
                quote(&index.title_key),
                timestamp(created_at),
                quote(title.clc),
                quote(title.dewey),
                quote(call_number),
                optional(title.audience.map(|(min, _)| min)),
                optional(title.audience.map(|(_, max)| max)),
            ));
            for (position, name) in (1..).zip(&title.names) {
                batch.contributors.push(format!("({},{position},{},'author')", quote(&id), quote(name)));
            }
            for (position, subject) in (1..).zip(&title.subjects) {
                batch.subjects.push(format!("({},{position},{})", quote(&id), quote(subject)));
            }
            batch.isbns.push(format!("({},{})", quote(&isbn), quote(&id)));
            if rng.gen_bool(0.1) {
                // Another edition's ISBN (979-1 range, unique per title).
                batch.isbns.push(format!("({},{})", quote(&isbn13(&format!("9791{number:08}"))), quote(&id)));
            }
            let fields = &index.fields;
            batch.fields.push(format!(
                "({},{},{},{},{})",
                quote(&id),
                quote(&fields.title_text),
                quote(&fields.author_text),
                quote(&fields.subject_text),
                quote(&fields.title_key)
            ));
            entries += index.entries.len() as u64;
            for entry in &index.entries {
                batch.terms.push(format!(
                    "({},{},{})",
                    quote(&entry.term),
                    quote(&entry.title_key),
                    quote(&entry.title_id)
                ));
            }
            // Copies: spread so the total comes out at the plan's number.
            let target = ((number + 1) as f64 * copies_per_title).round() as u64;
            let count = target.saturating_sub(copies_written).min(plan.copies - copies_written);
            let count = if number + 1 == plan.titles { plan.copies - copies_written } else { count };
            for _ in 0..count {
                copies_written += 1;
                let status = if rng.gen_bool(0.95) {
                    "available"
                } else {
                    ["in_process", "damaged", "in_repair", "missing", "lost", "withdrawn"]
                        .choose(&mut rng)
                        .copied()
                        .unwrap_or("missing")
                };
                let roll: f64 = rng.r#gen();
                let (on_loan, on_hold, in_transit) =
                    (roll < 0.2, (0.2..0.21).contains(&roll), (0.21..0.22).contains(&roll));
                let added = now - chrono::Duration::minutes(rng.gen_range(0..60 * 24 * 730));
                batch.copies.push(format!(
                    "({},{},{},{},{},{},{},{},{},{},{},{},{})",
                    quote(&lectern_core::ids::new_id()),
                    quote(&id),
                    quote(&format!("B{copies_written:09}")),
                    quote(schools.choose(&mut rng).map_or("", String::as_str)),
                    quote(status),
                    quote(call_number),
                    timestamp(added),
                    on_loan,
                    if on_loan { timestamp(now + chrono::Duration::days(14)) } else { "NULL".to_owned() },
                    if on_loan || on_hold || in_transit { timestamp(now) } else { "NULL".to_owned() },
                    on_hold,
                    in_transit,
                    timestamp(added),
                ));
            }
        }
        let sql = batch.sql();
        lectern_common::db::write_transaction(&mut connection, |connection| connection.batch_execute(&sql))?;
        written = batch_end;
        progress(written);
    }
    // Fresh statistics, as the databases' own maintenance would keep them
    // (PostgreSQL's autovacuum; SQLite's `PRAGMA optimize`): the planners
    // choose index look-ups from them, and VACUUM lets PostgreSQL read the
    // index without visiting the table.
    match &mut *connection {
        DbConnection::Pg(pg) => pg.batch_execute("VACUUM ANALYZE")?,
        DbConnection::Sqlite(sqlite) => sqlite.batch_execute("ANALYZE")?,
    }
    Ok(Summary {
        titles: written,
        copies: copies_written,
        index_entries: entries,
        elapsed: started.elapsed(),
    })
}

/// A sampled title: id, title, ISBN-13, first contributor.
pub type SampleTitle = (String, String, Option<String>, Option<String>);

/// The first `limit` titles catalogued (each drawn at random by the
/// generator): ids, titles, ISBNs and first contributors, for building
/// benchmark queries.
pub fn sample_titles(connection: &mut DbConnection, limit: i64) -> QueryResult<Vec<SampleTitle>> {
    use lectern_catalog::db::schema::{title_contributors, titles};
    titles::table
        .left_join(
            title_contributors::table
                .on(title_contributors::title_id.eq(titles::id).and(title_contributors::position.eq(1))),
        )
        .select((titles::id, titles::title, titles::isbn13, title_contributors::name.nullable()))
        .order(titles::id.asc())
        .limit(limit)
        .load(connection)
}

#[cfg(test)]
mod tests {
    use lectern_catalog::search::SearchRequest;
    use lectern_common::testing::TestDatabase;
    use lectern_proto::catalog::v1 as pb;

    use super::*;

    #[test]
    fn a_small_district_is_written_searchable_and_sampled() {
        let database = TestDatabase::migrated("catalog", lectern_catalog::MIGRATIONS);
        let db = Db::connect(database.url(), 1).unwrap();
        let plan = Plan { titles: 30, copies: 45, schools: 3, seed: 2026 };
        let mut progress = Vec::new();
        let summary = generate(&db, &plan, |written| progress.push(written)).unwrap();
        assert_eq!((summary.titles, summary.copies, progress), (30, 45, vec![30]));
        assert!(summary.index_entries > 30);

        let mut connection = db.connection().unwrap();
        let sample = sample_titles(&mut connection, 100).unwrap();
        assert_eq!(sample.len(), 30);
        assert!(
            sample
                .iter()
                .all(|(_, title, isbn, author)| { !title.is_empty() && isbn.is_some() && author.is_some() })
        );
        // The rows carry the search index the service would have written.
        let (id, _, isbn, _) = &sample[0];
        let request = SearchRequest::from_request(&pb::SearchTitlesRequest {
            query: isbn.clone().unwrap_or_default(),
            ..Default::default()
        })
        .unwrap();
        let (found, _) = search::find(&mut connection, &request, 0, 20).unwrap();
        assert_eq!(found.iter().map(|row| row.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    }

    #[test]
    fn literals_are_quoted_safely() {
        assert_eq!(quote("Charlotte's"), "'Charlotte''s'");
        assert_eq!(optional(None::<i32>), "NULL");
        assert_eq!(optional(Some(3)), "3");
    }
}
