//! gRPC handlers of `CollectionService`: item types, shelf locations, a
//! copy's details and life, and walking the shelves. Thin: check the
//! caller, validate, call [`crate::copies`], [`crate::lifecycle`] or
//! [`crate::locations`] inside a transaction, map.

use lectern_core::access::Access;
use lectern_core::identity::principal;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError, page_size, required_text};
use lectern_core::{ids, paging};
use lectern_proto::catalog::v1 as pb;
use lectern_proto::catalog::v1::collection_service_server::CollectionService;
use tonic::{Request, Response, Status};

use crate::db::{self, ItemTypeRow, ShelfFilter};
use crate::grpc::{CATALOGERS, Catalog};
use crate::lifecycle::{self, StatusChange};
use crate::{copies, locations};
use lectern_common::Error;
use lectern_common::idempotency::Idempotent;

const CREATE_ITEM_TYPE: &str = "catalog.CreateItemType";
const CREATE_SHELF_LOCATION: &str = "catalog.CreateShelfLocation";
const UPDATE_COPY: &str = "catalog.UpdateCopy";
const CHANGE_COPY_STATUS: &str = "catalog.ChangeCopyStatus";

/// Longest item type name, in characters.
const MAX_ITEM_TYPE_NAME_CHARS: usize = 50;

/// The copy with `id`, or NOT_FOUND.
fn load_copy(
    connection: &mut lectern_common::db::DbConnection,
    id: &str,
) -> Result<(db::CopyRow, String), Error> {
    db::find_copy(connection, id)?.ok_or_else(|| copies::not_found(format!("no copy has id {id}")).into())
}

fn item_type_to_proto(row: &ItemTypeRow) -> pb::ItemType {
    pb::ItemType { code: row.code.clone(), name_zh: row.name_zh.clone(), name_en: row.name_en.clone() }
}

#[tonic::async_trait]
impl CollectionService for Catalog {
    async fn list_item_types(
        &self,
        request: Request<pb::ListItemTypesRequest>,
    ) -> Result<Response<pb::ListItemTypesResponse>, Status> {
        principal(&request)?;
        let rows = self.db.run(|connection| -> Result<_, Error> { Ok(db::item_types(connection)?) }).await?;
        Ok(Response::new(pb::ListItemTypesResponse {
            item_types: rows.iter().map(item_type_to_proto).collect(),
        }))
    }

    async fn create_item_type(
        &self,
        request: Request<pb::CreateItemTypeRequest>,
    ) -> Result<Response<pb::ItemType>, Status> {
        let caller = principal(&request)?;
        // Item types are the district's vocabulary: circulation rules of
        // every school key on them.
        caller.require(Access::DISTRICT_ADMIN)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let item_type = request.item_type.unwrap_or_default();
        let row = ItemTypeRow {
            code: copies::item_type_code("item_type.code", &item_type.code)?,
            name_zh: required_text("item_type.name_zh", &item_type.name_zh, MAX_ITEM_TYPE_NAME_CHARS)?,
            name_en: required_text("item_type.name_en", &item_type.name_en, MAX_ITEM_TYPE_NAME_CHARS)?,
            created_at: self.clock.now().naive_utc(),
        };
        let now = row.created_at;
        let created = Idempotent::new(CREATE_ITEM_TYPE, request_id)
            .write(&self.db, now, move |connection| {
                if db::find_item_type(connection, &row.code)?.is_some() {
                    return Err(Refusal::new(
                        Reason::ItemTypeTaken,
                        format!("item type {} already exists", row.code),
                    )
                    .with("item_type", row.code.as_str())
                    .into());
                }
                db::insert_item_type(connection, &row)?;
                Ok(item_type_to_proto(&row))
            })
            .await?
            .into_inner();
        tracing::info!(item_type = %created.code, "item type added");
        Ok(Response::new(created))
    }

