//! `RosterService`: roster import. The handler checks the request and the
//! caller, then streams: progress while the roster is read and written,
//! and the report last. Reading happens off the async runtime; planning and
//! writing happen in one write transaction (a dry run only reads).

use lectern_common::db::Db;
use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Principal, principal};
use lectern_core::ids;
use lectern_core::validate::{self, FieldError};
use lectern_proto::reader::v1::roster_service_server::RosterService;
use lectern_proto::reader::v1::{
    ImportRosterRequest, ImportRosterResponse, RosterChange, RosterChangeKind, RosterFormat, RosterLineError,
    RosterProgress, RosterReport, RosterStage, import_roster_response,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::audit::{self, Entry};
use crate::error::{Error, ReaderRefusal};
use crate::roster::plan::{ChangeKind, Plan};
use crate::roster::{self, LineError, Roster as ParsedRoster, fields, lectern_csv, oneroster};
use crate::{db, organisation, readers};

/// The most changes a report lists one by one.
const MAX_CHANGES: usize = 20_000;

/// The `RosterService` handlers.
#[derive(Debug, Clone)]
pub struct Roster {
    pub db: Db,
    pub clock: SharedClock,
    pub time_zone: chrono_tz::Tz,
}

/// A checked import request.
struct Import {
    format: RosterFormat,
    school_id: String,
    files: Vec<(String, Vec<u8>)>,
    apply: bool,
    partial: bool,
    school_year: String,
    request_id: Option<String>,
}

type Sender = mpsc::Sender<Result<ImportRosterResponse, Status>>;

impl Roster {
    fn check(&self, request: ImportRosterRequest) -> Result<Import, FieldError> {
        let format = match RosterFormat::try_from(request.format) {
            Ok(RosterFormat::Unspecified) | Err(_) => {
                return Err(FieldError::new("format", "must be LECTERN_CSV or ONEROSTER_1_1"));
            }
            Ok(format) => format,
        };
        if request.files.is_empty() {
            return Err(FieldError::new("files", "give the roster file(s)"));
        }
        if format == RosterFormat::LecternCsv && request.files.len() != 1 {
            return Err(FieldError::new("files", "a Lectern CSV roster is one file"));
        }
        let school_year = match request.school_year.trim() {
            "" => fields::school_year_of(readers::today(&self.clock, self.time_zone)),
            year => organisation::school_year("school_year", year)?,
        };
        Ok(Import {
            format,
            school_id: ids::parse_id("school_id", &request.school_id)?,
            files: request.files.into_iter().map(|file| (file.name, file.content)).collect(),
            apply: request.apply,
            partial: request.partial,
            school_year,
            request_id: validate::request_id("request_id", &request.request_id)?,
        })
    }

    /// Reads, plans and (if asked) applies; sends progress and the report.
    async fn run(
        self,
        import: Import,
        school_code: String,
        caller: Principal,
        sender: Sender,
    ) -> Result<(), Error> {
        let Import { format, school_id, files, apply, partial, school_year, request_id } = import;
        let parsed = tokio::task::spawn_blocking(move || read(format, &files, &school_code, &school_year))
            .await
            .map_err(|error| Error::Internal(format!("roster reading failed: {error}")))?;
        let mut roster = match parsed {
            Ok(roster) => roster,
            Err(errors) => {
                let report = RosterReport {
                    errors: errors.into_iter().map(line_error).collect(),
                    ..RosterReport::default()
                };
                return self.finish(report, &school_id, &caller, format, sender).await;
            }
        };
        roster.partial |= partial;
        let lines = roster.readers.len() as i64;
        progress(&sender, RosterStage::Reading, lines, lines);
        progress(&sender, RosterStage::Planning, 0, lines);
        let now = self.clock.now().naive_utc();
        let report = if apply {
            let sender = sender.clone();
            let (school_id, caller_id) = (school_id.clone(), caller.subject_id.clone());
            Idempotent::new("reader.ImportRoster", request_id)
                .write(&self.db, now, move |connection| {
                    let plan = roster::apply::plan(connection, &roster, &school_id, now)?;
                    let mut report = report(&roster, &plan);
                    if !plan.errors.is_empty() {
                        return Ok(report);
                    }
                    progress(&sender, RosterStage::Applying, 0, plan.writes() as i64);
                    roster::apply::write(connection, &plan, &mut |done, total| {
                        progress(&sender, RosterStage::Applying, done as i64, total as i64);
                    })?;
                    report.applied = true;
                    let entry = Entry {
                        action: audit::action::ROSTER_IMPORT,
                        outcome: audit::outcome::SUCCEEDED,
                        actor_id: Some(&caller_id),
                        subject_id: Some(&school_id),
                        detail: Some(audit_detail(&report, format)),
                    };
                    audit::record(connection, entry, now)?;
                    Ok(report)
                })
                .await?
                .into_inner()
        } else {
            let school_id = school_id.clone();
            self.db
                .run(move |connection| {
                    let plan = roster::apply::plan(connection, &roster, &school_id, now)?;
                    Ok::<_, Error>(report(&roster, &plan))
                })
                .await?
        };
        if report.applied {
            send(&sender, import_roster_response::Event::Report(report)).await;
            return Ok(());
        }
        self.finish(report, &school_id, &caller, format, sender).await
    }

    /// Audits an import that changed nothing and sends its report.
    async fn finish(
        &self,
        report: RosterReport,
        school_id: &str,
        caller: &Principal,
        format: RosterFormat,
        sender: Sender,
    ) -> Result<(), Error> {
        let detail = audit_detail(&report, format);
        let (actor, subject) = (caller.subject_id.clone(), school_id.to_owned());
        let outcome =
            if report.errors.is_empty() { audit::outcome::DRY_RUN } else { audit::outcome::REJECTED };
        let now = self.clock.now().naive_utc();
        self.db
            .write(move |connection| -> Result<(), Error> {
                let entry = Entry {
                    action: audit::action::ROSTER_IMPORT,
                    outcome,
                    actor_id: Some(&actor),
                    subject_id: Some(&subject),
                    detail: Some(detail),
                };
                Ok(audit::record(connection, entry, now)?)
            })
            .await?;
        send(&sender, import_roster_response::Event::Report(report)).await;
        Ok(())
    }
}

#[tonic::async_trait]
impl RosterService for Roster {
    type ImportRosterStream = ReceiverStream<Result<ImportRosterResponse, Status>>;

    async fn import_roster(
        &self,
        request: Request<ImportRosterRequest>,
    ) -> Result<Response<Self::ImportRosterStream>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::LIBRARIAN)?;
        let import = self.check(request.into_inner())?;
        caller.require_school(&import.school_id)?;
        let school_id = import.school_id.clone();
        let school = self
            .db
            .run(move |connection| -> Result<_, Error> {
                db::organisation::find_school(connection, &school_id)?
                    .ok_or(ReaderRefusal::SchoolNotFound(school_id).into())
            })
            .await?;
        let (sender, receiver) = mpsc::channel(64);
        let handler = self.clone();
        tokio::spawn(async move {
            let errors = sender.clone();
            if let Err(error) = handler.run(import, school.code, caller, sender).await {
                let _ = errors.send(Err(Status::from(error))).await;
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// Reads the roster's files in their format.
fn read(
    format: RosterFormat,
    files: &[(String, Vec<u8>)],
    school_code: &str,
    school_year: &str,
) -> Result<ParsedRoster, Vec<LineError>> {
    match format {
        RosterFormat::Oneroster11 => {
            let files: Vec<oneroster::File<'_>> =
                files.iter().map(|(name, bytes)| oneroster::File { name, bytes }).collect();
            oneroster::read(&files, school_code, school_year)
        }
        _ => {
            let (name, bytes) =
                files.first().map(|(name, bytes)| (name.as_str(), bytes.as_slice())).unwrap_or_default();
            lectern_csv::read(if name.is_empty() { "roster.csv" } else { name }, bytes, school_year)
        }
    }
}

/// The report of a plan (not applied yet).
fn report(roster: &ParsedRoster, plan: &Plan) -> RosterReport {
    RosterReport {
        applied: false,
        readers_in_file: roster.readers.len() as i64,
        created: plan.creates.len() as i64,
        updated: plan.updated as i64,
        deactivated: plan.deactivated as i64,
        unchanged: plan.unchanged as i64,
        skipped: plan.skipped as i64,
        classes_created: plan.new_classes.len() as i64,
        errors: plan.errors.iter().cloned().map(line_error).collect(),
        changes: plan
            .changes
            .iter()
            .take(MAX_CHANGES)
            .map(|change| RosterChange {
                kind: match change.kind {
                    ChangeKind::Create => RosterChangeKind::Create,
                    ChangeKind::Update => RosterChangeKind::Update,
                    ChangeKind::Deactivate => RosterChangeKind::Deactivate,
                } as i32,
                number: change.number.clone(),
                name: change.name.clone(),
                fields: change.fields.iter().map(|field| (*field).to_owned()).collect(),
            })
            .collect(),
        notes: roster.notes.clone(),
    }
}

fn line_error(error: LineError) -> RosterLineError {
    RosterLineError {
        file: error.file,
        line: error.line as i64,
        column: error.column,
        message: error.message,
    }
}

/// What the audit log keeps of an import: counts only, never a name or
/// a number.
fn audit_detail(report: &RosterReport, format: RosterFormat) -> String {
    format!(
        "format={} readers_in_file={} created={} updated={} deactivated={} unchanged={} skipped={} \
         classes_created={} errors={}",
        format.as_str_name(),
        report.readers_in_file,
        report.created,
        report.updated,
        report.deactivated,
        report.unchanged,
        report.skipped,
        report.classes_created,
        report.errors.len()
    )
}

/// Sends progress if the client keeps up; progress is only a hint, so a
/// full channel drops it rather than holding up the transaction.
fn progress(sender: &Sender, stage: RosterStage, done: i64, total: i64) {
    let event = import_roster_response::Event::Progress(RosterProgress { stage: stage as i32, done, total });
    let _ = sender.try_send(Ok(ImportRosterResponse { event: Some(event) }));
}

async fn send(sender: &Sender, event: import_roster_response::Event) {
    // A client that hung up no longer wants the report.
    let _ = sender.send(Ok(ImportRosterResponse { event: Some(event) })).await;
}
