//! When a loan is due. A loan lasts a number of days counted in the school's
//! time zone: the due day is the local day of the check-out plus the loan
//! period, and the loan is due at the very end of that local day, so a book
//! lent late in the evening is not a day short. A due day on which the
//! school's library is closed moves to its next open day. Plain functions,
//! no I/O.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use lectern_core::validate::FieldError;

use crate::policy::calendar::SchoolCalendar;
use crate::policy::rule::LoanPeriod;

/// When a loan is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The due day in the school's time zone, as printed on slips.
    pub date: NaiveDate,
    /// The end of that day (23:59:59 local), in UTC.
    pub at: DateTime<Utc>,
}

impl Due {
    /// The due day as "YYYY-MM-DD".
    pub fn date_text(&self) -> String {
        crate::policy::calendar::day_text(self.date)
    }
}

/// The local calendar day of `instant` in `zone`.
pub fn local_date(instant: DateTime<Utc>, zone: Tz) -> NaiveDate {
    instant.with_timezone(&zone).date_naive()
}

/// When a loan made at `checked_out_at` for `loan_period_days` is due at a
/// school with `calendar`.
pub fn due(checked_out_at: DateTime<Utc>, loan_period_days: u32, zone: Tz, calendar: &SchoolCalendar) -> Due {
    let lent_on = local_date(checked_out_at, zone);
    let date = lent_on.checked_add_days(Days::new(u64::from(loan_period_days))).unwrap_or(NaiveDate::MAX);
    let date = calendar.next_open_day(date);
    Due { date, at: end_of_local_day(date, zone) }
}

/// When a loan made at `checked_out_at` under a rule's `period` is due at
/// a school with `calendar`, and how that was worked out, for the desk.
pub fn due_under(
    period: LoanPeriod,
    checked_out_at: DateTime<Utc>,
    zone: Tz,
    calendar: &SchoolCalendar,
) -> (Due, String) {
    let moved =
        |due: Due, planned: NaiveDate| if due.date == planned { "" } else { ", moved off closed days" };
    match period {
        LoanPeriod::Days(days) => {
            let planned = local_date(checked_out_at, zone) + Days::new(u64::from(days));
            let due = due(checked_out_at, days, zone, calendar);
            (due, format!("{days} days{}", moved(due, planned)))
        }
        LoanPeriod::Hours(hours) => {
            let at = checked_out_at + chrono::Duration::hours(i64::from(hours));
            (Due { date: local_date(at, zone), at }, format!("{hours} hours"))
        }
        LoanPeriod::EndOfTerm { fallback_days } => {
            let lent_on = local_date(checked_out_at, zone);
            match calendar.term_on(lent_on) {
                Some(term) => {
                    let date = calendar.next_open_day(term.last_day);
                    let due = Due { date, at: end_of_local_day(date, zone) };
                    (due, format!("end of term {}{}", term.name, moved(due, term.last_day)))
                }
                None => {
                    let (due, how) =
                        due_under(LoanPeriod::Days(fallback_days), checked_out_at, zone, calendar);
                    (due, format!("{how} (no term on the day of the loan)"))
                }
            }
        }
    }
}

/// The local days `first` to `last` (both included) in `zone`, as UTC
/// instants: from the first instant of `first` up to, not including, the
/// first instant of the day after `last`. What "today" or a report's days
/// cover.
pub fn local_days(first: NaiveDate, last: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = first.pred_opt().map_or(DateTime::<Utc>::MIN_UTC, |day| end_of_local_day(day, zone));
    let end = end_of_local_day(last, zone);
    (start + chrono::Duration::seconds(1), end + chrono::Duration::seconds(1))
}

/// 23:59:59 local time on `date`, in UTC.
pub fn end_of_local_day(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let last_second = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
    let mut local = NaiveDateTime::new(date, last_second);
    // A daylight-saving jump can skip 23:59:59 in a few zones; the latest
    // local time that exists before it is then the end of the day. Where the
    // hour repeats, the later instant gives the reader the benefit.
    for _ in 0..=180 {
        if let Some(instant) = zone.from_local_datetime(&local).latest() {
            return instant.with_timezone(&Utc);
        }
        local -= chrono::Duration::minutes(1);
    }
    Utc.from_utc_datetime(&NaiveDateTime::new(date, last_second))
}

/// Longest look-ahead of a due-soon list, in days.
pub const MAX_DUE_SOON_DAYS: i32 = 60;

/// The due times a school's list covers: from `from` (if any) up to,
/// not including, `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueWindow {
    pub from: Option<NaiveDateTime>,
    pub before: NaiveDateTime,
}

