//! `lectern notices`: the notices a reader was sent (`lectern notices
//! R100001`, in `readers.rs`), and the school's reminders — what is due
//! today and who it goes to (`send-due`, with `--dry-run` to only look),
//! the delivery log (`deliveries`), and the overdue lists the homeroom
//! teachers get on paper (`homeroom-lists`, one page per class).

use std::collections::{BTreeMap, HashMap};

use anyhow::bail;
use chrono::NaiveDate;
use lectern_proto::circulation::v1::{ListOverdueLoansRequest, Loan};
use lectern_proto::notification::v1::{
    Channel, Delivery, DeliveryState, DueReminder, ListDeliveriesRequest, Recipient, SendDueRemindersRequest,
    SendDueRemindersResponse, Trigger,
};
use lectern_proto::reader::v1::{Class, GetReaderRequest, ListClassesRequest, ListReadersRequest, School};

use super::Connection;
use super::desk::{Desk, all_pages};
use super::format::{here_minute, utc};
use super::readers::{self, parse_language};
use super::schools::{MAX_PAGES, SchoolArg, all_schools, find_by_code, school_id};
use super::table::{Table, clean};

/// Options of `lectern notices`: a subcommand, or a reader's card.
#[derive(Debug, Clone, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  lectern notices R100001                        # what a reader was sent\n  \
    lectern notices send-due --dry-run             # what would go out today\n  \
    lectern notices deliveries --school XH-PRI --state failed\n  \
    lectern notices homeroom-lists --school XH-PRI | lp   # one page per class"
)]
pub struct NoticesArgs {
    #[command(subcommand)]
    pub command: Option<NoticesCommand>,
    /// The reader's library card barcode, to list the notices they were sent
    #[arg(value_name = "READER_CARD")]
    pub card: Option<String>,
    /// Language of the reader's notices: zh-CN (default, 中文) or en
    #[arg(long, default_value = "zh-CN", value_parser = parse_language)]
    pub language: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern notices …` for a school.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum NoticesCommand {
    /// The reminders due today and who gets them; sends them unless --dry-run. 今日提醒
    SendDue(SendDueArgs),
    /// The delivery log of a school: what went out, what failed and why. 发送记录
    Deliveries(DeliveriesArgs),
    /// The overdue books of each homeroom, one printed page per class. 班级逾期清单
    HomeroomLists(HomeroomListsArgs),
}

/// Options of `lectern notices send-due`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern notices send-due --dry-run\n  \
    lectern notices send-due --school XH-PRI")]
pub struct SendDueArgs {
    /// Only this school: its code (XH-PRI) or id (without it: every school, for district admins)
    #[arg(long, value_name = "SCHOOL")]
    pub school: Option<String>,
    /// Only list what is due: nothing is made or sent
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub connection: Connection,
}

/// Options of `lectern notices deliveries`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern notices deliveries --school XH-PRI\n  \
    lectern notices deliveries --school XH-PRI --state failed")]
pub struct DeliveriesArgs {
    /// The school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    pub school: String,
    /// Only deliveries in this state
    #[arg(long, value_enum)]
    pub state: Option<StateArg>,
    /// At most this many, newest first
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i32).range(1..=5000))]
    pub limit: i32,
    #[command(flatten)]
    pub connection: Connection,
}

/// A delivery state on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StateArg {
    Pending,
    Sent,
    Failed,
    Dead,
    Cancelled,
}

impl From<StateArg> for DeliveryState {
    fn from(state: StateArg) -> Self {
        match state {
            StateArg::Pending => Self::Pending,
            StateArg::Sent => Self::Sent,
            StateArg::Failed => Self::Failed,
            StateArg::Dead => Self::Dead,
            StateArg::Cancelled => Self::Cancelled,
        }
    }
}

/// Options of `lectern notices homeroom-lists`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern notices homeroom-lists --school XH-PRI | lp\n  \
    lectern notices homeroom-lists --school XH-PRI --class '三年级(2)班'\n\n\
    Classes are separated by a form feed, so a printer starts each on a new page.")]
pub struct HomeroomListsArgs {
    /// The school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    pub school: String,
    /// Only this class, by its name (e.g. 三年级(2)班)
    #[arg(long = "class", value_name = "NAME")]
    pub class: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern notices …`.
pub async fn run_notices(args: NoticesArgs) -> anyhow::Result<()> {
    let NoticesArgs { command, card, language, connection } = args;
    let Some(command) = command else {
        let Some(card) = card else {
            bail!(
                "give a reader's card (lectern notices R100001) or one of send-due, deliveries, homeroom-lists"
            );
        };
        return readers::notices(readers::NoticesArgs { card, language, connection }).await;
    };
    let text = match &command {
        NoticesCommand::SendDue(args) => send_due(&Desk::open(&args.connection).await?, args).await?,
        NoticesCommand::Deliveries(args) => deliveries(&Desk::open(&args.connection).await?, args).await?,
        NoticesCommand::HomeroomLists(args) => {
            let today = chrono::Local::now().date_naive();
            homeroom_lists(&Desk::open(&args.connection).await?, args, today).await?
        }
    };
    print!("{text}");
    Ok(())
}

/// `lectern notices send-due`: asks for (or with `--dry-run` only lists)
/// today's reminders and answers the text to print.
pub async fn send_due(desk: &Desk, args: &SendDueArgs) -> anyhow::Result<String> {
    let school_id = match &args.school {
        Some(school) => school_id(desk, school).await?,
        None => String::new(),
    };
    let answer = desk
        .reminders()
        .send_due_reminders(desk.request(SendDueRemindersRequest { school_id, dry_run: args.dry_run }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    let schools = if answer.reminders.is_empty() { Vec::new() } else { all_schools(desk).await? };
    Ok(due_lines(&answer, &schools, args.dry_run))
}

/// What is due, as a table and a summary line.
fn due_lines(answer: &SendDueRemindersResponse, schools: &[School], dry_run: bool) -> String {
    let mut out = String::new();
    if !answer.reminders.is_empty() {
        let mut table = Table::new(&["SCHOOL", "CLASS", "READER", "TITLE", "DUE", "REMINDER", "TO"]);
        for reminder in &answer.reminders {
            table.row(due_row(reminder, schools));
        }
        out.push_str(&table.render(""));
    }
    let day = if answer.day.is_empty() { String::new() } else { format!(" ({})", clean(&answer.day)) };
    out.push_str(&format!(
        "{} due today{day}, {} already returned",
        count(answer.reminders.len(), "reminder"),
        count(usize::try_from(answer.skipped_returned).unwrap_or(0), "loan"),
    ));
    if dry_run {
        out.push_str("; dry run: nothing was sent\n");
    } else {
        let queued = usize::try_from(answer.deliveries_queued).unwrap_or(0);
        out.push_str(&format!("; {} handed to the channels\n", count(queued, "message")));
    }
    out
}

fn due_row(reminder: &DueReminder, schools: &[School]) -> Vec<String> {
    let school = schools
        .iter()
        .find(|school| school.id == reminder.school_id)
        .map_or_else(|| reminder.school_id.clone(), |school| school.code.clone());
    let recipients: Vec<String> = reminder
        .messages
        .iter()
        .map(|message| {
            let whom =
                format!("{}/{}", recipient_words(message.recipient()), channel_words(message.channel()));
            if message.address.is_empty() { whom } else { format!("{whom} {}", message.address) }
        })
        .collect();
    vec![
        school,
        dash(&reminder.class_name),
        dash(&reminder.reader_name),
        dash(&reminder.title),
        dash(&reminder.due_date),
        trigger_words(reminder.trigger()).to_owned(),
        recipients.join("; "),
    ]
}

/// `lectern notices deliveries`: a school's delivery log, newest first.
pub async fn deliveries(desk: &Desk, args: &DeliveriesArgs) -> anyhow::Result<String> {
    let school_id = school_id(desk, &args.school).await?;
    let state = args.state.map(DeliveryState::from).unwrap_or(DeliveryState::Unspecified);
    let limit = usize::try_from(args.limit).unwrap_or(100);
    let client = desk.reminders();
    let mut found = Vec::new();
    let mut page_token = String::new();
    for _ in 0..MAX_PAGES {
        let request = desk.request(ListDeliveriesRequest {
            school_id: school_id.clone(),
            state: state.into(),
            reader_id: String::new(),
            page_size: i32::try_from(limit.saturating_sub(found.len()).min(500)).unwrap_or(500),
            page_token,
        });
        let page =
            client.clone().list_deliveries(request).await.map_err(|status| desk.fail(status))?.into_inner();
        found.extend(page.deliveries);
        if page.next_page_token.is_empty() || found.len() >= limit {
            break;
        }
        page_token = page.next_page_token;
    }
    found.truncate(limit);
    Ok(delivery_lines(&found))
}

/// The delivery log as a table.
fn delivery_lines(deliveries: &[Delivery]) -> String {
    if deliveries.is_empty() {
        return "no deliveries\n".to_owned();
    }
    let mut table = Table::new(&[
        "MADE",
        "READER",
        "REMINDER",
        "TO",
        "CHANNEL",
        "ADDRESS",
        "STATE",
        "TRIES",
        "SENT / LAST ERROR",
    ]);
    for delivery in deliveries {
        let when = |time: Option<&prost_types::Timestamp>| {
            time.and_then(|time| utc(time.seconds, time.nanos)).map(here_minute)
        };
        let outcome = match delivery.state() {
            DeliveryState::Sent => when(delivery.sent_time.as_ref()).unwrap_or_default(),
            DeliveryState::Pending | DeliveryState::Failed if !delivery.last_error.is_empty() => format!(
                "{} (next {})",
                delivery.last_error,
                when(delivery.next_attempt_time.as_ref()).unwrap_or_else(|| "-".to_owned())
            ),
            DeliveryState::Pending => when(delivery.next_attempt_time.as_ref())
                .map(|at| format!("waits until {at}"))
                .unwrap_or_default(),
            _ => delivery.last_error.clone(),
        };
        table.row(vec![
            when(delivery.create_time.as_ref()).unwrap_or_else(|| "-".to_owned()),
            dash(&delivery.reader_name),
            trigger_words(delivery.trigger()).to_owned(),
            recipient_words(delivery.recipient()).to_owned(),
            channel_words(delivery.channel()).to_owned(),
            dash(&delivery.address),
            state_words(delivery.state()).to_owned(),
            delivery.attempts.to_string(),
            dash(&outcome),
        ]);
    }
    format!("{}{}\n", table.render(""), count(deliveries.len(), "delivery"))
}

/// `lectern notices homeroom-lists`: each class's overdue books on `today`,
/// one block per class, separated by form feeds.
pub async fn homeroom_lists(
    desk: &Desk,
    args: &HomeroomListsArgs,
    today: NaiveDate,
) -> anyhow::Result<String> {
    let schools = all_schools(desk).await?;
    let school = match SchoolArg::parse(&args.school) {
        SchoolArg::Id(id) => schools.iter().find(|school| school.id == id),
        SchoolArg::Code(code) => find_by_code(&schools, &code),
    };
    let Some(school) = school.cloned() else {
        bail!("no school {:?}: `lectern school list` shows them", args.school.trim());
    };
    let mut classes = classes_of(desk, &school.id).await?;
    if let Some(name) = &args.class {
        classes.retain(|class| class.name.trim() == name.trim());
        if classes.is_empty() {
            bail!("{} has no class named {:?}: `lectern class list` shows them", school.code, name.trim());
        }
    }
    classes.sort_by(|a, b| (a.grade, &a.name, &a.school_year).cmp(&(b.grade, &b.name, &b.school_year)));
    let mut pages = Vec::new();
    for class in &classes {
        let loans = overdue_of_class(desk, &school.id, &class.id).await?;
        // The whole school: only classes with overdue books get a page.
        if loans.is_empty() && args.class.is_none() {
            continue;
        }
        let names = names_of(desk, &school.id, &class.id, &loans).await?;
        pages.push(homeroom_page(&school, class, &loans, &names, today));
    }
    if pages.is_empty() {
        return Ok(format!("{} has no overdue books on {today}\n", school.name));
    }
    Ok(pages.join("\x0c"))
}

/// Every class of the school, of every school year.
async fn classes_of(desk: &Desk, school_id: &str) -> anyhow::Result<Vec<Class>> {
    let client = desk.readers();
    all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let call = desk.request(ListClassesRequest {
            school_id: school_id.to_owned(),
            school_year: String::new(),
            page_size: 500,
            page_token,
        });
        async move {
            let page = client.list_classes(call).await?.into_inner();
            Ok((page.classes, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))
}

/// The overdue loans of readers who were in `class_id` when borrowing.
async fn overdue_of_class(desk: &Desk, school_id: &str, class_id: &str) -> anyhow::Result<Vec<Loan>> {
    let client = desk.loans();
    all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let call = desk.request(ListOverdueLoansRequest {
            school_id: school_id.to_owned(),
            class_id: class_id.to_owned(),
            due_within_days: 0,
            page_size: 500,
            page_token,
        });
        async move {
            let page = client.list_overdue_loans(call).await?.into_inner();
            Ok((page.loans, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))
}

/// Up to this many readers, reading each is fewer calls than listing the class.
const FEW_READERS: usize = 12;

/// The names of the loans' readers, by id: from the class's reader list
/// when there are many, then one by one for those not found there (a
/// reader who changed class since borrowing). A reader who cannot be read
/// is left out (the list shows the row without a name rather than no list).
async fn names_of(
    desk: &Desk,
    school_id: &str,
    class_id: &str,
    loans: &[Loan],
) -> anyhow::Result<HashMap<String, String>> {
    let mut wanted: Vec<&str> =
        loans.iter().map(|loan| loan.reader_id.as_str()).filter(|id| !id.is_empty()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut names = HashMap::new();
    if wanted.len() > FEW_READERS {
        let client = desk.readers();
        let readers = all_pages(MAX_PAGES, |page_token| {
            let mut client = client.clone();
            let call = desk.request(ListReadersRequest {
                school_id: school_id.to_owned(),
                class_id: class_id.to_owned(),
                page_size: 500,
                page_token,
            });
            async move {
                let page = client.list_readers(call).await?.into_inner();
                Ok((page.readers, page.next_page_token))
            }
        })
        .await
        .map_err(|status| desk.fail(status))?;
        names.extend(readers.into_iter().map(|reader| (reader.id, reader.name)));
    }
    for id in wanted {
        if names.contains_key(id) {
            continue;
        }
        let answer = desk.readers().get_reader(desk.request(GetReaderRequest { id: id.to_owned() })).await;
        if let Ok(reader) = answer {
            let reader = reader.into_inner();
            names.insert(reader.id, reader.name);
        }
    }
    Ok(names)
}

/// One class's page: a heading, each child (by name) with their overdue
/// books (by due day), and a count.
fn homeroom_page(
    school: &School,
    class: &Class,
    loans: &[Loan],
    names: &HashMap<String, String>,
    today: NaiveDate,
) -> String {
    let mut out = format!("{} {} 逾期图书 {today}\n\n", clean(&school.name), clean(&class.name));
    if loans.is_empty() {
        out.push_str("没有逾期图书\n");
        return out;
    }
    // (name, reader id) → loans, so two children of one name stay apart.
    let mut by_child: BTreeMap<(String, &str), Vec<&Loan>> = BTreeMap::new();
    for loan in loans {
        let name = names.get(&loan.reader_id).cloned().unwrap_or_default();
        by_child.entry((name, loan.reader_id.as_str())).or_default().push(loan);
    }
    let mut table = Table::new(&["姓名", "书名", "应还日期", "逾期天数"]);
    for ((name, _), mut books) in by_child.iter().map(|(key, books)| (key, books.clone())) {
        books.sort_by(|a, b| (&a.due_date, &a.title).cmp(&(&b.due_date, &b.title)));
        for (index, loan) in books.iter().enumerate() {
            let late = NaiveDate::parse_from_str(&loan.due_date, "%Y-%m-%d")
                .map(|due| format!("{} 天", (today - due).num_days().max(0)))
                .unwrap_or_else(|_| "-".to_owned());
            let who = if index == 0 { dash(name) } else { String::new() };
            table.row(vec![who, loan.title.clone(), dash(&loan.due_date), late]);
        }
    }
    out.push_str(&table.render(""));
    out.push_str(&format!("\n共 {} 名学生，{} 本逾期图书\n", by_child.len(), loans.len()));
    out
}

/// "1 reminder", "3 reminders"; "delivery" becomes "deliveries".
fn count(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {noun}s"),
    }
}

/// The text, or "-" for nothing.
fn dash(text: &str) -> String {
    if text.is_empty() { "-".to_owned() } else { text.to_owned() }
}

/// A trigger as the desk says it.
fn trigger_words(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::DueSoon => "due soon",
        Trigger::DueToday => "due today",
        Trigger::Overdue1 => "1st overdue",
        Trigger::Overdue2 => "2nd overdue",
        Trigger::Overdue3 => "3rd overdue",
        Trigger::HoldReady => "hold ready",
        Trigger::HoldExpiring => "hold expiring",
        Trigger::FeeCharged => "fee charged",
        Trigger::LoanLost => "book lost",
        Trigger::Unspecified => "-",
    }
}

fn recipient_words(recipient: Recipient) -> &'static str {
    match recipient {
        Recipient::Reader => "reader",
        Recipient::Guardian => "guardian",
        Recipient::HomeroomTeacher => "homeroom teacher",
        Recipient::Unspecified => "-",
    }
}

fn channel_words(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::InApp => "in-app",
        Channel::Webhook => "webhook",
        Channel::Unspecified => "-",
    }
}

fn state_words(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Pending => "pending",
        DeliveryState::Sent => "sent",
        DeliveryState::Failed => "failed",
        DeliveryState::Dead => "dead",
        DeliveryState::Cancelled => "cancelled",
        DeliveryState::Unspecified => "-",
    }
}

#[cfg(test)]
mod tests {
    use lectern_proto::notification::v1::PlannedMessage;

