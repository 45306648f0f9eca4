//! SIP2 dates: 18 characters `YYYYMMDDZZZZHHMMSS`, where the zone `ZZZZ` is
//! four spaces for the machine's local time or `   Z` for UTC, and a date
//! that is not given is 18 spaces.
//!
//! Received dates are kept as sent (only their length is checked): the
//! gateway derives request ids from the raw transaction date, and machines
//! send odd but harmless dates often enough that refusing them would only
//! break kiosks. [`SipDate::naive`] reads the time when it is needed.

use chrono::{DateTime, NaiveDateTime, Utc};
use std::fmt;

/// The length of every SIP2 date.
pub const DATE_LEN: usize = 18;

/// An 18-character SIP2 date, exactly as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SipDate(String);

impl SipDate {
    /// The absent date: 18 spaces.
    pub fn blank() -> SipDate {
        SipDate(" ".repeat(DATE_LEN))
    }

    /// A local time (zone four spaces), what kiosks expect on screens and
    /// slips: pass the school's wall-clock time.
    pub fn local(time: NaiveDateTime) -> SipDate {
        SipDate(time.format("%Y%m%d    %H%M%S").to_string())
    }

    /// A UTC time (zone `   Z`).
    pub fn utc(time: DateTime<Utc>) -> SipDate {
        SipDate(time.format("%Y%m%d   Z%H%M%S").to_string())
    }

    /// A date as received: any 18 characters; `None` for another length.
    pub fn from_wire(text: &str) -> Option<SipDate> {
        (text.chars().count() == DATE_LEN).then(|| SipDate(text.to_owned()))
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the date is absent (all spaces).
    pub fn is_blank(&self) -> bool {
        self.0.chars().all(|c| c == ' ')
    }

    /// Whether the zone says UTC (`   Z`).
    pub fn is_utc(&self) -> bool {
        self.0.get(8..12).is_some_and(|zone| zone.trim() == "Z")
    }

    /// The date and time, if they read as one (the zone is not applied:
    /// see [`SipDate::is_utc`]).
    pub fn naive(&self) -> Option<NaiveDateTime> {
        let date = self.0.get(0..8)?;
        let time = self.0.get(12..18)?;
        NaiveDateTime::parse_from_str(&format!("{date}{time}"), "%Y%m%d%H%M%S").ok()
    }
}

impl Default for SipDate {
    fn default() -> Self {
        SipDate::blank()
    }
}

impl fmt::Display for SipDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn time() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap().and_hms_opt(9, 5, 30).unwrap()
    }

    #[test]
    fn formats_local_utc_and_blank() {
        assert_eq!(SipDate::local(time()).as_str(), "20261207    090530");
        assert_eq!(SipDate::utc(time().and_utc()).as_str(), "20261207   Z090530");
        assert_eq!(SipDate::blank().as_str().len(), DATE_LEN);
        assert!(SipDate::blank().is_blank());
    }

    #[test]
    fn reads_back() {
        let local = SipDate::from_wire("20261207    090530").unwrap();
        assert_eq!(local.naive(), Some(time()));
        assert!(!local.is_utc());
        let utc = SipDate::from_wire("20261207   Z090530").unwrap();
        assert!(utc.is_utc());
        assert_eq!(utc.naive(), Some(time()));
        assert_eq!(SipDate::from_wire("2026120709053").map(|d| d.naive()), None);
        assert_eq!(SipDate::from_wire("日日日日日日日日日日日日日日日日日日").unwrap().naive(), None);
    }
}
