//! Roster import: a school's students and staff, and their classes, read
//! from the school's own system — Lectern's CSV or OneRoster 1.1 CSV — and
//! brought into the readers table. Reading ([`decode`], [`table`],
//! [`lectern_csv`], [`oneroster`]) and planning ([`plan`]) are plain
//! functions over plain types; [`apply`] loads what the school has and
//! writes the plan, all inside the caller's one write transaction, so a
//! roster with any error, or a failure half way, changes nothing.
//! `docs/roster-import.md` describes the files for a school's IT person.

pub mod apply;
pub mod decode;
pub mod fields;
pub mod lectern_csv;
pub mod oneroster;
pub mod plan;
pub mod table;

use std::collections::HashMap;

use chrono::NaiveDate;

/// A class a roster line puts a reader in: a school's class is known by
/// its name within a school year.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClassRef {
    pub name: String,
    pub grade: i32,
    pub school_year: String,
}

/// One reader as a roster lists them, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterReader {
    /// Where the reader's line is, for errors.
    pub file: String,
    pub line: u64,
    /// Student or staff number: how the roster and Lectern match readers.
    pub number: String,
    pub name: String,
    /// Reader category code (student, teacher, staff, other).
    pub category: String,
    /// The card barcode, if the roster gives one.
    pub card_barcode: Option<String>,
    /// The reader's class, if the roster gives one.
    pub class: Option<ClassRef>,
    /// Last day of the card, if the roster gives one.
    pub expires_on: Option<NaiveDate>,
    /// False when the roster marks the reader inactive (left, graduated).
    pub active: bool,
}

/// A whole roster, read and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    pub readers: Vec<RosterReader>,
    /// Lines that needed nothing (parents, users of other schools).
    pub skipped: u64,
    /// The roster lists only some readers (a OneRoster delta).
    pub partial: bool,
    /// Remarks for the librarian that are not errors.
    pub notes: Vec<String>,
}

/// Something wrong with a roster, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub file: String,
    /// The line (header = 1); 0 for the whole file.
    pub line: u64,
    /// The column as the header writes it; empty for the whole line.
    pub column: String,
    pub message: String,
}

impl LineError {
    /// An error at a line (and column).
    pub fn at(file: &str, line: u64, column: &str, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), line, column: column.to_owned(), message: message.into() }
    }

    /// An error about a whole file.
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self::at(file, 0, "", message)
    }
}

/// Errors for numbers and card barcodes that two lines of the roster
/// share: each later line is an error naming the first. `number_column` is
/// the column the numbers come from, for the errors.
pub fn duplicates(readers: &[RosterReader], number_column: &str) -> Vec<LineError> {
    let mut errors = Vec::new();
    let mut numbers: HashMap<&str, &RosterReader> = HashMap::new();
    let mut cards: HashMap<&str, &RosterReader> = HashMap::new();
    for reader in readers {
        if let Some(first) = numbers.insert(&reader.number, reader) {
            numbers.insert(&first.number, first);
            errors.push(LineError::at(
                &reader.file,
                reader.line,
                number_column,
                format!("number {} is also on line {}", reader.number, first.line),
            ));
            continue;
        }
        if let Some(card) = &reader.card_barcode
            && let Some(first) = cards.insert(card, reader)
        {
            cards.insert(card, first);
            errors.push(LineError::at(
                &reader.file,
                reader.line,
                "card_barcode",
                format!("card barcode {card} is also on line {}", first.line),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn reader(line: u64, number: &str, card: Option<&str>) -> RosterReader {
        RosterReader {
            file: "r.csv".into(),
            line,
            number: number.into(),
            name: "A".into(),
            category: "student".into(),
            card_barcode: card.map(str::to_owned),
            class: None,
            expires_on: None,
            active: true,
        }
    }

    #[test]
    fn duplicate_numbers_and_cards_name_the_first_line() {
        let readers = [
            reader(2, "S1", Some("C1")),
            reader(3, "S2", Some("C1")),
            reader(4, "S1", None),
            reader(5, "S1", None),
        ];
        let errors: Vec<(u64, String)> =
            duplicates(&readers, "number").into_iter().map(|error| (error.line, error.message)).collect();
        assert_eq!(
            errors,
            vec![
                (3, "card barcode C1 is also on line 2".to_owned()),
                (4, "number S1 is also on line 2".to_owned()),
                (5, "number S1 is also on line 2".to_owned()),
            ]
        );
    }
}
