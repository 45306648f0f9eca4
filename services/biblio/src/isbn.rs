//! ISBNs as librarians type and scanners send them: ISBN-10 (check digit may
//! be `X`) or ISBN-13 (prefix 978 or 979), hyphens and spaces anywhere, the
//! check digit always verified. Every ISBN is stored and compared as its
//! canonical ISBN-13 (13 digits); the ISBN-10 is derived where one exists.
//!
//! The text may be written the way it is printed on a book or in a
//! catalogue: after an `ISBN` label in any case (`ISBN 978-7-…`,
//! `isbn:7…`, `ISBN-13: 978…`, `ISBN-10 7-…`), and in the full-width
//! digits, `Ｘ`, hyphens, colon and spaces a Chinese input method types, or
//! with the dashes and spaces a web page or word processor puts between the
//! groups (`isbn/typed.rs` lists them). The `-10` or `-13` of a label is not
//! checked against the number: the digits decide what it is.
//!
//! python-stdnum (`stdnum.isbn`) is the reference the Python tests compare
//! with. It reads the same full-width digits, dashes and spaces, but not an
//! `ISBN` label nor a full-width `Ｘ`, which Lectern reads as well; and it
//! pads nine digits to an ISBN-10 (an old SBN), which Lectern refuses.

use std::fmt;

mod typed;

/// A checked ISBN, held as its canonical ISBN-13.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Isbn {
    isbn13: String,
}

/// Why a text is not an ISBN. The messages are lower case and meant to be
/// shown after the field name ("isbn: ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsbnError {
    /// Nothing but separators (and perhaps an `ISBN` label).
    #[error("is empty")]
    Empty,
    /// A character other than a digit or separator.
    #[error("contains {character:?}, which is not a digit")]
    NotADigit {
        /// The offending character, as typed (a full-width `Ａ` stays `Ａ`).
        character: char,
    },
    /// `X` anywhere but as the check digit of an ISBN-10.
    #[error("contains {character:?}, which is only allowed as the last character of an ISBN-10")]
    MisplacedX {
        /// `X`, `x`, `Ｘ` or `ｘ`, as typed.
        character: char,
    },
    /// Neither 10 nor 13 digits.
    #[error("has {digits} digits; an ISBN has 10 or 13")]
    WrongLength {
        /// How many digits (and `X`s) were given.
        digits: usize,
    },
    /// 13 digits that do not start with 978 or 979 (another EAN, an ISSN).
    #[error("is 13 digits starting with {prefix}, but an ISBN-13 starts with 978 or 979")]
    UnknownPrefix {
        /// The first three digits.
        prefix: String,
    },
    /// The check digit does not match the others.
    #[error("{kind} check digit is {found} but should be {expected} (mistyped or misread?)")]
    BadCheckDigit {
        /// "ISBN-10" or "ISBN-13".
        kind: &'static str,
        /// The check digit given, in ASCII (`X` for any form of it).
        found: char,
        /// The check digit the other digits call for.
        expected: char,
    },
    /// An ISBN-13 with prefix 979 has no ISBN-10 form.
    #[error("{isbn13} starts with 979 and has no ISBN-10 form")]
    NoIsbn10 {
        /// The ISBN-13.
        isbn13: String,
    },
}

impl Isbn {
    /// Reads an ISBN-10 or ISBN-13: hyphens and spaces may appear anywhere,
    /// an `ISBN` label may come first, full-width forms count as ASCII.
    pub fn parse(input: &str) -> Result<Self, IsbnError> {
        let chars = typed::significant(input);
        if chars.is_empty() {
            return Err(IsbnError::Empty);
        }
        let last = chars.len() - 1;
        for (index, character) in chars.iter().enumerate() {
            if character.read.is_ascii_digit() {
                continue;
            }
            if matches!(character.read, 'X' | 'x') {
                if index == last && chars.len() == 10 {
                    continue;
                }
                return Err(IsbnError::MisplacedX { character: character.typed });
            }
            return Err(IsbnError::NotADigit { character: character.typed });
        }
        let read: Vec<char> = chars.iter().map(|character| character.read).collect();
        match read.len() {
            10 => Self::from_isbn10(&read),
            13 => Self::from_isbn13(&read),
            digits => Err(IsbnError::WrongLength { digits }),
        }
    }

