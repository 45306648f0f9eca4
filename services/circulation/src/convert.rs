//! How circulation's records look on the wire, and how the reader and
//! catalog services' answers look to circulation: stored loans, holds,
//! fees, transits, rules and calendars to the API's messages; a `Reader`
//! and a `Copy` to the [`Borrower`] and [`Item`] the rules judge.

use chrono::{DateTime, NaiveDate, Utc};
use lectern_core::time::{timestamp, utc};
use lectern_proto::catalog::v1::{Copy, CopyStatus};
use lectern_proto::circulation::v1::{self as pb, Loan};
use lectern_proto::reader::v1::{Reader, ReaderStatus};

use crate::db::LoanRow;
use crate::db::calendars::StoredCalendar;
use crate::db::fees::{FeeEntryRow, FeeRow};
use crate::db::holds::HoldRow;
use crate::db::transits::TransitRow;
use crate::policy::borrower::{Borrower, Item, ItemStatus};
use crate::policy::calendar::{ClosureKind, day_text};
use crate::policy::due::is_overdue;
use crate::policy::history::HistoryRule;
use crate::policy::rule::Rule;

/// The reader as circulation judges them.
pub fn borrower(reader: &Reader) -> Borrower {
    Borrower {
        id: reader.id.clone(),
        school_id: reader.school_id.clone(),
        category: reader.category.clone(),
        class_id: Some(reader.class_id.clone()).filter(|id| !id.is_empty()),
        grade: reader.grade,
        active: reader.status() != ReaderStatus::Inactive,
        // The reader service checks the format when it stores the date,
        // so an unreadable value is treated as "no expiry" rather than
        // turning every loan of that reader away over a data fault.
        expires_on: NaiveDate::parse_from_str(reader.expires_on.trim(), "%Y-%m-%d").ok(),
        block: reader.blocks.first().map(|block| block.reason.clone()),
        history: HistoryRule::from_wire(reader.history_rule.as_ref()),
    }
}

/// The copy as circulation judges it.
pub fn item(copy: &Copy) -> Item {
    let status = match copy.status() {
        CopyStatus::Available => ItemStatus::Available,
        other => ItemStatus::NotLendable {
            described: match other {
                CopyStatus::InProcess => "still being processed",
                CopyStatus::Damaged => "reported damaged",
                CopyStatus::InRepair => "in repair",
                CopyStatus::Missing => "missing",
                CopyStatus::Lost => "lost",
                CopyStatus::Withdrawn => "withdrawn",
                CopyStatus::Available | CopyStatus::Unspecified => "of unknown status",
            },
            name: other.as_str_name(),
        },
    };
    Item {
        id: copy.id.clone(),
        barcode: copy.barcode.clone(),
        title_id: copy.title_id.clone(),
        title: copy.title.clone(),
        school_id: copy.school_id.clone(),
        item_type: copy.item_type.clone(),
        call_number: copy.call_number.clone(),
        status,
    }
}

/// The blocks a librarian lent past, as a loan stores them: reason names,
/// comma-separated.
pub fn blocks_to_stored<'a>(blocks: impl Iterator<Item = &'a lectern_core::refusal::Refusal>) -> String {
    blocks.map(|block| block.reason.as_str_name()).collect::<Vec<_>>().join(",")
}

/// The stored blocks of a loan, as reason names.
pub fn blocks_from_stored(stored: Option<&str>) -> Vec<String> {
    stored.unwrap_or_default().split(',').filter(|name| !name.is_empty()).map(str::to_owned).collect()
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
            blocks: blocks_from_stored(row.overridden_blocks.as_deref()),
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
        kind: fee_kind(&row.kind).into(),
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
                kind: fee_entry_kind(&entry.kind).into(),
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
        status: hold_status(&row.status).into(),
        position,
        place_time: Some(timestamp(row.placed_at)),
        ready_time: row.ready_at.map(timestamp),
        expire_time: row.expires_at.map(timestamp),
        copy_level: row.wanted_copy_id.is_some(),
    }
}

