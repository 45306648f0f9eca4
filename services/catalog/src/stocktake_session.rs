//! Stocktake sessions in the database: starting one (fixing its copies),
//! finalizing and cancelling, and the views the API shows (the session
//! with its progress, report lines). Scans are recorded by
//! [`crate::stocktake_scan`]. Each function runs inside the caller's
//! transaction; the rules come from [`crate::stocktake`].

use chrono::NaiveDateTime;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::FieldError;
use lectern_proto::catalog::v1 as pb;
use pb::{CopyStatus, ReportSection, UnknownReason};

use crate::copies::status_of;
use crate::db::stocktake::{self as store, ItemLine, StocktakeRow, UnknownBarcodeRow};
use crate::lifecycle::{self, StatusChange};
use crate::stocktake::{self as rules, Findings, ItemFacts, State};

use lectern_common::Error;

/// NOT_FOUND / `STOCKTAKE_NOT_FOUND`.
pub fn not_found(id: &str) -> Refusal {
    Refusal::new(Reason::StocktakeNotFound, format!("no stocktake session has id {id}"))
        .with("stocktake_id", id)
}

pub(crate) fn closed(row: &StocktakeRow) -> Refusal {
    Refusal::new(
        Reason::StocktakeClosed,
        format!("stocktake session {} is {}; it takes no more changes", row.name, row.state),
    )
    .with("stocktake_id", row.id.as_str())
    .with("state", row.state.as_str())
}

/// The session with `id`, or NOT_FOUND.
pub fn load(connection: &mut DbConnection, id: &str) -> Result<StocktakeRow, Error> {
    store::find_stocktake(connection, id)?.ok_or_else(|| not_found(id).into())
}

/// A checked request to start a session.
#[derive(Debug, Clone)]
pub struct StartDraft {
    pub school_id: String,
    pub name: String,
    /// Shelf locations as given (ids or names), resolved in the transaction.
    pub locations: Vec<String>,
}

/// Starts a session: refuses if one is open for the same school and
/// locations, then fixes its copies.
pub fn start(
    connection: &mut DbConnection,
    draft: &StartDraft,
    id: String,
    started_by: &str,
    now: NaiveDateTime,
) -> Result<pb::Stocktake, Error> {
    let mut location_ids = Vec::new();
    for (index, text) in draft.locations.iter().enumerate() {
        let Some(location_id) = store::resolve_location(connection, &draft.school_id, text)? else {
            return Err(FieldError::new(
                "locations",
                format!("[{index}] {text:?} is not a shelf location of this school"),
            )
            .into());
        };
        location_ids.push(location_id);
    }
    location_ids.sort();
    location_ids.dedup();
    let open_key = rules::open_key(&draft.school_id, &location_ids);
    let already_open = |existing: String| -> Error {
        Refusal::new(
            Reason::StocktakeAlreadyOpen,
            "a stocktake of these shelves is already open at this school; resume it, or finalize or cancel it first",
        )
        .with("stocktake_id", existing)
        .into()
    };
    if let Some(existing) = store::open_stocktake_with_key(connection, &open_key)? {
        return Err(already_open(existing));
    }
    let row = StocktakeRow {
        id,
        school_id: draft.school_id.clone(),
        name: draft.name.clone(),
        state: State::Open.name().to_owned(),
        open_key: Some(open_key),
        started_by: started_by.to_owned(),
        started_at: now,
        closed_by: None,
        closed_at: None,
        version: 0,
        marked_missing: 0,
    };
    // A session started at the same moment elsewhere (PostgreSQL) trips
    // the unique open key.
    store::insert_stocktake(connection, &row, &location_ids).map_err(|error| {
        if unique_violation_on(&error, "open_key") { already_open(String::new()) } else { error.into() }
    })?;
    store::snapshot_scope(connection, &row.id, &row.school_id, &location_ids)?;
    view(connection, &row, true)
}

