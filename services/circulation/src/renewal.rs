//! Whether a loan may be renewed now, and until when. A renewal is judged
//! by the rule version the loan was made under and the borrower as the
//! reader service answers now; each problem is one refusal with a reason
//! code, in a fixed order. Plain functions, no I/O.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::reader::v1::{Reader, ReaderStatus};

use crate::calendar::{SchoolCalendar, day_text};
use crate::convert::utc;
use crate::db::LoanRow;
use crate::due::{self, Due, is_overdue, local_date};
use crate::policy::{LoanPeriod, Terms};

/// Everything a renewal is judged on.
#[derive(Debug, Clone, Copy)]
pub struct RenewalCase<'a> {
    pub loan: &'a LoanRow,
    /// The terms of the rule version the loan was made under.
    pub terms: &'a Terms,
    /// The borrower as the reader service answers now.
    pub reader: &'a Reader,
    /// How many other readers wait for the loan's title or copy.
    pub others_waiting: usize,
    pub now: DateTime<Utc>,
    pub zone: Tz,
    pub calendar: &'a SchoolCalendar,
}

/// The loan's new due time, or why it cannot be renewed. The new due day
/// is the rule's renewal period after today, moved off closed days; a loan
/// renewed early never ends up due sooner than it was.
pub fn decide(case: RenewalCase<'_>) -> Result<Due, Refusal> {
    let RenewalCase { loan, terms, reader, others_waiting, now, zone, calendar } = case;
    if loan.returned_at.is_some() {
        return Err(Refusal::new(
            Reason::CopyNotOnLoan,
            format!("copy {} was already returned", loan.copy_barcode),
        ));
    }
    if reader.status() == ReaderStatus::Inactive {
        return Err(Refusal::new(
            Reason::ReaderInactive,
            "this reader's record is inactive (left the school or graduated); bring the book back",
        ));
    }
    let today = local_date(now, zone);
    if let Some(expired_on) =
        crate::calendar::parse_day(reader.expires_on.trim()).filter(|last| *last < today)
    {
        let expired_on = day_text(expired_on);
        return Err(Refusal::new(
            Reason::ReaderExpired,
            format!("this reader's card expired on {expired_on}; renew the card first"),
        )
        .with("expired_on", expired_on));
    }
    if let Some(block) = reader.blocks.first() {
        return Err(Refusal::new(Reason::ReaderBlocked, format!("this reader is blocked: {}", block.reason))
            .with("block_reason", block.reason.clone()));
    }
    if is_overdue(utc(loan.due_at), now) {
        return Err(Refusal::new(
            Reason::LoanOverdue,
            format!(
                "copy {} was due on {}; bring it back instead of renewing it",
                loan.copy_barcode, loan.due_date
            ),
        )
        .with("due_date", loan.due_date.clone()));
    }
    let renewed = u32::try_from(loan.renewals).unwrap_or(u32::MAX);
    if renewed >= terms.renewals {
        return Err(Refusal::new(
            Reason::RenewalLimitReached,
            format!(
                "this loan was renewed {renewed} times, as often as its rule allows ({})",
                terms.renewals
            ),
        )
        .with("renewals", renewed.to_string())
        .with("limit", terms.renewals.to_string()));
    }
    if terms.no_renewal_when_held && others_waiting > 0 {
        return Err(Refusal::new(
            Reason::HeldForAnotherReader,
            "another reader is waiting for this book; please bring it back",
        )
        .with("waiting", others_waiting.to_string()));
    }
    let (renewed_due, _) = due::due_under(LoanPeriod::Days(terms.renewal_period_days), now, zone, calendar);
    let current = Due {
        date: crate::calendar::parse_day(&loan.due_date).unwrap_or(renewed_due.date),
        at: utc(loan.due_at),
    };
    Ok(if renewed_due.at > current.at { renewed_due } else { current })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::due::end_of_local_day;
    use chrono::NaiveDate;
    use lectern_proto::reader::v1::ReaderBlock;

    const ZONE: Tz = chrono_tz::Asia::Shanghai;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{text}T10:00:00+08:00")).unwrap().with_timezone(&Utc)
    }

    fn terms(renewals: u32, days: u32, no_renewal_when_held: bool) -> Terms {
        Terms {
            loanable: true,
            loan_period: LoanPeriod::Days(14),
            max_loans: None,
            max_loans_of_item_type: None,
            renewals,
            renewal_period_days: days,
            no_renewal_when_held,
            grace_days: 0,
            fine_per_open_day: 0,
            fine_cap: 0,
            suspension_days_per_overdue_day: 0,
            lost_processing_fee: 0,
            hold_shelf_days: 7,
            max_holds: 5,
            block_when_overdue_days: None,
            block_when_fees_over: None,
        }
    }

    fn loan(due_on: &str, renewals: i32) -> LoanRow {
        let due_at = end_of_local_day(day(due_on), ZONE);
        LoanRow {
            id: "loan-1".into(),
            reader_id: Some("reader-1".into()),
            copy_id: "copy-1".into(),
            copy_barcode: "C0001".into(),
            title_id: "title-1".into(),
            title: "草房子".into(),
            school_id: "school-1".into(),
            checked_out_at: (due_at - chrono::Duration::days(14)).naive_utc(),
            due_at: due_at.naive_utc(),
            due_date: due_on.into(),
            returned_at: None,
            reader_category: "student".into(),
            reader_class_id: None,
            reader_grade: 3,
            checked_out_by: "staff-1".into(),
            checked_in_by: None,
            created_at: due_at.naive_utc(),
            history_retention: "keep".into(),
            history_days: None,
            anonymize_after: None,
            anonymized_at: None,
            item_type: "book".into(),
            rule_id: None,
            rule_version: None,
            override_reason: None,
            overridden_by: None,
            overridden_blocks: None,
            suspended_until: None,
            renewals,
            lost_at: None,
            claimed_returned_at: None,
            classification: String::new(),
        }
    }

    fn reader() -> Reader {
        Reader {
            id: "reader-1".into(),
            status: ReaderStatus::Active.into(),
            expires_on: "2030-07-31".into(),
            ..Default::default()
        }
    }

    fn judge(
        loan: &LoanRow,
        terms: &Terms,
        reader: &Reader,
        waiting: usize,
        now: &str,
    ) -> Result<Due, Reason> {
        let calendar = SchoolCalendar { closed_weekdays: vec![6, 7], ..SchoolCalendar::default() };
        decide(RenewalCase {
            loan,
            terms,
            reader,
            others_waiting: waiting,
            now: at(now),
            zone: ZONE,
            calendar: &calendar,
        })
        .map_err(|refusal| refusal.reason)
    }

    #[test]
    fn a_renewal_runs_from_today_and_skips_closed_days() {
        // Due Friday 13 March; renewed on Thursday 12 March for 14 days:
        // Thursday 26 March, open.
        let renewed = judge(&loan("2026-03-13", 0), &terms(1, 14, true), &reader(), 0, "2026-03-12").unwrap();
        assert_eq!(renewed.date, day("2026-03-26"));
        // 16 days lands on Saturday 28th: moved to Monday 30th.
        let moved = judge(&loan("2026-03-13", 0), &terms(1, 16, true), &reader(), 0, "2026-03-12").unwrap();
        assert_eq!(moved.date, day("2026-03-30"));
    }

    #[test]
    fn an_early_renewal_never_shortens_the_loan() {
        let kept = judge(&loan("2026-03-20", 0), &terms(1, 3, true), &reader(), 0, "2026-03-09").unwrap();
        assert_eq!(kept.date, day("2026-03-20"));
    }

    #[test]
    fn refusals_come_in_order() {
        let blocked = Reader {
            blocks: vec![ReaderBlock { reason: "请来图书馆".into(), ..Default::default() }],
            ..reader()
        };
        let expired = Reader { expires_on: "2026-03-01".into(), ..blocked.clone() };
        let overdue = loan("2026-03-10", 5);
        assert_eq!(
            judge(&overdue, &terms(1, 14, true), &expired, 1, "2026-03-12"),
            Err(Reason::ReaderExpired)
        );
        assert_eq!(
            judge(&overdue, &terms(1, 14, true), &blocked, 1, "2026-03-12"),
            Err(Reason::ReaderBlocked)
        );
        assert_eq!(
            judge(&overdue, &terms(1, 14, true), &reader(), 1, "2026-03-12"),
            Err(Reason::LoanOverdue)
        );
        let used_up = loan("2026-03-13", 1);
        assert_eq!(
            judge(&used_up, &terms(1, 14, true), &reader(), 1, "2026-03-12"),
            Err(Reason::RenewalLimitReached)
        );
        let fresh = loan("2026-03-13", 0);
        assert_eq!(
            judge(&fresh, &terms(1, 14, true), &reader(), 1, "2026-03-12"),
            Err(Reason::HeldForAnotherReader)
        );
        // A rule that lets a loan be renewed while others wait.
        assert!(judge(&fresh, &terms(1, 14, false), &reader(), 1, "2026-03-12").is_ok());
        let returned = LoanRow { returned_at: Some(at("2026-03-11").naive_utc()), ..fresh };
        assert_eq!(
            judge(&returned, &terms(1, 14, true), &reader(), 0, "2026-03-12"),
            Err(Reason::CopyNotOnLoan)
        );
        let inactive = Reader { status: ReaderStatus::Inactive.into(), ..reader() };
        assert_eq!(
            judge(&loan("2026-03-13", 0), &terms(1, 14, true), &inactive, 0, "2026-03-12"),
            Err(Reason::ReaderInactive)
        );
    }
}
