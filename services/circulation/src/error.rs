//! The circulation service's errors and their gRPC status. Handlers and the
//! lending transactions return [`Error`]; the one `From<Error> for Status`
//! below decides what a client sees.

use lectern_common::db::DbError;
use lectern_common::idempotency::IdempotencyError;
use lectern_core::refusal::Refusal;
use lectern_core::validate::FieldError;
use tonic::Status;

/// What can go wrong in the circulation service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is invalid: INVALID_ARGUMENT.
    #[error(transparent)]
    InvalidArgument(#[from] FieldError),
    /// A rule refused the operation (FAILED_PRECONDITION, NOT_FOUND, ...),
    /// with a reason code.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A call to another service failed; the status is already mapped for
    /// our caller (`client::dependency_status`).
    #[error("dependency call failed: {0}")]
    Dependency(Status),
    /// The database failed or is unreachable.
    #[error(transparent)]
    Database(#[from] DbError),
    /// No circulation rule matches a loan: the district default, which
    /// the migration seeds and which cannot be retired, is missing.
    #[error("no circulation rule matches (the district default rule is missing)")]
    NoRule,
    /// A stored idempotent answer cannot be read back.
    #[error("stored answer cannot be decoded: {0}")]
    Corrupt(#[from] prost::DecodeError),
}

impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

impl From<IdempotencyError> for Error {
    fn from(error: IdempotencyError) -> Self {
        match error {
            IdempotencyError::Reused(refusal) => Self::Refused(refusal),
            IdempotencyError::Database(error) => error.into(),
            IdempotencyError::Corrupt(error) => Self::Corrupt(error),
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(field) => field.into(),
            Error::Refused(refusal) => refusal.into(),
            Error::Dependency(status) => status,
            Error::Database(error) => error.into(),
            Error::NoRule => {
                tracing::error!("no circulation rule matches: the district default rule is missing");
                Status::internal("internal error")
            }
            Error::Corrupt(error) => {
                tracing::error!(%error, "stored idempotent answer cannot be decoded");
                Status::internal("internal error")
            }
        }
    }
}