/// A session as the API shows it, with its progress if asked.
pub fn view(
    connection: &mut DbConnection,
    row: &StocktakeRow,
    with_progress: bool,
) -> Result<pb::Stocktake, Error> {
    let progress = if with_progress { Some(progress(connection, row)?) } else { None };
    Ok(pb::Stocktake {
        id: row.id.clone(),
        school_id: row.school_id.clone(),
        name: row.name.clone(),
        location_ids: store::stocktake_location_ids(connection, &row.id)?,
        state: State::parse(&row.state).to_proto().into(),
        started_by: row.started_by.clone(),
        start_time: Some(lectern_core::time::timestamp(row.started_at)),
        closed_by: row.closed_by.clone().unwrap_or_default(),
        close_time: row.closed_at.map(lectern_core::time::timestamp),
        marked_missing: row.marked_missing,
        progress,
    })
}

fn progress(connection: &mut DbConnection, row: &StocktakeRow) -> Result<pb::StocktakeProgress, Error> {
    let items: Vec<ItemFacts> = store::scope_facts(connection, &row.id)?
        .into_iter()
        .map(|(location_id, scanned_at, status, on_loan)| ItemFacts {
            location_id,
            scanned: scanned_at.is_some(),
            status: status_of(&status),
            on_loan,
        })
        .collect();
    let (misplaced, mismatch, unknown) = store::finding_counts(connection, &row.id)?;
    let clamp = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    let findings = Findings {
        misplaced: clamp(misplaced),
        status_mismatch: clamp(mismatch),
        unknown_barcodes: clamp(unknown),
    };
    let names = store::location_names(connection, &row.school_id)?;
    Ok(rules::progress(&items, findings, &names))
}

/// A report line about one of the session's copies.
pub fn item_entry((item, copy): &ItemLine) -> pb::ReportEntry {
    pb::ReportEntry {
        barcode: item.barcode.clone(),
        copy_id: item.copy_id.clone(),
        title: copy.title.clone(),
        call_number: copy.call_number.clone(),
        location_id: copy.location_id.clone().unwrap_or_default(),
        scanned_location_id: item.scanned_location_id.clone().unwrap_or_default(),
        copy_status: status_of(&copy.status).into(),
        on_loan: copy.on_loan,
        scan_time: item.scanned_at.map(lectern_core::time::timestamp),
        marked_missing: item.marked_missing,
        ..Default::default()
    }
}

/// A report line about an unknown barcode.
pub fn unknown_entry(row: &UnknownBarcodeRow) -> pb::ReportEntry {
    let unknown_reason =
        if row.reason == "other_school" { UnknownReason::OtherSchool } else { UnknownReason::NotInCatalog };
    pb::ReportEntry {
        barcode: row.barcode.clone(),
        copy_id: row.copy_id.clone().unwrap_or_default(),
        scanned_location_id: row.scanned_location_id.clone().unwrap_or_default(),
        scan_time: Some(lectern_core::time::timestamp(row.scanned_at)),
        unknown_reason: unknown_reason.into(),
        holding_school_id: row.holding_school_id.clone().unwrap_or_default(),
        ..Default::default()
    }
}

/// One page of a report section and the section's total.
pub fn report(
    connection: &mut DbConnection,
    row: &StocktakeRow,
    section: ReportSection,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<pb::ReportEntry>, i64), Error> {
    if section == ReportSection::UnknownBarcodes {
        let (rows, total) = store::unknown_section(connection, &row.id, after, limit)?;
        return Ok((rows.iter().map(unknown_entry).collect(), total));
    }
    let finalized = State::parse(&row.state) == State::Finalized;
    let (lines, total) = store::item_section(connection, &row.id, section, finalized, after, limit)?;
    Ok((lines.iter().map(item_entry).collect(), total))
}

/// What the librarian confirms: the preview's token, or its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    Token(String),
    Count(i32),
}

