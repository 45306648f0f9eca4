//! Export of a school's holdings as MARC21: the titles the school holds,
//! a page at a time in id order, each as a MARC21 record with one 952 item
//! per copy (withdrawn copies left out), written as ISO 2709 or MARCXML.

use std::collections::HashMap;

use lectern_biblio::marc::{self, BibRecord, Contributor, Item, Price};
use lectern_common::db::DbConnection;

use super::import::Format;
use crate::db;
use crate::isbn::Isbn;
use crate::titles::{self, TitleRecord};
use lectern_common::Error;

/// Titles read per database query.
pub const TITLES_PER_PAGE: i64 = 200;

/// The next page of the school's titles after `after` (a title id), as
/// bibliographic records with the school's copies; empty at the end.
pub fn page(
    connection: &mut DbConnection,
    school_id: &str,
    school_code: &str,
    after: Option<&str>,
) -> Result<Vec<(String, BibRecord)>, Error> {
    let title_ids = db::held_title_ids(connection, school_id, after, TITLES_PER_PAGE)?;
    if title_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db::held_titles(connection, &title_ids)?;
    let records = titles::with_contributors(connection, rows)?;
    let copies = db::held_copies(connection, school_id, &title_ids)?;
    let location_ids: Vec<String> = copies.iter().filter_map(|copy| copy.location_id.clone()).collect();
    let locations: HashMap<String, String> =
        db::location_names(connection, &location_ids)?.into_iter().collect();
    let mut items: HashMap<String, Vec<Item>> = HashMap::new();
    for copy in copies {
        let location =
            copy.location_id.as_ref().and_then(|id| locations.get(id)).cloned().unwrap_or_default();
        items.entry(copy.title_id.clone()).or_default().push(Item {
            barcode: copy.barcode,
            call_number: copy.call_number,
            location,
            item_type: copy.item_type,
            home: school_code.to_owned(),
            price: copy.price_minor.map(|minor| Price { minor, currency: copy.currency }),
        });
    }
    Ok(records
        .iter()
        .map(|record| {
            let mut bib = bib_of(record);
            bib.items = items.remove(&record.row.id).unwrap_or_default();
            (record.row.id.clone(), bib)
        })
        .collect())
}

/// What the catalog holds of a title, as a flavour-neutral record.
pub fn bib_of(record: &TitleRecord) -> BibRecord {
    let row = &record.row;
    let isbns = row
        .isbn13
        .iter()
        .chain(&record.other_isbn13s)
        .filter_map(|isbn13| Isbn::parse(isbn13).ok())
        .collect();
    BibRecord {
        isbns,
        rejected_isbns: Vec::new(),
        title: row.title.clone(),
        subtitle: row.subtitle.clone(),
        contributors: record
            .contributors
            .iter()
            .map(|contributor| Contributor { name: contributor.name.clone(), role: role(&contributor.role) })
            .collect(),
        publisher: row.publisher.clone(),
        year: (row.publication_year != 0).then_some(row.publication_year),
        edition: row.edition.clone(),
        language: row.language.clone(),
        pages: (row.pages != 0).then_some(row.pages),
        series: row.series.clone(),
        subjects: record.subjects.clone(),
        summary: row.summary.clone(),
        clc: row.clc.clone(),
        dewey: row.dewey.clone(),
        price: None,
        items: Vec::new(),
    }
}

fn role(stored: &str) -> marc::Role {
    match stored {
        "translator" => marc::Role::Translator,
        "illustrator" => marc::Role::Illustrator,
        "editor" => marc::Role::Editor,
        _ => marc::Role::Author,
    }
}

/// Writes records in `format` into `output`; the caller sends and clears
/// it between pages. XML gets its header before the first record and the
/// closing tag after the last ([`finish`]).
pub fn write(
    format: Format,
    records: &[(String, BibRecord)],
    first: bool,
    output: &mut Vec<u8>,
) -> Result<(), Error> {
    match format {
        Format::Iso2709 => {
            for (id, bib) in records {
                marc::iso2709::write_record(&marc::export::to_marc21(bib, id), output)
                    .map_err(|error| Error::Internal(format!("exporting title {id}: {error}")))?;
            }
        }
        Format::MarcXml => {
            if first {
                output.extend_from_slice(
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"{}\">\n",
                        marc::xml::NAMESPACE
                    )
                    .as_bytes(),
                );
            }
            for (id, bib) in records {
                marc::xml::write_record(&marc::export::to_marc21(bib, id), output)
                    .map_err(|error| Error::Internal(format!("exporting title {id}: {error}")))?;
            }
        }
    }
    Ok(())
}

/// Ends the file.
pub fn finish(format: Format, first: bool, output: &mut Vec<u8>) {
    if format == Format::MarcXml {
        if first {
            output.extend_from_slice(
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"{}\">\n",
                    marc::xml::NAMESPACE
                )
                .as_bytes(),
            );
        }
        output.extend_from_slice(b"</collection>\n");
    }
}
