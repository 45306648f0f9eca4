//! gRPC handlers: validate, run the domain rules in the database, map the
//! result. `readers` serves `ReaderService`, `identity` `IdentityService`,
//! `profile` `ReaderProfileService`, `school_year` `SchoolYearService`,
//! `roster` `RosterService`.

mod audit;
mod devices;
mod identity;
mod privacy;
mod profile;
mod readers;
mod roster;
mod school_year;
mod scope;
mod sessions;

pub use self::audit::Audit;
pub use self::identity::Identity;
pub use self::profile::Profiles;
pub use self::readers::Readers;
pub use self::roster::Roster;
pub use self::school_year::SchoolYears;

use chrono::NaiveDateTime;
use lectern_common::db::DbConnection;
use lectern_common::idempotency::{previous_answer, remember_answer};
use lectern_core::identity::{Principal, SubjectKind, require_staff};
use lectern_core::paging;
use tonic::Status;

use crate::error::Error;

/// Reads the district's services may make too (circulation looks up the
/// reader at a check-out); staff of any role may make them all.
fn require_staff_or_service(caller: &Principal) -> Result<(), Status> {
    if caller.kind == SubjectKind::Service { Ok(()) } else { require_staff(caller) }
}

/// Runs `work` once per `request_id`: a retry gets the first answer back
/// and changes nothing. Call inside the write transaction.
fn idempotent<M, F>(
    connection: &mut DbConnection,
    operation: &str,
    request_id: Option<&str>,
    now: NaiveDateTime,
    work: F,
) -> Result<M, Error>
where
    M: prost::Message + Default,
    F: FnOnce(&mut DbConnection) -> Result<M, Error>,
{
    if let Some(request_id) = request_id
        && let Some(previous) = previous_answer::<M>(connection, operation, request_id)?
    {
        return Ok(previous);
    }
    let answer = work(connection)?;
    if let Some(request_id) = request_id {
        remember_answer(connection, operation, request_id, &answer, now)?;
    }
    Ok(answer)
}

/// Cuts the one extra row fetched off a page that starts at `offset` and
/// returns the page with its `next_page_token`. Lists here use offset
/// tokens so that no name (of a reader, a staff member) ends up in a token,
/// where it could reach a log.
fn page<T>(rows: Vec<T>, offset: i64, limit: i64) -> (Vec<T>, String) {
    let (rows, more) = paging::split_page(rows, limit);
    let token = if more { paging::encode(&(offset + limit).to_string()) } else { String::new() };
    (rows, token)
}
