//! gRPC handlers of `MarcService`: MARC import (streaming both ways),
//! holdings export (streaming out) and ISBN scan intake. Each checks the
//! caller (librarians of the school, district admins), validates, then
//! hands over to [`crate::marc`].

use std::io::BufReader;
use std::pin::Pin;
use std::time::Duration;

use lectern_common::db::Db;
use lectern_common::idempotency;
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Principal, Role, principal, require_role};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, FieldError, optional_text};
use lectern_core::{client, identity, ids};
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
use crate::grpc::idempotent;
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

/// Cataloguing: librarians and district admins.
fn require_cataloger(caller: &Principal) -> Result<(), Status> {
    require_role(caller, &[Role::DistrictAdmin, Role::Librarian])
}

impl Marc {
    /// The school's code, refusing a school the caller does not work for or
    /// the reader service does not know.
    async fn school_code(&self, caller: &Principal, school_id: &str) -> Result<String, Error> {
        identity::require_school(caller, school_id).map_err(Error::Dependency)?;
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
        require_cataloger(&caller)?;
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
        if let Some(request_id) = options.request_id.clone() {
            let previous = self
                .db
                .run(move |connection| -> Result<_, Error> {
                    Ok(idempotency::previous_answer::<pb::ImportMarcResponse>(
                        connection,
                        operation,
                        &request_id,
                    )?)
                })
                .await?;
            if let Some(answer) = previous {
                return Ok(Response::new(Box::pin(tokio_stream::once(Ok(answer)))));
            }
        }
        tracing::info!(
            school.id = options.school_id.as_deref().unwrap_or(""),
            dry_run = options.dry_run,
            "MARC import started"
        );
        let (responses, stream) = mpsc::channel(4);
        tokio::spawn(run_import(self.db.clone(), self.clock.clone(), options, inbound, responses));
        Ok(Response::new(Box::pin(ReceiverStream::new(stream))))
    }

    async fn export_marc(
        &self,
        request: Request<pb::ExportMarcRequest>,
    ) -> Result<Response<Self::ExportMarcStream>, Status> {
        let caller = principal(&request)?;
        require_cataloger(&caller)?;
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
        require_cataloger(&caller)?;
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
        let answer = self
            .db
            .write(move |connection| {
                idempotent(connection, INTAKE, request_id.as_deref(), now, |connection| {
                    intake::catalogue(connection, &draft, found.as_ref(), now)
                })
            })
            .await?;
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
    mut inbound: Streaming<pb::ImportMarcRequest>,
    responses: mpsc::Sender<Result<pb::ImportMarcResponse, Status>>,
) {
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
    let request_id = options.request_id.clone();
    let mut state = ImportState::new(options);
    let mut remembered = Vec::new();
    while let Some(batch) = batch_receiver.recv().await {
        let now = clock.now().naive_utc();
        let outcome = db
            .run(move |connection| {
                apply::commit_batch(connection, &mut state, &batch, now).map(|results| (state, results))
            })
            .await;
        let results = match outcome {
            Ok((returned, results)) => {
                state = returned;
                results
            }
            Err(error) => {
                feeder.abort();
                let _ = responses.send(Err(Status::from(error))).await;
                return;
            }
        };
        remembered.extend(results.iter().take(REMEMBERED_RESULTS.saturating_sub(remembered.len())).cloned());
        let message = pb::ImportMarcResponse { results, counts: Some(state.counts), done: false, dry_run };
        if responses.send(Ok(message)).await.is_err() {
            // The client went away: stop reading; what was written stays.
            feeder.abort();
            return;
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
    if let Some(request_id) = request_id {
        let answer =
            pb::ImportMarcResponse { results: remembered, counts: Some(counts), done: true, dry_run };
        let operation = if dry_run { IMPORT_DRY_RUN } else { IMPORT };
        let now = clock.now().naive_utc();
        let stored = db
            .write(move |connection| -> Result<(), Error> {
                Ok(idempotency::remember_answer(connection, operation, &request_id, &answer, now)?)
            })
            .await;
        if let Err(error) = stored {
            let _ = responses.send(Err(Status::from(error))).await;
            return;
        }
    }
    let _ = responses.send(Ok(last)).await;
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
