//! Readers at the desk: `reader add`, and what a card holder has out
//! (`loans`) and has been told (`notices`). A reader is always found by the
//! card barcode the desk scans.

use chrono::NaiveDate;
use lectern_proto::circulation::v1::{ListLoansRequest, Loan, LoanFilter};
use lectern_proto::notification::v1::ListNoticesRequest;
use lectern_proto::reader::v1::{CreateReaderRequest, LookupReaderRequest, Reader, SearchReadersRequest};

use super::Connection;
use super::desk::{Desk, all_pages, request_id, retrying};
use super::format::{here_day, here_minute, loan_due_day, utc};
use super::schools::{MAX_PAGES, school_id};
use super::table::{Table, clean};

/// `lectern reader …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ReaderCommand {
    /// Register a reader with a library card. 办理借书证
    #[command(
        after_help = "Example:\n  lectern reader add --school XH-PRI --card R100001 --name 王小明 --category student --expires 2027-07-31"
    )]
    Add(AddReaderArgs),
    /// Import a school's readers and classes from a roster (dry run unless --apply). 导入名单
    #[command(after_help = "Examples:\n  lectern reader import students.csv --school XH-PRI\n  \
        lectern reader import students.csv --school XH-PRI --apply\n  \
        lectern reader import ./oneroster-export --school XH-PRI --format oneroster --apply\n\n\
        Files may be UTF-8 or GB18030/GBK. See docs/roster-import.md for the columns.")]
    Import(super::roster::ImportArgs),
    /// Find a school's readers by part of the name, card or number. 查找读者
    #[command(after_help = "Example:\n  lectern reader find --school XH-PRI 王小")]
    Find {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// Only readers of this class id
        #[arg(long = "class", value_name = "CLASS_ID")]
        class_id: Option<String>,
        /// Part of the name, or a whole card barcode or student number
        query: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Export everything Lectern holds about a reader as JSON. 导出读者数据
    #[command(after_help = "Example:\n  lectern reader export R100001 --output R100001.json")]
    Export(super::privacy::ExportArgs),
    /// List the reader categories and their loan history rules. 读者类别
    Categories {
        #[command(flatten)]
        connection: Connection,
    },
    /// Erase a reader who owes nothing, everywhere. 注销并删除读者数据
    #[command(after_help = "Example:\n  lectern reader erase R100001 --yes")]
    Erase(super::privacy::EraseArgs),
    /// Make a one-time code a parent binds the card to their WeChat with. 绑定码
    #[command(after_help = "Example:\n  lectern reader binding-code R100003\n\n\
        For a parent who does not know the card's PIN. The code is shown once and\n\
        works once, for 14 days; a new code replaces one not yet used. Librarians\n\
        of the reader's school. See the bindings with `lectern binding list`.")]
    BindingCode(super::bindings::BindingCodeArgs),
}

/// `lectern reader add`.
#[derive(Debug, Clone, clap::Args)]
pub struct AddReaderArgs {
    /// The reader's home school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    school: String,
    /// The library card barcode
    #[arg(long, value_name = "BARCODE")]
    card: String,
    /// Full name as the school writes it, e.g. 王小明
    #[arg(long)]
    name: String,
    /// Reader category code: student, teacher, staff, other, or one the
    /// district added (see `lectern reader categories`); circulation rules
    /// and the loan history rule follow it
    #[arg(long, value_parser = parse_category)]
    category: String,
    /// The reader's class id (see `lectern class list`)
    #[arg(long = "class", value_name = "CLASS_ID")]
    class_id: Option<String>,
    /// Last day the card is valid, e.g. 2027-07-31 (default: no expiry)
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    expires: Option<NaiveDate>,
    /// Student or staff number in the school's own system (学籍号/工号)
    #[arg(long)]
    number: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

/// Options of `lectern loans`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern loans R100001\n  lectern loans R100001 --all")]
pub struct LoansArgs {
    /// The reader's library card barcode
    #[arg(value_name = "READER_CARD")]
    pub card: String,
    /// Also list returned loans (the reader's history)
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub connection: Connection,
}

/// Options of `lectern notices`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:\n  lectern notices R100001\n  lectern notices R100001 --language en")]
pub struct NoticesArgs {
    /// The reader's library card barcode
    #[arg(value_name = "READER_CARD")]
    pub card: String,
    /// Language of the notices: zh-CN (default, 中文) or en
    #[arg(long, default_value = "zh-CN", value_parser = parse_language)]
    pub language: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// A category code: letters, digits, "-" or "_" (whether the district has
/// it is the reader service's answer).
pub fn parse_category(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_lowercase();
    if code.is_empty()
        || code.len() > 32
        || !code.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        return Err(format!("{text:?} is not a category code like student or teacher"));
    }
    Ok(code)
}

/// A date "YYYY-MM-DD".
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date like 2027-07-31"))
}

