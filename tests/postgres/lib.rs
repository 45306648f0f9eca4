//! Checks that only mean something on PostgreSQL: that both backends'
//! migrations make the same tables and columns (`schema`), and that the
//! pool replaces a connection the server ended (`pool`).
//!
//! They are tests in every run, but the build script marks them ignored
//! unless `LECTERN_TEST_DATABASE_URL` is set, so a SQLite-only run
//! (`cargo test --workspace`, which needs nothing installed) lists them as
//! ignored with the reason instead of reporting a pass that checked
//! nothing; in the PostgreSQL run (the README's command, and `.ci/run` on
//! every change) they run, and a server that cannot be reached fails them.
//! They live in a crate of their own so that switching backends rebuilds
//! only this crate.

#![cfg(test)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod pool;
mod schema;

use lectern_common::testing::{TEST_DATABASE_URL, postgres_server_url};

/// The PostgreSQL server the run was given; a PostgreSQL-only test fails
/// without one.
fn server() -> String {
    postgres_server_url()
        .unwrap_or_else(|| panic!("this test needs a PostgreSQL server: set {TEST_DATABASE_URL}"))
}
