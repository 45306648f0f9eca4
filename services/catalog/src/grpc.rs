//! gRPC handlers of `CatalogService`: check the caller, validate, call the
//! domain and the database, map results.

use std::time::Duration;

use lectern_common::db::Db;
use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Principal, principal};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError, page_size};
use lectern_core::{client, ids, paging};
use lectern_proto::catalog::v1 as pb;
use lectern_proto::catalog::v1::catalog_service_server::CatalogService;
use lectern_proto::reader::v1::GetSchoolRequest;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

use crate::copies::{self, CopyDraft};
use crate::db;
use crate::isbn::Isbn;
use crate::search;
use crate::title_updates;
use crate::titles::{self, TitleDraft};
use lectern_common::Error;

/// Idempotency operation names of the state-changing calls.
const CREATE_TITLE: &str = "catalog.CreateTitle";
const CREATE_COPY: &str = "catalog.CreateCopy";
const UPDATE_TITLE: &str = "catalog.UpdateTitle";

/// The catalog service's handlers.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub db: Db,
    pub clock: SharedClock,
    /// The reader service, asked whether a copy's school exists.
    pub reader: ReaderServiceClient<Channel>,
    /// Deadline of calls to the reader service.
    pub call_timeout: Duration,
}

/// Reads of copies and titles: staff, and Lectern's services
/// (circulation reads copies and titles while it checks out on a
/// librarian's behalf).
pub(crate) const STAFF_OR_SERVICES: Access = Access::STAFF.or_services();

/// Cataloging changes the district's records: librarians and district
/// admins; assistants help at the desk.
pub(crate) const CATALOGERS: Access = Access::LIBRARIAN;

/// Look-ups a kiosk makes before anyone signs in at it (a scanned copy):
/// staff, services, and self-service devices by themselves.
pub(crate) const KIOSK_LOOKUPS: Access = STAFF_OR_SERVICES.or_devices();

impl Catalog {
    /// Refuses unless the reader service knows the school, asking on the
    /// caller's behalf.
    pub(crate) async fn require_school(&self, caller: &Principal, school_id: &str) -> Result<(), Error> {
        let request =
            client::on_behalf(GetSchoolRequest { id: school_id.to_owned() }, caller, self.call_timeout);
        match self.reader.clone().get_school(request).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => {
                Err(Refusal::new(Reason::SchoolNotFound, format!("no school has id {school_id}"))
                    .with("school_id", school_id)
                    .into())
            }
            Err(status) => Err(Error::Dependency(client::dependency_status("reader", status))),
        }
    }
}

