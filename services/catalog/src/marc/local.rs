//! Importing a MARC file held in memory on one connection, batch by batch,
//! the way `MarcService/ImportMarc` does (same reading, same batches, same
//! writes, a dry run rolled back): for `lectern bench import` and the
//! catalog's tests, which measure and check the import below gRPC.

use chrono::NaiveDateTime;
use lectern_common::db::{DbConnection, write_transaction};
use lectern_proto::catalog::v1 as pb;

use super::apply::{ImportState, apply_batch};
use super::import::{ImportOptions, read_file};
use crate::error::Error;

/// Imports `file` with `options`; returns the running state (counts) and
/// the records that were refused. Stops at the first database failure.
pub fn import_file(
    connection: &mut DbConnection,
    file: &[u8],
    options: &ImportOptions,
    now: NaiveDateTime,
) -> Result<(ImportState, Vec<pb::MarcRecordResult>), Error> {
    let mut state = ImportState::new(options.clone());
    let mut rejected = Vec::new();
    let mut failure = None;
    read_file(file, options, |batch| {
        let outcome = if options.dry_run {
            let mut answer = None;
            let rolled_back = write_transaction(connection, |connection| {
                answer = Some(apply_batch(connection, &mut state, &batch, now));
                Err::<(), _>(diesel::result::Error::RollbackTransaction)
            });
            match (answer, rolled_back) {
                (Some(answer), Err(diesel::result::Error::RollbackTransaction)) => answer,
                (Some(Err(error)), _) => Err(error),
                (_, Err(error)) => Err(error.into()),
                (_, Ok(())) => Err(Error::Internal("a dry run's batch was not rolled back".into())),
            }
        } else {
            write_transaction(connection, |connection| apply_batch(connection, &mut state, &batch, now))
        };
        match outcome {
            Ok(refused) => {
                rejected.extend(refused);
                true
            }
            Err(error) => {
                failure = Some(error);
                false
            }
        }
    });
    match failure {
        Some(error) => Err(error),
        None => Ok((state, rejected)),
    }
}
