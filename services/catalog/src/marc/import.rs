//! The reading half of a MARC import, without a database: the options a
//! librarian chose, the bytes of the file arriving in chunks
//! ([`ChunkReader`]), and each record read, mapped and checked into a
//! [`Prepared`] record — good, ready for the database, or rejected with the
//! record number, field and reason. Records go to the writing half
//! ([`super::apply`]) in batches of [`BATCH_RECORDS`], so memory holds one
//! batch whatever the size of the file.

use std::io::{BufRead, Read};

use lectern_biblio::marc::{self, BibRecord, Flavour, HoldingsMapping, Problem, RecordError};
use lectern_core::ids;
use lectern_core::validate::{self, FieldError, optional_text};
use lectern_proto::catalog::v1 as pb;
use pb::MarcRecordProblem;
use tokio::sync::mpsc;

use crate::copies::MAX_CALL_NUMBER_CHARS;
use crate::titles::{MAX_NAME_CHARS, MAX_PUBLISHER_CHARS, MAX_TITLE_CHARS, PUBLICATION_YEARS};

/// Records written per database transaction. Each commit writes every
/// index page the batch changed, and a batch's search entries scatter over
/// the whole index, so fewer, larger batches write far less: 2,000 records
/// imported about 1.5 times as fast as 500 on SQLite (`docs/marc.md`,
/// Speed). A batch's rows are a few megabytes.
pub const BATCH_RECORDS: usize = 2_000;
/// Longest shelf location name taken from a holdings field.
pub const MAX_LOCATION_CHARS: usize = 100;
/// Longest source name kept with pooled records.
pub const MAX_SOURCE_CHARS: usize = 200;
/// Contributors kept per title; more are dropped (anthologies).
const MAX_CONTRIBUTORS: usize = crate::titles::MAX_CONTRIBUTORS;

/// The file's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ISO 2709.
    Iso2709,
    /// MARCXML.
    MarcXml,
}

impl Format {
    /// The format a request names; `field` is reported when it names none.
    pub fn from_proto(field: &'static str, value: i32) -> Result<Self, FieldError> {
        match pb::MarcFormat::try_from(value) {
            Ok(pb::MarcFormat::Iso2709) => Ok(Self::Iso2709),
            Ok(pb::MarcFormat::Marcxml) => Ok(Self::MarcXml),
            _ => Err(FieldError::new(field, "must be MARC_FORMAT_ISO2709 or MARC_FORMAT_MARCXML")),
        }
    }
}

/// What the librarian asked for.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The file's encoding.
    pub format: Format,
    /// The school whose copies the holdings describe (none when pooling
    /// only).
    pub school_id: Option<String>,
    /// Check and report, write nothing.
    pub dry_run: bool,
    /// Only fill the MARC pool.
    pub pool_only: bool,
    /// The holdings field, or `None` for the flavour's usual one.
    pub holdings: Option<HoldingsMapping>,
    /// The file's name, kept with pooled records.
    pub source_name: String,
    /// Client request id.
    pub request_id: Option<String>,
}

impl ImportOptions {
    /// Checks the first message of an import; the error names the field.
    pub fn from_proto(options: &pb::ImportMarcOptions) -> Result<Self, FieldError> {
        let format = Format::from_proto("options.format", options.format)?;
        let school_id = if options.pool_only {
            ids::parse_optional_id("options.school_id", &options.school_id)?
        } else {
            Some(ids::parse_id("options.school_id", &options.school_id)?)
        };
        let holdings = match options.holdings_tag.trim() {
            "" => None,
            tag => Some(HoldingsMapping::for_tag(tag).ok_or_else(|| {
                FieldError::new("options.holdings_tag", "must be empty, 952, 995, 905 or 852")
            })?),
        };
        Ok(Self {
            format,
            school_id,
            dry_run: options.dry_run,
            pool_only: options.pool_only,
            holdings,
            source_name: optional_text("options.source_name", &options.source_name, MAX_SOURCE_CHARS)?,
            request_id: validate::request_id("options.request_id", &options.request_id)?,
        })
    }
}

/// A copy to add, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDraft {
    /// Barcode.
    pub barcode: String,
    /// Spine label; may be empty.
    pub call_number: String,
    /// Shelf location name; empty for none.
    pub location: String,
    /// Item type code, lower case; `book` when the file gives none.
    pub item_type: String,
    /// Price in minor units, and its currency.
    pub price: Option<(i64, String)>,
}

/// A record that passed every check that needs no database.
#[derive(Debug, Clone)]
pub struct GoodRecord {
    /// 1-based position in the file.
    pub number: u64,
    /// MARC21 or CNMARC.
    pub flavour: Flavour,
    /// What the record says.
    pub bib: BibRecord,
    /// Its items, checked.
    pub items: Vec<ItemDraft>,
    /// The record without holdings as MARCXML, for the pool (not in dry
    /// runs, nor for records without an ISBN).
    pub pool_xml: Option<String>,
}

