//! How stored loans, rules, calendars and times look on the wire: `LoanRow`
//! to the API's `Loan`, circulation rules, school calendars, and UTC times
//! to and from
//! `google.protobuf.Timestamp`.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use lectern_core::validate::FieldError;
use lectern_proto::circulation::v1::{self as pb, Loan};
use prost_types::Timestamp;

use crate::calendar::{ClosureKind, day_text};
use crate::db::LoanRow;
use crate::db::calendars::StoredCalendar;
use crate::db::fees::{FeeEntryRow, FeeRow};
use crate::db::holds::HoldRow;
use crate::due::is_overdue;
use crate::policy::Rule;
use crate::{fees, holds};

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
        item_type: row.item_type.clone(),
        rule_id: row.rule_id.clone().unwrap_or_default(),
        rule_version: row.rule_version.unwrap_or_default(),
        r#override: row.override_reason.as_ref().map(|reason| pb::LoanOverride {
            reason: reason.clone(),
            by: row.overridden_by.clone().unwrap_or_default(),
            blocks: crate::checkout::blocks_from_stored(row.overridden_blocks.as_deref()),
        }),
        renewals: row.renewals,
        lost_time: row.lost_at.map(timestamp),
        claimed_returned_time: row.claimed_returned_at.map(timestamp),
    }
}

/// A school's calendar on the wire; a school that never set one is open
/// every day and shows no changer.
pub fn calendar(school_id: &str, stored: Option<&StoredCalendar>) -> pb::SchoolCalendar {
    let Some(stored) = stored else {
        return pb::SchoolCalendar { school_id: school_id.to_owned(), ..Default::default() };
    };
    let calendar = &stored.calendar;
    pb::SchoolCalendar {
        school_id: school_id.to_owned(),
        closed_weekdays: calendar
            .closed_weekdays
            .iter()
            .filter_map(|&weekday| i32::try_from(weekday).ok())
            .collect(),
        closures: calendar
            .closures
            .iter()
            .map(|closure| pb::Closure {
                first_day: day_text(closure.first_day),
                last_day: day_text(closure.last_day),
                kind: match closure.kind {
                    ClosureKind::Holiday => pb::ClosureKind::Holiday,
                    ClosureKind::TermBreak => pb::ClosureKind::TermBreak,
                }
                .into(),
                name: closure.name.clone(),
            })
            .collect(),
        terms: calendar
            .terms
            .iter()
            .map(|term| pb::Term {
                name: term.name.clone(),
                first_day: day_text(term.first_day),
                last_day: day_text(term.last_day),
            })
            .collect(),
        updated_by: stored.updated_by.clone(),
        updated_at: Some(timestamp(stored.updated_at)),
        request_id: String::new(),
    }
}

/// A rule version on the wire.
pub fn rule(rule: &Rule) -> pb::CirculationRule {
    let terms = &rule.terms;
    let (unit, loan_period) = terms.loan_period.to_wire();
    let count = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
    pb::CirculationRule {
        id: rule.id.clone(),
        version: rule.version,
        school_id: rule.scope.school_id.clone().unwrap_or_default(),
        reader_category: rule.scope.reader_category.clone().unwrap_or_default(),
        item_type: rule.scope.item_type.clone().unwrap_or_default(),
        name: rule.name.clone(),
        loanable: terms.loanable,
        loan_period_unit: unit.into(),
        loan_period,
        max_loans: terms.max_loans.map(count),
        max_loans_of_item_type: terms.max_loans_of_item_type.map(count),
        renewals: count(terms.renewals),
        renewal_period_days: count(terms.renewal_period_days),
        no_renewal_when_held: terms.no_renewal_when_held,
        grace_days: count(terms.grace_days),
        fine_per_open_day: terms.fine_per_open_day,
        fine_cap: terms.fine_cap,
        suspension_days_per_overdue_day: count(terms.suspension_days_per_overdue_day),
        lost_processing_fee: terms.lost_processing_fee,
        hold_shelf_days: count(terms.hold_shelf_days),
        max_holds: count(terms.max_holds),
        block_when_overdue_days: terms.block_when_overdue_days.map(count),
        block_when_fees_over: terms.block_when_fees_over,
        district_default: rule.is_district_default(),
        updated_by: rule.updated_by.clone(),
        update_time: Some(timestamp(rule.updated_at)),
    }
}

/// A fee, with its payments and waivers, on the wire.
pub fn fee(row: &FeeRow, entries: &[FeeEntryRow]) -> pb::Fee {
    pb::Fee {
        id: row.id.clone(),
        reader_id: row.reader_id.clone().unwrap_or_default(),
        school_id: row.school_id.clone(),
        loan_id: row.loan_id.clone(),
        kind: fees::kind_from_stored(&row.kind).into(),
        amount: row.amount,
        outstanding: row.outstanding,
        copy_barcode: row.copy_barcode.clone(),
        title: row.title.clone(),
        note: row.note.clone(),
        created_by: row.created_by.clone(),
        create_time: Some(timestamp(row.created_at)),
        entries: entries
            .iter()
            .filter(|entry| entry.fee_id == row.id)
            .map(|entry| pb::FeeEntry {
                kind: fees::entry_kind_from_stored(&entry.kind).into(),
                amount: entry.amount,
                reason: entry.reason.clone(),
                by: entry.created_by.clone(),
                time: Some(timestamp(entry.created_at)),
            })
            .collect(),
    }
}

/// A hold on the wire, at `position` in its title's line.
pub fn hold(row: &HoldRow, position: i32) -> pb::Hold {
    pb::Hold {
        id: row.id.clone(),
        reader_id: row.reader_id.clone().unwrap_or_default(),
        title_id: row.title_id.clone(),
        title: row.title.clone(),
        copy_id: row.copy_id.clone().or_else(|| row.wanted_copy_id.clone()).unwrap_or_default(),
        copy_barcode: row.copy_barcode.clone().unwrap_or_default(),
        pickup_school_id: row.pickup_school_id.clone(),
        status: holds::status_of(&row.status).into(),
        position,
        place_time: Some(timestamp(row.placed_at)),
        ready_time: row.ready_at.map(timestamp),
        expire_time: row.expires_at.map(timestamp),
        copy_level: row.wanted_copy_id.is_some(),
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
