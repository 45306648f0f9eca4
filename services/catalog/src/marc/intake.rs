//! ISBN scan intake: a librarian scans a new book's ISBN and sticks on a
//! barcode; when a title has the ISBN the copy is added to it, otherwise
//! the title is made from the first [`MetadataSource`] that knows the ISBN.
//!
//! Sources are a seam: Lectern ships [`MarcPool`], the records of earlier
//! MARC imports and of a district's shared pool (`pool_only` imports). An
//! online source (a national library's Z39.50 or SRU server, a book
//! trade API) is another implementation of the trait, added to the list
//! the service is built with; it must answer within the call deadline and
//! return `Ok(None)` rather than an error when it does not know the book,
//! so the next source is asked. None can be reached from where Lectern is
//! built and tested, so none ships.

use std::sync::Arc;

use chrono::NaiveDateTime;
use lectern_biblio::marc::{self, BibRecord};
use lectern_common::db::{Db, DbConnection};
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::catalog::v1 as pb;

use super::apply::title_draft;
use crate::copies::{self, CopyDraft};
use crate::db;
use crate::isbn::Isbn;
use crate::locations;
use crate::titles;
use lectern_common::Error;

/// A place that may know a book by its ISBN.
#[tonic::async_trait]
pub trait MetadataSource: Send + Sync + std::fmt::Debug {
    /// How the intake answer names the source (`marc_pool`).
    fn name(&self) -> &str;

    /// The book's record, `Ok(None)` when the source does not know it.
    async fn lookup(&self, isbn: &Isbn) -> Result<Option<BibRecord>, Error>;
}

/// The metadata sources in the order they are asked.
pub type Sources = Arc<[Arc<dyn MetadataSource>]>;

/// The records kept from MARC imports, by ISBN.
#[derive(Debug, Clone)]
pub struct MarcPool {
    db: Db,
}

impl MarcPool {
    /// The pool in the catalog's database.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl MetadataSource for MarcPool {
    fn name(&self) -> &str {
        "marc_pool"
    }

    async fn lookup(&self, isbn: &Isbn) -> Result<Option<BibRecord>, Error> {
        let isbn13 = isbn.isbn13().to_owned();
        let pooled = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::find_pooled(connection, &isbn13)?) })
            .await?;
        let Some(pooled) = pooled else {
            return Ok(None);
        };
        // Checked when it was imported; a record that no longer reads is
        // as good as none.
        let record = marc::xml::MarcXmlReader::new(pooled.record_xml.as_bytes()).next().and_then(Result::ok);
        Ok(record.map(|record| {
            let (_, mut bib) = marc::to_bib(&record, None);
            bib.items.clear();
            bib
        }))
    }
}

/// The copy a librarian is adding, checked.
#[derive(Debug, Clone)]
pub struct IntakeDraft {
    /// The ISBN scanned.
    pub isbn: Isbn,
    /// The school.
    pub school_id: String,
    /// The barcode.
    pub barcode: String,
    /// Shelf location name, if given.
    pub location: Option<String>,
    /// Item type code.
    pub item_type: String,
    /// Spine label; empty takes the title's.
    pub call_number: String,
}

/// NOT_FOUND / `METADATA_NOT_FOUND`: catalogue by hand.
pub fn unknown_isbn(isbn: &Isbn, sources: &Sources) -> Refusal {
    let names: Vec<&str> = sources.iter().map(|source| source.name()).collect();
    Refusal::new(
        Reason::MetadataNotFound,
        format!(
            "no title has ISBN {isbn} and no metadata source ({}) knows it; catalogue the book by hand",
            names.join(", ")
        ),
    )
    .with("isbn13", isbn.isbn13())
}

/// Adds the copy, creating the title from `found` (a source's record and
/// its name) when no title has the ISBN. Call inside a write transaction.
pub fn catalogue(
    connection: &mut DbConnection,
    draft: &IntakeDraft,
    found: Option<&(BibRecord, String)>,
    now: NaiveDateTime,
) -> Result<pb::IntakeIsbnResponse, Error> {
    let (title_id, created, source) = match db::title_id_by_isbn(connection, draft.isbn.isbn13())? {
        Some(title_id) => (title_id, false, "catalog".to_owned()),
        None => {
            let Some((bib, source)) = found else {
                return Err(titles::not_found(format!("no title has ISBN {}", draft.isbn)).into());
            };
            let mut title = title_draft(bib, "");
            // The scanned ISBN leads, whatever order the record gave.
            title.other_isbns.retain(|isbn| isbn != &draft.isbn);
            if let Some(first) = title.isbn.replace(draft.isbn.clone())
                && first != draft.isbn
            {
                title.other_isbns.insert(0, first);
            }
            let record = titles::create(connection, &title, ids::new_id(), now)?;
            (record.row.id, true, source.clone())
        }
    };
    let location_id = match &draft.location {
        Some(name) => {
            Some(locations::find_or_create(connection, &draft.school_id, name, ids::new_id(), now)?.id)
        }
        None => None,
    };
    let copy = CopyDraft {
        title_id: title_id.clone(),
        barcode: draft.barcode.clone(),
        school_id: draft.school_id.clone(),
        call_number: draft.call_number.clone(),
        status: pb::CopyStatus::Available,
        location_id,
        item_type: draft.item_type.clone(),
        price: None,
        acquired_on: None,
        acquisition_source: String::new(),
        condition_note: String::new(),
    };
    let copy = copies::create(connection, &copy, ids::new_id(), now)?;
    let title = titles::load(connection, &title_id)?
        .ok_or_else(|| titles::not_found(format!("no title has id {title_id}")))?;
    Ok(pb::IntakeIsbnResponse {
        title: Some(titles::to_proto(&title)),
        copy: Some(copies::to_proto(&copy.row, &copy.title)),
        title_created: created,
        source,
    })
}
