//! The values a roster cell may hold, read the way schools write them:
//! categories and statuses in English or Chinese, grades as numbers or as
//! the codes student information systems use (CEDS "01"–"12", "P1"–"P6",
//! "J1"–"J3", "S1"–"S3", "三年级"), and the current school year.

use chrono::{Datelike as _, NaiveDate};

/// A reader category code from a roster cell; blank means student.
pub fn category(value: &str) -> Result<String, String> {
    let code = match value.trim().to_lowercase().as_str() {
        "" | "student" | "学生" => "student",
        "teacher" | "教师" | "老师" => "teacher",
        "staff" | "职工" | "员工" => "staff",
        "other" | "其他" => "other",
        other => return Err(format!("unknown category {other:?}: use student, teacher, staff or other")),
    };
    Ok(code.to_owned())
}

/// Whether a status cell means active: blank or "active" do; "inactive",
/// "tobedeleted" (OneRoster), "left", "graduated" and their Chinese words
/// do not.
pub fn active(value: &str) -> Result<bool, String> {
    match value.trim().to_lowercase().as_str() {
        "" | "active" | "在读" | "在职" | "正常" => Ok(true),
        "inactive" | "tobedeleted" | "left" | "graduated" | "离校" | "毕业" | "离职" | "停用" => {
            Ok(false)
        }
        other => Err(format!("unknown status {other:?}: use active or inactive")),
    }
}

/// A grade 1–12 from a roster cell.
pub fn grade(value: &str) -> Result<i32, String> {
    let text = value.trim().to_uppercase();
    let number = |digits: &str| digits.parse::<i32>().ok();
    let grade = match text.as_str() {
        "KG" | "PK" | "TK" | "PR" | "IT" | "PS" => None,
        _ if text.starts_with('P') => number(&text[1..]).filter(|grade| (1..=6).contains(grade)),
        _ if text.starts_with('J') => {
            number(&text[1..]).filter(|grade| (1..=3).contains(grade)).map(|grade| grade + 6)
        }
        _ if text.starts_with('S') => {
            number(&text[1..]).filter(|grade| (1..=3).contains(grade)).map(|grade| grade + 9)
        }
        _ => chinese_grade(&text).or_else(|| number(&text)),
    };
    grade.filter(|grade| (1..=12).contains(grade)).ok_or_else(|| {
        if text.is_empty() {
            "a class needs a grade (1 to 12)".to_owned()
        } else {
            format!("grade {text:?} is not a grade from 1 to 12")
        }
    })
}

/// "三年级" → 3, "高一" → 10, "初二" → 8.
fn chinese_grade(text: &str) -> Option<i32> {
    const DIGITS: [&str; 12] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"];
    let digit = |word: &str| DIGITS.iter().position(|digit| *digit == word).map(|index| index as i32 + 1);
    if let Some(rest) = text.strip_suffix("年级") {
        return digit(rest);
    }
    if let Some(rest) = text.strip_prefix('初') {
        return digit(rest).filter(|grade| *grade <= 3).map(|grade| grade + 6);
    }
    if let Some(rest) = text.strip_prefix('高') {
        return digit(rest).filter(|grade| *grade <= 3).map(|grade| grade + 9);
    }
    None
}

/// The school year a day falls in: from August on, the year starting then.
pub fn school_year_of(day: NaiveDate) -> String {
    let first = if day.month() >= 8 { day.year() } else { day.year() - 1 };
    format!("{first}-{}", first + 1)
}

/// A school year "2026-2027" from a roster cell, or from a OneRoster
/// `schoolYear` ("2027", the year the school year ends in).
pub fn school_year(value: &str) -> Result<String, String> {
    let text = value.trim();
    if text.len() == 4
        && let Ok(end) = text.parse::<i32>()
    {
        return Ok(format!("{}-{end}", end - 1));
    }
    crate::organisation::school_year("school_year", text).map_err(|error| error.problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_in_english_and_chinese() {
        assert_eq!(category("").as_deref(), Ok("student"));
        assert_eq!(category(" Teacher ").as_deref(), Ok("teacher"));
        assert_eq!(category("职工").as_deref(), Ok("staff"));
        assert!(category("parent").unwrap_err().contains("unknown category \"parent\""));
    }

    #[test]
    fn statuses() {
        assert_eq!(active(""), Ok(true));
        assert_eq!(active("tobedeleted"), Ok(false));
        assert_eq!(active("Inactive"), Ok(false));
        assert_eq!(active("毕业"), Ok(false));
        assert!(active("maybe").is_err());
    }

    #[test]
    fn grades_as_schools_write_them() {
        for (text, expected) in [
            ("3", 3),
            ("03", 3),
            ("P6", 6),
            ("J1", 7),
            ("S3", 12),
            ("三年级", 3),
            ("初二", 8),
            ("高一", 10),
            ("十二年级", 12),
        ] {
            assert_eq!(grade(text), Ok(expected), "{text}");
        }
        for text in ["", "0", "13", "KG", "P7", "J4", "grade 3"] {
            assert!(grade(text).is_err(), "{text}");
        }
    }

    #[test]
    fn school_years() {
        let day = |text| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert_eq!(school_year_of(day("2026-07-31")), "2025-2026");
        assert_eq!(school_year_of(day("2026-08-01")), "2026-2027");
        assert_eq!(school_year("2027").as_deref(), Ok("2026-2027"));
        assert_eq!(school_year("2026-2027").as_deref(), Ok("2026-2027"));
        assert!(school_year("2026-2028").is_err());
    }
}
