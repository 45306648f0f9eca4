//! The JSON API: every public gRPC method at `POST /api/<package.Service>/<Method>`
//! with a JSON body, as the Connect protocol's unary JSON calls do. Nothing
//! here knows any one method: the request is parsed into a dynamic message
//! of the method's input type (proto3 canonical JSON), sent through the
//! gateway's own gRPC stack, and the answer written back as JSON. Which
//! methods exist and who may call them comes from the descriptor set and
//! the gateway's method table ([`crate::authz`]); the same two make the
//! OpenAPI document. The decision is recorded in
//! `docs/decisions/0013-json-api.md`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{OriginalUri, Path, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor, SerializeOptions};
use tonic::Code;

use super::Edge;
use super::error::ApiError;
use super::openapi::Shape;
use super::session::{Caller, csrf_matches, csrf_refusal};

/// The header scripts send the page's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `POST /api/{service}/{method}`.
pub async fn unary(
    State(edge): State<Edge>,
    Extension(caller): Extension<Caller>,
    Path((service, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let path = format!("/{service}/{method}");
    let exposed = edge.method(&path).ok_or_else(|| unknown_call(&path))?;
    match exposed.shape {
        Shape::Unary => {}
        Shape::Upload => return Err(elsewhere(&path, "a file upload", "POST", "/api/upload")),
        Shape::Download => return Err(elsewhere(&path, "a file download", "GET", "/api/download")),
    }
    let body = body.map_err(body_rejection)?;
    require_json(&headers)?;
    require_csrf(&edge, &caller, &headers)?;
    let request = parse_json(exposed.method.input(), &body)?;
    let answer = edge
        .unary(&exposed.method, request, &caller)
        .await
        .map_err(|status| in_json_names(ApiError::from_status(&status), &exposed.method.input()))?;
    Ok(json_response(&answer))
}

/// The error with its field named as the request's JSON names it: the
/// services name fields as the proto does (`copy_barcode`, `files[2].name`).
pub fn in_json_names(mut error: ApiError, input: &MessageDescriptor) -> ApiError {
    if let Some(field) = error.body.field.take() {
        error.body.field = Some(json_path(input, &field));
    }
    error
}

/// `path` (proto names, dotted, with `[n]` indexes) in JSON names, as far
/// as the descriptor knows its segments.
fn json_path(input: &MessageDescriptor, path: &str) -> String {
    let mut message = Some(input.clone());
    path.split('.')
        .map(|segment| {
            let (name, index) = segment.find('[').map_or((segment, ""), |at| segment.split_at(at));
            let field = message.as_ref().and_then(|message| message.get_field_by_name(name));
            message = field.as_ref().and_then(|field| match field.kind() {
                prost_reflect::Kind::Message(inner) => Some(inner),
                _ => None,
            });
            format!("{}{index}", field.map_or_else(|| name.to_owned(), |field| field.json_name().to_owned()))
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Any other path under `/api/`.
pub async fn unknown(OriginalUri(uri): OriginalUri) -> ApiError {
    unknown_call(uri.path())
}

/// Answers a request with the wrong HTTP method for its path before it
/// is routed: 405 naming the right method if the path is a call (or the
/// document), 404 if it is none.
pub async fn only_their_methods(
    State(edge): State<Edge>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path().to_owned(), |uri| uri.path().to_owned());
    let takes_get = path == "/api/openapi.json" || path.starts_with("/api/download/");
    let allowed = if takes_get {
        request.method() == Method::GET || request.method() == Method::HEAD
    } else {
        request.method() == Method::POST
    };
    if allowed {
        return next.run(request).await;
    }
    wrong_method(&edge, &path)
}

fn wrong_method(edge: &Edge, path: &str) -> Response {
    let (allow, takes) = if path == "/api/openapi.json" {
        ("GET", "is read with GET")
    } else if let Some(call) = path.strip_prefix("/api/download") {
        if !edge.method(call).is_some_and(|exposed| exposed.shape == Shape::Download) {
            return unknown_call(path).into_response();
        }
        ("GET", "is a download: GET it with the request's fields as query parameters")
    } else if let Some(call) = path.strip_prefix("/api/upload") {
        if !edge.method(call).is_some_and(|exposed| exposed.shape == Shape::Upload) {
            return unknown_call(path).into_response();
        }
        ("POST", "is an upload: POST the file, with the options as query parameters")
    } else {
        let call = path.strip_prefix("/api").unwrap_or(path);
        if edge.method(call).is_none() {
            return unknown_call(path).into_response();
        }
        ("POST", "takes POST with a JSON body")
    };
    let mut response =
        ApiError::edge(StatusCode::METHOD_NOT_ALLOWED, Code::Unimplemented, format!("{path} {takes}"))
            .into_response();
    response.headers_mut().insert(http::header::ALLOW, HeaderValue::from_static(allow));
    response
}

fn unknown_call(path: &str) -> ApiError {
    ApiError::edge(
        StatusCode::NOT_FOUND,
        Code::NotFound,
        format!("{path} is not a Lectern call; the calls are listed in /api/openapi.json"),
    )
}

fn elsewhere(path: &str, what: &str, method: &str, prefix: &str) -> ApiError {
    ApiError::edge(
        StatusCode::NOT_FOUND,
        Code::NotFound,
        format!("{path} is {what}: use {method} {prefix}{path}"),
    )
}

/// The error of a body that could not be read: too large, or cut off.
pub fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::edge(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::ResourceExhausted,
            "the request body is too large",
        )
    } else {
        ApiError::edge(StatusCode::BAD_REQUEST, Code::InvalidArgument, "the request body could not be read")
    }
}

fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(ApiError::edge(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Code::InvalidArgument,
        "send the request as JSON, with Content-Type: application/json",
    ))
}

/// Refuses a request that rides on the session cookie without the page's
/// CSRF token.
pub fn require_csrf(edge: &Edge, caller: &Caller, headers: &HeaderMap) -> Result<(), ApiError> {
    if !caller.uses_cookie() {
        return Ok(());
    }
    let provided = headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok());
    if csrf_matches(headers, edge.sessions().cookies, provided) {
        return Ok(());
    }
    let refusal = csrf_refusal();
    Err(ApiError::refusal(refusal.reason, refusal.message))
}

