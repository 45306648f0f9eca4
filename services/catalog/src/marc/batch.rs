//! The fast way to write an import batch: what the database has for all
//! the batch's ISBNs and barcodes is read with one query each, every row
//! of the batch is built in memory by the same rules as a title or copy
//! added one at a time ([`titles::title_row`], [`copies::copy_row`]), and
//! the rows go in with multi-row INSERTs, the new titles' search index
//! entries too. On PostgreSQL that turns twenty
//! round trips per record into a handful per batch.
//!
//! It handles only batches where no record is refused. The first record
//! that would be refused (a barcode of another title, an unknown item type,
//! a bad location name, a repeated ISBN) or a unique index that disagrees
//! at insert time makes it give up with [`Failure::Conflict`]; the caller
//! rolls the batch back and writes it again one record at a time, which
//! reports each refused record as before.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use lectern_common::db::{DbConnection, is_unique_violation};
use lectern_core::ids;
use lectern_proto::catalog::v1 as pb;

use super::apply::{Failure, ImportState, copy_draft, item_type_known, location_id, title_draft};
use super::import::{GoodRecord, Prepared};
use crate::copies;
use crate::db::{self, BatchRows, ContributorRow, PoolRow, SubjectRow, TitleIsbnRow};
use crate::search::{self, IndexedTexts};
use crate::titles;
use lectern_common::Error;

/// What the database and the batch so far hold, by key.
#[derive(Debug, Default)]
struct Known {
    /// Title id of each ISBN-13.
    titles_by_isbn: HashMap<String, String>,
    /// Call number of each title a copy may be added to.
    call_numbers: HashMap<String, String>,
    /// (title id, school id) of each barcode.
    copies_by_barcode: HashMap<String, (String, String)>,
    /// ISBN-13s of pool records: already stored, or where in the batch.
    pooled_stored: HashSet<String>,
    pooled_new: HashMap<String, usize>,
    pooled_replaced: HashMap<String, usize>,
}

/// Writes a batch of a real (not dry) import inside the caller's
/// transaction and returns the records rejected when they were read.
pub(super) fn write_batch(
    connection: &mut DbConnection,
    state: &mut ImportState,
    batch: &[Prepared],
    now: NaiveDateTime,
) -> Result<Vec<pb::MarcRecordResult>, Failure> {
    let goods: Vec<&GoodRecord> = batch
        .iter()
        .filter_map(|prepared| match prepared {
            Prepared::Good(good) => Some(&**good),
            Prepared::Rejected(_) => None,
        })
        .collect();
    let mut known = look_up(connection, state, &goods)?;
    let mut rows = BatchRows::default();
    let mut rejected = Vec::new();
    for prepared in batch {
        state.counts.records_read += 1;
        let good = match prepared {
            Prepared::Rejected(result) => {
                state.counts.records_rejected += 1;
                rejected.push(result.clone());
                continue;
            }
            Prepared::Good(good) => good,
        };
        if !state.options.pool_only {
            let title_id = title_of(state, good, now, &mut known, &mut rows)?;
            add_copies(connection, state, good, &title_id, now, &mut known, &mut rows)?;
        }
        pool(state, good, now, &mut known, &mut rows);
    }
    // In primary-key order, each index page the entries go to is visited
    // once, not once per title: SQLite imported about 1.5 times as fast,
    // PostgreSQL about 1.1 times (`docs/marc.md`, Speed).
    rows.search_terms.sort_unstable();
    db::insert_batch(connection, &rows).map_err(|error| {
        // Another writer got there between the lookups and the insert: the
        // record-at-a-time path names the record it concerns.
        if is_unique_violation(&error) { Failure::Conflict } else { Failure::from(error) }
    })?;
    Ok(rejected)
}

