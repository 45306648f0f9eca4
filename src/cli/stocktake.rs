//! `lectern stocktake …` (盘点): start a session, send scanned barcodes from
//! a handheld's file or a scanner typing into the terminal, read progress
//! and the report, and finalize (preview first, then confirm what was
//! shown). See docs/stocktake.md.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use anyhow::Context as _;
use lectern_proto::catalog::v1::{
    CancelStocktakeRequest, FinalizeStocktakeRequest, GetStocktakeReportRequest, GetStocktakeRequest,
    ListStocktakesRequest, RecordScansRequest, ReportEntry, ReportSection, Scan, ScanOutcome,
    StartStocktakeRequest, Stocktake, StocktakeState, UnknownReason,
};

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::format::{copy_status, here_day};
use super::schools::school_id;
use super::table::{Table, clean};

/// Scans sent per call.
const BATCH: usize = 500;

/// Report lines shown per section unless `--all`.
const SHOWN: i32 = 50;

/// `lectern stocktake …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum StocktakeCommand {
    /// Start counting a school's shelves (librarians). 开始盘点
    #[command(
        after_help = "Examples:\n  lectern stocktake start --school XH-PRI --name \"2027 春季盘点\"\n  \
        lectern stocktake start --school XH-PRI --location \"一楼 A 区 3 架\" --location \"一楼 A 区 4 架\""
    )]
    Start {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// A name for the session (default: "盘点" and today's date)
        #[arg(long)]
        name: Option<String>,
        /// Count only this shelf location (name or id); repeat for several
        #[arg(long = "location", value_name = "LOCATION")]
        locations: Vec<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Send scanned barcodes, one per line, from a file or the keyboard/scanner. 扫描
    #[command(
        after_help = "Examples:\n  lectern stocktake scan 0193… --location \"一楼 A 区 3 架\" shelf-3.txt\n  \
        lectern stocktake scan 0193…            (scan into the terminal; Ctrl-D ends)"
    )]
    Scan {
        /// The session id (from `stocktake start` or `stocktake list`)
        session: String,
        /// Where these books were scanned (shelf location name or id)
        #[arg(long, value_name = "LOCATION")]
        location: Option<String>,
        /// A file of barcodes, one per line; standard input if absent or "-"
        file: Option<PathBuf>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Progress and the report: missing, misplaced, status mismatches, unknown barcodes. 盘点报告
    Report {
        /// The session id
        session: String,
        /// Every line of every section, not just the first 50
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        connection: Connection,
    },
    /// Preview what would be marked missing; with --confirm, mark it (librarians). 完成盘点
    #[command(after_help = "Run it first without --confirm: it shows the copies and the exact\n\
        command to confirm them. A scan in between makes the confirm fail; preview again.")]
    Finalize {
        /// The session id
        session: String,
        /// Mark the copies missing; needs --token (from the preview) or --expect
        #[arg(long, requires = "confirmation")]
        confirm: bool,
        /// The preview's token
        #[arg(long, group = "confirmation")]
        token: Option<String>,
        /// Instead of a token: the number of copies the preview showed
        #[arg(long, group = "confirmation", value_name = "COUNT")]
        expect: Option<i32>,
        #[command(flatten)]
        connection: Connection,
    },
    /// A school's sessions, newest first. 盘点列表
    List {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Abandon an open session; nothing is marked (librarians). 取消盘点
    Cancel {
        /// The session id
        session: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// Runs `lectern stocktake …` at the signed-in desk.
pub async fn run_stocktake(command: StocktakeCommand) -> anyhow::Result<()> {
    let connection = match &command {
        StocktakeCommand::Start { connection, .. }
        | StocktakeCommand::Scan { connection, .. }
        | StocktakeCommand::Report { connection, .. }
        | StocktakeCommand::Finalize { connection, .. }
        | StocktakeCommand::List { connection, .. }
        | StocktakeCommand::Cancel { connection, .. } => connection.clone(),
    };
    // The desk is opened first, so a librarian who is signed out learns it
    // before scanning a whole shelf into the terminal.
    let desk = Desk::open(&connection).await?;
    print!("{}", stocktake(&desk, command).await?);
    Ok(())
}

/// Runs `lectern stocktake …` at `desk` and returns what to print (the
/// suite tests drive it with a desk of their own).
pub async fn stocktake(desk: &Desk, command: StocktakeCommand) -> anyhow::Result<String> {
    let mut out = String::new();
    match command {
        StocktakeCommand::Start { school, name, locations, connection: _ } => {
            let name = name.unwrap_or_else(|| format!("盘点 {}", here_day(chrono::Utc::now())));
            let message = StartStocktakeRequest {
                school_id: school_id(desk, &school).await?,
                name,
                locations,
                request_id: request_id(),
            };
            let client = desk.stocktake();
            let session = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.start_stocktake(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            let _ = writeln!(out, "stocktake started: {} (id {})", clean(&session.name), session.id);
            out.push_str(&render_progress(&session));
            let _ = writeln!(out, "scan with: lectern stocktake scan {} [--location …] [FILE]", session.id);
            Ok(out)
        }
        StocktakeCommand::Scan { session, location, file, connection: _ } => {
            let barcodes = read_barcodes(file.as_ref())?;
            scan(desk, &session, location.unwrap_or_default(), &barcodes).await
        }
        StocktakeCommand::Report { session, all, connection: _ } => report(desk, &session, all).await,
        StocktakeCommand::Finalize { session, confirm, token, expect, connection: _ } => {
            finalize(desk, &session, confirm, token, expect).await
        }
        StocktakeCommand::List { school, connection: _ } => {
            let message = ListStocktakesRequest {
                school_id: school_id(desk, &school).await?,
                page_size: 100,
                page_token: String::new(),
            };
            let list = desk
                .stocktake()
                .list_stocktakes(desk.request(message))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            let mut table = Table::new(&["id", "name", "state", "marked missing"]);
            for session in &list.stocktakes {
                table.row(vec![
                    session.id.clone(),
                    clean(&session.name),
                    state(session.state).into(),
                    session.marked_missing.to_string(),
                ]);
            }
            out.push_str(&table.render(""));
            Ok(out)
        }
        StocktakeCommand::Cancel { session, connection: _ } => {
            let message = CancelStocktakeRequest { id: session, request_id: request_id() };
            let client = desk.stocktake();
            let session = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.cancel_stocktake(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            let _ = writeln!(out, "stocktake {} cancelled; nothing was marked", clean(&session.name));
            Ok(out)
        }
    }
}

/// Barcodes of a file (or standard input), one per line; blank lines and
/// lines starting with `#` are skipped.
fn read_barcodes(file: Option<&PathBuf>) -> anyhow::Result<Vec<String>> {
    let reader: Box<dyn BufRead> = match file {
        Some(path) if path.as_os_str() != "-" => Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        )),
        _ => Box::new(BufReader::new(std::io::stdin())),
    };
    let mut barcodes = Vec::new();
    for line in reader.lines() {
        let line = line.context("cannot read the barcodes")?;
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            barcodes.push(line.to_owned());
        }
    }
    Ok(barcodes)
}

async fn scan(desk: &Desk, session: &str, location: String, barcodes: &[String]) -> anyhow::Result<String> {
    let mut out = String::new();
    if barcodes.is_empty() {
        anyhow::bail!("no barcodes to send");
    }
    let client = desk.stocktake();
    let mut last = None;
    let mut problems = Table::new(&["barcode", "result", "title"]);
    let mut shown = 0;
    for chunk in barcodes.chunks(BATCH) {
        let message = RecordScansRequest {
            stocktake_id: session.to_owned(),
            scans: chunk
                .iter()
                .map(|barcode| Scan { barcode: barcode.clone(), location: String::new() })
                .collect(),
            location: location.clone(),
            request_id: request_id(),
        };
        let answer = retrying(|| {
            let mut client = client.clone();
            let call = desk.request(message.clone());
            async move { client.record_scans(call).await.map(tonic::Response::into_inner) }
        })
        .await
        .map_err(|status| desk.fail(status))?;
        for result in &answer.results {
            let outcome = ScanOutcome::try_from(result.outcome).unwrap_or(ScanOutcome::Unspecified);
            if outcome != ScanOutcome::Ok {
                problems.row(vec![clean(&result.barcode), describe_scan(result), clean(&result.title)]);
                shown += 1;
            }
        }
        last = answer.stocktake;
    }
    let _ = writeln!(out, "{} barcodes sent", barcodes.len());
    if shown > 0 {
        out.push_str(&problems.render(""));
    }
    if let Some(session) = last {
        out.push_str(&render_progress(&session));
    }
    Ok(out)
}

fn describe_scan(result: &lectern_proto::catalog::v1::ScanResult) -> String {
    match ScanOutcome::try_from(result.outcome) {
        Ok(ScanOutcome::Misplaced) => "misplaced: belongs to another shelf".into(),
        Ok(ScanOutcome::StatusMismatch) if result.on_loan => "recorded on loan: check it in".into(),
        Ok(ScanOutcome::StatusMismatch) => {
            format!("recorded {}: fix its status", copy_status(result.copy_status))
        }
        Ok(ScanOutcome::UnknownBarcode) => match UnknownReason::try_from(result.unknown_reason) {
            Ok(UnknownReason::OtherSchool) => "another school's copy: send it back".into(),
            _ => "not in the catalog".into(),
        },
        Ok(ScanOutcome::Duplicate) => "scanned before".into(),
        Ok(ScanOutcome::Invalid) => format!("not recorded: {}", result.error),
        _ if result.out_of_scope => "not counted by this session".into(),
        _ => "ok".into(),
    }
}

fn state(state: i32) -> &'static str {
    match StocktakeState::try_from(state) {
        Ok(StocktakeState::Open) => "open",
        Ok(StocktakeState::Finalized) => "finalized",
        Ok(StocktakeState::Cancelled) => "cancelled",
        _ => "unknown",
    }
}

/// The progress lines of a session.
pub fn render_progress(session: &Stocktake) -> String {
    let Some(progress) = &session.progress else {
        return String::new();
    };
    let mut out = format!(
        "{} ({}): {} of {} scanned, {} remaining; {} would be marked missing\n\
         misplaced {}, status mismatch {}, unknown barcodes {}\n",
        clean(&session.name),
        state(session.state),
        progress.scanned,
        progress.in_scope,
        progress.remaining,
        progress.would_mark_missing,
        progress.misplaced,
        progress.status_mismatch,
        progress.unknown_barcodes,
    );
    let mut table = Table::new(&["location", "copies", "scanned", "remaining"]);
    for location in &progress.locations {
        let name = if location.location_id.is_empty() {
            "(no location)".to_owned()
        } else {
            clean(&location.location_name)
        };
        table.row(vec![
            name,
            location.in_scope.to_string(),
            location.scanned.to_string(),
            location.remaining.to_string(),
        ]);
    }
    out.push_str(&table.render("  "));
    out
}

fn render_entries(entries: &[ReportEntry]) -> String {
    let mut table = Table::new(&["barcode", "title", "call number", "status"]);
    for entry in entries {
        let status = match UnknownReason::try_from(entry.unknown_reason) {
            Ok(UnknownReason::NotInCatalog) => "not in the catalog".to_owned(),
            Ok(UnknownReason::OtherSchool) => "another school's copy".to_owned(),
            _ if entry.on_loan => "on loan".to_owned(),
            _ => copy_status(entry.copy_status).to_owned(),
        };
        table.row(vec![clean(&entry.barcode), clean(&entry.title), clean(&entry.call_number), status]);
    }
    table.render("  ")
}

async fn report(desk: &Desk, session: &str, all: bool) -> anyhow::Result<String> {
    let mut out = String::new();
    let stocktake = desk
        .stocktake()
        .get_stocktake(desk.request(GetStocktakeRequest { id: session.to_owned() }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    out.push_str(&render_progress(&stocktake));
    for (section, heading) in [
        (ReportSection::Missing, "not scanned (missing)"),
        (ReportSection::Misplaced, "misplaced"),
        (ReportSection::StatusMismatch, "status mismatch"),
        (ReportSection::UnknownBarcodes, "unknown barcodes"),
    ] {
        let mut page_token = String::new();
        let mut entries = Vec::new();
        let total = loop {
            let message = GetStocktakeReportRequest {
                id: session.to_owned(),
                section: section.into(),
                page_size: if all { 1000 } else { SHOWN },
                page_token,
            };
            let page = desk
                .stocktake()
                .get_stocktake_report(desk.request(message))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            entries.extend(page.entries);
            if !all || page.next_page_token.is_empty() {
                break page.total;
            }
            page_token = page.next_page_token;
        };
        let _ = writeln!(out, "{heading}: {total}");
        if !entries.is_empty() {
            out.push_str(&render_entries(&entries));
        }
        if usize::try_from(total).unwrap_or(0) > entries.len() {
            let _ = writeln!(
                out,
                "  … {} more (--all lists every line)",
                usize::try_from(total).unwrap_or(0) - entries.len()
            );
        }
    }
    Ok(out)
}

async fn finalize(
    desk: &Desk,
    session: &str,
    confirm: bool,
    token: Option<String>,
    expect: Option<i32>,
) -> anyhow::Result<String> {
    let mut out = String::new();
    let message = FinalizeStocktakeRequest {
        id: session.to_owned(),
        confirm,
        preview_token: token.unwrap_or_default(),
        expected_count: expect,
        request_id: if confirm { request_id() } else { String::new() },
        page_size: 1000,
    };
    let client = desk.stocktake();
    let answer = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.finalize_stocktake(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    if answer.finalized {
        let _ = writeln!(out, "stocktake finalized: {} copies marked missing", answer.count);
        if !answer.copies.is_empty() {
            out.push_str(&render_entries(&answer.copies));
        }
        return Ok(out);
    }
    let _ = writeln!(out, "{} copies would be marked missing:", answer.count);
    if !answer.copies.is_empty() {
        out.push_str(&render_entries(&answer.copies));
    }
    let _ = writeln!(
        out,
        "to mark exactly these: lectern stocktake finalize {session} --confirm --token {}",
        answer.preview_token
    );
    Ok(out)
}