    use super::*;

    fn school() -> School {
        School {
            id: "s1".into(), code: "XH-PRI".into(), name: "徐汇实验小学".into(), ..Default::default()
        }
    }

    #[test]
    fn what_is_due_reads_as_a_table_and_a_summary() {
        let reminder = DueReminder {
            school_id: "s1".into(),
            trigger: Trigger::Overdue1.into(),
            reader_name: "王小明".into(),
            class_name: "三年级(2)班".into(),
            title: "草房子".into(),
            due_date: "2026-09-14".into(),
            messages: vec![
                PlannedMessage {
                    recipient: Recipient::Reader.into(),
                    channel: Channel::InApp.into(),
                    address: String::new(),
                },
                PlannedMessage {
                    recipient: Recipient::Guardian.into(),
                    channel: Channel::Email.into(),
                    address: "wang.mama@example.cn".into(),
                },
            ],
            ..Default::default()
        };
        let answer = SendDueRemindersResponse {
            reminders: vec![reminder],
            skipped_returned: 3,
            deliveries_queued: 0,
            day: "2026-09-15".into(),
        };
        let text = due_lines(&answer, &[school()], true);
        assert!(text.contains("XH-PRI"), "{text}");
        assert!(text.contains("1st overdue"), "{text}");
        assert!(text.contains("reader/in-app; guardian/email wang.mama@example.cn"), "{text}");
        assert!(
            text.ends_with(
                "1 reminder due today (2026-09-15), 3 loans already returned; dry run: nothing was sent\n"
            ),
            "{text}"
        );
        let sent = SendDueRemindersResponse { deliveries_queued: 2, ..answer };
        assert!(due_lines(&sent, &[school()], false).ends_with("; 2 messages handed to the channels\n"));
    }

