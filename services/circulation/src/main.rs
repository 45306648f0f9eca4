//! `lectern-circulation`: the circulation service as its own process.

use std::process::ExitCode;

fn main() -> ExitCode {
    lectern_core::process::main(
        "lectern-circulation",
        "circulation",
        lectern_circulation::serve,
        Some(lectern_circulation::migrate),
    )
}
