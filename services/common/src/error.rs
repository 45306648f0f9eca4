//! The services' error: what domain, database and handler code returns,
//! and the one place it becomes what a client sees. Each case knows its
//! gRPC code ([`Error::code`]) and its HTTP status ([`Error::http_status`])
//! from the table in `lectern_core::status`.
//!
//! Which case to use:
//! - a request field is unusable: a [`FieldError`] (INVALID_ARGUMENT naming
//!   the field), before anything is read or written;
//! - a rule refuses the operation, or the record named does not exist: a
//!   [`Refusal`] with its reason (the code follows from the reason). A
//!   service with refusals of its own declares them as an enum that turns
//!   into a `Refusal`, next to the domain code that raises them;
//! - another service answered with an error: [`Error::Dependency`], with the
//!   status already mapped by `lectern_core::client::dependency_status`;
//! - the database failed: a [`DbError`], usually through `?` on a query;
//! - anything else is a bug or a broken environment: [`Error::Internal`],
//!   logged once here and answered with a generic message.

use lectern_core::refusal::Refusal;
use lectern_core::status::http_status;
use lectern_core::validate::FieldError;
use tonic::{Code, Status};

use crate::db::DbError;

/// What can go wrong in a service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is invalid: INVALID_ARGUMENT naming the field.
    #[error(transparent)]
    InvalidArgument(#[from] FieldError),
    /// A refused operation, with the reason a client switches on.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Another service's answer, already mapped for our caller.
    #[error("a call to another service failed: {0}")]
    Dependency(Status),
    /// The database failed or is unreachable.
    #[error(transparent)]
    Database(#[from] DbError),
    /// A bug or a broken environment (stored data that cannot be read,
    /// a missing seed row); the detail is logged, never sent.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// A bug or a broken environment, described for the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The reason of a refusal, if this is one.
    pub fn reason(&self) -> Option<lectern_core::refusal::Reason> {
        match self {
            Self::Refused(refusal) => Some(refusal.reason),
            _ => None,
        }
    }

    /// The gRPC code a client sees.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument(_) => Code::InvalidArgument,
            Self::Refused(refusal) => refusal.code(),
            Self::Dependency(status) => status.code(),
            Self::Database(DbError::Unavailable(_)) => Code::Unavailable,
            Self::Database(_) | Self::Internal(_) => Code::Internal,
        }
    }

    /// The HTTP status a client of the HTTP edge sees.
    pub fn http_status(&self) -> http::StatusCode {
        http_status(self.code())
    }
}

impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

impl From<prost::DecodeError> for Error {
    fn from(error: prost::DecodeError) -> Self {
        Self::Internal(format!("stored message cannot be decoded: {error}"))
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(field) => field.into(),
            Error::Refused(refusal) => refusal.into(),
            Error::Dependency(status) => status,
            Error::Database(DbError::Unavailable(detail)) => {
                tracing::warn!(error = %detail, "database unavailable");
                Status::unavailable("the database is unavailable, try again shortly")
            }
            Error::Database(error) => {
                tracing::error!(%error, "database error");
                Status::internal("internal error")
            }
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use lectern_core::refusal::Reason;

    use super::*;

    #[test]
    fn each_case_knows_its_grpc_code_and_http_status() {
        let cases = [
            (Error::from(FieldError::new("isbn", "is empty")), Code::InvalidArgument, 400),
            (Error::from(Refusal::new(Reason::CopyNotFound, "no copy")), Code::NotFound, 404),
            (Error::from(Refusal::new(Reason::CopyAlreadyOnLoan, "on loan")), Code::FailedPrecondition, 400),
            (Error::Dependency(Status::unavailable("catalog down")), Code::Unavailable, 503),
            (Error::from(DbError::Unavailable("pool".into())), Code::Unavailable, 503),
            (Error::internal("seed row missing"), Code::Internal, 500),
        ];
        for (error, code, http) in cases {
            assert_eq!(error.code(), code, "{error}");
            assert_eq!(error.http_status().as_u16(), http, "{error}");
            assert_eq!(Status::from(error).code(), code);
        }
    }

    #[test]
    fn internal_details_stay_in_the_log() {
        let status = Status::from(Error::internal("the district default rule is missing"));
        assert_eq!(status.message(), "internal error");
    }
}
