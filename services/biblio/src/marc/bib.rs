//! [`BibRecord`]: what Lectern keeps of a MARC record, in plain fields that
//! mean the same whichever flavour it came from, and the small text rules
//! that get them out of MARC's punctuated values (ISBD punctuation, prices
//! like `CNY48.00`, years like `c2019.`, extents like `356页`).

use crate::isbn::Isbn;

/// A bibliographic record with its holdings, flavour-neutral.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BibRecord {
    /// Valid ISBNs, first the one the record leads with; no duplicates.
    pub isbns: Vec<Isbn>,
    /// ISBN fields that did not check out, as found (for the import report).
    pub rejected_isbns: Vec<String>,
    /// Title proper (with part number and name).
    pub title: String,
    /// Other title information.
    pub subtitle: String,
    /// People and bodies credited, in record order.
    pub contributors: Vec<Contributor>,
    /// Publisher's name.
    pub publisher: String,
    /// Year of publication.
    pub year: Option<i32>,
    /// Edition statement.
    pub edition: String,
    /// ISO 639-1 code (`zh`, `en`), empty when unknown.
    pub language: String,
    /// Number of pages.
    pub pages: Option<i32>,
    /// Series title.
    pub series: String,
    /// Subject headings, subdivisions joined with `--`.
    pub subjects: Vec<String>,
    /// Summary or abstract.
    pub summary: String,
    /// 中图法 (Chinese Library Classification) class number.
    pub clc: String,
    /// Dewey Decimal class number.
    pub dewey: String,
    /// Price of the book as catalogued (020 $c, 010 $d): minor units and
    /// ISO 4217 currency; items without a price of their own take it.
    pub price: Option<Price>,
    /// Holdings: one item per physical copy.
    pub items: Vec<Item>,
}

/// A person or body credited on a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contributor {
    /// Name as catalogued.
    pub name: String,
    /// What they did.
    pub role: Role,
}

/// The contributor roles Lectern's catalog knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Wrote it (著).
    Author,
    /// Translated it (译).
    Translator,
    /// Illustrated it (绘).
    Illustrator,
    /// Edited or compiled it (编).
    Editor,
}

impl Role {
    /// The MARC relator code.
    pub fn relator_code(self) -> &'static str {
        match self {
            Self::Author => "aut",
            Self::Translator => "trl",
            Self::Illustrator => "ill",
            Self::Editor => "edt",
        }
    }

    /// The MARC21 relator term.
    pub fn relator_term(self) -> &'static str {
        match self {
            Self::Author => "author",
            Self::Translator => "translator",
            Self::Illustrator => "illustrator",
            Self::Editor => "editor",
        }
    }

    /// The role a relator code or term names: MARC21 codes and terms,
    /// UNIMARC numeric codes (070, 340, 440, 730) and the Chinese words
    /// CNMARC records carry (著, 主编, 译, 绘). Unknown texts mean author,
    /// the role nearly every unqualified credit has.
    pub fn from_relator(text: &str) -> Self {
        let lower = text.trim().trim_end_matches(['.', ',']).to_lowercase();
        match lower.as_str() {
            "trl" | "translator" | "730" => return Self::Translator,
            "ill" | "illustrator" | "art" | "artist" | "440" => return Self::Illustrator,
            "edt" | "editor" | "com" | "compiler" | "340" | "220" => return Self::Editor,
            "aut" | "author" | "070" => return Self::Author,
            _ => {}
        }
        if lower.contains('译') {
            Self::Translator
        } else if lower.contains('绘') || lower.contains('图') || lower.contains('画') {
            Self::Illustrator
        } else if lower.contains('编') && !lower.contains("编著") {
            Self::Editor
        } else {
            Self::Author
        }
    }
}

/// One physical copy from a holdings field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// Barcode on the copy.
    pub barcode: String,
    /// Call number on the spine.
    pub call_number: String,
    /// Shelf location name.
    pub location: String,
    /// Item type code as the source system spells it.
    pub item_type: String,
    /// Holding library code in the source system.
    pub home: String,
    /// Price of this copy.
    pub price: Option<Price>,
}

/// A price in minor units (fen, cents) of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// Amount in minor units.
    pub minor: i64,
    /// Currency code, e.g. `CNY`.
    pub currency: String,
}

