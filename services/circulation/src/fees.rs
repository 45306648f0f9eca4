//! Fees: what kinds there are, how a payment is spread over a reader's
//! open fees (oldest first, each paid off before the next), and what a
//! request to charge, pay or waive must hold. Plain functions, no I/O; the
//! ledger itself is `db::fees`.

use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::{FeeEntryKind, FeeKind};

use crate::db::fees::FeeRow;

/// Most one fee, payment or fine may be: 100,000.00 in minor units.
pub const MAX_AMOUNT: i64 = 10_000_000;
/// Longest note or waiver reason.
pub const MAX_REASON_CHARS: usize = 500;
/// Who charges overdue fines (the `created_by` of fines).
pub const CHARGED_BY_CIRCULATION: &str = "circulation";

/// The stored name of a fee kind.
pub fn kind_to_stored(kind: FeeKind) -> &'static str {
    match kind {
        FeeKind::Overdue => "overdue",
        FeeKind::Lost => "lost",
        FeeKind::Damaged => "damaged",
        FeeKind::Processing | FeeKind::Unspecified => "processing",
    }
}

/// A stored fee kind back on the wire.
pub fn kind_from_stored(kind: &str) -> FeeKind {
    match kind {
        "overdue" => FeeKind::Overdue,
        "lost" => FeeKind::Lost,
        "damaged" => FeeKind::Damaged,
        "processing" => FeeKind::Processing,
        _ => FeeKind::Unspecified,
    }
}

/// The stored name of a ledger entry kind.
pub fn entry_kind_to_stored(kind: FeeEntryKind) -> &'static str {
    match kind {
        FeeEntryKind::Waiver => "waiver",
        FeeEntryKind::Refund => "refund",
        FeeEntryKind::Payment | FeeEntryKind::Unspecified => "payment",
    }
}

/// A stored ledger entry kind back on the wire.
pub fn entry_kind_from_stored(kind: &str) -> FeeEntryKind {
    match kind {
        "payment" => FeeEntryKind::Payment,
        "waiver" => FeeEntryKind::Waiver,
        "refund" => FeeEntryKind::Refund,
        _ => FeeEntryKind::Unspecified,
    }
}

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

/// What a reader owes in all over `fees`.
pub fn balance(fees: &[FeeRow]) -> i64 {
    fees.iter().fold(0_i64, |total, fee| total.saturating_add(fee.outstanding))
}

/// How a payment of `amount` is spread over `open` fees: oldest first,
/// each paid off before the next. `None` if the fees come to less than
/// the payment.
pub fn spread(amount: i64, open: &[FeeRow]) -> Option<Vec<(String, i64)>> {
    if amount > balance(open) {
        return None;
    }
    let mut oldest_first: Vec<&FeeRow> = open.iter().filter(|fee| fee.outstanding > 0).collect();
    oldest_first.sort_by(|a, b| a.id.cmp(&b.id));
    let mut left = amount;
    let mut parts = Vec::new();
    for fee in oldest_first {
        if left == 0 {
            break;
        }
        let part = left.min(fee.outstanding);
        parts.push((fee.id.clone(), part));
        left -= part;
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee(id: &str, outstanding: i64) -> FeeRow {
        FeeRow {
            id: id.into(),
            reader_id: Some("reader-1".into()),
            school_id: "school-1".into(),
            loan_id: "loan-1".into(),
            kind: "overdue".into(),
            amount: outstanding.max(1),
            outstanding,
            copy_barcode: "C1".into(),
            title: "草房子".into(),
            reader_class_id: None,
            reader_grade: 3,
            note: String::new(),
            created_by: CHARGED_BY_CIRCULATION.into(),
            created_at: chrono::NaiveDateTime::default(),
        }
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
    fn kinds_survive_storage() {
        for kind in [FeeKind::Overdue, FeeKind::Lost, FeeKind::Damaged, FeeKind::Processing] {
            assert_eq!(kind_from_stored(kind_to_stored(kind)), kind);
        }
        for kind in [FeeEntryKind::Payment, FeeEntryKind::Waiver, FeeEntryKind::Refund] {
            assert_eq!(entry_kind_from_stored(entry_kind_to_stored(kind)), kind);
        }
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