    fn from_isbn10(chars: &[char]) -> Result<Self, IsbnError> {
        let body = digits_of(&chars[..9]);
        let expected = isbn10_check(&body);
        let found = chars[9].to_ascii_uppercase();
        if found != expected {
            return Err(IsbnError::BadCheckDigit { kind: "ISBN-10", found, expected });
        }
        let mut digits = vec![9, 7, 8];
        digits.extend_from_slice(&body);
        let check = isbn13_check(&digits);
        let mut isbn13: String = digits.iter().map(|d| char::from(b'0' + *d)).collect();
        isbn13.push(check);
        Ok(Self { isbn13 })
    }

    fn from_isbn13(chars: &[char]) -> Result<Self, IsbnError> {
        let prefix: String = chars[..3].iter().collect();
        if prefix != "978" && prefix != "979" {
            return Err(IsbnError::UnknownPrefix { prefix });
        }
        let body = digits_of(&chars[..12]);
        let expected = isbn13_check(&body);
        let found = chars[12];
        if found != expected {
            return Err(IsbnError::BadCheckDigit { kind: "ISBN-13", found, expected });
        }
        Ok(Self { isbn13: chars.iter().collect() })
    }

    /// The canonical ISBN-13, 13 digits without punctuation.
    pub fn isbn13(&self) -> &str {
        &self.isbn13
    }

    /// The ISBN-10 of the same book, or why there is none (979 prefix).
    pub fn to_isbn10(&self) -> Result<String, IsbnError> {
        let Some(body) = self.isbn13.strip_prefix("978") else {
            return Err(IsbnError::NoIsbn10 { isbn13: self.isbn13.clone() });
        };
        let digits = digits_of(&body.chars().take(9).collect::<Vec<_>>());
        let mut isbn10: String = body.chars().take(9).collect();
        isbn10.push(isbn10_check(&digits));
        Ok(isbn10)
    }

    /// The ISBN-10, where one exists.
    pub fn isbn10(&self) -> Option<String> {
        self.to_isbn10().ok()
    }
}

impl fmt::Display for Isbn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.isbn13)
    }
}

/// The ISBN-10 form of a stored canonical ISBN-13; empty when there is none
/// (979 prefix, or no ISBN at all).
pub fn isbn10_of(isbn13: &str) -> String {
    Isbn::parse(isbn13).ok().and_then(|isbn| isbn.isbn10()).unwrap_or_default()
}

/// Whether a search query was meant as an ISBN: read as [`Isbn::parse`]
/// reads it (label, separators, full-width forms), it is 10 or 13 digits
/// (an ISBN-10 may end in X). Such a query is matched against ISBNs, even
/// if its check digit turns out to be wrong.
pub fn looks_like_isbn(query: &str) -> bool {
    let chars: Vec<char> = typed::significant(query).iter().map(|character| character.read).collect();
    match chars.len() {
        13 => chars.iter().all(char::is_ascii_digit),
        10 => {
            chars[..9].iter().all(char::is_ascii_digit)
                && (chars[9].is_ascii_digit() || matches!(chars[9], 'X' | 'x'))
        }
        _ => false,
    }
}

/// Digit values of characters already checked to be ASCII digits.
fn digits_of(chars: &[char]) -> Vec<u8> {
    chars.iter().map(|c| u8::try_from(c.to_digit(10).unwrap_or(0)).unwrap_or(0)).collect()
}

/// The ISBN-10 check character of nine digits (weights 10 down to 2, mod 11).
fn isbn10_check(digits: &[u8]) -> char {
    let sum: u32 =
        digits.iter().zip((2..=10u32).rev()).map(|(digit, weight)| u32::from(*digit) * weight).sum();
    match (11 - sum % 11) % 11 {
        10 => 'X',
        check => char::from_digit(check, 10).unwrap_or('0'),
    }
}

