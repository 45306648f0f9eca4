//! The catalog service's errors and their gRPC status. Domain and database
//! code returns [`Error`]; handlers turn it into a `Status` with `?`.

use lectern_common::db::DbError;
use lectern_common::idempotency::IdempotencyError;
use lectern_core::refusal::Refusal;
use lectern_core::validate::FieldError;
use tonic::Status;

/// What can go wrong in the catalog service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is invalid: INVALID_ARGUMENT naming the field.
    #[error(transparent)]
    InvalidArgument(#[from] FieldError),
    /// A refused operation (not found, duplicate, broken rule) with a
    /// reason code a client can switch on.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Another service's answer, already mapped by
    /// `lectern_core::client::dependency_status`.
    #[error("dependency failed: {0}")]
    Dependency(Status),
    /// The database failed or is unreachable.
    #[error(transparent)]
    Database(#[from] DbError),
    /// Anything else; logged once when turned into a status.
    #[error("{0}")]
    Internal(String),
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
            IdempotencyError::Corrupt(error) => Self::Internal(error.to_string()),
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
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Status::internal("internal error")
            }
        }
    }
}
