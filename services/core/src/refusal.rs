//! Refusals a client can switch on: a gRPC status whose details carry a
//! `google.rpc.ErrorInfo` with domain [`DOMAIN`] and a reason from
//! `lectern.common.v1.Reason`. The status code follows from the reason
//! ([`crate::status::code_of`]); a call site names the reason and the
//! sentence, never the code.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub use lectern_proto::common::v1::Reason;

use crate::status::code_of;

/// The `ErrorInfo.domain` of every Lectern refusal.
pub const DOMAIN: &str = "lectern";

/// A refused operation: what the desk shows, and the reason code software
/// switches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The machine-readable reason.
    pub reason: Reason,
    /// A message a librarian can read.
    pub message: String,
    /// Facts about the refusal (`loan_id`, `expired_on`, ...).
    pub metadata: HashMap<String, String>,
}

impl Refusal {
    /// A refusal for `reason`, with a sentence the desk can show.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self { reason, message: message.into(), metadata: HashMap::new() }
    }

    /// The gRPC code the refusal answers with.
    pub fn code(&self) -> Code {
        code_of(self.reason)
    }

    /// Adds a fact to the refusal's metadata.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }

    /// Reads a refusal back from a status, if it carries one.
    pub fn from_status(status: &Status) -> Option<Self> {
        let info = status.get_details_error_info()?;
        if info.domain != DOMAIN {
            return None;
        }
        let reason = Reason::from_str_name(&info.reason)?;
        Some(Self { reason, message: status.message().to_owned(), metadata: info.metadata })
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} ({})", self.message, self.reason.as_str_name())
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for Status {
    fn from(refusal: Refusal) -> Self {
        let code = refusal.code();
        let details = ErrorDetails::with_error_info(refusal.reason.as_str_name(), DOMAIN, refusal.metadata);
        Status::with_error_details(code, refusal.message, details)
    }
}

/// The reason code of a status, if it is a Lectern refusal.
pub fn reason_of(status: &Status) -> Option<Reason> {
    Refusal::from_status(status).map(|refusal| refusal.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_survives_the_trip_through_a_status() {
        let status: Status =
            Refusal::new(Reason::CopyAlreadyOnLoan, "copy C1 is on loan").with("loan_id", "0190").into();
        assert_eq!(status.code(), Code::FailedPrecondition);
        let back = Refusal::from_status(&status).unwrap();
        assert_eq!(back.reason, Reason::CopyAlreadyOnLoan);
        assert_eq!(back.metadata.get("loan_id").map(String::as_str), Some("0190"));
        assert_eq!(reason_of(&Status::internal("boom")), None);
    }
}
