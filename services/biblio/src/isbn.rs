//! ISBNs as librarians type and scanners send them: ISBN-10 (check digit may
//! be `X`) or ISBN-13 (prefix 978 or 979), hyphens and spaces anywhere, the
//! check digit always verified. Every ISBN is stored and compared as its
//! canonical ISBN-13 (13 digits); the ISBN-10 is derived where one exists.

use std::fmt;

/// A checked ISBN, held as its canonical ISBN-13.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Isbn {
    isbn13: String,
}

/// Why a text is not an ISBN. The messages are lower case and meant to be
/// shown after the field name ("isbn: ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsbnError {
    /// Nothing but hyphens and spaces.
    #[error("is empty")]
    Empty,
    /// A character other than a digit, hyphen or space.
    #[error("contains {character:?}, which is not a digit")]
    NotADigit {
        /// The offending character.
        character: char,
    },
    /// `X` anywhere but as the check digit of an ISBN-10.
    #[error("contains {character:?}, which is only allowed as the last character of an ISBN-10")]
    MisplacedX {
        /// `X` or `x`, as typed.
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
        /// The check digit given.
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
    /// Reads an ISBN-10 or ISBN-13; hyphens and spaces may appear anywhere.
    pub fn parse(input: &str) -> Result<Self, IsbnError> {
        let chars: Vec<char> = input.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        if chars.is_empty() {
            return Err(IsbnError::Empty);
        }
        let last = chars.len() - 1;
        for (index, &character) in chars.iter().enumerate() {
            if character.is_ascii_digit() {
                continue;
            }
            if matches!(character, 'X' | 'x') {
                if index == last && chars.len() == 10 {
                    continue;
                }
                return Err(IsbnError::MisplacedX { character });
            }
            return Err(IsbnError::NotADigit { character });
        }
        match chars.len() {
            10 => Self::from_isbn10(&chars),
            13 => Self::from_isbn13(&chars),
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

/// Whether a search query was meant as an ISBN: apart from hyphens and
/// spaces it is 10 or 13 digits (an ISBN-10 may end in X). Such a query is
/// matched against ISBNs, even if its check digit turns out to be wrong.
pub fn looks_like_isbn(query: &str) -> bool {
    let chars: Vec<char> = query.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
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
            Isbn::parse("ISBN 0-8044-2957-X").unwrap_err().to_string(),
            "contains 'I', which is not a digit"
        );
        assert_eq!(Isbn::parse("978080442957X").unwrap_err(), IsbnError::MisplacedX { character: 'X' });
        assert_eq!(Isbn::parse("08044X9573").unwrap_err(), IsbnError::MisplacedX { character: 'X' });
        assert_eq!(Isbn::parse("0804429５73").unwrap_err(), IsbnError::NotADigit { character: '５' });
        assert_eq!(
            Isbn::parse("9770804429573").unwrap_err().to_string(),
            "is 13 digits starting with 977, but an ISBN-13 starts with 978 or 979"
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
    }
}
