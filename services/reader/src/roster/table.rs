//! One CSV file of a roster as a table: the header row names the columns
//! (case and surrounding spaces do not matter, columns may come in any
//! order, unknown ones are kept out of the way), and every record knows the
//! line it started on, so each error points at a line a librarian can find
//! in the spreadsheet.

use std::collections::HashMap;

use super::LineError;
use super::decode::decode;

/// A decoded, parsed CSV file.
#[derive(Debug)]
pub struct Table {
    /// The file name, for errors.
    pub file: String,
    /// Column index by canonical column name.
    columns: HashMap<String, usize>,
    /// The header as written, by index.
    header: Vec<String>,
    /// Records with the line each starts on (the header is line 1).
    pub rows: Vec<Row>,
}

/// One record of a table.
#[derive(Debug)]
pub struct Row {
    pub line: u64,
    fields: Vec<String>,
}

impl Table {
    /// Decodes and parses `bytes`. Columns are found in any case;
    /// `required` names them as errors should spell them. `canonical` maps a header cell (already
    /// trimmed and lower-cased) to the column name the importer uses, so
    /// Chinese headers or vendor spellings can stand for the same column.
    /// Fails with the file's errors: undecodable text, a broken record, or
    /// a required column missing.
    pub fn read(
        file: &str,
        bytes: &[u8],
        required: &[&str],
        canonical: impl Fn(&str) -> String,
    ) -> Result<Self, Vec<LineError>> {
        let (text, _) = decode(bytes).map_err(|message| vec![LineError::file(file, message)])?;
        let mut reader =
            csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = match records.next() {
            Some(Ok(record)) => record.iter().map(|cell| cell.trim().to_owned()).collect::<Vec<_>>(),
            Some(Err(error)) => return Err(vec![LineError::at(file, 1, "", csv_problem(&error))]),
            None => return Err(vec![LineError::file(file, "the file is empty: it needs a header line")]),
        };
        let mut columns = HashMap::new();
        for (index, cell) in header.iter().enumerate() {
            if !cell.is_empty() {
                columns.entry(canonical(&cell.to_lowercase())).or_insert(index);
            }
        }
        let missing: Vec<LineError> = required
            .iter()
            .filter(|column| !columns.contains_key(&column.to_lowercase()))
            .map(|column| LineError::at(file, 1, column, format!("the header has no column {column:?}")))
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        for record in records {
            match record {
                Ok(record) => {
                    let line = record.position().map_or(0, csv::Position::line);
                    if record.iter().all(|cell| cell.trim().is_empty()) {
                        continue;
                    }
                    if record.len() > header.len()
                        && record.iter().skip(header.len()).any(|cell| !cell.trim().is_empty())
                    {
                        errors.push(LineError::at(
                            file,
                            line,
                            "",
                            format!(
                                "the line has {} fields but the header only {}",
                                record.len(),
                                header.len()
                            ),
                        ));
                        continue;
                    }
                    rows.push(Row {
                        line,
                        fields: record.iter().map(|cell| cell.trim().to_owned()).collect(),
                    });
                }
                Err(error) => {
                    let line = error.position().map_or(0, csv::Position::line);
                    errors.push(LineError::at(file, line, "", csv_problem(&error)));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self { file: file.to_owned(), columns, header, rows })
    }

    /// Where `column` (in any case) is in a line.
    fn index(&self, column: &str) -> Option<usize> {
        match self.columns.get(column) {
            Some(index) => Some(*index),
            None => self.columns.get(&column.to_lowercase()).copied(),
        }
    }

    /// The cell of `column` in `row` (trimmed), empty when the column is
    /// absent or the line is short.
    pub fn get<'a>(&self, row: &'a Row, column: &str) -> &'a str {
        self.index(column).and_then(|index| row.fields.get(index)).map_or("", String::as_str)
    }

    /// An error about `column` of `row`, naming the column as the header
    /// writes it.
    pub fn error(&self, row: &Row, column: &str, message: impl Into<String>) -> LineError {
        let written =
            self.columns.get(column).and_then(|index| self.header.get(*index)).map_or(column, String::as_str);
        LineError::at(&self.file, row.line, written, message)
    }
}

/// What the csv crate found wrong, in words for a librarian.
fn csv_problem(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "the line is not valid text".to_owned(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the line has {len} fields but the header {expected_len}")
        }
        _ => format!("the line cannot be read as CSV: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(cell: &str) -> String {
        cell.to_owned()
    }

    #[test]
    fn columns_are_found_by_name_in_any_case_and_order() {
        let table =
            Table::read("r.csv", b"Name , NUMBER,extra\n\xe7\x8e\x8b,S1,x\n\n", &["number", "name"], same)
                .unwrap();
        assert_eq!(table.rows.len(), 1);
        let row = &table.rows[0];
        assert_eq!(row.line, 2);
        assert_eq!(table.get(row, "number"), "S1");
        assert_eq!(table.get(row, "name"), "王");
        assert_eq!(table.get(row, "class"), "");
        assert_eq!(table.error(row, "number", "bad").column, "NUMBER");
    }

    #[test]
    fn missing_columns_and_long_lines_are_reported_with_line_numbers() {
        let errors = Table::read("r.csv", b"name,grade\nA,1\n", &["number", "name"], same).unwrap_err();
        assert_eq!(errors, vec![LineError::at("r.csv", 1, "number", "the header has no column \"number\"")]);
        let errors =
            Table::read("r.csv", b"number,name\nS1,A\nS2,B,C\nS3,\"D\nE\"\nS4,F,G\n", &["number"], same)
                .unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![3, 6]);
        assert!(errors[0].message.contains("3 fields but the header only 2"));
    }

    #[test]
    fn empty_files_are_refused() {
        let errors = Table::read("r.csv", b"", &["number"], same).unwrap_err();
        assert_eq!(errors[0].line, 0);
        assert!(errors[0].message.contains("empty"));
    }
}
