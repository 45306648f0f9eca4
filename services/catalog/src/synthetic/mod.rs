//! A synthetic district catalog for benchmarks (`lectern bench search`):
//! mixed Chinese and English titles built from common title words, with
//! authors, subjects, classes, audience ranges, ISBNs (some titles with a
//! second one), and copies spread over the district's schools with some on
//! loan, on the hold shelf or in transit. Rows go straight into a migrated
//! catalog database in multi-row inserts, many per transaction; each
//! title's search index comes from [`search::title_index`], the function
//! the service stores titles with, so the benchmark searches what the
//! service would have written.

pub mod marc;
mod words;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use lectern_common::db::{Db, DbConnection, DbError};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::search::{self, IndexedTexts};

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

/// The word lists, split.
struct Lists {
    zh_words: Vec<&'static str>,
    en_words: Vec<&'static str>,
    zh_surnames: Vec<&'static str>,
    zh_given: Vec<&'static str>,
    en_given: Vec<&'static str>,
    en_family: Vec<&'static str>,
    zh_subjects: Vec<&'static str>,
    en_subjects: Vec<&'static str>,
    publishers: Vec<&'static str>,
    clc: Vec<&'static str>,
    dewey: Vec<&'static str>,
}

impl Lists {
    fn new() -> Self {
        let split = |text: &'static str| text.split_whitespace().collect::<Vec<_>>();
        Self {
            zh_words: split(words::ZH_WORDS),
            en_words: split(words::EN_WORDS),
            zh_surnames: split(words::ZH_SURNAMES),
            zh_given: split(words::ZH_GIVEN),
            en_given: split(words::EN_GIVEN),
            en_family: split(words::EN_FAMILY),
            zh_subjects: split(words::ZH_SUBJECTS),
            en_subjects: split(words::EN_SUBJECTS),
            publishers: split(words::PUBLISHERS),
            clc: split(words::CLC_CLASSES),
            dewey: split(words::DEWEY_CLASSES),
        }
    }
}

/// The word lists, split once.
fn lists() -> &'static Lists {
    static LISTS: LazyLock<Lists> = LazyLock::new(Lists::new);
    &LISTS
}

/// Common Chinese title words (for building benchmark queries).
pub fn zh_words() -> Vec<&'static str> {
    words::ZH_WORDS.split_whitespace().collect()
}

/// Common English title words (for building benchmark queries).
pub fn en_words() -> Vec<&'static str> {
    words::EN_WORDS.split_whitespace().collect()
}

