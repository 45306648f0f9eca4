//! What a late return costs: the open days a copy came back after its due
//! day (days the library is closed do not count), the fine those days earn
//! after the rule's grace days, capped, and the days of no borrowing a rule
//! may give instead. Plain functions, no I/O.

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::policy::calendar::SchoolCalendar;
use crate::policy::due::local_date;
use crate::policy::rule::Terms;

/// Longest lateness counted, in calendar days: a copy back after ten years
/// is charged as one ten years late, and the count stays cheap.
const MAX_COUNTED_DAYS: u64 = 3_660;

/// What a late return costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lateness {
    /// Open days after the due day, up to and including the return day.
    pub open_days: u32,
    /// Of those, the days past the grace days: the ones that cost.
    pub charged_days: u32,
    /// The fine, in minor units, capped by the rule (0: none).
    pub fine: i64,
    /// The last day the reader may not borrow, if the rule suspends.
    pub suspended_until: Option<NaiveDate>,
}

/// What returning at `returned_at` a loan due at `due_at` costs under
/// `terms`, at a school with `calendar`, in `zone`.
pub fn lateness(
    due_at: DateTime<Utc>,
    returned_at: DateTime<Utc>,
    zone: Tz,
    calendar: &SchoolCalendar,
    terms: &Terms,
) -> Lateness {
    if returned_at <= due_at {
        return Lateness::default();
    }
    let due_on = local_date(due_at, zone);
    let returned_on = local_date(returned_at, zone);
    let open_days = (1..=MAX_COUNTED_DAYS)
        .map_while(|ahead| due_on.checked_add_days(Days::new(ahead)))
        .take_while(|day| *day <= returned_on)
        .filter(|day| calendar.is_open(*day))
        .count();
    let open_days = u32::try_from(open_days).unwrap_or(u32::MAX);
    let charged_days = open_days.saturating_sub(terms.grace_days);
    let uncapped = terms.fine_per_open_day.saturating_mul(i64::from(charged_days));
    let fine = if terms.fine_cap > 0 { uncapped.min(terms.fine_cap) } else { uncapped };
    let suspension_days = u64::from(charged_days) * u64::from(terms.suspension_days_per_overdue_day);
    let suspended_until =
        (suspension_days > 0).then(|| returned_on.checked_add_days(Days::new(suspension_days))).flatten();
    Lateness { open_days, charged_days, fine, suspended_until }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::calendar::{Closure, ClosureKind};
    use crate::policy::due::end_of_local_day;
    use crate::policy::fixtures::{ZONE, at, day};

    fn terms(per_day: i64, cap: i64, grace_days: u32, suspension: u32) -> Terms {
        Terms {
            renewals: 0,
            no_renewal_when_held: false,
            grace_days,
            fine_per_open_day: per_day,
            fine_cap: cap,
            suspension_days_per_overdue_day: suspension,
            max_holds: 0,
            ..Terms::plain()
        }
    }

    fn weekends_and_a_holiday() -> SchoolCalendar {
        SchoolCalendar {
            closed_weekdays: vec![6, 7],
            closures: vec![Closure {
                first_day: day("2026-10-01"),
                last_day: day("2026-10-07"),
                kind: ClosureKind::Holiday,
                name: "国庆节".into(),
            }],
            ..SchoolCalendar::default()
        }
    }

    #[test]
    fn on_time_costs_nothing() {
        let due = end_of_local_day(day("2026-09-14"), ZONE);
        let open = SchoolCalendar::default();
        assert_eq!(lateness(due, at("2026-09-14"), ZONE, &open, &terms(10, 0, 0, 0)), Lateness::default());
        assert_eq!(lateness(due, due, ZONE, &open, &terms(10, 0, 0, 0)), Lateness::default());
    }

    #[test]
    fn only_open_days_count() {
        // Due Wednesday 30 September; back Friday 9 October. In between:
        // the National Day week (1–7 October, closed) and a weekend (3–4,
        // inside it). Open late days: Thursday 8 and Friday 9.
        let due = end_of_local_day(day("2026-09-30"), ZONE);
        let late = lateness(due, at("2026-10-09"), ZONE, &weekends_and_a_holiday(), &terms(10, 0, 0, 0));
        assert_eq!((late.open_days, late.charged_days, late.fine), (2, 2, 20));
        // With every day open it would be 9 days.
        let open = lateness(due, at("2026-10-09"), ZONE, &SchoolCalendar::default(), &terms(10, 0, 0, 0));
        assert_eq!((open.open_days, open.fine), (9, 90));
    }

    #[test]
    fn grace_days_are_free_and_the_cap_holds() {
        let due = end_of_local_day(day("2026-03-02"), ZONE);
        let open = SchoolCalendar::default();
        // 5 open days late, 2 of grace: 3 charged at 0.20.
        let late = lateness(due, at("2026-03-07"), ZONE, &open, &terms(20, 0, 2, 0));
        assert_eq!((late.open_days, late.charged_days, late.fine), (5, 3, 60));
        // Within the grace days nothing is charged.
        assert_eq!(lateness(due, at("2026-03-04"), ZONE, &open, &terms(20, 0, 2, 0)).fine, 0);
        // 100 days at 0.20 is 20.00, capped at 5.00.
        assert_eq!(lateness(due, at("2026-06-10"), ZONE, &open, &terms(20, 500, 0, 0)).fine, 500);
        // No fine per day, no fine, however late.
        assert_eq!(lateness(due, at("2027-06-10"), ZONE, &open, &terms(0, 0, 0, 0)).fine, 0);
    }

    #[test]
    fn a_rule_may_suspend_instead() {
        let due = end_of_local_day(day("2026-03-02"), ZONE);
        let late = lateness(due, at("2026-03-05"), ZONE, &SchoolCalendar::default(), &terms(0, 0, 1, 2));
        // 3 open days late, 1 of grace: 2 charged days × 2 = 4 days from the return day.
        assert_eq!((late.fine, late.suspended_until), (0, Some(day("2026-03-09"))));
    }

    #[test]
    fn a_copy_back_after_years_is_counted_without_overflow() {
        let due = end_of_local_day(day("2000-01-01"), ZONE);
        let late =
            lateness(due, at("2026-01-01"), ZONE, &SchoolCalendar::default(), &terms(i64::MAX, 0, 0, 30));
        assert_eq!(late.open_days, 3_660);
        assert_eq!(late.fine, i64::MAX);
        assert!(late.suspended_until.is_some());
    }
}
