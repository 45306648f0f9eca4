//! One reader's own reading report from the snapshots their loans keep:
//! loans per month, the spread over the main classes of the
//! classification, and the titles read, over a range of local days. The
//! rows are the loans that still name the reader (an anonymized loan is no
//! longer theirs), so the report shows exactly what their history rule
//! keeps. Plain functions, no I/O.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use lectern_core::validate::FieldError;
use lectern_proto::circulation::v1::{
    ClassificationLoans, ReaderMonthLoans, ReaderReadingReport, ReaderTitleRead,
};

use crate::policy::due::{local_date, local_days};
use crate::policy::reports::{self, LoanSnapshot, main_class};

/// Days a report without dates covers: the last 365 up to today.
pub const DEFAULT_DAYS: u64 = 365;
/// Most titles a report lists.
pub const MAX_TITLES: usize = 100;

/// A reader report's range: both days given (as for a school's report),
/// or both empty for the last [`DEFAULT_DAYS`] days up to `today`. One
/// without the other is refused naming the missing one, rather than
/// guessing which end the reader meant.
pub fn range(
    from: &str,
    to: &str,
    today: NaiveDate,
    zone: Tz,
) -> Result<(NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>), FieldError> {
    match (from.trim(), to.trim()) {
        ("", "") => {
            let first = today.checked_sub_days(Days::new(DEFAULT_DAYS - 1)).unwrap_or(today);
            let (start, end) = local_days(first, today, zone);
            Ok((first, today, start, end))
        }
        ("", _) => Err(FieldError::new(
            "from_date",
            "is required with to_date (leave both empty for the last 365 days)",
        )),
        (_, "") => Err(FieldError::new(
            "to_date",
            "is required with from_date (leave both empty for the last 365 days)",
        )),
        (from, to) => reports::range(from, to, zone),
    }
}

/// What one title adds up to in a report.
struct Read<'a> {
    /// The title as catalogued at its latest loan.
    title: &'a str,
    last: chrono::NaiveDateTime,
    times: i32,
}

