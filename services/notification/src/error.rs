//! The notification service's errors and their gRPC status.

use lectern_common::db::DbError;
use lectern_core::validate::FieldError;
use tonic::Status;

/// What can go wrong in the notification service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is invalid.
    #[error(transparent)]
    InvalidArgument(#[from] FieldError),
    /// The database failed or is unreachable.
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(field) => field.into(),
            Error::Database(error) => error.into(),
        }
    }
}
