//! Holds as plain data: a title's line (waiting holds in the order they
//! were placed), which holds a copy can fill, and how long a copy waits on
//! the hold shelf. No I/O; the transactions are `hold_shelf`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::policy::calendar::SchoolCalendar;
use crate::policy::due;
use crate::policy::rule::LoanPeriod;

/// What the line rules read of a hold.
pub trait InLine {
    /// The hold's id (UUIDv7: sorts in the order holds were placed).
    fn hold_id(&self) -> &str;
    /// Whether it still waits for a copy.
    fn waiting(&self) -> bool;
    /// The reader it is for (none once the reader was erased).
    fn reader_id(&self) -> Option<&str>;
    /// For a hold on one copy, that copy.
    fn wanted_copy_id(&self) -> Option<&str>;
}

/// Whether `copy_id` can fill `hold`: a waiting title-level hold of the
/// copy's title, or a waiting hold for this very copy.
fn fillable<H: InLine>(hold: &H, copy_id: &str) -> bool {
    hold.waiting() && hold.wanted_copy_id().is_none_or(|wanted| wanted == copy_id)
}

/// The waiting holds in `queue` (a title's open holds in line order) that
/// the copy `copy_id` can fill, first in line first.
pub fn fillable_by<'a, H: InLine>(queue: &'a [H], copy_id: &'a str) -> impl Iterator<Item = &'a H> {
    queue.iter().filter(move |hold| fillable(*hold, copy_id))
}

/// A waiting hold's place in its title's line (1 = next); 0 for a hold
/// that no longer waits.
pub fn position<H: InLine>(queue: &[H], hold: &H) -> i32 {
    if !hold.waiting() {
        return 0;
    }
    let ahead = queue.iter().filter(|other| other.waiting() && other.hold_id() < hold.hold_id()).count();
    i32::try_from(ahead + 1).unwrap_or(i32::MAX)
}

/// How many other readers wait, ahead of `reader_id`, for a copy like
/// `copy_id`: the fillable holds placed before the reader's own (all of
/// them if the reader has none).
pub fn others_ahead<H: InLine>(queue: &[H], copy_id: &str, reader_id: &str) -> usize {
    let mut ahead = 0;
    for hold in fillable_by(queue, copy_id) {
        if hold.reader_id() == Some(reader_id) {
            break;
        }
        ahead += 1;
    }
    ahead
}

/// The reader's own waiting hold that lending them `copy_id` fills, if any.
pub fn own_waiting<'a, H: InLine>(queue: &'a [H], copy_id: &str, reader_id: &str) -> Option<&'a H> {
    queue.iter().find(|hold| fillable(*hold, copy_id) && hold.reader_id() == Some(reader_id))
}

/// Until when a copy put on the hold shelf at `now` waits: the end of the
/// day `shelf_days` later, moved off the days the school is closed.
pub fn shelf_expiry(
    now: DateTime<Utc>,
    shelf_days: u32,
    zone: Tz,
    calendar: &SchoolCalendar,
) -> DateTime<Utc> {
    due::due_under(LoanPeriod::Days(shelf_days), now, zone, calendar).0.at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Hold {
        id: &'static str,
        reader: &'static str,
        wanted: Option<&'static str>,
        waiting: bool,
    }

    impl InLine for Hold {
        fn hold_id(&self) -> &str {
            self.id
        }
        fn waiting(&self) -> bool {
            self.waiting
        }
        fn reader_id(&self) -> Option<&str> {
            Some(self.reader)
        }
        fn wanted_copy_id(&self) -> Option<&str> {
            self.wanted
        }
    }

    fn hold(id: &'static str, reader: &'static str, wanted: Option<&'static str>, status: &str) -> Hold {
        Hold { id, reader, wanted, waiting: status == "waiting" }
    }

    fn line() -> Vec<Hold> {
        vec![
            hold("01", "ann", None, "ready"),
            hold("02", "bob", Some("copy-2"), "waiting"),
            hold("03", "cai", None, "waiting"),
            hold("04", "dan", None, "waiting"),
        ]
    }

    #[test]
    fn a_copy_fills_title_holds_and_holds_for_itself_in_line_order() {
        let queue = line();
        let for_copy_1: Vec<&str> = fillable_by(&queue, "copy-1").map(|hold| hold.id).collect();
        assert_eq!(for_copy_1, ["03", "04"]);
        let for_copy_2: Vec<&str> = fillable_by(&queue, "copy-2").map(|hold| hold.id).collect();
        assert_eq!(for_copy_2, ["02", "03", "04"]);
    }

    #[test]
    fn places_in_line_count_waiting_holds_only() {
        let queue = line();
        assert_eq!(position(&queue, &queue[0]), 0);
        assert_eq!(position(&queue, &queue[1]), 1);
        assert_eq!(position(&queue, &queue[3]), 3);
    }

    #[test]
    fn readers_ahead_are_those_placed_before_ones_own_hold() {
        let queue = line();
        assert_eq!(others_ahead(&queue, "copy-1", "eve"), 2);
        assert_eq!(others_ahead(&queue, "copy-1", "cai"), 0);
        assert_eq!(others_ahead(&queue, "copy-1", "dan"), 1);
        assert_eq!(others_ahead(&queue, "copy-2", "dan"), 2);
        assert_eq!(own_waiting(&queue, "copy-1", "dan").map(|hold| hold.id), Some("04"));
        assert_eq!(own_waiting(&queue, "copy-1", "bob"), None, "bob waits for copy-2 only");
    }

    #[test]
    fn a_copy_waits_on_the_shelf_to_the_end_of_an_open_day() {
        let weekends = SchoolCalendar { closed_weekdays: vec![6, 7], ..SchoolCalendar::default() };
        // Wednesday 11 March 2026, 10:00 in Shanghai, 3 days: Saturday, so Monday 16th.
        let now = DateTime::parse_from_rfc3339("2026-03-11T10:00:00+08:00").unwrap().with_timezone(&Utc);
        let until = shelf_expiry(now, 3, chrono_tz::Asia::Shanghai, &weekends);
        assert_eq!(
            until,
            DateTime::parse_from_rfc3339("2026-03-16T23:59:59+08:00").unwrap().with_timezone(&Utc)
        );
    }
}
