//! The one table of status codes. Every refusal's gRPC code follows from
//! its reason ([`code_of`]), and every gRPC code has one HTTP status
//! ([`http_status`]), so a desk, a kiosk and a phone see the same outcome
//! whichever protocol they speak, and no call site chooses a code of its
//! own. Errors that are not refusals (a bad field, a database that is down,
//! a bug) have fixed codes where they turn into a status.

use http::StatusCode;
use lectern_proto::common::v1::Reason;
use tonic::Code;

/// The gRPC code a refusal with `reason` answers with:
/// - the caller is not signed in, or the sign-in failed: UNAUTHENTICATED;
/// - the caller may not do this (role, school, device, account state):
///   PERMISSION_DENIED;
/// - the record named does not exist: NOT_FOUND;
/// - what would be created exists already: ALREADY_EXISTS;
/// - someone else changed the record since it was read: ABORTED (read
///   again and retry);
/// - any other broken rule: FAILED_PRECONDITION.
pub fn code_of(reason: Reason) -> Code {
    use Reason as R;
    match reason {
        R::TokenInvalid
        | R::CredentialsInvalid
        | R::SessionEnded
        | R::BindingTicketInvalid
        | R::WechatCodeInvalid => Code::Unauthenticated,
        R::WechatRateLimited => Code::ResourceExhausted,
        R::WechatUnavailable => Code::Unavailable,
        R::AccountLocked
        | R::PasswordChangeRequired
        | R::RoleNotAllowed
        | R::SchoolNotAllowed
        | R::DeviceNotAllowed
        | R::OverrideNotAllowed
        | R::CsrfTokenInvalid
        | R::WechatUserBlocked
        | R::FamilySignInRequired => Code::PermissionDenied,
        R::DeviceNotFound
        | R::ReaderNotFound
        | R::SchoolNotFound
        | R::ClassNotFound
        | R::ReaderCategoryNotFound
        | R::CopyNotFound
        | R::TitleNotFound
        | R::ItemTypeNotFound
        | R::LocationNotFound
        | R::MetadataNotFound
        | R::StocktakeNotFound
        | R::LoanNotFound
        | R::FeeNotFound
        | R::HoldNotFound
        | R::RuleNotFound
        | R::StaffAccountNotFound
        | R::ReaderBlockNotFound
        | R::ContactNotFound
        | R::NoteNotFound
        | R::BindingNotFound
        | R::DeliveryNotFound => Code::NotFound,
        R::CardBarcodeTaken
        | R::SchoolCodeTaken
        | R::UsernameTaken
        | R::ClassNameTaken
        | R::ReaderNumberTaken
        | R::ContactAlreadyExists
        | R::ReaderCategoryTaken
        | R::CopyBarcodeTaken
        | R::IsbnTaken
        | R::ItemTypeTaken
        | R::LocationNameTaken
        | R::RuleScopeTaken
        | R::HoldAlreadyPlaced => Code::AlreadyExists,
        R::StocktakeChanged | R::RuleVersionChanged | R::RequestInProgress => Code::Aborted,
        R::Unspecified
        | R::PasswordTooWeak
        | R::ReaderExpired
        | R::ReaderBlocked
        | R::ReaderInactive
        | R::ContactLimitReached
        | R::BindingCodeInvalid
        | R::GuardianContactMismatch
        | R::BindingLimitReached
        | R::WechatNotConfigured
        | R::YearEndAlreadyApplied
        | R::YearEndNothingToPromote
        | R::ReaderHasOpenLoans
        | R::ReaderHasUnpaidFees
        | R::CopyNotLoanable
        | R::CopyStatusChangeNotAllowed
        | R::CopyOnLoan
        | R::RepairAlreadyOpen
        | R::RepairNotOpen
        | R::StocktakeAlreadyOpen
        | R::StocktakeClosed
        | R::CopyAlreadyOnLoan
        | R::CopyNotOnLoan
        | R::CopyAtOtherSchool
        | R::RequestIdReused
        | R::LoanLimitReached
        | R::ReaderHasOverdue
        | R::ReaderOwesFees
        | R::ReaderSuspended
        | R::PaymentTooLarge
        | R::FeeSettled
        | R::RenewalLimitReached
        | R::LoanOverdue
        | R::HeldForAnotherReader
        | R::HoldLimitReached
        | R::HoldClosed
        | R::LoanAlreadyMarked
        | R::RuleIsDistrictDefault
        | R::NoLoanToPreview
        | R::DeliveryNotResendable => Code::FailedPrecondition,
    }
}

/// The HTTP status of a gRPC code at the HTTP edge, as grpc-gateway and
/// the Connect protocol map them.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_a_code_a_client_can_act_on() {
        let mut value = 0;
        while value < 1000 {
            if let Ok(reason) = Reason::try_from(value) {
                let code = code_of(reason);
                assert_ne!(code, Code::Ok, "{reason:?}");
                assert_ne!(code, Code::Internal, "{reason:?}");
                let name = reason.as_str_name();
                if name.ends_with("_NOT_FOUND") {
                    assert_eq!(code, Code::NotFound, "{name}");
                }
                if name.ends_with("_TAKEN") {
                    assert_eq!(code, Code::AlreadyExists, "{name}");
                }
            }
            value += 1;
        }
    }

    #[test]
    fn http_statuses_follow_the_grpc_code() {
        assert_eq!(http_status(code_of(Reason::CopyAlreadyOnLoan)), StatusCode::BAD_REQUEST);
        assert_eq!(http_status(code_of(Reason::CopyNotFound)), StatusCode::NOT_FOUND);
        assert_eq!(http_status(code_of(Reason::UsernameTaken)), StatusCode::CONFLICT);
        assert_eq!(http_status(code_of(Reason::RoleNotAllowed)), StatusCode::FORBIDDEN);
        assert_eq!(http_status(code_of(Reason::TokenInvalid)), StatusCode::UNAUTHORIZED);
        assert_eq!(http_status(Code::Unavailable), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(http_status(Code::Cancelled).as_u16(), 499);
    }
}
