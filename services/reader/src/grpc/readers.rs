//! `ReaderService`: schools, classes, readers and their blocks.

use lectern_common::db::Db;
use lectern_common::idempotency::Idempotent;
use lectern_common::outbox::RelayWaker;
use lectern_core::access::Access;
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Principal, SubjectKind, principal};
use lectern_core::validate::{self, page_size};
use lectern_core::{ids, paging};
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::notification::v1::notification_service_client::NotificationServiceClient;
use lectern_proto::reader::v1::reader_service_server::ReaderService;
use lectern_proto::reader::v1::{
    Class, CreateClassRequest, CreateReaderBlockRequest, CreateReaderRequest, CreateSchoolRequest,
    DeleteReaderBlockRequest, GetReaderRequest, GetSchoolRequest, ListClassesRequest, ListClassesResponse,
    ListReadersRequest, ListReadersResponse, ListSchoolsRequest, ListSchoolsResponse, LookupReaderRequest,
    Reader, School, SearchReadersRequest, SearchReadersResponse, SetReaderPinRequest, SetReaderPinResponse,
};
use lectern_proto::reader::v1::{
    CreateReaderCategoryRequest, EraseReaderRequest, EraseReaderResponse, ExportReaderDataRequest,
    ExportReaderDataResponse, ListReaderCategoriesRequest, ListReaderCategoriesResponse, ReaderCategory,
    ReplaceReaderCardRequest, UpdateReaderCategoryRequest, UpdateReaderRequest,
};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use super::scope::{require_reader_school, school_of_reader};
use super::{STAFF_OR_SERVICES, page};
use crate::audit::{self, Entry, action, outcome};
use crate::db::readers::{ReaderKey, STATUS_ACTIVE};
use crate::db::{self, BlockRow, ClassRow, ReaderRow, SchoolRow};
use crate::error::{Error, ReaderRefusal};
use crate::{convert, organisation, readers};

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

/// The `ReaderService` handlers.
#[derive(Debug, Clone)]
pub struct Readers {
    pub db: Db,
    pub clock: SharedClock,
    pub time_zone: chrono_tz::Tz,
    /// Circulation: open loans before an erasure, loans for an export.
    pub circulation: LoanServiceClient<Channel>,
    /// Notification: notices for an export.
    pub notifications: NotificationServiceClient<Channel>,
    /// Deadline of calls to those.
    pub call_timeout: std::time::Duration,
    /// Wakes the outbox relay after an erasure.
    pub relay: RelayWaker,
}

impl Readers {
    pub(super) fn today(&self) -> chrono::NaiveDate {
        readers::today(&self.clock, self.time_zone)
    }

    /// See [`require_reader_school`].
    async fn require_reader_school(
        &self,
        caller: &Principal,
        school_id: &str,
        subject_id: &str,
        action: &'static str,
    ) -> Result<(), Status> {
        require_reader_school(&self.db, &self.clock, caller, school_id, subject_id, action).await
    }

    /// Refuses staff of other schools a change to reader `reader_id`.
    pub(super) async fn require_reader_in_scope(
        &self,
        caller: &Principal,
        reader_id: &str,
    ) -> Result<(), Status> {
        let school_id = school_of_reader(&self.db, reader_id).await?;
        self.require_reader_school(caller, &school_id, reader_id, action::READER_CHANGED).await
    }

    /// One page of a school's readers (of one class, matching `needle`, if
    /// given), by name; the request fields checked here.
    async fn readers_page(
        &self,
        caller: &Principal,
        school_id: &str,
        class_id: &str,
        needle: Option<String>,
        page_size_field: i32,
        page_token: &str,
    ) -> Result<(Vec<Reader>, String), Status> {
        let school_id = ids::parse_id("school_id", school_id)?;
        let class_id = ids::parse_optional_id("class_id", class_id)?;
        let limit = page_size("page_size", page_size_field, DEFAULT_PAGE, MAX_PAGE)?;
        let offset = paging::decode_offset("page_token", page_token)?;
        self.require_reader_school(caller, &school_id, &school_id, action::READER_READ).await?;
        let today = self.today();
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::readers::list_readers(
                    connection,
                    &school_id,
                    class_id.as_deref(),
                    needle.as_deref(),
                    today,
                    offset,
                    limit + 1,
                )?)
            })
            .await?;
        let (rows, next_page_token) = page(rows, offset, limit);
        Ok((rows.into_iter().map(convert::reader).collect(), next_page_token))
    }
}

