//! Times as Lectern keeps them and as the API carries them: stored times
//! are UTC `NaiveDateTime`s at microsecond precision (both databases keep
//! microseconds, so a value reads back equal), the wire carries
//! `google.protobuf.Timestamp`.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use prost_types::Timestamp;

use crate::validate::FieldError;

/// A stored (naive, UTC) time as a UTC instant.
pub fn utc(time: NaiveDateTime) -> DateTime<Utc> {
    DateTime::<Utc>::from_naive_utc_and_offset(time, Utc)
}

/// A stored UTC time as a protobuf timestamp.
pub fn timestamp(time: NaiveDateTime) -> Timestamp {
    let time = utc(time);
    Timestamp { seconds: time.timestamp(), nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0) }
}

/// A protobuf timestamp as a UTC instant at microseconds; `None` when it
/// is out of range (negative nanoseconds, a year chrono cannot hold).
pub fn from_timestamp(time: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(time.nanos).ok()?;
    DateTime::<Utc>::from_timestamp(time.seconds, nanos).map(|time| time.trunc_subsecs(6))
}

/// A request field holding a timestamp, as a UTC instant at microseconds.
pub fn timestamp_field(field: &'static str, time: &Timestamp) -> Result<DateTime<Utc>, FieldError> {
    from_timestamp(time).ok_or_else(|| FieldError::new(field, "is not a valid timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_at_microseconds_and_junk_is_refused() {
        let stamp = Timestamp { seconds: 1_795_000_000, nanos: 123_456_789 };
        let time = from_timestamp(&stamp).unwrap();
        assert_eq!(timestamp(time.naive_utc()).nanos, 123_456_000);
        assert_eq!(timestamp(time.naive_utc()).seconds, stamp.seconds);
        assert_eq!(from_timestamp(&Timestamp { seconds: 0, nanos: -1 }), None);
        assert_eq!(
            timestamp_field("at", &Timestamp { seconds: i64::MAX, nanos: 0 }).unwrap_err().field,
            "at"
        );
    }
}
