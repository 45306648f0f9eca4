//! `ReaderService`: schools, classes, readers and their blocks.

use lectern_common::clock::SharedClock;
use lectern_common::db::Db;
use lectern_common::identity::{
    Role, SubjectKind, principal, require_role, require_staff, require_staff_or_self,
};
use lectern_common::validate::{self, page_size};
use lectern_common::{ids, paging};
use lectern_proto::reader::v1::reader_service_server::ReaderService;
use lectern_proto::reader::v1::{
    Class, CreateClassRequest, CreateReaderBlockRequest, CreateReaderRequest, CreateSchoolRequest,
    DeleteReaderBlockRequest, GetReaderRequest, GetSchoolRequest, ListClassesRequest, ListClassesResponse,
    ListReadersRequest, ListReadersResponse, ListSchoolsRequest, ListSchoolsResponse, LookupReaderRequest,
    Reader, School, SearchReadersRequest, SearchReadersResponse, SetReaderPinRequest, SetReaderPinResponse,
};
use tonic::{Request, Response, Status};

use super::{idempotent, page, require_staff_or_service};
use crate::db::readers::{ReaderKey, STATUS_ACTIVE};
use crate::db::{self, BlockRow, ClassRow, ReaderRow, SchoolRow};
use crate::error::Error;
use crate::{convert, organisation, readers};

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

/// The `ReaderService` handlers.
#[derive(Debug, Clone)]
pub struct Readers {
    pub db: Db,
    pub clock: SharedClock,
    pub time_zone: chrono_tz::Tz,
}

impl Readers {
    fn today(&self) -> chrono::NaiveDate {
        readers::today(&self.clock, self.time_zone)
    }

    /// One page of a school's readers (of one class, matching `needle`, if
    /// given), by name; the request fields checked here.
    async fn readers_page(
        &self,
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
        require_role(&caller, &[Role::DistrictAdmin])?;
        let request = request.into_inner();
        let now = self.clock.now().naive_utc();
        let school = SchoolRow {
            id: ids::new_id(),
            code: organisation::school_code("code", &request.code)?,
            name: validate::required_text("name", &request.name, 200)?,
            created_at: now,
        };
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let answer = self
            .db
            .write(move |connection| {
                idempotent(connection, "reader.CreateSchool", request_id.as_deref(), now, |connection| {
                    organisation::create_school(connection, school).map(convert::school)
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn get_school(&self, request: Request<GetSchoolRequest>) -> Result<Response<School>, Status> {
        require_staff_or_service(&principal(&request)?)?;
        let id = ids::parse_id("id", &request.get_ref().id)?;
        let school = self
            .db
            .run(move |connection| -> Result<_, Error> {
                db::organisation::find_school(connection, &id)?.ok_or(Error::SchoolNotFound(id))
            })
            .await?;
        Ok(Response::new(convert::school(school)))
    }

    async fn list_schools(
        &self,
        request: Request<ListSchoolsRequest>,
    ) -> Result<Response<ListSchoolsResponse>, Status> {
        require_staff_or_service(&principal(&request)?)?;
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
        require_staff(&principal(&request)?)?;
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
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let answer = self
            .db
            .write(move |connection| {
                idempotent(connection, "reader.CreateClass", request_id.as_deref(), now, |connection| {
                    organisation::create_class(connection, class).map(convert::class)
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn list_classes(
        &self,
        request: Request<ListClassesRequest>,
    ) -> Result<Response<ListClassesResponse>, Status> {
        require_staff(&principal(&request)?)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
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
        require_staff(&principal(&request)?)?;
        let request = request.into_inner();
        let now = self.clock.now().naive_utc();
        let reader = ReaderRow {
            id: ids::new_id(),
            school_id: ids::parse_id("school_id", &request.school_id)?,
            card_barcode: validate::barcode("card_barcode", &request.card_barcode)?,
            name: validate::required_text("name", &request.name, 100)?,
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
        let today = self.today();
        let answer = self
            .db
            .write(move |connection| {
                idempotent(connection, "reader.CreateReader", request_id.as_deref(), now, |connection| {
                    readers::create_reader(connection, reader, today).map(convert::reader)
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn get_reader(&self, request: Request<GetReaderRequest>) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        let id = ids::parse_id("id", &request.get_ref().id)?;
        if caller.kind == SubjectKind::Reader {
            require_staff_or_self(&caller, &id)?;
        } else {
            require_staff_or_service(&caller)?;
        }
        let today = self.today();
        let reader =
            self.db.run(move |connection| readers::view(connection, ReaderKey::Id(&id), today)).await?;
        Ok(Response::new(convert::reader(reader)))
    }

    async fn lookup_reader(&self, request: Request<LookupReaderRequest>) -> Result<Response<Reader>, Status> {
        require_staff_or_service(&principal(&request)?)?;
        let card_barcode = validate::barcode("card_barcode", &request.get_ref().card_barcode)?;
        let today = self.today();
        let reader = self
            .db
            .run(move |connection| readers::view(connection, ReaderKey::CardBarcode(&card_barcode), today))
            .await?;
        Ok(Response::new(convert::reader(reader)))
    }

    async fn list_readers(
        &self,
        request: Request<ListReadersRequest>,
    ) -> Result<Response<ListReadersResponse>, Status> {
        require_staff(&principal(&request)?)?;
        let request = request.into_inner();
        let (readers, next_page_token) = self
            .readers_page(&request.school_id, &request.class_id, None, request.page_size, &request.page_token)
            .await?;
        Ok(Response::new(ListReadersResponse { readers, next_page_token }))
    }

    async fn set_reader_pin(
        &self,
        request: Request<SetReaderPinRequest>,
    ) -> Result<Response<SetReaderPinResponse>, Status> {
        require_staff(&principal(&request)?)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let pin = crate::accounts::pin("pin", &request.pin)?;
        let pin_hash =
            crate::passwords::off_runtime(move || crate::passwords::hash(&pin).map_err(Error::Internal))
                .await?;
        let now = self.clock.now().naive_utc();
        self.db
            .write(move |connection| -> Result<(), Error> {
                if !db::readers::reader_exists(connection, &reader_id)? {
                    return Err(Error::ReaderNotFound(reader_id));
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
        require_staff(&principal(&request)?)?;
        let request = request.into_inner();
        let needle = readers::search_needle("query", &request.query)?;
        let (readers, next_page_token) = self
            .readers_page(
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
        require_staff(&caller)?;
        let request = request.into_inner();
        let now = self.clock.now().naive_utc();
        let today = self.today();
        let block = BlockRow {
            id: ids::new_id(),
            reader_id: ids::parse_id("reader_id", &request.reader_id)?,
            reason: validate::required_text("reason", &request.reason, 500)?,
            ends_on: readers::block_end("ends_on", &request.ends_on, today)?,
            created_at: now,
            created_by: caller.subject_id,
            lifted_at: None,
            lifted_by: None,
        };
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let answer = self
            .db
            .write(move |connection| {
                idempotent(connection, "reader.CreateReaderBlock", request_id.as_deref(), now, |connection| {
                    readers::place_block(connection, block, today).map(convert::reader)
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn delete_reader_block(
        &self,
        request: Request<DeleteReaderBlockRequest>,
    ) -> Result<Response<Reader>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let block_id = ids::parse_id("block_id", &request.block_id)?;
        let now = self.clock.now().naive_utc();
        let today = self.today();
        let reader = self
            .db
            .write(move |connection| {
                readers::lift_block(connection, &reader_id, &block_id, &caller.subject_id, now, today)
            })
            .await?;
        Ok(Response::new(convert::reader(reader)))
    }
}
