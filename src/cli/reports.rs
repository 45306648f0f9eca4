//! `lectern report`: a school's reading report over a date range — loans
//! per month, grade and class, top titles, the classification spread and
//! the active-reader rate, as the loans were made.

use lectern_proto::circulation::v1::{GetReadingReportRequest, ReadingReport};

use super::Connection;
use super::desk::Desk;
use super::schools::school_id;
use super::table::Table;

/// Options of `lectern report`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern report --school XH-PRI --from 2026-09-01 --to 2027-01-15\n  \
lectern report --school XH-PRI --from 2026-09-01 --to 2026-09-30 --grade 3")]
pub struct ReportArgs {
    /// The school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    pub school: String,
    /// First day, YYYY-MM-DD
    #[arg(long, value_name = "DAY")]
    pub from: String,
    /// Last day, YYYY-MM-DD (at most 366 days after the first)
    #[arg(long, value_name = "DAY")]
    pub to: String,
    /// Only readers of this grade when they borrowed
    #[arg(long, value_name = "GRADE", default_value_t = 0)]
    pub grade: i32,
    /// Only readers of this class id when they borrowed
    #[arg(long = "class", value_name = "CLASS_ID", default_value = "")]
    pub class_id: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern report`.
pub async fn report(args: ReportArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let school_id = school_id(&desk, &args.school).await?;
    let report = desk
        .loans()
        .get_reading_report(desk.request(GetReadingReportRequest {
            school_id,
            from_date: args.from.trim().to_owned(),
            to_date: args.to.trim().to_owned(),
            grade: args.grade,
            class_id: args.class_id.trim().to_owned(),
            top_titles: 10,
        }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    print!("{}", report_lines(&report));
    Ok(())
}

/// The report as the desk prints it.
fn report_lines(report: &ReadingReport) -> String {
    let mut out = format!(
        "loans: {}, readers who borrowed: {} of {} ({:.0}%)\n",
        report.loans,
        report.borrowers,
        report.readers,
        report.active_reader_rate * 100.0
    );
    let mut months = Table::new(&["MONTH", "GRADE", "CLASS", "LOANS"]);
    for row in &report.months {
        months.row(vec![
            row.month.clone(),
            row.grade.to_string(),
            row.class_id.clone(),
            row.loans.to_string(),
        ]);
    }
    out.push_str("by month:\n");
    out.push_str(&months.render("  "));
    let mut titles = Table::new(&["LOANS", "TITLE"]);
    for title in &report.top_titles {
        titles.row(vec![title.loans.to_string(), title.title.clone()]);
    }
    out.push_str("top titles:\n");
    out.push_str(&titles.render("  "));
    let classes: Vec<String> = report
        .classifications
        .iter()
        .map(|class| format!("{} {}", if class.class.is_empty() { "-" } else { &class.class }, class.loans))
        .collect();
    out.push_str(&format!("by class: {}\n", classes.join(", ")));
    out
}

#[cfg(test)]
mod tests {
    use lectern_proto::circulation::v1::{ClassificationLoans, MonthlyLoans, TitleLoans};

    use super::*;

    #[test]
    fn a_report_reads_as_printed() {
        let report = ReadingReport {
            loans: 3,
            borrowers: 2,
            readers: 4,
            active_reader_rate: 0.5,
            months: vec![MonthlyLoans {
                month: "2026-11".into(),
                grade: 3,
                class_id: "c-1".into(),
                loans: 3,
            }],
            top_titles: vec![TitleLoans { title: "草房子".into(), loans: 2, ..Default::default() }],
            classifications: vec![
                ClassificationLoans { class: String::new(), loans: 1 },
                ClassificationLoans { class: "I".into(), loans: 2 },
            ],
        };
        let text = report_lines(&report);
        assert!(text.starts_with("loans: 3, readers who borrowed: 2 of 4 (50%)\n"), "{text}");
        assert!(text.contains("2026-11"), "{text}");
        assert!(text.ends_with("by class: - 1, I 2\n"), "{text}");
    }
}
