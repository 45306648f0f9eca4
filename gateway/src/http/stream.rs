//! Streaming calls over HTTP, built once for every page that uploads or
//! downloads a file:
//! - **uploads** (`POST /api/upload/<package.Service>/<Method>`): MARC and
//!   roster imports. The options come as query parameters (the fields of
//!   the call's first message), the file as the body (raw, or
//!   `multipart/form-data` with one part per file, as a plain HTML form
//!   sends it). The answer is `application/x-ndjson`: each message the
//!   service sends (progress, then the report) as one JSON line, as soon as
//!   it comes, so a page shows progress; a failure after the first line
//!   comes as a last line `{"error": {…}}`.
//! - **downloads** (`GET /api/download/<package.Service>/<Method>?…`): MARC
//!   export. The file's bytes are sent as the service produces them.
//!
//! A method streams its upload to the service (`ImportMarc`: the options
//! message, then the file in chunks) or sends it in its one request
//! (`ImportRoster`: the files in a repeated field); which one follows from
//! the method's descriptor.

use std::sync::{Arc, Mutex};

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest as _, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Response};
use futures::channel::mpsc;
use futures::{SinkExt as _, Stream, StreamExt as _};
use http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage as _, Value};
use tonic::{Code, Status};

use super::api::{in_json_names, parse_json, require_csrf, serialize_options};
use super::call::DynamicCodec;
use super::error::ApiError;
use super::openapi::Shape;
use super::session::Caller;
use super::{Edge, grpc_path};

/// The parts of an upload body, read in chunks.
#[derive(Debug)]
struct Chunk {
    /// The file's name (from the multipart part, or the request's
    /// Content-Disposition), on its first chunk.
    starts_file: Option<String>,
    bytes: Bytes,
}