/// A record read from the file.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// Ready for the database.
    Good(Box<GoodRecord>),
    /// Not imported, and why.
    Rejected(pb::MarcRecordResult),
}

/// A rejection of record `number`.
pub fn rejection(
    number: u64,
    tag: &str,
    problem: MarcRecordProblem,
    reason: impl Into<String>,
) -> pb::MarcRecordResult {
    pb::MarcRecordResult {
        record: number,
        tag: tag.to_owned(),
        problem: problem.into(),
        reason: reason.into(),
        title: String::new(),
    }
}

/// The file's bytes as they arrive from the client, for the blocking
/// reader. The channel is bounded, so a fast client waits for the reader.
pub struct ChunkReader {
    chunks: mpsc::Receiver<Result<Vec<u8>, String>>,
    current: Vec<u8>,
    position: usize,
}

impl ChunkReader {
    /// Reads the chunks `chunks` delivers; an `Err` chunk ends the file
    /// with that error (the client's stream broke).
    pub fn new(chunks: mpsc::Receiver<Result<Vec<u8>, String>>) -> Self {
        Self { chunks, current: Vec::new(), position: 0 }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        while self.position == self.current.len() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.current = chunk;
                    self.position = 0;
                }
                Some(Err(problem)) => return Err(std::io::Error::other(problem)),
                None => return Ok(0),
            }
        }
        let count = buffer.len().min(self.current.len() - self.position);
        buffer[..count].copy_from_slice(&self.current[self.position..self.position + count]);
        self.position += count;
        Ok(count)
    }
}

/// Reads every record of `input` and hands them to `deliver` in batches;
/// stops early when `deliver` answers false (nobody is listening any more).
pub fn read_file(
    input: impl BufRead,
    options: &ImportOptions,
    mut deliver: impl FnMut(Vec<Prepared>) -> bool,
) {
    let records: Box<dyn Iterator<Item = Result<marc::Record, RecordError>>> = match options.format {
        Format::Iso2709 => Box::new(marc::iso2709::Iso2709Reader::new(input)),
        Format::MarcXml => Box::new(marc::xml::MarcXmlReader::new(input)),
    };
    let mut batch = Vec::with_capacity(BATCH_RECORDS);
    for (index, result) in records.enumerate() {
        let prepared = match result {
            Ok(record) => prepare(index as u64 + 1, record, options),
            Err(error) => Prepared::Rejected(read_rejection(&error)),
        };
        batch.push(prepared);
        if batch.len() == BATCH_RECORDS
            && !deliver(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS)))
        {
            return;
        }
    }
    if !batch.is_empty() {
        deliver(batch);
    }
}

fn read_rejection(error: &RecordError) -> pb::MarcRecordResult {
    let problem = match error.problem {
        Problem::Leader => MarcRecordProblem::Leader,
        Problem::Directory => MarcRecordProblem::Directory,
        Problem::Field => MarcRecordProblem::Field,
        Problem::Encoding => MarcRecordProblem::Encoding,
        Problem::Size => MarcRecordProblem::Size,
        Problem::Syntax | Problem::Io => MarcRecordProblem::Syntax,
    };
    rejection(error.record, error.tag.as_deref().unwrap_or(""), problem, error.reason.clone())
}

/// Maps and checks one record.
pub fn prepare(number: u64, mut record: marc::Record, options: &ImportOptions) -> Prepared {
    let (flavour, mut bib) = marc::to_bib(&record, options.holdings.as_ref());
    let (title_tag, isbn_tag) = match flavour {
        Flavour::Marc21 => ("245", "020"),
        Flavour::Cnmarc => ("200", "010"),
    };
    tidy_bib(&mut bib);
    let reject = |tag: &str, problem, reason: String| {
        let mut result = rejection(number, tag, problem, reason);
        result.title = bib.title.chars().take(MAX_TITLE_CHARS).collect();
        Prepared::Rejected(result)
    };
    if bib.title.is_empty() {
        return reject(
            title_tag,
            MarcRecordProblem::NoTitle,
            format!("the record has no title ({title_tag} $a)"),
        );
    }
    if bib.isbns.is_empty() && !bib.rejected_isbns.is_empty() {
        let reason = bad_isbn_reason(&bib.rejected_isbns);
        return reject(isbn_tag, MarcRecordProblem::BadIsbn, reason);
    }
    if bib.isbns.is_empty() && options.pool_only {
        let reason = "the record has no ISBN; the pool keeps records by ISBN".to_owned();
        return reject(isbn_tag, MarcRecordProblem::BadIsbn, reason);
    }
    if let Some((tag, reason)) = too_long(&bib, title_tag, flavour) {
        return reject(tag, MarcRecordProblem::TooLong, reason);
    }
    bib.contributors.truncate(MAX_CONTRIBUTORS);
    if bib.year.is_some_and(|year| !PUBLICATION_YEARS.contains(&year)) {
        bib.year = None;
    }
    let mapping = options.holdings.clone().unwrap_or_else(|| HoldingsMapping::default_for(flavour));
    let holdings_tag = mapping.tag.to_string();
    let mut items = Vec::with_capacity(bib.items.len());
    if !options.pool_only {
        for (position, item) in bib.items.iter().enumerate() {
            match item_draft(item, &bib) {
                Ok(draft) => items.push(draft),
                Err((problem, reason)) => {
                    return reject(&holdings_tag, problem, format!("item {}: {reason}", position + 1));
                }
            }
        }
    }
    let pool_xml = if options.dry_run || bib.isbns.is_empty() {
        None
    } else {
        record.fields.retain(|field| !matches!(field, marc::Field::Data(data) if data.tag == mapping.tag));
        let mut xml = Vec::new();
        marc::xml::write_record(&record, &mut xml).ok().and_then(|()| String::from_utf8(xml).ok())
    };
    Prepared::Good(Box::new(GoodRecord { number, flavour, bib, items, pool_xml }))
}

