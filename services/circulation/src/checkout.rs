//! Whether a reader may take a copy home now, and what a new loan records.
//! The decision is made from the reader and the copy as their services
//! answered the desk's scans; each broken rule is one refusal with a reason
//! code, checked in a fixed order so the desk always shows the same first
//! problem. Plain functions, no I/O.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use lectern_common::refusal::{Reason, Refusal};
use lectern_common::validate::FieldError;
use lectern_proto::catalog::v1::{Copy, CopyStatus};
use lectern_proto::reader::v1::{Reader, ReaderStatus};

use crate::db::LoanRow;
use crate::due::Due;
use crate::history::HistoryRule;

/// How far ahead of the server's clock a recorded loan time may be (desk
/// clocks drift a little).
const FUTURE_TOLERANCE: Duration = Duration::minutes(1);
/// How far back a loan may be recorded after the fact.
const BACKDATE_LIMIT: Duration = Duration::days(365);

/// Decides whether `reader` may borrow `copy` on the local day `today`.
pub fn decide(reader: &Reader, copy: &Copy, today: NaiveDate) -> Result<(), Refusal> {
    if reader.status() == ReaderStatus::Inactive {
        return Err(Refusal::precondition(
            Reason::ReaderInactive,
            "this reader's record is inactive (left the school or graduated); they cannot borrow",
        ));
    }
    if let Some(expired_on) = expiry(&reader.expires_on).filter(|last_day| *last_day < today) {
        let expired_on = expired_on.format("%Y-%m-%d").to_string();
        return Err(Refusal::precondition(
            Reason::ReaderExpired,
            format!("this reader's card expired on {expired_on}; renew the card before lending"),
        )
        .with("expired_on", expired_on));
    }
    if let Some(block) = reader.blocks.first() {
        return Err(Refusal::precondition(
            Reason::ReaderBlocked,
            format!("this reader is blocked from borrowing: {}", block.reason),
        )
        .with("block_reason", block.reason.clone()));
    }
    let status = copy.status();
    if status != CopyStatus::Available {
        return Err(Refusal::precondition(
            Reason::CopyNotLoanable,
            format!("copy {} cannot be lent: it is {}", copy.barcode, describe(status)),
        )
        .with("status", status.as_str_name()));
    }
    Ok(())
}

/// The card's last valid day. The reader service checks the format when it
/// stores the date, so an unreadable value is treated as "no expiry" rather
/// than turning every loan of that reader away over a data fault.
fn expiry(expires_on: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(expires_on.trim(), "%Y-%m-%d").ok()
}

/// A copy status in words a librarian uses.
fn describe(status: CopyStatus) -> &'static str {
    match status {
        CopyStatus::Unspecified => "of unknown status",
        CopyStatus::InProcess => "still being processed",
        CopyStatus::Available => "available",
        CopyStatus::Damaged => "reported damaged",
        CopyStatus::InRepair => "in repair",
        CopyStatus::Missing => "missing",
        CopyStatus::Lost => "lost",
        CopyStatus::Withdrawn => "withdrawn",
    }
}

/// When the loan happened: `occurred_at` for a loan recorded after the fact,
/// else `now`. It may not lie in the future (beyond clock drift) nor more
/// than a year back.
pub fn loan_time(
    occurred_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, FieldError> {
    let Some(occurred_at) = occurred_at else {
        return Ok(now);
    };
    if occurred_at > now + FUTURE_TOLERANCE {
        return Err(FieldError::new("occurred_at", "must not be in the future"));
    }
    if occurred_at < now - BACKDATE_LIMIT {
        return Err(FieldError::new("occurred_at", "must not be more than 365 days ago"));
    }
    Ok(occurred_at)
}

/// Who lends what, when: everything a new loan records.
#[derive(Debug, Clone)]
pub struct NewLoan<'a> {
    /// The new loan's id.
    pub id: String,
    /// The borrowing reader, as looked up.
    pub reader: &'a Reader,
    /// The lent copy, as looked up.
    pub copy: &'a Copy,
    /// When the loan happened.
    pub checked_out_at: DateTime<Utc>,
    /// When it is due.
    pub due: Due,
    /// The staff member at the desk (subject id).
    pub checked_out_by: &'a str,
    /// When the row is written.
    pub now: DateTime<Utc>,
}