    #[test]
    fn a_homeroom_page_lists_each_child_with_their_overdue_books() {
        let class = Class { id: "c1".into(), name: "三年级(2)班".into(), grade: 3, ..Default::default() };
        let loan = |reader: &str, title: &str, due: &str| Loan {
            reader_id: reader.into(),
            title: title.into(),
            due_date: due.into(),
            overdue: true,
            ..Default::default()
        };
        let loans = [
            loan("r2", "夏洛的网", "2026-09-10"),
            loan("r1", "草房子", "2026-09-01"),
            loan("r2", "小王子", "2026-09-01"),
        ];
        let names =
            HashMap::from([("r1".to_owned(), "李小红".to_owned()), ("r2".to_owned(), "王小明".to_owned())]);
        let today = NaiveDate::from_ymd_opt(2026, 9, 15).unwrap();
        let page = homeroom_page(&school(), &class, &loans, &names, today);
        assert!(page.starts_with("徐汇实验小学 三年级(2)班 逾期图书 2026-09-15\n"), "{page}");
        let lines: Vec<&str> = page.lines().collect();
        assert!(
            lines[3].starts_with("李小红") && lines[3].contains("草房子") && lines[3].ends_with("14 天"),
            "{page}"
        );
        assert!(lines[4].starts_with("王小明") && lines[4].contains("小王子"), "{page}");
        assert!(lines[5].trim_start().starts_with("夏洛的网") && lines[5].ends_with("5 天"), "{page}");
        assert!(page.ends_with("共 2 名学生，3 本逾期图书\n"), "{page}");
    }

    #[test]
    fn counts_read_as_english() {
        assert_eq!(count(1, "delivery"), "1 delivery");
        assert_eq!(count(2, "delivery"), "2 deliveries");
        assert_eq!(count(0, "loan"), "0 loans");
    }
}
