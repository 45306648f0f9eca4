//! `lectern-reader`: the reader service as its own process.

use std::process::ExitCode;

fn main() -> ExitCode {
    lectern_core::process::main(
        "lectern-reader",
        "reader",
        lectern_reader::serve,
        Some(lectern_reader::migrate),
    )
}
