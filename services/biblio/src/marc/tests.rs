//! Hand-built MARC21 and CNMARC records shared by the reader, writer and
//! mapping tests, and the mapping tests themselves.

use super::bib::{Price, Role};
use super::samples::{cnmarc as cnmarc_record, data, leader, marc21 as marc21_record};
use super::{Record, iso2709, to_bib};
use crate::marc::map::Flavour;
use crate::marc::xml::{MarcXmlReader, MarcXmlWriter};

pub(crate) fn iso(records: &[Record]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for record in records {
        iso2709::write_record(record, &mut bytes).unwrap();
    }
    bytes
}

#[test]
fn marc21_maps_every_field_librarians_see() {
    let (flavour, bib) = to_bib(&marc21_record(), None);
    assert_eq!(flavour, Flavour::Marc21);
    let isbns: Vec<&str> = bib.isbns.iter().map(|isbn| isbn.isbn13()).collect();
    assert_eq!(isbns, ["9787020002207"], "the ISBN-10 of the same book is not a second ISBN");
    assert_eq!(bib.rejected_isbns, ["9787020002208"]);
    assert_eq!(bib.title, "Bronze and sunflower");
    assert_eq!(bib.subtitle, "a novel");
    let contributors: Vec<(&str, Role)> =
        bib.contributors.iter().map(|c| (c.name.as_str(), c.role)).collect();
    assert_eq!(
        contributors,
        [("Cao, Wenxuan", Role::Author), ("Wang, Helen", Role::Translator), ("So, Meilo", Role::Illustrator)]
    );
    assert_eq!(bib.publisher, "Walker Books");
    assert_eq!(bib.year, Some(2015));
    assert_eq!(bib.edition, "1st ed");
    assert_eq!(bib.language, "en");
    assert_eq!(bib.pages, Some(356));
    assert_eq!(bib.series, "Walker classics");
    assert_eq!(bib.subjects, ["Friendship--Fiction", "China--History--1949-1976--Fiction"]);
    assert_eq!(bib.summary, "Bronze cannot speak; Sunflower becomes his voice.");
    assert_eq!(bib.clc, "I287.45");
    assert_eq!(bib.dewey, "823.92");
    assert_eq!(bib.price, Some(Price { minor: 4800, currency: "CNY".into() }));
    assert_eq!(bib.items.len(), 2);
    assert_eq!(bib.items[0].barcode, "B0001");
    assert_eq!(bib.items[0].location, "一楼 A 区 3 架");
    assert_eq!(bib.items[0].call_number, "I287.45/C12");
    assert_eq!(bib.items[0].item_type, "book");
    assert_eq!(bib.items[0].price, Some(Price { minor: 4800, currency: "CNY".into() }));
    assert_eq!(bib.items[1].barcode, "B0002");
    assert_eq!(bib.items[1].item_type, "picture_book");
}

#[test]
fn cnmarc_maps_its_own_tags() {
    let (flavour, bib) = to_bib(&cnmarc_record(), None);
    assert_eq!(flavour, Flavour::Cnmarc);
    assert_eq!(bib.isbns[0].isbn13(), "9787536692930");
    assert_eq!(bib.title, "三体");
    assert_eq!(bib.subtitle, "地球往事");
    let contributors: Vec<(&str, Role)> =
        bib.contributors.iter().map(|c| (c.name.as_str(), c.role)).collect();
    assert_eq!(contributors, [("刘慈欣", Role::Author), ("张三", Role::Illustrator)]);
    assert_eq!(bib.publisher, "重庆出版社");
    assert_eq!(bib.year, Some(2008));
    assert_eq!(bib.edition, "第2版");
    assert_eq!(bib.language, "zh");
    assert_eq!(bib.pages, Some(302));
    assert_eq!(bib.series, "中国科幻基石丛书");
    assert_eq!(bib.subjects, ["科学幻想小说--中国--当代"]);
    assert_eq!(bib.clc, "I247.55");
    assert_eq!(bib.price, Some(Price { minor: 2300, currency: "CNY".into() }));
    assert_eq!(bib.items.len(), 1);
    assert_eq!(bib.items[0].barcode, "C0001");
    assert_eq!(bib.items[0].call_number, "I247.55/L61");
    assert_eq!(bib.items[0].location, "二楼");
}

