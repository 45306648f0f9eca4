//! Conversions between stored times (UTC `NaiveDateTime`, microseconds) and
//! protobuf timestamps.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// A stored UTC time as a protobuf timestamp.
pub fn to_proto(time: NaiveDateTime) -> prost_types::Timestamp {
    let time = DateTime::<Utc>::from_naive_utc_and_offset(time, Utc);
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A protobuf timestamp as a stored UTC time, truncated to microseconds so it
/// compares equal after a round trip through either database. `None` when
/// the timestamp is out of range.
pub fn from_proto(time: &prost_types::Timestamp) -> Option<NaiveDateTime> {
    let nanos = u32::try_from(time.nanos).ok()?;
    DateTime::<Utc>::from_timestamp(time.seconds, nanos).map(|time| time.naive_utc().trunc_subsecs(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_at_microseconds() {
        let stamp = prost_types::Timestamp { seconds: 1_795_000_000, nanos: 123_456_789 };
        let time = from_proto(&stamp).unwrap();
        assert_eq!(to_proto(time).nanos, 123_456_000);
        assert_eq!(to_proto(time).seconds, stamp.seconds);
        assert_eq!(from_proto(&prost_types::Timestamp { seconds: 0, nanos: -1 }), None);
    }
}
