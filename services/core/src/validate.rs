//! Checks on request fields. A bad field becomes INVALID_ARGUMENT with a
//! message that names it, before anything is read or written.

use chrono::NaiveDate;

/// A request field that failed a check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    /// The request field, as named in the .proto.
    pub field: &'static str,
    /// What is wrong with it, in lower case.
    pub problem: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self { field, problem: problem.into() }
    }
}

/// INVALID_ARGUMENT, with the field named in a `google.rpc.BadRequest`
/// detail so a form can put the message next to the field.
impl From<FieldError> for tonic::Status {
    fn from(error: FieldError) -> Self {
        use tonic_types::{ErrorDetails, StatusExt as _};
        let details = ErrorDetails::with_bad_request_violation(error.field, error.problem.clone());
        tonic::Status::with_error_details(tonic::Code::InvalidArgument, error.to_string(), details)
    }
}

/// A required text field: trimmed, non-empty, at most `max_chars` characters
/// and free of control characters.
pub fn required_text(field: &'static str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let text = optional_text(field, value, max_chars)?;
    if text.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    Ok(text)
}

/// An optional text field: trimmed, at most `max_chars` characters, free of
/// control characters; may be empty.
pub fn optional_text(field: &'static str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let text = value.trim();
    if text.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("is longer than {max_chars} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(text.to_owned())
}

/// A required text of several lines (a message body a librarian writes):
/// like [`required_text`], but line breaks and tabs are allowed; Windows
/// line ends become `\n`.
pub fn required_paragraphs(field: &'static str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let text = value.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if text.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("is longer than {max_chars} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(text.to_owned())
}

/// A barcode as scanners type it: 1–64 printable ASCII characters, no spaces.
/// Surrounding whitespace (the scanner's Enter, a stray space) is dropped.
pub fn barcode(field: &'static str, value: &str) -> Result<String, FieldError> {
    let code = value.trim();
    if code.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if code.len() > 64 {
        return Err(FieldError::new(field, "is longer than 64 characters"));
    }
    if !code.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(FieldError::new(field, "may only contain printable ASCII characters without spaces"));
    }
    Ok(code.to_owned())
}

/// An optional calendar date "YYYY-MM-DD"; empty means none.
pub fn optional_date(field: &'static str, value: &str) -> Result<Option<NaiveDate>, FieldError> {
    let text = value.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| FieldError::new(field, "is not a date of the form YYYY-MM-DD"))
}

/// The number of items a list call returns: `default` for 0, at most `max`.
pub fn page_size(field: &'static str, value: i32, default: i64, max: i64) -> Result<i64, FieldError> {
    match value {
        0 => Ok(default),
        n if n < 0 => Err(FieldError::new(field, "must not be negative")),
        n => Ok(i64::from(n).min(max)),
    }
}

/// An optional client request id for idempotent retries: empty, or 1–64
/// printable ASCII characters (a UUID is recommended).
pub fn request_id(field: &'static str, value: &str) -> Result<Option<String>, FieldError> {
    if value.is_empty() {
        return Ok(None);
    }
    barcode(field, value).map(Some)
}

/// A closed enum field: the value must be one of the known, non-zero
/// variants; `T::try_from` is prost's conversion from the wire number.
pub fn known_enum<T: TryFrom<i32>>(field: &'static str, value: i32) -> Result<T, FieldError> {
    if value == 0 {
        return Err(FieldError::new(field, "is required"));
    }
    T::try_from(value).map_err(|_| FieldError::new(field, format!("has unknown value {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(required_text("name", "  草房子 ", 10).as_deref(), Ok("草房子"));
        assert!(required_text("name", "   ", 10).is_err());
        assert_eq!(
            required_text("name", "一二三四五六", 5).unwrap_err().to_string(),
            "name: is longer than 5 characters"
        );
        assert!(optional_text("name", "a\u{0}b", 5).is_err());
    }

    #[test]
    fn paragraphs_keep_their_line_breaks() {
        assert_eq!(
            required_paragraphs("body", " 您好！\r\n\n\t请还书。 ", 50).as_deref(),
            Ok("您好！\n\n\t请还书。")
        );
        assert!(required_paragraphs("body", "\n \n", 50).is_err());
        assert!(required_paragraphs("body", "a\u{7}b", 50).is_err());
    }

    #[test]
    fn barcodes_are_printable_ascii() {
        assert_eq!(barcode("copy_barcode", " C0001\r\n").as_deref(), Ok("C0001"));
        assert!(barcode("copy_barcode", "C 0001").is_err());
        assert!(barcode("copy_barcode", "书").is_err());
        assert!(barcode("copy_barcode", &"9".repeat(65)).is_err());
    }

    #[test]
    fn dates_and_page_sizes() {
        assert_eq!(optional_date("expires_on", "2027-07-31"), Ok(NaiveDate::from_ymd_opt(2027, 7, 31)));
        assert!(optional_date("expires_on", "31/07/2027").is_err());
        assert_eq!(page_size("page_size", 0, 50, 500), Ok(50));
        assert_eq!(page_size("page_size", 9999, 50, 500), Ok(500));
        assert!(page_size("page_size", -1, 50, 500).is_err());
    }
}
