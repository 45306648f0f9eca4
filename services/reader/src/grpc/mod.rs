//! gRPC handlers: validate, run the domain rules in the database, map the
//! result. `readers` serves `ReaderService`, `identity` `IdentityService`,
//! `profile` `ReaderProfileService`, `school_year` `SchoolYearService`,
//! `roster` `RosterService`, `family` and `bindings` `FamilyService`.

mod audit;
mod bindings;
mod devices;
mod family;
mod identity;
mod privacy;
mod profile;
mod reader_updates;
mod readers;
mod roster;
mod school_year;
mod scope;
mod sessions;

pub use self::audit::Audit;
pub use self::family::Family;
pub use self::identity::Identity;
pub use self::profile::Profiles;
pub use self::readers::Readers;
pub use self::roster::Roster;
pub use self::school_year::SchoolYears;

use lectern_core::access::Access;
use lectern_core::paging;

/// Reads the district's services may make too (circulation looks up the
/// reader at a check-out); staff of any role may make them all.
const STAFF_OR_SERVICES: Access = Access::STAFF.or_services();

/// Cuts the one extra row fetched off a page that starts at `offset` and
/// returns the page with its `next_page_token`. Lists here use offset
/// tokens so that no name (of a reader, a staff member) ends up in a token,
/// where it could reach a log.
fn page<T>(rows: Vec<T>, offset: i64, limit: i64) -> (Vec<T>, String) {
    let (rows, more) = paging::split_page(rows, limit);
    let token = if more { paging::encode(&(offset + limit).to_string()) } else { String::new() };
    (rows, token)
}