/// One query each for the batch's ISBNs, barcodes, the call numbers of the
/// titles they match, and the pool records they replace.
fn look_up(
    connection: &mut DbConnection,
    state: &ImportState,
    goods: &[&GoodRecord],
) -> Result<Known, Failure> {
    let isbn13s: Vec<String> = goods
        .iter()
        .flat_map(|good| good.bib.isbns.iter().map(|isbn| isbn.isbn13().to_owned()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut known = Known::default();
    if !state.options.pool_only {
        known.titles_by_isbn = db::titles_by_isbns(connection, &isbn13s)?.into_iter().collect();
        let title_ids: Vec<String> =
            known.titles_by_isbn.values().cloned().collect::<HashSet<_>>().into_iter().collect();
        known.call_numbers = db::call_numbers_of(connection, &title_ids)?.into_iter().collect();
        if state.options.school_id.is_some() {
            let barcodes: Vec<String> =
                goods.iter().flat_map(|good| good.items.iter().map(|item| item.barcode.clone())).collect();
            known.copies_by_barcode = db::copies_by_barcodes(connection, &barcodes)?
                .into_iter()
                .map(|(barcode, title_id, school_id)| (barcode, (title_id, school_id)))
                .collect();
        }
    }
    if goods.iter().any(|good| good.pool_xml.is_some()) {
        known.pooled_stored = db::pooled_isbns(connection, &isbn13s)?.into_iter().collect();
    }
    Ok(known)
}

/// The record's title: the one with any of its ISBNs (catalogued or made
/// earlier in the batch), else a new one.
fn title_of(
    state: &mut ImportState,
    good: &GoodRecord,
    now: NaiveDateTime,
    known: &mut Known,
    rows: &mut BatchRows,
) -> Result<String, Failure> {
    let found = good.bib.isbns.iter().find_map(|isbn| known.titles_by_isbn.get(isbn.isbn13()).cloned());
    if let Some(title_id) = found {
        state.counts.titles_matched += 1;
        // The record may know ISBNs the title lacks (another binding).
        for isbn in &good.bib.isbns {
            if !known.titles_by_isbn.contains_key(isbn.isbn13()) {
                known.titles_by_isbn.insert(isbn.isbn13().to_owned(), title_id.clone());
                rows.isbns
                    .push(TitleIsbnRow { isbn13: isbn.isbn13().to_owned(), title_id: title_id.clone() });
            }
        }
        return Ok(title_id);
    }
    let call_number = good.items.iter().map(|item| item.call_number.as_str()).find(|call| !call.is_empty());
    let draft = title_draft(&good.bib, call_number.unwrap_or(""));
    let mut row = titles::title_row(&draft, ids::new_id(), now);
    // The search index, as `search::index_title` makes it for a title
    // catalogued alone.
    let texts = IndexedTexts {
        title: &row.title,
        other_titles: vec![row.subtitle.as_str(), row.series.as_str()],
        names: draft.contributors.iter().map(|contributor| contributor.name.as_str()).collect(),
        subjects: draft.subjects.iter().map(String::as_str).collect(),
    };
    let index = search::title_index(&row.id, &texts);
    rows.search_terms.extend(index.entries);
    rows.search_fields.push(index.fields);
    row.search_text = index.search_text;
    row.title_key = index.title_key;
    for isbn in draft.isbns() {
        // A record repeating an ISBN is refused by the unique index.
        if known.titles_by_isbn.insert(isbn.isbn13().to_owned(), row.id.clone()).is_some() {
            return Err(Failure::Conflict);
        }
        rows.isbns.push(TitleIsbnRow { isbn13: isbn.isbn13().to_owned(), title_id: row.id.clone() });
    }
    for (position, contributor) in (1..).zip(&draft.contributors) {
        rows.contributors.push(ContributorRow {
            title_id: row.id.clone(),
            position,
            name: contributor.name.clone(),
            role: titles::role_name(contributor.role).to_owned(),
        });
    }
    for (position, subject) in (1..).zip(&draft.subjects) {
        rows.subjects.push(SubjectRow { title_id: row.id.clone(), position, subject: subject.clone() });
    }
    state.counts.titles_created += 1;
    let title_id = row.id.clone();
    known.call_numbers.insert(title_id.clone(), row.call_number.clone());
    rows.titles.push(row);
    Ok(title_id)
}

fn add_copies(
    connection: &mut DbConnection,
    state: &mut ImportState,
    good: &GoodRecord,
    title_id: &str,
    now: NaiveDateTime,
    known: &mut Known,
    rows: &mut BatchRows,
) -> Result<(), Failure> {
    let Some(school_id) = state.options.school_id.clone() else {
        return Ok(());
    };
    let title_call_number = known.call_numbers.get(title_id).cloned().ok_or(Failure::Conflict)?;
    for item in &good.items {
        if !item_type_known(connection, state, &item.item_type)? {
            return Err(Failure::Conflict);
        }
        if let Some((copy_title, copy_school)) = known.copies_by_barcode.get(&item.barcode) {
            if copy_title == title_id && *copy_school == school_id {
                state.counts.copies_existing += 1;
                continue;
            }
            return Err(Failure::Conflict);
        }
        let location_id = match item.location.as_str() {
            "" => None,
            name => {
                Some(location_id(connection, state, &school_id, name, now).map_err(|error| match error {
                    Error::Refused(_) | Error::InvalidArgument(_) => Failure::Conflict,
                    other => Failure::Database(other),
                })?)
            }
        };
        let draft = copy_draft(item, title_id, &school_id, location_id, &state.options.source_name);
        known.copies_by_barcode.insert(item.barcode.clone(), (title_id.to_owned(), school_id.clone()));
        rows.copies.push(copies::copy_row(&draft, ids::new_id(), &title_call_number, now));
        state.counts.copies_created += 1;
    }
    Ok(())
}

/// The record goes in the MARC pool under each of its ISBNs; a later record
/// of the same ISBN replaces an earlier one, as it does in the pool.
fn pool(
    state: &mut ImportState,
    good: &GoodRecord,
    now: NaiveDateTime,
    known: &mut Known,
    rows: &mut BatchRows,
) {
    let Some(record_xml) = &good.pool_xml else {
        return;
    };
    for isbn in &good.bib.isbns {
        let row = PoolRow {
            isbn13: isbn.isbn13().to_owned(),
            title: good.bib.title.clone(),
            flavour: good.flavour.name().to_owned(),
            record_xml: record_xml.clone(),
            source: state.options.source_name.clone(),
            updated_at: now,
        };
        let (list, index) = if known.pooled_stored.contains(&row.isbn13) {
            (&mut rows.replaced_pooled, &mut known.pooled_replaced)
        } else {
            (&mut rows.new_pooled, &mut known.pooled_new)
        };
        match index.get(&row.isbn13) {
            Some(&at) => list[at] = row,
            None => {
                index.insert(row.isbn13.clone(), list.len());
                list.push(row);
            }
        }
        state.counts.pooled += 1;
    }
}
