//! MARC records as school libraries exchange them: MARC21 and CNMARC (the
//! UNIMARC profile Chinese libraries use), in ISO 2709 ([`iso2709`]) and
//! MARCXML ([`xml`]). The readers stream one record at a time from any
//! `BufRead`, so a file of a million records needs no more memory than its
//! largest record, and a broken record yields a [`RecordError`] naming the
//! record number and field while the records after it are still read.
//! [`map`] turns a record of either flavour into a plain [`BibRecord`];
//! [`export`] turns one back into MARC21 with 952 items.

pub mod bib;
pub mod export;
pub mod holdings;
pub mod iso2709;
pub mod map;
pub mod samples;
pub mod xml;

use std::fmt;

pub use bib::{BibRecord, Contributor, Item, Price, Role};
pub use holdings::HoldingsMapping;
pub use map::{Flavour, to_bib};

/// Length of a MARC leader, in bytes.
pub const LEADER_LEN: usize = 24;
/// Largest record ISO 2709 can describe: the leader gives the length in
/// five digits.
pub const MAX_RECORD_BYTES: usize = 99_999;
/// Largest field ISO 2709 can describe with the usual four-digit lengths.
pub const MAX_FIELD_BYTES: usize = 9_999;

/// One MARC record: the 24-character leader and its fields in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The leader, 24 ASCII characters.
    pub leader: [u8; LEADER_LEN],
    /// Control and data fields in record order.
    pub fields: Vec<Field>,
}

/// A control field (tag 001–009) or a data field (indicators and subfields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// Tags starting with `00`: one value, no subfields.
    Control {
        /// Three-character tag.
        tag: Tag,
        /// The value.
        value: String,
    },
    /// Every other tag.
    Data(DataField),
}

/// A data field: two indicators and subfields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataField {
    /// Three-character tag.
    pub tag: Tag,
    /// First indicator (often a space).
    pub ind1: char,
    /// Second indicator.
    pub ind2: char,
    /// Subfields in order.
    pub subfields: Vec<Subfield>,
}

/// A subfield: a one-character code and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subfield {
    /// The code, e.g. `a`.
    pub code: char,
    /// The value.
    pub value: String,
}

/// A field tag: three ASCII letters or digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag([u8; 3]);

impl Tag {
    /// A tag from three ASCII letters or digits; `None` for anything else.
    pub fn new(text: &[u8]) -> Option<Self> {
        match text {
            [a, b, c] if text.iter().all(u8::is_ascii_alphanumeric) => Some(Self([*a, *b, *c])),
            _ => None,
        }
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics get in through `new`.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Whether this tag is a control field (`00X`).
    pub fn is_control(&self) -> bool {
        self.0[0] == b'0' && self.0[1] == b'0'
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Record {
    /// A record with the given leader and no fields.
    pub fn new(leader: [u8; LEADER_LEN]) -> Self {
        Self { leader, fields: Vec::new() }
    }

    /// The leader as text.
    pub fn leader_str(&self) -> &str {
        // Readers only accept ASCII leaders; `new` callers pass ASCII.
        std::str::from_utf8(&self.leader).unwrap_or("")
    }

    /// The first control field with this tag.
    pub fn control(&self, tag: &str) -> Option<&str> {
        self.fields.iter().find_map(|field| match field {
            Field::Control { tag: field_tag, value } if field_tag.as_str() == tag => Some(value.as_str()),
            _ => None,
        })
    }

    /// Every data field with this tag, in order.
    pub fn data_fields<'a>(&'a self, tag: &str) -> impl Iterator<Item = &'a DataField> + use<'a> {
        let wanted = Tag::new(tag.as_bytes());
        self.fields.iter().filter_map(move |field| match field {
            Field::Data(data) if Some(data.tag) == wanted => Some(data),
            _ => None,
        })
    }

    /// Whether any field carries this tag.
    pub fn has(&self, tag: &str) -> bool {
        self.fields.iter().any(|field| match field {
            Field::Control { tag: field_tag, .. } => field_tag.as_str() == tag,
            Field::Data(data) => data.tag.as_str() == tag,
        })
    }

    /// The first value of `tag $code`, trimmed, if not empty.
    pub fn first(&self, tag: &str, code: char) -> Option<&str> {
        self.data_fields(tag).find_map(|field| field.first(code))
    }
}

impl DataField {
    /// A data field with blank indicators and the given subfields.
    pub fn new(tag: Tag, subfields: Vec<Subfield>) -> Self {
        Self { tag, ind1: ' ', ind2: ' ', subfields }
    }

    /// The first value of subfield `code`, trimmed, if not empty.
    pub fn first(&self, code: char) -> Option<&str> {
        self.values(code).next()
    }

    /// Every non-empty value of subfield `code`, trimmed, in order.
    pub fn values(&self, code: char) -> impl Iterator<Item = &str> + '_ {
        self.subfields
            .iter()
            .filter(move |subfield| subfield.code == code)
            .map(|subfield| subfield.value.trim())
            .filter(|value| !value.is_empty())
    }
}

/// What is wrong with a record, by kind, so a report can group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The leader is short, not ASCII, or its lengths are not digits or
    /// do not match the record.
    Leader,
    /// The directory does not describe the fields that are there.
    Directory,
    /// A field's content is malformed (indicators, subfield codes, XML
    /// attributes).
    Field,
    /// Text that is not UTF-8.
    Encoding,
    /// A record or field larger than the format allows.
    Size,
    /// The file is not well-formed (XML syntax, record cut off at the end).
    Syntax,
    /// Reading the file failed; no more records follow.
    Io,
}

/// A record that could not be read. The records after it are still read,
/// except after [`Problem::Io`] and XML syntax errors, which end the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {record}{}: {reason}", tag.as_ref().map(|tag| format!(", field {tag}")).unwrap_or_default())]
pub struct RecordError {
    /// 1-based position of the record in the file.
    pub record: u64,
    /// The field at fault, where one is.
    pub tag: Option<String>,
    /// The kind of problem.
    pub problem: Problem,
    /// What is wrong, in lower case, for a person.
    pub reason: String,
}

impl RecordError {
    pub(crate) fn new(record: u64, tag: Option<&str>, problem: Problem, reason: impl Into<String>) -> Self {
        Self { record, tag: tag.map(str::to_owned), problem, reason: reason.into() }
    }
}

/// Why a record could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A field longer than ISO 2709's four-digit lengths allow.
    #[error("field {tag} is {bytes} bytes; ISO 2709 allows at most {MAX_FIELD_BYTES}")]
    FieldTooLong {
        /// The field.
        tag: String,
        /// Its length in bytes.
        bytes: usize,
    },
    /// A record longer than ISO 2709's five-digit length allows.
    #[error("record is {bytes} bytes; ISO 2709 allows at most {MAX_RECORD_BYTES}")]
    RecordTooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// The output failed.
    #[error("writing failed: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
pub(crate) mod tests;
