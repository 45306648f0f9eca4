//! A school's calendar: the weekdays its library is always closed, its
//! holidays and term breaks, and its terms. A due day that falls on a
//! closed day moves to the next open day. Plain data and functions, no I/O;
//! the request is checked here into a [`SchoolCalendar`] before anything is
//! stored.

use chrono::{Datelike, Days, NaiveDate};
use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1 as pb;

/// Most holidays and term breaks one school keeps.
pub const MAX_CLOSURES: usize = 200;
/// Most terms one school keeps.
pub const MAX_TERMS: usize = 20;
/// Longest closure or term, in days (both ends included).
pub const MAX_RANGE_DAYS: u64 = 366;
/// Longest closure or term name.
pub const MAX_NAME_CHARS: usize = 100;
/// How far a due day is moved at most to reach an open day. Beyond it the
/// calendar is closed for over a year on end, which a school would not
/// mean: the due day then stays where the loan period put it.
const MAX_MOVE_DAYS: u64 = 400;

/// A day as the API and the database write it: "YYYY-MM-DD".
pub fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// A stored "YYYY-MM-DD" day read back; `None` if it is not one.
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Why the library is closed on a range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosureKind {
    Holiday,
    TermBreak,
}

impl ClosureKind {
    /// The name stored in `school_closures.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Holiday => "holiday",
            Self::TermBreak => "term_break",
        }
    }

    /// Reads a stored name back; an unknown one counts as a holiday (the
    /// library is closed either way).
    pub fn from_stored(name: &str) -> Self {
        if name == "term_break" { Self::TermBreak } else { Self::Holiday }
    }
}

/// Days the library is closed, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub kind: ClosureKind,
    pub name: String,
}

/// A term of the school year, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub name: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

/// A school's calendar. The default is open every day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchoolCalendar {
    /// ISO weekday numbers (1 = Monday … 7 = Sunday), ascending, each once.
    pub closed_weekdays: Vec<u32>,
    /// Sorted by first day.
    pub closures: Vec<Closure>,
    /// Sorted by first day; they do not overlap.
    pub terms: Vec<Term>,
}

impl SchoolCalendar {
    /// Whether the library is open on `day`.
    pub fn is_open(&self, day: NaiveDate) -> bool {
        !self.closed_weekdays.contains(&day.weekday().number_from_monday())
            && !self.closures.iter().any(|closure| closure.first_day <= day && day <= closure.last_day)
    }

    /// The term `day` falls in, if any.
    pub fn term_on(&self, day: NaiveDate) -> Option<&Term> {
        self.terms.iter().find(|term| term.first_day <= day && day <= term.last_day)
    }

    /// `day` if the library is open then, else the next day it is open.
    pub fn next_open_day(&self, day: NaiveDate) -> NaiveDate {
        (0..=MAX_MOVE_DAYS)
            .filter_map(|ahead| day.checked_add_days(Days::new(ahead)))
            .find(|candidate| self.is_open(*candidate))
            .unwrap_or(day)
    }

