//! The desk commands of `lectern`: what a librarian types at the circulation
//! desk or in a script — sign in, add schools, classes, readers, titles and
//! copies, search, check out, check in, and look at a reader's loans and
//! notices. Every command is an ordinary gRPC client of the gateway, with
//! the token saved by `lectern login`; none of them touches a database.
//!
//! `main.rs` flattens [`DeskCommand`] into the top-level command and calls
//! [`run`]; an error returned from `run` is the line to print before exiting
//! non-zero.

// `lectern reader binding-code`, `lectern binding list | remove` (WeChat).
mod bindings;
mod calendar;
mod catalog;
mod circulation;
mod desk;
mod devices;
mod format;
mod holds;
mod login;
// `lectern catalog import | export | intake` (MARC).
mod marc;
// `lectern notices`: a reader's notices, and the school's reminders.
mod notices;
mod privacy;
mod readers;
mod reports;
mod roster;
mod rules;
mod school_year;
mod schools;
mod session;
mod shelves;
mod staff;
mod status;
mod stocktake;
mod summary;
mod table;
mod transits;

pub use bindings::{
    BindingCodeArgs, BindingCommand, ListBindingsArgs, RemoveBindingArgs, binding_code, list_bindings,
    remove_binding,
};
pub use catalog::{CopyCommand, SearchArgs, TitleCommand};
pub use circulation::{CheckinArgs, CheckoutArgs, OverdueArgs, RenewArgs};
// `Desk`, `sign_in` and `sign_out` take the session file and the time as
// arguments, so the suite tests drive them with their own file and clock.
pub use calendar::CalendarCommand;
pub use desk::Desk;
pub use devices::DeviceCommand;
pub use holds::{HoldCommand, PullListArgs};
pub use login::{LoginArgs, sign_in, sign_out};
pub use marc::CatalogCommand;
pub use notices::{
    DeliveriesArgs, HomeroomListsArgs, NoticesArgs, NoticesCommand, SendDueArgs, deliveries, homeroom_lists,
    send_due,
};
pub use readers::{LoansArgs, ReaderCommand};
pub use reports::ReportArgs;
pub use rules::{ExplainArgs, RulesCommand};
pub use school_year::{YearEndArgs, year_end};
pub use schools::{ClassCommand, SchoolCommand};
pub use shelves::ShelfCommand;
pub use staff::StaffCommand;
pub use stocktake::{StocktakeCommand, stocktake};
pub use summary::SummaryArgs;
pub use transits::TransitCommand;

/// Which Lectern to talk to; every command that calls the server takes it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Connection {
    /// The gateway's URL (`--server`, or LECTERN_SERVER).
    #[arg(
        long,
        env = "LECTERN_SERVER",
        value_name = "URL",
        help = "The Lectern gateway, e.g. http://lectern.example.edu:50051 \
                (default: where you signed in, else http://127.0.0.1:50051)"
    )]
    pub server: Option<String>,
}

