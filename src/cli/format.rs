//! How the desk commands write times, roles and copy availability: the
//! wording a librarian reads, kept apart from the calls so it can be tested.

use chrono::{DateTime, Local, TimeZone, Utc};
use lectern_proto::catalog::v1::{Availability, Copy, CopyStatus};
use lectern_proto::circulation::v1::Loan;
use lectern_proto::reader::v1::StaffRole;

/// A protobuf timestamp (seconds, nanos) as a UTC time, if it is one.
pub fn utc(seconds: i64, nanos: i32) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(seconds, u32::try_from(nanos).ok()?)
}

/// Date and minute in the desk's local time zone, e.g. "2026-11-28 17:05".
pub fn local_minute<Tz: TimeZone>(time: DateTime<Utc>, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    time.with_timezone(zone).format("%Y-%m-%d %H:%M").to_string()
}

/// The calendar day in the desk's local time zone, e.g. "2026-12-19".
pub fn local_day<Tz: TimeZone>(time: DateTime<Utc>, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    time.with_timezone(zone).format("%Y-%m-%d").to_string()
}

/// [`local_minute`] in this machine's time zone.
pub fn here_minute(time: DateTime<Utc>) -> String {
    local_minute(time, &Local)
}

/// [`local_day`] in this machine's time zone.
pub fn here_day(time: DateTime<Utc>) -> String {
    local_day(time, &Local)
}

/// "7 h 59 min", "12 min", or "expired" for what is left of a session.
pub fn remaining(seconds: i64) -> String {
    if seconds <= 0 {
        return "expired".to_owned();
    }
    let minutes = (seconds + 59) / 60;
    match (minutes / 60, minutes % 60) {
        (0, minutes) => format!("{minutes} min"),
        (hours, 0) => format!("{hours} h"),
        (hours, minutes) => format!("{hours} h {minutes} min"),
    }
}

/// A staff role as a word: "district admin", "librarian", "assistant".
pub fn staff_role(role: i32) -> &'static str {
    match StaffRole::try_from(role) {
        Ok(StaffRole::DistrictAdmin) => "district admin",
        Ok(StaffRole::Librarian) => "librarian",
        Ok(StaffRole::Assistant) => "assistant",
        Ok(StaffRole::Unspecified) | Err(_) => "staff",
    }
}

/// A copy's lifecycle status in lower-case words ("in repair").
pub fn copy_status(status: i32) -> &'static str {
    match CopyStatus::try_from(status) {
        Ok(CopyStatus::InProcess) => "in process",
        Ok(CopyStatus::Available) => "available",
        Ok(CopyStatus::Damaged) => "damaged",
        Ok(CopyStatus::InRepair) => "in repair",
        Ok(CopyStatus::Missing) => "missing",
        Ok(CopyStatus::Lost) => "lost",
        Ok(CopyStatus::Withdrawn) => "withdrawn",
        Ok(CopyStatus::Unspecified) | Err(_) => "unknown status",
    }
}

/// Whether a reader could take the copy now: "on shelf", "on loan until
/// 2026-12-19" or "not loanable (damaged)".
pub fn availability(copy: &Copy, day: impl Fn(DateTime<Utc>) -> String) -> String {
    match Availability::try_from(copy.availability) {
        Ok(Availability::OnShelf) => "on shelf".to_owned(),
        Ok(Availability::OnLoan) => {
            let due = copy.due_at.as_ref().and_then(|due| utc(due.seconds, due.nanos));
            match due {
                Some(due) => format!("on loan until {}", day(due)),
                None => "on loan".to_owned(),
            }
        }
        Ok(Availability::NotLoanable) => format!("not loanable ({})", copy_status(copy.status)),
        Ok(Availability::OnHoldShelf) => "on the hold shelf".to_owned(),
        Ok(Availability::InTransit) => "in transit".to_owned(),
        Ok(Availability::Unspecified) | Err(_) => "unknown".to_owned(),
    }
}

/// Whether a returned loan came back after it was due. An open loan says so
/// itself (`overdue`); a closed one is judged by its two times.
pub fn was_overdue(loan: &Loan) -> bool {
    let due = loan.due_at.as_ref().and_then(|due| utc(due.seconds, due.nanos));
    let returned = loan.returned_at.as_ref().and_then(|at| utc(at.seconds, at.nanos));
    match (due, returned) {
        (Some(due), Some(returned)) => returned > due,
        _ => loan.overdue,
    }
}

/// The due day of a loan as printed on slips: the school's own day string,
/// else the due time's local day.
pub fn loan_due_day(loan: &Loan) -> String {
    if !loan.due_date.is_empty() {
        return loan.due_date.clone();
    }
    loan.due_at.as_ref().and_then(|due| utc(due.seconds, due.nanos)).map(here_day).unwrap_or_default()
}

/// An amount in minor units (fen) as yuan: "12.50".
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;
    use prost_types::Timestamp;

    use super::*;

    fn shanghai() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn stamp(seconds: i64) -> Option<Timestamp> {
        Some(Timestamp { seconds, nanos: 0 })
    }

    #[test]
    fn times_are_shown_in_the_local_zone() {
        // 2026-12-19T15:59:59Z is the last second of the 19th in Shanghai.
        let due = utc(1_797_695_999, 0).unwrap();
        assert_eq!(local_day(due, &shanghai()), "2026-12-19");
        assert_eq!(local_minute(due, &shanghai()), "2026-12-19 23:59");
        assert_eq!(utc(0, -1), None);
    }

    #[test]
    fn remaining_time_reads_like_a_clock() {
        assert_eq!(remaining(0), "expired");
        assert_eq!(remaining(-5), "expired");
        assert_eq!(remaining(30), "1 min");
        assert_eq!(remaining(3600), "1 h");
        assert_eq!(remaining(8 * 3600 - 60), "7 h 59 min");
    }

    #[test]
    fn roles_and_statuses_are_words() {
        assert_eq!(staff_role(StaffRole::Librarian as i32), "librarian");
        assert_eq!(staff_role(StaffRole::DistrictAdmin as i32), "district admin");
        assert_eq!(staff_role(99), "staff");
        assert_eq!(copy_status(CopyStatus::InRepair as i32), "in repair");
    }

    #[test]
    fn availability_says_what_the_reader_can_do() {
        let day = |time| local_day(time, &shanghai());
        let mut copy = Copy { availability: Availability::OnShelf as i32, ..Copy::default() };
        assert_eq!(availability(&copy, day), "on shelf");
        copy.availability = Availability::OnLoan as i32;
        assert_eq!(availability(&copy, day), "on loan");
        copy.due_at = stamp(1_797_695_999);
        assert_eq!(availability(&copy, day), "on loan until 2026-12-19");
        copy.availability = Availability::NotLoanable as i32;
        copy.status = CopyStatus::Damaged as i32;
        assert_eq!(availability(&copy, day), "not loanable (damaged)");
    }

    #[test]
    fn a_late_return_was_overdue() {
        let mut loan = Loan { due_at: stamp(1_000), returned_at: stamp(999), ..Loan::default() };
        assert!(!was_overdue(&loan));
        loan.returned_at = stamp(1_001);
        assert!(was_overdue(&loan));
        loan.returned_at = None;
        loan.overdue = true;
        assert!(was_overdue(&loan));
    }

    #[test]
    fn the_due_day_prefers_the_schools_own() {
        let loan = Loan { due_date: "2026-12-19".into(), due_at: stamp(0), ..Loan::default() };
        assert_eq!(loan_due_day(&loan), "2026-12-19");
        assert_eq!(loan_due_day(&Loan::default()), "");
    }
}
