//! `lectern reader import`: send a roster file (Lectern CSV) or the files
//! of a OneRoster 1.1 export (or the folder holding them) to the server,
//! show a progress bar while it reads and writes, and print the report:
//! what would change (a dry run, the default) or what changed (`--apply`),
//! and every error by file and line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use lectern_proto::reader::v1::{
    ImportRosterRequest, RosterChangeKind, RosterFile, RosterFormat, RosterReport, RosterStage,
    import_roster_response,
};

use super::Connection;
use super::desk::{Desk, request_id};
use super::schools::school_id;
use super::table::{Table, clean};

/// How long an import may take, start to report.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(600);

/// The largest roster the server takes.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Changes listed after a dry run unless `--list-all`.
const LISTED_CHANGES: usize = 20;

/// Options of `lectern reader import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The roster: one CSV file, or for OneRoster the CSV files or the
    /// folder holding them (users.csv, orgs.csv, classes.csv, enrollments.csv, ...)
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    school: String,
    /// csv (Lectern's columns, see docs/roster-import.md) or oneroster (OneRoster 1.1 CSV)
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Make the changes. Without it, only show what would change.
    #[arg(long)]
    apply: bool,
    /// The roster lists only some readers: do not deactivate those missing from it
    #[arg(long)]
    partial: bool,
    /// School year of classes whose lines give none, e.g. 2026-2027 (default: the current one)
    #[arg(long, value_name = "YYYY-YYYY")]
    year: Option<String>,
    /// List every change, not just the first 20
    #[arg(long)]
    list_all: bool,
    #[command(flatten)]
    connection: Connection,
}

/// Roster formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lectern's roster CSV
    Csv,
    /// OneRoster 1.1 CSV
    Oneroster,
}

/// `lectern reader import`.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let files = read_files(&args.files, args.format)?;
    let desk = Desk::open(&args.connection).await?;
    let message = ImportRosterRequest {
        format: match args.format {
            Format::Csv => RosterFormat::LecternCsv,
            Format::Oneroster => RosterFormat::Oneroster11,
        }
        .into(),
        school_id: school_id(&desk, &args.school).await?,
        files,
        apply: args.apply,
        partial: args.partial,
        school_year: args.year.clone().unwrap_or_default(),
        request_id: request_id(),
    };
    let bar = ProgressBar::new_spinner().with_message("sending the roster");
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut request = desk.request(message);
    request.set_timeout(IMPORT_TIMEOUT);
    let mut stream = desk
        .roster(IMPORT_TIMEOUT)?
        .import_roster(request)
        .await
        .map_err(|status| {
            bar.finish_and_clear();
            desk.fail(status)
        })?
        .into_inner();
    let mut report = None;
    loop {
        let message = match stream.message().await {
            Ok(Some(message)) => message,
            Ok(None) => break,
            Err(status) => {
                bar.finish_and_clear();
                return Err(desk.fail(status));
            }
        };
        match message.event {
            Some(import_roster_response::Event::Progress(progress)) => show_progress(&bar, &progress),
            Some(import_roster_response::Event::Report(done)) => report = Some(done),
            None => {}
        }
    }
    bar.finish_and_clear();
    let Some(report) = report else {
        bail!(
            "the server ended the import without a report; check `lectern reader find` before trying again"
        );
    };
    print!("{}", render(&report, args.list_all));
    if !report.errors.is_empty() {
        bail!("the roster has {} error(s): nothing was imported", report.errors.len());
    }
    Ok(())
}

/// The files to send: each file given, and the CSV files of each folder.
fn read_files(paths: &[PathBuf], format: Format) -> anyhow::Result<Vec<RosterFile>> {
    let mut found: Vec<PathBuf> = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut csvs: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read the folder {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("csv")))
                .collect();
            csvs.sort();
            if csvs.is_empty() {
                bail!("the folder {} has no .csv files", path.display());
            }
            found.extend(csvs);
        } else if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("zip")) {
            bail!("{} is a zip file: unzip it and give the folder (or its .csv files)", path.display());
        } else {
            found.push(path.clone());
        }
    }
    if format == Format::Csv && found.len() != 1 {
        bail!("a Lectern CSV roster is one file; for a OneRoster export use --format oneroster");
    }
    let mut total = 0_u64;
    let mut files = Vec::new();
    for path in found {
        let content = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        total += content.len() as u64;
        if total > MAX_BYTES {
            bail!("the roster is larger than 64 MiB: split it by grade and import the parts with --partial");
        }
        files.push(RosterFile { name: file_name(&path), content });
    }
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |name| name.to_string_lossy().into_owned())
}

