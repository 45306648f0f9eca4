//! What the services behind the gateway share, on top of `lectern-core`:
//! their database over SQLite or PostgreSQL (pool, migrations), the
//! transactional outbox and its relay, consumed events, idempotent answers
//! to retried calls, and the settings every service reads the same way;
//! and, behind the `testing` feature, what every test shares (`testing`).
//!
//! No service crate depends on another; they meet here, in `lectern-core`
//! and in `lectern-proto`.

pub mod db;
pub mod error;
pub mod idempotency;
pub mod inbox;
pub mod outbox;
mod outbox_metrics;
pub mod settings;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::Error;

impl From<db::DbError> for lectern_core::server::ServeError {
    fn from(error: db::DbError) -> Self {
        Self::Database(error.to_string())
    }
}