    /// Checks a calendar as a client sent it: weekdays 1–7 with at least
    /// one open, dates of the form YYYY-MM-DD, ranges that end on or after
    /// they start and last at most [`MAX_RANGE_DAYS`], named, within the
    /// limits, and terms that do not overlap.
    pub fn from_request(request: &pb::SchoolCalendar) -> Result<Self, FieldError> {
        let mut closed_weekdays = Vec::new();
        for &weekday in &request.closed_weekdays {
            let weekday =
                u32::try_from(weekday).ok().filter(|weekday| (1..=7).contains(weekday)).ok_or_else(|| {
                    FieldError::new(
                        "closed_weekdays",
                        format!("{weekday} is not a weekday number (1 = Monday … 7 = Sunday)"),
                    )
                })?;
            if !closed_weekdays.contains(&weekday) {
                closed_weekdays.push(weekday);
            }
        }
        closed_weekdays.sort_unstable();
        if closed_weekdays.len() == 7 {
            return Err(FieldError::new("closed_weekdays", "must leave at least one weekday open"));
        }

        if request.closures.len() > MAX_CLOSURES {
            return Err(FieldError::new("closures", format!("has more than {MAX_CLOSURES} entries")));
        }
        let mut closures = Vec::with_capacity(request.closures.len());
        for (index, closure) in (1..).zip(&request.closures) {
            let (first_day, last_day) = range("closures", index, &closure.first_day, &closure.last_day)?;
            let kind = match pb::ClosureKind::try_from(closure.kind) {
                Ok(pb::ClosureKind::Holiday) => ClosureKind::Holiday,
                Ok(pb::ClosureKind::TermBreak) => ClosureKind::TermBreak,
                _ => {
                    return Err(FieldError::new(
                        "closures",
                        format!("entry {index}: kind must be HOLIDAY or TERM_BREAK"),
                    ));
                }
            };
            let name = name("closures", index, &closure.name)?;
            closures.push(Closure { first_day, last_day, kind, name });
        }
        closures.sort_by_key(|closure| (closure.first_day, closure.last_day));
        closures.dedup_by_key(|closure| (closure.first_day, closure.last_day));

        if request.terms.len() > MAX_TERMS {
            return Err(FieldError::new("terms", format!("has more than {MAX_TERMS} entries")));
        }
        let mut terms = Vec::with_capacity(request.terms.len());
        for (index, term) in (1..).zip(&request.terms) {
            let (first_day, last_day) = range("terms", index, &term.first_day, &term.last_day)?;
            terms.push(Term { name: name("terms", index, &term.name)?, first_day, last_day });
        }
        terms.sort_by_key(|term| term.first_day);
        if let Some(pair) = terms.windows(2).find(|pair| pair[1].first_day <= pair[0].last_day) {
            return Err(FieldError::new("terms", format!("{} and {} overlap", pair[0].name, pair[1].name)));
        }
        Ok(Self { closed_weekdays, closures, terms })
    }
}

/// The first and last day of entry `index` (counted from 1) of `field`.
fn range(
    field: &'static str,
    index: usize,
    first_day: &str,
    last_day: &str,
) -> Result<(NaiveDate, NaiveDate), FieldError> {
    let day = |name: &str, value: &str| {
        validate::optional_date(field, value).ok().flatten().ok_or_else(|| {
            FieldError::new(field, format!("entry {index}: {name} is not a date of the form YYYY-MM-DD"))
        })
    };
    let first = day("first_day", first_day)?;
    let last = day("last_day", last_day)?;
    if last < first {
        return Err(FieldError::new(field, format!("entry {index}: last_day is before first_day")));
    }
    if (last - first).num_days() >= MAX_RANGE_DAYS as i64 {
        return Err(FieldError::new(field, format!("entry {index}: is longer than {MAX_RANGE_DAYS} days")));
    }
    Ok((first, last))
}

