//! Fees: how a payment is spread over a reader's open fees (oldest first,
//! each paid off before the next), what a request to charge, pay or waive
//! must hold, and how money reads at the desk. Plain functions, no I/O;
//! the ledger itself is `ledger` and `db::fees`.

use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::FeeKind;

/// Most one fee, payment or fine may be: 100,000.00 in minor units.
pub const MAX_AMOUNT: i64 = 10_000_000;
/// Longest note or waiver reason.
pub const MAX_REASON_CHARS: usize = 500;
/// Who charges overdue fines (the `created_by` of fines).
pub const CHARGED_BY_CIRCULATION: &str = "circulation";

/// A fee the desk may charge: damaged, lost or processing (fines come from
/// check-in).
pub fn chargeable_kind(kind: i32) -> Result<FeeKind, FieldError> {
    match validate::known_enum::<FeeKind>("kind", kind)? {
        kind @ (FeeKind::Damaged | FeeKind::Lost | FeeKind::Processing) => Ok(kind),
        FeeKind::Overdue => Err(FieldError::new("kind", "overdue fines are charged by check-in")),
        FeeKind::Unspecified => Err(FieldError::new("kind", "is required (damaged, lost or processing)")),
    }
}

/// An amount of money in a request: 1 to [`MAX_AMOUNT`].
pub fn amount(field: &'static str, value: i64) -> Result<i64, FieldError> {
    if (1..=MAX_AMOUNT).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, format!("must be from 1 to {MAX_AMOUNT} (minor units)")))
    }
}

/// What the ledger rules read of an open fee.
pub trait Owed {
    /// The fee's id (UUIDv7: sorts by age).
    fn fee_id(&self) -> &str;
    /// What is still to pay, in minor units.
    fn outstanding(&self) -> i64;
}

/// What a reader owes in all over `fees`.
pub fn balance<F: Owed>(fees: &[F]) -> i64 {
    fees.iter().fold(0_i64, |total, fee| total.saturating_add(fee.outstanding()))
}

/// An amount in minor units as the desk reads it: "12.50".
pub fn money_text(minor_units: i64) -> String {
    let sign = if minor_units < 0 { "-" } else { "" };
    let minor_units = minor_units.unsigned_abs();
    format!("{sign}{}.{:02}", minor_units / 100, minor_units % 100)
}

/// How a payment of `amount` is spread over `open` fees: oldest first,
/// each paid off before the next. `None` if the fees come to less than
/// the payment.
pub fn spread<F: Owed>(amount: i64, open: &[F]) -> Option<Vec<(String, i64)>> {
    if amount > balance(open) {
        return None;
    }
    let mut oldest_first: Vec<&F> = open.iter().filter(|fee| fee.outstanding() > 0).collect();
    oldest_first.sort_by(|a, b| a.fee_id().cmp(b.fee_id()));
    let mut left = amount;
    let mut parts = Vec::new();
    for fee in oldest_first {
        if left == 0 {
            break;
        }
        let part = left.min(fee.outstanding());
        parts.push((fee.fee_id().to_owned(), part));
        left -= part;
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Open(&'static str, i64);

    impl Owed for Open {
        fn fee_id(&self) -> &str {
            self.0
        }
        fn outstanding(&self) -> i64 {
            self.1
        }
    }

    fn fee(id: &'static str, outstanding: i64) -> Open {
        Open(id, outstanding)
    }

    #[test]
    fn a_payment_pays_the_oldest_fees_first() {
        let open = [fee("0003", 300), fee("0001", 100), fee("0002", 0), fee("0004", 50)];
        assert_eq!(spread(250, &open), Some(vec![("0001".into(), 100), ("0003".into(), 150)]));
        assert_eq!(
            spread(450, &open),
            Some(vec![("0001".into(), 100), ("0003".into(), 300), ("0004".into(), 50)])
        );
        assert_eq!(spread(451, &open), None);
        assert_eq!(balance(&open), 450);
    }

    #[test]
    fn money_reads_as_the_desk_writes_it() {
        assert_eq!(money_text(1250), "12.50");
        assert_eq!(money_text(5), "0.05");
        assert_eq!(money_text(-300), "-3.00");
    }

    #[test]
    fn the_desk_charges_damage_loss_and_processing_only() {
        assert_eq!(chargeable_kind(FeeKind::Damaged.into()), Ok(FeeKind::Damaged));
        assert_eq!(chargeable_kind(FeeKind::Overdue.into()).unwrap_err().field, "kind");
        assert_eq!(chargeable_kind(0).unwrap_err().field, "kind");
        assert_eq!(chargeable_kind(99).unwrap_err().field, "kind");
        assert_eq!(amount("amount", 0).unwrap_err().field, "amount");
        assert!(amount("amount", MAX_AMOUNT + 1).is_err());
        assert_eq!(amount("amount", 250), Ok(250));
    }
}
