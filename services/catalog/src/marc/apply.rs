//! The writing half of a MARC import: one batch of [`Prepared`] records in
//! one write transaction. A record refused by the database (a barcode of
//! another title, an unknown item type) leaves nothing behind while the
//! batch's other records are kept (see [`apply_batch`]). A title is matched
//! by any of its ISBNs; a matched title only gets the new copies. A copy
//! whose barcode is already a copy of the same title at the school (the
//! same file imported again) is left as it is.
//!
//! A dry run runs the same code in a transaction that is rolled back, so
//! its report is what an import would do; it remembers the ISBNs and
//! barcodes of its earlier batches so duplicates across batches are
//! counted as an import would count them.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::Connection as _;
use lectern_biblio::marc::{self, BibRecord, Flavour};
use lectern_common::db::{DbConnection, write_transaction};
use lectern_core::ids;
use lectern_core::refusal::Reason;
use lectern_proto::catalog::v1 as pb;
use pb::{CopyStatus, MarcRecordProblem};

use super::import::{GoodRecord, ImportOptions, ItemDraft, Prepared, rejection};
use crate::copies::{self, CopyDraft};
use crate::db::{self, PoolRow};
use crate::locations;
use crate::titles::{self, ContributorDraft, TitleDraft};
use lectern_common::Error;

/// What an import has done so far, carried from batch to batch.
#[derive(Debug)]
pub struct ImportState {
    /// The librarian's options.
    pub options: ImportOptions,
    /// Running totals.
    pub counts: pb::MarcImportCounts,
    /// Item type codes of the district, loaded once.
    pub(super) item_types: Option<BTreeSet<String>>,
    /// Shelf locations of the school by name.
    pub(super) locations: HashMap<String, String>,
    /// Dry run: ISBNs of titles earlier batches would have created.
    dry_isbns: HashSet<String>,
    /// Dry run: barcodes earlier batches would have added.
    dry_barcodes: HashSet<String>,
}

impl ImportState {
    /// The state of a new import.
    pub fn new(options: ImportOptions) -> Self {
        Self {
            options,
            counts: pb::MarcImportCounts::default(),
            item_types: None,
            locations: HashMap::new(),
            dry_isbns: HashSet::new(),
            dry_barcodes: HashSet::new(),
        }
    }
}

/// What one record changed.
#[derive(Debug, Default)]
struct Tally {
    title_created: bool,
    title_matched: bool,
    copies_created: u64,
    copies_existing: u64,
    pooled: u64,
    /// Dry run: what to remember once the batch is rolled back.
    isbns: Vec<String>,
    barcodes: Vec<String>,
}

/// Why a record was not written.
#[derive(Debug)]
pub(super) enum Failure {
    /// The record is refused; the import goes on.
    Rejected(pb::MarcRecordResult),
    /// The batch cannot be written in one go (a record of it would be
    /// refused): it is written again one record at a time.
    Conflict,
    /// The database failed; the import stops.
    Database(Error),
}