#[tonic::async_trait]
impl CatalogService for Catalog {
    async fn create_title(
        &self,
        request: Request<pb::CreateTitleRequest>,
    ) -> Result<Response<pb::Title>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let draft = TitleDraft::from_request(&request)?;
        let now = self.clock.now().naive_utc();
        let id = ids::new_id();
        let title = Idempotent::new(CREATE_TITLE, request_id)
            .write(&self.db, now, move |connection| {
                let record = titles::create(connection, &draft, id, now)?;
                Ok(titles::to_proto(&record))
            })
            .await?
            .into_inner();
        tracing::info!(title.id = %title.id, "title catalogued");
        Ok(Response::new(title))
    }

    async fn get_title(&self, request: Request<pb::GetTitleRequest>) -> Result<Response<pb::Title>, Status> {
        // Open to anyone signed in (staff, readers, devices): the district's
        // catalog is for all its readers.
        principal(&request)?;
        let id = ids::parse_id("id", &request.get_ref().id)?;
        let record = self
            .db
            .run(move |connection| -> Result<_, Error> {
                titles::load(connection, &id)?
                    .ok_or_else(|| titles::not_found(format!("no title has id {id}")).into())
            })
            .await?;
        Ok(Response::new(titles::to_proto(&record)))
    }

    async fn lookup_title(
        &self,
        request: Request<pb::LookupTitleRequest>,
    ) -> Result<Response<pb::Title>, Status> {
        // Open to anyone signed in (staff, readers, devices): the district's
        // catalog is for all its readers.
        principal(&request)?;
        let isbn = Isbn::parse(&request.get_ref().isbn)
            .map_err(|error| FieldError::new("isbn", error.to_string()))?;
        let record = self
            .db
            .run(move |connection| -> Result<_, Error> {
                titles::load_by_isbn(connection, &isbn)?.ok_or_else(|| {
                    titles::not_found(format!("no title has ISBN {isbn}"))
                        .with("isbn13", isbn.isbn13())
                        .into()
                })
            })
            .await?;
        Ok(Response::new(titles::to_proto(&record)))
    }

    async fn update_title(
        &self,
        request: Request<pb::UpdateTitleRequest>,
    ) -> Result<Response<pb::Title>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let changes = request.title.ok_or_else(|| FieldError::new("title", "is required"))?;
        let id = ids::parse_id("title.id", &changes.id)?;
        let mask = request.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let now = self.clock.now().naive_utc();
        let title = Idempotent::new(UPDATE_TITLE, request_id)
            .write(&self.db, now, move |connection| {
                let record = titles::load(connection, &id)?
                    .ok_or_else(|| titles::not_found(format!("no title has id {id}")))?;
                let draft = title_updates::changed_draft(&record, &changes, &mask)?;
                Ok(titles::to_proto(&title_updates::save(connection, &record, &draft)?))
            })
            .await?
            .into_inner();
        tracing::info!(title.id = %title.id, "title corrected");
        Ok(Response::new(title))
    }

    async fn create_copy(
        &self,
        request: Request<pb::CreateCopyRequest>,
    ) -> Result<Response<pb::Copy>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let draft = CopyDraft::from_request(&request)?;
        caller.require_school(&draft.school_id)?;
        // Asked before the transaction: no write lock is held across a call
        // to another service.
        self.require_school(&caller, &draft.school_id).await?;
        let now = self.clock.now().naive_utc();
        let id = ids::new_id();
        let copy = Idempotent::new(CREATE_COPY, request_id)
            .write(&self.db, now, move |connection| {
                let record = copies::create(connection, &draft, id, now)?;
                Ok(copies::message(connection, &record.row, &record.title)?)
            })
            .await?
            .into_inner();
        tracing::info!(copy.id = %copy.id, title.id = %copy.title_id, school.id = %copy.school_id, "copy added");
        Ok(Response::new(copy))
    }

    async fn get_copy(&self, request: Request<pb::GetCopyRequest>) -> Result<Response<pb::Copy>, Status> {
        let caller = principal(&request)?;
        caller.require(STAFF_OR_SERVICES)?;
        let id = ids::parse_id("id", &request.get_ref().id)?;
        let (copy, row) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let (row, title) = db::find_copy(connection, &id)?
                    .ok_or_else(|| Error::from(copies::not_found(format!("no copy has id {id}"))))?;
                Ok((copies::message(connection, &row, &title)?, row))
            })
            .await?;
        caller.require_school(&row.school_id)?;
        Ok(Response::new(copy))
    }

    async fn lookup_copy(
        &self,
        request: Request<pb::LookupCopyRequest>,
    ) -> Result<Response<pb::Copy>, Status> {
        let caller = principal(&request)?;
        caller.require(KIOSK_LOOKUPS)?;
        let barcode = validate::barcode("barcode", &request.get_ref().barcode)?;
        let (copy, row) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let (row, title) = db::find_copy_by_barcode(connection, &barcode)?.ok_or_else(|| {
                    Error::from(
                        copies::not_found(format!("no copy has barcode {barcode}"))
                            .with("barcode", barcode.as_str()),
                    )
                })?;
                Ok((copies::message(connection, &row, &title)?, row))
            })
            .await?;
        caller.require_school(&row.school_id)?;
        Ok(Response::new(copy))
    }

    async fn list_copies(
        &self,
        request: Request<pb::ListCopiesRequest>,
    ) -> Result<Response<pb::ListCopiesResponse>, Status> {
        let caller = principal(&request)?;
        // Circulation counts a held title's copies on the shelves, district-wide.
        caller.require(STAFF_OR_SERVICES)?;
        let request = request.into_inner();
        let title_id = ids::parse_id("title_id", &request.title_id)?;
        let school_id = ids::parse_optional_id("school_id", &request.school_id)?;
        // Staff see the copies of their own schools; which schools hold a
        // title is what search answers, for everyone.
        let schools = match school_id {
            Some(school_id) => {
                caller.require_school(&school_id)?;
                Some(vec![school_id])
            }
            None => caller.school_filter().map(<[String]>::to_vec),
        };
        let limit = page_size("page_size", request.page_size, 50, 500)?;
        let after = paging::decode("page_token", &request.page_token)?;
        let response = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let Some(title) = db::find_title(connection, &title_id)? else {
                    return Err(titles::not_found(format!("no title has id {title_id}")).into());
                };
                let rows =
                    db::list_copies(connection, &title_id, schools.as_deref(), after.as_deref(), limit + 1)?;
                let (rows, more) = paging::split_page(rows, limit);
                let next_page_token = match rows.last() {
                    Some(last) if more => paging::encode(&last.id),
                    _ => String::new(),
                };
                let copies = copies::with_location_names(
                    connection,
                    rows.iter().map(|row| copies::to_proto(row, &title.title)).collect(),
                )?;
                Ok(pb::ListCopiesResponse { copies, next_page_token })
            })
            .await?;
        Ok(Response::new(response))
    }

    async fn search_titles(
        &self,
        request: Request<pb::SearchTitlesRequest>,
    ) -> Result<Response<pb::SearchTitlesResponse>, Status> {
        // Open to anyone signed in (staff, readers, devices): the district's
        // catalog is for all its readers.
        principal(&request)?;
        let request = request.into_inner();
        let search = search::SearchRequest::from_request(&request)?;
        let limit = page_size("page_size", request.page_size, 20, 100)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let page = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(search::run(connection, &search, offset, limit)?)
            })
            .await?;
        let next_page_token =
            if page.more { paging::encode(&(offset + limit).to_string()) } else { String::new() };
        Ok(Response::new(pb::SearchTitlesResponse { hits: page.hits, next_page_token }))
    }
}