impl NewLoan<'_> {
    /// The loan row, with the reader's category, class and grade as they
    /// are today, for reports that must not change when the reader does,
    /// and the category's history rule, which decides when the returned
    /// loan stops naming the reader.
    pub fn row(&self) -> LoanRow {
        let (history_retention, history_days) =
            HistoryRule::from_wire(self.reader.history_rule.as_ref()).to_stored();
        LoanRow {
            id: self.id.clone(),
            reader_id: Some(self.reader.id.clone()),
            copy_id: self.copy.id.clone(),
            copy_barcode: self.copy.barcode.clone(),
            title_id: self.copy.title_id.clone(),
            title: self.copy.title.clone(),
            school_id: self.copy.school_id.clone(),
            checked_out_at: self.checked_out_at.naive_utc(),
            due_at: self.due.at.naive_utc(),
            due_date: self.due.date_text(),
            returned_at: None,
            reader_category: self.reader.category.clone(),
            reader_class_id: Some(self.reader.class_id.clone()).filter(|id| !id.is_empty()),
            reader_grade: self.reader.grade,
            checked_out_by: self.checked_out_by.to_owned(),
            checked_in_by: None,
            created_at: self.now.naive_utc(),
            history_retention: history_retention.to_owned(),
            history_days,
            anonymize_after: None,
            anonymized_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_proto::reader::v1::ReaderBlock;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn reader() -> Reader {
        Reader {
            id: "reader-1".into(),
            school_id: "school-1".into(),
            card_barcode: "R0001".into(),
            category: "student".into(),
            class_id: "class-1".into(),
            grade: 3,
            status: ReaderStatus::Active.into(),
            expires_on: "2027-07-31".into(),
            ..Default::default()
        }
    }

    fn copy() -> Copy {
        Copy {
            id: "copy-1".into(),
            title_id: "title-1".into(),
            barcode: "C0001".into(),
            school_id: "school-1".into(),
            status: CopyStatus::Available.into(),
            title: "草房子".into(),
            ..Default::default()
        }
    }

    fn block(reason: &str) -> ReaderBlock {
        ReaderBlock { id: "block-1".into(), reason: reason.into(), ..Default::default() }
    }

    fn reason_of(result: Result<(), Refusal>) -> Reason {
        result.unwrap_err().reason
    }

    #[test]
    fn an_active_reader_may_borrow_an_available_copy() {
        assert_eq!(decide(&reader(), &copy(), day("2026-03-01")), Ok(()));
        let no_expiry = Reader { expires_on: String::new(), ..reader() };
        assert_eq!(decide(&no_expiry, &copy(), day("2099-01-01")), Ok(()));
    }

    #[test]
    fn an_inactive_reader_is_refused_first() {
        let reader = Reader {
            status: ReaderStatus::Inactive.into(),
            expires_on: "2020-01-01".into(),
            blocks: vec![block("lost book")],
            ..reader()
        };
        let damaged = Copy { status: CopyStatus::Damaged.into(), ..copy() };
        let refusal = decide(&reader, &damaged, day("2026-03-01")).unwrap_err();
        assert_eq!(refusal.reason, Reason::ReaderInactive);
        assert_eq!(refusal.code, tonic::Code::FailedPrecondition);
    }

    #[test]
    fn an_expired_card_is_refused_the_day_after_its_last_day() {
        let reader = Reader { expires_on: "2026-07-31".into(), blocks: vec![block("lost book")], ..reader() };
        // The last valid day itself is fine (the block is what refuses then).
        assert_eq!(reason_of(decide(&reader, &copy(), day("2026-07-31"))), Reason::ReaderBlocked);
        let refusal = decide(&reader, &copy(), day("2026-08-01")).unwrap_err();
        assert_eq!(refusal.reason, Reason::ReaderExpired);
        assert_eq!(refusal.metadata.get("expired_on").map(String::as_str), Some("2026-07-31"));
        assert!(refusal.message.contains("2026-07-31"));
    }

    #[test]
    fn a_block_is_refused_with_the_first_reason() {
        let reader = Reader {
            blocks: vec![block("book damaged, talk to the librarian"), block("second")],
            ..reader()
        };
        let refusal = decide(&reader, &copy(), day("2026-03-01")).unwrap_err();
        assert_eq!(refusal.reason, Reason::ReaderBlocked);
        assert_eq!(
            refusal.metadata.get("block_reason").map(String::as_str),
            Some("book damaged, talk to the librarian")
        );
    }

    #[test]
    fn only_available_copies_are_lent() {
        for status in [
            CopyStatus::Unspecified,
            CopyStatus::InProcess,
            CopyStatus::Damaged,
            CopyStatus::InRepair,
            CopyStatus::Missing,
            CopyStatus::Lost,
            CopyStatus::Withdrawn,
        ] {
            let copy = Copy { status: status.into(), ..copy() };
            let refusal = decide(&reader(), &copy, day("2026-03-01")).unwrap_err();
            assert_eq!(refusal.reason, Reason::CopyNotLoanable);
            assert_eq!(refusal.metadata.get("status").map(String::as_str), Some(status.as_str_name()));
            assert!(refusal.message.contains("C0001"));
        }
    }

    #[test]
    fn loan_times_may_be_recorded_after_the_fact_but_not_ahead() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(loan_time(None, now), Ok(now));
        let yesterday = now - Duration::days(1);
        assert_eq!(loan_time(Some(yesterday), now), Ok(yesterday));
        let drift = now + Duration::seconds(30);
        assert_eq!(loan_time(Some(drift), now), Ok(drift));
        let ahead = loan_time(Some(now + Duration::minutes(2)), now).unwrap_err();
        assert_eq!(ahead.field, "occurred_at");
        assert!(loan_time(Some(now - Duration::days(366)), now).is_err());
        assert!(loan_time(Some(now - Duration::days(365)), now).is_ok());
    }

    #[test]
    fn a_new_loan_snapshots_the_reader_and_copy() {
        let reader = Reader { class_id: String::new(), grade: 0, category: "teacher".into(), ..reader() };
        let copy = copy();
        let now = Utc::now();
        let due =
            crate::due::due(now, 14, chrono_tz::Asia::Shanghai, &crate::calendar::SchoolCalendar::default());
        let row = NewLoan {
            id: "loan-1".into(),
            reader: &reader,
            copy: &copy,
            checked_out_at: now,
            due,
            checked_out_by: "staff-1",
            now,
        }
        .row();
        assert_eq!(row.reader_class_id, None);
        assert_eq!(row.reader_category, "teacher");
        assert_eq!(row.title, "草房子");
        assert_eq!(row.school_id, "school-1");
        assert_eq!(row.due_date, due.date_text());
        assert_eq!(row.returned_at, None);
        assert_eq!((row.history_retention.as_str(), row.history_days), ("keep", None));
    }
}
