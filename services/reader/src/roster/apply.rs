//! Running a planned import against the database, inside the caller's
//! transaction: load what the school has (a handful of queries, not one
//! per reader), plan, and — when asked and the plan has no errors — write.
//! A failure part way returns an error and the caller's transaction rolls
//! everything back.

use chrono::NaiveDateTime;
use lectern_common::db::DbConnection;
use lectern_core::ids;

use super::Roster;
use super::plan::{self, Existing, Plan};
use crate::db;
use crate::error::Error;

/// Loads the school's readers and classes and the card holders the plan
/// needs, and plans the import.
pub fn plan(
    connection: &mut DbConnection,
    roster: &Roster,
    school_id: &str,
    now: NaiveDateTime,
) -> Result<Plan, Error> {
    let cards: Vec<String> = roster
        .readers
        .iter()
        .map(|reader| reader.card_barcode.clone().unwrap_or_else(|| reader.number.clone()))
        .collect();
    let existing = Existing {
        readers: db::roster::school_readers(connection, school_id)?,
        classes: db::roster::school_classes(connection, school_id)?,
        card_holders: db::roster::card_holders(connection, &cards)?,
    };
    Ok(plan::plan(roster, school_id, &existing, now, ids::new_id))
}

/// Writes the plan: classes first (readers point at them), then new
/// readers, then changed ones. `progress` hears (done, total) now and then.
pub fn write(
    connection: &mut DbConnection,
    plan: &Plan,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), Error> {
    let total = plan.writes() as u64;
    let step = (total / 100).max(50);
    let mut done = 0_u64;
    let mut tick = |done: u64| {
        if done.is_multiple_of(step) || done == total {
            progress(done, total);
        }
    };
    for class in &plan.new_classes {
        db::organisation::insert_class(connection, class)?;
        done += 1;
        tick(done);
    }
    for reader in &plan.creates {
        db::readers::insert_reader(connection, reader)?;
        done += 1;
        tick(done);
    }
    for reader in &plan.updates {
        db::readers::update_reader(connection, reader)?;
        done += 1;
        tick(done);
    }
    tracing::info!(
        classes.created = plan.new_classes.len(),
        readers.created = plan.creates.len(),
        readers.updated = plan.updates.len(),
        "roster applied"
    );
    Ok(())
}
