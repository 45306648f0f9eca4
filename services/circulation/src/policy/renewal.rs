//! Whether a loan may be renewed now, and until when. A renewal is judged
//! by the rule version the loan was made under and the borrower as the
//! reader service answers now; each problem is one refusal with a reason
//! code, in a fixed order. Plain functions, no I/O.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use lectern_core::refusal::{Reason, Refusal};

use crate::policy::borrower::Borrower;
use crate::policy::calendar::SchoolCalendar;
use crate::policy::due::{self, Due, is_overdue};
use crate::policy::rule::{LoanPeriod, Terms};

/// The loan to renew, as far as renewing is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnLoan {
    pub copy_barcode: String,
    /// Whether the copy came back already.
    pub returned: bool,
    /// When it is due now, and that day.
    pub due_at: DateTime<Utc>,
    pub due_date: NaiveDate,
    /// Times it was renewed.
    pub renewals: u32,
}

/// Everything a renewal is judged on.
#[derive(Debug, Clone, Copy)]
pub struct RenewalCase<'a> {
    pub loan: &'a OnLoan,
    /// The terms of the rule version the loan was made under.
    pub terms: &'a Terms,
    /// The borrower as the reader service answers now.
    pub reader: &'a Borrower,
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
    if loan.returned {
        return Err(Refusal::new(
            Reason::CopyNotOnLoan,
            format!("copy {} was already returned", loan.copy_barcode),
        ));
    }
    reader.may_borrow(now, zone)?;
    if is_overdue(loan.due_at, now) {
        let due_date = crate::policy::calendar::day_text(loan.due_date);
        return Err(Refusal::new(
            Reason::LoanOverdue,
            format!("copy {} was due on {due_date}; bring it back instead of renewing it", loan.copy_barcode),
        )
        .with("due_date", due_date));
    }
    let renewed = loan.renewals;
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
    let current = Due { date: loan.due_date, at: loan.due_at };
    Ok(if renewed_due.at > current.at { renewed_due } else { current })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::due::end_of_local_day;
    use crate::policy::fixtures::{ZONE, at, day, student};

    fn terms(renewals: u32, days: u32, no_renewal_when_held: bool) -> Terms {
        Terms { renewals, renewal_period_days: days, no_renewal_when_held, ..Terms::plain() }
    }

    fn loan(due_on: &str, renewals: u32) -> OnLoan {
        OnLoan {
            copy_barcode: "C0001".into(),
            returned: false,
            due_at: end_of_local_day(day(due_on), ZONE),
            due_date: day(due_on),
            renewals,
        }
    }

    fn judge(
        loan: &OnLoan,
        terms: &Terms,
        reader: &Borrower,
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
        let renewed =
            judge(&loan("2026-03-13", 0), &terms(1, 14, true), &student(), 0, "2026-03-12").unwrap();
        assert_eq!(renewed.date, day("2026-03-26"));
        // 16 days lands on Saturday 28th: moved to Monday 30th.
        let moved = judge(&loan("2026-03-13", 0), &terms(1, 16, true), &student(), 0, "2026-03-12").unwrap();
        assert_eq!(moved.date, day("2026-03-30"));
    }

    #[test]
    fn an_early_renewal_never_shortens_the_loan() {
        let kept = judge(&loan("2026-03-20", 0), &terms(1, 3, true), &student(), 0, "2026-03-09").unwrap();
        assert_eq!(kept.date, day("2026-03-20"));
    }

    #[test]
    fn refusals_come_in_order() {
        let blocked = Borrower { block: Some("请来图书馆".into()), ..student() };
        let expired = Borrower { expires_on: Some(day("2026-03-01")), ..blocked.clone() };
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
            judge(&overdue, &terms(1, 14, true), &student(), 1, "2026-03-12"),
            Err(Reason::LoanOverdue)
        );
        let used_up = loan("2026-03-13", 1);
        assert_eq!(
            judge(&used_up, &terms(1, 14, true), &student(), 1, "2026-03-12"),
            Err(Reason::RenewalLimitReached)
        );
        let fresh = loan("2026-03-13", 0);
        assert_eq!(
            judge(&fresh, &terms(1, 14, true), &student(), 1, "2026-03-12"),
            Err(Reason::HeldForAnotherReader)
        );
        // A rule that lets a loan be renewed while others wait.
        assert!(judge(&fresh, &terms(1, 14, false), &student(), 1, "2026-03-12").is_ok());
        let returned = OnLoan { returned: true, ..fresh };
        assert_eq!(
            judge(&returned, &terms(1, 14, true), &student(), 0, "2026-03-12"),
            Err(Reason::CopyNotOnLoan)
        );
        let inactive = Borrower { active: false, ..student() };
        assert_eq!(
            judge(&loan("2026-03-13", 0), &terms(1, 14, true), &inactive, 0, "2026-03-12"),
            Err(Reason::ReaderInactive)
        );
    }
}
