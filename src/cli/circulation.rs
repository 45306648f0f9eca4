//! The desk actions: `checkout` (lend a copy to a card holder), `checkin`
//! (take a copy back), `renew` (one loan or all of a reader's), and `overdue` (a school's overdue or due-soon
//! loans). A refused check-out ends the command with the server's message
//! and reason code, and a non-zero exit.

use std::collections::HashMap;

use lectern_proto::circulation::v1::{
    CheckInRequest, CheckInResponse, CheckInRoute, CheckOutRequest, ListOverdueLoansRequest, Loan,
    RenewAllRequest, RenewAllResponse, RenewRequest,
};
use lectern_proto::reader::v1::{GetReaderRequest, Reader, School};

use super::Connection;
use super::desk::{Desk, all_pages, request_id, retrying};
use super::format::{loan_due_day, was_overdue, yuan};
use super::schools::{MAX_PAGES, school_id};
use super::table::{Table, clean};

/// Options of `lectern checkout`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Example:\n  lectern checkout R100001 C0001\n\n\
A refusal prints the reason and exits non-zero, e.g.\n  \
refused: 书已借出 (COPY_ALREADY_ON_LOAN)")]
pub struct CheckoutArgs {
    /// The reader's library card barcode (scan it)
    #[arg(value_name = "READER_CARD")]
    pub card: String,
    /// The book's barcode (scan it)
    #[arg(value_name = "COPY_BARCODE")]
    pub barcode: String,
    /// Lend past the reader's blocks (their block, loan limit, overdue
    /// copies, unpaid fees) for this reason, kept on the loan (librarians)
    #[arg(long = "override", value_name = "REASON")]
    pub override_reason: Option<String>,
    /// The school whose desk you are at (its code or id), if you work for
    /// several schools; staff of one school are at theirs
    #[arg(long = "at", value_name = "SCHOOL")]
    pub at: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// Options of `lectern checkin`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern checkin C0001\n  \
lectern checkin C0001 --damaged 封面撕破 --damage-fee 8    # marks it damaged, charges 8.00\n  \
lectern checkin C0001 --at XH-MID    # a book returned at another school's desk")]
pub struct CheckinArgs {
    /// The book's barcode (scan it)
    #[arg(value_name = "COPY_BARCODE")]
    pub barcode: String,
    /// It came back damaged: what is damaged (the catalog marks it damaged)
    #[arg(long, value_name = "WHAT")]
    pub damaged: Option<String>,
    /// Charge the reader this much for the damage, in yuan
    #[arg(long = "damage-fee", value_name = "YUAN", requires = "damaged")]
    pub damage_fee: Option<super::rules::Yuan>,
    /// The school whose desk you are at (its code or id), if you work for
    /// several schools: a book of any school may be returned anywhere
    #[arg(long = "at", value_name = "SCHOOL")]
    pub at: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// Options of `lectern renew`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern renew C0001            # the loan of this book\n  \
lectern renew --all R100001    # every loan of this reader that can be renewed")]
pub struct RenewArgs {
    /// The book's barcode (scan it)
    #[arg(value_name = "COPY_BARCODE", required_unless_present = "all", conflicts_with = "all")]
    pub barcode: Option<String>,
    /// Renew every loan of the reader with this card
    #[arg(long, value_name = "READER_CARD")]
    pub all: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern renew`: one loan, or all of a reader's, with the new due days
/// and, for those that cannot be renewed, why.
pub async fn renew(args: RenewArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let client = desk.loans();
    if let Some(card) = &args.all {
        let reader = super::readers::lookup(&desk, card).await?;
        let message = RenewAllRequest { reader_id: reader.id, request_id: request_id() };
        let answer = retrying(|| {
            let mut client = client.clone();
            let call = desk.request(message.clone());
            async move { client.renew_all(call).await.map(tonic::Response::into_inner) }
        })
        .await
        .map_err(|status| desk.fail(status))?;
        print!("{}", renew_all_lines(&answer));
        return Ok(());
    }
    let message = RenewRequest {
        loan_id: String::new(),
        copy_barcode: args.barcode.as_deref().unwrap_or_default().trim().to_owned(),
        request_id: request_id(),
    };
    let answer = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.renew(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    let loan = answer.loan.unwrap_or_default();
    println!("renewed: {} ({})\ndue: {}", clean(&loan.title), clean(&loan.copy_barcode), loan_due_day(&loan));
    Ok(())
}

/// One line per loan: renewed with its new due day, or why not.
fn renew_all_lines(answer: &RenewAllResponse) -> String {
    if answer.outcomes.is_empty() {
        return "nothing on loan\n".to_owned();
    }
    let mut table = Table::new(&["BARCODE", "TITLE", "DUE", "RENEWED"]);
    for outcome in &answer.outcomes {
        let loan = outcome.loan.clone().unwrap_or_default();
        let result = if outcome.renewed {
            "yes".to_owned()
        } else {
            format!("no: {} ({})", clean(&outcome.refusal_message), outcome.refusal_reason)
        };
        table.row(vec![loan.copy_barcode.clone(), loan.title.clone(), loan_due_day(&loan), result]);
    }
    let renewed = answer.outcomes.iter().filter(|outcome| outcome.renewed).count();
    format!("{}{renewed} of {} loans renewed\n", table.render(""), answer.outcomes.len())
}

/// Options of `lectern overdue`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern overdue --school XH-PRI\n  \
lectern overdue --school XH-PRI --due-within 3    # due in the next three days")]
pub struct OverdueArgs {
    /// The school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    pub school: String,
    /// Only readers of this class id (the class they were in when borrowing)
    #[arg(long = "class", value_name = "CLASS_ID")]
    pub class_id: Option<String>,
    /// Instead of overdue loans, those falling due within this many days (1–60)
    #[arg(long = "due-within", value_name = "DAYS", value_parser = clap::value_parser!(i32).range(1..=60))]
    pub due_within: Option<i32>,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern overdue`: who has what overdue (or due soon), with their card
/// and class, longest overdue first.
pub async fn overdue(args: OverdueArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let school_id = school_id(&desk, &args.school).await?;
    let due_within_days = args.due_within.unwrap_or(0);
    let client = desk.loans();
    let loans = all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let call = desk.request(ListOverdueLoansRequest {
            school_id: school_id.clone(),
            class_id: args.class_id.clone().unwrap_or_default(),
            due_within_days,
            page_size: 500,
            page_token,
        });
        async move {
            let page = client.list_overdue_loans(call).await?.into_inner();
            Ok((page.loans, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    let mut readers = HashMap::new();
    for loan in &loans {
        if !readers.contains_key(&loan.reader_id) {
            let reader = desk
                .readers()
                .get_reader(desk.request(GetReaderRequest { id: loan.reader_id.clone() }))
                .await
                .map(tonic::Response::into_inner)
                .ok();
            readers.insert(loan.reader_id.clone(), reader);
        }
    }
    print!("{}", overdue_lines(&loans, &readers, due_within_days));
    Ok(())
}

/// The list as the desk shows it; a reader that cannot be read shows as
/// their id.
fn overdue_lines(loans: &[Loan], readers: &HashMap<String, Option<Reader>>, due_within_days: i32) -> String {
    if loans.is_empty() {
        return if due_within_days == 0 {
            "no overdue loans\n".to_owned()
        } else {
            format!("nothing falls due within {due_within_days} days\n")
        };
    }
    let mut table = Table::new(&["DUE", "CARD", "NAME", "CLASS", "BARCODE", "TITLE"]);
    for loan in loans {
        let (card, name, class) = match readers.get(&loan.reader_id).and_then(Option::as_ref) {
            Some(reader) => (reader.card_barcode.clone(), reader.name.clone(), reader.class_name.clone()),
            None => (String::new(), loan.reader_id.clone(), String::new()),
        };
        table.row(vec![loan_due_day(loan), card, name, class, loan.copy_barcode.clone(), loan.title.clone()]);
    }
    let what = if due_within_days == 0 { "overdue" } else { "falling due soon" };
    format!("{}{} loans {what}\n", table.render(""), loans.len())
}

/// `lectern checkout`.
pub async fn checkout(args: CheckoutArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let message = CheckOutRequest {
        reader_card_barcode: args.card.trim().to_owned(),
        copy_barcode: args.barcode.trim().to_owned(),
        request_id: request_id(),
        occurred_at: None,
        override_reason: args.override_reason.clone().unwrap_or_default(),
        desk_school_id: desk_school(&desk, args.at.as_deref()).await?,
    };
    let client = desk.loans();
    let answer = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.check_out(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    let loan = answer.loan.unwrap_or_default();
    print!("{}", checkout_lines(&loan));
    Ok(())
}

/// "checked out: TITLE (BARCODE)\ndue: DAY\n", and the blocks lent past.
fn checkout_lines(loan: &Loan) -> String {
    let mut out = format!(
        "checked out: {} ({})\ndue: {}\n",
        clean(&loan.title),
        clean(&loan.copy_barcode),
        loan_due_day(loan)
    );
    if let Some(overridden) = &loan.r#override {
        out.push_str(&format!(
            "lent past: {} ({})\n",
            overridden.blocks.join(", "),
            clean(&overridden.reason)
        ));
    }
    out
}

/// `lectern checkin`.
pub async fn checkin(args: CheckinArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let message = CheckInRequest {
        copy_barcode: args.barcode.trim().to_owned(),
        request_id: request_id(),
        damaged: args.damaged.is_some(),
        damage_note: args.damaged.clone().unwrap_or_default(),
        damage_fee: args.damage_fee.map_or(0, |fee| fee.0),
        desk_school_id: desk_school(&desk, args.at.as_deref()).await?,
    };
    let client = desk.loans();
    let answer = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.check_in(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    let schools =
        if answer.transit.is_some() { super::schools::all_schools(&desk).await? } else { Vec::new() };
    print!("{}", checkin_lines(&answer, &schools));
    Ok(())
}

/// The school id `--at` names, or empty (the server knows the desk of a
/// staff member of one school).
async fn desk_school(desk: &Desk, at: Option<&str>) -> anyhow::Result<String> {
    match at {
        Some(school) => super::schools::school_id(desk, school).await,
        None => Ok(String::new()),
    }
}

/// "returned: TITLE" (with "was overdue", the fine and a suspension), or
/// that nothing was on loan.
fn checkin_lines(answer: &CheckInResponse, schools: &[School]) -> String {
    let mut out = match (&answer.loan, answer.was_on_loan) {
        (Some(loan), true) => {
            let late = if was_overdue(loan) {
                format!(" (was overdue, due {})", loan_due_day(loan))
            } else {
                String::new()
            };
            format!("returned: {}{late}\n", clean(&loan.title))
        }
        (None, true) => "returned\n".to_owned(),
        (_, false) => "not on loan\n".to_owned(),
    };
    if let Some(damage) = &answer.damage {
        out.push_str(&format!("damaged: fee {}\n", yuan(damage.amount)));
    }
    if let Some(fine) = &answer.fine {
        out.push_str(&format!("{} open days late: fine {}\n", answer.open_days_late, yuan(fine.amount)));
    }
    if !answer.suspended_until.is_empty() {
        out.push_str(&format!("may not borrow until after {}\n", clean(&answer.suspended_until)));
    }
    out.push_str(&route_line(answer, schools));
    out
}

/// Where the book goes now, in words for the desk.
fn route_line(answer: &CheckInResponse, schools: &[School]) -> String {
    let school = |id: &str| {
        schools
            .iter()
            .find(|school| school.id == id)
            .map_or_else(|| clean(id), |school| format!("{} {}", clean(&school.code), clean(&school.name)))
    };
    let travelling = answer.transit.as_ref().filter(|transit| transit.received_time.is_none());
    let arrived = answer.transit.as_ref().is_some_and(|transit| transit.received_time.is_some());
    let mut out = if arrived { "arrived from another school: received\n".to_owned() } else { String::new() };
    match (answer.route(), travelling) {
        (CheckInRoute::HoldShelf, _) => {
            out.push_str("put it on the hold shelf: a reader is waiting for it\n")
        }
        (CheckInRoute::Transit, Some(transit)) => {
            let why =
                if transit.hold_id.is_empty() { "its own school" } else { "a reader waits for it there" };
            out.push_str(&format!(
                "put it in the transit bin for {} ({why})\n",
                school(&transit.to_school_id)
            ));
        }
        _ if answer.was_on_loan || arrived => out.push_str("put it back on the shelf\n"),
        _ => out.push_str("nothing to do\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use lectern_proto::circulation::v1::{Fee, RenewOutcome, Transit};
    use prost_types::Timestamp;

    use super::*;

    fn loan() -> Loan {
        Loan {
            title: "草房子".into(),
            copy_barcode: "C0001".into(),
            due_date: "2026-12-19".into(),
            due_at: Some(Timestamp { seconds: 1_000, nanos: 0 }),
            ..Loan::default()
        }
    }

    #[test]
    fn the_overdue_list_names_the_readers() {
        let reader = Reader {
            card_barcode: "R100001".into(),
            name: "王小明".into(),
            class_name: "三年级(1)班".into(),
            ..Reader::default()
        };
        let loans =
            vec![Loan { reader_id: "r1".into(), ..loan() }, Loan { reader_id: "r2".into(), ..loan() }];
        let readers = HashMap::from([("r1".to_owned(), Some(reader)), ("r2".to_owned(), None)]);
        let text = overdue_lines(&loans, &readers, 0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "DUE         CARD     NAME    CLASS        BARCODE  TITLE");
        assert_eq!(lines[1], "2026-12-19  R100001  王小明  三年级(1)班  C0001    草房子");
        assert_eq!(lines[2], "2026-12-19           r2                   C0001    草房子");
        assert_eq!(lines[3], "2 loans overdue");
        assert_eq!(overdue_lines(&[], &readers, 0), "no overdue loans\n");
        assert_eq!(overdue_lines(&[], &readers, 3), "nothing falls due within 3 days\n");
    }

    #[test]
    fn a_checkout_prints_title_and_due_day() {
        assert_eq!(checkout_lines(&loan()), "checked out: 草房子 (C0001)\ndue: 2026-12-19\n");
    }

    #[test]
    fn renewing_all_says_what_happened_to_each_loan() {
        let answer = RenewAllResponse {
            outcomes: vec![
                RenewOutcome { loan: Some(loan()), renewed: true, ..Default::default() },
                RenewOutcome {
                    loan: Some(Loan { copy_barcode: "C0002".into(), ..loan() }),
                    renewed: false,
                    refusal_reason: "RENEWAL_LIMIT_REACHED".into(),
                    refusal_message: "this loan was renewed 1 times".into(),
                },
            ],
        };
        let text = renew_all_lines(&answer);
        assert!(text.contains("C0001    草房子  2026-12-19  yes\n"), "{text}");
        assert!(text.contains("no: this loan was renewed 1 times (RENEWAL_LIMIT_REACHED)"), "{text}");
        assert!(text.ends_with("1 of 2 loans renewed\n"), "{text}");
        assert_eq!(renew_all_lines(&RenewAllResponse::default()), "nothing on loan\n");
    }

    #[test]
    fn a_checkin_says_what_happened() {
        let mut answer = CheckInResponse {
            was_on_loan: true,
            loan: Some(Loan { returned_at: Some(Timestamp { seconds: 999, nanos: 0 }), ..loan() }),
            route: CheckInRoute::Shelf.into(),
            ..Default::default()
        };
        assert_eq!(checkin_lines(&answer, &[]), "returned: 草房子\nput it back on the shelf\n");
        if let Some(loan) = answer.loan.as_mut() {
            loan.returned_at = Some(Timestamp { seconds: 2_000, nanos: 0 });
        }
        assert_eq!(
            checkin_lines(&answer, &[]),
            "returned: 草房子 (was overdue, due 2026-12-19)\nput it back on the shelf\n"
        );
        answer.open_days_late = 3;
        answer.fine = Some(Fee { amount: 30, ..Default::default() });
        answer.suspended_until = "2026-12-25".into();
        assert_eq!(
            checkin_lines(&answer, &[]),
            "returned: 草房子 (was overdue, due 2026-12-19)\n3 open days late: fine 0.30\n\
             may not borrow until after 2026-12-25\nput it back on the shelf\n"
        );
        let nothing = CheckInResponse { was_on_loan: false, ..Default::default() };
        assert_eq!(checkin_lines(&nothing, &[]), "not on loan\nnothing to do\n");
    }

    #[test]
    fn a_book_of_another_school_goes_home_or_to_a_waiting_reader() {
        let schools = [School {
            id: "s-1".into(),
            code: "XH-PRI".into(),
            name: "实验小学".into(),
            ..Default::default()
        }];
        let home = CheckInResponse {
            was_on_loan: true,
            loan: Some(Loan { returned_at: Some(Timestamp { seconds: 999, nanos: 0 }), ..loan() }),
            route: CheckInRoute::Transit.into(),
            transit: Some(Transit { to_school_id: "s-1".into(), ..Default::default() }),
            ..Default::default()
        };
        assert!(
            checkin_lines(&home, &schools)
                .ends_with("put it in the transit bin for XH-PRI 实验小学 (its own school)\n"),
            "{}",
            checkin_lines(&home, &schools)
        );
        let arrived = CheckInResponse {
            route: CheckInRoute::HoldShelf.into(),
            transit: Some(Transit { received_time: Some(Timestamp::default()), ..Default::default() }),
            hold: Some(Default::default()),
            ..Default::default()
        };
        assert_eq!(
            checkin_lines(&arrived, &schools),
            "not on loan\narrived from another school: received\nput it on the hold shelf: a reader is waiting for it\n"
        );
    }
}
