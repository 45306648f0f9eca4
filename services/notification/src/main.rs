//! `lectern-notification`: the notification service as its own process.

use std::process::ExitCode;

fn main() -> ExitCode {
    lectern_core::process::main(
        "lectern-notification",
        "notification",
        lectern_notification::serve,
        Some(lectern_notification::migrate),
    )
}
