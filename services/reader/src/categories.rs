//! Reader categories as data: district admins add categories and change
//! their names and loan history rules. The history rule (keep, anonymize N
//! days after the return, never keep) travels with every reader the
//! service answers, so circulation records it on each loan at check-out.

use lectern_common::db::DbConnection;
use lectern_core::validate::{self, FieldError};
use lectern_proto::reader::v1::{HistoryRetention, HistoryRule, ReaderCategory};

use crate::db::{self, CategoryRow};
use crate::error::{Error, ReaderRefusal};

/// Stored retention names.
pub const KEEP: &str = "keep";
/// Anonymize `history_days` after the return.
pub const ANONYMIZE_AFTER_DAYS: &str = "anonymize_after_days";
/// Anonymize at the return.
pub const NEVER_KEEP: &str = "never_keep";
/// The most days a rule may keep a returned loan named (ten years).
pub const MAX_DAYS: i32 = 3650;

/// A category code: trimmed, lower case ASCII letters, digits, "-" or "_",
/// 1–32 characters.
pub fn code(field: &'static str, value: &str) -> Result<String, FieldError> {
    let code = value.trim().to_ascii_lowercase();
    if code.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(FieldError::new(field, "must be 1 to 32 letters, digits, \"-\" or \"_\""));
    }
    Ok(code)
}

/// A history rule as stored: `(history_retention, history_days)`.
pub fn rule(field: &'static str, rule: &HistoryRule) -> Result<(String, Option<i32>), FieldError> {
    let days = rule.anonymize_after_days;
    match HistoryRetention::try_from(rule.retention) {
        Ok(HistoryRetention::Keep) if days == 0 => Ok((KEEP.to_owned(), None)),
        Ok(HistoryRetention::NeverKeep) if days == 0 => Ok((NEVER_KEEP.to_owned(), None)),
        Ok(HistoryRetention::Keep | HistoryRetention::NeverKeep) => Err(FieldError::new(
            field,
            "anonymize_after_days must be 0 unless the rule anonymizes after days",
        )),
        Ok(HistoryRetention::AnonymizeAfterDays) if (1..=MAX_DAYS).contains(&days) => {
            Ok((ANONYMIZE_AFTER_DAYS.to_owned(), Some(days)))
        }
        Ok(HistoryRetention::AnonymizeAfterDays) => {
            Err(FieldError::new(field, format!("anonymize_after_days must be from 1 to {MAX_DAYS}")))
        }
        Ok(HistoryRetention::Unspecified) | Err(_) => {
            Err(FieldError::new(field, "retention must be KEEP, ANONYMIZE_AFTER_DAYS or NEVER_KEEP"))
        }
    }
}

/// A stored rule as the API shows it; anything unreadable reads as "keep".
pub fn wire_rule(retention: &str, days: Option<i32>) -> HistoryRule {
    let (retention, days) = match (retention, days) {
        (NEVER_KEEP, _) => (HistoryRetention::NeverKeep, 0),
        (ANONYMIZE_AFTER_DAYS, Some(days)) => (HistoryRetention::AnonymizeAfterDays, days),
        _ => (HistoryRetention::Keep, 0),
    };
    HistoryRule { retention: retention.into(), anonymize_after_days: days }
}

/// A stored category as the API shows it.
pub fn to_wire(row: CategoryRow) -> ReaderCategory {
    ReaderCategory {
        history_rule: Some(wire_rule(&row.history_retention, row.history_days)),
        code: row.code,
        name_zh: row.name_zh,
        name_en: row.name_en,
    }
}

/// A new category from a request; an unset rule keeps history.
pub fn new_category(category: &ReaderCategory) -> Result<CategoryRow, FieldError> {
    let (history_retention, history_days) = match &category.history_rule {
        Some(history) => rule("category.history_rule", history)?,
        None => (KEEP.to_owned(), None),
    };
    Ok(CategoryRow {
        code: code("category.code", &category.code)?,
        name_zh: validate::required_text("category.name_zh", &category.name_zh, 50)?,
        name_en: validate::required_text("category.name_en", &category.name_en, 50)?,
        history_retention,
        history_days,
    })
}

/// What an update changes; `None` keeps the old value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryChange {
    pub code: String,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    pub rule: Option<(String, Option<i32>)>,
}

/// Adds a category; its code must be new.
pub fn create(connection: &mut DbConnection, category: CategoryRow) -> Result<CategoryRow, Error> {
    if db::categories::find(connection, &category.code)?.is_some() {
        return Err(ReaderRefusal::CategoryTaken(category.code).into());
    }
    db::categories::insert(connection, &category)?;
    tracing::info!(category = %category.code, retention = %category.history_retention, "reader category added");
    Ok(category)
}

/// Changes a category's names or rule.
pub fn update(connection: &mut DbConnection, change: CategoryChange) -> Result<CategoryRow, Error> {
    let Some(mut category) = db::categories::find(connection, &change.code)? else {
        return Err(ReaderRefusal::CategoryNotFound(change.code).into());
    };
    if let Some(name_zh) = change.name_zh {
        category.name_zh = name_zh;
    }
    if let Some(name_en) = change.name_en {
        category.name_en = name_en;
    }
    if let Some((retention, days)) = change.rule {
        category.history_retention = retention;
        category.history_days = days;
    }
    db::categories::update(connection, &category)?;
    tracing::info!(category = %category.code, retention = %category.history_retention, "reader category changed");
    Ok(category)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(retention: HistoryRetention, days: i32) -> HistoryRule {
        HistoryRule { retention: retention.into(), anonymize_after_days: days }
    }

    #[test]
    fn rules_are_checked_and_round_trip() {
        for (given, stored) in [
            (wire(HistoryRetention::Keep, 0), (KEEP, None)),
            (wire(HistoryRetention::NeverKeep, 0), (NEVER_KEEP, None)),
            (wire(HistoryRetention::AnonymizeAfterDays, 30), (ANONYMIZE_AFTER_DAYS, Some(30))),
        ] {
            let (retention, days) = rule("history_rule", &given).unwrap();
            assert_eq!((retention.as_str(), days), stored);
            assert_eq!(wire_rule(&retention, days), given);
        }
        assert!(rule("history_rule", &wire(HistoryRetention::AnonymizeAfterDays, 0)).is_err());
        assert!(rule("history_rule", &wire(HistoryRetention::AnonymizeAfterDays, MAX_DAYS + 1)).is_err());
        assert!(rule("history_rule", &wire(HistoryRetention::Keep, 5)).is_err());
        let unspecified = rule("history_rule", &wire(HistoryRetention::Unspecified, 0)).unwrap_err();
        assert_eq!(unspecified.field, "history_rule");
        assert_eq!(wire_rule("garbage", Some(3)), wire(HistoryRetention::Keep, 0));
    }

    #[test]
    fn codes_are_short_lower_case_words() {
        assert_eq!(code("code", " Visitor ").as_deref(), Ok("visitor"));
        assert_eq!(code("code", "after_school-2").as_deref(), Ok("after_school-2"));
        assert!(code("code", "").is_err());
        assert!(code("code", "two words").is_err());
        assert!(code("code", &"a".repeat(33)).is_err());
    }
}
