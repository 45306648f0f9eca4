//! Synthetic MARC files for `lectern bench import` and the import tests:
//! records alternating MARC21 and CNMARC (the samples of
//! `lectern_biblio::marc::samples` with their ISBN and holdings replaced),
//! each a distinct title with one copy on one of ten shelves.

use lectern_biblio::marc::iso2709;
use lectern_biblio::marc::samples::{cnmarc, data, marc21};
use lectern_biblio::marc::{Field, Record, WriteError};

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
/// `barcode` (CNMARC when `cn`, else MARC21).
pub fn push_record(file: &mut Vec<u8>, serial: u64, barcode: &str, cn: bool) -> Result<(), WriteError> {
    let mut record: Record = if cn { cnmarc() } else { marc21() };
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
