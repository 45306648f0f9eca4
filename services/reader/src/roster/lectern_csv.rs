//! Lectern's own roster CSV: one reader a line, with a header naming the
//! columns in English or Chinese (学号, 姓名, 类别, 借书证号, 班级, 年级,
//! 学年, 有效期, 状态). Only `number` and `name` are required; a class
//! needs its grade, and a blank school year means the import's.

use std::collections::HashMap;

use lectern_core::validate::{self, FieldError};

use super::table::{Row, Table};
use super::{ClassRef, LineError, Roster, RosterReader, duplicates, fields};
use crate::readers;

/// The column a header cell (trimmed, lower case) stands for.
fn canonical(cell: &str) -> String {
    let name = match cell {
        "学号" | "学籍号" | "工号" | "编号" | "student_number" | "student number" => "number",
        "姓名" => "name",
        "类别" | "读者类别" | "type" | "role" => "category",
        "借书证号" | "借书证" | "卡号" | "card" | "card barcode" | "barcode" => "card_barcode",
        "班级" | "class_name" | "homeroom" => "class",
        "年级" => "grade",
        "学年" | "school year" => "school_year",
        "有效期" | "有效期至" | "expires" | "expiry" => "expires_on",
        "状态" => "status",
        other => other,
    };
    name.to_owned()
}

/// Reads a Lectern roster CSV. `default_year` is the school year of
/// classes whose line names none.
pub fn read(file: &str, bytes: &[u8], default_year: &str) -> Result<Roster, Vec<LineError>> {
    let table = Table::read(file, bytes, &["number", "name"], canonical)?;
    let mut roster = Roster::default();
    let mut errors = Vec::new();
    // Numbers are compared on every line, also on lines with other errors,
    // so one run reports every duplicate.
    let mut first_lines: HashMap<String, u64> = HashMap::new();
    for row in &table.rows {
        let line = read_line(&table, row, file, default_year);
        let mut duplicate = false;
        if let Ok(Some(number)) = readers::number("number", table.get(row, "number")) {
            match first_lines.get(&number) {
                Some(first) => {
                    duplicate = true;
                    errors.push(table.error(
                        row,
                        "number",
                        format!("number {number} is also on line {first}"),
                    ));
                }
                None => {
                    first_lines.insert(number, row.line);
                }
            }
        }
        match line {
            Ok(reader) if !duplicate => roster.readers.push(reader),
            Ok(_) => {}
            Err(mut line_errors) => errors.append(&mut line_errors),
        }
    }
    errors.extend(duplicates(&roster.readers, "number"));
    if errors.is_empty() { Ok(roster) } else { Err(errors) }
}

/// One line as a reader, or every error on it.
fn read_line(
    table: &Table,
    row: &Row,
    file: &str,
    default_year: &str,
) -> Result<RosterReader, Vec<LineError>> {
    let mut errors = Vec::new();
    let cell = |column| table.get(row, column);
    let number = match readers::number("number", cell("number")) {
        Ok(Some(number)) => Some(number),
        Ok(None) => take(&mut errors, table, row, "number", Err("is required".to_owned())),
        Err(error) => take(&mut errors, table, row, "number", Err(error.problem)),
    };
    let name = take(&mut errors, table, row, "name", name(cell("name")));
    let category = take(&mut errors, table, row, "category", fields::category(cell("category")));
    let card_barcode = match cell("card_barcode") {
        "" => None,
        card => {
            take(&mut errors, table, row, "card_barcode", problem(validate::barcode("card_barcode", card)))
        }
    };
    let class = match cell("class") {
        "" => None,
        class_name => {
            let class_name = take(&mut errors, table, row, "class", class_name_cell(class_name));
            let grade = take(&mut errors, table, row, "grade", fields::grade(cell("grade")));
            let school_year = match cell("school_year") {
                "" => Some(default_year.to_owned()),
                year => take(&mut errors, table, row, "school_year", fields::school_year(year)),
            };
            match (class_name, grade, school_year) {
                (Some(name), Some(grade), Some(school_year)) => Some(ClassRef { name, grade, school_year }),
                _ => None,
            }
        }
    };
    let expires_on = take(
        &mut errors,
        table,
        row,
        "expires_on",
        problem(validate::optional_date("expires_on", cell("expires_on"))),
    )
    .flatten();
    let active = take(&mut errors, table, row, "status", fields::active(cell("status")));
    match (number, name, category, active) {
        (Some(number), Some(name), Some(category), Some(active)) if errors.is_empty() => Ok(RosterReader {
            file: file.to_owned(),
            line: row.line,
            number,
            name,
            category,
            card_barcode,
            class,
            expires_on,
            active,
        }),
        _ => Err(errors),
    }
}