/// A notice language: "zh-CN" (also "zh") or "en".
pub fn parse_language(text: &str) -> Result<String, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "zh" | "zh-cn" | "zh_cn" => Ok("zh-CN".to_owned()),
        "en" => Ok("en".to_owned()),
        _ => Err(format!("{text:?} is not a notice language: use zh-CN or en")),
    }
}

/// `lectern reader …`.
pub async fn run_reader(command: ReaderCommand) -> anyhow::Result<()> {
    let args = match command {
        ReaderCommand::Add(args) => args,
        ReaderCommand::Import(args) => return super::roster::import(args).await,
        ReaderCommand::Find { school, class_id, query, connection } => {
            return find(&school, class_id, &query, &connection).await;
        }
        ReaderCommand::Export(args) => return super::privacy::export(args).await,
        ReaderCommand::Erase(args) => return super::privacy::erase(args).await,
        ReaderCommand::Categories { connection } => return super::privacy::categories(&connection).await,
        ReaderCommand::BindingCode(args) => return super::bindings::run_binding_code(args).await,
    };
    let AddReaderArgs { school, card, name, category, class_id, expires, number, connection } = args;
    let desk = Desk::open(&connection).await?;
    let message = CreateReaderRequest {
        school_id: school_id(&desk, &school).await?,
        card_barcode: card,
        name,
        category,
        class_id: class_id.unwrap_or_default(),
        expires_on: expires.map(|day| day.to_string()).unwrap_or_default(),
        request_id: request_id(),
        number: number.unwrap_or_default(),
    };
    let client = desk.readers();
    let reader = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.create_reader(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    println!("reader registered: card {} (id {})", clean(&reader.card_barcode), reader.id);
    Ok(())
}

/// `lectern reader find`: a school's readers matching `query`, by name.
async fn find(
    school: &str,
    class_id: Option<String>,
    query: &str,
    connection: &Connection,
) -> anyhow::Result<()> {
    let desk = Desk::open(connection).await?;
    let school_id = school_id(&desk, school).await?;
    let message = SearchReadersRequest {
        school_id,
        query: query.to_owned(),
        class_id: class_id.unwrap_or_default(),
        page_size: 100,
        page_token: String::new(),
    };
    let found = desk
        .readers()
        .search_readers(desk.request(message))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    if found.readers.is_empty() {
        println!("no reader matches {}", clean(query));
        return Ok(());
    }
    let mut table = Table::new(&["CARD", "NAME", "NUMBER", "CLASS", "CATEGORY"]);
    for reader in &found.readers {
        table.row(vec![
            reader.card_barcode.clone(),
            reader.name.clone(),
            reader.number.clone(),
            reader.class_name.clone(),
            reader.category.clone(),
        ]);
    }
    print!("{}", table.render(""));
    if !found.next_page_token.is_empty() {
        println!("(more readers match: narrow the search)");
    }
    Ok(())
}

/// The reader holding a card.
pub(super) async fn lookup(desk: &Desk, card: &str) -> anyhow::Result<Reader> {
    let message = LookupReaderRequest { card_barcode: card.trim().to_owned() };
    Ok(desk
        .readers()
        .lookup_reader(desk.request(message))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner())
}

/// "R100001 王小明, 三年级(1)班" — who the listing is about.
pub fn reader_heading(reader: &Reader) -> String {
    let mut heading = format!("{} {}", reader.card_barcode, reader.name);
    if !reader.class_name.is_empty() {
        heading.push_str(&format!(", {}", reader.class_name));
    }
    clean(&heading)
}

/// `lectern loans`.
pub async fn loans(args: LoansArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let reader = lookup(&desk, &args.card).await?;
    let filter = if args.all { LoanFilter::All } else { LoanFilter::Open };
    let client = desk.loans();
    let loans = all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let call = desk.request(ListLoansRequest {
            reader_id: reader.id.clone(),
            filter: filter as i32,
            page_size: 500,
            page_token,
        });
        async move {
            let page = client.list_loans(call).await?.into_inner();
            Ok((page.loans, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    println!("{}", reader_heading(&reader));
    if loans.is_empty() {
        println!("  {}", if args.all { "no loans yet" } else { "nothing on loan" });
        return Ok(());
    }
    print!("{}", loans_table(&loans, here_day).render("  "));
    Ok(())
}

/// Loans as a table; `day` writes a time as a local day.
fn loans_table(loans: &[Loan], day: impl Fn(chrono::DateTime<chrono::Utc>) -> String) -> Table {
    let mut table = Table::new(&["BARCODE", "TITLE", "BORROWED", "DUE", "STATUS"]);
    for loan in loans {
        let borrowed = loan
            .checked_out_at
            .as_ref()
            .and_then(|at| utc(at.seconds, at.nanos))
            .map(&day)
            .unwrap_or_default();
        let returned = loan.returned_at.as_ref().and_then(|at| utc(at.seconds, at.nanos));
        let state = match returned {
            Some(at) => format!("returned {}", day(at)),
            None if loan.overdue => "OVERDUE".to_owned(),
            None => "on loan".to_owned(),
        };
        table.row(vec![loan.copy_barcode.clone(), loan.title.clone(), borrowed, loan_due_day(loan), state]);
    }
    table
}

/// `lectern notices`.
pub async fn notices(args: NoticesArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let reader = lookup(&desk, &args.card).await?;
    let client = desk.notifications();
    let notices = all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let call = desk.request(ListNoticesRequest {
            reader_id: reader.id.clone(),
            language: args.language.clone(),
            page_size: 500,
            page_token,
        });
        async move {
            let page = client.list_notices(call).await?.into_inner();
            Ok((page.notices, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    println!("{}", reader_heading(&reader));
    if notices.is_empty() {
        println!("  no notices");
        return Ok(());
    }
    let mut table = Table::new(&["WHEN", "NOTICE"]);
    for notice in notices {
        let when = notice
            .create_time
            .as_ref()
            .and_then(|at| utc(at.seconds, at.nanos))
            .map(here_minute)
            .unwrap_or_default();
        table.row(vec![when, notice.message]);
    }
    print!("{}", table.render("  "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use prost_types::Timestamp;

    use super::*;

    #[test]
    fn inputs_are_checked_before_calling() {
        assert_eq!(parse_date("2027-07-31"), Ok(NaiveDate::from_ymd_opt(2027, 7, 31).unwrap()));
        assert!(parse_date("2027-02-30").is_err());
        assert_eq!(parse_language("zh").as_deref(), Ok("zh-CN"));
        assert_eq!(parse_language("EN").as_deref(), Ok("en"));
        assert!(parse_language("fr").is_err());
    }

    #[test]
    fn the_heading_names_card_reader_and_class() {
        let mut reader =
            Reader { card_barcode: "R100001".into(), name: "王小明".into(), ..Reader::default() };
        assert_eq!(reader_heading(&reader), "R100001 王小明");
        reader.class_name = "三年级(1)班".into();
        assert_eq!(reader_heading(&reader), "R100001 王小明, 三年级(1)班");
    }

    #[test]
    fn loans_show_due_day_and_state() {
        let stamp = |seconds| Some(Timestamp { seconds, nanos: 0 });
        let open = Loan {
            copy_barcode: "C0001".into(),
            title: "草房子".into(),
            checked_out_at: stamp(86_400),
            due_date: "1970-01-15".into(),
            overdue: true,
            ..Loan::default()
        };
        let returned = Loan {
            copy_barcode: "C0002".into(),
            title: "Charlotte's Web".into(),
            checked_out_at: stamp(86_400),
            due_date: "1970-01-15".into(),
            returned_at: stamp(3 * 86_400),
            ..Loan::default()
        };
        let day = |time: chrono::DateTime<chrono::Utc>| time.format("%Y-%m-%d").to_string();
        let text = loans_table(&[open, returned], day).render("");
        assert_eq!(
            text,
            "BARCODE  TITLE            BORROWED    DUE         STATUS\n\
             C0001    草房子           1970-01-02  1970-01-15  OVERDUE\n\
             C0002    Charlotte's Web  1970-01-02  1970-01-15  returned 1970-01-04\n"
        );
    }
}
