//! WeChat bindings at the desk: `reader binding-code` makes the one-time
//! code a parent who does not know the child's PIN binds with, `binding
//! list` shows which WeChat accounts are bound to a reader (or to a
//! school's readers), and `binding remove` unbinds one, signing its phone
//! out. A WeChat account is named by its short label ("微信 #3F9A"), never
//! its openid, which Lectern keeps to itself.
//!
//! Days and times are written in the schools' time zone
//! (`LECTERN_TIME_ZONE`, default Asia/Shanghai, as the services use), not
//! the desk computer's: the parent reads the expiry as the school's day.

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lectern_proto::reader::v1::{
    Binding, BindingCode, BindingProof, BindingRelation, CreateBindingCodeRequest, DeleteBindingRequest,
    ListBindingsRequest, ListReadersRequest, Reader,
};

use super::Connection;
use super::desk::{Desk, all_pages};
use super::format::{local_day, local_minute, utc};
use super::readers::{lookup, reader_heading};
use super::schools::{MAX_PAGES, school_id};
use super::table::{Table, clean};

/// Options of `lectern reader binding-code`.
#[derive(Debug, Clone, clap::Args)]
pub struct BindingCodeArgs {
    /// The reader's library card barcode
    #[arg(value_name = "READER_CARD", value_parser = parse_card)]
    pub card: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern binding …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BindingCommand {
    /// List the WeChat accounts bound to a reader, or to a school's readers. 微信绑定列表
    #[command(after_help = "Examples:\n  lectern binding list --reader R100003\n  \
        lectern binding list --school XH-PRI\n\n\
        A WeChat account is shown by a short label such as 微信 #3F9A, never its WeChat id.")]
    List(ListBindingsArgs),
    /// Unbind a WeChat account from a reader; the phone signed in with it is signed out. 解除绑定
    #[command(after_help = "Example:\n  lectern binding remove 0193a1b2-…\n\n\
        Do it when a phone is lost or a guardian changes; the family binds again to use it.")]
    Remove(RemoveBindingArgs),
}

/// Options of `lectern binding list`: one reader's, or a school's.
#[derive(Debug, Clone, clap::Args)]
#[group(id = "whose", required = true, multiple = false)]
pub struct ListBindingsArgs {
    /// The reader's library card barcode
    #[arg(long = "reader", value_name = "READER_CARD", value_parser = parse_card, group = "whose")]
    pub card: Option<String>,
    /// Every bound reader of this school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL", group = "whose")]
    pub school: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// Options of `lectern binding remove`.
#[derive(Debug, Clone, clap::Args)]
pub struct RemoveBindingArgs {
    /// The binding's id (the ID column of `lectern binding list`)
    #[arg(value_name = "BINDING_ID", value_parser = parse_binding_id)]
    pub binding_id: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// A card barcode as typed or scanned: trimmed, not empty.
fn parse_card(text: &str) -> Result<String, String> {
    let card = text.trim();
    if card.is_empty() || card.chars().any(char::is_control) {
        return Err(format!("{text:?} is not a library card barcode like R100001"));
    }
    Ok(card.to_owned())
}

/// A binding id: the UUID `lectern binding list` shows.
fn parse_binding_id(text: &str) -> Result<String, String> {
    uuid::Uuid::parse_str(text.trim()).map(|id| id.to_string()).map_err(|_| {
        format!("{text:?} is not a binding id: copy one from the ID column of `lectern binding list`")
    })
}

/// The schools' time zone, as the services read it.
pub fn school_zone() -> anyhow::Result<Tz> {
    Ok(lectern_core::config::time_zone("LECTERN_TIME_ZONE", chrono_tz::Asia::Shanghai)?)
}

/// `lectern binding …`.
pub async fn run_binding(command: BindingCommand) -> anyhow::Result<()> {
    let text = match command {
        BindingCommand::List(args) => {
            let desk = Desk::open(&args.connection).await?;
            list_bindings(&desk, &args, school_zone()?).await?
        }
        BindingCommand::Remove(args) => {
            let desk = Desk::open(&args.connection).await?;
            remove_binding(&desk, &args).await?
        }
    };
    print!("{text}");
    Ok(())
}

/// `lectern reader binding-code`.
pub async fn run_binding_code(args: BindingCodeArgs) -> anyhow::Result<()> {
    let zone = school_zone()?;
    let desk = Desk::open(&args.connection).await?;
    print!("{}", binding_code(&desk, &args, zone).await?);
    Ok(())
}

/// Makes a binding code for the card's reader at `desk` and answers the
/// text to print: the code, until when it works in `zone`, and what the
/// parent does with it.
pub async fn binding_code(desk: &Desk, args: &BindingCodeArgs, zone: Tz) -> anyhow::Result<String> {
    let reader = lookup(desk, &args.card).await?;
    // Not retried: every call makes a new code and voids the one before,
    // so a retry after a lost answer would void the code it printed.
    let code = desk
        .family()
        .create_binding_code(desk.request(CreateBindingCodeRequest { reader_id: reader.id.clone() }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    Ok(code_text(&reader, &code, zone))
}

/// The code as the librarian reads it out or copies it onto a slip.
fn code_text(reader: &Reader, code: &BindingCode, zone: Tz) -> String {
    let expires = code
        .expire_time
        .as_ref()
        .and_then(|time| utc(time.seconds, time.nanos))
        .map(|time| format!("{} ({zone})", local_minute(time, &zone)))
        .unwrap_or_else(|| "(unknown)".to_owned());
    format!(
        "binding code for {}: {}\n\
         use it by:  {expires}\n\
         the code is shown only now; it works once, and a new code replaces it\n\
         The parent opens the school library's WeChat mini-program, chooses \"I am a parent\", \
         and types the card number, this code, and the phone number or e-mail address the school has for them.\n",
        reader_heading(reader),
        grouped(&clean(&code.code)),
    )
}

/// "12345678" as "1234 5678": easier to read out and to type.
fn grouped(code: &str) -> String {
    let characters: Vec<char> = code.chars().collect();
    characters.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// Lists the bindings `args` asks for at `desk`, times in `zone`, and
/// answers the text to print.
pub async fn list_bindings(desk: &Desk, args: &ListBindingsArgs, zone: Tz) -> anyhow::Result<String> {
    match (&args.card, &args.school) {
        (Some(card), _) => {
            let reader = lookup(desk, card).await?;
            let bindings = bindings_of(desk, reader.id.clone(), String::new()).await?;
            let mut out = format!("{}\n", reader_heading(&reader));
            if bindings.is_empty() {
                out.push_str("  no WeChat is bound to this card\n");
            } else {
                out.push_str(&bindings_table(&bindings, None, zone).render("  "));
            }
            Ok(out)
        }
        (None, Some(school)) => {
            let school_id = school_id(desk, school).await?;
            let bindings = bindings_of(desk, String::new(), school_id.clone()).await?;
            if bindings.is_empty() {
                return Ok(format!("no WeChat is bound to a reader of {}\n", clean(school)));
            }
            let readers = school_readers(desk, &school_id).await?;
            Ok(bindings_table(&bindings, Some(&readers), zone).render(""))
        }
        (None, None) => Err(anyhow!("say whose bindings: --reader CARD or --school SCHOOL")),
    }
}

/// Every binding of one reader or of a school's readers, newest first.
async fn bindings_of(desk: &Desk, reader_id: String, school_id: String) -> anyhow::Result<Vec<Binding>> {
    let client = desk.family();
    all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let call = desk.request(ListBindingsRequest {
            reader_id: reader_id.clone(),
            school_id: school_id.clone(),
            page_size: 500,
            page_token,
        });
        async move {
            let page = client.list_bindings(call).await?.into_inner();
            Ok((page.bindings, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))
}

/// The school's readers, to put cards and names to a school's bindings
/// (a few pages for a whole school, rather than a call per reader).
async fn school_readers(desk: &Desk, school_id: &str) -> anyhow::Result<Vec<Reader>> {
    let client = desk.readers();
    all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let call = desk.request(ListReadersRequest {
            school_id: school_id.to_owned(),
            class_id: String::new(),
            page_size: 500,
            page_token,
        });
        async move {
            let page = client.list_readers(call).await?.into_inner();
            Ok((page.readers, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))
}

/// Bindings as a table; with `readers`, each row names its reader's card
/// and name (a school's list), else the heading does (one reader's).
fn bindings_table(bindings: &[Binding], readers: Option<&[Reader]>, zone: Tz) -> Table {
    let when = |time: Option<&prost_types::Timestamp>, write: &dyn Fn(DateTime<Utc>) -> String| {
        time.and_then(|time| utc(time.seconds, time.nanos)).map(write)
    };
    let mut headers = vec!["ID"];
    if readers.is_some() {
        headers.extend(["CARD", "NAME"]);
    }
    headers.extend(["WECHAT", "RELATION", "PROOF", "BOUND", "LAST SIGN-IN"]);
    let mut table = Table::new(&headers);
    for binding in bindings {
        let mut row = vec![binding.id.clone()];
        if let Some(readers) = readers {
            let reader = readers.iter().find(|reader| reader.id == binding.reader_id);
            row.push(reader.map(|reader| reader.card_barcode.clone()).unwrap_or_default());
            row.push(reader.map(|reader| reader.name.clone()).unwrap_or_default());
        }
        row.extend([
            binding.account_label.clone(),
            relation_words(binding.relation).to_owned(),
            proof_words(binding.proved_by).to_owned(),
            when(binding.create_time.as_ref(), &|time| local_day(time, &zone)).unwrap_or_default(),
            when(binding.last_sign_in_time.as_ref(), &|time| local_minute(time, &zone))
                .unwrap_or_else(|| "not since binding".to_owned()),
        ]);
        table.row(row);
    }
    table
}

fn relation_words(relation: i32) -> &'static str {
    match BindingRelation::try_from(relation) {
        Ok(BindingRelation::Guardian) => "parent or guardian",
        _ => "the reader",
    }
}

fn proof_words(proof: i32) -> &'static str {
    match BindingProof::try_from(proof) {
        Ok(BindingProof::Code) => "binding code",
        _ => "PIN",
    }
}

/// Removes the binding `args` names at `desk` and answers the text to print.
pub async fn remove_binding(desk: &Desk, args: &RemoveBindingArgs) -> anyhow::Result<String> {
    // Removing twice is refused the second time (no such binding), so a
    // lost answer is not retried: run `binding list` to see where it stands.
    desk.family()
        .delete_binding(desk.request(DeleteBindingRequest { binding_id: args.binding_id.clone() }))
        .await
        .map_err(|status| desk.fail(status))?;
    Ok(format!("binding removed: {}; the WeChat signed in with it has been signed out\n", args.binding_id))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;
    use prost_types::Timestamp;

    use super::*;

    #[test]
    fn codes_are_grouped_by_four() {
        assert_eq!(grouped("12345678"), "1234 5678");
        assert_eq!(grouped("123456"), "1234 56");
        assert_eq!(grouped(""), "");
    }

    #[test]
    fn the_code_shows_its_expiry_in_the_schools_zone() {
        let reader = Reader {
            card_barcode: "R100003".into(),
            name: "任小雨".into(),
            class_name: "三年级(2)班".into(),
            ..Reader::default()
        };
        // 2026-12-25 16:30 UTC is 2026-12-26 00:30 in Shanghai.
        let code = BindingCode {
            reader_id: "r".into(),
            code: "31415926".into(),
            expire_time: Some(Timestamp { seconds: 1_798_216_200, nanos: 0 }),
        };
        let text = code_text(&reader, &code, chrono_tz::Asia::Shanghai);
        assert!(text.starts_with("binding code for R100003 任小雨, 三年级(2)班: 3141 5926\n"), "{text}");
        assert!(text.contains("use it by:  2026-12-26 00:30 (Asia/Shanghai)\n"), "{text}");
        assert!(text.contains("\"I am a parent\""), "{text}");
    }

    #[test]
    fn the_list_names_readers_and_never_an_openid() {
        let binding = Binding {
            id: "0193".into(),
            reader_id: "r1".into(),
            school_id: "s1".into(),
            relation: BindingRelation::Guardian.into(),
            proved_by: BindingProof::Code.into(),
            guardian_contact: "ren.mama@example.cn".into(),
            create_time: Some(Timestamp { seconds: 1_796_000_000, nanos: 0 }),
            last_sign_in_time: None,
            account_label: "微信 #3F9A".into(),
        };
        let reader = Reader {
            id: "r1".into(),
            card_barcode: "R100003".into(),
            name: "任小雨".into(),
            ..Reader::default()
        };
        let zone = chrono_tz::Asia::Shanghai;
        let text = bindings_table(std::slice::from_ref(&binding), Some(&[reader]), zone).render("");
        assert_eq!(
            text,
            "ID    CARD     NAME    WECHAT      RELATION            PROOF         BOUND       LAST SIGN-IN\n\
             0193  R100003  任小雨  微信 #3F9A  parent or guardian  binding code  2026-11-30  not since binding\n"
        );
        let one = bindings_table(&[binding], None, zone).render("");
        assert!(one.starts_with("ID    WECHAT"), "{one}");
    }

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: BindingCommand,
    }

    fn parse(args: &[&str]) -> Result<BindingCommand, clap::Error> {
        Cli::try_parse_from(std::iter::once("binding").chain(args.iter().copied())).map(|cli| cli.command)
    }

    #[test]
    fn a_list_names_a_reader_or_a_school_and_an_id_is_checked() {
        let Ok(BindingCommand::List(args)) = parse(&["list", "--reader", " R100003 "]) else {
            panic!("not binding list");
        };
        assert_eq!((args.card.as_deref(), args.school), (Some("R100003"), None));
        assert!(parse(&["list", "--school", "XH-PRI"]).is_ok());
        assert!(parse(&["list"]).is_err(), "whose bindings");
        assert!(parse(&["list", "--reader", "R1", "--school", "XH-PRI"]).is_err(), "one or the other");
        assert!(parse(&["list", "--reader", " "]).is_err());
        let Ok(BindingCommand::Remove(args)) = parse(&["remove", "0193A1B2-0000-7000-8000-000000000000"])
        else {
            panic!("not binding remove");
        };
        assert_eq!(args.binding_id, "0193a1b2-0000-7000-8000-000000000000");
        let error = parse(&["remove", "R100003"]).unwrap_err().to_string();
        assert!(error.contains("is not a binding id"), "{error}");
    }
}
