//! What people and machines type for an ISBN, reduced to the characters
//! the check reads: surrounding whitespace, an `ISBN` label and the
//! separators go, and the full-width and typographic forms a Chinese input
//! method or a copied web page produce are read as their ASCII equivalents.
//! Each character keeps the form it was typed in, so a refusal names what
//! the user sees on screen (`Ａ`, not `A`).
//!
//! The equivalents are a small explicit table, not Unicode normalization:
//! NFKC would read the full-width forms and the unusual spaces, but it
//! leaves the hyphen U+2010, the dashes U+2012–U+2015 and the minus sign
//! U+2212 as they are, so a table would be needed anyway, and a dozen
//! characters do not justify a dependency carrying Unicode's tables. The
//! table follows python-stdnum's (`stdnum.util.clean`) for the characters
//! people type; unlike stdnum it also reads the full-width letters, so
//! `ＩＳＢＮ` and a full-width check digit `Ｘ` are understood.

/// One character of the input: as typed, and as the ISBN check reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Typed {
    /// The character as the user typed it, for error messages.
    pub typed: char,
    /// Its ASCII equivalent, or the character itself when it has none.
    pub read: char,
}

impl Typed {
    fn new(typed: char) -> Self {
        Self { typed, read: ascii_equivalent(typed) }
    }

    /// Hyphens and spaces group the digits for the eye and mean nothing.
    fn is_separator(self) -> bool {
        matches!(self.read, '-' | ' ')
    }
}

/// The characters of `input` that should be the 10 or 13 digits of an
/// ISBN: without surrounding whitespace, the `ISBN` label and separators.
pub(super) fn significant(input: &str) -> Vec<Typed> {
    let chars: Vec<Typed> = input.trim().chars().map(Typed::new).collect();
    after_label(&chars).iter().copied().filter(|character| !character.is_separator()).collect()
}

/// The ASCII character `character` stands for, where people type it for
/// one: full-width forms (a Chinese input method in full-width mode, or
/// just switched from Chinese punctuation), dashes and spaces that word
/// processors and web pages put between the groups of an ISBN.
fn ascii_equivalent(character: char) -> char {
    match character {
        // The full-width forms of ASCII `!` to `~` (digits, letters,
        // hyphen-minus, colon) sit at a fixed distance from it.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(character) - 0xFEE0).unwrap_or(character),
        // No-break, typographic and ideographic spaces.
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
        // Hyphen, non-breaking hyphen, figure dash, en and em dash (the
        // Chinese `——`), horizontal bar, minus sign, small hyphen-minus.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => '-',
        other => other,
    }
}

/// What follows an `ISBN` label (any case, `ISBN-10`/`ISBN-13`, then an
/// optional colon), or all of `chars` when they do not start with one.
fn after_label(chars: &[Typed]) -> &[Typed] {
    let Some((label, rest)) = chars.split_at_checked(4) else {
        return chars;
    };
    if !label.iter().map(|character| character.read.to_ascii_uppercase()).eq("ISBN".chars()) {
        return chars;
    }
    let rest = skip_spaces(without_form(rest));
    match rest.split_first() {
        Some((colon, after)) if colon.read == ':' => after,
        _ => rest,
    }
}

/// Drops the `10` or `13` of a label such as `ISBN-13:` when it is one:
/// written as one word with the label and not run into the digits
/// (`ISBN-13 978…`, `ISBN10:…`), or followed by a colon (`ISBN 13: 978…`).
/// Otherwise the `10` or `13` could be where an ISBN-10 starts
/// (`ISBN 1312345678`), and it is taken as the label's only when the
/// digits after it number 10 or 13 and so make an ISBN without it.
fn without_form(after_label: &[Typed]) -> &[Typed] {
    let gap = after_label.iter().take_while(|character| character.is_separator()).count();
    let Some((form, tail)) = after_label.get(gap..).and_then(|rest| rest.split_at_checked(2)) else {
        return after_label;
    };
    if !matches!([form[0].read, form[1].read], ['1', '0' | '3']) {
        return after_label;
    }
    let one_word = gap == 0 || (gap == 1 && after_label[0].read == '-');
    let run_into_digits = tail.first().is_some_and(|character| character.read.is_ascii_digit());
    let colon_follows = skip_spaces(tail).first().is_some_and(|character| character.read == ':');
    let digits_after = tail.iter().filter(|character| !character.is_separator()).count();
    if colon_follows || (one_word && !run_into_digits) || matches!(digits_after, 10 | 13) {
        tail
    } else {
        after_label
    }
}