#[tonic::async_trait]
impl ReaderService for Readers {
    async fn create_school(&self, request: Request<CreateSchoolRequest>) -> Result<Response<School>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::DISTRICT_ADMIN)?;
        let request = request.into_inner();
        let now = self.clock.now().naive_utc();
        let school = SchoolRow {
            id: ids::new_id(),
            code: organisation::school_code("code", &request.code)?,
            name: validate::required_text("name", &request.name, 200)?,
            created_at: now,
        };
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let answer = Idempotent::new("reader.CreateSchool", request_id)
            .write(&self.db, now, move |connection| {
                organisation::create_school(connection, school).map(convert::school)
            })
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn get_school(&self, request: Request<GetSchoolRequest>) -> Result<Response<School>, Status> {
        // A school's name and code are no secret: the portal shows a
        // reader theirs, a kiosk its own.
        principal(&request)?.require(STAFF_OR_SERVICES.or_readers().or_devices())?;
        let id = ids::parse_id("id", &request.get_ref().id)?;
        let school = self
            .db
            .run(move |connection| -> Result<_, Error> {
                db::organisation::find_school(connection, &id)?
                    .ok_or(ReaderRefusal::SchoolNotFound(id).into())
            })
            .await?;
        Ok(Response::new(convert::school(school)))
    }

    async fn list_schools(
        &self,
        request: Request<ListSchoolsRequest>,
    ) -> Result<Response<ListSchoolsResponse>, Status> {
        // Self-check machines name the school a returned book travels to;
        // the district's school names are no secret.
        principal(&request)?.require(STAFF_OR_SERVICES.or_devices())?;
        let request = request.into_inner();
        let limit = page_size("page_size", request.page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::organisation::list_schools(connection, offset, limit + 1)?)
            })
            .await?;
        let (rows, next_page_token) = page(rows, offset, limit);
        Ok(Response::new(ListSchoolsResponse {
            schools: rows.into_iter().map(convert::school).collect(),
            next_page_token,
        }))
    }

    async fn create_class(&self, request: Request<CreateClassRequest>) -> Result<Response<Class>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::LIBRARIAN)?;
        let request = request.into_inner();
        let now = self.clock.now().naive_utc();
        let class = ClassRow {
            id: ids::new_id(),
            school_id: ids::parse_id("school_id", &request.school_id)?,
            name: validate::required_text("name", &request.name, 100)?,
            grade: organisation::grade("grade", request.grade)?,
            school_year: organisation::school_year("school_year", &request.school_year)?,
            created_at: now,
        };
        caller.require_school(&class.school_id)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let answer = Idempotent::new("reader.CreateClass", request_id)
            .write(&self.db, now, move |connection| {
                organisation::create_class(connection, class).map(convert::class)
            })
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn list_classes(
        &self,
        request: Request<ListClassesRequest>,
    ) -> Result<Response<ListClassesResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        caller.require_school(&school_id)?;
        let school_year = match request.school_year.trim() {
            "" => None,
            year => Some(organisation::school_year("school_year", year)?),
        };
        let limit = page_size("page_size", request.page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::organisation::list_classes(
                    connection,
                    &school_id,
                    school_year.as_deref(),
                    offset,
                    limit + 1,
                )?)
            })
            .await?;
        let (rows, next_page_token) = page(rows, offset, limit);
        Ok(Response::new(ListClassesResponse {
            classes: rows.into_iter().map(convert::class).collect(),
            next_page_token,
        }))
    }

    async fn create_reader(&self, request: Request<CreateReaderRequest>) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let now = self.clock.now().naive_utc();
        let reader = ReaderRow {
            id: ids::new_id(),
            school_id: ids::parse_id("school_id", &request.school_id)?,
            card_barcode: validate::barcode("card_barcode", &request.card_barcode)?,
            name: readers::name("name", &request.name)?,
            category: readers::category("category", &request.category)?,
            class_id: ids::parse_optional_id("class_id", &request.class_id)?,
            status: STATUS_ACTIVE.to_owned(),
            // A past date is allowed: schools import cards that have expired.
            expires_on: validate::optional_date("expires_on", &request.expires_on)?,
            created_at: now,
            number: readers::number("number", &request.number)?,
            name_key: String::new(),
        };
        let reader = ReaderRow { name_key: db::readers::name_key(&reader.name), ..reader };
        let request_id = validate::request_id("request_id", &request.request_id)?;
        self.require_reader_school(&caller, &reader.school_id, &reader.school_id, action::READER_CHANGED)
            .await?;
        let today = self.today();
        let answer = Idempotent::new("reader.CreateReader", request_id)
            .write(&self.db, now, move |connection| {
                let reader = readers::create_reader(connection, reader, today)?;
                changed(connection, &caller, &reader.reader.id, "created", now)?;
                Ok(convert::reader(reader))
            })
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn get_reader(&self, request: Request<GetReaderRequest>) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        let id = ids::parse_id("id", &request.get_ref().id)?;
        if caller.kind == SubjectKind::Reader {
            caller.require_self_or_staff(&id)?;
        } else {
            caller.require(STAFF_OR_SERVICES)?;
        }
        let today = self.today();
        let reader =
            self.db.run(move |connection| readers::view(connection, ReaderKey::Id(&id), today)).await?;
        self.require_reader_school(&caller, &reader.reader.school_id, &reader.reader.id, action::READER_READ)
            .await?;
        Ok(Response::new(convert::reader(reader)))
    }

    async fn lookup_reader(&self, request: Request<LookupReaderRequest>) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        caller.require(STAFF_OR_SERVICES)?;
        let card_barcode = validate::barcode("card_barcode", &request.get_ref().card_barcode)?;
        let today = self.today();
        let reader = self
            .db
            .run(move |connection| readers::view(connection, ReaderKey::CardBarcode(&card_barcode), today))
            .await?;
        self.require_reader_school(&caller, &reader.reader.school_id, &reader.reader.id, action::READER_READ)
            .await?;
        Ok(Response::new(convert::reader(reader)))
    }

    async fn update_reader(&self, request: Request<UpdateReaderRequest>) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.update(&caller, request.into_inner()).await?))
    }

    async fn replace_reader_card(
        &self,
        request: Request<ReplaceReaderCardRequest>,
    ) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.replace_card(&caller, request.into_inner()).await?))
    }

    async fn list_readers(
        &self,
        request: Request<ListReadersRequest>,
    ) -> Result<Response<ListReadersResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let (readers, next_page_token) = self
            .readers_page(
                &caller,
                &request.school_id,
                &request.class_id,
                None,
                request.page_size,
                &request.page_token,
            )
            .await?;
        Ok(Response::new(ListReadersResponse { readers, next_page_token }))
    }

    async fn set_reader_pin(
        &self,
        request: Request<SetReaderPinRequest>,
    ) -> Result<Response<SetReaderPinResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let pin = crate::accounts::pin("pin", &request.pin)?;
        self.require_reader_in_scope(&caller, &reader_id).await?;
        let pin_hash =
            crate::passwords::off_runtime(move || crate::passwords::hash(&pin).map_err(Error::Internal))
                .await?;
        let now = self.clock.now().naive_utc();
        self.db
            .write(move |connection| -> Result<(), Error> {
                if !db::readers::reader_exists(connection, &reader_id)? {
                    return Err(ReaderRefusal::ReaderNotFound(reader_id).into());
                }
                db::pins::set(
                    connection,
                    &db::pins::PinRow {
                        reader_id: reader_id.clone(),
                        pin_hash,
                        failed_logins: 0,
                        locked_until: None,
                        updated_at: now,
                    },
                )?;
                changed(connection, &caller, &reader_id, "PIN set", now)?;
                tracing::info!(reader.id = %reader_id, "reader PIN set");
                Ok(())
            })
            .await?;
        Ok(Response::new(SetReaderPinResponse {}))
    }

    async fn search_readers(
        &self,
        request: Request<SearchReadersRequest>,
    ) -> Result<Response<SearchReadersResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let needle = readers::search_needle("query", &request.query)?;
        let (readers, next_page_token) = self
            .readers_page(
                &caller,
                &request.school_id,
                &request.class_id,
                Some(needle),
                request.page_size,
                &request.page_token,
            )
            .await?;
        Ok(Response::new(SearchReadersResponse { readers, next_page_token }))
    }

    async fn create_reader_block(
        &self,
        request: Request<CreateReaderBlockRequest>,
    ) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let now = self.clock.now().naive_utc();
        let today = self.today();
        let block = BlockRow {
            id: ids::new_id(),
            reader_id: ids::parse_id("reader_id", &request.reader_id)?,
            reason: validate::required_text("reason", &request.reason, 500)?,
            ends_on: readers::block_end("ends_on", &request.ends_on, today)?,
            created_at: now,
            created_by: caller.subject_id.clone(),
            lifted_at: None,
            lifted_by: None,
        };
        let request_id = validate::request_id("request_id", &request.request_id)?;
        self.require_reader_in_scope(&caller, &block.reader_id).await?;
        let answer = Idempotent::new("reader.CreateReaderBlock", request_id)
            .write(&self.db, now, move |connection| {
                let reader_id = block.reader_id.clone();
                let reader = readers::place_block(connection, block, today)?;
                changed(connection, &caller, &reader_id, "block placed", now)?;
                Ok(convert::reader(reader))
            })
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn delete_reader_block(
        &self,
        request: Request<DeleteReaderBlockRequest>,
    ) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let block_id = ids::parse_id("block_id", &request.block_id)?;
        self.require_reader_in_scope(&caller, &reader_id).await?;
        let now = self.clock.now().naive_utc();
        let today = self.today();
        let reader = self
            .db
            .write(move |connection| -> Result<_, Error> {
                let reader =
                    readers::lift_block(connection, &reader_id, &block_id, &caller.subject_id, now, today)?;
                changed(connection, &caller, &reader_id, "block lifted", now)?;
                Ok(reader)
            })
            .await?;
        Ok(Response::new(convert::reader(reader)))
    }

    async fn list_reader_categories(
        &self,
        request: Request<ListReaderCategoriesRequest>,
    ) -> Result<Response<ListReaderCategoriesResponse>, Status> {
        Ok(Response::new(self.categories(&principal(&request)?).await?))
    }

    async fn create_reader_category(
        &self,
        request: Request<CreateReaderCategoryRequest>,
    ) -> Result<Response<ReaderCategory>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.create_category(&caller, request.into_inner()).await?))
    }

    async fn update_reader_category(
        &self,
        request: Request<UpdateReaderCategoryRequest>,
    ) -> Result<Response<ReaderCategory>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.update_category(&caller, request.into_inner()).await?))
    }

    async fn export_reader_data(
        &self,
        request: Request<ExportReaderDataRequest>,
    ) -> Result<Response<ExportReaderDataResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.export(&caller, request.into_inner()).await?))
    }

    async fn erase_reader(
        &self,
        request: Request<EraseReaderRequest>,
    ) -> Result<Response<EraseReaderResponse>, Status> {
        let caller = principal(&request)?;
        Ok(Response::new(self.erase(&caller, request.into_inner()).await?))
    }
}

/// Audits a change `what` by staff member `caller` to reader `reader_id`,
/// in the caller's transaction.
pub(super) fn changed(
    connection: &mut lectern_common::db::DbConnection,
    caller: &Principal,
    reader_id: &str,
    what: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), Error> {
    let entry = Entry::about(action::READER_CHANGED, outcome::SUCCEEDED, &caller.subject_id, reader_id)
        .detail(what.to_owned());
    audit::record(connection, entry, now)?;
    Ok(())
}
