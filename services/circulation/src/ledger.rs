//! The fee transactions: charging a fee and settling part of one (a
//! payment or a waiver). Each writes the ledger and its outbox event in the
//! caller's transaction (`Db::write`), so a fee and its notice commit
//! together or not at all.

use chrono::NaiveDateTime;
use lectern_common::db::DbConnection;
use lectern_common::outbox;
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::circulation::v1::FeeEntryKind;

use lectern_common::Error;

use crate::db::LoanRow;
use crate::db::fees::{self, FeeEntryRow, FeeRow};
use crate::events::{self, FEE_SUBSCRIBERS};
use crate::policy::fees::{balance, money_text};

/// Events about a reader's fees are ordered per reader.
fn subject(fee: &FeeRow) -> &str {
    fee.reader_id.as_deref().unwrap_or(&fee.id)
}

/// Stores a new fee and enqueues `fee.charged` with the reader's balance
/// at the fee's school.
pub fn charge(connection: &mut DbConnection, fee: &FeeRow) -> Result<(), Error> {
    fees::insert_fee(connection, fee)?;
    let owed = match &fee.reader_id {
        Some(reader_id) => {
            let schools = [fee.school_id.clone()];
            balance(&fees::fees_of_reader(connection, reader_id, false, Some(&schools))?)
        }
        None => fee.outstanding,
    };
    let event = events::fee_charged(ids::new_id(), fee, owed);
    outbox::enqueue(connection, &event, subject(fee), &FEE_SUBSCRIBERS, fee.created_at)?;
    Ok(())
}

/// What settles part of a fee.
#[derive(Debug, Clone, Copy)]
pub struct Settlement<'a> {
    pub kind: FeeEntryKind,
    pub amount: i64,
    /// Why (waivers); empty for payments.
    pub reason: &'a str,
    /// The staff member.
    pub by: &'a str,
    pub at: NaiveDateTime,
}

/// Settles `settlement.amount` of the fee `fee_id` and enqueues `fee.paid`
/// or `fee.waived`; returns the fee as it is now. Refuses if the fee is
/// unknown or has less than that outstanding (another desk was first).
pub fn settle(
    connection: &mut DbConnection,
    fee_id: &str,
    settlement: Settlement<'_>,
) -> Result<FeeRow, Error> {
    let entry = FeeEntryRow {
        id: ids::new_id(),
        fee_id: fee_id.to_owned(),
        kind: crate::convert::fee_entry_kind_to_stored(settlement.kind).to_owned(),
        amount: settlement.amount,
        reason: settlement.reason.to_owned(),
        created_by: settlement.by.to_owned(),
        created_at: settlement.at,
    };
    if !fees::settle(connection, &entry)? {
        let refusal = match fees::find_fee(connection, fee_id)? {
            None => fee_not_found(fee_id),
            Some(fee) if fee.outstanding == 0 => fee_settled(&fee),
            Some(fee) => payment_too_large(fee.outstanding),
        };
        return Err(refusal.into());
    }
    let fee = fees::find_fee(connection, fee_id)?.ok_or_else(|| fee_not_found(fee_id))?;
    let event = events::fee_settled(ids::new_id(), &fee, &entry);
    outbox::enqueue(connection, &event, subject(&fee), &FEE_SUBSCRIBERS, settlement.at)?;
    Ok(fee)
}

/// No fee has this id.
pub fn fee_not_found(id: &str) -> Refusal {
    Refusal::new(Reason::FeeNotFound, format!("no fee has id {id}")).with("fee_id", id)
}

/// The fee is paid or waived already.
pub fn fee_settled(fee: &FeeRow) -> Refusal {
    Refusal::new(Reason::FeeSettled, "this fee is already paid or waived").with("fee_id", fee.id.clone())
}

/// A payment larger than what is owed.
pub fn payment_too_large(owed: i64) -> Refusal {
    Refusal::new(Reason::PaymentTooLarge, format!("the payment is more than is owed ({})", money_text(owed)))
        .with("owed", owed.to_string())
}

/// A fee on `loan`: for a lost or damaged copy, a processing fee, an
/// overdue fine. A fee is a debt, not loan history: it names the reader
/// even when the loan later forgets them.
pub fn fee_on_loan(
    loan: &LoanRow,
    kind: &str,
    amount: i64,
    note: String,
    by: &str,
    at: NaiveDateTime,
) -> FeeRow {
    FeeRow {
        id: ids::new_id(),
        reader_id: loan.reader_id.clone(),
        school_id: loan.school_id.clone(),
        loan_id: loan.id.clone(),
        kind: kind.to_owned(),
        amount,
        outstanding: amount,
        copy_barcode: loan.copy_barcode.clone(),
        title: loan.title.clone(),
        reader_class_id: loan.reader_class_id.clone(),
        reader_grade: loan.reader_grade,
        note,
        created_by: by.to_owned(),
        created_at: at,
    }
}

/// A lost copy came back: its price is refunded (the processing fee
/// stands). What is still owed of the price is waived, and what was paid
/// is paid back (a refund entry and `fee.refunded`). Run inside the
/// check-in's transaction.
pub fn refund_lost_price(
    connection: &mut DbConnection,
    loan_id: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<(), Error> {
    for fee in fees::fees_of_loan(connection, loan_id)? {
        if fee.kind != "lost" {
            continue;
        }
        let mut fee = fee;
        if fee.outstanding > 0 {
            let settlement = Settlement {
                kind: FeeEntryKind::Waiver,
                amount: fee.outstanding,
                reason: "copy found",
                by,
                at,
            };
            fee = settle(connection, &fee.id, settlement)?;
        }
        let entries = fees::entries_of(connection, std::slice::from_ref(&fee.id))?;
        let paid = entries.iter().fold(0_i64, |total, entry| match entry.kind.as_str() {
            "payment" => total.saturating_add(entry.amount),
            "refund" => total.saturating_sub(entry.amount),
            _ => total,
        });
        if paid > 0 {
            let entry = FeeEntryRow {
                id: ids::new_id(),
                fee_id: fee.id.clone(),
                kind: crate::convert::fee_entry_kind_to_stored(FeeEntryKind::Refund).to_owned(),
                amount: paid,
                reason: "copy found".to_owned(),
                created_by: by.to_owned(),
                created_at: at,
            };
            fees::insert_entry(connection, &entry)?;
            let event = events::fee_settled(ids::new_id(), &fee, &entry);
            outbox::enqueue(connection, &event, subject(&fee), &FEE_SUBSCRIBERS, at)?;
        }
    }
    Ok(())
}
