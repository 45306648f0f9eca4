//! `lectern catalog import | export | intake`: send a MARC file to the
//! server in chunks with a progress bar and print the report (a dry run
//! unless `--apply`), save a school's holdings as MARC21, and catalogue a
//! book by scanning its ISBN and barcode. See docs/marc.md.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use indicatif::{ProgressBar, ProgressStyle};
use lectern_proto::catalog::v1::marc_service_client::MarcServiceClient;
use lectern_proto::catalog::v1::{
    ExportMarcRequest, ImportMarcOptions, ImportMarcRequest, ImportMarcResponse, IntakeIsbnRequest,
    MarcFormat, MarcRecordProblem, import_marc_request,
};
use tonic::transport::{Channel, Endpoint};

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::schools::school_id;
use super::table::{Table, clean};

/// How long an import or export may take, start to end.
const BULK_TIMEOUT: Duration = Duration::from_secs(3600);
/// Bytes per message of an import.
const CHUNK_BYTES: usize = 256 * 1024;
/// Rejected records listed unless `--list-all`.
const LISTED_REJECTIONS: usize = 50;

/// `lectern catalog …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CatalogCommand {
    /// Import a MARC file (MARC21 or CNMARC; ISO 2709 or MARCXML): a dry run unless --apply. 导入 MARC
    #[command(after_help = "Examples:\n  lectern catalog import books.mrc --school XH-PRI\n  \
        lectern catalog import books.mrc --school XH-PRI --apply\n  \
        lectern catalog import cnmarc.iso --school XH-PRI --holdings 905 --apply\n  \
        lectern catalog import district.xml --pool-only --apply\n\n\
        Titles already catalogued (same ISBN) only get the new copies. See docs/marc.md.")]
    Import(ImportArgs),
    /// Save a school's holdings as a MARC21 file, with copies in 952. 导出 MARC
    #[command(
        after_help = "Example:\n  lectern catalog export --school XH-PRI --format marcxml -o holdings.xml"
    )]
    Export(ExportArgs),
    /// Catalogue a book by scanning its ISBN and barcode. 扫码编目
    #[command(
        after_help = "Example:\n  lectern catalog intake --school XH-PRI --location \"一楼 A 区 3 架\" 9787536692930 C0001\n\n\
        A title already catalogued gets the copy; otherwise the title is made from the\n\
        district's MARC pool. When no source knows the ISBN, catalogue the book with\n\
        `lectern title add` and `lectern copy add`."
    )]
    Intake(IntakeArgs),
}

/// File formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// ISO 2709 (.mrc, .iso)
    Iso2709,
    /// MARCXML (.xml)
    Marcxml,
}

impl Format {
    fn of_path(path: &Path) -> Self {
        if path.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("xml")) {
            Self::Marcxml
        } else {
            Self::Iso2709
        }
    }

    fn proto(self) -> MarcFormat {
        match self {
            Self::Iso2709 => MarcFormat::Iso2709,
            Self::Marcxml => MarcFormat::Marcxml,
        }
    }
}

/// Options of `lectern catalog import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The MARC file
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The school the file's copies belong to: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL", required_unless_present = "pool_only")]
    school: Option<String>,
    /// iso2709 or marcxml (default: marcxml for .xml files, else iso2709)
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The holdings field: 952, 995, 905 or 852 (default: 952 for MARC21, 995 for CNMARC)
    #[arg(long, value_name = "TAG")]
    holdings: Option<String>,
    /// Only load the records into the district's MARC pool (for ISBN intake), cataloguing nothing
    #[arg(long)]
    pool_only: bool,
    /// Import. Without it, only check the file and show what would happen.
    #[arg(long)]
    apply: bool,
    /// List every rejected record, not just the first 50
    #[arg(long)]
    list_all: bool,
    #[command(flatten)]
    connection: Connection,
}

/// Options of `lectern catalog export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    school: String,
    /// iso2709 or marcxml (default: marcxml when the output ends in .xml, else iso2709)
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// The file to write
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    connection: Connection,
}

