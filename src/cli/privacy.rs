//! A reader's rights at the command line: `reader export` writes
//! everything Lectern holds about a card holder as JSON (right of access),
//! `reader erase` removes a reader who owes nothing from every service
//! (right of erasure); both find the reader by card barcode.
//! `reader categories` shows how long each category's loan history is kept.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use lectern_proto::reader::v1::{
    EraseReaderRequest, ExportReaderDataRequest, HistoryRetention, HistoryRule, ListReaderCategoriesRequest,
};

use super::Connection;
use super::desk::{Desk, request_id};
use super::readers::lookup;
use super::table::{Table, clean};

/// `lectern reader export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The reader's library card barcode
    #[arg(value_name = "READER_CARD")]
    card: String,
    /// Write the JSON to this file instead of standard output
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    connection: Connection,
}

/// `lectern reader erase`.
#[derive(Debug, Clone, clap::Args)]
pub struct EraseArgs {
    /// The reader's library card barcode
    #[arg(value_name = "READER_CARD")]
    card: String,
    /// Confirm: the reader's record, PIN, blocks and notices are deleted
    /// and their loans stop naming them; this cannot be undone
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    connection: Connection,
}

/// The export document, indented for people to read.
pub fn pretty(json: &str) -> anyhow::Result<String> {
    let value: serde_json::Value =
        serde_json::from_str(json).context("the server sent an unreadable export")?;
    Ok(format!("{}\n", serde_json::to_string_pretty(&value)?))
}

/// `lectern reader export`.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let reader = lookup(&desk, &args.card).await?;
    let export = desk
        .readers()
        .export_reader_data(desk.request(ExportReaderDataRequest { reader_id: reader.id }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    let text = pretty(&export.json)?;
    match args.output {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("reader data of card {} written to {}", clean(&args.card), path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// `lectern reader erase`.
pub async fn erase(args: EraseArgs) -> anyhow::Result<()> {
    if !args.yes {
        bail!(
            "erasing a reader cannot be undone: run `lectern reader export {0}` first if the family wants a copy, then `lectern reader erase {0} --yes`",
            clean(&args.card)
        );
    }
    let desk = Desk::open(&args.connection).await?;
    let reader = lookup(&desk, &args.card).await?;
    let erased = desk
        .readers()
        .erase_reader(desk.request(EraseReaderRequest { reader_id: reader.id, request_id: request_id() }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    println!("reader erased: card {} (id {})", clean(&args.card), erased.reader_id);
    Ok(())
}

/// A history rule in words.
pub fn describe_rule(rule: Option<&HistoryRule>) -> String {
    let Some(rule) = rule else {
        return "keep".to_owned();
    };
    match HistoryRetention::try_from(rule.retention) {
        Ok(HistoryRetention::NeverKeep) => "never keep (forgotten at return)".to_owned(),
        Ok(HistoryRetention::AnonymizeAfterDays) => {
            format!("anonymize {} days after return", rule.anonymize_after_days)
        }
        _ => "keep".to_owned(),
    }
}

/// `lectern reader categories`.
pub async fn categories(connection: &Connection) -> anyhow::Result<()> {
    let desk = Desk::open(connection).await?;
    let categories = desk
        .readers()
        .list_reader_categories(desk.request(ListReaderCategoriesRequest {}))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner()
        .categories;
    let mut table = Table::new(&["CODE", "名称", "NAME", "LOAN HISTORY"]);
    for category in &categories {
        table.row(vec![
            category.code.clone(),
            category.name_zh.clone(),
            category.name_en.clone(),
            describe_rule(category.history_rule.as_ref()),
        ]);
    }
    print!("{}", table.render(""));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_indented_and_junk_is_refused() {
        assert_eq!(
            pretty(r#"{"reader":{"name":"王小明"}}"#).unwrap(),
            "{\n  \"reader\": {\n    \"name\": \"王小明\"\n  }\n}\n"
        );
        assert!(pretty("not json").is_err());
    }

    #[test]
    fn rules_read_as_words() {
        let rule = |retention: HistoryRetention, days| HistoryRule {
            retention: retention.into(),
            anonymize_after_days: days,
        };
        assert_eq!(describe_rule(None), "keep");
        assert_eq!(
            describe_rule(Some(&rule(HistoryRetention::AnonymizeAfterDays, 90))),
            "anonymize 90 days after return"
        );
        assert_eq!(
            describe_rule(Some(&rule(HistoryRetention::NeverKeep, 0))),
            "never keep (forgotten at return)"
        );
    }
}