fn show_progress(bar: &ProgressBar, progress: &lectern_proto::reader::v1::RosterProgress) {
    let stage = match RosterStage::try_from(progress.stage) {
        Ok(RosterStage::Reading) => "reading",
        Ok(RosterStage::Planning) => "comparing",
        Ok(RosterStage::Applying) => "importing",
        _ => "working",
    };
    if bar.length().is_none() {
        bar.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
    }
    bar.set_message(stage);
    bar.set_length(u64::try_from(progress.total).unwrap_or(0));
    bar.set_position(u64::try_from(progress.done).unwrap_or(0));
}

/// The report as text: the counts, the errors, and the changes.
pub fn render(report: &RosterReport, list_all: bool) -> String {
    let mut out = String::new();
    if !report.errors.is_empty() {
        out.push_str(&format!("{} error(s) in the roster — nothing was changed:\n", report.errors.len()));
        let mut errors = Table::new(&["FILE", "LINE", "COLUMN", "PROBLEM"]);
        for error in &report.errors {
            let line = if error.line == 0 { String::new() } else { error.line.to_string() };
            errors.row(vec![error.file.clone(), line, error.column.clone(), error.message.clone()]);
        }
        out.push_str(&errors.render("  "));
        return out;
    }
    let verb = |done: &str, would: &str| if report.applied { done.to_owned() } else { would.to_owned() };
    let mut counts = Table::new(&["", "READERS"]);
    for (what, count) in [
        ("in the roster".to_owned(), report.readers_in_file),
        (verb("created", "to create"), report.created),
        (verb("updated", "to update"), report.updated),
        (verb("deactivated", "to deactivate"), report.deactivated),
        ("unchanged".to_owned(), report.unchanged),
        ("skipped".to_owned(), report.skipped),
        (verb("classes created", "classes to create"), report.classes_created),
    ] {
        counts.row(vec![what, count.to_string()]);
    }
    out.push_str(&counts.render(""));
    if !report.changes.is_empty() {
        out.push_str(&format!("\n{}:\n", verb("Changes made", "Changes this import would make")));
        let mut changes = Table::new(&["CHANGE", "NUMBER", "NAME", "FIELDS"]);
        let shown = if list_all { report.changes.len() } else { LISTED_CHANGES };
        for change in report.changes.iter().take(shown) {
            let kind = match RosterChangeKind::try_from(change.kind) {
                Ok(RosterChangeKind::Create) => "create",
                Ok(RosterChangeKind::Update) => "update",
                Ok(RosterChangeKind::Deactivate) => "deactivate",
                _ => "?",
            };
            changes.row(vec![
                kind.to_owned(),
                change.number.clone(),
                change.name.clone(),
                change.fields.join(", "),
            ]);
        }
        out.push_str(&changes.render("  "));
        if report.changes.len() > shown {
            out.push_str(&format!(
                "  ... and {} more (--list-all shows them)\n",
                report.changes.len() - shown
            ));
        }
    }
    for note in &report.notes {
        out.push_str(&format!("note: {}\n", clean(note)));
    }
    if !report.applied {
        out.push_str("\nDry run: nothing was changed. Run again with --apply to import.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use lectern_proto::reader::v1::{RosterChange, RosterLineError};

    use super::*;

    #[test]
    fn a_dry_run_report_says_what_would_change() {
        let report = RosterReport {
            readers_in_file: 2,
            created: 1,
            unchanged: 1,
            classes_created: 1,
            changes: vec![RosterChange {
                kind: RosterChangeKind::Create.into(),
                number: "S001".into(),
                name: "王小明".into(),
                fields: Vec::new(),
            }],
            ..RosterReport::default()
        };
        let text = render(&report, false);
        assert!(
            text.starts_with("                   READERS\nin the roster      2\nto create          1\n"),
            "{text}"
        );
        assert!(text.contains("  create  S001    王小明\n"), "{text}");
        assert!(text.ends_with("Dry run: nothing was changed. Run again with --apply to import.\n"));
    }

    #[test]
    fn errors_are_listed_by_line() {
        let report = RosterReport {
            errors: vec![RosterLineError {
                file: "users.csv".into(),
                line: 7,
                column: "identifier".into(),
                message: "number S1 is also on line 3".into(),
            }],
            ..RosterReport::default()
        };
        let text = render(&report, false);
        assert!(text.starts_with("1 error(s) in the roster — nothing was changed:\n  FILE       LINE  COLUMN      PROBLEM\n  users.csv  7     identifier  number S1 is also on line 3\n"), "{text}");
    }
}
