//! School scope on readers' records: a librarian or assistant works on the
//! readers of their own schools only. Refusals of a reader's record are
//! audited (who tried, whose record), since readers are mostly children
//! and a look across schools is something a district wants to know about.

use lectern_common::db::Db;
use lectern_core::clock::SharedClock;
use lectern_core::identity::Principal;
use tonic::Status;

use crate::audit::{self, Entry, outcome};
use crate::db;
use crate::error::{Error, ReaderRefusal};

/// Passes if `caller` may act on records of `school_id`; otherwise audits
/// the attempt on `subject_id` (a reader, or the school for a listing) as
/// `action` and refuses with SCHOOL_NOT_ALLOWED.
pub async fn require_reader_school(
    db: &Db,
    clock: &SharedClock,
    caller: &Principal,
    school_id: &str,
    subject_id: &str,
    action: &'static str,
) -> Result<(), Status> {
    let refusal = match caller.require_school(school_id) {
        Ok(()) => return Ok(()),
        Err(refusal) => refusal,
    };
    let now = clock.now().naive_utc();
    let actor_id = caller.subject_id.clone();
    let subject_id = subject_id.to_owned();
    tracing::warn!(
        actor.id = %actor_id,
        subject.id = %subject_id,
        action,
        "refused a reader record of another school"
    );
    db.write(move |connection| -> Result<(), Error> {
        let entry = Entry::about(action, outcome::REFUSED_OTHER_SCHOOL, &actor_id, &subject_id);
        audit::record(connection, entry, now)?;
        Ok(())
    })
    .await?;
    Err(refusal.into())
}

/// The school of reader `reader_id` (NOT_FOUND if there is no such reader).
pub async fn school_of_reader(db: &Db, reader_id: &str) -> Result<String, Status> {
    let reader_id = reader_id.to_owned();
    let school = db
        .run(move |connection| -> Result<_, Error> {
            db::readers::school_of(connection, &reader_id)?
                .ok_or(ReaderRefusal::ReaderNotFound(reader_id).into())
        })
        .await?;
    Ok(school)
}
