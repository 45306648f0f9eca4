//! How stored loans and times look on the wire: `LoanRow` to the API's
//! `Loan`, and UTC times to and from `google.protobuf.Timestamp`.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use lectern_common::validate::FieldError;
use lectern_proto::circulation::v1::Loan;
use prost_types::Timestamp;

use crate::db::LoanRow;
use crate::due::is_overdue;

/// A stored UTC time as a protobuf timestamp.
pub fn timestamp(time: NaiveDateTime) -> Timestamp {
    let time = utc(time);
    Timestamp { seconds: time.timestamp(), nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0) }
}

/// A stored (naive, UTC) time as a UTC instant.
pub fn utc(time: NaiveDateTime) -> DateTime<Utc> {
    DateTime::<Utc>::from_naive_utc_and_offset(time, Utc)
}

/// A request timestamp as a UTC instant, truncated to microseconds so it
/// reads back equal from either database.
pub fn from_timestamp(field: &'static str, time: &Timestamp) -> Result<DateTime<Utc>, FieldError> {
    u32::try_from(time.nanos)
        .ok()
        .and_then(|nanos| DateTime::<Utc>::from_timestamp(time.seconds, nanos))
        .map(|time| time.trunc_subsecs(6))
        .ok_or_else(|| FieldError::new(field, "is not a valid timestamp"))
}

/// A stored loan as the API shows it at `now`.
pub fn loan(row: &LoanRow, now: DateTime<Utc>) -> Loan {
    Loan {
        id: row.id.clone(),
        reader_id: row.reader_id.clone().unwrap_or_default(),
        copy_id: row.copy_id.clone(),
        copy_barcode: row.copy_barcode.clone(),
        title_id: row.title_id.clone(),
        title: row.title.clone(),
        school_id: row.school_id.clone(),
        checked_out_at: Some(timestamp(row.checked_out_at)),
        due_at: Some(timestamp(row.due_at)),
        due_date: row.due_date.clone(),
        returned_at: row.returned_at.map(timestamp),
        overdue: row.returned_at.is_none() && is_overdue(utc(row.due_at), now),
        anonymize_time: row.anonymized_at.map(timestamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_reject_junk() {
        let now = Utc::now().trunc_subsecs(6);
        let back = from_timestamp("occurred_at", &timestamp(now.naive_utc())).unwrap();
        assert_eq!(back, now);
        let junk = Timestamp { seconds: 0, nanos: -1 };
        assert_eq!(from_timestamp("occurred_at", &junk).unwrap_err().field, "occurred_at");
    }
}
