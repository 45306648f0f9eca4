//! The reader service's own refusals. Everything else that can go wrong
//! (a bad field, the database, another service, a bug) is the shared
//! [`Error`]; a [`ReaderRefusal`] becomes one with its reason, and the
//! reason decides the status code (`lectern_core::status`).

use lectern_core::refusal::{Reason, Refusal};

pub use lectern_common::Error;

/// Why the reader service refuses a call.
#[derive(Debug, thiserror::Error)]
pub enum ReaderRefusal {
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
    /// The school named does not exist.
    #[error("school {0} not found")]
    SchoolNotFound(String),
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
    /// The binding ticket is unknown, used or expired.
    #[error("this binding ticket is not valid any more: sign in with WeChat again")]
    BindingTicketInvalid,
    /// The binding code is wrong, used or expired.
    #[error("this binding code is wrong, used or expired: ask the library for a new one")]
    BindingCodeInvalid,
    /// The guardian contact given is not one the school has for the reader.
    #[error("this is not the guardian phone or e-mail the school has for this reader: ask the library")]
    GuardianContactMismatch,
    /// No binding has the id (or it is not the caller's).
    #[error("binding {0} not found")]
    BindingNotFound(String),
    /// A WeChat account or a reader has as many bindings as allowed.
    #[error("{what} (at most {limit})")]
    BindingLimitReached { what: &'static str, limit: i64 },
    /// The call needs a sign-in through a bound WeChat account.
    #[error("only a sign-in through WeChat may do this")]
    FamilySignInRequired,
}

impl ReaderRefusal {
    /// The reason a client switches on.
    fn reason(&self) -> Reason {
        match self {
            Self::CredentialsInvalid(_) => Reason::CredentialsInvalid,
            Self::AccountLocked | Self::LockedOut(_) => Reason::AccountLocked,
            Self::PasswordTooWeak(_) => Reason::PasswordTooWeak,
            Self::UsernameTaken(_) => Reason::UsernameTaken,
            Self::SchoolCodeTaken(_) => Reason::SchoolCodeTaken,
            Self::SchoolNotFound(_) => Reason::SchoolNotFound,
            Self::ClassNotFound(_) => Reason::ClassNotFound,
            Self::ClassNameTaken { .. } => Reason::ClassNameTaken,
            Self::CardBarcodeTaken(_) => Reason::CardBarcodeTaken,
            Self::NumberTaken(_) => Reason::ReaderNumberTaken,
            Self::StaffNotFound(_) => Reason::StaffAccountNotFound,
            Self::ReaderNotFound(_) | Self::CardNotFound(_) => Reason::ReaderNotFound,
            Self::BlockNotFound(_) => Reason::ReaderBlockNotFound,
            Self::ContactExists => Reason::ContactAlreadyExists,
            Self::ContactLimitReached(_) => Reason::ContactLimitReached,
            Self::ContactNotFound(_) => Reason::ContactNotFound,
            Self::NoteNotFound(_) => Reason::NoteNotFound,
            Self::YearEndApplied(_) => Reason::YearEndAlreadyApplied,
            Self::NothingToPromote(_) => Reason::YearEndNothingToPromote,
            Self::CategoryNotFound(_) => Reason::ReaderCategoryNotFound,
            Self::CategoryTaken(_) => Reason::ReaderCategoryTaken,
            Self::HasOpenLoans(_) => Reason::ReaderHasOpenLoans,
            Self::HasUnpaidFees(_) => Reason::ReaderHasUnpaidFees,
            Self::SessionEnded | Self::NoSession => Reason::SessionEnded,
            Self::DeviceNotAllowed(_) => Reason::DeviceNotAllowed,
            Self::DeviceTokenInvalid(_) => Reason::TokenInvalid,
            Self::DeviceNotFound(_) => Reason::DeviceNotFound,
            Self::BindingTicketInvalid => Reason::BindingTicketInvalid,
            Self::BindingCodeInvalid => Reason::BindingCodeInvalid,
            Self::GuardianContactMismatch => Reason::GuardianContactMismatch,
            Self::BindingNotFound(_) => Reason::BindingNotFound,
            Self::BindingLimitReached { .. } => Reason::BindingLimitReached,
            Self::FamilySignInRequired => Reason::FamilySignInRequired,
        }
    }
}

impl From<ReaderRefusal> for Refusal {
    fn from(refusal: ReaderRefusal) -> Self {
        let plain = Refusal::new(refusal.reason(), refusal.to_string());
        match refusal {
            ReaderRefusal::LockedOut(until) => plain.with("locked_until", until.and_utc().to_rfc3339()),
            ReaderRefusal::YearEndApplied(school_year) => plain.with("school_year", school_year),
            ReaderRefusal::HasOpenLoans(count) => plain.with("open_loans", count.to_string()),
            ReaderRefusal::HasUnpaidFees(count) => plain.with("unpaid_fees", count.to_string()),
            ReaderRefusal::BindingLimitReached { limit, .. } => plain.with("limit", limit.to_string()),
            _ => plain,
        }
    }
}

impl From<ReaderRefusal> for Error {
    fn from(refusal: ReaderRefusal) -> Self {
        Error::Refused(refusal.into())
    }
}

impl From<ReaderRefusal> for tonic::Status {
    fn from(refusal: ReaderRefusal) -> Self {
        Refusal::from(refusal).into()
    }
}
