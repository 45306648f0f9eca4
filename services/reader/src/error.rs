//! The reader service's errors and their gRPC status. Handlers and domain
//! code return [`Error`]; it becomes a `Status` in one place, below.

use lectern_common::db::DbError;
use lectern_common::idempotency::IdempotencyError;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::FieldError;
use tonic::{Code, Status};

/// What can go wrong in the reader service.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field is invalid.
    #[error(transparent)]
    InvalidArgument(#[from] FieldError),
    /// Unknown user, wrong password or wrong service key. The message is
    /// the same whichever it was.
    #[error("{0}")]
    CredentialsInvalid(&'static str),
    /// The account is disabled.
    #[error("this account is disabled; ask a district admin")]
    AccountLocked,
    /// Too many wrong passwords in a row: sign-ins wait until then (UTC).
    #[error("too many wrong passwords: this account is locked until {0} UTC")]
    LockedOut(chrono::NaiveDateTime),
    /// A new password does not meet the rules.
    #[error("{0}")]
    PasswordTooWeak(String),
    /// The username belongs to another account.
    #[error("username {0:?} is already taken")]
    UsernameTaken(String),
    /// Another school has the code.
    #[error("school code {0:?} is already in use")]
    SchoolCodeTaken(String),
    /// The school asked for does not exist.
    #[error("school {0} not found")]
    SchoolNotFound(String),
    /// The school a new record should belong to does not exist.
    #[error("school {0} does not exist")]
    UnknownSchool(String),
    /// The class does not exist in the reader's school.
    #[error("class {0} does not exist in this school")]
    ClassNotFound(String),
    /// The school already has a class of that name in that year.
    #[error("this school already has a class {name:?} in {school_year}")]
    ClassNameTaken { name: String, school_year: String },
    /// Another reader holds the card.
    #[error("card barcode {0:?} already belongs to another reader")]
    CardBarcodeTaken(String),
    /// Another reader of the school has the student/staff number.
    #[error("another reader of this school already has number {0:?}")]
    NumberTaken(String),
    /// No staff account has the id.
    #[error("staff account {0} not found")]
    StaffNotFound(String),
    /// No reader has the id.
    #[error("reader {0} not found")]
    ReaderNotFound(String),
    /// No reader holds the card.
    #[error("no reader has card barcode {0:?}")]
    CardNotFound(String),
    /// The reader has no such block in force.
    #[error("block {0} not found on this reader")]
    BlockNotFound(String),
    /// The reader already has the contact point.
    #[error("the reader already has this contact point")]
    ContactExists,
    /// The reader has the most contact points allowed.
    #[error("a reader may have at most {0} contact points; remove one first")]
    ContactLimitReached(i64),
    /// The reader has no such contact point.
    #[error("contact point {0} not found on this reader")]
    ContactNotFound(String),
    /// The reader has no such note.
    #[error("note {0} not found on this reader")]
    NoteNotFound(String),
    /// The school's year was promoted already.
    #[error("the school's year {0} was already promoted")]
    YearEndApplied(String),
    /// The school has no classes in the year.
    #[error("the school has no classes in {0} to promote")]
    NothingToPromote(String),
    /// No reader category has the code.
    #[error("reader category {0:?} not found")]
    CategoryNotFound(String),
    /// A category with the code exists already.
    #[error("reader category {0:?} already exists")]
    CategoryTaken(String),
    /// The reader still has copies on loan, so cannot be erased.
    #[error("this reader still has books on loan ({0}); check them in (or declare them lost) before erasing")]
    HasOpenLoans(i32),
    /// The reader still owes fees, so cannot be erased.
    #[error("this reader still has unpaid fees ({0}); settle or waive them before erasing")]
    HasUnpaidFees(i32),
    /// A call to another service failed; the status is already mapped for
    /// our caller (`client::dependency_status`).
    #[error("dependency call failed: {0}")]
    Dependency(Status),
    /// The session was signed out, expired, or its refresh token is unknown
    /// or was already used.
    #[error("this sign-in session has ended: sign in again")]
    SessionEnded,
    /// The call needs a token with a sign-in session (service tokens have none).
    #[error("this token has no sign-in session to end")]
    NoSession,
    /// A reader of another school tried to sign in at a device, or a
    /// device token was presented that is not a usable device's.
    #[error("{0}")]
    DeviceNotAllowed(&'static str),
    /// The token presented along with a reader's sign-in is not valid.
    #[error("the device token is not valid: {0}")]
    DeviceTokenInvalid(String),
    /// No device has the id.
    #[error("device {0} not found")]
    DeviceNotFound(String),
    /// A refusal made elsewhere (a reused request id), passed on as it is.
    #[error(transparent)]
    Refused(Refusal),
    /// The database failed or is unreachable.
    #[error(transparent)]
    Database(#[from] DbError),
    /// A bug or broken environment (hashing, signing, stored data).
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
        let message = error.to_string();
        let refusal = |code, reason| Status::from(Refusal::new(code, reason, message.clone()));
        match error {
            Error::InvalidArgument(field) => field.into(),
            Error::CredentialsInvalid(_) => refusal(Code::Unauthenticated, Reason::CredentialsInvalid),
            Error::AccountLocked => refusal(Code::PermissionDenied, Reason::AccountLocked),
            Error::LockedOut(until) => Status::from(
                Refusal::new(Code::PermissionDenied, Reason::AccountLocked, message.clone())
                    .with("locked_until", until.and_utc().to_rfc3339()),
            ),
            Error::PasswordTooWeak(_) => refusal(Code::FailedPrecondition, Reason::PasswordTooWeak),
            Error::UsernameTaken(_) => refusal(Code::AlreadyExists, Reason::UsernameTaken),
            Error::SchoolCodeTaken(_) => refusal(Code::AlreadyExists, Reason::SchoolCodeTaken),
            Error::SchoolNotFound(_) => refusal(Code::NotFound, Reason::SchoolNotFound),
            Error::UnknownSchool(_) => refusal(Code::FailedPrecondition, Reason::SchoolNotFound),
            Error::ClassNotFound(_) => refusal(Code::FailedPrecondition, Reason::ClassNotFound),
            Error::ClassNameTaken { .. } => refusal(Code::AlreadyExists, Reason::ClassNameTaken),
            Error::CardBarcodeTaken(_) => refusal(Code::AlreadyExists, Reason::CardBarcodeTaken),
            Error::NumberTaken(_) => refusal(Code::AlreadyExists, Reason::ReaderNumberTaken),
            Error::ReaderNotFound(_) | Error::CardNotFound(_) => {
                refusal(Code::NotFound, Reason::ReaderNotFound)
            }
            Error::BlockNotFound(_)
            | Error::StaffNotFound(_)
            | Error::ContactNotFound(_)
            | Error::NoteNotFound(_) => Status::not_found(message),
            Error::ContactExists => refusal(Code::AlreadyExists, Reason::ContactAlreadyExists),
            Error::ContactLimitReached(_) => refusal(Code::FailedPrecondition, Reason::ContactLimitReached),
            Error::YearEndApplied(ref school_year) => Status::from(
                Refusal::new(Code::FailedPrecondition, Reason::YearEndAlreadyApplied, message.clone())
                    .with("school_year", school_year.clone()),
            ),
            Error::NothingToPromote(_) => refusal(Code::FailedPrecondition, Reason::YearEndNothingToPromote),
            Error::CategoryNotFound(_) => refusal(Code::NotFound, Reason::ReaderCategoryNotFound),
            Error::CategoryTaken(_) => refusal(Code::AlreadyExists, Reason::ReaderCategoryTaken),
            Error::HasOpenLoans(count) => Status::from(
                Refusal::precondition(Reason::ReaderHasOpenLoans, message.clone())
                    .with("open_loans", count.to_string()),
            ),
            Error::HasUnpaidFees(count) => Status::from(
                Refusal::precondition(Reason::ReaderHasUnpaidFees, message.clone())
                    .with("unpaid_fees", count.to_string()),
            ),
            Error::Dependency(status) => status,
            Error::SessionEnded | Error::NoSession => refusal(Code::Unauthenticated, Reason::SessionEnded),
            Error::DeviceNotAllowed(_) => refusal(Code::PermissionDenied, Reason::DeviceNotAllowed),
            Error::DeviceTokenInvalid(_) => refusal(Code::Unauthenticated, Reason::TokenInvalid),
            Error::DeviceNotFound(_) => refusal(Code::NotFound, Reason::DeviceNotFound),
            Error::Refused(refusal) => refusal.into(),
            Error::Database(error) => error.into(),
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Status::internal("internal error")
            }
        }
    }
}
