//! What every Lectern service shares: configuration from the environment,
//! telemetry, the database pool over SQLite or PostgreSQL, the gRPC server
//! and client plumbing, identity tokens, the transactional outbox and its
//! relay, and the small vocabulary (ids, clock, validation, refusals) the
//! services speak in.
//!
//! No service crate depends on another; they meet here and in `lectern-proto`.

pub mod client;
pub mod clock;
pub mod config;
pub mod db;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod inbox;
pub mod outbox;
pub mod paging;
pub mod process;
pub mod refusal;
pub mod server;
pub mod shutdown;
pub mod telemetry;
pub mod validate;

pub use lectern_proto as proto;
