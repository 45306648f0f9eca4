//! Stocktake (盘点) rules, without I/O: what one scan means (ok, misplaced,
//! status mismatch, unknown, duplicate), which unscanned copies finalizing
//! marks missing, how progress is counted per shelf location, and the
//! preview token that makes a confirm fail when anything changed since the
//! preview. `stocktake_session` and `stocktake_scan` apply them in the
//! database (`db::stocktake`); `grpc_stocktake` serves them.
//!
//! Decisions (see also `docs/stocktake.md`):
//! - The copies a session counts are fixed when it starts: the school's
//!   copies that are not withdrawn, on the session's shelf locations if it
//!   names some. A copy catalogued later, or shelved elsewhere, is "out of
//!   scope": a scan of it is recorded and classified, but it is never marked
//!   missing and not counted in progress.
//! - A copy is misplaced when it was scanned at a shelf location and that
//!   is not its own. A copy without a location of its own, or a scan without
//!   a location, is never misplaced.
//! - A copy's record disagrees with finding it on the shelf (status
//!   mismatch) when it is on loan per the availability view, or missing,
//!   lost or withdrawn. In process, damaged and in repair copies may well be
//!   in the library, so they are not a mismatch.
//! - Finalizing marks missing only the unscanned copies the records say are
//!   on the shelf: available and not on loan. A copy on loan is with a
//!   reader, and one already missing or lost stays as it is.
//! - The first scan of a copy counts; scanning it again is a harmless
//!   duplicate that changes nothing.

use lectern_proto::catalog::v1 as pb;
use pb::{CopyStatus, ScanOutcome};

/// A session's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Taking scans.
    Open,
    /// Unscanned copies were marked missing.
    Finalized,
    /// Abandoned.
    Cancelled,
}

impl State {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Finalized => "finalized",
            Self::Cancelled => "cancelled",
        }
    }

    /// A stored name as a state; unknown names read as cancelled, so a
    /// session in a state this version does not know takes no scans.
    pub fn parse(stored: &str) -> Self {
        match stored {
            "open" => Self::Open,
            "finalized" => Self::Finalized,
            _ => Self::Cancelled,
        }
    }

    /// The API enum.
    pub fn to_proto(self) -> pb::StocktakeState {
        match self {
            Self::Open => pb::StocktakeState::Open,
            Self::Finalized => pb::StocktakeState::Finalized,
            Self::Cancelled => pb::StocktakeState::Cancelled,
        }
    }
}

/// Why a copy's record disagrees with finding it on the shelf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Lent to a reader, per circulation's events: check it in.
    OnLoan,
    /// Marked missing: make it available again.
    Missing,
    /// Declared lost.
    Lost,
    /// Withdrawn from the collection.
    Withdrawn,
}

impl Mismatch {
    /// The stored name (`stocktake_items.mismatch`).
    pub fn name(self) -> &'static str {
        match self {
            Self::OnLoan => "on_loan",
            Self::Missing => "missing",
            Self::Lost => "lost",
            Self::Withdrawn => "withdrawn",
        }
    }
}

/// Whether finding a copy with this record on the shelf disagrees with it.
pub fn mismatch_of(status: CopyStatus, on_loan: bool) -> Option<Mismatch> {
    match status {
        CopyStatus::Missing => Some(Mismatch::Missing),
        CopyStatus::Lost => Some(Mismatch::Lost),
        CopyStatus::Withdrawn => Some(Mismatch::Withdrawn),
        _ if on_loan => Some(Mismatch::OnLoan),
        _ => None,
    }
}

/// Whether a copy scanned at `scanned` belongs elsewhere: both locations
/// known and different.
pub fn is_misplaced(own: Option<&str>, scanned: Option<&str>) -> bool {
    matches!((own, scanned), (Some(own), Some(scanned)) if own != scanned)
}

/// Whether an unscanned copy with this record is missing: the records say
/// it is on the shelf (available, not on loan). Finalizing marks exactly
/// these.
pub fn expected_on_shelf(status: CopyStatus, on_loan: bool) -> bool {
    status == CopyStatus::Available && !on_loan
}

/// A copy of the session's school, as a scan finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnCopy {
    /// Lifecycle status now.
    pub status: CopyStatus,
    /// On loan per the availability view.
    pub on_loan: bool,
    /// Its own shelf location.
    pub location_id: Option<String>,
    /// Counted by the session (fixed at start).
    pub in_scope: bool,
    /// Scanned before in this session.
    pub already_scanned: bool,
}

/// What a scanned barcode is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No copy in the catalog has it.
    NotInCatalog,
    /// Another school's copy.
    OtherSchool,
    /// A copy of the session's school.
    Own(OwnCopy),
}

/// What one scan means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    /// The outcome shown for the scan.
    pub outcome: ScanOutcome,
    /// Found at another location than its own.
    pub misplaced: bool,
    /// The record disagrees.
    pub mismatch: Option<Mismatch>,
}

