//! A school's library calendar at the desk: `calendar show` and `calendar
//! set` (weekdays closed, holidays, term breaks, terms). Due days of new
//! loans that fall on a closed day move to the next open day.

use anyhow::{Context as _, bail};
use lectern_proto::circulation::v1::{
    Closure, ClosureKind, GetSchoolCalendarRequest, SchoolCalendar, SetSchoolCalendarRequest, Term,
};

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::format::{here_minute, utc};
use super::schools::school_id;
use super::table::{Table, clean};

/// `lectern calendar …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CalendarCommand {
    /// Show when a school's library is closed, and its terms. 校历
    Show {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Replace a school's calendar with the one given here (librarians of the school, district admins). 设置校历
    #[command(after_help = "Example:\n  lectern calendar set --school XH-PRI --closed sat,sun \\\n    \
        --holiday 2026-10-01..2026-10-07=国庆节 --holiday 2027-01-01=元旦 \\\n    \
        --break 2027-01-18..2027-02-26=寒假 --term 2026-09-01..2027-01-15=秋季学期\n\n\
        The calendar is replaced whole: give every closed weekday, holiday, break\n\
        and term the school keeps. Days are YYYY-MM-DD; a range includes both ends.\n\
        Loans made from now on that fall due on a closed day are due on the next\n\
        open day; loans already made keep their due day.")]
    Set {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// Weekdays the library is always closed: mon,tue,…,sun or 1–7 (1 = Monday)
        #[arg(long, value_name = "DAYS", default_value = "")]
        closed: String,
        /// A holiday: FIRST..LAST=NAME, or DAY=NAME for one day (repeat for more)
        #[arg(long = "holiday", value_name = "DAYS=NAME")]
        holidays: Vec<String>,
        /// A term break: FIRST..LAST=NAME (repeat for more)
        #[arg(long = "break", value_name = "DAYS=NAME")]
        breaks: Vec<String>,
        /// A term: FIRST..LAST=NAME (repeat for more)
        #[arg(long = "term", value_name = "DAYS=NAME")]
        terms: Vec<String>,
        #[command(flatten)]
        connection: Connection,
    },
}