/// The window of a list at `now`: overdue loans (due before now) for
/// `due_within_days` 0, else loans not yet overdue whose due day (in
/// `zone`, as printed on slips) is at most that many days after today, so
/// 1 lists today's and tomorrow's. A due day ends at its last local
/// instant, so the window ends where the day after the last one begins.
pub fn listed_window(due_within_days: i32, now: DateTime<Utc>, zone: Tz) -> Result<DueWindow, FieldError> {
    match due_within_days {
        0 => Ok(DueWindow { from: None, before: now.naive_utc() }),
        days @ 1..=MAX_DUE_SOON_DAYS => {
            let today = local_date(now, zone);
            let last =
                today.checked_add_days(Days::new(u64::from(days.unsigned_abs()))).unwrap_or(NaiveDate::MAX);
            let (_, before) = local_days(today, last, zone);
            Ok(DueWindow { from: Some(now.naive_utc()), before: before.naive_utc() })
        }
        _ => Err(FieldError::new(
            "due_within_days",
            format!("must be 0 (overdue) or 1 to {MAX_DUE_SOON_DAYS}"),
        )),
    }
}

/// Whether a loan due at `due_at` is overdue at `now`.
pub fn is_overdue(due_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > due_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::fixtures::day;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn open() -> SchoolCalendar {
        SchoolCalendar::default()
    }

    #[test]
    fn a_due_day_on_a_closed_day_moves_to_the_next_open_day() {
        let weekends = SchoolCalendar { closed_weekdays: vec![6, 7], ..SchoolCalendar::default() };
        // Lent on Friday 13 March 2026 (Shanghai) for 14 days: due Friday 27th, open.
        let friday = due(utc("2026-03-13T02:00:00Z"), 14, chrono_tz::Asia::Shanghai, &weekends);
        assert_eq!(friday.date, day("2026-03-27"));
        // Lent on Saturday for 14 days: due Saturday 28th, closed, so Monday 30th, at its end.
        let saturday = due(utc("2026-03-14T02:00:00Z"), 14, chrono_tz::Asia::Shanghai, &weekends);
        assert_eq!(saturday.date, day("2026-03-30"));
        assert_eq!(saturday.at, utc("2026-03-30T15:59:59Z"));
    }

    #[test]
    fn a_rule_sets_the_due_time_by_days_hours_or_the_end_of_term() {
        let calendar = SchoolCalendar {
            closed_weekdays: vec![6, 7],
            terms: vec![crate::policy::calendar::Term {
                name: "2026 春季学期".into(),
                first_day: day("2026-02-23"),
                // A Saturday: the due day moves to Monday.
                last_day: day("2026-07-04"),
            }],
            ..SchoolCalendar::default()
        };
        let zone = chrono_tz::Asia::Shanghai;
        let friday = utc("2026-03-13T02:00:00Z");
        let (days, how) = due_under(LoanPeriod::Days(14), friday, zone, &calendar);
        assert_eq!((days.date, how.as_str()), (day("2026-03-27"), "14 days"));
        let (moved, how) = due_under(LoanPeriod::Days(15), friday, zone, &calendar);
        assert_eq!((moved.date, how.as_str()), (day("2026-03-30"), "15 days, moved off closed days"));
        let (hours, how) = due_under(LoanPeriod::Hours(2), friday, zone, &calendar);
        assert_eq!((hours.at, how.as_str()), (utc("2026-03-13T04:00:00Z"), "2 hours"));
        assert_eq!(hours.date, day("2026-03-13"));
        let (term, how) = due_under(LoanPeriod::EndOfTerm { fallback_days: 7 }, friday, zone, &calendar);
        assert_eq!(term.date, day("2026-07-06"));
        assert_eq!(how, "end of term 2026 春季学期, moved off closed days");
        // In the summer break no term covers the day: the fallback days apply.
        let summer = utc("2026-07-15T02:00:00Z");
        let (fallback, how) = due_under(LoanPeriod::EndOfTerm { fallback_days: 7 }, summer, zone, &calendar);
        assert_eq!(fallback.date, day("2026-07-22"));
        assert_eq!(how, "7 days (no term on the day of the loan)");
    }

    #[test]
    fn an_evening_loan_in_shanghai_counts_from_the_next_local_day() {
        // 17:00 UTC is 01:00 on 2 March in Shanghai (UTC+8).
        let due = due(utc("2026-03-01T17:00:00Z"), 14, chrono_tz::Asia::Shanghai, &open());
        assert_eq!(due.date, day("2026-03-16"));
        assert_eq!(due.date_text(), "2026-03-16");
        assert_eq!(due.at, utc("2026-03-16T15:59:59Z"));
    }

    #[test]
    fn the_last_second_of_a_local_day_still_counts_from_that_day() {
        let due = due(utc("2026-03-01T15:59:59Z"), 14, chrono_tz::Asia::Shanghai, &open());
        assert_eq!(due.date, day("2026-03-15"));
        assert_eq!(due.at, utc("2026-03-15T15:59:59Z"));
        // One second later it is already 2 March locally.
        let later = super::due(utc("2026-03-01T16:00:00Z"), 14, chrono_tz::Asia::Shanghai, &open());
        assert_eq!(later.date, day("2026-03-16"));
    }

    #[test]
    fn the_period_crosses_months_and_years() {
        let due = due(utc("2026-12-25T02:00:00Z"), 14, chrono_tz::Asia::Shanghai, &open());
        assert_eq!(due.date, day("2027-01-08"));
        let one_day = super::due(utc("2026-02-28T04:00:00Z"), 1, chrono_tz::Asia::Shanghai, &open());
        assert_eq!(one_day.date, day("2026-03-01"));
    }

    #[test]
    fn other_zones_use_their_own_day() {
        // 2026-03-01T17:00Z is still 1 March in New York.
        let due = due(utc("2026-03-01T17:00:00Z"), 14, chrono_tz::America::New_York, &open());
        assert_eq!(due.date, day("2026-03-15"));
        // 15 March is after the DST change: UTC-4, so 23:59:59 is 03:59:59Z next day.
        assert_eq!(due.at, utc("2026-03-16T03:59:59Z"));
    }

    #[test]
    fn lists_cover_overdue_or_the_next_days() {
        let zone = chrono_tz::Asia::Shanghai;
        // 16:00 in Shanghai on 16 March.
        let now = utc("2026-03-16T08:00:00Z");
        let overdue = listed_window(0, now, zone).unwrap();
        assert_eq!((overdue.from, overdue.before), (None, now.naive_utc()));
        // Three days: due on the 16th (later today) to the 19th, whole days.
        let soon = listed_window(3, now, zone).unwrap();
        assert_eq!(soon.from, Some(now.naive_utc()));
        assert_eq!(soon.before, utc("2026-03-19T16:00:00Z").naive_utc());
        assert_eq!(
            listed_window(61, now, zone).unwrap_err().to_string(),
            "due_within_days: must be 0 (overdue) or 1 to 60"
        );
        assert!(listed_window(-1, now, zone).is_err());
    }

    #[test]
    fn a_loan_due_n_days_ahead_falls_due_within_n_days_not_n_minus_one() {
        let zone = chrono_tz::Asia::Shanghai;
        let calendar = open();
        // Lent on 2 March for 14 days: due at the end of 16 March.
        let due_at = due(utc("2026-03-02T02:00:00Z"), 14, zone, &calendar).at.naive_utc();
        let within = |days, now| {
            let window = listed_window(days, utc(now), zone).unwrap();
            window.from.is_none_or(|from| due_at >= from) && due_at < window.before
        };
        // On the 15th, early and late in the (local) day: due tomorrow.
        for now in ["2026-03-14T16:00:00Z", "2026-03-15T15:59:59Z"] {
            assert!(within(1, now), "tomorrow's at {now}");
            assert!(within(2, now));
        }
        // On the 14th it is two days ahead: not within one.
        assert!(within(2, "2026-03-14T08:00:00Z"));
        assert!(!within(1, "2026-03-14T08:00:00Z"));
        // On the day itself it is due today; once past, it is overdue only.
        assert!(within(1, "2026-03-16T15:59:59Z"));
        assert!(!within(1, "2026-03-16T16:00:00Z"));
    }

    #[test]
    fn overdue_only_after_the_due_instant() {
        let due_at = utc("2026-03-16T15:59:59Z");
        assert!(!is_overdue(due_at, utc("2026-03-16T15:59:59Z")));
        assert!(is_overdue(due_at, utc("2026-03-16T16:00:00Z")));
        assert!(!is_overdue(due_at, utc("2026-03-10T00:00:00Z")));
    }

    #[test]
    fn local_dates_around_midnight() {
        assert_eq!(local_date(utc("2026-03-01T15:59:59Z"), chrono_tz::Asia::Shanghai), day("2026-03-01"));
        assert_eq!(local_date(utc("2026-03-01T16:00:00Z"), chrono_tz::Asia::Shanghai), day("2026-03-02"));
    }

    #[test]
    fn a_local_day_runs_from_local_midnight_to_local_midnight() {
        let (from, before) = local_days(day("2026-09-01"), day("2026-09-01"), chrono_tz::Asia::Shanghai);
        assert_eq!((from, before), (utc("2026-08-31T16:00:00Z"), utc("2026-09-01T16:00:00Z")));
    }
}
