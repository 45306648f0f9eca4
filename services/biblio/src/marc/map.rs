//! From a MARC record to a [`BibRecord`]. The same tag means different
//! things in MARC21 and CNMARC (200 is a title in one and nothing in the
//! other), so the flavour is decided first ([`Flavour::detect`]) and each
//! has its own table, following docs/marc.md:
//!
//! | concept | MARC21 | CNMARC |
//! | --- | --- | --- |
//! | ISBN, price | 020 $a $c | 010 $a $d |
//! | title, other title | 245 $a $n $p, $b | 200 $a, $e |
//! | authors | 100/110, 700/710 ($4, $e) | 700/701/702, 710/711/712 ($4) |
//! | publisher, year | 264/260 $b $c (008/07-10) | 210 $c $d, 214 (100 $a/9-12) |
//! | edition, extent | 250 $a, 300 $a | 205 $a, 215 $a |
//! | language | 041 $a, 008/35-37 | 101 $a |
//! | series, summary | 490 $a, 520 $a | 225 $a, 330 $a |
//! | subjects | 600/610/611/630/650/651 | 600/601/606/607 |
//! | CLC, Dewey | 084 $a ($2 clc), 093 $a; 082 $a | 690 $a; 676 $a |

use super::bib::{self, BibRecord, Contributor, Price, Role};
use super::holdings::HoldingsMapping;
use super::{DataField, Record};
use crate::isbn::Isbn;

/// The two MARC flavours Lectern reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// MARC 21 (Library of Congress).
    Marc21,
    /// CNMARC, the UNIMARC profile of the National Library of China.
    Cnmarc,
}

impl Flavour {
    /// Tells the flavours apart. The leader's entry map (positions 20–23)
    /// is `4500` in MARC21 and `450 ` in CNMARC, but exporters get it wrong
    /// often enough that the fields have the last word: a record with a 245
    /// title and no 200 is MARC21, one with a 200 and no 245 is CNMARC, and
    /// 020 versus 010 settles records that have neither title field.
    pub fn detect(record: &Record) -> Self {
        match (record.has("245"), record.has("200")) {
            (true, false) => return Self::Marc21,
            (false, true) => return Self::Cnmarc,
            _ => {}
        }
        match &record.leader[20..24] {
            b"4500" => return Self::Marc21,
            b"450 " => return Self::Cnmarc,
            _ => {}
        }
        if record.has("010") && !record.has("020") || record.has("690") || record.has("101") {
            Self::Cnmarc
        } else {
            Self::Marc21
        }
    }

    /// How reports name the flavour.
    pub fn name(self) -> &'static str {
        match self {
            Self::Marc21 => "MARC21",
            Self::Cnmarc => "CNMARC",
        }
    }
}

/// Maps a record to a [`BibRecord`], reading items with `holdings` or,
/// when `None`, the flavour's usual holdings field.
pub fn to_bib(record: &Record, holdings: Option<&HoldingsMapping>) -> (Flavour, BibRecord) {
    let flavour = Flavour::detect(record);
    let mut bib = match flavour {
        Flavour::Marc21 => marc21(record),
        Flavour::Cnmarc => cnmarc(record),
    };
    let default_mapping;
    let mapping = match holdings {
        Some(mapping) => mapping,
        None => {
            default_mapping = HoldingsMapping::default_for(flavour);
            &default_mapping
        }
    };
    bib.items = mapping.items(record);
    (flavour, bib)
}

fn marc21(record: &Record) -> BibRecord {
    let mut bib = BibRecord::default();
    for field in record.data_fields("020") {
        if let Some(isbn) = field.first('a') {
            add_isbn(&mut bib, isbn);
        }
        if bib.price.is_none() {
            bib.price = field.first('c').and_then(Price::parse);
        }
    }
    if let Some(field) = record.data_fields("245").next() {
        let parts: Vec<String> = field
            .subfields
            .iter()
            .filter(|subfield| matches!(subfield.code, 'a' | 'n' | 'p'))
            .map(|subfield| bib::clean(&subfield.value))
            .filter(|part| !part.is_empty())
            .collect();
        bib.title = parts.join(" ");
        bib.subtitle = field.first('b').map(bib::clean).unwrap_or_default();
    }
    for field in record.fields.iter().filter_map(|field| match field {
        super::Field::Data(data) if matches!(data.tag.as_str(), "100" | "110" | "700" | "710") => Some(data),
        _ => None,
    }) {
        let corporate = field.tag.as_str().ends_with("10");
        let name = if corporate { joined(field, &['a', 'b']) } else { field.first('a').map(bib::clean) };
        let Some(name) = name.filter(|name| !name.is_empty()) else {
            continue;
        };
        let role =
            field.first('4').or_else(|| field.first('e')).map(Role::from_relator).unwrap_or(Role::Author);
        bib.contributors.push(Contributor { name, role });
    }
    let publication = record
        .data_fields("264")
        .find(|field| field.ind2 == '1')
        .or_else(|| record.data_fields("260").next())
        .or_else(|| record.data_fields("264").next());
    if let Some(field) = publication {
        bib.publisher = field.first('b').map(bib::clean).unwrap_or_default();
        bib.year = field.first('c').and_then(bib::year_in);
    }
    let fixed = record.control("008").unwrap_or("");
    if bib.year.is_none() {
        bib.year = fixed.get(7..11).and_then(bib::year_in);
    }
    bib.edition = first_clean(record, "250", 'a');
    bib.language = record
        .first("041", 'a')
        .or_else(|| fixed.get(35..38))
        .map(|code| bib::language_from_marc(code.get(..3).unwrap_or(code)))
        .unwrap_or_default();
    bib.pages = record.first("300", 'a').and_then(bib::pages_in);
    bib.series = first_clean(record, "490", 'a');
    bib.summary = record.first("520", 'a').unwrap_or("").to_owned();
    for tag in ["600", "610", "611", "630", "650", "651"] {
        for field in record.data_fields(tag) {
            add_subject(&mut bib, field, &['a', 'b', 'x', 'y', 'z', 'v']);
        }
    }
    bib.clc = record
        .data_fields("084")
        .find(|field| {
            field
                .first('2')
                .is_some_and(|scheme| scheme.to_lowercase().contains("clc") || scheme.contains("中图"))
        })
        .and_then(|field| field.first('a'))
        .or_else(|| record.first("093", 'a'))
        .unwrap_or("")
        .to_owned();
    bib.dewey = record.first("082", 'a').map(|dewey| dewey.replace(['/', '\''], "")).unwrap_or_default();
    bib
}

