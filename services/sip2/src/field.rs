//! Variable-length fields: reading `ID value |` runs and writing them
//! safely.
//!
//! A value written to the wire must never split the message: `|` would
//! end the field early and CR/LF would end the whole message, so they (and
//! other control characters) are replaced. Values are cut at 255 bytes on a
//! character boundary; the cut counts UTF-8 bytes, which is never fewer
//! than the GB18030 or cp850 bytes of the same text, so the limit holds in
//! every charset. Screen and print messages (AF/AG) are split into several
//! fields instead of being cut.

use crate::date::SipDate;

/// The most bytes of one field value on the wire.
pub const MAX_FIELD_BYTES: usize = 255;

/// `text` made safe for one field: `|` becomes `/`, control characters
/// (CR, LF, tab, …) become spaces, and it is cut to [`MAX_FIELD_BYTES`].
pub fn clean_value(text: &str) -> String {
    let mut cleaned = replace_separators(text);
    cleaned.truncate(floor_char_boundary(&cleaned, MAX_FIELD_BYTES));
    cleaned
}

/// A long screen or print message as several field values of at most
/// [`MAX_FIELD_BYTES`] each, split at a space where one is near the end,
/// otherwise at a character boundary. An empty message gives no values.
pub fn split_message(text: &str) -> Vec<String> {
    let cleaned = replace_separators(text);
    let mut rest = cleaned.trim();
    let mut parts = Vec::new();
    while !rest.is_empty() {
        if rest.len() <= MAX_FIELD_BYTES {
            parts.push(rest.to_owned());
            break;
        }
        let cut = floor_char_boundary(rest, MAX_FIELD_BYTES);
        // Break English at a word when one ends in the last third;
        // Chinese has no spaces and is cut anywhere.
        let cut = match rest[..cut].rfind(' ') {
            Some(space) if space > MAX_FIELD_BYTES * 2 / 3 => space,
            _ => cut,
        };
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    parts
}

fn replace_separators(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '|' {
                '/'
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn floor_char_boundary(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    (0..=max).rev().find(|&at| text.is_char_boundary(at)).unwrap_or(0)
}

/// The variable fields of a received message, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Reads `ID value |` runs. A missing final `|` is accepted (many
    /// machines leave it off); runs shorter than an ID are ignored.
    pub fn parse(text: &str) -> Fields {
        let fields = text
            .split('|')
            .filter_map(|run| {
                let mut chars = run.char_indices();
                let _ = chars.next()?;
                let (second, c) = chars.next()?;
                let value_at = second + c.len_utf8();
                Some((run[..value_at].to_owned(), run[value_at..].to_owned()))
            })
            .collect();
        Fields(fields)
    }

    /// The first value of field `id`.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.0.iter().find(|(field, _)| field == id).map(|(_, value)| value.as_str())
    }

    /// The first value of field `id` as an owned string.
    pub fn string(&self, id: &str) -> Option<String> {
        self.get(id).map(str::to_owned)
    }

    /// Every value of field `id`, in order.
    pub fn all(&self, id: &str) -> Vec<String> {
        self.0.iter().filter(|(field, _)| field == id).map(|(_, value)| value.clone()).collect()
    }

    /// A `Y`/`N` field (any case); `None` when absent or neither.
    pub fn flag(&self, id: &str) -> Option<bool> {
        match self.get(id)?.trim() {
            "Y" | "y" => Some(true),
            "N" | "n" => Some(false),
            _ => None,
        }
    }

    /// A number field; `None` when absent or not a number.
    pub fn number(&self, id: &str) -> Option<u32> {
        self.get(id)?.trim().parse().ok()
    }

    /// All fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(id, value)| (id.as_str(), value.as_str()))
    }
}

/// Builds a message's text: fixed fields first, then variable fields. The
/// response structs use it; it is public for answers they do not cover.
#[derive(Debug, Clone)]
pub struct Writer(String);

impl Writer {
    /// A message starting with its two-digit code.
    pub fn new(code: &str) -> Writer {
        Writer(code.to_owned())
    }

    /// Fixed text written as is (the caller keeps it to the field's length).
    pub fn fixed(&mut self, text: &str) -> &mut Writer {
        self.0.push_str(text);
        self
    }

    /// A one-character `Y`/`N` fixed field.
    pub fn yes_no(&mut self, flag: bool) -> &mut Writer {
        self.0.push(if flag { 'Y' } else { 'N' });
        self
    }

    /// A one-character `Y`/`N`/`U` (unknown) fixed field.
    pub fn yes_no_unknown(&mut self, flag: Option<bool>) -> &mut Writer {
        self.0.push(match flag {
            Some(true) => 'Y',
            Some(false) => 'N',
            None => 'U',
        });
        self
    }

