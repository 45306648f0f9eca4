//! `lectern-catalog`: the catalog service as its own process.

use std::process::ExitCode;

fn main() -> ExitCode {
    lectern_core::process::main(
        "lectern-catalog",
        "catalog",
        lectern_catalog::serve,
        Some(lectern_catalog::migrate),
    )
}
