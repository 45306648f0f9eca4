//! The reader and the copy as circulation judges them: what the reader
//! and catalog services answered about a scanned card and a scanned copy,
//! reduced to what a loan, a renewal or a hold is decided on and what a
//! loan keeps. The use cases build these from the services' answers; the
//! rules never see a wire message.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use lectern_core::refusal::{Reason, Refusal};

use crate::policy::calendar::day_text;
use crate::policy::due::local_date;
use crate::policy::history::HistoryRule;

/// A reader, as the reader service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Borrower {
    pub id: String,
    /// The reader's school.
    pub school_id: String,
    /// Student, teacher, … (rules are chosen by it).
    pub category: String,
    /// Class and grade today, kept on a loan for reports.
    pub class_id: Option<String>,
    pub grade: i32,
    /// Whether the record is active (inactive: left or graduated).
    pub active: bool,
    /// The card's last valid day, if it has one.
    pub expires_on: Option<NaiveDate>,
    /// The first of a librarian's blocks in force, if any.
    pub block: Option<String>,
    /// How long returned loans keep naming the reader (from the category).
    pub history: HistoryRule,
}

/// A copy, as the catalog answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub barcode: String,
    pub title_id: String,
    /// The display title, kept on a loan for notices.
    pub title: String,
    /// The school the copy belongs to.
    pub school_id: String,
    /// Book, magazine, … (rules are chosen by it).
    pub item_type: String,
    pub call_number: String,
    /// Whether its lifecycle status lets it be lent; otherwise the status
    /// in a librarian's words ("in repair") and its name for software.
    pub status: ItemStatus,
}

/// A copy's lifecycle status, as far as lending is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemStatus {
    /// On the shelf (or on loan): may be lent.
    Available,
    /// Being processed, damaged, in repair, missing, lost or withdrawn.
    NotLendable {
        /// In words: "in repair".
        described: &'static str,
        /// The status name, for the refusal's metadata.
        name: &'static str,
    },
}

impl Borrower {
    /// Why the reader's card cannot be used at all at `at`: an inactive
    /// record, then an expired card. These come first and alone; nothing
    /// else is worth telling the desk.
    pub fn card_refusal(&self, at: DateTime<Utc>, zone: Tz) -> Option<Refusal> {
        if !self.active {
            return Some(Refusal::new(
                Reason::ReaderInactive,
                "this reader's record is inactive (left the school or graduated)",
            ));
        }
        let today = local_date(at, zone);
        let expired_on = self.expires_on.filter(|last_day| *last_day < today)?;
        let expired_on = day_text(expired_on);
        Some(
            Refusal::new(
                Reason::ReaderExpired,
                format!("this reader's card expired on {expired_on}; renew the card first"),
            )
            .with("expired_on", expired_on),
        )
    }

    /// A librarian's block, if one is in force.
    pub fn block_refusal(&self) -> Option<Refusal> {
        let reason = self.block.as_ref()?;
        Some(
            Refusal::new(Reason::ReaderBlocked, format!("this reader is blocked from borrowing: {reason}"))
                .with("block_reason", reason.clone()),
        )
    }

    /// Whether the reader may use the library's services at `at` at all
    /// (renew, place holds): the card, then a librarian's block.
    pub fn may_borrow(&self, at: DateTime<Utc>, zone: Tz) -> Result<(), Refusal> {
        match self.card_refusal(at, zone).or_else(|| self.block_refusal()) {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::fixtures::{ZONE, morning, student};

    #[test]
    fn the_card_comes_before_a_block_and_its_last_day_still_counts() {
        assert!(student().may_borrow(morning("2027-07-31"), ZONE).is_ok());
        let expired = student().may_borrow(morning("2027-08-01"), ZONE).unwrap_err();
        assert_eq!(expired.reason, Reason::ReaderExpired);
        assert_eq!(expired.metadata.get("expired_on").map(String::as_str), Some("2027-07-31"));
        let blocked_and_gone = Borrower { active: false, block: Some("lost books".into()), ..student() };
        assert_eq!(
            blocked_and_gone.may_borrow(morning("2026-01-01"), ZONE).unwrap_err().reason,
            Reason::ReaderInactive
        );
        let blocked = Borrower { block: Some("lost books".into()), ..student() };
        assert_eq!(
            blocked.may_borrow(morning("2026-01-01"), ZONE).unwrap_err().reason,
            Reason::ReaderBlocked
        );
        assert_eq!(blocked.card_refusal(morning("2026-01-01"), ZONE), None);
    }
}
