//! Changing a reader's record at the desk: correcting their details (name,
//! category, class, card expiry, number) and giving them a new card in
//! place of a lost one. Both store the changed record after the checks a
//! new reader passes (`readers::check`), in the caller's transaction.
//!
//! No event goes out: circulation asks this service for the reader at
//! every check-out, renewal and hold, so it sees a change at once.

use chrono::{NaiveDate, NaiveDateTime};
use lectern_common::db::DbConnection;
use lectern_core::ids;
use lectern_core::validate::{self, FieldError};
use lectern_proto::reader::v1::UpdateReaderRequest;

use crate::db::readers::ReaderKey;
use crate::db::{self, ReaderRow, ReaderView};
use crate::error::{Error, ReaderRefusal};
use crate::readers;

/// The fields a desk changes, checked; `None` keeps what the record has.
/// For the fields that may be cleared, `Some(None)` clears them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderChanges {
    pub name: Option<String>,
    pub category: Option<String>,
    pub class_id: Option<Option<String>>,
    pub expires_on: Option<Option<NaiveDate>>,
    pub number: Option<Option<String>>,
}

impl ReaderChanges {
    /// The request's fields, checked as a new reader's are.
    pub fn from_request(request: &UpdateReaderRequest) -> Result<Self, FieldError> {
        Ok(Self {
            name: request.name.as_deref().map(|name| readers::name("name", name)).transpose()?,
            category: request
                .category
                .as_deref()
                .map(|category| readers::category("category", category))
                .transpose()?,
            class_id: request
                .class_id
                .as_deref()
                .map(|class_id| ids::parse_optional_id("class_id", class_id))
                .transpose()?,
            // A past date is allowed, as for a new reader: it ends the card.
            expires_on: request
                .expires_on
                .as_deref()
                .map(|day| validate::optional_date("expires_on", day))
                .transpose()?,
            number: request.number.as_deref().map(|number| readers::number("number", number)).transpose()?,
        })
    }

    /// `current` with the changes made, and the names of the fields that
    /// now differ (none when every given value is what the record has).
    pub fn apply(&self, current: &ReaderRow) -> (ReaderRow, Vec<&'static str>) {
        let mut wanted = current.clone();
        let mut fields = Vec::new();
        if let Some(name) = self.name.as_ref().filter(|name| **name != current.name) {
            wanted.name.clone_from(name);
            wanted.name_key = db::readers::name_key(name);
            fields.push("name");
        }
        if let Some(category) = self.category.as_ref().filter(|category| **category != current.category) {
            wanted.category.clone_from(category);
            fields.push("category");
        }
        if let Some(class_id) = self.class_id.as_ref().filter(|class_id| **class_id != current.class_id) {
            wanted.class_id.clone_from(class_id);
            fields.push("class");
        }
        if let Some(expires_on) = self.expires_on.filter(|expires_on| *expires_on != current.expires_on) {
            wanted.expires_on = expires_on;
            fields.push("expires_on");
        }
        if let Some(number) = self.number.as_ref().filter(|number| **number != current.number) {
            wanted.number.clone_from(number);
            fields.push("number");
        }
        (wanted, fields)
    }
}

/// Makes `changes` to reader `reader_id`. Returns the reader as they are
/// now and the fields that changed (none: nothing was written).
pub fn update_reader(
    connection: &mut DbConnection,
    reader_id: &str,
    changes: &ReaderChanges,
    today: NaiveDate,
) -> Result<(ReaderView, Vec<&'static str>), Error> {
    let current = stored(connection, reader_id)?;
    let (wanted, fields) = changes.apply(&current);
    if !fields.is_empty() {
        readers::check(connection, &wanted)?;
        db::readers::update_reader(connection, &wanted).map_err(|error| readers::taken(error, &wanted))?;
        tracing::info!(reader.id = %reader_id, fields = ?fields, "reader record changed");
    }
    Ok((readers::view(connection, ReaderKey::Id(reader_id), today)?, fields))
}

