//! The shelves at the desk: shelf locations of a school (`shelf
//! locations`, `shelf add-location`), walking them in call-number order
//! (`shelf browse`), and a copy's life (`copy status`, `copy history`).

use lectern_proto::catalog::v1::{
    BrowseShelfRequest, ChangeCopyStatusRequest, CopyStatus, CreateShelfLocationRequest,
    GetCopyHistoryRequest, ListShelfLocationsRequest, LookupCopyRequest, Money,
};

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::format::{availability, copy_status, here_day, here_minute, utc};
use super::schools::school_id;
use super::table::{Table, clean};

/// `lectern shelf …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ShelfCommand {
    /// List a school's shelf locations. 架位
    Locations {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Add a shelf location to a school's library. 添加架位
    #[command(after_help = "Example:\n  lectern shelf add-location --school XH-PRI \"一楼 A 区 3 架\"")]
    AddLocation {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// The location as signposted
        #[arg(value_name = "NAME")]
        name: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Walk a school's shelves in call-number order, by location or class. 浏览书架
    #[command(
        after_help = "Examples:\n  lectern shelf browse --school XH-PRI --location \"一楼 A 区 3 架\"\n  lectern shelf browse --school XH-PRI --class I287"
    )]
    Browse {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// Only this location (its name)
        #[arg(long, value_name = "NAME")]
        location: Option<String>,
        /// Only titles whose CLC or Dewey number starts with this, e.g. I287
        #[arg(long = "class", value_name = "PREFIX")]
        class_prefix: Option<String>,
        /// At most this many copies (1–200)
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i32).range(1..=200))]
        limit: i32,
        #[command(flatten)]
        connection: Connection,
    },
}

/// `lectern shelf …`.
pub async fn run_shelf(command: ShelfCommand) -> anyhow::Result<()> {
    match command {
        ShelfCommand::Locations { school, connection } => {
            let desk = Desk::open(&connection).await?;
            let school_id = school_id(&desk, &school).await?;
            let mut table = Table::new(&["LOCATION", "ID"]);
            for location in locations(&desk, &school_id).await? {
                table.row(vec![clean(&location.name), location.id]);
            }
            print!("{}", table.render(""));
        }
        ShelfCommand::AddLocation { school, name, connection } => {
            let desk = Desk::open(&connection).await?;
            let message = CreateShelfLocationRequest {
                school_id: school_id(&desk, &school).await?,
                name,
                request_id: request_id(),
            };
            let client = desk.collection();
            let location = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.create_shelf_location(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            println!("location added: {} (id {})", clean(&location.name), location.id);
        }
        ShelfCommand::Browse { school, location, class_prefix, limit, connection } => {
            let desk = Desk::open(&connection).await?;
            let school_id = school_id(&desk, &school).await?;
            let location_id = match location {
                None => String::new(),
                Some(name) => {
                    let wanted = name.split_whitespace().collect::<Vec<_>>().join(" ");
                    locations(&desk, &school_id)
                        .await?
                        .into_iter()
                        .find(|location| location.name == wanted)
                        .map(|location| location.id)
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "the school has no location {wanted:?}: see `lectern shelf locations`"
                            )
                        })?
                }
            };
            let page = desk
                .collection()
                .browse_shelf(desk.request(BrowseShelfRequest {
                    school_id,
                    location_id,
                    class_prefix: class_prefix.unwrap_or_default(),
                    page_size: limit,
                    page_token: String::new(),
                }))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            let mut table = Table::new(&["CALL NUMBER", "BARCODE", "TITLE", "LOCATION", "AVAILABILITY"]);
            for copy in &page.copies {
                table.row(vec![
                    clean(&copy.call_number),
                    clean(&copy.barcode),
                    clean(&copy.title),
                    clean(&copy.location_name),
                    availability(copy, here_day),
                ]);
            }
            print!("{}", table.render(""));
            if !page.next_page_token.is_empty() {
                println!("(more copies: raise --limit)");
            }
        }
    }
    Ok(())
}