/// `POST /api/upload/{service}/{method}`.
pub async fn upload(
    State(edge): State<Edge>,
    Extension(caller): Extension<Caller>,
    Path((service, method)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let path = format!("/{service}/{method}");
    let method = match edge.method(&path) {
        Some(exposed) if exposed.shape == Shape::Upload => exposed.method.clone(),
        _ => return Err(not_here(&path, "upload")),
    };
    require_csrf(&edge, &caller, &headers)?;
    let limit = edge.config().upload_limit;
    if content_length(&headers).is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }
    let failure = Arc::new(Mutex::new(None));
    let chunks = read_upload(&headers, body, limit, failure.clone()).await?;
    let input = method.input();
    let codec = DynamicCodec::new(method.output());
    let grpc_path = grpc_path(&method).map_err(|status| ApiError::from_status(&status))?;
    let mut grpc = edge.grpc().await.map_err(|status| ApiError::from_status(&status))?;
    let answers = if method.is_client_streaming() {
        let plan = StreamedUpload::of(&input).ok_or_else(|| not_here(&path, "upload"))?;
        let mut first = DynamicMessage::new(input.clone());
        first.set_field(&plan.options, Value::Message(message_from_query(plan.options_message(), &query)?));
        let chunk_field = plan.chunk;
        let rest = chunks.filter_map(move |chunk| {
            let mut message = DynamicMessage::new(input.clone());
            message.set_field(&chunk_field, Value::Bytes(chunk.bytes));
            futures::future::ready(Some(message))
        });
        let messages = futures::stream::once(futures::future::ready(first)).chain(rest);
        let request = edge.streaming_request(messages, &caller);
        grpc.streaming(request, grpc_path, codec).await
    } else {
        let plan = FilesField::of(&input).ok_or_else(|| not_here(&path, "upload"))?;
        let mut message = message_from_query(input.clone(), &query)?;
        let files = collect_files(chunks, &failure, &plan).await?;
        message.set_field(&plan.field, Value::List(files));
        let request = edge.streaming_request(message, &caller);
        grpc.server_streaming(request, grpc_path, codec).await
    };
    let mut answers = answers.map_err(|status| upload_error(&status, &method.input()))?.into_inner();
    // The first answer decides the status: a refusal is an HTTP error, not a line.
    let first = match answers.message().await {
        Ok(Some(first)) => first,
        Ok(None) => {
            return Err(upload_failure(&failure)
                .unwrap_or_else(|| ApiError::from_status(&Status::internal("internal error"))));
        }
        Err(status) => {
            return Err(upload_failure(&failure).unwrap_or_else(|| upload_error(&status, &method.input())));
        }
    };
    let rest =
        futures::stream::unfold((answers, failure, false), |(mut answers, failure, done)| async move {
            if done {
                return None;
            }
            match answers.message().await {
                Ok(Some(message)) => Some((json_line(&message), (answers, failure, false))),
                Ok(None) => None,
                Err(status) => {
                    let error = upload_failure(&failure).unwrap_or_else(|| ApiError::from_status(&status));
                    let line =
                        serde_json::to_vec(&serde_json::json!({ "error": error.body })).unwrap_or_default();
                    Some((with_newline(line), (answers, failure, true)))
                }
            }
        });
    let lines = futures::stream::once(futures::future::ready(json_line(&first)))
        .chain(rest)
        .map(Ok::<_, std::convert::Infallible>);
    Ok(([(CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"))], Body::from_stream(lines))
        .into_response())
}

/// `GET /api/download/{service}/{method}`.
pub async fn download(
    State(edge): State<Edge>,
    Extension(caller): Extension<Caller>,
    Path((service, method)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let path = format!("/{service}/{method}");
    let method = match edge.method(&path) {
        Some(exposed) if exposed.shape == Shape::Download => exposed.method.clone(),
        _ => return Err(not_here(&path, "download")),
    };
    let request = message_from_query(method.input(), &query)?;
    let data = method
        .output()
        .fields()
        .find(|field| field.kind() == Kind::Bytes && !field.is_list())
        .ok_or_else(|| not_here(&path, "download"))?;
    let file_name = file_name(&method, &request);
    let mut grpc = edge.grpc().await.map_err(|status| ApiError::from_status(&status))?;
    let grpc_path = grpc_path(&method).map_err(|status| ApiError::from_status(&status))?;
    let request = edge.streaming_request(request, &caller);
    let mut chunks = grpc
        .server_streaming(request, grpc_path, DynamicCodec::new(method.output()))
        .await
        .map_err(|status| ApiError::from_status(&status))?
        .into_inner();
    let first = chunks.message().await.map_err(|status| ApiError::from_status(&status))?;
    let bytes_of = move |message: &DynamicMessage| match message.get_field(&data).as_ref() {
        Value::Bytes(bytes) => bytes.clone(),
        _ => Bytes::new(),
    };
    let first = first.as_ref().map(&bytes_of).unwrap_or_default();
    let rest = futures::stream::unfold(Some(chunks), move |chunks| {
        let bytes_of = bytes_of.clone();
        async move {
            let mut chunks = chunks?;
            match chunks.message().await {
                Ok(Some(message)) => Some((Ok(bytes_of(&message)), Some(chunks))),
                Ok(None) => None,
                // Cut the download off: a browser shows it failed, instead of
                // keeping half a file that looks whole.
                Err(status) => Some((Err(std::io::Error::other(status.message().to_owned())), None)),
            }
        }
    });
    let body = Body::from_stream(futures::stream::once(futures::future::ready(Ok(first))).chain(rest));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The error of an upload, its field named as the query parameter it came
/// from (`schoolId`, not `options.school_id`).
fn upload_error(status: &Status, input: &MessageDescriptor) -> ApiError {
    let mut error = in_json_names(ApiError::from_status(status), input);
    if let (Some(field), Some(options)) = (&error.body.field, StreamedUpload::of(input)) {
        let prefix = format!("{}.", options.options.json_name());
        if let Some(inner) = field.strip_prefix(&prefix) {
            error.body.field = Some(inner.to_owned());
        }
    }
    error
}

/// A client-streaming upload's first message (a message field: the
/// options) and the field that carries each chunk of the file.
struct StreamedUpload {
    options: FieldDescriptor,
    chunk: FieldDescriptor,
}

impl StreamedUpload {
    fn of(input: &MessageDescriptor) -> Option<Self> {
        let options =
            input.fields().find(|field| matches!(field.kind(), Kind::Message(_)) && !field.is_list())?;
        let chunk = input.fields().find(|field| field.kind() == Kind::Bytes && !field.is_list())?;
        Some(Self { options, chunk })
    }

    fn options_message(&self) -> MessageDescriptor {
        match self.options.kind() {
            Kind::Message(message) => message,
            // `of` only picks message fields.
            _ => self.options.parent_message().clone(),
        }
    }
}

/// A one-request upload's repeated field of files (a name and the bytes).
struct FilesField {
    field: FieldDescriptor,
    file: MessageDescriptor,
    name: FieldDescriptor,
    content: FieldDescriptor,
}

impl FilesField {
    fn of(input: &MessageDescriptor) -> Option<Self> {
        input.fields().find_map(|field| {
            let Kind::Message(file) = field.kind() else { return None };
            if !field.is_list() {
                return None;
            }
            let name = file.fields().find(|inner| inner.kind() == Kind::String)?;
            let content = file.fields().find(|inner| inner.kind() == Kind::Bytes)?;
            Some(Self { field, file, name, content })
        })
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn too_large(limit: usize) -> ApiError {
    ApiError::edge(
        StatusCode::PAYLOAD_TOO_LARGE,
        Code::ResourceExhausted,
        format!("the file is larger than this Lectern accepts ({} MiB)", limit >> 20),
    )
}

fn not_here(path: &str, what: &str) -> ApiError {
    ApiError::edge(StatusCode::NOT_FOUND, Code::NotFound, format!("{path} is not a Lectern {what}"))
}

fn upload_failure(failure: &Mutex<Option<ApiError>>) -> Option<ApiError> {
    failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
}

/// Reads the body (raw or multipart) in a task of its own, so the call can
/// stream it on; a problem with the body (too large, broken multipart) is
/// left in `failure` and ends the chunks.
async fn read_upload(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    failure: Arc<Mutex<Option<ApiError>>>,
) -> Result<impl Stream<Item = Chunk> + Send + 'static, ApiError> {
    let content_type = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let multipart = if content_type.starts_with("multipart/form-data") {
        let mut request = axum::extract::Request::new(body);
        *request.headers_mut() = headers.clone();
        let multipart = Multipart::from_request(request, &()).await.map_err(|rejection| {
            ApiError::field("", format!("the multipart body is unusable: {rejection}"))
        })?;
        Upload::Multipart(multipart)
    } else {
        Upload::Raw(body)
    };
    let raw_name = headers
        .get(CONTENT_DISPOSITION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split("filename=").nth(1))
        .map(|name| name.trim_matches(|c| c == '"' || c == ' ').to_owned())
        .unwrap_or_else(|| "upload".to_owned());
    let (mut sender, receiver) = mpsc::channel::<Chunk>(4);
    tokio::spawn(async move {
        let mut total = 0usize;
        let fail = |error: ApiError| {
            *failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(error);
        };
        match multipart {
            Upload::Raw(body) => {
                let mut stream = body.into_data_stream();
                let mut starts_file = Some(raw_name);
                while let Some(next) = stream.next().await {
                    let Ok(bytes) = next else {
                        fail(ApiError::field("", "the upload was cut off"));
                        return;
                    };
                    total += bytes.len();
                    if total > limit {
                        fail(too_large(limit));
                        return;
                    }
                    if sender.send(Chunk { starts_file: starts_file.take(), bytes }).await.is_err() {
                        return;
                    }
                }
            }
            Upload::Multipart(mut multipart) => {
                loop {
                    let mut field = match multipart.next_field().await {
                        Ok(Some(field)) => field,
                        Ok(None) => return,
                        Err(error) => {
                            fail(ApiError::field("", format!("the multipart body is broken: {error}")));
                            return;
                        }
                    };
                    // Form fields that are not files are ignored: options go in the query.
                    let Some(name) = field.file_name().map(str::to_owned) else { continue };
                    let mut starts_file = Some(name);
                    loop {
                        match field.chunk().await {
                            Ok(Some(bytes)) => {
                                total += bytes.len();
                                if total > limit {
                                    fail(too_large(limit));
                                    return;
                                }
                                if sender
                                    .send(Chunk { starts_file: starts_file.take(), bytes })
                                    .await
                                    .is_err()
                                {
                                    return;
                                }
                            }
                            Ok(None) => break,
                            Err(error) => {
                                fail(ApiError::field("", format!("the multipart body is broken: {error}")));
                                return;
                            }
                        }
                    }
                }
            }
        }
    });
    Ok(receiver)
}

/// An upload's body.
enum Upload {
    Raw(Body),
    Multipart(Multipart),
}

/// Gathers the uploaded files into `plan`'s file messages.
async fn collect_files(
    mut chunks: impl Stream<Item = Chunk> + Unpin,
    failure: &Mutex<Option<ApiError>>,
    plan: &FilesField,
) -> Result<Vec<Value>, ApiError> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(chunk) = chunks.next().await {
        if let Some(name) = chunk.starts_file {
            files.push((name, Vec::new()));
        }
        if let Some((_, content)) = files.last_mut() {
            content.extend_from_slice(&chunk.bytes);
        }
    }
    if let Some(error) = upload_failure(failure) {
        return Err(error);
    }
    Ok(files
        .into_iter()
        .map(|(name, content)| {
            let mut file = DynamicMessage::new(plan.file.clone());
            file.set_field(&plan.name, Value::String(name));
            file.set_field(&plan.content, Value::Bytes(Bytes::from(content)));
            Value::Message(file)
        })
        .collect())
}

/// A message of type `descriptor` from query parameters, one per scalar
/// field, named as in JSON or as in the proto.
pub fn message_from_query(
    descriptor: MessageDescriptor,
    query: &[(String, String)],
) -> Result<DynamicMessage, ApiError> {
    let mut object = serde_json::Map::new();
    for (key, value) in query {
        let field = descriptor
            .get_field_by_name(key)
            .or_else(|| descriptor.get_field_by_json_name(key))
            .ok_or_else(|| ApiError::field(key.clone(), format!("{key}: there is no such option")))?;
        if field.is_list() || field.is_map() || matches!(field.kind(), Kind::Message(_)) {
            return Err(ApiError::field(key.clone(), format!("{key}: cannot be given as a query parameter")));
        }
        let json = match field.kind() {
            Kind::Bool => match value.as_str() {
                "true" | "1" | "on" => serde_json::Value::Bool(true),
                "false" | "0" | "off" | "" => serde_json::Value::Bool(false),
                _ => serde_json::Value::String(value.clone()),
            },
            Kind::Int32
            | Kind::Sint32
            | Kind::Sfixed32
            | Kind::Uint32
            | Kind::Fixed32
            | Kind::Float
            | Kind::Double => serde_json::from_str::<serde_json::Number>(value)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|_| serde_json::Value::String(value.clone())),
            _ => serde_json::Value::String(value.clone()),
        };
        object.insert(field.json_name().to_owned(), json);
    }
    let body = serde_json::to_vec(&object).unwrap_or_default();
    parse_json(descriptor, &body)
}

fn json_line(message: &DynamicMessage) -> Bytes {
    let mut line = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut line);
    if message.serialize_with_options(&mut serializer, &serialize_options()).is_err() {
        line = br#"{"error":{"code":"internal","message":"internal error"}}"#.to_vec();
    }
    with_newline(line)
}

fn with_newline(mut line: Vec<u8>) -> Bytes {
    line.push(b'\n');
    Bytes::from(line)
}

/// The downloaded file's name: the method's, with the extension of the
/// format asked for.
fn file_name(method: &prost_reflect::MethodDescriptor, request: &DynamicMessage) -> String {
    let format = request
        .descriptor()
        .get_field_by_name("format")
        .and_then(|field| match (field.kind(), request.get_field(&field).as_ref()) {
            (Kind::Enum(kind), Value::EnumNumber(number)) => {
                kind.get_value(*number).map(|value| value.name().to_owned())
            }
            _ => None,
        })
        .unwrap_or_default();
    let extension = if format.ends_with("MARCXML") {
        "xml"
    } else if format.ends_with("ISO2709") {
        "mrc"
    } else {
        "bin"
    };
    let stem: String = method.name().trim_start_matches("Export").to_lowercase();
    format!("lectern-{stem}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::descriptors;

    fn message(name: &str) -> MessageDescriptor {
        descriptors().get_message_by_name(name).unwrap()
    }

    #[test]
    fn both_uploads_are_understood_from_their_descriptors() {
        let marc = StreamedUpload::of(&message("lectern.catalog.v1.ImportMarcRequest")).unwrap();
        assert_eq!(marc.options.name(), "options");
        assert_eq!(marc.chunk.name(), "chunk");
        let roster = FilesField::of(&message("lectern.reader.v1.ImportRosterRequest")).unwrap();
        assert_eq!(roster.field.name(), "files");
        assert_eq!((roster.name.name(), roster.content.name()), ("name", "content"));
    }

    #[test]
    fn query_parameters_fill_scalar_fields() {
        let query = vec![
            ("format".to_owned(), "MARC_FORMAT_ISO2709".to_owned()),
            ("schoolId".to_owned(), "S1".to_owned()),
            ("dry_run".to_owned(), "true".to_owned()),
        ];
        let options = message_from_query(message("lectern.catalog.v1.ImportMarcOptions"), &query).unwrap();
        assert_eq!(options.get_field_by_name("school_id").unwrap().as_str(), Some("S1"));
        assert_eq!(options.get_field_by_name("dry_run").unwrap().as_bool(), Some(true));
        let error = message_from_query(
            message("lectern.catalog.v1.ImportMarcOptions"),
            &[("colour".to_owned(), "red".to_owned())],
        )
        .unwrap_err();
        assert_eq!(error.body.field.as_deref(), Some("colour"));
        let error = message_from_query(
            message("lectern.catalog.v1.ImportMarcOptions"),
            &[("dryRun".to_owned(), "maybe".to_owned())],
        )
        .unwrap_err();
        assert_eq!(error.body.field.as_deref(), Some("dryRun"));
    }
}