impl Price {
    /// Reads a catalogued price: `CNY48.00`, `¥48`, `48.00元`, `$12.99
    /// (pbk.)`, `48`. A bare number is taken as yuan, the currency of the
    /// schools Lectern serves. `None` when there is no amount.
    pub fn parse(text: &str) -> Option<Self> {
        let upper = text.to_uppercase();
        let currency = if upper.contains("HKD") || upper.contains("HK$") {
            "HKD"
        } else if upper.contains("USD") || upper.contains('$') {
            "USD"
        } else if upper.contains("EUR") || upper.contains('€') {
            "EUR"
        } else if upper.contains("GBP") || upper.contains('£') {
            "GBP"
        } else {
            "CNY"
        };
        let start = text.find(|character: char| character.is_ascii_digit())?;
        let rest = &text[start..];
        let end = rest
            .find(|character: char| !(character.is_ascii_digit() || character == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..end];
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.len() > 12 {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let fraction_digits: String =
            fraction.chars().take_while(char::is_ascii_digit).chain("00".chars()).take(2).collect();
        let cents: i64 = fraction_digits.parse().ok()?;
        Some(Self { minor: whole * 100 + cents, currency: currency.to_owned() })
    }

    /// The amount as a decimal, e.g. `48.00`.
    pub fn decimal(&self) -> String {
        format!("{}.{:02}", self.minor / 100, self.minor % 100)
    }
}

/// Strips the ISBD punctuation cataloguers end values with (` /`, ` :`,
/// ` ;`, `,`, `=`, and a final full stop unless it ends an initial).
pub fn clean(text: &str) -> String {
    let mut value = text.trim();
    loop {
        let trimmed = value.trim_end_matches(['/', ':', ';', ',', '=']).trim_end();
        let trimmed = match trimmed.strip_suffix('.') {
            Some(before)
                if !before.ends_with(|character: char| character.is_uppercase())
                    && !before.ends_with('.') =>
            {
                before.trim_end()
            }
            _ => trimmed,
        };
        if trimmed.len() == value.len() {
            return trimmed.to_owned();
        }
        value = trimmed;
    }
}

/// The first plausible year (four digits from 1000 to 2999) in a date
/// statement such as `c2019.`, `2019.05` or `[2018]`.
pub fn year_in(text: &str) -> Option<i32> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(3)).find_map(|start| {
        let window = &bytes[start..start + 4];
        let before_is_digit = start > 0 && bytes[start - 1].is_ascii_digit();
        let after_is_digit = bytes.get(start + 4).is_some_and(u8::is_ascii_digit);
        if before_is_digit
            || after_is_digit
            || !window.iter().all(u8::is_ascii_digit)
            || !matches!(window[0], b'1' | b'2')
        {
            return None;
        }
        std::str::from_utf8(window).ok()?.parse().ok()
    })
}

/// The page count in an extent such as `356 p.`, `356页` or `xii, 356 p.`:
/// the largest number in it, so roman-numbered front matter is skipped.
pub fn pages_in(text: &str) -> Option<i32> {
    text.split(|character: char| !character.is_ascii_digit())
        .filter(|digits| !digits.is_empty() && digits.len() <= 6)
        .filter_map(|digits| digits.parse::<i32>().ok())
        .filter(|pages| *pages > 0)
        .max()
}

/// ISO 639-2 (MARC) codes and their ISO 639-1 forms, for the languages
/// school libraries in China hold.
const LANGUAGES: &[(&str, &str)] = &[
    ("chi", "zh"),
    ("zho", "zh"),
    ("eng", "en"),
    ("jpn", "ja"),
    ("kor", "ko"),
    ("fre", "fr"),
    ("fra", "fr"),
    ("ger", "de"),
    ("deu", "de"),
    ("rus", "ru"),
    ("spa", "es"),
    ("ita", "it"),
    ("por", "pt"),
    ("ara", "ar"),
    ("mon", "mn"),
    ("tib", "bo"),
    ("bod", "bo"),
    ("uig", "ug"),
    ("lat", "la"),
    ("dut", "nl"),
    ("nld", "nl"),
    ("vie", "vi"),
    ("tha", "th"),
];

/// The ISO 639-1 code of a MARC language code; empty when unknown.
pub fn language_from_marc(code: &str) -> String {
    let code = code.trim().to_lowercase();
    LANGUAGES.iter().find(|(marc, _)| *marc == code).map(|(_, short)| (*short).to_owned()).unwrap_or_default()
}

/// The MARC language code of an ISO 639-1 code; `None` when unknown.
pub fn language_to_marc(code: &str) -> Option<&'static str> {
    LANGUAGES.iter().find(|(_, short)| *short == code).map(|(marc, _)| *marc)
}