/// Classifies a scan at `scanned_location`. `seen_unknown` says whether an
/// unknown barcode was already recorded in this session. A status mismatch
/// wins over misplaced in the outcome (the copy needs a record fix first);
/// `misplaced` is reported either way.
pub fn classify(found: &Found, scanned_location: Option<&str>, seen_unknown: bool) -> Classification {
    let plain = |outcome| Classification { outcome, misplaced: false, mismatch: None };
    let copy = match found {
        Found::NotInCatalog | Found::OtherSchool if seen_unknown => return plain(ScanOutcome::Duplicate),
        Found::NotInCatalog | Found::OtherSchool => return plain(ScanOutcome::UnknownBarcode),
        Found::Own(copy) => copy,
    };
    let misplaced = is_misplaced(copy.location_id.as_deref(), scanned_location);
    let mismatch = mismatch_of(copy.status, copy.on_loan);
    let outcome = if copy.already_scanned {
        ScanOutcome::Duplicate
    } else if mismatch.is_some() {
        ScanOutcome::StatusMismatch
    } else if misplaced {
        ScanOutcome::Misplaced
    } else {
        ScanOutcome::Ok
    };
    Classification { outcome, misplaced, mismatch }
}

/// The key that keeps one session open per school and set of shelf
/// locations: the school and the sorted, distinct location ids.
pub fn open_key(school_id: &str, location_ids: &[String]) -> String {
    let mut ids = location_ids.to_vec();
    ids.sort();
    ids.dedup();
    format!("{school_id}|{}", ids.join(","))
}

/// One in-scope copy, for counting progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFacts {
    /// Its shelf location now.
    pub location_id: Option<String>,
    /// Scanned in this session.
    pub scanned: bool,
    /// Lifecycle status now.
    pub status: CopyStatus,
    /// On loan now.
    pub on_loan: bool,
}

/// Counts of scanned copies that need attention, read from the session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Findings {
    /// Scanned copies found at another location.
    pub misplaced: i32,
    /// Scanned copies whose record disagreed.
    pub status_mismatch: i32,
    /// Unknown barcodes.
    pub unknown_barcodes: i32,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Progress of a session from its in-scope copies; `names` gives the shelf
/// locations' names. Locations come by name, copies without one last.
pub fn progress(
    items: &[ItemFacts],
    findings: Findings,
    names: &[(String, String)],
) -> pb::StocktakeProgress {
    let name_of = |id: &str| names.iter().find(|(known, _)| known == id).map(|(_, name)| name.clone());
    let mut locations: Vec<pb::LocationProgress> = Vec::new();
    for item in items {
        let id = item.location_id.clone().unwrap_or_default();
        let index = match locations.iter().position(|location| location.location_id == id) {
            Some(index) => index,
            None => {
                let location_name = name_of(&id).unwrap_or_default();
                locations.push(pb::LocationProgress { location_id: id, location_name, ..Default::default() });
                locations.len() - 1
            }
        };
        let location = &mut locations[index];
        location.in_scope += 1;
        if item.scanned {
            location.scanned += 1;
        } else {
            location.remaining += 1;
        }
    }
    locations.sort_by(|a, b| {
        (a.location_id.is_empty(), &a.location_name, &a.location_id).cmp(&(
            b.location_id.is_empty(),
            &b.location_name,
            &b.location_id,
        ))
    });
    let scanned = items.iter().filter(|item| item.scanned).count();
    let missing =
        items.iter().filter(|item| !item.scanned && expected_on_shelf(item.status, item.on_loan)).count();
    pb::StocktakeProgress {
        in_scope: count(items.len()),
        scanned: count(scanned),
        remaining: count(items.len() - scanned),
        would_mark_missing: count(missing),
        misplaced: findings.misplaced,
        status_mismatch: findings.status_mismatch,
        unknown_barcodes: findings.unknown_barcodes,
        locations,
    }
}