fn name(field: &'static str, index: usize, value: &str) -> Result<String, FieldError> {
    validate::required_text(field, value, MAX_NAME_CHARS)
        .map_err(|error| FieldError::new(field, format!("entry {index}: name {}", error.problem)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::fixtures::day;

    fn closure(first_day: &str, last_day: &str, kind: pb::ClosureKind, name: &str) -> pb::Closure {
        pb::Closure {
            first_day: first_day.into(),
            last_day: last_day.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    fn weekends_and_national_day() -> SchoolCalendar {
        SchoolCalendar::from_request(&pb::SchoolCalendar {
            closed_weekdays: vec![7, 6, 6],
            closures: vec![closure("2026-10-01", "2026-10-07", pb::ClosureKind::Holiday, "国庆节")],
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn a_school_without_a_calendar_is_open_every_day() {
        let calendar = SchoolCalendar::default();
        assert_eq!(calendar.next_open_day(day("2026-10-03")), day("2026-10-03"));
    }

    #[test]
    fn closed_days_move_to_the_next_open_day() {
        let calendar = weekends_and_national_day();
        assert_eq!(calendar.closed_weekdays, [6, 7]);
        // Friday is open; Saturday and Sunday move to Monday.
        assert_eq!(calendar.next_open_day(day("2026-11-27")), day("2026-11-27"));
        assert_eq!(calendar.next_open_day(day("2026-11-28")), day("2026-11-30"));
        assert_eq!(calendar.next_open_day(day("2026-11-29")), day("2026-11-30"));
        // National Day week (Thursday 1st to Wednesday 7th) moves to Thursday 8th.
        assert_eq!(calendar.next_open_day(day("2026-09-30")), day("2026-09-30"));
        assert_eq!(calendar.next_open_day(day("2026-10-01")), day("2026-10-08"));
        assert_eq!(calendar.next_open_day(day("2026-10-07")), day("2026-10-08"));
    }

    #[test]
    fn a_break_ending_on_a_friday_moves_past_the_weekend() {
        let mut calendar = weekends_and_national_day();
        calendar.closures.push(Closure {
            first_day: day("2027-01-18"),
            last_day: day("2027-02-26"),
            kind: ClosureKind::TermBreak,
            name: "寒假".into(),
        });
        assert_eq!(calendar.next_open_day(day("2027-02-01")), day("2027-03-01"));
    }

    #[test]
    fn bad_calendars_are_refused_with_the_field_named() {
        let refused =
            |calendar: pb::SchoolCalendar| SchoolCalendar::from_request(&calendar).unwrap_err().to_string();
        assert_eq!(
            refused(pb::SchoolCalendar { closed_weekdays: vec![0], ..Default::default() }),
            "closed_weekdays: 0 is not a weekday number (1 = Monday … 7 = Sunday)"
        );
        assert_eq!(
            refused(pb::SchoolCalendar { closed_weekdays: (1..=7).collect(), ..Default::default() }),
            "closed_weekdays: must leave at least one weekday open"
        );
        let one = |closure: pb::Closure| pb::SchoolCalendar { closures: vec![closure], ..Default::default() };
        assert_eq!(
            refused(one(closure("2026-10-07", "2026-10-01", pb::ClosureKind::Holiday, "国庆节"))),
            "closures: entry 1: last_day is before first_day"
        );
        assert_eq!(
            refused(one(closure("2026-10-01", "10/07/2026", pb::ClosureKind::Holiday, "国庆节"))),
            "closures: entry 1: last_day is not a date of the form YYYY-MM-DD"
        );
        assert_eq!(
            refused(one(closure("2026-01-01", "2027-01-02", pb::ClosureKind::Holiday, "一年"))),
            "closures: entry 1: is longer than 366 days"
        );
        assert_eq!(
            refused(one(closure("2026-10-01", "2026-10-07", pb::ClosureKind::Unspecified, "国庆节"))),
            "closures: entry 1: kind must be HOLIDAY or TERM_BREAK"
        );
        assert_eq!(
            refused(one(closure("2026-10-01", "2026-10-07", pb::ClosureKind::Holiday, "  "))),
            "closures: entry 1: name is required"
        );
        let terms = vec![
            pb::Term {
                name: "秋季学期".into(),
                first_day: "2026-09-01".into(),
                last_day: "2027-01-15".into(),
            },
            pb::Term {
                name: "春季学期".into(),
                first_day: "2027-01-15".into(),
                last_day: "2027-07-02".into(),
            },
        ];
        assert_eq!(
            refused(pb::SchoolCalendar { terms, ..Default::default() }),
            "terms: 秋季学期 and 春季学期 overlap"
        );
        let many =
            vec![closure("2026-10-01", "2026-10-07", pb::ClosureKind::Holiday, "假"); MAX_CLOSURES + 1];
        assert_eq!(refused(one_of(many)), "closures: has more than 200 entries");
    }

    fn one_of(closures: Vec<pb::Closure>) -> pb::SchoolCalendar {
        pb::SchoolCalendar { closures, ..Default::default() }
    }

    #[test]
    fn an_always_closed_stretch_leaves_the_due_day_where_it_was() {
        let mut calendar = SchoolCalendar::default();
        for year in 2026..2029 {
            calendar.closures.push(Closure {
                first_day: NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
                last_day: NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
                kind: ClosureKind::Holiday,
                name: "closed".into(),
            });
        }
        assert_eq!(calendar.next_open_day(day("2026-03-02")), day("2026-03-02"));
    }
}