    /// A one-character `1`/`0` fixed field.
    pub fn one_zero(&mut self, flag: bool) -> &mut Writer {
        self.0.push(if flag { '1' } else { '0' });
        self
    }

    /// A zero-padded number of `width` digits, held at the largest one
    /// that fits (9999 for four digits).
    pub fn number(&mut self, value: u32, width: usize) -> &mut Writer {
        let max = 10u64.checked_pow(width as u32).map_or(u64::MAX, |limit| limit - 1);
        let value = u64::from(value).min(max);
        self.0.push_str(&format!("{value:0width$}"));
        self
    }

    /// An 18-character date fixed field.
    pub fn date(&mut self, date: &SipDate) -> &mut Writer {
        self.0.push_str(date.as_str());
        self
    }

    /// A variable field, always written (empty when `value` is empty).
    pub fn field(&mut self, id: &str, value: &str) -> &mut Writer {
        self.0.push_str(id);
        self.0.push_str(&clean_value(value));
        self.0.push('|');
        self
    }

    /// A variable field written only when there is a value.
    pub fn optional(&mut self, id: &str, value: Option<&str>) -> &mut Writer {
        if let Some(value) = value {
            self.field(id, value);
        }
        self
    }

    /// A `Y`/`N` variable field written only when known.
    pub fn optional_flag(&mut self, id: &str, flag: Option<bool>) -> &mut Writer {
        if let Some(flag) = flag {
            self.field(id, if flag { "Y" } else { "N" });
        }
        self
    }

    /// A number variable field written only when known.
    pub fn optional_number(&mut self, id: &str, value: Option<u32>) -> &mut Writer {
        if let Some(value) = value {
            self.field(id, &value.to_string());
        }
        self
    }

    /// One field per value (item lists: AS, AU, BM, …).
    pub fn repeated(&mut self, id: &str, values: &[String]) -> &mut Writer {
        for value in values {
            self.field(id, value);
        }
        self
    }

    /// Screen (AF) or print (AG) messages, each split into as many fields
    /// as it needs.
    pub fn messages(&mut self, id: &str, messages: &[String]) -> &mut Writer {
        for part in messages.iter().flat_map(|message| split_message(message)) {
            self.field(id, &part);
        }
        self
    }

    /// The message text (without error detection and terminator).
    pub fn finish(&self) -> String {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_value_never_splits_a_message() {
        assert_eq!(clean_value("a|b\rc\nd\te"), "a/b c d e");
        let long = "借".repeat(100);
        let cut = clean_value(&long);
        assert_eq!(cut.len(), 255);
        assert_eq!(cut.chars().count(), 85);
        assert_eq!(clean_value(&"é".repeat(200)).len(), 254);
    }

    #[test]
    fn long_messages_are_split_at_words_or_characters() {
        let english = "Please put the book on the hold shelf. ".repeat(20);
        let parts = split_message(&english);
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|part| part.len() <= MAX_FIELD_BYTES && !part.ends_with(' ')));
        assert_eq!(parts.join(" "), english.trim());
        let chinese = "请把书放在预约架上。".repeat(30);
        let parts = split_message(&chinese);
        assert_eq!(parts.concat(), chinese);
        assert!(parts.iter().all(|part| part.len() <= MAX_FIELD_BYTES));
        assert!(split_message("  ").is_empty());
    }

    #[test]
    fn fields_parse_in_order_first_wins() {
        let fields = Fields::parse("AOXH|AAR100005|ADabc|AA second|BOy|BPx|Z|借阅|AF");
        assert_eq!(fields.get("AO"), Some("XH"));
        assert_eq!(fields.get("AA"), Some("R100005"));
        assert_eq!(fields.all("AA"), vec!["R100005", " second"]);
        assert_eq!(fields.flag("BO"), Some(true));
        assert_eq!(fields.number("BP"), None);
        assert_eq!(fields.get("借阅"), Some(""));
        assert_eq!(fields.get("AF"), Some(""));
        assert_eq!(fields.get("Z"), None);
    }

    #[test]
    fn writer_builds_fixed_and_variable_fields() {
        let mut w = Writer::new("12");
        w.one_zero(true).yes_no(false).yes_no_unknown(None).number(12345, 4).number(7, 3);
        w.field("AA", "R|1").optional("AH", None).optional_flag("BL", Some(true)).messages("AF", &[]);
        assert_eq!(w.finish(), "121NU9999007AAR/1|BLY|");
    }
}
