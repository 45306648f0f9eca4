//! When reminders are due: the day of each trigger for a loan or a held
//! copy, counted in calendar days or in the library's open days, which one
//! is due on a school day, whether the library is closed that day, and
//! when quiet hours end. Plain functions over plain types, no I/O: the
//! planner (`plan.rs`) gathers the settings, the calendar and the clock and
//! asks these.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use lectern_proto::circulation::v1::SchoolCalendar;
use lectern_proto::notification::v1::Trigger;

use crate::settings::SchoolSettings;

/// How far open-day counting looks before it gives up and counts calendar
/// days: a calendar closed for over a year is a mistake, not a reason to
/// loop.
const MOST_DAYS_SEARCHED: i32 = 400;

/// The days a school's library is closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    /// ISO weekday numbers, 1 = Monday … 7 = Sunday.
    closed_weekdays: Vec<u32>,
    /// Holidays and term breaks, both ends included.
    closures: Vec<(NaiveDate, NaiveDate)>,
}

impl Calendar {
    /// A library open every day (a school without a calendar).
    pub fn always_open() -> Self {
        Self::default()
    }

    /// A calendar from closed weekdays and closed ranges.
    pub fn new(closed_weekdays: Vec<u32>, closures: Vec<(NaiveDate, NaiveDate)>) -> Self {
        Self { closed_weekdays, closures }
    }

    /// The calendar circulation keeps. Days that do not parse are left out
    /// (circulation checks them when they are saved).
    pub fn from_proto(calendar: &SchoolCalendar) -> Self {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        Self::new(
            calendar
                .closed_weekdays
                .iter()
                .filter_map(|weekday| u32::try_from(*weekday).ok())
                .filter(|weekday| (1..=7).contains(weekday))
                .collect(),
            calendar
                .closures
                .iter()
                .filter_map(|closure| Some((day(&closure.first_day)?, day(&closure.last_day)?)))
                .collect(),
        )
    }

    /// Whether the library is closed on `day`.
    pub fn is_closed(&self, day: NaiveDate) -> bool {
        self.closed_weekdays.contains(&day.weekday().number_from_monday())
            || self.closures.iter().any(|(first, last)| *first <= day && day <= *last)
    }
}

/// The day `days` days after `from` (before it when negative), counted in
/// calendar days or, with `open_days_only`, in days the library is open.
/// Counting open days, "1 day after" is the first open day after `from`.
pub fn shift(from: NaiveDate, days: i32, open_days_only: bool, calendar: &Calendar) -> NaiveDate {
    if !open_days_only || days == 0 {
        return from + Duration::days(i64::from(days));
    }
    let step = Duration::days(if days > 0 { 1 } else { -1 });
    let mut day = from;
    let mut left = days.abs();
    let mut searched = 0;
    while left > 0 {
        day += step;
        searched += 1;
        if searched > MOST_DAYS_SEARCHED {
            return from + Duration::days(i64::from(days));
        }
        if !calendar.is_closed(day) {
            left -= 1;
        }
    }
    day
}

/// Every reminder a loan due on `due` has, with its day, in the order
/// they go out. Triggers a school turned off are absent.
pub fn loan_triggers(
    due: NaiveDate,
    settings: &SchoolSettings,
    calendar: &Calendar,
) -> Vec<(Trigger, NaiveDate)> {
    let open_days_only = settings.open_days_only;
    let mut triggers = Vec::new();
    if settings.due_soon_days > 0 {
        triggers.push((Trigger::DueSoon, shift(due, -settings.due_soon_days, open_days_only, calendar)));
    }
    if settings.due_today {
        triggers.push((Trigger::DueToday, due));
    }
    let overdue = [Trigger::Overdue1, Trigger::Overdue2, Trigger::Overdue3];
    for (trigger, days) in overdue.into_iter().zip(settings.overdue_days()) {
        triggers.push((trigger, shift(due, days, open_days_only, calendar)));
    }
    triggers
}

/// The reminder of a loan due on `due` that is due on `today`: the latest
/// whose day has come. Earlier ones that were missed (a holiday, a loan
/// scheduled late) are not sent late, and "due soon" or "due today" never
/// goes out once the due day has passed.
pub fn due_loan_trigger(
    due: NaiveDate,
    today: NaiveDate,
    settings: &SchoolSettings,
    calendar: &Calendar,
) -> Option<(Trigger, NaiveDate)> {
    loan_triggers(due, settings, calendar)
        .into_iter()
        .filter(|(trigger, day)| {
            let before_due = matches!(trigger, Trigger::DueSoon | Trigger::DueToday);
            *day <= today && (!before_due || today <= due)
        })
        .max_by_key(|(trigger, day)| (*day, *trigger as i32))
}

