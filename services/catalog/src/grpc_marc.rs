//! gRPC handlers of `MarcService`: MARC import (streaming both ways),
//! holdings export (streaming out) and ISBN scan intake. Each checks the
//! caller (librarians of the school, district admins), validates, then
//! hands over to [`crate::marc`].

use std::io::BufReader;
use std::pin::Pin;
use std::time::Duration;

use crate::grpc::CATALOGERS;
use lectern_common::db::Db;
use lectern_common::idempotency::{Held, HeldClaim, Idempotent};
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Principal, principal};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError, optional_text};
use lectern_core::{client, ids};
use lectern_proto::catalog::v1 as pb;
use lectern_proto::catalog::v1::marc_service_server::MarcService;
use lectern_proto::reader::v1::GetSchoolRequest;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use pb::import_marc_request::Part;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status, Streaming};

use crate::copies::MAX_CALL_NUMBER_CHARS;

use crate::isbn::Isbn;
use crate::locations;
use crate::marc::apply::{self, ImportState};
use crate::marc::export;
use crate::marc::import::{self, ChunkReader, Format, ImportOptions, Prepared};
use crate::marc::intake::{self, IntakeDraft, Sources};
use lectern_common::Error;

/// Idempotency operation names.
const IMPORT: &str = "catalog.ImportMarc";
const IMPORT_DRY_RUN: &str = "catalog.ImportMarc.dry_run";
const INTAKE: &str = "catalog.IntakeIsbn";
/// How long a repeated import waits for the first one, still running, to
/// finish before it is told to try again.
const DUPLICATE_IMPORT_WAIT: std::time::Duration = std::time::Duration::from_secs(600);
/// Rejected records kept in the remembered answer of an import, for a
/// retry; the live stream carries all of them.
const REMEMBERED_RESULTS: usize = 1000;
/// Bytes of an export sent per message (at least; a page of titles is
/// never split).
const EXPORT_CHUNK_BYTES: usize = 64 * 1024;

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The MARC service's handlers.
#[derive(Debug, Clone)]
pub struct Marc {
    pub db: Db,
    pub clock: SharedClock,
    /// The reader service, asked for the school (and its code).
    pub reader: ReaderServiceClient<Channel>,
    /// Deadline of calls to the reader service.
    pub call_timeout: Duration,
    /// Metadata sources of intake, in order.
    pub sources: Sources,
}