/// The value, or `None` with the error noted against `column`.
pub(super) fn take<T>(
    errors: &mut Vec<LineError>,
    table: &Table,
    row: &Row,
    column: &str,
    result: Result<T, String>,
) -> Option<T> {
    result.map_err(|message| errors.push(table.error(row, column, message))).ok()
}

/// A field check's problem, without the field name.
pub(super) fn problem<T>(result: Result<T, FieldError>) -> Result<T, String> {
    result.map_err(|error| error.problem)
}

/// A reader's name: 1–100 characters, no control characters.
pub fn name(value: &str) -> Result<String, String> {
    let name = value.trim();
    if name.is_empty() {
        return Err("is required".to_owned());
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("must be 1 to 100 characters on one line".to_owned());
    }
    Ok(name.to_owned())
}

/// A class name: 1–100 characters.
pub fn class_name_cell(value: &str) -> Result<String, String> {
    lectern_core::validate::required_text("class", value, 100).map_err(|error| error.problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YEAR: &str = "2026-2027";

    fn messages(errors: &[LineError]) -> Vec<String> {
        errors
            .iter()
            .map(|error| format!("{}:{} {}: {}", error.file, error.line, error.column, error.message))
            .collect()
    }

    #[test]
    fn a_good_file_in_chinese() {
        let text = "学号,姓名,班级,年级,类别,备注\nS001,王小明,三年级(1)班,3,学生,x\nT01,李老师,,,教师,\n";
        let roster = read("r.csv", text.as_bytes(), YEAR).unwrap();
        assert_eq!(roster.readers.len(), 2);
        let first = &roster.readers[0];
        assert_eq!((first.line, first.number.as_str(), first.name.as_str()), (2, "S001", "王小明"));
        assert_eq!(
            first.class,
            Some(ClassRef { name: "三年级(1)班".into(), grade: 3, school_year: YEAR.into() })
        );
        assert_eq!(roster.readers[1].category, "teacher");
        assert_eq!(roster.readers[1].class, None);
    }

    #[test]
    fn a_gb18030_file_is_read() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("学号,姓名\nS001,王小明\n");
        let roster = read("r.csv", &bytes, YEAR).unwrap();
        assert_eq!(roster.readers[0].name, "王小明");
    }

    #[test]
    fn every_bad_cell_is_reported_with_its_line() {
        let text = "number,name,class,grade,status,expires_on\n\
                    S 1,A,,,,\n\
                    S2,,3A,,,\n\
                    S3,C,3A,3,maybe,31/07/2027\n\
                    ,D,,,,\n";
        let errors = read("r.csv", text.as_bytes(), YEAR).unwrap_err();
        assert_eq!(
            messages(&errors),
            vec![
                "r.csv:2 number: must be 1 to 32 letters, digits or \"-\"",
                "r.csv:3 name: is required",
                "r.csv:3 grade: a class needs a grade (1 to 12)",
                "r.csv:4 expires_on: is not a date of the form YYYY-MM-DD",
                "r.csv:4 status: unknown status \"maybe\": use active or inactive",
                "r.csv:5 number: is required",
            ]
        );
    }

    #[test]
    fn duplicate_numbers_in_a_file_are_errors() {
        let text = "number,name,grade\nS1,A,\nS2,B,\nS1,C,\nS2,,\n";
        let errors = read("r.csv", text.as_bytes(), YEAR).unwrap_err();
        assert_eq!(
            messages(&errors),
            vec![
                "r.csv:4 number: number S1 is also on line 2",
                "r.csv:5 number: number S2 is also on line 3",
                "r.csv:5 name: is required"
            ]
        );
    }

    #[test]
    fn wrong_columns_are_reported() {
        let errors = read("r.csv", b"id,full name\n1,A\n", YEAR).unwrap_err();
        assert_eq!(
            messages(&errors),
            vec![
                "r.csv:1 number: the header has no column \"number\"",
                "r.csv:1 name: the header has no column \"name\""
            ]
        );
    }
}