fn cnmarc(record: &Record) -> BibRecord {
    let mut bib = BibRecord::default();
    for field in record.data_fields("010") {
        if let Some(isbn) = field.first('a') {
            add_isbn(&mut bib, isbn);
        }
        if bib.price.is_none() {
            bib.price = field.first('d').and_then(Price::parse);
        }
    }
    if let Some(field) = record.data_fields("200").next() {
        let parts: Vec<String> = field
            .subfields
            .iter()
            .filter(|subfield| matches!(subfield.code, 'a' | 'h' | 'i'))
            .map(|subfield| bib::clean(&subfield.value))
            .filter(|part| !part.is_empty())
            .collect();
        bib.title = parts.join(" ");
        bib.subtitle = field.first('e').map(bib::clean).unwrap_or_default();
    }
    for field in record.fields.iter().filter_map(|field| match field {
        super::Field::Data(data)
            if matches!(data.tag.as_str(), "700" | "701" | "702" | "710" | "711" | "712") =>
        {
            Some(data)
        }
        _ => None,
    }) {
        // Western names come as surname in $a and forenames in $b.
        let Some(name) = joined(field, &['a', 'b']).filter(|name| !name.is_empty()) else {
            continue;
        };
        let role = field.first('4').map(Role::from_relator).unwrap_or(Role::Author);
        bib.contributors.push(Contributor { name, role });
    }
    let publication = record.data_fields("210").next().or_else(|| record.data_fields("214").next());
    if let Some(field) = publication {
        bib.publisher = field.first('c').map(bib::clean).unwrap_or_default();
        bib.year = field.first('d').and_then(bib::year_in);
    }
    if bib.year.is_none() {
        bib.year = record.first("100", 'a').and_then(|fixed| fixed.get(9..13)).and_then(bib::year_in);
    }
    bib.edition = first_clean(record, "205", 'a');
    bib.language = record.first("101", 'a').map(bib::language_from_marc).unwrap_or_default();
    bib.pages = record.first("215", 'a').and_then(bib::pages_in);
    bib.series = first_clean(record, "225", 'a');
    bib.summary = record.first("330", 'a').unwrap_or("").to_owned();
    for tag in ["600", "601", "606", "607"] {
        for field in record.data_fields(tag) {
            add_subject(&mut bib, field, &['a', 'b', 'j', 'x', 'y', 'z']);
        }
    }
    bib.clc = record.first("690", 'a').unwrap_or("").to_owned();
    bib.dewey = record.first("676", 'a').unwrap_or("").to_owned();
    bib
}

fn add_isbn(bib: &mut BibRecord, text: &str) {
    // "9787020002207 (pbk.)", "7-02-000220-X (平装)": the ISBN is the
    // first word.
    let candidate = text.split(['(', '（', ':', ';']).next().unwrap_or("").trim();
    let candidate = candidate.split_whitespace().next().unwrap_or("");
    match Isbn::parse(candidate) {
        Ok(isbn) => {
            if !bib.isbns.contains(&isbn) {
                bib.isbns.push(isbn);
            }
        }
        Err(_) => bib.rejected_isbns.push(text.trim().to_owned()),
    }
}

fn add_subject(bib: &mut BibRecord, field: &DataField, codes: &[char]) {
    let parts: Vec<String> = field
        .subfields
        .iter()
        .filter(|subfield| codes.contains(&subfield.code))
        .map(|subfield| bib::clean(&subfield.value))
        .filter(|part| !part.is_empty())
        .collect();
    if parts.is_empty() {
        return;
    }
    let subject = parts.join("--");
    if !bib.subjects.contains(&subject) {
        bib.subjects.push(subject);
    }
}

fn joined(field: &DataField, codes: &[char]) -> Option<String> {
    let parts: Vec<String> = codes.iter().filter_map(|code| field.first(*code)).map(bib::clean).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn first_clean(record: &Record, tag: &str, code: char) -> String {
    record.first(tag, code).map(bib::clean).unwrap_or_default()
}
