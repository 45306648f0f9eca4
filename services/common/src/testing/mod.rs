//! Test support, the one place the suite tests and every service's own
//! tests get what they share: throw-away databases cloned from a migrated
//! template ([`TestDatabase`]), servers on loopback ports the kernel picks
//! with channels that connect on first use ([`TestServer`], and
//! [`ReservedPort`] for one that starts later), the test clock
//! and the dates tests derive from it ([`clock`], [`Dates`]), and waiting
//! for something with a deadline instead of sleeping ([`eventually`]).
//!
//! Only built with the `testing` feature (service crates enable it for
//! their tests); nothing here ships in a service.

mod clock;
mod database;
mod server;
mod template;

use std::future::Future;
use std::time::{Duration, Instant};

pub use self::clock::{Dates, TIME_ZONE, clock, start};
pub use self::database::{TEST_DATABASE_URL, TestDatabase, postgres_server_url};
pub use self::server::{ReservedPort, TestServer, lazy_channel};

/// Polls `probe` until it returns `Some`, and fails the test if it has not
/// after `within`; `what` names what the test waited for.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    let mut every = tokio::time::interval(Duration::from_millis(25));
    loop {
        every.tick().await;
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
    }
}
