//! Page tokens: opaque to clients, they hold the position after the last
//! item of a page (the last id for lists ordered by id, an offset for
//! ranked searches).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::validate::FieldError;

/// Encodes the position after a page.
pub fn encode(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{position}"))
}

/// Decodes a `page_token`; empty means the first page.
pub fn decode(field: &'static str, token: &str) -> Result<Option<String>, FieldError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| FieldError::new(field, "is not a page token from this list"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| FieldError::new(field, "is not a page token from this list"))?;
    text.strip_prefix("v1:")
        .map(|position| Some(position.to_owned()))
        .ok_or_else(|| FieldError::new(field, "is not a page token from this list"))
}

/// Decodes an offset page token.
pub fn decode_offset(field: &'static str, token: &str) -> Result<i64, FieldError> {
    match decode(field, token)? {
        None => Ok(0),
        Some(position) => position
            .parse::<i64>()
            .ok()
            .filter(|offset| *offset >= 0)
            .ok_or_else(|| FieldError::new(field, "is not a page token from this list")),
    }
}

/// Splits one extra fetched row off a page: fetch `page_size + 1` rows, and
/// this returns the page and whether more follow.
pub fn split_page<T>(mut rows: Vec<T>, page_size: i64) -> (Vec<T>, bool) {
    let size = usize::try_from(page_size).unwrap_or(usize::MAX);
    let more = rows.len() > size;
    rows.truncate(size);
    (rows, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_junk() {
        let token = encode("0190aa");
        assert_eq!(decode("page_token", &token), Ok(Some("0190aa".to_owned())));
        assert_eq!(decode("page_token", ""), Ok(None));
        assert!(decode("page_token", "%%%").is_err());
        assert!(decode_offset("page_token", &encode("-3")).is_err());
        assert_eq!(decode_offset("page_token", &encode("40")), Ok(40));
        assert_eq!(split_page(vec![1, 2, 3], 2), (vec![1, 2], true));
    }
}
