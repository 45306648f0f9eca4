//! `GET /readers/{id}/export`: the right of access — everything Lectern
//! holds about a reader, as the JSON document ExportReaderData writes,
//! served as a file to save (`reader-<card>.json`), never cached.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{ExportReaderDataRequest, GetReaderRequest};

use super::cannot_open;
use crate::http::Edge;
use crate::pages::Visit;
use crate::pages::school::Desk;

/// `GET /readers/{id}/export`: everything Lectern holds about the reader,
/// as the JSON file the reader service writes (right of access), to save.
pub async fn export(State(edge): State<Edge>, visit: Visit, Path(id): Path<String>) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let mut readers = ReaderServiceClient::new(edge.calls());
    let card = match readers.get_reader(desk.request(&edge, GetReaderRequest { id: id.clone() })).await {
        Ok(reader) => reader.into_inner().card_barcode,
        Err(status) => return cannot_open(&edge, &desk, &status),
    };
    let json = match readers
        .export_reader_data(desk.request(&edge, ExportReaderDataRequest { reader_id: id }))
        .await
    {
        Ok(answer) => answer.into_inner().json,
        Err(status) => return cannot_open(&edge, &desk, &status),
    };
    let disposition = format!("attachment; filename=\"{}\"", export_file_name(&card));
    let mut response = json.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    desk.visit.finish(&edge, response)
}

/// `reader-<card>.json`, with anything but letters, digits, "-", "_" and
/// "." in the card replaced (a card may hold quotes or slashes).
pub fn export_file_name(card: &str) -> String {
    let card: String = card
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    format!("reader-{card}.json")
}