impl From<diesel::result::Error> for Failure {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

/// Writes one batch in a write transaction of its own, rolled back in a
/// dry run, and returns the records it refused: one step of an import, for
/// the service and for [`super::local`].
pub fn commit_batch(
    connection: &mut DbConnection,
    state: &mut ImportState,
    batch: &[Prepared],
    now: NaiveDateTime,
) -> Result<Vec<pb::MarcRecordResult>, Error> {
    if state.options.dry_run {
        rolled_back(connection, |connection| apply_batch(connection, state, batch, now))
    } else {
        write_transaction(connection, |connection| apply_batch(connection, state, batch, now))
    }
}

/// Runs `work` in a write transaction that is always rolled back: a dry
/// run sees what an import would do and leaves nothing.
fn rolled_back<T, F>(connection: &mut DbConnection, work: F) -> Result<T, Error>
where
    F: FnOnce(&mut DbConnection) -> Result<T, Error>,
{
    enum Undo<T> {
        Done(T),
        Failed(Error),
    }
    impl<T> From<diesel::result::Error> for Undo<T> {
        fn from(error: diesel::result::Error) -> Self {
            Self::Failed(error.into())
        }
    }
    match write_transaction(connection, |connection| match work(connection) {
        Ok(value) => Err(Undo::Done(value)),
        Err(error) => Err(Undo::Failed(error)),
    }) {
        Ok(never) => Ok(never),
        Err(Undo::Done(value)) => Ok(value),
        Err(Undo::Failed(error)) => Err(error),
    }
}

/// Writes one batch (inside the caller's transaction) and returns the
/// records it rejected, in file order.
///
/// Most batches hold no record the database refuses, so a batch is first
/// written in one savepoint without one per record — in an import, with
/// one multi-row INSERT per table ([`super::batch`]); only when a record is
/// refused is that savepoint rolled back and the batch written again with a
/// savepoint per record, which keeps the refused one out.
pub fn apply_batch(
    connection: &mut DbConnection,
    state: &mut ImportState,
    batch: &[Prepared],
    now: NaiveDateTime,
) -> Result<Vec<pb::MarcRecordResult>, Error> {
    let counts = state.counts;
    let first_try = connection.transaction(|connection| {
        if state.options.dry_run {
            // A dry run counts against the ISBNs and barcodes of its earlier,
            // rolled-back batches, which only the per-record path knows.
            apply_records(connection, state, batch, now, false)
        } else {
            super::batch::write_batch(connection, state, batch, now)
        }
    });
    match first_try {
        Ok(rejected) => Ok(rejected),
        Err(Failure::Database(error)) => Err(error),
        Err(Failure::Rejected(_) | Failure::Conflict) => {
            state.counts = counts;
            // Locations made in the rolled-back savepoint are gone again.
            state.locations.clear();
            apply_records(connection, state, batch, now, true).map_err(|failure| match failure {
                Failure::Database(error) => error,
                Failure::Rejected(result) => {
                    Error::Internal(format!("record {} refused twice", result.record))
                }
                Failure::Conflict => Error::Internal("a record refused twice".to_owned()),
            })
        }
    }
}

/// Writes the batch's records; `careful` puts each in a savepoint of its
/// own and reports refused ones, otherwise the first refusal fails all.
fn apply_records(
    connection: &mut DbConnection,
    state: &mut ImportState,
    batch: &[Prepared],
    now: NaiveDateTime,
    careful: bool,
) -> Result<Vec<pb::MarcRecordResult>, Failure> {
    let mut rejected = Vec::new();
    let mut remembered = (Vec::new(), Vec::new());
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
        let outcome = if careful {
            connection.transaction(|connection| apply_record(connection, state, good, now))
        } else {
            apply_record(connection, state, good, now)
        };
        match outcome {
            Ok(tally) => {
                let counts = &mut state.counts;
                counts.titles_created += u64::from(tally.title_created);
                counts.titles_matched += u64::from(tally.title_matched);
                counts.copies_created += tally.copies_created;
                counts.copies_existing += tally.copies_existing;
                counts.pooled += tally.pooled;
                remembered.0.extend(tally.isbns);
                remembered.1.extend(tally.barcodes);
            }
            Err(Failure::Rejected(mut result)) if careful => {
                state.counts.records_rejected += 1;
                result.record = good.number;
                result.title = good.bib.title.clone();
                rejected.push(result);
            }
            Err(failure) => return Err(failure),
        }
    }
    if state.options.dry_run {
        // The batch is rolled back: locations it made are gone again.
        state.locations.clear();
        state.dry_isbns.extend(remembered.0);
        state.dry_barcodes.extend(remembered.1);
    }
    Ok(rejected)
}

fn apply_record(
    connection: &mut DbConnection,
    state: &mut ImportState,
    good: &GoodRecord,
    now: NaiveDateTime,
) -> Result<Tally, Failure> {
    let mut tally = Tally::default();
    if !state.options.pool_only {
        let title_id = match_or_create_title(connection, state, good, now, &mut tally)?;
        add_copies(connection, state, good, title_id.as_deref(), now, &mut tally)?;
    }
    if !state.options.dry_run
        && let Some(record_xml) = &good.pool_xml
    {
        for isbn in &good.bib.isbns {
            let row = PoolRow {
                isbn13: isbn.isbn13().to_owned(),
                title: good.bib.title.clone(),
                flavour: good.flavour.name().to_owned(),
                record_xml: record_xml.clone(),
                source: state.options.source_name.clone(),
                updated_at: now,
            };
            db::put_pooled(connection, &row)?;
            tally.pooled += 1;
        }
    }
    Ok(tally)
}