/// A stored hold status on the wire.
fn hold_status(stored: &str) -> pb::HoldStatus {
    match stored {
        "waiting" => pb::HoldStatus::Waiting,
        "in_transit" => pb::HoldStatus::InTransit,
        "ready" => pb::HoldStatus::Ready,
        "fulfilled" => pb::HoldStatus::Fulfilled,
        "cancelled" => pb::HoldStatus::Cancelled,
        "expired" => pb::HoldStatus::Expired,
        _ => pb::HoldStatus::Unspecified,
    }
}

/// A journey between schools on the wire.
pub fn transit(row: &TransitRow) -> pb::Transit {
    pb::Transit {
        id: row.id.clone(),
        copy_id: row.copy_id.clone(),
        copy_barcode: row.copy_barcode.clone(),
        title: row.title.clone(),
        from_school_id: row.from_school_id.clone(),
        to_school_id: row.to_school_id.clone(),
        reason: match row.reason.as_str() {
            "home" => pb::TransitReason::Home,
            "hold" => pb::TransitReason::Hold,
            _ => pb::TransitReason::Unspecified,
        }
        .into(),
        hold_id: row.hold_id.clone().unwrap_or_default(),
        start_time: Some(timestamp(row.started_at)),
        received_time: row.received_at.map(timestamp),
    }
}

/// The stored name of a fee kind.
pub fn fee_kind_to_stored(kind: pb::FeeKind) -> &'static str {
    match kind {
        pb::FeeKind::Overdue => "overdue",
        pb::FeeKind::Lost => "lost",
        pb::FeeKind::Damaged => "damaged",
        pb::FeeKind::Processing | pb::FeeKind::Unspecified => "processing",
    }
}

/// The stored name of a ledger entry kind.
pub fn fee_entry_kind_to_stored(kind: pb::FeeEntryKind) -> &'static str {
    match kind {
        pb::FeeEntryKind::Waiver => "waiver",
        pb::FeeEntryKind::Refund => "refund",
        pb::FeeEntryKind::Payment | pb::FeeEntryKind::Unspecified => "payment",
    }
}

/// A stored fee kind back on the wire.
fn fee_kind(kind: &str) -> pb::FeeKind {
    match kind {
        "overdue" => pb::FeeKind::Overdue,
        "lost" => pb::FeeKind::Lost,
        "damaged" => pb::FeeKind::Damaged,
        "processing" => pb::FeeKind::Processing,
        _ => pb::FeeKind::Unspecified,
    }
}

/// A stored ledger entry kind back on the wire.
fn fee_entry_kind(kind: &str) -> pb::FeeEntryKind {
    match kind {
        "payment" => pb::FeeEntryKind::Payment,
        "waiver" => pb::FeeEntryKind::Waiver,
        "refund" => pb::FeeEntryKind::Refund,
        _ => pb::FeeEntryKind::Unspecified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_kinds_read_back() {
        for kind in [pb::FeeKind::Overdue, pb::FeeKind::Lost, pb::FeeKind::Damaged, pb::FeeKind::Processing] {
            assert_eq!(fee_kind(fee_kind_to_stored(kind)), kind);
        }
        for kind in [pb::FeeEntryKind::Payment, pb::FeeEntryKind::Waiver, pb::FeeEntryKind::Refund] {
            assert_eq!(fee_entry_kind(fee_entry_kind_to_stored(kind)), kind);
        }
        assert_eq!(hold_status("in_transit"), pb::HoldStatus::InTransit);
        assert_eq!(blocks_from_stored(Some("READER_BLOCKED,LOAN_LIMIT_REACHED")).len(), 2);
    }

    #[test]
    fn a_reader_with_an_unreadable_expiry_is_not_turned_away() {
        let reader = Reader {
            expires_on: "someday".into(),
            status: ReaderStatus::Active.into(),
            ..Default::default()
        };
        let borrower = borrower(&reader);
        assert_eq!(borrower.expires_on, None);
        assert!(borrower.active);
        let withdrawn = Copy { status: CopyStatus::Withdrawn.into(), ..Default::default() };
        assert_eq!(
            item(&withdrawn).status,
            ItemStatus::NotLendable { described: "withdrawn", name: "COPY_STATUS_WITHDRAWN" }
        );
    }
}
