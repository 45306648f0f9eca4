//! Plain-text tables for a terminal: columns lined up by how wide text is
//! drawn, so Chinese titles (two columns a character) line up with Latin
//! ones, and text from the server is cleaned of control characters so a
//! stored title can never move the cursor or change the terminal's colours.

/// A table with a header row, rendered as aligned plain text.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Spaces between two columns.
const GAP: usize = 2;

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Self { headers: headers.iter().map(|header| (*header).to_owned()).collect(), rows: Vec::new() }
    }

    /// Adds a row; missing cells are blank, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells.iter().map(|cell| clean(cell)).collect();
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as lines, each starting with `indent`, ending in a newline.
    pub fn render(&self, indent: &str) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|header| display_width(header)).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(display_width(cell));
            }
        }
        let mut out = String::new();
        for line in std::iter::once(&self.headers).chain(&self.rows) {
            let mut text = String::from(indent);
            for (index, (cell, width)) in line.iter().zip(&widths).enumerate() {
                text.push_str(cell);
                if index + 1 < widths.len() {
                    let padding = width - display_width(cell) + GAP;
                    text.extend(std::iter::repeat_n(' ', padding));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `text` with every control character (newline, escape, ...) replaced by a
/// space: what the server sends is data, never terminal commands.
pub fn clean(text: &str) -> String {
    text.chars().map(|character| if character.is_control() { ' ' } else { character }).collect()
}

/// How many terminal columns `text` takes.
pub fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// Columns of one character: 2 for East Asian wide and full-width forms
/// (the ranges of Unicode's East Asian Width "W" and "F" that occur in
/// book records), 0 for combining marks and zero-width characters, 1 else.
fn char_width(character: char) -> usize {
    let code = u32::from(character);
    let zero = character.is_control() || matches!(code, 0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F);
    let wide = matches!(
        code,
        0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x3FFFD
    );
    if zero {
        0
    } else if wide {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_characters_take_two_columns() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("草房子"), 6);
        assert_eq!(display_width("三年级(2)班"), 11);
        assert_eq!(display_width("（全）"), 6);
        assert_eq!(display_width("e\u{301}"), 1);
    }

    #[test]
    fn columns_line_up_across_scripts() {
        let mut table = Table::new(&["BARCODE", "TITLE", "DUE"]);
        table.row(vec!["C0001".into(), "草房子".into(), "2026-12-19".into()]);
        table.row(vec!["C0002".into(), "Charlotte's Web".into(), String::new()]);
        let text = table.render("  ");
        assert_eq!(
            text,
            "  BARCODE  TITLE            DUE\n\
             \x20 C0001    草房子           2026-12-19\n\
             \x20 C0002    Charlotte's Web\n"
        );
    }

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        assert_eq!(clean("bad\u{1b}[31mred\nline"), "bad [31mred line");
        let mut table = Table::new(&["A"]);
        table.row(vec!["x\ty".into(), "dropped".into()]);
        assert_eq!(table.render(""), "A\nx y\n");
    }

    #[test]
    fn short_rows_are_padded() {
        let mut table = Table::new(&["A", "B"]);
        table.row(vec!["1".into()]);
        assert_eq!(table.render(""), "A  B\n1\n");
    }
}
