//! Errors as the JSON API shows them: the HTTP status from the one status
//! table (`lectern_core::status::http_status`), and a body in the Connect
//! protocol's error shape (`code`, `message`) with Lectern's reason code,
//! its facts and the field at fault beside it. Clients switch on `reason`
//! (or `code`), never on `message`, which is a sentence for a person.
//! `docs/api.md` shows every case.

use std::collections::BTreeMap;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::status::http_status;
use serde::Serialize;
use tonic::{Code, Status};
use tonic_types::StatusExt as _;

/// The body of every failed JSON call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// The Connect (and gRPC) code in lower snake case: `failed_precondition`.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The refusal's reason (`COPY_ALREADY_ON_LOAN`), when a rule refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Facts about the refusal (`loan_id`, `limit`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// The request field at fault, for bad input (`barcode`, `copy.price`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// A failed call: an HTTP status and its JSON body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    /// An error the edge answers itself (unknown path, wrong method, ...).
    pub fn edge(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code_name(code),
                message: message.into(),
                reason: None,
                metadata: BTreeMap::new(),
                field: None,
            },
        }
    }

    /// Bad input in `field` (empty: the body as a whole): 400, naming it.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut error = Self::edge(StatusCode::BAD_REQUEST, Code::InvalidArgument, message);
        error.body.field = Some(field.into()).filter(|field| !field.is_empty());
        error
    }

    /// A refusal the edge makes itself (a missing CSRF token).
    pub fn refusal(reason: Reason, message: impl Into<String>) -> Self {
        Self::from_status(&Refusal::new(reason, message).into())
    }

    /// The error of a gRPC status, as any gRPC client would read it.
    pub fn from_status(status: &Status) -> Self {
        let mut error = Self::edge(http_status(status.code()), status.code(), status.message());
        if let Some(refusal) = Refusal::from_status(status) {
            error.body.reason = Some(refusal.reason.as_str_name().to_owned());
            error.body.metadata = refusal.metadata.into_iter().collect();
        }
        if let Some(bad_request) = status.get_details_bad_request() {
            error.body.field =
                bad_request.field_violations.into_iter().next().map(|violation| violation.field);
        }
        error
    }

    /// The refusal's reason, if it has one.
    pub fn reason(&self) -> Option<Reason> {
        self.body.reason.as_deref().and_then(Reason::from_str_name)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let too_large = self.status == StatusCode::PAYLOAD_TOO_LARGE;
        let mut response = (self.status, Json(self.body)).into_response();
        if too_large {
            // The rest of the body is not read: the connection cannot carry
            // another request, and a keep-alive client must know it.
            response.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
        }
        response
    }
}

/// The Connect name of a gRPC code.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "ok",
        Code::Cancelled => "canceled",
        Code::Unknown => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_core::validate::FieldError;

    #[test]
    fn a_refusal_keeps_its_reason_facts_and_status() {
        let status: Status =
            Refusal::new(Reason::CopyAlreadyOnLoan, "the copy is on loan").with("loan_id", "L1").into();
        let error = ApiError::from_status(&status);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.body.code, "failed_precondition");
        assert_eq!(error.body.reason.as_deref(), Some("COPY_ALREADY_ON_LOAN"));
        assert_eq!(error.body.metadata.get("loan_id").map(String::as_str), Some("L1"));
        assert_eq!(error.reason(), Some(Reason::CopyAlreadyOnLoan));
    }

    #[test]
    fn bad_input_names_the_field() {
        let status: Status = FieldError::new("barcode", "is required").into();
        let error = ApiError::from_status(&status);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.body.code, "invalid_argument");
        assert_eq!(error.body.field.as_deref(), Some("barcode"));
    }

    #[test]
    fn the_body_leaves_out_what_it_does_not_have() {
        let error = ApiError::from_status(&Status::unavailable("the reader service is unavailable"));
        assert_eq!(error.status, StatusCode::SERVICE_UNAVAILABLE);
        let json = serde_json::to_value(&error.body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "unavailable", "message": "the reader service is unavailable"})
        );
    }
}