/// Previews finalizing an open session: the count, the first `limit`
/// copies and the token to confirm with.
pub fn preview(
    connection: &mut DbConnection,
    row: &StocktakeRow,
    limit: i64,
) -> Result<pb::FinalizeStocktakeResponse, Error> {
    if State::parse(&row.state) != State::Open {
        return Err(closed(row).into());
    }
    let ids = store::missing_copy_ids(connection, &row.id)?;
    let (copies, _) = report(connection, row, ReportSection::Missing, None, limit)?;
    Ok(pb::FinalizeStocktakeResponse {
        stocktake: Some(view(connection, row, true)?),
        count: i32::try_from(ids.len()).unwrap_or(i32::MAX),
        copies,
        preview_token: rules::preview_token(row.version, &ids),
        finalized: false,
    })
}

/// Finalizes an open session if `confirmation` still matches: marks the
/// copies not found missing, each with a status history entry, and closes
/// the session. Call in one write transaction: a refusal changes nothing.
pub fn finalize(
    connection: &mut DbConnection,
    stocktake_id: &str,
    confirmation: &Confirmation,
    actor_id: &str,
    now: NaiveDateTime,
    limit: i64,
) -> Result<pb::FinalizeStocktakeResponse, Error> {
    let row = load(connection, stocktake_id)?;
    // Taking the row lock first means no batch can slip in between reading
    // the version and marking (a batch bumps the version under the same lock).
    if !store::bump_version(connection, stocktake_id)? {
        return Err(closed(&row).into());
    }
    let ids = store::missing_copy_ids(connection, stocktake_id)?;
    let count = i32::try_from(ids.len()).unwrap_or(i32::MAX);
    let unchanged = match confirmation {
        Confirmation::Token(token) => *token == rules::preview_token(row.version, &ids),
        Confirmation::Count(expected) => *expected == count,
    };
    if !unchanged {
        return Err(Refusal::new(
            Reason::StocktakeChanged,
            format!(
                "the stocktake changed since the preview; {count} copies would be marked missing now — preview again"
            ),
        )
        .with("stocktake_id", stocktake_id)
        .with("count", count.to_string())
        .into());
    }
    let reason = format!("not found in stocktake {} ({})", row.name, row.id);
    let mut marked = 0;
    for copy_id in &ids {
        if mark_missing_after_stocktake(connection, copy_id, actor_id, &reason, now)? {
            store::set_marked_missing(connection, stocktake_id, copy_id)?;
            marked += 1;
        }
    }
    store::close_stocktake(connection, stocktake_id, State::Finalized.name(), actor_id, now, marked)?;
    let row = load(connection, stocktake_id)?;
    let (copies, _) = report(connection, &row, ReportSection::Missing, None, limit)?;
    Ok(pb::FinalizeStocktakeResponse {
        stocktake: Some(view(connection, &row, true)?),
        count: marked,
        copies,
        preview_token: String::new(),
        finalized: true,
    })
}

/// Marks a copy missing after a stocktake did not find it, through the
/// copy lifecycle (status history with who, when and why). Only a copy
/// that is still available and not on loan changes (the list was read in
/// the same transaction, so that is every listed copy); returns whether it
/// changed.
pub fn mark_missing_after_stocktake(
    connection: &mut DbConnection,
    copy_id: &str,
    actor_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let Some((copy, _)) = crate::db::find_copy(connection, copy_id)? else {
        return Ok(false);
    };
    if !rules::expected_on_shelf(status_of(&copy.status), copy.on_loan) {
        return Ok(false);
    }
    let change = StatusChange {
        to: CopyStatus::Missing,
        reason: reason.to_owned(),
        repair_notes: String::new(),
        repair_cost: None,
    };
    lifecycle::change_status(connection, &copy, &change, actor_id, now)?;
    Ok(true)
}

/// Cancels an open session; nothing is marked.
pub fn cancel(
    connection: &mut DbConnection,
    stocktake_id: &str,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<pb::Stocktake, Error> {
    let row = load(connection, stocktake_id)?;
    if !store::close_stocktake(connection, stocktake_id, State::Cancelled.name(), actor_id, now, 0)? {
        return Err(closed(&row).into());
    }
    let row = load(connection, stocktake_id)?;
    view(connection, &row, true)
}
