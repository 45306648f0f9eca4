//! The reader service's tables and queries. Query functions take
//! `&mut DbConnection` and return `QueryResult`, so handlers compose them
//! inside one transaction.

pub mod audit;
pub mod categories;
pub mod devices;
pub mod family;
pub mod organisation;
pub mod pins;
pub mod profile;
pub mod readers;
pub mod roster;
pub mod schema;
pub mod school_year;
pub mod sessions;
pub mod signing_keys;
pub mod staff;

pub use self::audit::{AuditFilter, AuditRow};
pub use self::categories::CategoryRow;
pub use self::devices::DeviceRow;
pub use self::organisation::{ClassRow, SchoolRow};
pub use self::readers::{BlockRow, ReaderRow, ReaderView};
pub use self::sessions::SessionRow;
pub use self::signing_keys::SigningKeyRow;
pub use self::staff::StaffRow;