async fn locations(
    desk: &Desk,
    school_id: &str,
) -> anyhow::Result<Vec<lectern_proto::catalog::v1::ShelfLocation>> {
    Ok(desk
        .collection()
        .list_shelf_locations(desk.request(ListShelfLocationsRequest { school_id: school_id.to_owned() }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner()
        .locations)
}

/// A status as typed at the desk.
pub fn parse_status(text: &str) -> Result<CopyStatus, String> {
    Ok(match text {
        "available" => CopyStatus::Available,
        "in-process" => CopyStatus::InProcess,
        "damaged" => CopyStatus::Damaged,
        "in-repair" => CopyStatus::InRepair,
        "missing" => CopyStatus::Missing,
        "lost" => CopyStatus::Lost,
        "withdrawn" => CopyStatus::Withdrawn,
        _ => {
            return Err(
                "one of available, in-process, damaged, in-repair, missing, lost, withdrawn".to_owned()
            );
        }
    })
}

/// A price as typed, in yuan: "5", "12.50".
pub fn parse_yuan(text: &str) -> Result<Money, String> {
    let bad = || format!("{text:?} is not an amount in yuan such as 12.50");
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if fraction.len() > 2 || whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 =
        if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().map_err(|_| bad())? };
    let minor_units = whole.checked_mul(100).and_then(|fen| fen.checked_add(fraction)).ok_or_else(bad)?;
    Ok(Money { minor_units, currency: "CNY".into() })
}

/// `lectern copy status`: moves a copy along its life.
pub async fn change_status(
    barcode: String,
    status: CopyStatus,
    reason: Option<String>,
    repair_notes: Option<String>,
    repair_cost: Option<Money>,
    connection: Connection,
) -> anyhow::Result<()> {
    let desk = Desk::open(&connection).await?;
    let copy = lookup(&desk, &barcode).await?;
    let message = ChangeCopyStatusRequest {
        copy_id: copy.id,
        status: status.into(),
        reason: reason.unwrap_or_default(),
        repair_notes: repair_notes.unwrap_or_default(),
        repair_cost,
        request_id: request_id(),
    };
    let client = desk.collection();
    let copy = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.change_copy_status(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    println!("{} ({}) is now {}", clean(&copy.barcode), clean(&copy.title), copy_status(copy.status));
    Ok(())
}

/// `lectern copy history`: who changed a copy's status, when and why.
pub async fn history(barcode: String, connection: Connection) -> anyhow::Result<()> {
    let desk = Desk::open(&connection).await?;
    let copy = lookup(&desk, &barcode).await?;
    let history = desk
        .collection()
        .get_copy_history(desk.request(GetCopyHistoryRequest { copy_id: copy.id }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    println!("{} ({}): {}", clean(&copy.barcode), clean(&copy.title), copy_status(copy.status));
    let when = |time: &Option<prost_types::Timestamp>| {
        time.as_ref().and_then(|time| utc(time.seconds, time.nanos)).map(here_minute).unwrap_or_default()
    };
    let mut table = Table::new(&["WHEN", "FROM", "TO", "WHY", "BY"]);
    for change in &history.changes {
        table.row(vec![
            when(&change.occur_time),
            copy_status(change.from_status).to_owned(),
            copy_status(change.to_status).to_owned(),
            clean(&change.reason),
            change.actor_id.clone(),
        ]);
    }
    print!("{}", table.render(""));
    for ticket in &history.repair_tickets {
        let cost = ticket.cost.as_ref().map_or(0, |cost| cost.minor_units);
        let state = if ticket.close_time.is_some() { "closed" } else { "open" };
        println!(
            "repair {} {state}, opened {}, cost ¥{}.{:02}: {}",
            ticket.id,
            when(&ticket.open_time),
            cost / 100,
            cost % 100,
            clean(&ticket.notes)
        );
    }
    Ok(())
}

async fn lookup(desk: &Desk, barcode: &str) -> anyhow::Result<lectern_proto::catalog::v1::Copy> {
    Ok(desk
        .catalog()
        .lookup_copy(desk.request(LookupCopyRequest { barcode: barcode.to_owned() }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_typed_in_yuan() {
        assert_eq!(parse_yuan("12.5").unwrap().minor_units, 1250);
        assert_eq!(parse_yuan("5").unwrap().minor_units, 500);
        assert_eq!(parse_yuan("0.05").unwrap().minor_units, 5);
        assert!(parse_yuan("1.234").is_err());
        assert!(parse_yuan("-1").is_err());
        assert!(parse_yuan("abc").is_err());
        assert!(parse_yuan(".5").is_err());
    }

    #[test]
    fn statuses_are_typed_in_words() {
        assert_eq!(parse_status("in-repair"), Ok(CopyStatus::InRepair));
        assert!(parse_status("broken").is_err());
    }
}
