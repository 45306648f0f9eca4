//! gRPC handlers of `StocktakeService`: check the caller (staff of the
//! session's school; only librarians and district admins start, finalize or
//! cancel), validate, run [`crate::stocktake_session`] in a transaction.

use lectern_core::access::Access;
use lectern_core::identity::{Principal, principal};
use lectern_core::validate::{self, FieldError, known_enum, page_size};
use lectern_core::{ids, paging};
use lectern_proto::catalog::v1 as pb;
use lectern_proto::catalog::v1::stocktake_service_server::StocktakeService;
use tonic::{Request, Response, Status};

use crate::grpc::Catalog;
use crate::stocktake_scan::{self, ScanDraft};
use crate::stocktake_session::{self as session, Confirmation, StartDraft};
use lectern_common::Error;
use lectern_common::idempotency::Idempotent;

/// Idempotency operation names of the state-changing calls.
const START: &str = "catalog.StartStocktake";
const RECORD_SCANS: &str = "catalog.RecordScans";
const FINALIZE: &str = "catalog.FinalizeStocktake";
const CANCEL: &str = "catalog.CancelStocktake";

/// Most scans in one batch: a handheld uploads a shelf at a time.
const MAX_SCANS: usize = 1000;
/// Longest session or location name, in characters.
const MAX_NAME_CHARS: usize = 100;

/// Starting, finalizing and cancelling change what the school's records
/// say: librarians and district admins. Assistants scan.
const STOCKTAKE_LEADERS: Access = Access::LIBRARIAN;

impl Catalog {
    /// Loads the session `id` and refuses unless the caller works for its
    /// school; returns its school.
    async fn session_school(&self, caller: &Principal, id: &str) -> Result<String, Status> {
        let id = id.to_owned();
        let row = self.db.run(move |connection| session::load(connection, &id)).await?;
        caller.require_school(&row.school_id)?;
        Ok(row.school_id)
    }
}

#[tonic::async_trait]
impl StocktakeService for Catalog {
    async fn start_stocktake(
        &self,
        request: Request<pb::StartStocktakeRequest>,
    ) -> Result<Response<pb::Stocktake>, Status> {
        let caller = principal(&request)?;
        caller.require(STOCKTAKE_LEADERS)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let name = validate::required_text("name", &request.name, MAX_NAME_CHARS)?;
        let locations = request
            .locations
            .iter()
            .map(|location| validate::required_text("locations", location, MAX_NAME_CHARS))
            .collect::<Result<Vec<_>, _>>()?;
        caller.require_school(&school_id)?;
        // Asked before the transaction: no write lock is held across a call
        // to another service.
        self.require_school(&caller, &school_id).await?;
        let draft = StartDraft { school_id, name, locations };
        let now = self.clock.now().naive_utc();
        let id = ids::new_id();
        let started_by = caller.subject_id.clone();
        let stocktake = Idempotent::new(START, request_id)
            .write(&self.db, now, move |connection| session::start(connection, &draft, id, &started_by, now))
            .await?
            .into_inner();
        tracing::info!(stocktake.id = %stocktake.id, school.id = %stocktake.school_id,
            copies = stocktake.progress.as_ref().map_or(0, |progress| progress.in_scope), "stocktake started");
        Ok(Response::new(stocktake))
    }