/// Parses `body` (empty: all defaults) as a `descriptor` message in proto3
/// JSON; a bad value is refused naming its field.
pub fn parse_json(descriptor: MessageDescriptor, body: &[u8]) -> Result<DynamicMessage, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    let mut json = serde_json::Deserializer::from_slice(body);
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let mut track = serde_path_to_error::Track::new();
    let parsed = DynamicMessage::deserialize_with_options(
        descriptor,
        serde_path_to_error::Deserializer::new(&mut json, &mut track),
        &options,
    );
    let message = match parsed {
        Ok(message) => message,
        Err(error) => {
            let path = track.path().to_string();
            if error.is_syntax() || error.is_eof() {
                return Err(ApiError::field(
                    "",
                    format!("the body is not a JSON object of the request: {error}"),
                ));
            }
            if let Some(unknown) = unknown_field(&error.to_string()) {
                let field = if path == "." { unknown.to_owned() } else { format!("{path}.{unknown}") };
                return Err(ApiError::field(field.clone(), format!("{field}: there is no such field")));
            }
            if path == "." {
                return Err(ApiError::field(
                    "",
                    format!("the body is not a JSON object of the request: {error}"),
                ));
            }
            return Err(ApiError::field(path.clone(), format!("{path}: {error}")));
        }
    };
    json.end()
        .map_err(|error| ApiError::field("", format!("the body has more than one JSON value: {error}")))?;
    Ok(message)
}

/// The field prost-reflect names in its "unrecognized field name 'x'" error.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.split("unrecognized field name '").nth(1)?;
    rest.split('\'').next()
}

/// How answers are written: every field, defaults included, so a client
/// finds each field it was promised (64-bit numbers as strings, enums by
/// name, as proto3 JSON has them).
pub fn serialize_options() -> SerializeOptions {
    SerializeOptions::new().skip_default_fields(false)
}

/// `message` as a 200 JSON answer.
pub fn json_response(message: &DynamicMessage) -> Response {
    let mut body = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut body);
    if let Err(error) = message.serialize_with_options(&mut serializer, &serialize_options()) {
        tracing::error!(%error, "cannot write an answer as JSON");
        return ApiError::edge(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal, "internal error")
            .into_response();
    }
    ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(name: &str) -> MessageDescriptor {
        super::super::descriptors().get_message_by_name(name).unwrap()
    }

    #[test]
    fn a_request_is_read_from_proto3_json() {
        let message =
            parse_json(descriptor("lectern.circulation.v1.CheckOutRequest"), br#"{"copyBarcode": "C1"}"#);
        let message = message.unwrap();
        assert_eq!(message.get_field_by_name("copy_barcode").unwrap().as_str(), Some("C1"));
        // The proto name is accepted too, and an empty body is all defaults.
        assert!(
            parse_json(descriptor("lectern.circulation.v1.CheckOutRequest"), br#"{"copy_barcode": "C1"}"#)
                .is_ok()
        );
        assert!(parse_json(descriptor("lectern.circulation.v1.CheckOutRequest"), b"").is_ok());
    }

    #[test]
    fn the_services_field_names_become_json_names() {
        let input = descriptor("lectern.reader.v1.ImportRosterRequest");
        assert_eq!(json_path(&input, "school_id"), "schoolId");
        assert_eq!(json_path(&input, "files[2].content"), "files[2].content");
        assert_eq!(json_path(&input, "request_id"), "requestId");
        assert_eq!(json_path(&input, "no_such.thing"), "no_such.thing");
        let checkout = descriptor("lectern.circulation.v1.CheckOutRequest");
        assert_eq!(json_path(&checkout, "copy_barcode"), "copyBarcode");
    }

    #[test]
    fn a_bad_value_names_its_field() {
        let error =
            parse_json(descriptor("lectern.circulation.v1.CheckOutRequest"), br#"{"copyBarcode": 5}"#)
                .unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.body.field.as_deref(), Some("copyBarcode"));
        let error =
            parse_json(descriptor("lectern.circulation.v1.CheckOutRequest"), br#"{"nope": 1}"#).unwrap_err();
        assert!(error.body.message.contains("nope"), "{}", error.body.message);
        assert_eq!(error.body.field.as_deref(), Some("nope"));
        let error = parse_json(descriptor("lectern.circulation.v1.CheckOutRequest"), b"{").unwrap_err();
        assert_eq!(error.body.field, None, "a body that is not JSON names no field");
        let error = parse_json(descriptor("lectern.circulation.v1.CheckOutRequest"), b"{").unwrap_err();
        assert_eq!(error.body.code, "invalid_argument");
        let error = parse_json(descriptor("lectern.circulation.v1.CheckOutRequest"), b"[]").unwrap_err();
        assert_eq!(error.body.code, "invalid_argument");
    }
}