fn bad_isbn_reason(rejected: &[String]) -> String {
    let first = &rejected[0];
    let candidate = first.split(['(', '（', ':', ';']).next().unwrap_or("").trim();
    match lectern_biblio::isbn::Isbn::parse(candidate.split_whitespace().next().unwrap_or("")) {
        Err(error) => format!("ISBN {first:?} {error}"),
        Ok(_) => format!("ISBN {first:?} is not usable"),
    }
}

fn too_long(bib: &BibRecord, title_tag: &'static str, flavour: Flavour) -> Option<(&'static str, String)> {
    let chars = |text: &str| text.chars().count();
    if chars(&bib.title) > MAX_TITLE_CHARS {
        return Some((title_tag, format!("the title is longer than {MAX_TITLE_CHARS} characters")));
    }
    if chars(&bib.publisher) > MAX_PUBLISHER_CHARS {
        let tag = if flavour == Flavour::Marc21 { "264" } else { "210" };
        return Some((tag, format!("the publisher is longer than {MAX_PUBLISHER_CHARS} characters")));
    }
    if let Some(contributor) =
        bib.contributors.iter().find(|contributor| chars(&contributor.name) > MAX_NAME_CHARS)
    {
        let name: String = contributor.name.chars().take(20).collect();
        return Some(("700", format!("the name \"{name}…\" is longer than {MAX_NAME_CHARS} characters")));
    }
    None
}

fn item_draft(item: &marc::Item, bib: &BibRecord) -> Result<ItemDraft, (MarcRecordProblem, String)> {
    let barcode = validate::barcode("barcode", &item.barcode).map_err(|error| {
        (MarcRecordProblem::BadBarcode, format!("barcode {:?} {}", item.barcode, error.problem))
    })?;
    let call_number = tidy(&item.call_number);
    if call_number.chars().count() > MAX_CALL_NUMBER_CHARS {
        return Err((
            MarcRecordProblem::TooLong,
            format!("call number is longer than {MAX_CALL_NUMBER_CHARS} characters"),
        ));
    }
    let location = tidy(&item.location);
    if location.chars().count() > MAX_LOCATION_CHARS {
        return Err((
            MarcRecordProblem::TooLong,
            format!("location is longer than {MAX_LOCATION_CHARS} characters"),
        ));
    }
    let item_type = match tidy(&item.item_type).to_lowercase() {
        empty if empty.is_empty() => "book".to_owned(),
        code => code,
    };
    let price = item.price.as_ref().or(bib.price.as_ref()).map(|price| (price.minor, price.currency.clone()));
    Ok(ItemDraft { barcode, call_number, location, item_type, price })
}

/// Control characters some catalogues leave in values become spaces.
pub fn tidy(text: &str) -> String {
    let cleaned: String =
        text.chars().map(|character| if character.is_control() { ' ' } else { character }).collect();
    cleaned.trim().to_owned()
}

fn tidy_bib(bib: &mut BibRecord) {
    for text in [
        &mut bib.title,
        &mut bib.subtitle,
        &mut bib.publisher,
        &mut bib.edition,
        &mut bib.series,
        &mut bib.summary,
        &mut bib.clc,
        &mut bib.dewey,
    ] {
        *text = tidy(text);
    }
    for contributor in &mut bib.contributors {
        contributor.name = tidy(&contributor.name);
    }
    bib.contributors.retain(|contributor| !contributor.name.is_empty());
    for subject in &mut bib.subjects {
        *subject = tidy(subject);
    }
    bib.subjects.retain(|subject| !subject.is_empty());
}
