//! Copies travelling between schools: `transit list` shows what is on its
//! way to a school's desk (scan it with `lectern checkin` when it comes)
//! and what it sent away.

use lectern_proto::circulation::v1::{ListTransitsRequest, Transit, TransitDirection, TransitReason};
use lectern_proto::reader::v1::School;

use super::Connection;
use super::desk::{Desk, all_pages};
use super::format::{here_minute, utc};
use super::schools::{MAX_PAGES, all_schools, school_id};
use super::table::{Table, clean};

/// `lectern transit …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TransitCommand {
    /// Books travelling to or from a school. 在途图书
    #[command(
        after_help = "Examples:\n  lectern transit list --school XH-PRI              # coming and going\n  \
        lectern transit list --school XH-PRI --incoming   # to unpack from the van\n  \
        lectern transit list --school XH-PRI --all        # also those that arrived"
    )]
    List {
        /// The school: its code or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// Only books coming to the school
        #[arg(long, conflicts_with = "outgoing")]
        incoming: bool,
        /// Only books the school sent away
        #[arg(long)]
        outgoing: bool,
        /// Also books that arrived, newest first
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        connection: Connection,
    },
}

/// `lectern transit …`.
pub async fn run_transit(command: TransitCommand) -> anyhow::Result<()> {
    let TransitCommand::List { school, incoming, outgoing, all, connection } = command;
    let desk = Desk::open(&connection).await?;
    let school_id = school_id(&desk, &school).await?;
    let direction = match (incoming, outgoing) {
        (true, _) => TransitDirection::Incoming,
        (_, true) => TransitDirection::Outgoing,
        _ => TransitDirection::Unspecified,
    };
    let transits = all_pages(MAX_PAGES, |page_token| {
        let mut loans = desk.loans();
        let request = desk.request(ListTransitsRequest {
            school_id: school_id.clone(),
            direction: direction.into(),
            include_received: all,
            page_size: 500,
            page_token,
        });
        async move {
            let page = loans.list_transits(request).await?.into_inner();
            Ok((page.transits, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    let schools = all_schools(&desk).await?;
    print!("{}", transit_lines(&transits, &schools));
    Ok(())
}

/// The journeys as the desk reads them.
fn transit_lines(transits: &[Transit], schools: &[School]) -> String {
    if transits.is_empty() {
        return "nothing in transit\n".to_owned();
    }
    let code = |id: &str| {
        schools.iter().find(|school| school.id == id).map_or_else(|| clean(id), |school| clean(&school.code))
    };
    let mut table = Table::new(&["BARCODE", "TITLE", "FROM", "TO", "WHY", "SENT", "ARRIVED"]);
    for transit in transits {
        let when = |time: Option<&prost_types::Timestamp>| {
            time.and_then(|time| utc(time.seconds, time.nanos))
                .map(here_minute)
                .unwrap_or_else(|| "-".to_owned())
        };
        let why = match transit.reason() {
            TransitReason::Hold => "for a hold",
            TransitReason::Home | TransitReason::Unspecified => "home",
        };
        table.row(vec![
            clean(&transit.copy_barcode),
            clean(&transit.title),
            if transit.from_school_id.is_empty() { "-".to_owned() } else { code(&transit.from_school_id) },
            code(&transit.to_school_id),
            why.to_owned(),
            when(transit.start_time.as_ref()),
            when(transit.received_time.as_ref()),
        ]);
    }
    format!("{}{} in transit or arrived\n", table.render(""), transits.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journeys_name_the_schools_by_code() {
        let schools = [
            School { id: "a".into(), code: "XH-PRI".into(), ..Default::default() },
            School { id: "b".into(), code: "XH-MID".into(), ..Default::default() },
        ];
        let transit = Transit {
            copy_barcode: "P000001".into(),
            title: "红楼梦".into(),
            from_school_id: "b".into(),
            to_school_id: "a".into(),
            reason: TransitReason::Home.into(),
            ..Default::default()
        };
        let text = transit_lines(&[transit], &schools);
        assert!(text.contains("XH-MID") && text.contains("XH-PRI") && text.contains("home"), "{text}");
        assert_eq!(transit_lines(&[], &schools), "nothing in transit\n");
    }
}