fn skip_spaces(chars: &[Typed]) -> &[Typed] {
    let spaces = chars.iter().take_while(|character| character.read == ' ').count();
    &chars[spaces..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> String {
        significant(input).iter().map(|character| character.read).collect()
    }

    fn typed(input: &str) -> String {
        significant(input).iter().map(|character| character.typed).collect()
    }

    #[test]
    fn full_width_dashes_and_spaces_read_as_ascii() {
        assert_eq!(read("９７８－７－５３４６－５２３８－７"), "9787534652387");
        assert_eq!(read("０８０４４２９５７ｘ"), "080442957x");
        assert_eq!(read("978\u{3000}7\u{2010}5346\u{2013}5238\u{2014}\u{2014}7"), "9787534652387");
        assert_eq!(read("978\u{2212}7\u{00A0}5346\u{2009}5238\u{FE63}7\u{202F}"), "9787534652387");
        assert_eq!(typed("９７８－７"), "９７８７", "the typed form is kept for messages");
        assert_eq!(read("978·7"), "978·7", "a middle dot is no separator");
    }

    #[test]
    fn labels_in_any_case_width_and_form() {
        for input in [
            "ISBN 9787534652387",
            "isbn:9787534652387",
            "Isbn9787534652387",
            "ISBN: 978-7-5346-5238-7",
            "ISBN-13: 978-7-5346-5238-7",
            "ISBN-13 9787534652387",
            "ISBN13:9787534652387",
            "ISBN 13: 9787534652387",
            "ISBN 13 9787534652387",
            "ISBN-13978-7-5346-5238-7",
            "ISBN-10 9787534652387",
            "ＩＳＢＮ：９７８－７－５３４６－５２３８－７",
            "ISBN\u{3000}978 7534652387",
            "  ISBN 978-7-5346-5238-7\t",
        ] {
            assert_eq!(read(input), "9787534652387", "{input:?}");
        }
        assert_eq!(read("ISBN-10 7-5346-5238-3"), "7534652383");
        assert_eq!(read("ISBN-10: 7534652383"), "7534652383");
    }

    #[test]
    fn a_10_or_13_is_the_label_s_only_when_it_must_be() {
        // An ISBN-10 of an English-language publisher may start with 10 or 13.
        assert_eq!(read("ISBN 1312345678"), "1312345678");
        assert_eq!(read("ISBN1012345678"), "1012345678");
        assert_eq!(read("ISBN-1312345678"), "1312345678");
        // Written with the label, the form is the label's even when the
        // number is short: the message then counts the number's digits.
        assert_eq!(read("ISBN-13 97875346"), "97875346");
        assert_eq!(read("ISBN-13"), "");
        assert_eq!(read("ISBN 13"), "13");
    }

    #[test]
    fn no_label_or_not_quite_one() {
        assert_eq!(read(""), "");
        assert_eq!(read("ISB"), "ISB");
        assert_eq!(read("ISBN"), "");
        assert_eq!(read("ISBN:"), "");
        assert_eq!(read("ISSN 1234-5678"), "ISSN12345678");
        assert_eq!(read("IS BN 9787534652387"), "ISBN9787534652387");
        assert_eq!(read("9787534652387 ISBN"), "9787534652387ISBN");
        assert_eq!(read("ISBN::9787534652387"), ":9787534652387", "one colon only");
    }
}