/// The ISBN-13 check digit of twelve digits (weights 1, 3, 1, ..., mod 10).
fn isbn13_check(digits: &[u8]) -> char {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(index, digit)| u32::from(*digit) * if index % 2 == 0 { 1 } else { 3 })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isbn13(input: &str) -> String {
        Isbn::parse(input).unwrap().isbn13().to_owned()
    }

    #[test]
    fn isbn10_with_x_converts_both_ways() {
        let isbn = Isbn::parse("0-8044-2957-X").unwrap();
        assert_eq!(isbn.isbn13(), "9780804429573");
        assert_eq!(isbn.isbn10().as_deref(), Some("080442957X"));
        assert_eq!(isbn13("080442957x"), "9780804429573");
        assert_eq!(Isbn::parse("978-0-8044-2957-3").unwrap(), isbn);
        assert_eq!(isbn10_of("9780804429573"), "080442957X");
    }

    #[test]
    fn isbn13_with_978_and_979_prefixes() {
        // 草房子, 江苏少年儿童出版社.
        assert_eq!(isbn13("978-7-5346-5238-7"), "9787534652387");
        assert_eq!(Isbn::parse("9787534652387").unwrap().isbn10().as_deref(), Some("7534652383"));
        let french = Isbn::parse("979-10-90636-07-1").unwrap();
        assert_eq!(french.isbn13(), "9791090636071");
        assert_eq!(french.isbn10(), None);
        assert_eq!(
            french.to_isbn10().unwrap_err().to_string(),
            "9791090636071 starts with 979 and has no ISBN-10 form"
        );
        assert_eq!(isbn10_of("9791090636071"), "");
        assert_eq!(isbn10_of(""), "");
    }

    #[test]
    fn hyphens_and_spaces_anywhere() {
        assert_eq!(isbn13(" 0 8044 2957 X "), "9780804429573");
        assert_eq!(isbn13("97-80-80-44-29-57-3"), "9780804429573");
        assert_eq!(isbn13("--978 0804429573--"), "9780804429573");
        assert_eq!(isbn13("0-306-40615-2"), "9780306406157");
    }

    #[test]
    fn bad_check_digits_say_which() {
        assert_eq!(
            Isbn::parse("0-8044-2957-1").unwrap_err(),
            IsbnError::BadCheckDigit { kind: "ISBN-10", found: '1', expected: 'X' }
        );
        assert_eq!(
            Isbn::parse("978-0-8044-2957-4").unwrap_err().to_string(),
            "ISBN-13 check digit is 4 but should be 3 (mistyped or misread?)"
        );
        assert!(matches!(
            Isbn::parse("979-10-90636-07-2"),
            Err(IsbnError::BadCheckDigit { kind: "ISBN-13", .. })
        ));
    }

    #[test]
    fn wrong_lengths_letters_and_empty() {
        assert_eq!(Isbn::parse("").unwrap_err(), IsbnError::Empty);
        assert_eq!(Isbn::parse(" - - ").unwrap_err(), IsbnError::Empty);
        assert_eq!(Isbn::parse("978-0-8044").unwrap_err().to_string(), "has 8 digits; an ISBN has 10 or 13");
        assert_eq!(Isbn::parse("97808044295731").unwrap_err(), IsbnError::WrongLength { digits: 14 });
        assert_eq!(
            Isbn::parse("ISSN 0-8044-2957-X").unwrap_err().to_string(),
            "contains 'I', which is not a digit"
        );
        assert_eq!(Isbn::parse("978080442957X").unwrap_err(), IsbnError::MisplacedX { character: 'X' });
        assert_eq!(Isbn::parse("08044X9573").unwrap_err(), IsbnError::MisplacedX { character: 'X' });
        assert_eq!(
            Isbn::parse("9770804429573").unwrap_err().to_string(),
            "is 13 digits starting with 977, but an ISBN-13 starts with 978 or 979"
        );
    }

    #[test]
    fn prefixed_as_printed_on_the_book() {
        // 草房子, as its copyright page and CIP data print it.
        assert_eq!(isbn13("ISBN 978-7-5346-5238-7"), "9787534652387");
        assert_eq!(isbn13("isbn:7534652383"), "9787534652387");
        assert_eq!(isbn13("ISBN-13: 978-7-5346-5238-7"), "9787534652387");
        assert_eq!(isbn13("ISBN-10 7-5346-5238-3"), "9787534652387");
        assert_eq!(isbn13("ISBN 0-8044-2957-X"), "9780804429573");
        assert_eq!(isbn13("Isbn9791090636071"), "9791090636071");
        // An ISBN-10 starting with 13 after the label is not read as ISBN-13.
        assert_eq!(isbn13("ISBN 1-3-0000000-7"), isbn13("1300000007"));
        assert_eq!(isbn13("ISBN 1300000007"), "9781300000006");
    }

    #[test]
    fn full_width_as_a_chinese_input_method_types_it() {
        assert_eq!(isbn13("９７８－７－５３４６－５２３８－７"), "9787534652387");
        assert_eq!(isbn13("７５３４６５２３８３"), "9787534652387");
        assert_eq!(isbn13("０－８０４４－２９５７－Ｘ"), "9780804429573");
        assert_eq!(isbn13("０８０４４２９５７ｘ"), "9780804429573");
        assert_eq!(isbn13("978\u{3000}7\u{3000}5346\u{3000}5238\u{3000}7"), "9787534652387");
        // Copied from a web page or typed in Chinese punctuation mode.
        assert_eq!(isbn13("978\u{2010}7\u{2013}5346\u{2014}\u{2014}5238\u{2212}7"), "9787534652387");
        assert_eq!(isbn13("978\u{00A0}7\u{2011}5346\u{2012}5238\u{2015}7"), "9787534652387");
    }

    #[test]
    fn mixed_forms() {
        assert_eq!(isbn13("ＩＳＢＮ：９７８－７－５３４６－５２３８－７"), "9787534652387");
        assert_eq!(isbn13("ISBN：978７５３４6-5238-7"), "9787534652387");
        assert_eq!(isbn13("isbn-10：０-8044-2957－x"), "9780804429573");
        assert_eq!(isbn13("\u{3000}ISBN 978 7534652387\u{3000}"), "9787534652387");
        // Every form is the same book, so it is found and stored once.
        assert_eq!(Isbn::parse("ISBN ９７８７５３４６５２３８７"), Isbn::parse("7-5346-5238-3"));
    }

    #[test]
    fn garbage_is_refused_naming_what_was_typed() {
        assert_eq!(Isbn::parse("ISBN").unwrap_err(), IsbnError::Empty);
        assert_eq!(Isbn::parse("ＩＳＢＮ：－ ").unwrap_err(), IsbnError::Empty);
        assert_eq!(
            Isbn::parse("９７８０８０４４Ａ９５７３").unwrap_err().to_string(),
            "contains 'Ａ', which is not a digit"
        );
        assert_eq!(Isbn::parse("ｘ804429573").unwrap_err(), IsbnError::MisplacedX { character: 'ｘ' });
        assert_eq!(
            Isbn::parse("97808044295７Ｘ").unwrap_err().to_string(),
            "contains 'Ｘ', which is only allowed as the last character of an ISBN-10"
        );
        assert_eq!(Isbn::parse("978·0804429573").unwrap_err(), IsbnError::NotADigit { character: '·' });
        assert_eq!(Isbn::parse("978\t0804429573").unwrap_err(), IsbnError::NotADigit { character: '\t' });
        assert_eq!(
            Isbn::parse("ISBN ISBN 9780804429573").unwrap_err(),
            IsbnError::NotADigit { character: 'I' }
        );
        assert_eq!(Isbn::parse("ISBN::9780804429573").unwrap_err(), IsbnError::NotADigit { character: ':' });
        assert_eq!(Isbn::parse("9780804429573:").unwrap_err(), IsbnError::NotADigit { character: ':' });
        assert_eq!(Isbn::parse("𝟗𝟕𝟖0804429573").unwrap_err(), IsbnError::NotADigit { character: '𝟗' });
        assert_eq!(
            Isbn::parse("ISBN-13: 978-0-8044").unwrap_err().to_string(),
            "has 8 digits; an ISBN has 10 or 13"
        );
        assert_eq!(
            Isbn::parse("ISBN ９７８－０－８０４４－２９５７－４").unwrap_err().to_string(),
            "ISBN-13 check digit is 4 but should be 3 (mistyped or misread?)"
        );
        assert_eq!(
            Isbn::parse("０８０４４２９５７１").unwrap_err(),
            IsbnError::BadCheckDigit { kind: "ISBN-10", found: '1', expected: 'X' }
        );
        assert_eq!(
            Isbn::parse("ISBN ９７７０８０４４２９５７３").unwrap_err(),
            IsbnError::UnknownPrefix { prefix: "977".into() }
        );
    }

    #[test]
    fn queries_that_look_like_isbns() {
        assert!(looks_like_isbn("978-7-5346-5238-7"));
        assert!(looks_like_isbn("0-8044-2957-x"));
        assert!(looks_like_isbn("9787534652380"));
        assert!(!looks_like_isbn("1984"));
        assert!(!looks_like_isbn("草房子"));
        assert!(!looks_like_isbn("X804429573"));
        assert!(!looks_like_isbn(""));
        assert!(looks_like_isbn("ISBN 978-7-5346-5238-7"));
        assert!(looks_like_isbn("ＩＳＢＮ：９７８－７－５３４６－５２３８－７"));
        assert!(looks_like_isbn("０８０４４２９５７Ｘ"));
        assert!(!looks_like_isbn("ISBN"));
        assert!(!looks_like_isbn("isbn 1984"));
        assert!(!looks_like_isbn("１９８４"));
    }
}