/// The title's id: the catalogued title with one of the record's ISBNs, or
/// a new one. `None` only in a dry run, for a title an earlier batch would
/// have created.
fn match_or_create_title(
    connection: &mut DbConnection,
    state: &ImportState,
    good: &GoodRecord,
    now: NaiveDateTime,
    tally: &mut Tally,
) -> Result<Option<String>, Failure> {
    let mut found = None;
    for isbn in &good.bib.isbns {
        if let Some(title_id) = db::title_id_by_isbn(connection, isbn.isbn13())? {
            found = Some(title_id);
            break;
        }
    }
    if let Some(title_id) = found {
        tally.title_matched = true;
        // The record may know ISBNs the title lacks (another binding).
        for isbn in &good.bib.isbns {
            if db::title_id_by_isbn(connection, isbn.isbn13())?.is_none() {
                db::insert_title_isbn(connection, isbn.isbn13(), &title_id)?;
            }
        }
        return Ok(Some(title_id));
    }
    if state.options.dry_run && good.bib.isbns.iter().any(|isbn| state.dry_isbns.contains(isbn.isbn13())) {
        tally.title_matched = true;
        return Ok(None);
    }
    let call_number = good.items.iter().map(|item| item.call_number.as_str()).find(|call| !call.is_empty());
    let draft = title_draft(&good.bib, call_number.unwrap_or(""));
    let record = titles::create(connection, &draft, ids::new_id(), now)
        .map_err(|error| refused(error, title_tag(good.flavour)))?;
    tally.title_created = true;
    tally.isbns = good.bib.isbns.iter().map(|isbn| isbn.isbn13().to_owned()).collect();
    Ok(Some(record.row.id))
}

fn add_copies(
    connection: &mut DbConnection,
    state: &mut ImportState,
    good: &GoodRecord,
    title_id: Option<&str>,
    now: NaiveDateTime,
    tally: &mut Tally,
) -> Result<(), Failure> {
    let Some(school_id) = state.options.school_id.clone() else {
        return Ok(());
    };
    let holdings_tag = state.options.holdings.as_ref().map_or_else(
        || marc::HoldingsMapping::default_for(good.flavour).tag.to_string(),
        |mapping| mapping.tag.to_string(),
    );
    let reject = |position: usize, problem: MarcRecordProblem, reason: String| {
        Failure::Rejected(rejection(
            good.number,
            &holdings_tag,
            problem,
            format!("item {}: {reason}", position + 1),
        ))
    };
    for (position, item) in good.items.iter().enumerate() {
        if !item_type_known(connection, state, &item.item_type)? {
            let known = state.item_types.iter().flatten().cloned().collect::<Vec<_>>().join(", ");
            let reason = format!("item type {:?} is not one of the district's ({known})", item.item_type);
            return Err(reject(position, MarcRecordProblem::ItemTypeUnknown, reason));
        }
        if let Some((copy, _)) = db::find_copy_by_barcode(connection, &item.barcode)? {
            if Some(copy.title_id.as_str()) == title_id && copy.school_id == school_id {
                tally.copies_existing += 1;
                continue;
            }
            let reason = format!("barcode {} is already a copy of another title or school", item.barcode);
            return Err(reject(position, MarcRecordProblem::BarcodeTaken, reason));
        }
        let Some(title_id) = title_id else {
            // Dry run, title from an earlier batch: count what would happen.
            if state.dry_barcodes.contains(&item.barcode) {
                tally.copies_existing += 1;
            } else {
                tally.copies_created += 1;
                tally.barcodes.push(item.barcode.clone());
            }
            continue;
        };
        if state.options.dry_run && state.dry_barcodes.contains(&item.barcode) {
            let reason = format!("barcode {} appears on an earlier record of the file", item.barcode);
            return Err(reject(position, MarcRecordProblem::BarcodeTaken, reason));
        }
        let location_id = match item.location.as_str() {
            "" => None,
            name => Some(
                location_id(connection, state, &school_id, name, now)
                    .map_err(|error| refused(error, &holdings_tag))?,
            ),
        };
        let draft = copy_draft(item, title_id, &school_id, location_id, &state.options.source_name);
        copies::create(connection, &draft, ids::new_id(), now)
            .map_err(|error| refused(error, &holdings_tag))?;
        tally.copies_created += 1;
        tally.barcodes.push(item.barcode.clone());
    }
    Ok(())
}

pub(super) fn item_type_known(
    connection: &mut DbConnection,
    state: &mut ImportState,
    code: &str,
) -> Result<bool, Failure> {
    if state.item_types.is_none() {
        let codes = db::item_types(connection)?.into_iter().map(|item_type| item_type.code).collect();
        state.item_types = Some(codes);
    }
    Ok(state.item_types.as_ref().is_some_and(|codes| codes.contains(code)))
}

