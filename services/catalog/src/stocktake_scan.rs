//! Recording a batch of stocktake scans: each scan is classified by the
//! rules in [`crate::stocktake`] and stored once; a bad scan is answered in
//! its own result and the rest of the batch still counts.

use chrono::NaiveDateTime;
use lectern_common::db::DbConnection;
use lectern_core::validate::{self, FieldError};
use lectern_proto::catalog::v1 as pb;
use pb::{ScanOutcome, UnknownReason};

use crate::copies::status_of;
use crate::db::stocktake::{self as store, StocktakeItemRow, StocktakeRow, UnknownBarcodeRow};
use crate::stocktake::{self as rules, Found, OwnCopy};
use crate::stocktake_session::{closed, load, view};
use lectern_common::Error;

/// Longest shelf location name or id a scan may name, in characters.
pub const MAX_LOCATION_CHARS: usize = 100;

/// One scan of a batch, checked before the transaction: the barcode, or
/// what is wrong with it.
#[derive(Debug, Clone)]
pub struct ScanDraft {
    pub barcode: Result<String, String>,
    /// Shelf location as given (id or name); empty for the batch's; or
    /// what is wrong with it.
    pub location: Result<String, String>,
    /// The raw barcode, echoed in an invalid scan's result.
    pub raw: String,
}

impl ScanDraft {
    /// Checks scan number `index` of a request.
    pub fn from_scan(index: usize, scan: &pb::Scan) -> Self {
        let barcode = validate::barcode("barcode", &scan.barcode)
            .map_err(|error| format!("scans[{index}].{}: {}", error.field, error.problem));
        let location = validate::optional_text("location", &scan.location, MAX_LOCATION_CHARS)
            .map_err(|error| format!("scans[{index}].{}: {}", error.field, error.problem));
        Self { barcode, location, raw: scan.barcode.clone() }
    }
}

/// Records a batch of scans. The batch's location must be one of the
/// school's; a bad scan is reported in its own result and the rest count.
pub fn record_scans(
    connection: &mut DbConnection,
    stocktake_id: &str,
    batch_location: &str,
    scans: &[ScanDraft],
    scanned_by: &str,
    now: NaiveDateTime,
) -> Result<pb::RecordScansResponse, Error> {
    let row = load(connection, stocktake_id)?;
    if !store::bump_version(connection, stocktake_id)? {
        return Err(closed(&row).into());
    }
    let batch_location = match batch_location {
        "" => None,
        text => Some(store::resolve_location(connection, &row.school_id, text)?.ok_or_else(|| {
            FieldError::new("location", format!("{text:?} is not a shelf location of this school"))
        })?),
    };
    let mut results = Vec::with_capacity(scans.len());
    for (index, scan) in scans.iter().enumerate() {
        let location = match &scan.location {
            Err(error) => {
                results.push(invalid(scan.raw.trim(), error.clone()));
                continue;
            }
            Ok(text) if text.is_empty() => batch_location.clone(),
            Ok(text) => match store::resolve_location(connection, &row.school_id, text)? {
                Some(location) => Some(location),
                None => {
                    let error =
                        format!("scans[{index}].location: {text:?} is not a shelf location of this school");
                    results.push(invalid(scan.raw.trim(), error));
                    continue;
                }
            },
        };
        let result = match &scan.barcode {
            Err(error) => invalid(scan.raw.trim(), error.clone()),
            Ok(barcode) => record_one(connection, &row, barcode, location, scanned_by, now)?,
        };
        results.push(result);
    }
    let row = load(connection, stocktake_id)?;
    Ok(pb::RecordScansResponse { results, stocktake: Some(view(connection, &row, true)?) })
}

fn invalid(barcode: &str, error: String) -> pb::ScanResult {
    pb::ScanResult {
        barcode: barcode.chars().take(64).collect(),
        outcome: ScanOutcome::Invalid.into(),
        error,
        ..Default::default()
    }
}

