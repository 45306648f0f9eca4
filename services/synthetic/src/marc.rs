//! Synthetic MARC files for `lectern bench import` and the catalog's import
//! tests: records alternating MARC21 and CNMARC (the samples of
//! `lectern_biblio::marc::samples` with their ISBN, title, main author and
//! holdings replaced), each a distinct title with one copy on one of ten
//! shelves. Titles and authors come from the crate's word lists, drawn with
//! the record's serial number as seed, so a file's search entries spread
//! over many terms as a real catalog's do.

use lectern_biblio::marc::iso2709;
use lectern_biblio::marc::samples::{cnmarc, data, marc21};
use lectern_biblio::marc::{Field, Record, Tag, WriteError};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The ISBN-13 of synthetic record `serial`.
pub fn isbn13(serial: u64) -> String {
    super::isbn13(&format!("978{serial:09}"))
}

/// `count` records as one ISO 2709 file; copy barcodes `S0000000`, ….
pub fn file(count: u64) -> Result<Vec<u8>, WriteError> {
    let mut file = Vec::new();
    for serial in 0..count {
        push_record(&mut file, serial, &format!("S{serial:07}"), serial % 2 == 1)?;
    }
    Ok(file)
}

/// Appends the record of the title with ISBN `isbn13(serial)` and one copy
/// `barcode` (CNMARC when `cn`, else MARC21). The same serial always gives
/// the same title and author.
pub fn push_record(file: &mut Vec<u8>, serial: u64, barcode: &str, cn: bool) -> Result<(), WriteError> {
    let mut record: Record = if cn { cnmarc() } else { marc21() };
    let mut rng = StdRng::seed_from_u64(serial);
    let lists = super::lists();
    if cn {
        let title = super::zh_title(&mut rng, lists);
        let author = super::zh_name(&mut rng, lists);
        replace(&mut record, data("200", "1 ", &[('a', &title), ('f', &format!("{author}著"))]));
        replace(&mut record, data("701", " 0", &[('a', &author), ('4', "著")]));
    } else {
        let title = super::en_title(&mut rng, lists);
        let author = super::en_name(&mut rng, lists);
        let inverted = match author.split_once(' ') {
            Some((given, family)) => format!("{family}, {given},"),
            None => author.clone(),
        };
        replace(&mut record, data("100", "1 ", &[('a', &inverted), ('e', "author.")]));
        replace(
            &mut record,
            data("245", "10", &[('a', &format!("{title} /")), ('c', &format!("{author}."))]),
        );
    }
    let (isbn_tag, holdings_tag) = if cn { ("010", "995") } else { ("020", "952") };
    record.fields.retain(
        |field| !matches!(field, Field::Data(d) if [isbn_tag, holdings_tag].contains(&d.tag.as_str())),
    );
    record.fields.push(data(isbn_tag, "  ", &[('a', &isbn13(serial))]));
    let shelf = format!("{} 号架", serial % 10);
    let item = if cn {
        data("995", "  ", &[('f', barcode), ('e', &shelf), ('k', "I247.55/L61"), ('r', "book")])
    } else {
        data("952", "  ", &[('p', barcode), ('c', &shelf), ('o', "I287.45/C12"), ('y', "book")])
    };
    record.fields.push(item);
    iso2709::write_record(&record, file)
}

/// Puts `field` in place of the record's first field with its tag.
fn replace(record: &mut Record, field: Field) {
    let tag = tag_of(&field);
    match record.fields.iter().position(|existing| tag_of(existing) == tag) {
        Some(index) => record.fields[index] = field,
        None => record.fields.push(field),
    }
}

fn tag_of(field: &Field) -> Tag {
    match field {
        Field::Control { tag, .. } => *tag,
        Field::Data(data) => data.tag,
    }
}

#[cfg(test)]
mod tests {
    use lectern_biblio::marc::{Flavour, to_bib};

    use super::*;

    #[test]
    fn a_file_reads_back_as_its_titles() {
        let file = file(6).unwrap();
        let records: Vec<Record> =
            iso2709::Iso2709Reader::new(file.as_slice()).collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), 6);
        for (serial, record) in (0..).zip(&records) {
            let (flavour, bib) = to_bib(record, None);
            let expected = if serial % 2 == 1 { Flavour::Cnmarc } else { Flavour::Marc21 };
            assert_eq!(flavour, expected);
            assert_eq!(bib.isbns.first().map(|isbn| isbn.isbn13().to_owned()), Some(isbn13(serial)));
            assert!(!bib.title.is_empty());
        }
    }
}
