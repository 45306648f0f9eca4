//! Identifiers: every Lectern resource is named by a UUIDv7 string, sortable
//! by creation time and safe to mint in any service or school.

use uuid::Uuid;

use crate::validate::FieldError;

/// A fresh UUIDv7 in its hyphenated lower-case form.
pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

/// Checks that `value` (the request field `field`) is a Lectern id and
/// returns it in canonical form.
pub fn parse_id(field: &'static str, value: &str) -> Result<String, FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    Uuid::try_parse(value)
        .map(|id| id.to_string())
        .map_err(|_| FieldError::new(field, "is not a valid id (expected a UUID)"))
}

/// Like [`parse_id`], but an empty value means "none".
pub fn parse_optional_id(field: &'static str, value: &str) -> Result<Option<String>, FieldError> {
    if value.is_empty() { Ok(None) } else { parse_id(field, value).map(Some) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_parse_and_sort_by_time() {
        let first = new_id();
        let second = new_id();
        assert_eq!(parse_id("id", &first).as_deref(), Ok(first.as_str()));
        assert!(first < second);
    }

    #[test]
    fn bad_ids_name_the_field() {
        let error = parse_id("reader_id", "12-abc").unwrap_err();
        assert_eq!(error.to_string(), "reader_id: is not a valid id (expected a UUID)");
        assert_eq!(parse_id("reader_id", "").unwrap_err().to_string(), "reader_id: is required");
        assert_eq!(parse_optional_id("class_id", ""), Ok(None));
    }
}
