//! Reading reports from the snapshots loans keep: loans per month, grade
//! and class, the most borrowed titles, the spread over the main classes
//! of the classification, and how many readers borrowed. Plain functions,
//! no I/O.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use lectern_core::validate::FieldError;
use lectern_proto::circulation::v1::{ClassificationLoans, MonthlyLoans, ReadingReport, TitleLoans};

use crate::policy::calendar::parse_day;
use crate::policy::due::{local_date, local_days};

/// Longest range of one report.
pub const MAX_DAYS: i64 = 366;

/// A report's range: from the start of `from` to the end of `to`, local.
pub fn range(
    from: &str,
    to: &str,
    zone: Tz,
) -> Result<(NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>), FieldError> {
    let from_day =
        parse_day(from.trim()).ok_or_else(|| FieldError::new("from_date", "must be a day YYYY-MM-DD"))?;
    let to_day =
        parse_day(to.trim()).ok_or_else(|| FieldError::new("to_date", "must be a day YYYY-MM-DD"))?;
    if to_day < from_day {
        return Err(FieldError::new("to_date", "must not be before from_date"));
    }
    if (to_day - from_day).num_days() >= MAX_DAYS {
        return Err(FieldError::new("to_date", format!("the range may be at most {MAX_DAYS} days")));
    }
    let (start, end) = local_days(from_day, to_day, zone);
    Ok((from_day, to_day, start, end))
}

/// The main class of a class number: its first letter ("I287.45" → "I",
/// "TP311" → "T"); "" for none.
pub fn main_class(classification: &str) -> String {
    classification
        .chars()
        .next()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_default()
}

/// What a reading report reads of a loan: the snapshot it kept at
/// check-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanSnapshot {
    pub checked_out_at: chrono::NaiveDateTime,
    pub reader_id: Option<String>,
    pub reader_grade: i32,
    pub reader_class_id: Option<String>,
    pub title_id: String,
    pub title: String,
    pub classification: String,
}

/// The report over `rows`, in `zone`; `population` is the ids of the
/// active readers in scope now.
pub fn aggregate(rows: &[LoanSnapshot], zone: Tz, top: usize, population: &HashSet<String>) -> ReadingReport {
    let mut months: BTreeMap<(String, i32, String), i32> = BTreeMap::new();
    let mut titles: HashMap<&str, (&str, i32)> = HashMap::new();
    let mut classes: BTreeMap<String, i32> = BTreeMap::new();
    let mut borrowers: HashSet<&str> = HashSet::new();
    for row in rows {
        let day = local_date(DateTime::<Utc>::from_naive_utc_and_offset(row.checked_out_at, Utc), zone);
        let month = day.format("%Y-%m").to_string();
        *months
            .entry((month, row.reader_grade, row.reader_class_id.clone().unwrap_or_default()))
            .or_default() += 1;
        titles.entry(&row.title_id).or_insert((&row.title, 0)).1 += 1;
        *classes.entry(main_class(&row.classification)).or_default() += 1;
        if let Some(reader_id) = &row.reader_id {
            borrowers.insert(reader_id);
        }
    }
    let mut top_titles: Vec<TitleLoans> = titles
        .into_iter()
        .map(|(title_id, (title, loans))| TitleLoans {
            title_id: title_id.to_owned(),
            title: title.to_owned(),
            loans,
        })
        .collect();
    top_titles.sort_by(|a, b| b.loans.cmp(&a.loans).then_with(|| a.title.cmp(&b.title)));
    top_titles.truncate(top);
    let active = borrowers.iter().filter(|reader| population.contains(**reader)).count();
    let count = |value: usize| i32::try_from(value).unwrap_or(i32::MAX);
    ReadingReport {
        months: months
            .into_iter()
            .map(|((month, grade, class_id), loans)| MonthlyLoans { month, grade, class_id, loans })
            .collect(),
        top_titles,
        classifications: classes
            .into_iter()
            .map(|(class, loans)| ClassificationLoans { class, loans })
            .collect(),
        loans: count(rows.len()),
        borrowers: count(borrowers.len()),
        readers: count(population.len()),
        active_reader_rate: if population.is_empty() { 0.0 } else { active as f64 / population.len() as f64 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::fixtures::ZONE;

    fn row(
        at: &str,
        reader: Option<&str>,
        grade: i32,
        class: &str,
        title: &str,
        classification: &str,
    ) -> LoanSnapshot {
        LoanSnapshot {
            checked_out_at: DateTime::parse_from_rfc3339(at).unwrap().naive_utc(),
            reader_id: reader.map(Into::into),
            reader_grade: grade,
            reader_class_id: Some(class.into()),
            title_id: format!("id-{title}"),
            title: title.into(),
            classification: classification.into(),
        }
    }

    #[test]
    fn loans_are_counted_by_local_month_grade_and_class() {
        let rows = [
            // 31 October 20:00 in Shanghai is 31 October; 16:30Z is 1 November there.
            row("2026-10-31T12:00:00Z", Some("ann"), 3, "3-1", "草房子", "I287.45"),
            row("2026-10-31T16:30:00Z", Some("ann"), 3, "3-1", "草房子", "I287.45"),
            row("2026-11-02T02:00:00Z", Some("bob"), 4, "4-2", "西游记", "I242.4"),
            row("2026-11-03T02:00:00Z", None, 4, "4-2", "时间简史", "P159"),
            row("2026-11-04T02:00:00Z", Some("cai"), 4, "4-2", "无号书", ""),
        ];
        let population: HashSet<String> = ["ann", "bob", "dan", "eve"].map(String::from).into();
        let report = aggregate(&rows, ZONE, 2, &population);
        let months: Vec<(&str, i32, &str, i32)> =
            report.months.iter().map(|m| (m.month.as_str(), m.grade, m.class_id.as_str(), m.loans)).collect();
        assert_eq!(months, [("2026-10", 3, "3-1", 1), ("2026-11", 3, "3-1", 1), ("2026-11", 4, "4-2", 3)]);
        let top: Vec<(&str, i32)> = report.top_titles.iter().map(|t| (t.title.as_str(), t.loans)).collect();
        // Ties go by title.
        assert_eq!(top, [("草房子", 2), ("无号书", 1)]);
        let classes: Vec<(&str, i32)> =
            report.classifications.iter().map(|c| (c.class.as_str(), c.loans)).collect();
        assert_eq!(classes, [("", 1), ("I", 3), ("P", 1)]);
        assert_eq!((report.loans, report.borrowers, report.readers), (5, 3, 4));
        // ann and bob of the four readers now; cai has left.
        assert!((report.active_reader_rate - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_range_is_whole_local_days() {
        let (_, _, start, end) = range("2026-11-01", "2026-11-30", ZONE).unwrap();
        assert_eq!(start, DateTime::parse_from_rfc3339("2026-11-01T00:00:00+08:00").unwrap());
        assert_eq!(end, DateTime::parse_from_rfc3339("2026-12-01T00:00:00+08:00").unwrap());
        assert_eq!(range("2026-11-30", "2026-11-01", ZONE).unwrap_err().field, "to_date");
        assert_eq!(range("soon", "2026-11-01", ZONE).unwrap_err().field, "from_date");
        assert!(range("2026-01-01", "2027-01-01", ZONE).is_ok(), "366 days");
        assert!(range("2026-01-01", "2027-01-02", ZONE).is_err());
        assert_eq!(main_class("TP311"), "T");
        assert_eq!(main_class("i287"), "I");
        assert_eq!(main_class("287"), "");
    }
}
