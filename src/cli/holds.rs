//! Holds at the desk: `hold place` (for a card holder, on a title by ISBN
//! or id, or on one copy), `hold list`, `hold cancel`, and `pull-list`
//! (copies on this school's shelves that waiting holds could use: pull
//! them and scan them with `lectern checkin`).

use lectern_proto::catalog::v1::LookupTitleRequest;
use lectern_proto::circulation::v1::{
    CancelHoldRequest, Hold, HoldStatus, ListHoldsRequest, ListPullListRequest, PlaceHoldRequest,
    PullListEntry,
};

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::format::{here_minute, utc};
use super::schools::school_id;
use super::table::{Table, clean};

/// `lectern hold …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum HoldCommand {
    /// Place a hold for a reader: on a title (any copy) or on one copy. 预约
    #[command(after_help = "Examples:\n  lectern hold place R100001 --title 9787534687983\n  \
        lectern hold place R100001 --copy P000002 --pickup XH-MID")]
    Place {
        /// The reader's card barcode
        #[arg(value_name = "READER_CARD")]
        card: String,
        /// The title: its ISBN or id
        #[arg(long, value_name = "ISBN|ID", required_unless_present = "copy", conflicts_with = "copy")]
        title: Option<String>,
        /// One copy, by barcode
        #[arg(long, value_name = "COPY_BARCODE")]
        copy: Option<String>,
        /// Where to pick it up: a school's code or id (default: the reader's school)
        #[arg(long, value_name = "SCHOOL")]
        pickup: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// A reader's holds and their places in line. 预约记录
    List {
        /// The reader's card barcode
        #[arg(value_name = "READER_CARD")]
        card: String,
        /// Also holds that ended
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        connection: Connection,
    },
    /// Cancel a hold; a copy kept for it goes to the next in line. 取消预约
    Cancel {
        /// The hold's id (see `lectern hold list`)
        #[arg(value_name = "HOLD_ID")]
        id: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// Options of `lectern pull-list`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Example:\n  lectern pull-list --school XH-PRI\n\n\
Pull each copy listed and scan it with `lectern checkin`: it goes on the\n\
hold shelf, or into the transit bin for the reader's pickup school.")]
pub struct PullListArgs {
    /// The school whose shelves to pull from: its code or id
    #[arg(long, value_name = "SCHOOL")]
    pub school: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern hold …`.
pub async fn run_hold(command: HoldCommand) -> anyhow::Result<()> {
    match command {
        HoldCommand::Place { card, title, copy, pickup, connection } => {
            let desk = Desk::open(&connection).await?;
            let title_id = match title {
                Some(title) if uuid_like(&title) => title,
                Some(isbn) => {
                    desk.catalog()
                        .lookup_title(desk.request(LookupTitleRequest { isbn }))
                        .await
                        .map_err(|status| desk.fail(status))?
                        .into_inner()
                        .id
                }
                None => String::new(),
            };
            let pickup_school_id = match pickup {
                Some(pickup) => school_id(&desk, &pickup).await?,
                None => String::new(),
            };
            let message = PlaceHoldRequest {
                reader_card_barcode: card.trim().to_owned(),
                title_id,
                copy_barcode: copy.unwrap_or_default().trim().to_owned(),
                pickup_school_id,
                request_id: request_id(),
            };
            let client = desk.holds();
            let hold = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.place_hold(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            println!(
                "hold placed: {} (place {} in line)\nid: {}",
                clean(&hold.title),
                hold.position,
                hold.id
            );
        }
        HoldCommand::List { card, all, connection } => {
            let desk = Desk::open(&connection).await?;
            let reader = super::readers::lookup(&desk, &card).await?;
            let holds = desk
                .holds()
                .list_holds(desk.request(ListHoldsRequest { reader_id: reader.id, include_closed: all }))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner()
                .holds;
            print!("{}", hold_lines(&holds));
        }
        HoldCommand::Cancel { id, connection } => {
            let desk = Desk::open(&connection).await?;
            let message = CancelHoldRequest { hold_id: id.trim().to_owned(), request_id: request_id() };
            let client = desk.holds();
            let hold = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.cancel_hold(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            println!("hold cancelled: {}", clean(&hold.title));
        }
    }
    Ok(())
}

/// `lectern pull-list`.
pub async fn pull_list(args: PullListArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let school_id = school_id(&desk, &args.school).await?;
    let entries = desk
        .holds()
        .list_pull_list(desk.request(ListPullListRequest { school_id }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner()
        .entries;
    print!("{}", pull_lines(&entries));
    Ok(())
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

fn status_text(hold: &Hold) -> &'static str {
    match HoldStatus::try_from(hold.status) {
        Ok(HoldStatus::Waiting) => "waiting",
        Ok(HoldStatus::InTransit) => "in transit",
        Ok(HoldStatus::Ready) => "on the hold shelf",
        Ok(HoldStatus::Fulfilled) => "borrowed",
        Ok(HoldStatus::Cancelled) => "cancelled",
        Ok(HoldStatus::Expired) => "not picked up",
        _ => "unknown",
    }
}

/// A reader's holds as the desk shows them.
fn hold_lines(holds: &[Hold]) -> String {
    if holds.is_empty() {
        return "no holds\n".to_owned();
    }
    let mut table = Table::new(&["TITLE", "STATUS", "PLACE", "UNTIL", "ID"]);
    for hold in holds {
        let place = if hold.position > 0 { hold.position.to_string() } else { "-".to_owned() };
        let until = hold
            .expire_time
            .as_ref()
            .and_then(|time| utc(time.seconds, time.nanos))
            .map_or_else(|| "-".to_owned(), here_minute);
        table.row(vec![hold.title.clone(), status_text(hold).to_owned(), place, until, hold.id.clone()]);
    }
    table.render("")
}

/// The pull list as the desk walks it.
fn pull_lines(entries: &[PullListEntry]) -> String {
    if entries.is_empty() {
        return "nothing to pull\n".to_owned();
    }
    let mut table = Table::new(&["LOCATION", "CALL NUMBER", "BARCODE", "TITLE"]);
    for entry in entries {
        table.row(vec![
            entry.location_name.clone(),
            entry.call_number.clone(),
            entry.copy_barcode.clone(),
            entry.title.clone(),
        ]);
    }
    format!("{}{} copies to pull\n", table.render(""), entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_and_the_pull_list_read_as_the_desk_shows_them() {
        let hold = Hold {
            title: "草房子".into(),
            status: HoldStatus::Waiting.into(),
            position: 2,
            id: "hold-1".into(),
            ..Default::default()
        };
        let text = hold_lines(&[hold]);
        let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(row, ["草房子", "waiting", "2", "-", "hold-1"]);
        assert_eq!(hold_lines(&[]), "no holds\n");
        let entry = PullListEntry {
            location_name: "一楼A区".into(),
            call_number: "I287.45/C12".into(),
            copy_barcode: "P000002".into(),
            title: "草房子".into(),
            ..Default::default()
        };
        let text = pull_lines(&[entry]);
        assert!(text.ends_with("1 copies to pull\n"), "{text}");
        assert_eq!(pull_lines(&[]), "nothing to pull\n");
        assert!(uuid_like("0190a000-0000-7000-8000-000000000001"));
        assert!(!uuid_like("9787534687983"));
    }
}
