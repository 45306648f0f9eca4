//! Readers and their manual blocks: registering a reader with a library
//! card, reading one back as the desk sees it, placing and lifting blocks,
//! and what "today" is for a block's end date (the district's time zone,
//! not the server's).

use chrono::{NaiveDate, NaiveDateTime};
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_core::clock::SharedClock;
use lectern_core::validate::{self, FieldError};

use crate::db::readers::ReaderKey;
use crate::db::{self, BlockRow, ReaderRow, ReaderView};
use crate::error::{Error, ReaderRefusal};

/// Today's date in the district.
pub fn today(clock: &SharedClock, time_zone: chrono_tz::Tz) -> NaiveDate {
    clock.now().with_timezone(&time_zone).date_naive()
}

/// A reader category code as given: trimmed, lower case, non-empty. Whether
/// it is a known category is checked against the table.
pub fn category(field: &'static str, value: &str) -> Result<String, FieldError> {
    let code = value.trim().to_lowercase();
    if code.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if code.chars().count() > 32 || code.chars().any(char::is_control) {
        return Err(FieldError::new(field, format!("unknown reader category {code:?}")));
    }
    Ok(code)
}

/// The last day of a new block: none, or a date that is not in the past.
pub fn block_end(
    field: &'static str,
    value: &str,
    today: NaiveDate,
) -> Result<Option<NaiveDate>, FieldError> {
    let end = lectern_core::validate::optional_date(field, value)?;
    match end {
        Some(end) if end < today => {
            Err(FieldError::new(field, format!("{end} is in the past (today is {today})")))
        }
        _ => Ok(end),
    }
}

/// Longest reader name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A reader's full name: trimmed, 1–100 characters.
pub fn name(field: &'static str, value: &str) -> Result<String, FieldError> {
    validate::required_text(field, value, MAX_NAME_CHARS)
}

/// Registers a reader: the school must exist and the record pass
/// [`check`].
pub fn create_reader(
    connection: &mut DbConnection,
    reader: ReaderRow,
    today: NaiveDate,
) -> Result<ReaderView, Error> {
    if db::organisation::find_school(connection, &reader.school_id)?.is_none() {
        return Err(ReaderRefusal::SchoolNotFound(reader.school_id).into());
    }
    check(connection, &reader)?;
    db::readers::insert_reader(connection, &reader).map_err(|error| taken(error, &reader))?;
    tracing::info!(reader.id = %reader.id, school.id = %reader.school_id, "reader registered");
    view(connection, ReaderKey::Id(&reader.id), today)
}

/// What every reader record must be before it is stored, new or changed:
/// of a known category, in a class of its own school (or none), with a
/// card nobody else holds and a number nobody else at the school has.
pub fn check(connection: &mut DbConnection, reader: &ReaderRow) -> Result<(), Error> {
    if !db::readers::category_exists(connection, &reader.category)? {
        return Err(
            FieldError::new("category", format!("unknown reader category {:?}", reader.category)).into()
        );
    }
    if let Some(class_id) = &reader.class_id {
        let class = db::organisation::find_class(connection, class_id)?;
        if class.is_none_or(|class| class.school_id != reader.school_id) {
            return Err(ReaderRefusal::ClassNotFound(class_id.clone()).into());
        }
    }
    check_card(connection, reader)?;
    if let Some(number) = &reader.number
        && db::readers::number_holder(connection, &reader.school_id, number)?
            .is_some_and(|holder| holder != reader.id)
    {
        return Err(ReaderRefusal::NumberTaken(number.clone()).into());
    }
    Ok(())
}

/// Refuses a card that another reader holds.
pub fn check_card(connection: &mut DbConnection, reader: &ReaderRow) -> Result<(), Error> {
    let holder = db::readers::card_holder(connection, &reader.card_barcode)?;
    if holder.is_some_and(|holder| holder != reader.id) {
        return Err(ReaderRefusal::CardBarcodeTaken(reader.card_barcode.clone()).into());
    }
    Ok(())
}

/// A failure to store `reader`: a unique violation means another desk gave
/// the card or the number to someone else after [`check`] passed.
pub fn taken(error: diesel::result::Error, reader: &ReaderRow) -> Error {
    if unique_violation_on(&error, "card_barcode") {
        return ReaderRefusal::CardBarcodeTaken(reader.card_barcode.clone()).into();
    }
    if unique_violation_on(&error, "number") {
        return ReaderRefusal::NumberTaken(reader.number.clone().unwrap_or_default()).into();
    }
    error.into()
}

