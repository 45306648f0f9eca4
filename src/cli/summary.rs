//! `lectern summary CARD`: what the desk sees when a card is scanned —
//! the reader, their loans, holds and open fees, and what blocks them.

use lectern_proto::circulation::v1::{GetReaderSummaryRequest, ReaderSummary};

use super::Connection;
use super::desk::Desk;
use super::format::{loan_due_day, yuan};
use super::readers::reader_heading;
use super::table::{Table, clean};

/// Options of `lectern summary`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Example:\n  lectern summary R100001")]
pub struct SummaryArgs {
    /// The reader's library card barcode (scan it)
    #[arg(value_name = "READER_CARD")]
    pub card: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern summary`.
pub async fn summary(args: SummaryArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let summary = desk
        .loans()
        .get_reader_summary(desk.request(GetReaderSummaryRequest {
            reader_card_barcode: args.card.trim().to_owned(),
            reader_id: String::new(),
        }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    print!("{}", summary_lines(&summary));
    Ok(())
}

/// The summary as the desk shows it.
fn summary_lines(summary: &ReaderSummary) -> String {
    let mut out =
        summary.reader.as_ref().map(|reader| format!("{}\n", reader_heading(reader))).unwrap_or_default();
    if summary.blocks.is_empty() {
        out.push_str("may borrow\n");
    }
    for block in &summary.blocks {
        let past = if block.overridable { " (a librarian may lend past it)" } else { "" };
        out.push_str(&format!("blocked: {} ({}){past}\n", clean(&block.message), block.reason));
    }
    out.push_str(&format!("loans: {}\n", summary.loans.len()));
    if !summary.loans.is_empty() {
        let mut table = Table::new(&["DUE", "BARCODE", "TITLE", ""]);
        for loan in &summary.loans {
            let flag = if loan.overdue { "overdue" } else { "" };
            table.row(vec![
                loan_due_day(loan),
                loan.copy_barcode.clone(),
                loan.title.clone(),
                flag.to_owned(),
            ]);
        }
        out.push_str(&table.render("  "));
    }
    out.push_str(&format!("holds: {}\n", summary.holds.len()));
    for hold in &summary.holds {
        let place = if hold.position > 0 {
            format!("place {} in line", hold.position)
        } else {
            "kept for them".to_owned()
        };
        out.push_str(&format!("  {} ({place})\n", clean(&hold.title)));
    }
    out.push_str(&format!("fees owed: {}\n", yuan(summary.balance)));
    out
}

#[cfg(test)]
mod tests {
    use lectern_proto::circulation::v1::{Hold, Loan, SummaryBlock};

    use super::*;

    #[test]
    fn a_summary_reads_as_the_desk_shows_it() {
        let summary = ReaderSummary {
            loans: vec![Loan {
                copy_barcode: "C0001".into(),
                title: "草房子".into(),
                due_date: "2026-12-01".into(),
                overdue: true,
                ..Default::default()
            }],
            holds: vec![Hold { title: "西游记".into(), position: 2, ..Default::default() }],
            balance: 150,
            blocks: vec![SummaryBlock {
                reason: "READER_HAS_OVERDUE".into(),
                message: "this reader has a copy overdue by 9 days".into(),
                overridable: true,
            }],
            ..Default::default()
        };
        let text = summary_lines(&summary);
        assert!(
            text.starts_with("blocked: this reader has a copy overdue by 9 days (READER_HAS_OVERDUE)"),
            "{text}"
        );
        assert!(text.contains("loans: 1\n"), "{text}");
        assert!(text.contains("草房子"), "{text}");
        assert!(text.contains("  西游记 (place 2 in line)\n"), "{text}");
        assert!(text.ends_with("fees owed: 1.50\n"), "{text}");
    }
}