/// The token a finalize preview hands out: the session's scan version and
/// a fingerprint of exactly which copies it would mark. A confirm with a
/// token that differs from the one computed then is refused, so a scan, a
/// check-out or a check-in between preview and confirm is noticed.
pub fn preview_token(version: i64, copy_ids: &[String]) -> String {
    let mut ids: Vec<&str> = copy_ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    // FNV-1a, 64 bit: stable across builds and platforms, unlike std's
    // hasher; collisions only matter against a careless client, never an
    // attacker (the confirm is also checked against the caller's school).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for byte in id.bytes().chain(std::iter::once(b'\n')) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("v{version}-{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(status: CopyStatus, on_loan: bool, location: Option<&str>) -> Found {
        Found::Own(OwnCopy {
            status,
            on_loan,
            location_id: location.map(str::to_owned),
            in_scope: true,
            already_scanned: false,
        })
    }

    #[test]
    fn a_copy_on_its_shelf_is_ok_and_elsewhere_misplaced() {
        let on_a = own(CopyStatus::Available, false, Some("A"));
        assert_eq!(classify(&on_a, Some("A"), false).outcome, ScanOutcome::Ok);
        assert_eq!(classify(&on_a, None, false).outcome, ScanOutcome::Ok);
        let at_b = classify(&on_a, Some("B"), false);
        assert_eq!((at_b.outcome, at_b.misplaced), (ScanOutcome::Misplaced, true));
        let nowhere = own(CopyStatus::Available, false, None);
        assert_eq!(classify(&nowhere, Some("B"), false).outcome, ScanOutcome::Ok);
    }

    #[test]
    fn records_that_disagree_are_a_status_mismatch_even_when_misplaced() {
        let lent = classify(&own(CopyStatus::Available, true, Some("A")), Some("B"), false);
        assert_eq!(
            (lent.outcome, lent.misplaced, lent.mismatch),
            (ScanOutcome::StatusMismatch, true, Some(Mismatch::OnLoan))
        );
        for (status, mismatch) in [
            (CopyStatus::Missing, Mismatch::Missing),
            (CopyStatus::Lost, Mismatch::Lost),
            (CopyStatus::Withdrawn, Mismatch::Withdrawn),
        ] {
            let found = classify(&own(status, false, Some("A")), Some("A"), false);
            assert_eq!((found.outcome, found.mismatch), (ScanOutcome::StatusMismatch, Some(mismatch)));
        }
        for status in [CopyStatus::InProcess, CopyStatus::Damaged, CopyStatus::InRepair] {
            assert_eq!(classify(&own(status, false, None), None, false).outcome, ScanOutcome::Ok);
        }
    }

    #[test]
    fn unknown_and_repeated_barcodes() {
        assert_eq!(classify(&Found::NotInCatalog, None, false).outcome, ScanOutcome::UnknownBarcode);
        assert_eq!(classify(&Found::OtherSchool, Some("A"), false).outcome, ScanOutcome::UnknownBarcode);
        assert_eq!(classify(&Found::NotInCatalog, None, true).outcome, ScanOutcome::Duplicate);
        let Found::Own(mut copy) = own(CopyStatus::Available, true, Some("A")) else { unreachable!() };
        copy.already_scanned = true;
        let again = classify(&Found::Own(copy), Some("B"), false);
        assert_eq!(again.outcome, ScanOutcome::Duplicate);
        assert_eq!(again.mismatch, Some(Mismatch::OnLoan), "the facts are still reported");
    }

    #[test]
    fn only_copies_said_to_be_on_the_shelf_go_missing() {
        assert!(expected_on_shelf(CopyStatus::Available, false));
        assert!(!expected_on_shelf(CopyStatus::Available, true));
        for status in [CopyStatus::Missing, CopyStatus::Lost, CopyStatus::InRepair, CopyStatus::Damaged] {
            assert!(!expected_on_shelf(status, false), "{status:?}");
        }
    }

    #[test]
    fn one_open_session_per_school_and_location_set() {
        let ids = |list: &[&str]| list.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>();
        assert_eq!(open_key("s1", &ids(&["b", "a", "b"])), open_key("s1", &ids(&["a", "b"])));
        assert_ne!(open_key("s1", &ids(&["a"])), open_key("s1", &[]));
        assert_ne!(open_key("s1", &[]), open_key("s2", &[]));
    }

    #[test]
    fn progress_counts_per_location_by_name_with_unshelved_last() {
        let item = |location: Option<&str>, scanned, status, on_loan| ItemFacts {
            location_id: location.map(str::to_owned),
            scanned,
            status,
            on_loan,
        };
        let items = vec![
            item(Some("L2"), true, CopyStatus::Available, false),
            item(Some("L2"), false, CopyStatus::Available, false),
            item(None, false, CopyStatus::Available, true),
            item(Some("L1"), false, CopyStatus::Missing, false),
            item(Some("L1"), true, CopyStatus::Available, false),
        ];
        let names =
            vec![("L1".to_owned(), "一楼 A 区".to_owned()), ("L2".to_owned(), "二楼 B 区".to_owned())];
        let findings = Findings { misplaced: 1, status_mismatch: 0, unknown_barcodes: 2 };
        let progress = progress(&items, findings, &names);
        assert_eq!((progress.in_scope, progress.scanned, progress.remaining), (5, 2, 3));
        assert_eq!(progress.would_mark_missing, 1, "the lent and the missing copy are not counted");
        assert_eq!((progress.misplaced, progress.unknown_barcodes), (1, 2));
        let rows: Vec<_> = progress
            .locations
            .iter()
            .map(|l| (l.location_name.as_str(), l.in_scope, l.scanned, l.remaining))
            .collect();
        assert_eq!(rows, vec![("一楼 A 区", 2, 1, 1), ("二楼 B 区", 2, 1, 1), ("", 1, 0, 1)]);
    }

    #[test]
    fn the_preview_token_changes_with_scans_and_with_the_copies() {
        let ids = vec!["c2".to_owned(), "c1".to_owned()];
        let token = preview_token(3, &ids);
        assert_eq!(token, preview_token(3, &["c1".to_owned(), "c2".to_owned()]), "order does not matter");
        assert_ne!(token, preview_token(4, &ids));
        assert_ne!(token, preview_token(3, &ids[..1]));
        assert!(token.starts_with("v3-"));
    }

    #[test]
    fn states_round_trip() {
        for state in [State::Open, State::Finalized, State::Cancelled] {
            assert_eq!(State::parse(state.name()), state);
        }
        assert_eq!(State::parse("archived"), State::Cancelled);
    }
}