/// The desk commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DeskCommand {
    /// Sign in with your staff account (the session is renewed by itself until it ends). 登录
    #[command(after_help = "Examples:\n  lectern login --username li.lan\n  \
        LECTERN_PASSWORD=... lectern login -u li.lan --server http://lectern.district.example:50051\n\n\
        The password is asked without echo, or read from LECTERN_PASSWORD.\n\
        After a first sign-in with a one-time password you choose a new one\n\
        (asked twice, or read from LECTERN_NEW_PASSWORD).\n\
        The session is saved in LECTERN_SESSION_FILE, default\n\
        ~/.config/lectern/session.json, readable by you only. Its access\n\
        token is renewed by itself, so you sign in again only when the session\n\
        ends (12 hours after signing in for staff; `lectern whoami` shows when).")]
    Login(LoginArgs),
    /// Sign out: end the session at the server and forget it here. 退出登录
    Logout,
    /// Show who is signed in, at which server, and until when the session can be renewed. 当前用户
    Whoami {
        #[command(flatten)]
        connection: Connection,
    },
    /// Schools of the district: add, list, year-end promotion. 学校
    #[command(subcommand)]
    School(SchoolCommand),
    /// Staff accounts and the schools they work for (district admins). 馆员
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Classes (homerooms) of a school: add, list. 班级
    #[command(subcommand)]
    Class(ClassCommand),
    /// Readers: register a library card. 读者
    #[command(subcommand)]
    Reader(ReaderCommand),
    /// WeChat accounts bound to readers: list, remove. 微信绑定
    #[command(subcommand)]
    Binding(BindingCommand),
    /// Titles (bibliographic records): catalog a book. 书目
    #[command(subcommand)]
    Title(TitleCommand),
    /// Copies (the books on the shelves): add one. 馆藏
    #[command(subcommand)]
    Copy(Box<CopyCommand>),
    /// Shelf locations of a school, and walking the shelves. 书架
    #[command(subcommand)]
    Shelf(ShelfCommand),
    /// A school's library calendar: closed weekdays, holidays, term breaks, terms. 校历
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Search the catalog by ISBN, title or author, with availability. 检索
    Search(SearchArgs),
    /// Circulation rules: loan periods, limits, fines and blocks by school, reader category and item type. 借阅规则
    #[command(subcommand)]
    Rules(Box<RulesCommand>),
    /// What the desk sees for a card: loans, holds, fees owed, and what blocks borrowing. 读者概览
    Summary(SummaryArgs),
    /// Lend a book to a reader: scan the card, then the book. 借书
    Checkout(CheckoutArgs),
    /// Which rule applies to a reader and a book, and whether a check-out would lend it. 借阅判定
    Explain(ExplainArgs),
    /// Take a book back: scan it. 还书
    Checkin(CheckinArgs),
    /// Renew a loan (scan the book), or all of a reader's loans. 续借
    Renew(RenewArgs),
    /// Holds: place one for a reader, list a reader's, cancel one. 预约
    #[command(subcommand)]
    Hold(HoldCommand),
    /// Copies on a school's shelves that waiting holds could use. 预约取书单
    PullList(PullListArgs),
    /// Books travelling between schools: returned elsewhere, or sent for a hold. 在途图书
    #[command(subcommand)]
    Transit(TransitCommand),
    /// A school's reading report: loans by month, grade and class, top titles, classes, active readers. 阅读报表
    Report(ReportArgs),
    /// A school's overdue loans, or those falling due soon, with who has them. 逾期清单
    Overdue(OverdueArgs),
    /// What a reader has on loan (or has borrowed, with --all). 借阅记录
    Loans(LoansArgs),
    /// The notices a reader was sent; a school's reminders: what is due, the delivery log, homeroom lists. 通知与提醒
    Notices(NoticesArgs),
    /// Self-service kiosks and SIP2 machines: add, list, settings, disable. 自助设备
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Stocktake: count the shelves against the catalog, then mark what is missing. 盘点
    #[command(subcommand)]
    Stocktake(StocktakeCommand),
    /// MARC files: import (MARC21, CNMARC), export a school's holdings, catalogue by ISBN scan. MARC 编目
    #[command(subcommand)]
    Catalog(CatalogCommand),
}