/// An ISBN-13 from its first twelve digits.
pub(crate) fn isbn13(first_twelve: &str) -> String {
    let sum: u32 = first_twelve
        .bytes()
        .enumerate()
        .map(|(index, digit)| u32::from(digit - b'0') * if index % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{first_twelve}{}", (10 - sum % 10) % 10)
}

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

/// Everything about one generated title that goes into rows.
struct TitleDraft {
    title: String,
    subtitle: String,
    series: String,
    names: Vec<String>,
    subjects: Vec<String>,
    language: &'static str,
    clc: &'static str,
    dewey: &'static str,
    audience: Option<(i32, i32)>,
}

fn zh_name(rng: &mut StdRng, lists: &Lists) -> String {
    let mut name = (*lists.zh_surnames.choose(rng).unwrap_or(&"王")).to_owned();
    for _ in 0..rng.gen_range(1..=2) {
        name.push_str(lists.zh_given.choose(rng).unwrap_or(&"明"));
    }
    name
}

fn en_name(rng: &mut StdRng, lists: &Lists) -> String {
    format!("{} {}", capitalized(pick(rng, &lists.en_given)), capitalized(pick(rng, &lists.en_family)))
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn pick(rng: &mut StdRng, list: &[&'static str]) -> &'static str {
    list.choose(rng).copied().unwrap_or("")
}

/// A Chinese title of one to four common title words (`森林的秘密`).
fn zh_title(rng: &mut StdRng, lists: &Lists) -> String {
    let words: Vec<&str> = (0..rng.gen_range(1..=4)).map(|_| pick(rng, &lists.zh_words)).collect();
    if words.len() > 2 && rng.gen_bool(0.3) {
        format!("{}的{}", words[..1].concat(), words[1..].concat())
    } else {
        words.concat()
    }
}

/// An English title of two to five capitalized title words.
fn en_title(rng: &mut StdRng, lists: &Lists) -> String {
    let words: Vec<String> =
        (0..rng.gen_range(2..=5)).map(|_| capitalized(pick(rng, &lists.en_words))).collect();
    words.join(" ")
}

fn draft(rng: &mut StdRng, lists: &Lists) -> TitleDraft {
    if rng.gen_bool(0.6) {
        let title = zh_title(rng, lists);
        let series =
            if rng.gen_bool(0.1) { format!("{}系列", pick(rng, &lists.zh_words)) } else { String::new() };
        let subtitle = if rng.gen_bool(0.15) {
            (0..2).map(|_| pick(rng, &lists.zh_words)).collect()
        } else {
            String::new()
        };
        let names = (0..rng.gen_range(1..=2)).map(|_| zh_name(rng, lists)).collect();
        let subjects = (0..rng.gen_range(1..=2)).map(|_| pick(rng, &lists.zh_subjects).to_owned()).collect();
        let clc = pick(rng, &lists.clc);
        let audience = rng.gen_bool(0.7).then(|| {
            let min = rng.gen_range(0..=9);
            (min, (min + rng.gen_range(0..=3)).min(12))
        });
        TitleDraft { title, subtitle, series, names, subjects, language: "zh", clc, dewey: "", audience }
    } else {
        let title = en_title(rng, lists);
        let names = (0..rng.gen_range(1..=2)).map(|_| en_name(rng, lists)).collect();
        let subjects =
            (0..rng.gen_range(1..=2)).map(|_| capitalized(pick(rng, &lists.en_subjects))).collect();
        let dewey = pick(rng, &lists.dewey);
        let clc = if rng.gen_bool(0.3) { pick(rng, &lists.clc) } else { "" };
        let audience = rng.gen_bool(0.7).then(|| {
            let min = rng.gen_range(0..=9);
            (min, (min + rng.gen_range(0..=3)).min(12))
        });
        TitleDraft {
            title,
            subtitle: String::new(),
            series: String::new(),
            names,
            subjects,
            language: "en",
            clc,
            dewey,
            audience,
        }
    }
}

/// Fills a migrated, empty catalog database; `progress` hears the number of
/// titles written so far after each transaction.
pub fn generate(db: &Db, plan: &Plan, mut progress: impl FnMut(u64)) -> Result<Summary, DbError> {
    let started = Instant::now();
    let lists = lists();
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
            let title = draft(&mut rng, lists);
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
                quote(lists.publishers.choose(&mut rng).unwrap_or(&"")),
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
    use crate::db::schema::{title_contributors, titles};
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
    use super::*;

    #[test]
    fn generated_isbns_are_valid() {
        for number in [0_u64, 1, 99_999_999] {
            for prefix in ["9787", "9780", "9791"] {
                let isbn = isbn13(&format!("{prefix}{number:08}"));
                assert!(crate::isbn::Isbn::parse(&isbn).is_ok(), "{isbn}");
            }
        }
    }

    #[test]
    fn drafts_mix_languages_and_quote_safely() {
        let lists = Lists::new();
        let mut rng = StdRng::seed_from_u64(7);
        let drafts: Vec<TitleDraft> = (0..200).map(|_| draft(&mut rng, &lists)).collect();
        assert!(drafts.iter().any(|draft| draft.language == "zh"));
        assert!(drafts.iter().any(|draft| draft.language == "en"));
        assert!(drafts.iter().all(|draft| !draft.title.is_empty() && !draft.names.is_empty()));
        assert_eq!(quote("Charlotte's"), "'Charlotte''s'");
    }
}
