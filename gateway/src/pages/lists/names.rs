//! The readers behind a list's loans or holds, with the fewest calls: a
//! loan or a hold names its reader by id only. A few readers are read one by one, at the same
//! time; many are found in the school's (or the class's) reader list, 500
//! a call, and only those not found there (readers of another school who
//! picked a book up here) are read one by one.

use std::collections::{BTreeSet, HashMap};

use futures::StreamExt as _;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{GetReaderRequest, ListReadersRequest, Reader};

use super::super::school::Desk;
use super::PAGE_SIZE;
use crate::http::Edge;

/// Up to this many readers, reading each is fewer calls than listing.
const FEW_READERS: usize = 12;
/// Pages of the school's readers read at most (10,000 readers).
const MAX_READER_PAGES: usize = 20;
/// Readers read at the same time.
const PARALLEL: usize = 8;

/// The readers of `reader_ids` (of a list's loans or holds; an erased
/// reader's is empty) by id, looked for among the readers of the school (or
/// of `class`) first. A reader who cannot be read is left out (the list
/// shows the row without a name rather than no list).
pub async fn readers_of<'a>(
    edge: &Edge,
    desk: &Desk,
    reader_ids: impl IntoIterator<Item = &'a str>,
    class: &str,
) -> HashMap<String, Reader> {
    let wanted: BTreeSet<&str> = reader_ids.into_iter().filter(|id| !id.is_empty()).collect();
    let mut found = HashMap::new();
    if wanted.len() > FEW_READERS {
        let mut client = ReaderServiceClient::new(edge.calls());
        let mut page_token = String::new();
        for _ in 0..MAX_READER_PAGES {
            let request = ListReadersRequest {
                school_id: desk.school.id.clone(),
                class_id: class.to_owned(),
                page_size: PAGE_SIZE,
                page_token,
            };
            let page = match client.list_readers(desk.request(edge, request)).await {
                Ok(page) => page.into_inner(),
                Err(status) => {
                    tracing::warn!(code = ?status.code(), "a list cannot read the school's readers");
                    break;
                }
            };
            found.extend(
                page.readers
                    .into_iter()
                    .filter(|reader| wanted.contains(reader.id.as_str()))
                    .map(|reader| (reader.id.clone(), reader)),
            );
            if page.next_page_token.is_empty() || found.len() == wanted.len() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    let lookups: Vec<_> = wanted
        .iter()
        .filter(|id| !found.contains_key(**id))
        .map(|id| {
            let mut client = ReaderServiceClient::new(edge.calls());
            let request = desk.request(edge, GetReaderRequest { id: (*id).to_owned() });
            async move { client.get_reader(request).await.map(tonic::Response::into_inner) }
        })
        .collect();
    let answers: Vec<_> = futures::stream::iter(lookups).buffer_unordered(PARALLEL).collect().await;
    let mut unread = 0;
    for answer in answers {
        match answer {
            Ok(reader) => {
                found.insert(reader.id.clone(), reader);
            }
            Err(_) => unread += 1,
        }
    }
    if unread > 0 {
        tracing::warn!(readers.unread = unread, "a list shows rows without their reader's name");
    }
    found
}