/// The day of the "hold expiring" reminder of a copy waiting until
/// `expires_on`; `None` when the school turned it off.
pub fn hold_expiring_day(
    expires_on: NaiveDate,
    settings: &SchoolSettings,
    calendar: &Calendar,
) -> Option<NaiveDate> {
    (settings.hold_expiring_days > 0)
        .then(|| shift(expires_on, -settings.hold_expiring_days, settings.open_days_only, calendar))
}

/// Whether the "hold expiring" reminder of a copy waiting until
/// `expires_on` is due on `today` (its day has come, the copy still waits).
pub fn hold_expiring_due(
    expires_on: NaiveDate,
    today: NaiveDate,
    settings: &SchoolSettings,
    calendar: &Calendar,
) -> bool {
    hold_expiring_day(expires_on, settings, calendar).is_some_and(|day| day <= today && today <= expires_on)
}

/// Whether nothing is planned for the school on `today`: the library is
/// closed and the school does not send on closed days.
pub fn quiet_day(today: NaiveDate, settings: &SchoolSettings, calendar: &Calendar) -> bool {
    !settings.send_on_closed_days && calendar.is_closed(today)
}

/// The school day of an instant in the schools' time zone.
pub fn school_day(at: DateTime<Utc>, zone: chrono_tz::Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// The first instant at or after `now` outside quiet hours (`start`, `end`
/// as local times of `zone`; quiet hours may run over midnight). `None`
/// quiet hours: `now`.
pub fn next_allowed(
    now: DateTime<Utc>,
    quiet: Option<(NaiveTime, NaiveTime)>,
    zone: chrono_tz::Tz,
) -> DateTime<Utc> {
    let Some((start, end)) = quiet else {
        return now;
    };
    let local = now.with_timezone(&zone);
    let (date, time) = (local.date_naive(), local.time());
    let end_day = if start < end {
        // Quiet within one day (e.g. 12:00–14:00).
        if start <= time && time < end { Some(date) } else { None }
    } else if time >= start {
        // Over midnight (e.g. 21:00–07:30), evening part: ends tomorrow.
        date.succ_opt()
    } else if time < end {
        // Over midnight, morning part: ends today.
        Some(date)
    } else {
        None
    };
    let Some(end_day) = end_day else {
        return now;
    };
    let end_local = end_day.and_time(end);
    match zone.from_local_datetime(&end_local).earliest() {
        Some(at) => at.with_timezone(&Utc),
        // The end falls in a daylight-saving gap: an hour later exists.
        None => zone
            .from_local_datetime(&(end_local + Duration::hours(1)))
            .earliest()
            .map_or(now, |at| at.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn defaults() -> SchoolSettings {
        SchoolSettings::defaults("school-1")
    }

    /// Closed on Saturdays and Sundays, and for the week of 2026-12-21.
    fn weekdays_with_a_break() -> Calendar {
        Calendar::new(vec![6, 7], vec![(day("2026-12-21"), day("2026-12-27"))])
    }

    #[test]
    fn the_calendar_knows_weekends_and_breaks() {
        let calendar = weekdays_with_a_break();
        assert!(calendar.is_closed(day("2026-12-12"))); // Saturday
        assert!(!calendar.is_closed(day("2026-12-14"))); // Monday
        assert!(calendar.is_closed(day("2026-12-21")) && calendar.is_closed(day("2026-12-27")));
        assert!(!calendar.is_closed(day("2026-12-28")));
        assert!(!Calendar::always_open().is_closed(day("2026-12-12")));
    }

    #[test]
    fn a_calendar_reads_from_circulation_and_skips_what_does_not_parse() {
        use lectern_proto::circulation::v1::Closure;
        let calendar = Calendar::from_proto(&SchoolCalendar {
            closed_weekdays: vec![7, 9],
            closures: vec![
                Closure {
                    first_day: "2026-10-01".into(),
                    last_day: "2026-10-07".into(),
                    ..Default::default()
                },
                Closure { first_day: "soon".into(), last_day: "2026-10-07".into(), ..Default::default() },
            ],
            ..Default::default()
        });
        assert_eq!(calendar, Calendar::new(vec![7], vec![(day("2026-10-01"), day("2026-10-07"))]));
    }

    #[test]
    fn calendar_days_count_every_day() {
        let calendar = weekdays_with_a_break();
        assert_eq!(shift(day("2026-12-11"), 1, false, &calendar), day("2026-12-12"));
        assert_eq!(shift(day("2026-12-11"), -2, false, &calendar), day("2026-12-09"));
    }

    #[test]
    fn open_days_skip_weekends_and_breaks_both_ways() {
        let calendar = weekdays_with_a_break();
        // Friday + 1 open day = Monday.
        assert_eq!(shift(day("2026-12-11"), 1, true, &calendar), day("2026-12-14"));
        // Monday - 2 open days = Thursday.
        assert_eq!(shift(day("2026-12-14"), -2, true, &calendar), day("2026-12-10"));
        // Friday before the break + 1 = the Monday after it.
        assert_eq!(shift(day("2026-12-18"), 1, true, &calendar), day("2026-12-28"));
        assert_eq!(shift(day("2026-12-18"), 0, true, &calendar), day("2026-12-18"));
    }

    #[test]
    fn a_calendar_closed_for_ever_falls_back_to_calendar_days() {
        let closed = Calendar::new(vec![1, 2, 3, 4, 5, 6, 7], Vec::new());
        assert_eq!(shift(day("2026-12-11"), 3, true, &closed), day("2026-12-14"));
    }

    #[test]
    fn a_loan_has_its_triggers_in_order_with_the_default_days() {
        let triggers = loan_triggers(day("2026-12-15"), &defaults(), &Calendar::always_open());
        assert_eq!(
            triggers,
            vec![
                (Trigger::DueSoon, day("2026-12-13")),
                (Trigger::DueToday, day("2026-12-15")),
                (Trigger::Overdue1, day("2026-12-16")),
                (Trigger::Overdue2, day("2026-12-22")),
                (Trigger::Overdue3, day("2026-12-29")),
            ]
        );
    }

    #[test]
    fn triggers_a_school_turned_off_are_absent() {
        let mut settings = defaults();
        settings.due_soon_days = 0;
        settings.due_today = false;
        settings.overdue_days = "3".into();
        let triggers = loan_triggers(day("2026-12-15"), &settings, &Calendar::always_open());
        assert_eq!(triggers, vec![(Trigger::Overdue1, day("2026-12-18"))]);
    }

    #[test]
    fn counting_open_days_moves_the_trigger_days() {
        let mut settings = defaults();
        settings.open_days_only = true;
        // Due Monday 14th: due soon 2 open days before = Thursday 10th
        // (the weekend does not count); overdue 1 open day after = Tuesday.
        let triggers = loan_triggers(day("2026-12-14"), &settings, &weekdays_with_a_break());
        assert_eq!(triggers[0], (Trigger::DueSoon, day("2026-12-10")));
        assert_eq!(triggers[2], (Trigger::Overdue1, day("2026-12-15")));
        // 15,16,17,18 (4), break and weekends, 28,29,30 (7).
        assert_eq!(triggers[3], (Trigger::Overdue2, day("2026-12-30")));
    }

    #[test]
    fn the_latest_trigger_whose_day_has_come_is_due() {
        let (settings, open) = (defaults(), Calendar::always_open());
        let due = day("2026-12-15");
        let on =
            |today: &str| due_loan_trigger(due, day(today), &settings, &open).map(|(trigger, _)| trigger);
        assert_eq!(on("2026-12-12"), None);
        assert_eq!(on("2026-12-13"), Some(Trigger::DueSoon));
        assert_eq!(on("2026-12-14"), Some(Trigger::DueSoon));
        assert_eq!(on("2026-12-15"), Some(Trigger::DueToday));
        assert_eq!(on("2026-12-16"), Some(Trigger::Overdue1));
        assert_eq!(on("2026-12-21"), Some(Trigger::Overdue1));
        assert_eq!(on("2026-12-22"), Some(Trigger::Overdue2));
        // After a long break only the third is sent, not the missed ones.
        assert_eq!(on("2027-01-20"), Some(Trigger::Overdue3));
    }

    #[test]
    fn due_soon_and_due_today_never_go_out_after_the_due_day() {
        let mut settings = defaults();
        settings.due_today = false;
        settings.overdue_days = "7".into();
        let due = day("2026-12-15");
        let open = Calendar::always_open();
        assert_eq!(
            due_loan_trigger(due, day("2026-12-15"), &settings, &open).map(|t| t.0),
            Some(Trigger::DueSoon)
        );
        assert_eq!(due_loan_trigger(due, day("2026-12-17"), &settings, &open), None);
        assert_eq!(
            due_loan_trigger(due, day("2026-12-22"), &settings, &open).map(|t| t.0),
            Some(Trigger::Overdue1)
        );
    }

    #[test]
    fn a_loan_lent_for_one_day_gets_due_soon_at_once() {
        let (settings, open) = (defaults(), Calendar::always_open());
        let trigger = due_loan_trigger(day("2026-12-15"), day("2026-12-14"), &settings, &open);
        assert_eq!(trigger, Some((Trigger::DueSoon, day("2026-12-13"))));
    }

    #[test]
    fn a_hold_expiring_reminder_comes_before_its_last_day() {
        let (settings, open) = (defaults(), Calendar::always_open());
        let last = day("2026-12-18");
        assert_eq!(hold_expiring_day(last, &settings, &open), Some(day("2026-12-17")));
        assert!(!hold_expiring_due(last, day("2026-12-16"), &settings, &open));
        assert!(hold_expiring_due(last, day("2026-12-17"), &settings, &open));
        assert!(hold_expiring_due(last, day("2026-12-18"), &settings, &open));
        assert!(!hold_expiring_due(last, day("2026-12-19"), &settings, &open));
        let mut off = defaults();
        off.hold_expiring_days = 0;
        assert!(!hold_expiring_due(last, day("2026-12-17"), &off, &open));
    }

    #[test]
    fn nothing_is_planned_on_closed_days_unless_the_school_says_so() {
        let calendar = weekdays_with_a_break();
        let mut settings = defaults();
        assert!(quiet_day(day("2026-12-12"), &settings, &calendar));
        assert!(quiet_day(day("2026-12-23"), &settings, &calendar));
        assert!(!quiet_day(day("2026-12-14"), &settings, &calendar));
        settings.send_on_closed_days = true;
        assert!(!quiet_day(day("2026-12-12"), &settings, &calendar));
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_over_midnight_end_in_the_morning() {
        let quiet = defaults().quiet_hours();
        let shanghai = chrono_tz::Asia::Shanghai;
        // 23:00 in Shanghai waits for 07:30 the next morning.
        assert_eq!(next_allowed(utc("2026-12-14T15:00:00Z"), quiet, shanghai), utc("2026-12-14T23:30:00Z"));
        // 06:00 in Shanghai waits for 07:30 the same morning.
        assert_eq!(next_allowed(utc("2026-12-14T22:00:00Z"), quiet, shanghai), utc("2026-12-14T23:30:00Z"));
        // 10:00 goes at once; so does the first minute after quiet hours.
        assert_eq!(next_allowed(utc("2026-12-14T02:00:00Z"), quiet, shanghai), utc("2026-12-14T02:00:00Z"));
        assert_eq!(next_allowed(utc("2026-12-14T23:30:00Z"), quiet, shanghai), utc("2026-12-14T23:30:00Z"));
        // 21:00 exactly is quiet.
        assert_eq!(next_allowed(utc("2026-12-14T13:00:00Z"), quiet, shanghai), utc("2026-12-14T23:30:00Z"));
    }

    #[test]
    fn quiet_hours_within_a_day_and_none() {
        let noon =
            Some((NaiveTime::from_hms_opt(12, 0, 0).unwrap(), NaiveTime::from_hms_opt(14, 0, 0).unwrap()));
        let shanghai = chrono_tz::Asia::Shanghai;
        assert_eq!(next_allowed(utc("2026-12-14T05:00:00Z"), noon, shanghai), utc("2026-12-14T06:00:00Z"));
        assert_eq!(next_allowed(utc("2026-12-14T07:00:00Z"), noon, shanghai), utc("2026-12-14T07:00:00Z"));
        assert_eq!(next_allowed(utc("2026-12-14T15:00:00Z"), None, shanghai), utc("2026-12-14T15:00:00Z"));
    }

    #[test]
    fn quiet_hours_follow_daylight_saving_time() {
        let quiet = defaults().quiet_hours();
        let berlin = chrono_tz::Europe::Berlin;
        // 2026-03-29 02:00 → 03:00 in Berlin: 07:30 CEST is 05:30 UTC.
        assert_eq!(next_allowed(utc("2026-03-28T22:00:00Z"), quiet, berlin), utc("2026-03-29T05:30:00Z"));
    }

    #[test]
    fn the_school_day_is_the_local_one() {
        let shanghai = chrono_tz::Asia::Shanghai;
        assert_eq!(school_day(utc("2026-12-14T17:00:00Z"), shanghai), day("2026-12-15"));
        assert_eq!(school_day(utc("2026-12-14T15:00:00Z"), shanghai), day("2026-12-14"));
    }
}