/// The report of `rows` (one reader's loans checked out from `from` to
/// `to`), local days in `zone`.
pub fn aggregate(rows: &[LoanSnapshot], zone: Tz, from: NaiveDate, to: NaiveDate) -> ReaderReadingReport {
    let mut months: BTreeMap<String, i32> = BTreeMap::new();
    let mut classes: BTreeMap<String, i32> = BTreeMap::new();
    let mut reads: HashMap<&str, Read<'_>> = HashMap::new();
    for row in rows {
        *months.entry(local_day(row.checked_out_at, zone).format("%Y-%m").to_string()).or_default() += 1;
        *classes.entry(main_class(&row.classification)).or_default() += 1;
        let read = reads.entry(&row.title_id).or_insert(Read {
            title: &row.title,
            last: row.checked_out_at,
            times: 0,
        });
        read.times += 1;
        if row.checked_out_at > read.last {
            read.last = row.checked_out_at;
            read.title = &row.title;
        }
    }
    let mut classifications: Vec<ClassificationLoans> =
        classes.into_iter().map(|(class, loans)| ClassificationLoans { class, loans }).collect();
    // Most first; the BTreeMap's order breaks ties, so equal counts go by
    // class letter and the report reads the same every time.
    classifications.sort_by_key(|class| std::cmp::Reverse(class.loans));
    let titles = count(reads.len());
    let mut titles_read: Vec<(&str, Read<'_>)> = reads.into_iter().collect();
    titles_read.sort_by(|(a_id, a), (b_id, b)| {
        b.last.cmp(&a.last).then_with(|| a.title.cmp(b.title)).then_with(|| a_id.cmp(b_id))
    });
    titles_read.truncate(MAX_TITLES);
    ReaderReadingReport {
        from_date: from.format("%Y-%m-%d").to_string(),
        to_date: to.format("%Y-%m-%d").to_string(),
        loans: count(rows.len()),
        titles,
        months: months.into_iter().map(|(month, loans)| ReaderMonthLoans { month, loans }).collect(),
        classifications,
        titles_read: titles_read
            .into_iter()
            .map(|(title_id, read)| ReaderTitleRead {
                title_id: title_id.to_owned(),
                title: read.title.to_owned(),
                last_borrowed_on: local_day(read.last, zone).format("%Y-%m-%d").to_string(),
                times: read.times,
            })
            .collect(),
    }
}

/// The local day of a stored (UTC) instant.
fn local_day(at: chrono::NaiveDateTime, zone: Tz) -> NaiveDate {
    local_date(DateTime::<Utc>::from_naive_utc_and_offset(at, Utc), zone)
}

fn count(value: usize) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::fixtures::{ZONE, day};

    fn row(at: &str, title: &str, classification: &str) -> LoanSnapshot {
        LoanSnapshot {
            checked_out_at: DateTime::parse_from_rfc3339(at).unwrap().naive_utc(),
            reader_id: Some("ann".into()),
            reader_grade: 3,
            reader_class_id: Some("3-1".into()),
            title_id: format!("id-{title}"),
            title: title.into(),
            classification: classification.into(),
        }
    }

    #[test]
    fn a_report_counts_months_classes_and_titles() {
        let rows = [
            // 31 October 20:00 in Shanghai; 16:30Z is already 1 November there.
            row("2026-10-31T12:00:00Z", "草房子", "I287.45"),
            row("2026-10-31T16:30:00Z", "草房子", "I287.45"),
            row("2026-11-02T02:00:00Z", "时间简史", "P159"),
            row("2026-11-05T02:00:00Z", "西游记", "I242.4"),
            row("2026-11-06T02:00:00Z", "无号书", ""),
        ];
        let report = aggregate(&rows, ZONE, day("2026-09-01"), day("2026-11-30"));
        assert_eq!((report.from_date.as_str(), report.to_date.as_str()), ("2026-09-01", "2026-11-30"));
        assert_eq!((report.loans, report.titles), (5, 4));
        let months: Vec<(&str, i32)> = report.months.iter().map(|m| (m.month.as_str(), m.loans)).collect();
        assert_eq!(months, [("2026-10", 1), ("2026-11", 4)]);
        let classes: Vec<(&str, i32)> =
            report.classifications.iter().map(|c| (c.class.as_str(), c.loans)).collect();
        // Most first; equal counts by letter ("" for no call number first).
        assert_eq!(classes, [("I", 3), ("", 1), ("P", 1)]);
        let read: Vec<(&str, &str, i32)> = report
            .titles_read
            .iter()
            .map(|t| (t.title.as_str(), t.last_borrowed_on.as_str(), t.times))
            .collect();
        assert_eq!(
            read,
            [
                ("无号书", "2026-11-06", 1),
                ("西游记", "2026-11-05", 1),
                ("时间简史", "2026-11-02", 1),
                ("草房子", "2026-11-01", 2),
            ]
        );
        assert_eq!(report.titles_read[3].title_id, "id-草房子");
    }

    #[test]
    fn a_title_shows_its_latest_cataloguing_and_the_list_is_capped() {
        let mut renamed = row("2026-11-03T02:00:00Z", "草房子（新版）", "I287.45");
        renamed.title_id = "id-草房子".into();
        let rows = [row("2026-11-01T02:00:00Z", "草房子", "I287.45"), renamed];
        let report = aggregate(&rows, ZONE, day("2026-11-01"), day("2026-11-30"));
        assert_eq!(report.titles, 1);
        assert_eq!(report.titles_read[0].title, "草房子（新版）");
        assert_eq!(report.titles_read[0].times, 2);

        let many: Vec<LoanSnapshot> = (0..150)
            .map(|i| row(&format!("2026-11-01T02:{:02}:{:02}Z", i / 60, i % 60), &format!("书{i}"), "I"))
            .collect();
        let report = aggregate(&many, ZONE, day("2026-11-01"), day("2026-11-30"));
        assert_eq!((report.loans, report.titles, report.titles_read.len()), (150, 150, MAX_TITLES));
        assert_eq!(report.titles_read[0].title, "书149", "most recent first");
    }

    #[test]
    fn an_empty_report_is_all_zero() {
        let report = aggregate(&[], ZONE, day("2026-11-01"), day("2026-11-30"));
        assert_eq!((report.loans, report.titles), (0, 0));
        assert!(
            report.months.is_empty() && report.classifications.is_empty() && report.titles_read.is_empty()
        );
    }

    #[test]
    fn no_dates_mean_the_last_365_days_and_one_date_is_refused() {
        let (from, to, start, end) = range("", " ", day("2026-11-30"), ZONE).unwrap();
        assert_eq!((from, to), (day("2025-12-01"), day("2026-11-30")));
        assert_eq!(start, DateTime::parse_from_rfc3339("2025-12-01T00:00:00+08:00").unwrap());
        assert_eq!(end, DateTime::parse_from_rfc3339("2026-12-01T00:00:00+08:00").unwrap());
        assert_eq!(range("", "2026-11-30", day("2026-11-30"), ZONE).unwrap_err().field, "from_date");
        assert_eq!(range("2026-11-01", "", day("2026-11-30"), ZONE).unwrap_err().field, "to_date");
        let (from, to, _, _) = range("2026-11-01", "2026-11-30", day("2027-05-01"), ZONE).unwrap();
        assert_eq!((from, to), (day("2026-11-01"), day("2026-11-30")));
        assert_eq!(range("2026-11-30", "2026-11-01", day("2026-11-30"), ZONE).unwrap_err().field, "to_date");
        assert_eq!(range("2026-01-01", "2027-01-02", day("2026-11-30"), ZONE).unwrap_err().field, "to_date");
        assert_eq!(range("yesterday", "2026-11-30", day("2026-11-30"), ZONE).unwrap_err().field, "from_date");
    }
}
