//! From a [`BibRecord`] back to a MARC21 record, for a school's holdings
//! export: the fields [`super::map`] reads, without ISBD punctuation (so
//! another system reads the values as they are), items in Koha's 952.

use super::bib::{BibRecord, Role};
use super::{DataField, Field, LEADER_LEN, Record, Subfield, Tag};

/// New record, language material, monograph, UTF-8 (leader/09 `a`).
const LEADER: &[u8; LEADER_LEN] = b"00000nam a2200000   4500";

fn tag(text: &str) -> Tag {
    // Only called with literal tags below.
    Tag::new(text.as_bytes()).unwrap_or(Tag(*b"999"))
}

fn data(tag_text: &str, ind1: char, ind2: char, subfields: &[(char, &str)]) -> Option<Field> {
    let subfields: Vec<Subfield> = subfields
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(code, value)| Subfield { code: *code, value: (*value).to_owned() })
        .collect();
    (!subfields.is_empty()).then(|| Field::Data(DataField { tag: tag(tag_text), ind1, ind2, subfields }))
}

/// The MARC21 record of `bib`, with `control_number` in 001.
pub fn to_marc21(bib: &BibRecord, control_number: &str) -> Record {
    let mut fields = Vec::new();
    if !control_number.is_empty() {
        fields.push(Field::Control { tag: tag("001"), value: control_number.to_owned() });
    }
    let language = super::bib::language_to_marc(&bib.language);
    let fixed = format!(
        "000000{}{}    xx {:17}{} d",
        if bib.year.is_some() { 's' } else { 'n' },
        bib.year.map(|year| format!("{year:04}")).unwrap_or_else(|| "uuuu".to_owned()),
        "",
        language.unwrap_or("und"),
    );
    fields.push(Field::Control { tag: tag("008"), value: fixed });
    for isbn in &bib.isbns {
        fields.extend(data("020", ' ', ' ', &[('a', isbn.isbn13())]));
    }
    if let Some(language) = language {
        fields.extend(data("041", ' ', ' ', &[('a', language)]));
    }
    fields.extend(data("082", '0', '4', &[('a', &bib.dewey)]));
    if !bib.clc.is_empty() {
        fields.extend(data("084", ' ', ' ', &[('a', &bib.clc), ('2', "clc")]));
    }
    let main = bib.contributors.iter().position(|contributor| contributor.role == Role::Author);
    if let Some(main) = main {
        let author = &bib.contributors[main];
        fields.extend(data("100", '1', ' ', &[('a', &author.name), ('e', author.role.relator_term())]));
    }
    fields.extend(data(
        "245",
        if main.is_some() { '1' } else { '0' },
        '0',
        &[('a', &bib.title), ('b', &bib.subtitle)],
    ));
    fields.extend(data("250", ' ', ' ', &[('a', &bib.edition)]));
    let year = bib.year.map(|year| year.to_string()).unwrap_or_default();
    fields.extend(data("264", ' ', '1', &[('b', &bib.publisher), ('c', &year)]));
    if let Some(pages) = bib.pages {
        fields.extend(data("300", ' ', ' ', &[('a', &format!("{pages} p."))]));
    }
    fields.extend(data("490", '0', ' ', &[('a', &bib.series)]));
    fields.extend(data("520", ' ', ' ', &[('a', &bib.summary)]));
    for subject in &bib.subjects {
        let mut parts = subject.split("--");
        let heading = parts.next().unwrap_or("");
        let mut subfields = vec![('a', heading)];
        subfields.extend(parts.map(|part| ('x', part)));
        fields.extend(data("650", ' ', '4', &subfields));
    }
    for (index, contributor) in bib.contributors.iter().enumerate() {
        if Some(index) == main {
            continue;
        }
        fields.extend(data(
            "700",
            '1',
            ' ',
            &[
                ('a', &contributor.name),
                ('e', contributor.role.relator_term()),
                ('4', contributor.role.relator_code()),
            ],
        ));
    }
    for item in &bib.items {
        let price = item.price.as_ref().map(super::bib::Price::decimal).unwrap_or_default();
        fields.extend(data(
            "952",
            ' ',
            ' ',
            &[
                ('a', &item.home),
                ('c', &item.location),
                ('g', &price),
                ('o', &item.call_number),
                ('p', &item.barcode),
                ('y', &item.item_type),
            ],
        ));
    }
    Record { leader: *LEADER, fields }
}