impl Marc {
    /// The school's code, refusing a school the caller does not work for or
    /// the reader service does not know.
    async fn school_code(&self, caller: &Principal, school_id: &str) -> Result<String, Error> {
        caller.require_school(school_id)?;
        let request =
            client::on_behalf(GetSchoolRequest { id: school_id.to_owned() }, caller, self.call_timeout);
        match self.reader.clone().get_school(request).await {
            Ok(school) => Ok(school.into_inner().code),
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
impl MarcService for Marc {
    type ImportMarcStream = BoxStream<pb::ImportMarcResponse>;
    type ExportMarcStream = BoxStream<pb::ExportMarcChunk>;

    async fn import_marc(
        &self,
        request: Request<Streaming<pb::ImportMarcRequest>>,
    ) -> Result<Response<Self::ImportMarcStream>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let mut inbound = request.into_inner();
        let options = match inbound.message().await?.and_then(|message| message.part) {
            Some(Part::Options(options)) => ImportOptions::from_proto(&options)?,
            _ => {
                return Err(FieldError::new(
                    "options",
                    "the first message of an import must carry the options",
                )
                .into());
            }
        };
        if let Some(school_id) = &options.school_id {
            self.school_code(&caller, school_id).await?;
        }
        let operation = if options.dry_run { IMPORT_DRY_RUN } else { IMPORT };
        // An import is many transactions: its request id is claimed for the
        // whole run, and a duplicate waits for the first run's answer.
        let once = Idempotent::new(operation, options.request_id.clone());
        let claim = match once.hold(&self.db, &self.clock, DUPLICATE_IMPORT_WAIT).await? {
            Held::Answered(answer) => return Ok(Response::new(Box::pin(tokio_stream::once(Ok(answer))))),
            Held::Claimed(claim) => claim,
        };
        tracing::info!(
            school.id = options.school_id.as_deref().unwrap_or(""),
            dry_run = options.dry_run,
            "MARC import started"
        );
        let (responses, stream) = mpsc::channel(4);
        tokio::spawn(run_import(self.db.clone(), self.clock.clone(), options, inbound, responses, claim));
        Ok(Response::new(Box::pin(ReceiverStream::new(stream))))
    }

    async fn export_marc(
        &self,
        request: Request<pb::ExportMarcRequest>,
    ) -> Result<Response<Self::ExportMarcStream>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let format = Format::from_proto("format", request.format)?;
        let school_code = self.school_code(&caller, &school_id).await?;
        let (chunks, stream) = mpsc::channel(4);
        tokio::spawn(run_export(self.db.clone(), school_id, school_code, format, chunks));
        Ok(Response::new(Box::pin(ReceiverStream::new(stream))))
    }

    async fn intake_isbn(
        &self,
        request: Request<pb::IntakeIsbnRequest>,
    ) -> Result<Response<pb::IntakeIsbnResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(CATALOGERS)?;
        let request = request.into_inner();
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let draft = intake_draft(&request)?;
        self.school_code(&caller, &draft.school_id).await?;
        let isbn13 = draft.isbn.isbn13().to_owned();
        let catalogued = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(crate::db::title_id_by_isbn(connection, &isbn13)?)
            })
            .await?
            .is_some();
        // Sources are asked before the write transaction: no write lock is
        // held while a source answers.
        let mut found = None;
        if !catalogued {
            for source in self.sources.iter() {
                if let Some(bib) = source.lookup(&draft.isbn).await? {
                    found = Some((bib, source.name().to_owned()));
                    break;
                }
            }
            if found.is_none() {
                return Err(intake::unknown_isbn(&draft.isbn, &self.sources).into());
            }
        }
        let now = self.clock.now().naive_utc();
        let answer = Idempotent::new(INTAKE, request_id)
            .write(&self.db, now, move |connection| {
                intake::catalogue(connection, &draft, found.as_ref(), now)
            })
            .await?
            .into_inner();
        tracing::info!(
            title.id = answer.title.as_ref().map_or("", |title| title.id.as_str()),
            title_created = answer.title_created,
            "copy taken in by ISBN scan"
        );
        Ok(Response::new(answer))
    }
}

fn intake_draft(request: &pb::IntakeIsbnRequest) -> Result<IntakeDraft, FieldError> {
    let isbn = Isbn::parse(&request.isbn).map_err(|error| FieldError::new("isbn", error.to_string()))?;
    let location = match request.location.trim() {
        "" => None,
        name => Some(locations::location_name("location", name)?),
    };
    let item_type = match request.item_type.trim().to_lowercase() {
        empty if empty.is_empty() => "book".to_owned(),
        code => code,
    };
    Ok(IntakeDraft {
        isbn,
        school_id: ids::parse_id("school_id", &request.school_id)?,
        barcode: validate::barcode("barcode", &request.barcode)?,
        location,
        item_type,
        call_number: optional_text("call_number", &request.call_number, MAX_CALL_NUMBER_CHARS)?,
    })
}

/// Feeds the client's chunks to the reader, writes its batches and streams
/// progress back, until the file ends or the client goes away.
async fn run_import(
    db: Db,
    clock: SharedClock,
    options: ImportOptions,
    inbound: Streaming<pb::ImportMarcRequest>,
    responses: mpsc::Sender<Result<pb::ImportMarcResponse, Status>>,
    claim: HeldClaim,
) {
    let outcome = import_and_answer(&db, &clock, options, inbound, &responses, claim.clone()).await;
    if let Err(status) = outcome {
        // The import did not finish: a retry with the request id runs again.
        if let Err(error) = claim.release(&db).await {
            tracing::warn!(%error, "could not release the request id of an unfinished import");
        }
        if let Some(status) = status {
            let _ = responses.send(Err(status)).await;
        }
    }
}

