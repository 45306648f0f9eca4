//! The district's organisation: schools (one library each) and their
//! classes. What a school code, a grade and a school year look like, and
//! the rules checked inside the write transaction that adds them.

use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_core::validate::FieldError;

use crate::db::{self, ClassRow, SchoolRow};
use crate::error::{Error, ReaderRefusal};

/// A school code: 1–32 letters, digits or "-", stored in upper case.
pub fn school_code(field: &'static str, value: &str) -> Result<String, FieldError> {
    let code = value.trim();
    if code.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if code.len() > 32 {
        return Err(FieldError::new(field, "is longer than 32 characters"));
    }
    if !code.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-') {
        return Err(FieldError::new(field, "may only contain letters A-Z, digits and \"-\""));
    }
    Ok(code.to_ascii_uppercase())
}

/// A grade, 1 (first year of primary school) to 12.
pub fn grade(field: &'static str, value: i32) -> Result<i32, FieldError> {
    if (1..=12).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, "must be between 1 and 12"))
    }
}

/// A school year "YYYY-YYYY" whose second year follows the first.
pub fn school_year(field: &'static str, value: &str) -> Result<String, FieldError> {
    let text = value.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    let year = |part: &str| {
        (part.len() == 4 && part.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| part.parse::<u16>().ok())
            .flatten()
    };
    match text.split_once('-') {
        Some((first, second)) => match (year(first), year(second)) {
            (Some(first), Some(second)) if second == first + 1 => Ok(text.to_owned()),
            (Some(_), Some(_)) => {
                Err(FieldError::new(field, "must be two consecutive years, like \"2026-2027\""))
            }
            _ => Err(FieldError::new(field, "must look like \"2026-2027\"")),
        },
        None => Err(FieldError::new(field, "must look like \"2026-2027\"")),
    }
}

/// Adds a school whose code no other school has.
pub fn create_school(connection: &mut DbConnection, school: SchoolRow) -> Result<SchoolRow, Error> {
    if db::organisation::school_code_exists(connection, &school.code)? {
        return Err(ReaderRefusal::SchoolCodeTaken(school.code).into());
    }
    match db::organisation::insert_school(connection, &school) {
        Ok(()) => {
            tracing::info!(school.id = %school.id, "school created");
            Ok(school)
        }
        Err(error) if unique_violation_on(&error, "code") => {
            Err(ReaderRefusal::SchoolCodeTaken(school.code).into())
        }
        Err(error) => Err(error.into()),
    }
}

/// Adds a class to an existing school, under a name the school does not
/// use yet in that school year.
pub fn create_class(connection: &mut DbConnection, class: ClassRow) -> Result<ClassRow, Error> {
    if db::organisation::find_school(connection, &class.school_id)?.is_none() {
        return Err(ReaderRefusal::SchoolNotFound(class.school_id).into());
    }
    let taken = || {
        Error::from(ReaderRefusal::ClassNameTaken {
            name: class.name.clone(),
            school_year: class.school_year.clone(),
        })
    };
    if db::organisation::class_name_exists(connection, &class.school_id, &class.school_year, &class.name)? {
        return Err(taken());
    }
    match db::organisation::insert_class(connection, &class) {
        Ok(()) => {
            tracing::info!(class.id = %class.id, school.id = %class.school_id, "class created");
            Ok(class)
        }
        Err(error) if unique_violation_on(&error, "school_year") => Err(taken()),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_codes_are_short_and_upper_case() {
        assert_eq!(school_code("code", " xh-pri ").as_deref(), Ok("XH-PRI"));
        assert_eq!(school_code("code", "").unwrap_err().to_string(), "code: is required");
        assert!(school_code("code", "XH PRI").is_err());
        assert!(school_code("code", "徐汇").is_err());
        assert!(school_code("code", &"A".repeat(33)).is_err());
        assert!(school_code("code", &"A".repeat(32)).is_ok());
    }

    #[test]
    fn school_years_are_consecutive() {
        assert_eq!(school_year("school_year", "2026-2027").as_deref(), Ok("2026-2027"));
        assert!(school_year("school_year", "2026-2028").is_err());
        assert!(school_year("school_year", "2026/2027").is_err());
        assert!(school_year("school_year", "26-27").is_err());
        assert!(school_year("school_year", "+202-2027").is_err());
        assert!(school_year("school_year", "").is_err());
    }

    #[test]
    fn grades_run_from_one_to_twelve() {
        assert_eq!(grade("grade", 1), Ok(1));
        assert_eq!(grade("grade", 12), Ok(12));
        assert!(grade("grade", 0).is_err());
        assert!(grade("grade", 13).is_err());
    }
}
