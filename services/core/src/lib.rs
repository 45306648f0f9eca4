//! What every Lectern server shares, the gateway included: the refusals a
//! client can switch on and the one table of their gRPC and HTTP status
//! codes, who may call what, identity tokens, configuration from the
//! environment, telemetry, the gRPC server and the channels to other
//! servers, and the small vocabulary (ids, clock, validation, paging) every
//! request is checked with.
//!
//! Nothing here touches a database: the gateway links this crate and not
//! `lectern-common`, which adds what the services behind it share (the
//! database, the outbox and its relay, idempotent answers, the error type).

pub mod access;
pub mod client;
pub mod clock;
pub mod config;
pub mod identity;
pub mod ids;
pub mod metrics;
pub mod ops;
pub mod paging;
pub mod process;
pub mod readiness;
pub mod refusal;
pub mod server;
pub mod shutdown;
pub mod status;
pub mod telemetry;
pub mod time;
pub mod validate;

pub use lectern_proto as proto;