    async fn record_scans(
        &self,
        request: Request<pb::RecordScansRequest>,
    ) -> Result<Response<pb::RecordScansResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let stocktake_id = ids::parse_id("stocktake_id", &request.stocktake_id)?;
        if request.scans.is_empty() {
            return Err(FieldError::new("scans", "is required").into());
        }
        if request.scans.len() > MAX_SCANS {
            return Err(FieldError::new(
                "scans",
                format!("has more than {MAX_SCANS} scans; send smaller batches"),
            )
            .into());
        }
        let location = validate::optional_text("location", &request.location, MAX_NAME_CHARS)?;
        let scans: Vec<ScanDraft> =
            request.scans.iter().enumerate().map(|(index, scan)| ScanDraft::from_scan(index, scan)).collect();
        self.session_school(&caller, &stocktake_id).await?;
        let now = self.clock.now().naive_utc();
        let scanned_by = caller.subject_id.clone();
        let answer = Idempotent::new(RECORD_SCANS, request_id)
            .write(&self.db, now, move |connection| {
                stocktake_scan::record_scans(connection, &stocktake_id, &location, &scans, &scanned_by, now)
            })
            .await?
            .into_inner();
        tracing::info!(stocktake.id = %request.stocktake_id, scans = answer.results.len(), "stocktake scans recorded");
        Ok(Response::new(answer))
    }

    async fn get_stocktake(
        &self,
        request: Request<pb::GetStocktakeRequest>,
    ) -> Result<Response<pb::Stocktake>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let id = ids::parse_id("id", &request.get_ref().id)?;
        self.session_school(&caller, &id).await?;
        let stocktake = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let row = session::load(connection, &id)?;
                session::view(connection, &row, true)
            })
            .await?;
        Ok(Response::new(stocktake))
    }

    async fn list_stocktakes(
        &self,
        request: Request<pb::ListStocktakesRequest>,
    ) -> Result<Response<pb::ListStocktakesResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        caller.require_school(&school_id)?;
        let limit = page_size("page_size", request.page_size, 20, 100)?;
        let before = paging::decode("page_token", &request.page_token)?;
        let (stocktakes, more) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let rows = crate::db::stocktake::list_stocktakes(
                    connection,
                    &school_id,
                    before.as_deref(),
                    limit + 1,
                )?;
                let (rows, more) = paging::split_page(rows, limit);
                let views = rows
                    .iter()
                    .map(|row| session::view(connection, row, false))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((views, more))
            })
            .await?;
        let next_page_token = match stocktakes.last() {
            Some(last) if more => paging::encode(&last.id),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListStocktakesResponse { stocktakes, next_page_token }))
    }

    async fn get_stocktake_report(
        &self,
        request: Request<pb::GetStocktakeReportRequest>,
    ) -> Result<Response<pb::GetStocktakeReportResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let id = ids::parse_id("id", &request.id)?;
        let section: pb::ReportSection = known_enum("section", request.section)?;
        let limit = page_size("page_size", request.page_size, 100, 1000)?;
        let after = paging::decode("page_token", &request.page_token)?;
        self.session_school(&caller, &id).await?;
        let (entries, total) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let row = session::load(connection, &id)?;
                session::report(connection, &row, section, after.as_deref(), limit + 1)
            })
            .await?;
        let (entries, more) = paging::split_page(entries, limit);
        let next_page_token = match entries.last() {
            Some(last) if more => paging::encode(&last.barcode),
            _ => String::new(),
        };
        Ok(Response::new(pb::GetStocktakeReportResponse {
            entries,
            next_page_token,
            total: i32::try_from(total).unwrap_or(i32::MAX),
        }))
    }

    async fn finalize_stocktake(
        &self,
        request: Request<pb::FinalizeStocktakeRequest>,
    ) -> Result<Response<pb::FinalizeStocktakeResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(STOCKTAKE_LEADERS)?;
        let request = request.into_inner();
        let id = ids::parse_id("id", &request.id)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let limit = page_size("page_size", request.page_size, 100, 1000)?;
        let confirmation = match (request.confirm, request.preview_token.trim(), request.expected_count) {
            (false, _, _) => None,
            (true, "", Some(count)) if count >= 0 => Some(Confirmation::Count(count)),
            (true, "", Some(_)) => {
                return Err(FieldError::new("expected_count", "must not be negative").into());
            }
            (true, "", None) => {
                return Err(FieldError::new(
                    "preview_token",
                    "is required to confirm: pass the preview's token (or expected_count)",
                )
                .into());
            }
            (true, token, _) => Some(Confirmation::Token(token.to_owned())),
        };
        self.session_school(&caller, &id).await?;
        let Some(confirmation) = confirmation else {
            let preview = self
                .db
                .run(move |connection| -> Result<_, Error> {
                    let row = session::load(connection, &id)?;
                    session::preview(connection, &row, limit)
                })
                .await?;
            return Ok(Response::new(preview));
        };
        let now = self.clock.now().naive_utc();
        let actor = caller.subject_id.clone();
        let finalized = Idempotent::new(FINALIZE, request_id)
            .write(&self.db, now, move |connection| {
                session::finalize(connection, &id, &confirmation, &actor, now, limit)
            })
            .await?
            .into_inner();
        tracing::info!(stocktake.id = %request.id, marked_missing = finalized.count,
            by = %caller.log_label(), "stocktake finalized");
        Ok(Response::new(finalized))
    }

    async fn cancel_stocktake(
        &self,
        request: Request<pb::CancelStocktakeRequest>,
    ) -> Result<Response<pb::Stocktake>, Status> {
        let caller = principal(&request)?;
        caller.require(STOCKTAKE_LEADERS)?;
        let request = request.into_inner();
        let id = ids::parse_id("id", &request.id)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        self.session_school(&caller, &id).await?;
        let now = self.clock.now().naive_utc();
        let actor = caller.subject_id.clone();
        let stocktake = Idempotent::new(CANCEL, request_id)
            .write(&self.db, now, move |connection| session::cancel(connection, &id, &actor, now))
            .await?
            .into_inner();
        tracing::info!(stocktake.id = %stocktake.id, by = %caller.log_label(), "stocktake cancelled");
        Ok(Response::new(stocktake))
    }
}