pub(super) fn location_id(
    connection: &mut DbConnection,
    state: &mut ImportState,
    school_id: &str,
    name: &str,
    now: NaiveDateTime,
) -> Result<String, Error> {
    if let Some(id) = state.locations.get(name) {
        return Ok(id.clone());
    }
    let name = locations::location_name("location", name)?;
    let location = locations::find_or_create(connection, school_id, &name, ids::new_id(), now)?;
    state.locations.insert(name, location.id.clone());
    Ok(location.id)
}

/// A refusal of the domain becomes the record's rejection; anything else
/// stops the import.
fn refused(error: Error, tag: &str) -> Failure {
    let (problem, reason) = match error {
        Error::Refused(refusal) => {
            let problem = match refusal.reason {
                Reason::CopyBarcodeTaken => MarcRecordProblem::BarcodeTaken,
                Reason::ItemTypeNotFound => MarcRecordProblem::ItemTypeUnknown,
                Reason::IsbnTaken => MarcRecordProblem::BadIsbn,
                _ => MarcRecordProblem::Field,
            };
            (problem, refusal.message)
        }
        Error::InvalidArgument(field) => (MarcRecordProblem::Field, field.to_string()),
        other => return Failure::Database(other),
    };
    Failure::Rejected(rejection(0, tag, problem, reason))
}

fn title_tag(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Marc21 => "245",
        Flavour::Cnmarc => "200",
    }
}

/// The copy to catalogue from a holdings item of a record: available, at
/// `school_id`, with the import's source name as its acquisition source.
pub fn copy_draft(
    item: &ItemDraft,
    title_id: &str,
    school_id: &str,
    location_id: Option<String>,
    source_name: &str,
) -> CopyDraft {
    CopyDraft {
        title_id: title_id.to_owned(),
        barcode: item.barcode.clone(),
        school_id: school_id.to_owned(),
        call_number: item.call_number.clone(),
        status: CopyStatus::Available,
        location_id,
        item_type: item.item_type.clone(),
        price: item.price.clone(),
        acquired_on: None,
        acquisition_source: source_name.to_owned(),
        condition_note: String::new(),
    }
}

/// The title to catalogue from a record. Title, publisher and names were
/// checked when the record was read; longer free text (summary, subtitle,
/// headings) is cut to what the catalog keeps, the whole record staying in
/// the MARC pool.
pub fn title_draft(bib: &BibRecord, call_number: &str) -> TitleDraft {
    let mut draft = TitleDraft::titled(bib.title.clone());
    draft.isbn = bib.isbns.first().cloned();
    draft.other_isbns = bib.isbns.iter().skip(1).take(titles::MAX_OTHER_ISBNS).cloned().collect();
    draft.contributors = bib
        .contributors
        .iter()
        .take(titles::MAX_CONTRIBUTORS)
        .map(|contributor| ContributorDraft { name: contributor.name.clone(), role: role(contributor.role) })
        .collect();
    draft.publisher = bib.publisher.clone();
    draft.publication_year = bib.year.filter(|year| titles::PUBLICATION_YEARS.contains(year)).unwrap_or(0);
    draft.language = bib.language.clone();
    draft.subtitle = cut(&bib.subtitle, titles::MAX_SUBTITLE_CHARS);
    draft.edition = cut(&bib.edition, titles::MAX_EDITION_CHARS);
    draft.pages = bib.pages.filter(|pages| *pages <= titles::MAX_PAGES).unwrap_or(0);
    draft.series = cut(&bib.series, titles::MAX_SUBTITLE_CHARS);
    draft.subjects = bib
        .subjects
        .iter()
        .take(titles::MAX_SUBJECTS)
        .map(|subject| cut(subject, titles::MAX_HEADING_CHARS))
        .collect();
    draft.summary = cut(&bib.summary, titles::MAX_SUMMARY_CHARS);
    draft.clc = class_number(&bib.clc);
    draft.dewey = class_number(&bib.dewey);
    draft.call_number = cut(call_number, copies::MAX_CALL_NUMBER_CHARS);
    draft
}

fn role(role: marc::Role) -> pb::ContributorRole {
    match role {
        marc::Role::Author => pb::ContributorRole::Author,
        marc::Role::Translator => pb::ContributorRole::Translator,
        marc::Role::Illustrator => pb::ContributorRole::Illustrator,
        marc::Role::Editor => pb::ContributorRole::Editor,
    }
}

fn cut(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect::<String>().trim_end().to_owned()
}

/// A class number longer than any real one is noise, not a class.
fn class_number(text: &str) -> String {
    if text.chars().count() > titles::MAX_CLASS_CHARS { String::new() } else { text.to_owned() }
}
