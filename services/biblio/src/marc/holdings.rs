//! Where a MARC file keeps its copies. Holdings are not standardised the way
//! bibliographic fields are: Koha puts MARC21 items in 952 and UNIMARC items
//! in 995, several Chinese systems use 905, and MARC holdings proper use 852.
//! A [`HoldingsMapping`] names the field and the subfield of each item value;
//! the presets below are the layouts met in practice, and an importer picks
//! one (952 for MARC21, 995 for CNMARC unless told otherwise).

use super::bib::{Item, Price};
use super::map::Flavour;
use super::{Record, Tag};

/// Which field holds items and which subfield holds each value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingsMapping {
    /// The holdings field.
    pub tag: Tag,
    /// Holding library (the source system's code).
    pub home: Option<char>,
    /// Shelf location.
    pub location: Option<char>,
    /// Call number parts, joined with `call_number_separator`.
    pub call_number: Vec<char>,
    /// How call number parts are joined (`/` for class/book number in
    /// Chinese systems, a space in 852).
    pub call_number_separator: &'static str,
    /// Barcode.
    pub barcode: char,
    /// Item type.
    pub item_type: Option<char>,
    /// Price.
    pub price: Option<char>,
}

fn tag(text: &str) -> Tag {
    // Only called with literal three-digit tags below.
    Tag::new(text.as_bytes()).unwrap_or(Tag([b'9', b'5', b'2']))
}

impl HoldingsMapping {
    /// Koha's MARC21 items: 952 $a home, $c location, $o call number,
    /// $p barcode, $y item type, $g price.
    pub fn koha_952() -> Self {
        Self {
            tag: tag("952"),
            home: Some('a'),
            location: Some('c'),
            call_number: vec!['o'],
            call_number_separator: " ",
            barcode: 'p',
            item_type: Some('y'),
            price: Some('g'),
        }
    }

    /// Koha's UNIMARC items: 995 $b home, $e location, $k call number,
    /// $f barcode, $r item type, $p price.
    pub fn koha_995() -> Self {
        Self {
            tag: tag("995"),
            home: Some('b'),
            location: Some('e'),
            call_number: vec!['k'],
            call_number_separator: " ",
            barcode: 'f',
            item_type: Some('r'),
            price: Some('p'),
        }
    }

    /// A 905 layout common in Chinese library systems (it varies by vendor;
    /// check a sample record): $a home, $b barcode, $c location, $d class
    /// number and $e book number (种次号) making the call number `d/e`,
    /// $f price.
    pub fn chinese_905() -> Self {
        Self {
            tag: tag("905"),
            home: Some('a'),
            location: Some('c'),
            call_number: vec!['d', 'e'],
            call_number_separator: "/",
            barcode: 'b',
            item_type: None,
            price: Some('f'),
        }
    }

    /// MARC21 holdings location 852: $a institution, $c shelving location,
    /// $h classification and $i item part as call number, $p barcode,
    /// $9 price (Koha's habit).
    pub fn marc_852() -> Self {
        Self {
            tag: tag("852"),
            home: Some('a'),
            location: Some('c'),
            call_number: vec!['h', 'i'],
            call_number_separator: " ",
            barcode: 'p',
            item_type: None,
            price: Some('9'),
        }
    }

    /// The preset for a holdings tag: `952`, `995`, `905` or `852`.
    pub fn for_tag(tag: &str) -> Option<Self> {
        match tag.trim() {
            "952" => Some(Self::koha_952()),
            "995" => Some(Self::koha_995()),
            "905" => Some(Self::chinese_905()),
            "852" => Some(Self::marc_852()),
            _ => None,
        }
    }

    /// The usual mapping for a flavour: 952 for MARC21, 995 for CNMARC.
    pub fn default_for(flavour: Flavour) -> Self {
        match flavour {
            Flavour::Marc21 => Self::koha_952(),
            Flavour::Cnmarc => Self::koha_995(),
        }
    }

    /// The items of a record under this mapping, one per holdings field.
    pub fn items(&self, record: &Record) -> Vec<Item> {
        let tag = self.tag.to_string();
        record
            .data_fields(&tag)
            .map(|field| {
                let value =
                    |code: Option<char>| code.and_then(|code| field.first(code)).unwrap_or("").to_owned();
                let call_number: Vec<&str> =
                    self.call_number.iter().filter_map(|code| field.first(*code)).collect();
                Item {
                    barcode: value(Some(self.barcode)),
                    call_number: call_number.join(self.call_number_separator),
                    location: value(self.location),
                    item_type: value(self.item_type),
                    home: value(self.home),
                    price: self.price.and_then(|code| field.first(code)).and_then(Price::parse),
                }
            })
            .collect()
    }
}
