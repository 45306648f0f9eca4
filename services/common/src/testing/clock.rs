//! The test clock. Every test's services run on a [`ManualClock`] that
//! starts at the same instant, [`start`]: 08:00 in Shanghai on Tuesday
//! 1 September 2026, the first school day of the 2026-2027 school year the
//! tests' classes belong to. A fixed start makes a test do the same on
//! any day it runs: the weekday a due date falls on, a month's end, a card
//! valid "until next summer". Tests that need a date take it from the
//! clock ([`Dates`]) instead of the wall clock or a year written into the
//! test, so nothing in them expires as the real years pass.
//!
//! Nothing the services compare with time reads the wall clock: token
//! expiry is checked against the services' clock, and no query uses the
//! database server's `now()`. Clients that run beside a suite and stamp
//! what they send (the CLI, the demo loader) are handed the suite's clock.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use lectern_core::clock::{Clock, ManualClock};

/// The time zone the services run in by default, in which "today" is
/// reckoned.
pub const TIME_ZONE: Tz = chrono_tz::Asia::Shanghai;

/// The instant every test clock starts at: 2026-09-01 08:00 in Shanghai.
pub fn start() -> DateTime<Utc> {
    TIME_ZONE
        .with_ymd_and_hms(2026, 9, 1, 8, 0, 0)
        .single()
        .map(|start| start.with_timezone(&Utc))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// A clock standing at [`start`]; it moves only when the test advances it.
pub fn clock() -> ManualClock {
    ManualClock::starting_at(start())
}

/// Dates derived from a clock, in [`TIME_ZONE`].
pub trait Dates: Clock {
    /// The clock's day.
    fn today(&self) -> NaiveDate {
        self.now().with_timezone(&TIME_ZONE).date_naive()
    }

    /// The day `days` after the clock's day (before it when negative), as
    /// requests spell dates: `YYYY-MM-DD`.
    fn days_from_now(&self, days: i64) -> String {
        (self.today() + Duration::days(days)).format("%Y-%m-%d").to_string()
    }
}

impl<C: Clock + ?Sized> Dates for C {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_starts_on_the_first_school_day_at_eight_in_shanghai() {
        let clock = clock();
        assert_eq!(clock.now().to_rfc3339(), "2026-09-01T00:00:00+00:00");
        assert_eq!(clock.today().to_string(), "2026-09-01");
        assert_eq!(clock.days_from_now(365), "2027-09-01");
        assert_eq!(clock.days_from_now(-1), "2026-08-31");
        // 16:00 UTC is already the next day in Shanghai.
        clock.advance(Duration::hours(16));
        assert_eq!(clock.today().to_string(), "2026-09-02");
    }
}
