//! What the policy tests share: the schools' time zone, days and times
//! written as people write them, and a reader who may borrow.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::borrower::Borrower;
use super::history::HistoryRule;

/// The time zone of the tests' schools.
pub const ZONE: Tz = chrono_tz::Asia::Shanghai;

/// The day written `YYYY-MM-DD`.
pub fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// 08:00 on `day` in Shanghai, when the library opens.
pub fn morning(day: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{day}T08:00:00+08:00")).unwrap().with_timezone(&Utc)
}

/// 10:00 on `day` in Shanghai, in the middle of a school morning.
pub fn at(day: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{day}T10:00:00+08:00")).unwrap().with_timezone(&Utc)
}

/// A third-grade student of `school-1`, card valid to 2027-07-31, with no
/// block, whose history is kept.
pub fn student() -> Borrower {
    Borrower {
        id: "reader-1".into(),
        school_id: "school-1".into(),
        category: "student".into(),
        class_id: None,
        grade: 3,
        active: true,
        expires_on: Some(day("2027-07-31")),
        block: None,
        history: HistoryRule::Keep,
    }
}
