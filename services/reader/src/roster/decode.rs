//! Turning a roster file's bytes into text. Schools send UTF-8 (often with
//! a byte order mark, as spreadsheet programs write it) or GB18030/GBK,
//! which Chinese school systems and Excel on a Chinese Windows export.
//! UTF-8 is tried first: a GBK file of Chinese names is almost never valid
//! UTF-8, while a UTF-8 file always is.

use encoding_rs::{GB18030, UTF_8};

/// Which encoding a file turned out to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Gb18030,
}

/// The file's text without a byte order mark, or why it is not text.
pub fn decode(bytes: &[u8]) -> Result<(String, Encoding), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err("the file is UTF-16; save it as UTF-8 (CSV UTF-8) or GB18030".to_owned());
    }
    if let Some(text) = UTF_8.decode_without_bom_handling_and_without_replacement(bytes) {
        return Ok((text.into_owned(), Encoding::Utf8));
    }
    match GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok((text.into_owned(), Encoding::Gb18030)),
        None => Err("the file is neither UTF-8 nor GB18030/GBK text".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("number,name\n".as_bytes()), Ok(("number,name\n".to_owned(), Encoding::Utf8)));
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), "学号,姓名".as_bytes()].concat();
        assert_eq!(decode(&with_bom), Ok(("学号,姓名".to_owned(), Encoding::Utf8)));
    }

    #[test]
    fn gb18030_files_are_read() {
        let (bytes, _, failed) = GB18030.encode("学号,姓名\nS001,王小明\n");
        assert!(!failed);
        assert!(std::str::from_utf8(&bytes).is_err());
        assert_eq!(decode(&bytes), Ok(("学号,姓名\nS001,王小明\n".to_owned(), Encoding::Gb18030)));
    }

    #[test]
    fn binary_and_utf16_are_refused() {
        assert!(decode(b"\xFF\xFEn\x00").unwrap_err().contains("UTF-16"));
        assert!(decode(b"PK\x03\x04\x80\xFF\xFF").unwrap_err().contains("neither UTF-8 nor GB18030"));
    }
}