/// Gives reader `reader_id` the card `new_card` in place of the one they
/// had, and ends the sessions signed in with the old one (whoever found
/// the card may have used it). The PIN stays.
pub fn replace_card(
    connection: &mut DbConnection,
    reader_id: &str,
    new_card: String,
    now: NaiveDateTime,
    today: NaiveDate,
) -> Result<ReaderView, Error> {
    let current = stored(connection, reader_id)?;
    if current.card_barcode == new_card {
        return Err(
            FieldError::new("new_card_barcode", "is the reader's card already; scan the new card").into()
        );
    }
    let wanted = ReaderRow { card_barcode: new_card, ..current };
    readers::check_card(connection, &wanted)?;
    db::readers::update_reader(connection, &wanted).map_err(|error| readers::taken(error, &wanted))?;
    let ended = db::sessions::revoke_subject(connection, reader_id, "card replaced", now)?;
    tracing::info!(reader.id = %reader_id, sessions.ended = ended, "reader card replaced");
    readers::view(connection, ReaderKey::Id(reader_id), today)
}

/// The stored record of reader `reader_id`.
fn stored(connection: &mut DbConnection, reader_id: &str) -> Result<ReaderRow, Error> {
    db::readers::reader_by_id(connection, reader_id)?
        .ok_or_else(|| ReaderRefusal::ReaderNotFound(reader_id.to_owned()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> ReaderRow {
        ReaderRow {
            id: "r1".into(),
            school_id: "s1".into(),
            card_barcode: "R1".into(),
            name: "王小明".into(),
            category: "student".into(),
            class_id: Some("c1".into()),
            status: db::readers::STATUS_ACTIVE.into(),
            expires_on: None,
            created_at: NaiveDateTime::default(),
            number: Some("G001".into()),
            name_key: "王小明".into(),
        }
    }

    #[test]
    fn only_the_fields_given_change() {
        let request = UpdateReaderRequest {
            reader_id: "r1".into(),
            name: Some(" Emma Wang ".into()),
            class_id: Some(String::new()),
            expires_on: Some("2027-07-31".into()),
            ..Default::default()
        };
        let changes = ReaderChanges::from_request(&request).unwrap();
        let (wanted, fields) = changes.apply(&reader());
        assert_eq!(fields, ["name", "class", "expires_on"]);
        assert_eq!(wanted.name, "Emma Wang");
        assert_eq!(wanted.name_key, "emma wang");
        assert_eq!(wanted.class_id, None);
        assert_eq!(wanted.expires_on, NaiveDate::from_ymd_opt(2027, 7, 31));
        assert_eq!((wanted.category.as_str(), wanted.number.as_deref()), ("student", Some("G001")));
    }

    #[test]
    fn values_the_record_has_are_no_change() {
        let request = UpdateReaderRequest {
            name: Some("王小明".into()),
            category: Some("Student".into()),
            number: Some("G001".into()),
            ..Default::default()
        };
        let (wanted, fields) = ReaderChanges::from_request(&request).unwrap().apply(&reader());
        assert!(fields.is_empty());
        assert_eq!(wanted, reader());
        let (_, fields) = ReaderChanges::default().apply(&reader());
        assert!(fields.is_empty());
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |request: UpdateReaderRequest| ReaderChanges::from_request(&request).unwrap_err().field;
        assert_eq!(field(UpdateReaderRequest { name: Some(" ".into()), ..Default::default() }), "name");
        assert_eq!(field(UpdateReaderRequest { name: Some("名".repeat(101)), ..Default::default() }), "name");
        assert_eq!(
            field(UpdateReaderRequest { category: Some(String::new()), ..Default::default() }),
            "category"
        );
        assert_eq!(
            field(UpdateReaderRequest { class_id: Some("3B".into()), ..Default::default() }),
            "class_id"
        );
        assert_eq!(
            field(UpdateReaderRequest { expires_on: Some("31/07/2027".into()), ..Default::default() }),
            "expires_on"
        );
        assert_eq!(field(UpdateReaderRequest { number: Some("G 1".into()), ..Default::default() }), "number");
    }
}