fn record_one(
    connection: &mut DbConnection,
    row: &StocktakeRow,
    barcode: &str,
    location: Option<String>,
    scanned_by: &str,
    now: NaiveDateTime,
) -> Result<pb::ScanResult, Error> {
    let mut result = pb::ScanResult {
        barcode: barcode.to_owned(),
        scanned_location_id: location.clone().unwrap_or_default(),
        ..Default::default()
    };
    let copy = store::scanned_copy(connection, barcode)?;
    let (found, item) = match &copy {
        None => (Found::NotInCatalog, None),
        Some(copy) if copy.school_id != row.school_id => (Found::OtherSchool, None),
        Some(copy) => {
            let item = store::find_item(connection, &row.id, &copy.id)?;
            let own = OwnCopy {
                status: status_of(&copy.status),
                on_loan: copy.on_loan,
                location_id: copy.location_id.clone(),
                in_scope: item.as_ref().is_some_and(|item| item.in_scope),
                already_scanned: item.as_ref().is_some_and(|item| item.scanned_at.is_some()),
            };
            (Found::Own(own), item)
        }
    };
    let seen_unknown = match found {
        Found::Own(_) => false,
        _ => store::unknown_seen(connection, &row.id, barcode)?,
    };
    let classification = rules::classify(&found, location.as_deref(), seen_unknown);
    let mut outcome = classification.outcome;
    if let Some(copy) = &copy {
        result.copy_id = copy.id.clone();
        result.title = copy.title.clone();
        result.expected_location_id = copy.location_id.clone().unwrap_or_default();
        result.copy_status = status_of(&copy.status).into();
        result.on_loan = copy.on_loan;
    }
    match &found {
        Found::NotInCatalog | Found::OtherSchool => {
            let other_school = copy.as_ref().map(|copy| copy.school_id.clone());
            result.unknown_reason = if other_school.is_some() {
                UnknownReason::OtherSchool.into()
            } else {
                UnknownReason::NotInCatalog.into()
            };
            result.holding_school_id = other_school.clone().unwrap_or_default();
            if outcome == ScanOutcome::UnknownBarcode {
                let reason = if other_school.is_some() { "other_school" } else { "not_in_catalog" };
                store::insert_unknown(
                    connection,
                    &UnknownBarcodeRow {
                        stocktake_id: row.id.clone(),
                        barcode: barcode.to_owned(),
                        reason: reason.to_owned(),
                        copy_id: copy.as_ref().map(|copy| copy.id.clone()),
                        holding_school_id: other_school,
                        scanned_at: now,
                        scanned_by: scanned_by.to_owned(),
                        scanned_location_id: location,
                    },
                )?;
            }
        }
        Found::Own(own) => {
            result.misplaced = classification.misplaced;
            result.out_of_scope = !own.in_scope;
            if outcome != ScanOutcome::Duplicate {
                let copy_id = copy.as_ref().map(|copy| copy.id.clone()).unwrap_or_default();
                let scan = StocktakeItemRow {
                    stocktake_id: row.id.clone(),
                    copy_id,
                    barcode: barcode.to_owned(),
                    in_scope: own.in_scope,
                    scanned_at: Some(now),
                    scanned_by: Some(scanned_by.to_owned()),
                    scanned_location_id: location,
                    misplaced: classification.misplaced,
                    mismatch: classification
                        .mismatch
                        .map(|mismatch| mismatch.name())
                        .unwrap_or("")
                        .to_owned(),
                    marked_missing: false,
                };
                if item.is_some() {
                    // Another station recorded it first (PostgreSQL): a duplicate.
                    if !store::record_item_scan(connection, &scan)? {
                        outcome = ScanOutcome::Duplicate;
                    }
                } else {
                    store::insert_item(connection, &scan)?;
                }
            }
        }
    }
    result.outcome = outcome.into();
    Ok(result)
}