/// The import itself; `Err(None)` when the client went away, `Err(status)`
/// when the import failed and the client should hear why.
async fn import_and_answer(
    db: &Db,
    clock: &SharedClock,
    options: ImportOptions,
    mut inbound: Streaming<pb::ImportMarcRequest>,
    responses: &mpsc::Sender<Result<pb::ImportMarcResponse, Status>>,
    mut claim: HeldClaim,
) -> Result<(), Option<Status>> {
    let (chunks, chunk_receiver) = mpsc::channel::<Result<Vec<u8>, String>>(8);
    let (batches, mut batch_receiver) = mpsc::channel::<Vec<Prepared>>(2);
    let reading_options = options.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let input = BufReader::with_capacity(64 * 1024, ChunkReader::new(chunk_receiver));
        import::read_file(input, &reading_options, |batch| batches.blocking_send(batch).is_ok());
    });
    let feeder = tokio::spawn(async move {
        loop {
            let chunk = match inbound.message().await {
                Ok(Some(pb::ImportMarcRequest { part: Some(Part::Chunk(bytes)) })) => Ok(bytes),
                Ok(Some(_)) => {
                    Err("a message other than a chunk of the file arrived after the options".to_owned())
                }
                Ok(None) => return,
                Err(status) => Err(format!("the upload broke off: {}", status.message())),
            };
            let failed = chunk.is_err();
            if chunks.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    let dry_run = options.dry_run;
    let mut state = ImportState::new(options);
    let mut remembered = Vec::new();
    while let Some(batch) = batch_receiver.recv().await {
        let now = clock.now().naive_utc();
        let outcome = db
            .run(move |connection| {
                let results = apply::commit_batch(connection, &mut state, &batch, now)?;
                claim.refresh(connection, now)?;
                Ok::<_, Error>((state, claim, results))
            })
            .await;
        let results = match outcome {
            Ok((returned, refreshed, results)) => {
                (state, claim) = (returned, refreshed);
                results
            }
            Err(error) => {
                feeder.abort();
                return Err(Some(Status::from(error)));
            }
        };
        remembered.extend(results.iter().take(REMEMBERED_RESULTS.saturating_sub(remembered.len())).cloned());
        let message = pb::ImportMarcResponse { results, counts: Some(state.counts), done: false, dry_run };
        if responses.send(Ok(message)).await.is_err() {
            // The client went away: stop reading; what was written stays.
            feeder.abort();
            return Err(None);
        }
    }
    feeder.abort();
    let _ = reader.await;
    let counts = state.counts;
    tracing::info!(
        records = counts.records_read,
        rejected = counts.records_rejected,
        titles.created = counts.titles_created,
        copies.created = counts.copies_created,
        dry_run,
        "MARC import finished"
    );
    let last = pb::ImportMarcResponse { results: Vec::new(), counts: Some(counts), done: true, dry_run };
    let answer = pb::ImportMarcResponse { results: remembered, counts: Some(counts), done: true, dry_run };
    db.write(move |connection| claim.complete(connection, &answer))
        .await
        .map_err(|error| Some(error.into()))?;
    let _ = responses.send(Ok(last)).await;
    Ok(())
}

/// Streams the school's holdings a page of titles at a time.
async fn run_export(
    db: Db,
    school_id: String,
    school_code: String,
    format: Format,
    chunks: mpsc::Sender<Result<pb::ExportMarcChunk, Status>>,
) {
    let mut after: Option<String> = None;
    let mut records = 0u64;
    let mut buffer = Vec::new();
    let mut first = true;
    loop {
        let (school, code, cursor) = (school_id.clone(), school_code.clone(), after.clone());
        let page =
            db.run(move |connection| export::page(connection, &school, &code, cursor.as_deref())).await;
        let page = match page {
            Ok(page) => page,
            Err(error) => {
                let _ = chunks.send(Err(Status::from(error))).await;
                return;
            }
        };
        if page.is_empty() {
            break;
        }
        if let Err(error) = export::write(format, &page, first, &mut buffer) {
            let _ = chunks.send(Err(Status::from(error))).await;
            return;
        }
        first = false;
        records += page.len() as u64;
        after = page.last().map(|(id, _)| id.clone());
        if buffer.len() >= EXPORT_CHUNK_BYTES {
            let data = std::mem::take(&mut buffer);
            if chunks.send(Ok(pb::ExportMarcChunk { data, records })).await.is_err() {
                return;
            }
        }
    }
    export::finish(format, first, &mut buffer);
    let _ = chunks.send(Ok(pb::ExportMarcChunk { data: buffer, records })).await;
}