/// Options of `lectern catalog intake`.
#[derive(Debug, Clone, clap::Args)]
pub struct IntakeArgs {
    /// The ISBN as scanned
    isbn: String,
    /// The barcode stuck on the copy
    barcode: String,
    /// The school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    school: String,
    /// Shelf location, e.g. "一楼 A 区 3 架" (created if new)
    #[arg(long)]
    location: Option<String>,
    /// Item type: book, picture_book, magazine, reference, textbook_set, audiovisual
    #[arg(long, value_name = "TYPE")]
    item_type: Option<String>,
    /// Call number on the spine label (default: the source record's)
    #[arg(long)]
    call_number: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

/// Runs one `lectern catalog` command.
pub async fn run_catalog(command: CatalogCommand) -> anyhow::Result<()> {
    match command {
        CatalogCommand::Import(args) => import(args).await,
        CatalogCommand::Export(args) => export(args).await,
        CatalogCommand::Intake(args) => intake(args).await,
    }
}

/// A MARC client on a channel of its own whose calls may take an hour.
fn client(desk: &Desk) -> anyhow::Result<MarcServiceClient<Channel>> {
    let endpoint = Endpoint::from_shared(desk.server.clone())
        .map_err(|_| anyhow!("--server {:?} is not a URL", desk.server))?;
    let channel = endpoint.connect_timeout(Duration::from_secs(5)).timeout(BULK_TIMEOUT).connect_lazy();
    Ok(MarcServiceClient::new(channel))
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let mut file =
        std::fs::File::open(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let size = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
    let desk = Desk::open(&args.connection).await?;
    let school = match &args.school {
        Some(school) => school_id(&desk, school).await?,
        None => String::new(),
    };
    let options = ImportMarcOptions {
        format: args.format.unwrap_or_else(|| Format::of_path(&args.file)).proto().into(),
        school_id: school,
        dry_run: !args.apply,
        request_id: request_id(),
        pool_only: args.pool_only,
        holdings_tag: args.holdings.clone().unwrap_or_default(),
        source_name: args
            .file
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("{msg:>24} [{bar:40}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("sending");
    // The file is read on a thread of its own and sent as fast as the
    // server takes it: the channel holds a few chunks, never the file.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<ImportMarcRequest>(4);
    let first = ImportMarcRequest { part: Some(import_marc_request::Part::Options(options)) };
    sender.send(first).await.map_err(|_| anyhow!("the import ended before it started"))?;
    let reading_bar = bar.clone();
    let reader = std::thread::spawn(move || -> std::io::Result<()> {
        let mut buffer = vec![0u8; CHUNK_BYTES];
        loop {
            let count = file.read(&mut buffer)?;
            if count == 0 {
                return Ok(());
            }
            let chunk =
                ImportMarcRequest { part: Some(import_marc_request::Part::Chunk(buffer[..count].to_vec())) };
            if sender.blocking_send(chunk).is_err() {
                return Ok(());
            }
            reading_bar.inc(count as u64);
        }
    });
    let outbound = futures::stream::poll_fn(move |context| receiver.poll_recv(context));
    let mut request = desk.request(outbound);
    request.set_timeout(BULK_TIMEOUT);
    let mut stream = client(&desk)?.import_marc(request).await.map_err(|status| {
        bar.finish_and_clear();
        desk.fail(status)
    })?;
    let stream = stream.get_mut();
    let mut rejected = Vec::new();
    let mut last = None;
    loop {
        match stream.message().await {
            Ok(Some(message)) => {
                let counts = message.counts.unwrap_or_default();
                bar.set_message(format!(
                    "{} records, {} rejected",
                    counts.records_read, counts.records_rejected
                ));
                rejected.extend(message.results.iter().cloned());
                last = Some(message);
            }
            Ok(None) => break,
            Err(status) => {
                bar.finish_and_clear();
                return Err(desk.fail(status));
            }
        }
    }
    bar.finish_and_clear();
    if let Ok(Err(error)) = reader.join() {
        return Err(anyhow!("reading {} failed: {error}", args.file.display()));
    }
    let last = last.filter(|message| message.done).ok_or_else(|| {
        anyhow!("the server ended the import without a report; import again with --apply (copies already added are kept, not doubled)")
    })?;
    print!("{}", render(&last, &rejected, args.list_all));
    Ok(())
}

/// The report: counts, then the rejected records.
pub fn render(
    last: &ImportMarcResponse,
    rejected: &[lectern_proto::catalog::v1::MarcRecordResult],
    list_all: bool,
) -> String {
    let counts = last.counts.unwrap_or_default();
    let mut out = String::new();
    let verb = if last.dry_run { "would be" } else { "were" };
    out.push_str(&format!("{} records read; {} rejected.\n", counts.records_read, counts.records_rejected));
    out.push_str(&format!("  titles created:            {} ({verb} new)\n", counts.titles_created));
    out.push_str(&format!("  titles matched by ISBN:    {} (only copies added)\n", counts.titles_matched));
    out.push_str(&format!("  copies created:            {}\n", counts.copies_created));
    out.push_str(&format!("  copies already catalogued: {}\n", counts.copies_existing));
    out.push_str(&format!("  ISBNs put in the MARC pool: {}\n", counts.pooled));
    if !rejected.is_empty() {
        let mut table = Table::new(&["RECORD", "FIELD", "PROBLEM", "REASON", "TITLE"]);
        let shown = if list_all { rejected.len() } else { rejected.len().min(LISTED_REJECTIONS) };
        for result in &rejected[..shown] {
            let problem = MarcRecordProblem::try_from(result.problem)
                .map(|problem| {
                    problem.as_str_name().trim_start_matches("MARC_RECORD_PROBLEM_").to_lowercase()
                })
                .unwrap_or_default();
            table.row(vec![
                result.record.to_string(),
                result.tag.clone(),
                problem,
                clean(&result.reason),
                clean(&result.title),
            ]);
        }
        out.push_str("Rejected records (nothing of them was imported):\n");
        out.push_str(&table.render("  "));
        if shown < rejected.len() {
            out.push_str(&format!("  … and {} more (--list-all shows them)\n", rejected.len() - shown));
        }
    }
    if last.dry_run {
        out.push_str("Dry run: nothing was changed. Run again with --apply to import.\n");
    }
    out
}

async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let format = args.format.unwrap_or_else(|| Format::of_path(&args.output));
    let message =
        ExportMarcRequest { school_id: school_id(&desk, &args.school).await?, format: format.proto().into() };
    let mut request = desk.request(message);
    request.set_timeout(BULK_TIMEOUT);
    let mut stream =
        client(&desk)?.export_marc(request).await.map_err(|status| desk.fail(status))?.into_inner();
    let partial = args.output.with_extension("partial");
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?,
    );
    let mut records = 0;
    while let Some(chunk) = stream.message().await.map_err(|status| desk.fail(status))? {
        file.write_all(&chunk.data).with_context(|| format!("cannot write {}", partial.display()))?;
        records = chunk.records;
    }
    file.flush().with_context(|| format!("cannot write {}", partial.display()))?;
    drop(file);
    // Renamed only when complete, so a broken export never looks whole.
    std::fs::rename(&partial, &args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!("{records} record(s) written to {}", args.output.display());
    Ok(())
}

async fn intake(args: IntakeArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let message = IntakeIsbnRequest {
        isbn: args.isbn.clone(),
        school_id: school_id(&desk, &args.school).await?,
        barcode: args.barcode.clone(),
        location: args.location.clone().unwrap_or_default(),
        item_type: args.item_type.clone().unwrap_or_default(),
        call_number: args.call_number.clone().unwrap_or_default(),
        request_id: request_id(),
    };
    let marc = client(&desk)?;
    let answer = retrying(|| {
        let mut marc = marc.clone();
        let request = desk.request(message.clone());
        async move { marc.intake_isbn(request).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    let title = answer.title.unwrap_or_default();
    let copy = answer.copy.unwrap_or_default();
    if answer.title_created {
        println!("Catalogued {} (ISBN {}) from {}.", clean(&title.title), title.isbn13, answer.source);
    } else {
        println!("{} (ISBN {}) was already catalogued.", clean(&title.title), title.isbn13);
    }
    println!(
        "Copy {} added (call number {}).",
        copy.barcode,
        if copy.call_number.is_empty() { "-" } else { &copy.call_number }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;
    use lectern_proto::catalog::v1::{MarcImportCounts, MarcRecordResult};

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: CatalogCommand,
    }

    fn parse(args: &[&str]) -> Result<CatalogCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("catalog").chain(args.iter().copied())).map(|cli| cli.command)
    }

    #[test]
    fn import_is_a_dry_run_unless_applied_and_needs_a_school_unless_pooling() {
        let Ok(CatalogCommand::Import(args)) = parse(&["import", "books.mrc", "--school", "XH-PRI"]) else {
            panic!("not import");
        };
        assert!(!args.apply);
        assert_eq!(Format::of_path(&args.file), Format::Iso2709);
        assert_eq!(Format::of_path(Path::new("pool.XML")), Format::Marcxml);
        assert!(parse(&["import", "books.mrc"]).is_err());
        assert!(parse(&["import", "pool.xml", "--pool-only", "--apply"]).is_ok());
        assert!(parse(&["intake", "--school", "XH-PRI", "9787536692930", "S0001"]).is_ok());
        assert!(parse(&["export", "--school", "XH-PRI"]).is_err(), "export needs -o");
    }

    #[test]
    fn the_report_lists_rejected_records_and_says_a_dry_run_changed_nothing() {
        let last = ImportMarcResponse {
            results: Vec::new(),
            counts: Some(MarcImportCounts {
                records_read: 3,
                titles_created: 2,
                records_rejected: 1,
                ..Default::default()
            }),
            done: true,
            dry_run: true,
        };
        let rejected = [MarcRecordResult {
            record: 2,
            tag: "245".into(),
            problem: MarcRecordProblem::Encoding.into(),
            reason: "invalid UTF-8".into(),
            title: String::new(),
        }];
        let text = render(&last, &rejected, false);
        assert!(text.starts_with("3 records read; 1 rejected."), "{text}");
        assert!(text.contains("encoding"), "{text}");
        assert!(
            text.ends_with("Dry run: nothing was changed. Run again with --apply to import.\n"),
            "{text}"
        );
    }
}