/// Runs one desk command.
pub async fn run(command: DeskCommand) -> anyhow::Result<()> {
    match command {
        DeskCommand::Login(args) => login::login(args).await,
        DeskCommand::Logout => login::logout().await,
        DeskCommand::Whoami { connection } => login::whoami(connection).await,
        DeskCommand::School(command) => schools::run_school(command).await,
        DeskCommand::Staff(command) => staff::run_staff(command).await,
        DeskCommand::Class(command) => schools::run_class(command).await,
        DeskCommand::Reader(command) => readers::run_reader(command).await,
        DeskCommand::Binding(command) => bindings::run_binding(command).await,
        DeskCommand::Title(command) => catalog::run_title(command).await,
        DeskCommand::Copy(command) => catalog::run_copy(*command).await,
        DeskCommand::Shelf(command) => shelves::run_shelf(command).await,
        DeskCommand::Calendar(command) => calendar::run_calendar(command).await,
        DeskCommand::Search(args) => catalog::search(args).await,
        DeskCommand::Rules(command) => rules::run_rules(*command).await,
        DeskCommand::Summary(args) => summary::summary(args).await,
        DeskCommand::Checkout(args) => circulation::checkout(args).await,
        DeskCommand::Explain(args) => rules::explain(args).await,
        DeskCommand::Checkin(args) => circulation::checkin(args).await,
        DeskCommand::Renew(args) => circulation::renew(args).await,
        DeskCommand::Hold(command) => holds::run_hold(command).await,
        DeskCommand::PullList(args) => holds::pull_list(args).await,
        DeskCommand::Transit(command) => transits::run_transit(command).await,
        DeskCommand::Report(args) => reports::report(args).await,
        DeskCommand::Overdue(args) => circulation::overdue(args).await,
        DeskCommand::Loans(args) => readers::loans(args).await,
        DeskCommand::Notices(args) => notices::run_notices(args).await,
        DeskCommand::Device(command) => devices::run_device(command).await,
        DeskCommand::Stocktake(command) => stocktake::run_stocktake(command).await,
        DeskCommand::Catalog(command) => marc::run_catalog(command).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, Parser as _};

    use super::*;

    #[derive(Debug, clap::Parser)]
    #[command(name = "lectern")]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    // As main.rs does it: the desk commands flattened among others.
    #[derive(Debug, clap::Subcommand)]
    enum Top {
        #[command(flatten)]
        Desk(DeskCommand),
        Up,
    }

    fn parse(args: &[&str]) -> Result<DeskCommand, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("lectern").chain(args.iter().copied()))?;
        match cli.command {
            Top::Desk(command) => Ok(command),
            Top::Up => panic!("not a desk command"),
        }
    }

    #[test]
    fn the_commands_are_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn checkout_takes_card_then_book() {
        let DeskCommand::Checkout(args) = parse(&["checkout", "R100001", "C0001"]).unwrap() else {
            panic!("not checkout");
        };
        assert_eq!((args.card.as_str(), args.barcode.as_str()), ("R100001", "C0001"));
        assert!(parse(&["checkout", "R100001"]).is_err());
    }

    #[test]
    fn the_server_can_be_given_on_any_command() {
        let DeskCommand::School(SchoolCommand::List { connection }) =
            parse(&["school", "list", "--server", "http://desk:1"]).unwrap()
        else {
            panic!("not school list");
        };
        assert_eq!(connection.server.as_deref(), Some("http://desk:1"));
    }

    #[test]
    fn a_copy_names_its_title_one_way() {
        let base = ["copy", "add", "--barcode", "C1", "--school", "XH-PRI"];
        let with = |extra: &[&str]| {
            let mut args = base.to_vec();
            args.extend_from_slice(extra);
            parse(&args)
        };
        assert!(with(&["--isbn", "9787534687983"]).is_ok());
        assert!(with(&["--title-id", "t"]).is_ok());
        assert!(with(&[]).is_err());
        assert!(with(&["--isbn", "1", "--title-id", "t"]).is_err());
    }

    #[test]
    fn bad_values_are_refused_before_any_call() {
        let class = ["class", "add", "--school", "XH-PRI", "--name", "三年级(2)班"];
        let with = |extra: &[&str]| {
            let mut args = class.to_vec();
            args.extend_from_slice(extra);
            parse(&args)
        };
        assert!(with(&["--grade", "3", "--year", "2026-2027"]).is_ok());
        assert!(with(&["--grade", "13", "--year", "2026-2027"]).is_err());
        assert!(with(&["--grade", "3", "--year", "2026-2028"]).is_err());
        let reader = ["reader", "add", "--school", "XH-PRI", "--card", "R1", "--name", "王小明"];
        let mut args = reader.to_vec();
        args.extend_from_slice(&["--category", "student", "--expires", "2027-07-31"]);
        assert!(parse(&args).is_ok());
        let mut args = reader.to_vec();
        args.extend_from_slice(&["--category", "two words"]);
        assert!(parse(&args).is_err());
        // Categories are data: a district's own code parses.
        let mut args = reader.to_vec();
        args.extend_from_slice(&["--category", "Guest"]);
        assert!(parse(&args).is_ok());
    }

    #[test]
    fn year_end_is_a_preview_unless_applied() {
        let base = ["school", "year-end", "--school", "XH-PRI", "--from", "2026-2027", "--top-grade", "6"];
        let with = |extra: &[&str]| {
            let mut args = base.to_vec();
            args.extend_from_slice(extra);
            parse(&args)
        };
        let DeskCommand::School(SchoolCommand::YearEnd(args)) =
            with(&["--graduate-expires-on", "2027-08-31"]).unwrap()
        else {
            panic!("not school year-end");
        };
        assert_eq!(
            (args.school.as_str(), args.from.as_str(), args.to, args.top_grade),
            ("XH-PRI", "2026-2027", None, 6)
        );
        assert_eq!(args.graduate_expires_on.to_string(), "2027-08-31");
        assert!(!args.apply);
        let DeskCommand::School(SchoolCommand::YearEnd(args)) =
            with(&["--graduates-expire", "2027-08-31", "--to", "2027-2028", "--apply"]).unwrap()
        else {
            panic!("not school year-end");
        };
        assert_eq!((args.to.as_deref(), args.apply), (Some("2027-2028"), true));
        // Bad values never reach the server.
        assert!(with(&[]).is_err());
        assert!(with(&["--graduate-expires-on", "2027-02-30"]).is_err());
        assert!(with(&["--graduate-expires-on", "2027-08-31", "--to", "2027-2029"]).is_err());
        assert!(with(&["--graduate-expires-on", "2027-08-31", "--top-grade", "13"]).is_err());
        assert!(
            parse(&[
                "school",
                "year-end",
                "--from",
                "2026-27",
                "--top-grade",
                "6",
                "--graduate-expires-on",
                "2027-08-31",
                "--school",
                "X"
            ])
            .is_err()
        );
    }

    #[test]
    fn titles_take_several_authors() {
        let DeskCommand::Title(TitleCommand::Add { authors, translators, .. }) = parse(&[
            "title",
            "add",
            "--isbn",
            "9787020125265",
            "--title",
            "夏洛的网",
            "--author",
            "E. B. White",
            "--translator",
            "任溶溶",
            "--author",
            "Garth Williams",
        ])
        .unwrap() else {
            panic!("not title add");
        };
        assert_eq!(authors, ["E. B. White", "Garth Williams"]);
        assert_eq!(translators, ["任溶溶"]);
    }

    #[test]
    fn devices_are_added_with_a_kind() {
        let DeskCommand::Device(DeviceCommand::Add { kind, .. }) =
            parse(&["device", "add", "--school", "XH-PRI", "--kind", "sip2", "--label", "Front desk"])
                .unwrap()
        else {
            panic!("not device add");
        };
        assert_eq!(kind, devices::Kind::Sip2);
        assert!(
            parse(&["device", "add", "--school", "XH-PRI", "--kind", "printer", "--label", "x"]).is_err()
        );
        assert!(parse(&["device", "disable", "0190f0c2-0000-7000-8000-000000000000"]).is_ok());
    }

    #[test]
    fn a_binding_code_is_for_a_card_and_bindings_are_listed_by_reader_or_school() {
        let DeskCommand::Reader(ReaderCommand::BindingCode(args)) =
            parse(&["reader", "binding-code", "R100003"]).unwrap()
        else {
            panic!("not reader binding-code");
        };
        assert_eq!(args.card, "R100003");
        assert!(parse(&["reader", "binding-code"]).is_err());
        assert!(parse(&["binding", "list", "--school", "XH-PRI"]).is_ok());
        assert!(parse(&["binding", "remove", "not-an-id"]).is_err());
    }

    #[test]
    fn search_has_a_default_limit() {
        let DeskCommand::Search(args) = parse(&["search", "草房子"]).unwrap() else {
            panic!("not search");
        };
        assert_eq!(args.limit, 20);
        assert!(parse(&["search", "x", "--limit", "0"]).is_err());
        let DeskCommand::Loans(args) = parse(&["loans", "R1", "--all"]).unwrap() else {
            panic!("not loans");
        };
        assert!(args.all);
        let DeskCommand::Notices(args) = parse(&["notices", "R1", "--language", "en"]).unwrap() else {
            panic!("not notices");
        };
        assert_eq!((args.card.as_deref(), args.language.as_str()), (Some("R1"), "en"));
        assert!(args.command.is_none());
    }

    #[test]
    fn notices_are_a_reader_card_or_a_school_command() {
        let DeskCommand::Notices(args) = parse(&["notices", "send-due", "--dry-run"]).unwrap() else {
            panic!("not notices");
        };
        let Some(NoticesCommand::SendDue(send)) = args.command else { panic!("not send-due") };
        assert!(send.dry_run && send.school.is_none() && args.card.is_none());
        let DeskCommand::Notices(args) =
            parse(&["notices", "homeroom-lists", "--school", "XH-PRI", "--class", "三年级(2)班"]).unwrap()
        else {
            panic!("not notices");
        };
        let Some(NoticesCommand::HomeroomLists(lists)) = args.command else { panic!("not homeroom-lists") };
        assert_eq!((lists.school.as_str(), lists.class.as_deref()), ("XH-PRI", Some("三年级(2)班")));
        assert!(parse(&["notices", "deliveries", "--school", "XH-PRI", "--state", "failed"]).is_ok());
        assert!(parse(&["notices", "deliveries", "--school", "XH-PRI", "--state", "lost"]).is_err());
        assert!(parse(&["notices", "deliveries"]).is_err(), "the school is required");
        assert!(parse(&["notices", "R1", "send-due"]).is_err(), "a card or a command, not both");
    }

    #[test]
    fn a_stocktake_is_confirmed_only_with_what_the_preview_showed() {
        let finalize = |extra: &[&str]| {
            let mut args = vec!["stocktake", "finalize", "0193-session"];
            args.extend_from_slice(extra);
            parse(&args)
        };
        let Ok(DeskCommand::Stocktake(StocktakeCommand::Finalize { confirm, token, .. })) = finalize(&[])
        else {
            panic!("not stocktake finalize");
        };
        assert!(!confirm && token.is_none(), "a preview by default");
        assert!(finalize(&["--confirm"]).is_err(), "a confirm names the preview's token or count");
        assert!(finalize(&["--confirm", "--token", "v3-00ff"]).is_ok());
        assert!(finalize(&["--confirm", "--expect", "12"]).is_ok());
        assert!(finalize(&["--confirm", "--token", "v3", "--expect", "12"]).is_err());
        let scan = parse(&["stocktake", "scan", "0193-session", "--location", "一楼 A 区", "shelf.txt"]);
        assert!(matches!(scan, Ok(DeskCommand::Stocktake(StocktakeCommand::Scan { .. }))));
        assert!(parse(&["stocktake", "start", "--location", "A"]).is_err(), "the school is required");
    }
}