/// `lectern calendar …`.
pub async fn run_calendar(command: CalendarCommand) -> anyhow::Result<()> {
    match command {
        CalendarCommand::Show { school, connection } => {
            let desk = Desk::open(&connection).await?;
            let school_id = school_id(&desk, &school).await?;
            let calendar = desk
                .calendars()
                .get_school_calendar(desk.request(GetSchoolCalendarRequest { school_id }))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            print!("{}", calendar_lines(&calendar));
        }
        CalendarCommand::Set { school, closed, holidays, breaks, terms, connection } => {
            let mut message = SchoolCalendar { closed_weekdays: weekdays(&closed)?, ..Default::default() };
            for (kind, entries) in [(ClosureKind::Holiday, &holidays), (ClosureKind::TermBreak, &breaks)] {
                for entry in entries {
                    let (first_day, last_day, name) = named_days(entry)?;
                    message.closures.push(Closure { first_day, last_day, kind: kind.into(), name });
                }
            }
            for entry in &terms {
                let (first_day, last_day, name) = named_days(entry)?;
                message.terms.push(Term { name, first_day, last_day });
            }
            let desk = Desk::open(&connection).await?;
            message.school_id = school_id(&desk, &school).await?;
            // One id for the change: a retry after a lost answer cannot undo
            // a change another desk made in between.
            let message = SetSchoolCalendarRequest { calendar: Some(message), request_id: request_id() };
            let client = desk.calendars();
            let calendar = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.set_school_calendar(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            print!("calendar saved\n{}", calendar_lines(&calendar));
        }
    }
    Ok(())
}

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// "sat,sun" or "6,7" as ISO weekday numbers; empty for none.
fn weekdays(text: &str) -> anyhow::Result<Vec<i32>> {
    let mut numbers = Vec::new();
    for word in text.split(',').map(str::trim).filter(|word| !word.is_empty()) {
        let lower = word.to_lowercase();
        let by_name =
            (1..).zip(WEEKDAYS).find(|(_, name)| lower.len() >= 3 && name.to_lowercase().starts_with(&lower));
        let number = match (lower.parse::<i32>(), by_name) {
            (Ok(number), _) if (1..=7).contains(&number) => number,
            (_, Some((number, _))) => number,
            _ => bail!("--closed: {word:?} is not a weekday (mon … sun, or 1 … 7 with 1 = Monday)"),
        };
        numbers.push(number);
    }
    Ok(numbers)
}

/// "2026-10-01..2026-10-07=国庆节" (or "2027-01-01=元旦") as first day, last
/// day and name. The server checks the days themselves.
fn named_days(entry: &str) -> anyhow::Result<(String, String, String)> {
    let (days, name) = entry.split_once('=').with_context(|| {
        format!("{entry:?}: give the days and a name, e.g. 2026-10-01..2026-10-07=国庆节")
    })?;
    let (first, last) = days.split_once("..").unwrap_or((days, days));
    Ok((first.trim().to_owned(), last.trim().to_owned(), name.trim().to_owned()))
}

/// The calendar as the desk shows it.
fn calendar_lines(calendar: &SchoolCalendar) -> String {
    let closed: Vec<&str> = calendar
        .closed_weekdays
        .iter()
        .filter_map(|&number| usize::try_from(number - 1).ok().and_then(|index| WEEKDAYS.get(index)).copied())
        .collect();
    let mut out = if closed.is_empty() {
        "closed every week: no weekday\n".to_owned()
    } else {
        format!("closed every week: {}\n", closed.join(", "))
    };
    if calendar.closures.is_empty() {
        out.push_str("holidays and breaks: none\n");
    } else {
        out.push_str("holidays and breaks:\n");
        let mut table = Table::new(&["FROM", "TO", "KIND", "NAME"]);
        for closure in &calendar.closures {
            let kind = match ClosureKind::try_from(closure.kind) {
                Ok(ClosureKind::TermBreak) => "term break",
                _ => "holiday",
            };
            table.row(vec![
                closure.first_day.clone(),
                closure.last_day.clone(),
                kind.into(),
                closure.name.clone(),
            ]);
        }
        out.push_str(&table.render("  "));
    }
    if calendar.terms.is_empty() {
        out.push_str("terms: none\n");
    } else {
        out.push_str("terms:\n");
        let mut table = Table::new(&["FROM", "TO", "TERM"]);
        for term in &calendar.terms {
            table.row(vec![term.first_day.clone(), term.last_day.clone(), term.name.clone()]);
        }
        out.push_str(&table.render("  "));
    }
    match calendar.updated_at.as_ref().and_then(|time| utc(time.seconds, time.nanos)) {
        Some(at) => {
            out.push_str(&format!("last changed {} by {}\n", here_minute(at), clean(&calendar.updated_by)))
        }
        None => out.push_str("never set: the library is open every day\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_by_name_or_number() {
        assert_eq!(weekdays("sat,sun").unwrap(), [6, 7]);
        assert_eq!(weekdays(" Saturday , 7 ").unwrap(), [6, 7]);
        assert_eq!(weekdays("").unwrap(), Vec::<i32>::new());
        assert_eq!(
            weekdays("sa").unwrap_err().to_string(),
            "--closed: \"sa\" is not a weekday (mon … sun, or 1 … 7 with 1 = Monday)"
        );
        assert!(weekdays("8").is_err());
    }

    #[test]
    fn days_and_a_name() {
        assert_eq!(
            named_days("2026-10-01..2026-10-07=国庆节").unwrap(),
            ("2026-10-01".into(), "2026-10-07".into(), "国庆节".into())
        );
        assert_eq!(
            named_days("2027-01-01=元旦").unwrap(),
            ("2027-01-01".into(), "2027-01-01".into(), "元旦".into())
        );
        assert!(named_days("2027-01-01").unwrap_err().to_string().contains("give the days and a name"));
    }

    #[test]
    fn a_calendar_reads_as_the_desk_shows_it() {
        let calendar = SchoolCalendar {
            closed_weekdays: vec![6, 7],
            closures: vec![Closure {
                first_day: "2026-10-01".into(),
                last_day: "2026-10-07".into(),
                kind: ClosureKind::Holiday.into(),
                name: "国庆节".into(),
            }],
            ..Default::default()
        };
        let text = calendar_lines(&calendar);
        assert!(text.starts_with("closed every week: Saturday, Sunday\nholidays and breaks:\n"), "{text}");
        assert!(text.contains("  2026-10-01  2026-10-07  holiday  国庆节\n"), "{text}");
        assert!(text.contains("terms: none\n"), "{text}");
        assert!(text.ends_with("never set: the library is open every day\n"), "{text}");
    }
}
