//! What every use case of circulation works with: its database, the clock
//! and the schools' time zone, the relay to wake after a change, and the
//! reader and catalog services it asks about scanned cards and copies.
//! The look-ups turn the services' answers into what circulation judges
//! (`policy::borrower`) and their failures into refusals or dependency
//! errors, in one place.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lectern_common::Error;
use lectern_common::db::Db;
use lectern_common::outbox::RelayWaker;
use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::clock::SharedClock;
use lectern_core::identity::TokenSource;
use lectern_core::refusal::{Reason, Refusal};
use lectern_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use lectern_proto::catalog::v1::{Copy, GetTitleRequest, ListCopiesRequest, LookupCopyRequest, Title};
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{GetReaderRequest, LookupReaderRequest, Reader};
use tonic::transport::Channel;
use tonic::{Code, Status};

/// Most copies of one title read at once.
const MAX_COPIES: i32 = 500;

/// Circulation's handles, shared by every use case.
#[derive(Debug, Clone)]
pub struct Circulation {
    pub db: Db,
    pub clock: SharedClock,
    /// The schools' time zone: due days, late days and calendars count in it.
    pub time_zone: chrono_tz::Tz,
    /// Woken after a change so its events go out at once.
    pub relay: RelayWaker,
    pub readers: ReaderServiceClient<Channel>,
    pub catalog: CatalogServiceClient<Channel>,
    /// Deadline of calls to the reader and catalog services.
    pub call_timeout: Duration,
    /// Circulation's own identity: for catalog look-ups made as the
    /// district, and for look-ups made for a reader at a self-service
    /// device (whose own token may not read the catalog).
    pub tokens: Arc<dyn TokenSource>,
}

impl Circulation {
    /// Now, by the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Circulation's own bearer token.
    pub async fn service_token(&self) -> Result<String, Error> {
        self.tokens.bearer().await.map_err(|status| Error::Dependency(dependency_status("reader", status)))
    }

    /// The reader holding `card_barcode`, asked with `bearer` (staff's own
    /// token, so the reader service checks their schools).
    pub async fn reader_by_card(&self, bearer: &str, card_barcode: String) -> Result<Reader, Error> {
        let call = with_bearer(LookupReaderRequest { card_barcode }, bearer, self.call_timeout);
        let answer = self.readers.clone().lookup_reader(call).await;
        answer.map(tonic::Response::into_inner).map_err(|status| {
            reader_error(status, Refusal::new(Reason::ReaderNotFound, "no reader has this card barcode"))
        })
    }

    /// The reader `id`, asked with `bearer`.
    pub async fn reader_by_id(&self, bearer: &str, id: String) -> Result<Reader, Error> {
        let call = with_bearer(GetReaderRequest { id }, bearer, self.call_timeout);
        let answer = self.readers.clone().get_reader(call).await;
        answer.map(tonic::Response::into_inner).map_err(|status| {
            reader_error(
                status,
                Refusal::new(Reason::ReaderNotFound, "no such reader (erased or never registered)"),
            )
        })
    }

    /// The copy with `barcode`, asked as the district (which copies a
    /// desk may lend or take back is decided here); `None` if the catalog
    /// has no such copy.
    pub async fn copy_by_barcode(&self, barcode: String) -> Result<Option<Copy>, Error> {
        let bearer = self.service_token().await?;
        let call = with_bearer(LookupCopyRequest { barcode }, &bearer, self.call_timeout);
        match self.catalog.clone().lookup_copy(call).await {
            Ok(copy) => Ok(Some(copy.into_inner())),
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(Error::Dependency(dependency_status("catalog", status))),
        }
    }

    /// The copies of a title, at one school or everywhere, as the catalog
    /// shows them now (asked as the district).
    pub async fn copies_of_title(&self, title_id: &str, school_id: Option<&str>) -> Result<Vec<Copy>, Error> {
        let bearer = self.service_token().await?;
        let call = with_bearer(
            ListCopiesRequest {
                title_id: title_id.to_owned(),
                school_id: school_id.unwrap_or_default().to_owned(),
                page_size: MAX_COPIES,
                page_token: String::new(),
            },
            &bearer,
            self.call_timeout,
        );
        let page = self
            .catalog
            .clone()
            .list_copies(call)
            .await
            .map_err(|status| Error::Dependency(dependency_status("catalog", status)))?;
        Ok(page.into_inner().copies)
    }

    /// The title `id`, asked with `bearer`.
    pub async fn title(&self, bearer: &str, id: String) -> Result<Title, Error> {
        let call = with_bearer(GetTitleRequest { id: id.clone() }, bearer, self.call_timeout);
        match self.catalog.clone().get_title(call).await {
            Ok(title) => Ok(title.into_inner()),
            Err(status) if status.code() == Code::NotFound => {
                Err(Refusal::new(Reason::TitleNotFound, format!("no title has id {id}")).into())
            }
            Err(status) => Err(Error::Dependency(dependency_status("catalog", status))),
        }
    }
}

/// A reader service failure: `not_found` for NOT_FOUND, else the
/// dependency's status.
fn reader_error(status: Status, not_found: Refusal) -> Error {
    match status.code() {
        Code::NotFound => Error::Refused(not_found),
        _ => Error::Dependency(dependency_status("reader", status)),
    }
}
