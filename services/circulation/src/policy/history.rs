//! Loan history rules: how long a returned loan keeps naming its reader.
//! The rule comes from the reader's category (as the reader service
//! answered at check-out) and is recorded on the loan, so the anonymization
//! job never has to ask another service. Plain functions, no I/O.

use chrono::{Duration, NaiveDateTime};
use lectern_proto::reader::v1::{HistoryRetention, HistoryRule as WireRule};

/// Stored name of [`HistoryRule::Keep`].
pub const KEEP: &str = "keep";
/// Stored name of [`HistoryRule::AnonymizeAfterDays`].
pub const ANONYMIZE_AFTER_DAYS: &str = "anonymize_after_days";
/// Stored name of [`HistoryRule::NeverKeep`].
pub const NEVER_KEEP: &str = "never_keep";

/// The longest a rule may keep history before anonymizing (ten years).
pub const MAX_DAYS: i32 = 3650;

/// How long a returned loan names its reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryRule {
    /// Until the reader is erased.
    Keep,
    /// This many days after the return.
    AnonymizeAfterDays(i32),
    /// Not after the return at all.
    NeverKeep,
}

impl HistoryRule {
    /// The rule the reader service sent. A missing or unknown rule (an
    /// older reader service) keeps history, as Lectern always did; a bad
    /// day count is clamped into 1–3650 rather than refusing the loan.
    pub fn from_wire(rule: Option<&WireRule>) -> Self {
        let Some(rule) = rule else {
            return Self::Keep;
        };
        match HistoryRetention::try_from(rule.retention) {
            Ok(HistoryRetention::NeverKeep) => Self::NeverKeep,
            Ok(HistoryRetention::AnonymizeAfterDays) => {
                Self::AnonymizeAfterDays(rule.anonymize_after_days.clamp(1, MAX_DAYS))
            }
            _ => Self::Keep,
        }
    }

    /// The rule as stored on a loan: `(history_retention, history_days)`.
    pub fn to_stored(self) -> (&'static str, Option<i32>) {
        match self {
            Self::Keep => (KEEP, None),
            Self::AnonymizeAfterDays(days) => (ANONYMIZE_AFTER_DAYS, Some(days)),
            Self::NeverKeep => (NEVER_KEEP, None),
        }
    }

    /// The rule stored on a loan; anything unreadable keeps history.
    pub fn from_stored(retention: &str, days: Option<i32>) -> Self {
        match (retention, days) {
            (NEVER_KEEP, _) => Self::NeverKeep,
            (ANONYMIZE_AFTER_DAYS, Some(days)) => Self::AnonymizeAfterDays(days.clamp(1, MAX_DAYS)),
            _ => Self::Keep,
        }
    }

    /// When a loan returned at `returned_at` stops naming its reader;
    /// `None` if it keeps naming them.
    pub fn anonymize_after(self, returned_at: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            Self::Keep => None,
            Self::AnonymizeAfterDays(days) => Some(returned_at + Duration::days(i64::from(days))),
            Self::NeverKeep => Some(returned_at),
        }
    }

    /// Whether a loan returned at `returned_at` is anonymized in the very
    /// transaction that takes the copy back.
    pub fn anonymizes_at_return(self) -> bool {
        self == Self::NeverKeep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn anonymization_time_follows_the_rule() {
        let returned = at("2026-03-01 08:30:00");
        assert_eq!(HistoryRule::Keep.anonymize_after(returned), None);
        assert_eq!(HistoryRule::NeverKeep.anonymize_after(returned), Some(returned));
        assert_eq!(
            HistoryRule::AnonymizeAfterDays(30).anonymize_after(returned),
            Some(at("2026-03-31 08:30:00"))
        );
        // Day arithmetic is in UTC days, across month and leap-year ends.
        assert_eq!(
            HistoryRule::AnonymizeAfterDays(365).anonymize_after(at("2027-03-01 00:00:00")),
            Some(at("2028-02-29 00:00:00"))
        );
        assert!(HistoryRule::NeverKeep.anonymizes_at_return());
        assert!(!HistoryRule::AnonymizeAfterDays(1).anonymizes_at_return());
    }

    #[test]
    fn rules_round_trip_through_storage() {
        for rule in [HistoryRule::Keep, HistoryRule::NeverKeep, HistoryRule::AnonymizeAfterDays(90)] {
            let (retention, days) = rule.to_stored();
            assert_eq!(HistoryRule::from_stored(retention, days), rule);
        }
        assert_eq!(HistoryRule::from_stored("garbage", Some(3)), HistoryRule::Keep);
        assert_eq!(HistoryRule::from_stored(ANONYMIZE_AFTER_DAYS, None), HistoryRule::Keep);
    }

    #[test]
    fn wire_rules_default_to_keep_and_clamp_days() {
        assert_eq!(HistoryRule::from_wire(None), HistoryRule::Keep);
        let wire = |retention: HistoryRetention, days| WireRule {
            retention: retention.into(),
            anonymize_after_days: days,
        };
        assert_eq!(HistoryRule::from_wire(Some(&wire(HistoryRetention::Unspecified, 5))), HistoryRule::Keep);
        assert_eq!(
            HistoryRule::from_wire(Some(&wire(HistoryRetention::NeverKeep, 0))),
            HistoryRule::NeverKeep
        );
        assert_eq!(
            HistoryRule::from_wire(Some(&wire(HistoryRetention::AnonymizeAfterDays, 0))),
            HistoryRule::AnonymizeAfterDays(1)
        );
        assert_eq!(
            HistoryRule::from_wire(Some(&wire(HistoryRetention::AnonymizeAfterDays, 99_999))),
            HistoryRule::AnonymizeAfterDays(MAX_DAYS)
        );
    }
}