#[test]
fn flavour_follows_the_fields_when_the_leader_lies() {
    let mut record = cnmarc_record();
    record.leader[20..24].copy_from_slice(b"4500");
    assert_eq!(Flavour::detect(&record), Flavour::Cnmarc);
    let bare = Record { leader: leader("00000nam0 2200000   450 "), fields: vec![] };
    assert_eq!(Flavour::detect(&bare), Flavour::Cnmarc);
    let bare = Record { leader: leader("00000nam a2200000   4500"), fields: vec![] };
    assert_eq!(Flavour::detect(&bare), Flavour::Marc21);
}

#[test]
fn holdings_field_is_configurable() {
    let mut record = cnmarc_record();
    record.fields.push(data(
        "905",
        "  ",
        &[('a', "MAIN"), ('b', "X0009"), ('d', "I247.55"), ('e', "12"), ('f', "CNY30")],
    ));
    let mapping = super::HoldingsMapping::for_tag("905").unwrap();
    let (_, bib) = to_bib(&record, Some(&mapping));
    assert_eq!(bib.items.len(), 1);
    assert_eq!(bib.items[0].barcode, "X0009");
    assert_eq!(bib.items[0].call_number, "I247.55/12");
    assert_eq!(bib.items[0].price.as_ref().map(|price| price.minor), Some(3000));
    assert!(super::HoldingsMapping::for_tag("999").is_none());
}

#[test]
fn export_reads_back_to_the_same_bib_record() {
    for record in [marc21_record(), cnmarc_record()] {
        let (_, mut bib) = to_bib(&record, None);
        bib.rejected_isbns.clear();
        let exported = super::export::to_marc21(&bib, "title-1");
        let bytes = iso(std::slice::from_ref(&exported));
        let reread = iso2709::Iso2709Reader::new(&bytes[..]).next().unwrap().unwrap();
        let (flavour, mut again) = to_bib(&reread, None);
        assert_eq!(flavour, Flavour::Marc21);
        // The export has no title-level price; items carry theirs.
        again.price = bib.price.clone();
        assert_eq!(again, bib);
        assert_eq!(reread.control("001"), Some("title-1"));
    }
}

#[test]
fn iso2709_and_marcxml_round_trip_both_flavours() {
    let records = [marc21_record(), cnmarc_record()];
    let bytes = iso(&records);
    let read: Vec<Record> = iso2709::Iso2709Reader::new(&bytes[..]).map(Result::unwrap).collect();
    // The writer fills in lengths and the base address.
    for (read, original) in read.iter().zip(&records) {
        assert_eq!(read.fields, original.fields);
        assert_eq!(&read.leader[5..10], &original.leader[5..10]);
    }
    let mut writer = MarcXmlWriter::new(Vec::new()).unwrap();
    for record in &read {
        writer.write(record).unwrap();
    }
    let xml = writer.finish().unwrap();
    let again: Vec<Record> = MarcXmlReader::new(&xml[..]).map(Result::unwrap).collect();
    assert_eq!(again, read);
}

#[test]
fn prices_years_and_pages_come_out_of_punctuated_text() {
    let price = |text| Price::parse(text).map(|price| (price.minor, price.currency));
    assert_eq!(price("CNY48.00"), Some((4800, "CNY".into())));
    assert_eq!(price("¥12.5"), Some((1250, "CNY".into())));
    assert_eq!(price("48元"), Some((4800, "CNY".into())));
    assert_eq!(price("$12.99 (pbk.)"), Some((1299, "USD".into())));
    assert_eq!(price("HK$80"), Some((8000, "HKD".into())));
    assert_eq!(price("价格不详"), None);
    assert_eq!(price("99999999999999999999"), None);
    assert_eq!(super::bib::year_in("c2019."), Some(2019));
    assert_eq!(super::bib::year_in("[2018]"), Some(2018));
    assert_eq!(super::bib::year_in("20190101"), None);
    assert_eq!(super::bib::pages_in("xii, 356 p."), Some(356));
    assert_eq!(super::bib::pages_in("302页"), Some(302));
    assert_eq!(super::bib::clean("White, E. B."), "White, E. B.");
    assert_eq!(super::bib::clean("Charlotte's web /"), "Charlotte's web");
}
