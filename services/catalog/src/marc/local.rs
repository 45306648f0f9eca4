//! Importing a MARC file held in memory on one connection, without a
//! server: the import as `MarcService/ImportMarc` runs it (the same reading
//! a batch or two ahead on a thread of its own, the same
//! [`commit_batch`] per batch, a dry run rolled back), minus the upload
//! stream and the progress messages.
//!
//! It stays in the catalog's library, not with the benchmarks: it holds no
//! synthetic data and no timing, only the catalog's own two steps, and the
//! catalog's integration tests check the import through it (a test of the
//! crate reaches only its public API). `lectern bench import` times the
//! same function, so the loop exists once.

use chrono::NaiveDateTime;
use lectern_common::db::DbConnection;
use lectern_proto::catalog::v1 as pb;

use super::apply::{ImportState, commit_batch};
use super::import::{ImportOptions, Prepared, read_file};
use lectern_common::Error;

/// Imports `file` with `options`; returns the running state (counts) and
/// the records that were refused. Stops at the first database failure.
/// As in the service, reading and mapping run on a thread of their own, a
/// batch or two ahead of the writes.
pub fn import_file(
    connection: &mut DbConnection,
    file: &[u8],
    options: &ImportOptions,
    now: NaiveDateTime,
) -> Result<(ImportState, Vec<pb::MarcRecordResult>), Error> {
    let mut state = ImportState::new(options.clone());
    let mut rejected = Vec::new();
    let (batches, received) = std::sync::mpsc::sync_channel::<Vec<Prepared>>(2);
    std::thread::scope(|scope| {
        // The reader stops when the receiving end is gone.
        scope.spawn(move || read_file(file, options, |batch| batches.send(batch).is_ok()));
        for batch in received {
            rejected.extend(commit_batch(connection, &mut state, &batch, now)?);
        }
        Ok::<_, Error>(())
    })?;
    Ok((state, rejected))
}
