//! The character sets a self-check machine may speak: UTF-8 (Lectern's
//! default), GB18030 (Chinese kiosks) and code page 850 (older Western
//! ones), chosen per device.
//!
//! Decoding never fails: bytes that are not valid in the charset become
//! U+FFFD, so a garbled field reads as an unknown card or item rather than
//! killing the connection. Encoding never fails either: GB18030 and UTF-8
//! cover all of Unicode, and cp850 writes `?` for what it cannot show
//! (Chinese titles on a Western kiosk).

use std::borrow::Cow;

/// A machine's character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Charset {
    /// UTF-8.
    #[default]
    Utf8,
    /// GB18030 (a superset of GBK and GB2312).
    Gb18030,
    /// IBM code page 850 (DOS Latin-1).
    Cp850,
}

impl Charset {
    /// Text as bytes in this charset.
    pub fn encode<'a>(self, text: &'a str) -> Cow<'a, [u8]> {
        match self {
            Charset::Utf8 => Cow::Borrowed(text.as_bytes()),
            Charset::Gb18030 => {
                let (bytes, _, _) = encoding_rs::GB18030.encode(text);
                bytes
            }
            Charset::Cp850 if text.is_ascii() => Cow::Borrowed(text.as_bytes()),
            Charset::Cp850 => {
                Cow::Owned(oem_cp::encode_string_lossy(text, &oem_cp::code_table::ENCODING_TABLE_CP850))
            }
        }
    }

    /// Bytes in this charset as text; invalid sequences become U+FFFD.
    pub fn decode<'a>(self, bytes: &'a [u8]) -> Cow<'a, str> {
        match self {
            Charset::Utf8 => String::from_utf8_lossy(bytes),
            Charset::Gb18030 => {
                let (text, _) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
                text
            }
            Charset::Cp850 => match std::str::from_utf8(bytes) {
                Ok(text) if text.is_ascii() => Cow::Borrowed(text),
                _ => Cow::Owned(oem_cp::decode_string_complete_table(
                    bytes,
                    &oem_cp::code_table::DECODING_TABLE_CP850,
                )),
            },
        }
    }

    /// The charset for a setting's name (`utf-8`, `gb18030`, `cp850`, any
    /// case, with or without the dash); `None` for others.
    pub fn from_name(name: &str) -> Option<Charset> {
        match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "utf8" => Some(Charset::Utf8),
            "gb18030" => Some(Charset::Gb18030),
            "cp850" | "ibm850" => Some(Charset::Cp850),
            _ => None,
        }
    }

    /// The setting's name: `utf-8`, `gb18030` or `cp850`.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Gb18030 => "gb18030",
            Charset::Cp850 => "cp850",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_round_trips_chinese() {
        let text = "徐汇区实验小学 三年级(1)班";
        let bytes = Charset::Gb18030.encode(text);
        assert_eq!(&bytes[..2], &[0xD0, 0xEC]); // 徐
        assert_eq!(Charset::Gb18030.decode(&bytes), text);
    }

    #[test]
    fn cp850_round_trips_latin_and_replaces_the_rest() {
        let text = "Müller, Señora Ærø";
        let bytes = Charset::Cp850.encode(text);
        assert_eq!(bytes.len(), text.chars().count());
        assert_eq!(bytes[1], 0x81); // ü
        assert_eq!(Charset::Cp850.decode(&bytes), text);
        assert_eq!(&*Charset::Cp850.encode("借书"), b"??");
    }

    #[test]
    fn invalid_bytes_decode_to_replacement() {
        assert_eq!(Charset::Utf8.decode(&[b'A', 0xFF]), "A\u{FFFD}");
        assert!(Charset::Gb18030.decode(&[b'A', 0xFF]).contains('\u{FFFD}'));
    }

    #[test]
    fn names() {
        for charset in [Charset::Utf8, Charset::Gb18030, Charset::Cp850] {
            assert_eq!(Charset::from_name(charset.name()), Some(charset));
        }
        assert_eq!(Charset::from_name("UTF8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_name("latin1"), None);
    }
}