/// A reader with class and the blocks in force `today`.
pub fn view(
    connection: &mut DbConnection,
    key: ReaderKey<'_>,
    today: NaiveDate,
) -> Result<ReaderView, Error> {
    db::readers::reader_view(connection, key, today)?.ok_or_else(|| match key {
        ReaderKey::Id(id) => ReaderRefusal::ReaderNotFound(id.to_owned()).into(),
        ReaderKey::CardBarcode(code) => ReaderRefusal::CardNotFound(code.to_owned()).into(),
    })
}

/// Places a block on an existing reader.
pub fn place_block(
    connection: &mut DbConnection,
    block: BlockRow,
    today: NaiveDate,
) -> Result<ReaderView, Error> {
    if !db::readers::reader_exists(connection, &block.reader_id)? {
        return Err(ReaderRefusal::ReaderNotFound(block.reader_id).into());
    }
    db::readers::insert_block(connection, &block)?;
    tracing::info!(reader.id = %block.reader_id, block.id = %block.id, "reader blocked");
    view(connection, ReaderKey::Id(&block.reader_id), today)
}

/// Lifts a block of a reader; the block must be the reader's and not
/// lifted yet.
pub fn lift_block(
    connection: &mut DbConnection,
    reader_id: &str,
    block_id: &str,
    lifted_by: &str,
    now: NaiveDateTime,
    today: NaiveDate,
) -> Result<ReaderView, Error> {
    if !db::readers::reader_exists(connection, reader_id)? {
        return Err(ReaderRefusal::ReaderNotFound(reader_id.to_owned()).into());
    }
    if !db::readers::lift_block(connection, reader_id, block_id, lifted_by, now)? {
        return Err(ReaderRefusal::BlockNotFound(block_id.to_owned()).into());
    }
    tracing::info!(reader.id = %reader_id, block.id = %block_id, "reader block lifted");
    view(connection, ReaderKey::Id(reader_id), today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn blocks_may_not_end_in_the_past() {
        let today = date("2026-12-01");
        assert_eq!(block_end("ends_on", "", today), Ok(None));
        assert_eq!(block_end("ends_on", "2026-12-01", today), Ok(Some(today)));
        assert_eq!(
            block_end("ends_on", "2026-11-30", today).unwrap_err().to_string(),
            "ends_on: 2026-11-30 is in the past (today is 2026-12-01)"
        );
        assert!(block_end("ends_on", "1 Dec", today).is_err());
    }

    #[test]
    fn today_is_the_districts_date() {
        use chrono::TimeZone as _;
        let clock = lectern_core::clock::ManualClock::starting_at(
            chrono::Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap(),
        );
        let clock: SharedClock = std::sync::Arc::new(clock);
        assert_eq!(today(&clock, chrono_tz::Asia::Shanghai), date("2026-12-01"));
        assert_eq!(today(&clock, chrono_tz::UTC), date("2026-11-30"));
    }

    #[test]
    fn categories_are_lower_case_codes() {
        assert_eq!(category("category", " Student ").as_deref(), Ok("student"));
        assert_eq!(category("category", "").unwrap_err().to_string(), "category: is required");
    }
}

/// A student or staff number: 1–32 letters, digits or "-"; empty means none.
pub fn number(field: &'static str, value: &str) -> Result<Option<String>, FieldError> {
    let number = value.trim();
    if number.is_empty() {
        return Ok(None);
    }
    if number.len() > 32 || !number.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-') {
        return Err(FieldError::new(field, "must be 1 to 32 letters, digits or \"-\""));
    }
    Ok(Some(number.to_owned()))
}

/// What a reader search looks for: trimmed, 1–100 characters.
pub fn search_needle(field: &'static str, value: &str) -> Result<String, FieldError> {
    validate::required_text(field, value, 100)
}

#[cfg(test)]
mod number_tests {
    use super::*;

    #[test]
    fn numbers_and_search_needles_are_checked() {
        assert_eq!(number("number", " G3101012015 "), Ok(Some("G3101012015".to_owned())));
        assert_eq!(number("number", ""), Ok(None));
        assert!(number("number", "12 34").is_err());
        assert!(number("number", &"9".repeat(33)).is_err());
        assert_eq!(search_needle("query", " Wang "), Ok("Wang".to_owned()));
        assert!(search_needle("query", "  ").is_err());
    }
}