    async fn create_shelf_location(
        &self,
        request: Request<pb::CreateShelfLocationRequest>,
    ) -> Result<Response<pb::ShelfLocation>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let name = locations::location_name("name", &request.name)?;
        caller.require_school(&school_id)?;
        self.require_school(&caller, &school_id).await?;
        let now = self.clock.now().naive_utc();
        let id = ids::new_id();
        let location = Idempotent::new(CREATE_SHELF_LOCATION, request_id)
            .write(&self.db, now, move |connection| {
                Ok(locations::to_proto(&locations::create(connection, &school_id, &name, id, now)?))
            })
            .await?
            .into_inner();
        tracing::info!(location.id = %location.id, school.id = %location.school_id, "shelf location added");
        Ok(Response::new(location))
    }

    async fn list_shelf_locations(
        &self,
        request: Request<pb::ListShelfLocationsRequest>,
    ) -> Result<Response<pb::ListShelfLocationsResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let school_id = ids::parse_id("school_id", &request.get_ref().school_id)?;
        caller.require_school(&school_id)?;
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::locations_of_school(connection, &school_id)?)
            })
            .await?;
        Ok(Response::new(pb::ListShelfLocationsResponse {
            locations: rows.iter().map(locations::to_proto).collect(),
        }))
    }

    async fn update_copy(
        &self,
        request: Request<pb::UpdateCopyRequest>,
    ) -> Result<Response<pb::Copy>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let changes = request.copy.ok_or_else(|| FieldError::new("copy", "is required"))?;
        let id = ids::parse_id("copy.id", &changes.id)?;
        let mask = request.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let now = self.clock.now().naive_utc();
        let copy = Idempotent::new(UPDATE_COPY, request_id)
            .write(&self.db, now, move |connection| {
                let (row, title) = load_copy(connection, &id)?;
                caller.require_school(&row.school_id)?;
                let row = copies::update(connection, row, &changes, &mask)?;
                Ok(copies::message(connection, &row, &title)?)
            })
            .await?
            .into_inner();
        tracing::info!(copy.id = %copy.id, "copy details changed");
        Ok(Response::new(copy))
    }

    async fn change_copy_status(
        &self,
        request: Request<pb::ChangeCopyStatusRequest>,
    ) -> Result<Response<pb::Copy>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let id = ids::parse_id("copy_id", &request.copy_id)?;
        let change = StatusChange::from_request(&request)?;
        let now = self.clock.now().naive_utc();
        let actor_id = caller.subject_id.clone();
        let copy = Idempotent::new(CHANGE_COPY_STATUS, request_id)
            .write(&self.db, now, move |connection| {
                let (row, title) = load_copy(connection, &id)?;
                caller.require_school(&row.school_id)?;
                lifecycle::change_status(connection, &row, &change, &actor_id, now)?;
                let (row, _) = load_copy(connection, &id)?;
                Ok(copies::message(connection, &row, &title)?)
            })
            .await?
            .into_inner();
        tracing::info!(copy.id = %copy.id, copy.status = copy.status, "copy status changed");
        Ok(Response::new(copy))
    }

    async fn get_copy_history(
        &self,
        request: Request<pb::GetCopyHistoryRequest>,
    ) -> Result<Response<pb::CopyHistory>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let id = ids::parse_id("copy_id", &request.get_ref().copy_id)?;
        let history = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let (row, title) = load_copy(connection, &id)?;
                caller.require_school(&row.school_id)?;
                Ok(pb::CopyHistory {
                    copy: Some(copies::message(connection, &row, &title)?),
                    changes: db::status_history(connection, &id)?
                        .iter()
                        .map(lifecycle::change_to_proto)
                        .collect(),
                    repair_tickets: db::repair_tickets_of(connection, &id)?
                        .iter()
                        .map(lifecycle::ticket_to_proto)
                        .collect(),
                })
            })
            .await?;
        Ok(Response::new(history))
    }

    async fn list_repair_tickets(
        &self,
        request: Request<pb::ListRepairTicketsRequest>,
    ) -> Result<Response<pb::ListRepairTicketsResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        caller.require_school(&school_id)?;
        let response = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let rows = db::school_repair_tickets(connection, &school_id, request.include_closed, 500)?;
                let tickets = rows.iter().map(|(ticket, _, _)| lifecycle::ticket_to_proto(ticket)).collect();
                let copies = copies::with_location_names(
                    connection,
                    rows.iter().map(|(_, copy, title)| copies::to_proto(copy, title)).collect(),
                )?;
                Ok(pb::ListRepairTicketsResponse { tickets, copies })
            })
            .await?;
        Ok(Response::new(response))
    }

    async fn browse_shelf(
        &self,
        request: Request<pb::BrowseShelfRequest>,
    ) -> Result<Response<pb::BrowseShelfResponse>, Status> {
        // Open to anyone signed in, like search: readers browse the shelves
        // from the portal and the kiosk.
        principal(&request)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let filter = ShelfFilter {
            location_id: ids::parse_optional_id("location_id", &request.location_id)?,
            class_prefix: match validate::optional_text("class_prefix", &request.class_prefix, 40)? {
                prefix if prefix.is_empty() => None,
                prefix => Some(prefix),
            },
        };
        let limit = page_size("page_size", request.page_size, 50, 200)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let (copies, more) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let rows = db::browse_shelf(connection, &school_id, &filter, offset, limit + 1)?;
                let (rows, more) = paging::split_page(rows, limit);
                let copies = copies::with_location_names(
                    connection,
                    rows.iter().map(|(copy, title)| copies::to_proto(copy, title)).collect(),
                )?;
                Ok((copies, more))
            })
            .await?;
        let next_page_token =
            if more { paging::encode(&(offset + limit).to_string()) } else { String::new() };
        Ok(Response::new(pb::BrowseShelfResponse { copies, next_page_token }))
    }

    async fn suggest_call_number(
        &self,
        request: Request<pb::SuggestCallNumberRequest>,
    ) -> Result<Response<pb::SuggestCallNumberResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let class_number =
            required_text("class_number", &request.class_number, crate::titles::MAX_CLASS_CHARS)?;
        let author = validate::optional_text("author", &request.author, crate::titles::MAX_NAME_CHARS)?;
        let call_number = lectern_biblio::callnumber::suggest(&class_number, &author).unwrap_or_default();
        Ok(Response::new(pb::SuggestCallNumberResponse { call_number }))
    }
}
