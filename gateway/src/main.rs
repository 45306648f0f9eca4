//! `lectern-gateway`: the gateway as its own process.

use std::process::ExitCode;

fn main() -> ExitCode {
    lectern_core::process::main("lectern-gateway", "gateway", lectern_gateway::serve, None)
}
