//! The collection at the desk: `title add`, `copy add` and `search`, which
//! shows each title found with its copies and whether they are on the shelf.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lectern_proto::catalog::v1::{
    Contributor, ContributorRole, CopyStatus, CreateCopyRequest, CreateTitleRequest, GradeRange,
    LookupTitleRequest, Money, SearchHit, SearchTitlesRequest,
};

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::format::{availability, here_day};
use super::schools::{all_schools, school_id};
use super::table::{Table, clean};

/// `lectern title …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TitleCommand {
    /// Catalog a title (one edition of a book); prints its id and ISBN-13. 编目
    #[command(
        after_help = "Examples:\n  lectern title add --isbn 978-7-5346-8798-3 --title 草房子 --author 曹文轩 --publisher 江苏少年儿童出版社 --year 2017 --language zh\n  lectern title add --isbn 9787020125265 --title 夏洛的网 --author \"E. B. White\" --translator 任溶溶"
    )]
    Add {
        /// ISBN-10 or ISBN-13; hyphens, spaces, an `ISBN` label and full-width digits are fine
        #[arg(long)]
        isbn: String,
        /// The title as printed, e.g. 草房子
        #[arg(long)]
        title: String,
        /// An author (著); repeat for several, in printed order
        #[arg(long = "author", value_name = "NAME")]
        authors: Vec<String>,
        /// A translator (译); repeat for several
        #[arg(long = "translator", value_name = "NAME")]
        translators: Vec<String>,
        /// The publisher, e.g. 江苏少年儿童出版社
        #[arg(long)]
        publisher: Option<String>,
        /// Year of publication
        #[arg(long, value_parser = clap::value_parser!(i32).range(1450..=2100))]
        year: Option<i32>,
        /// Language of the text: zh, en, or another ISO 639-1 code
        #[arg(long)]
        language: Option<String>,
        #[command(flatten)]
        details: Box<TitleDetails>,
        #[command(flatten)]
        connection: Connection,
    },
}

/// The rest of a bibliographic record, all optional.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TitleDetails {
    /// Other title information (subtitle)
    #[arg(long)]
    subtitle: Option<String>,
    /// Series, e.g. 曹文轩纯美小说系列
    #[arg(long)]
    series: Option<String>,
    /// A subject heading; repeat for several
    #[arg(long = "subject", value_name = "HEADING")]
    subjects: Vec<String>,
    /// 中图法 (CLC) class number, e.g. I287.45
    #[arg(long)]
    clc: Option<String>,
    /// Dewey number, e.g. 813.54
    #[arg(long)]
    dewey: Option<String>,
    /// Call number for its copies; suggested from the class number and the first author if left out
    #[arg(long)]
    call_number: Option<String>,
    /// Grades the book suits, e.g. 3-6 (0 is kindergarten)
    #[arg(long, value_parser = parse_grades)]
    grades: Option<GradeRange>,
    /// Another ISBN of the same work (another binding); repeat for several
    #[arg(long = "other-isbn", value_name = "ISBN")]
    other_isbns: Vec<String>,
}

fn parse_grades(text: &str) -> Result<GradeRange, String> {
    let (low, high) = text.split_once('-').unwrap_or((text, text));
    let grade = |part: &str| {
        part.trim().parse::<i32>().map_err(|_| format!("{text:?} is not a grade range such as 3-6"))
    };
    Ok(GradeRange { min_grade: grade(low)?, max_grade: grade(high)? })
}

/// `lectern copy …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CopyCommand {
    /// Add a copy of a title to a school's library. 添加馆藏
    #[command(
        after_help = "Example:\n  lectern copy add --isbn 9787534687983 --barcode C0001 --school XH-PRI --call-number I287.45/C12"
    )]
    Add {
        /// The title's id (from `lectern title add`)
        #[arg(long, value_name = "ID", required_unless_present = "isbn", conflicts_with = "isbn")]
        title_id: Option<String>,
        /// The title's ISBN, instead of its id
        #[arg(long)]
        isbn: Option<String>,
        /// The barcode stuck on the book
        #[arg(long)]
        barcode: String,
        /// The school holding the copy: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// The call number on the spine label, e.g. I287.45/C12 (default: the title's)
        #[arg(long)]
        call_number: Option<String>,
        /// The shelf location's id (see `lectern shelf locations`)
        #[arg(long, value_name = "LOCATION_ID")]
        location: Option<String>,
        /// Item type code: book, picture_book, magazine, reference, …
        #[arg(long)]
        item_type: Option<String>,
        /// Price in yuan, e.g. 28.00
        #[arg(long, value_parser = super::shelves::parse_yuan)]
        price: Option<Money>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Move a copy along its life: damaged, in-repair, available, missing, lost, withdrawn. 馆藏状态
    #[command(
        after_help = "Examples:\n  lectern copy status C0001 damaged --reason 书脊开裂\n  lectern copy status C0001 in-repair --repair-notes 重新上胶\n  lectern copy status C0001 available --repair-cost 5.00\n  lectern copy status C0001 withdrawn --reason \"破损严重，内容过时\""
    )]
    Status {
        /// The copy's barcode
        barcode: String,
        /// The new status
        #[arg(value_parser = super::shelves::parse_status)]
        status: CopyStatus,
        /// Why (needed for damaged, missing, lost, withdrawn)
        #[arg(long)]
        reason: Option<String>,
        /// Notes for the repair ticket
        #[arg(long)]
        repair_notes: Option<String>,
        /// What the repair cost, in yuan, when it comes back
        #[arg(long, value_parser = super::shelves::parse_yuan)]
        repair_cost: Option<Money>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Who changed a copy's status, when and why, and its repairs. 馆藏履历
    History {
        /// The copy's barcode
        barcode: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// Options of `lectern search`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Examples:\n  lectern search 草房子\n  lectern search 曹文轩 --school XH-PRI\n  lectern search 9787534687983"
)]
pub struct SearchArgs {
    /// An ISBN, or part of a title or author's name
    #[arg(value_name = "QUERY")]
    pub query: String,
    /// Only show copies held by this school (code or id)
    #[arg(long, value_name = "SCHOOL")]
    pub school: Option<String>,
    /// At most this many titles (1–100)
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i32).range(1..=100))]
    pub limit: i32,
    #[command(flatten)]
    pub connection: Connection,
}

/// Contributors in the order given: authors, then translators.
pub fn contributors(authors: &[String], translators: &[String]) -> Vec<Contributor> {
    let credit = |role: ContributorRole| {
        move |name: &String| Contributor { name: name.trim().to_owned(), role: role as i32 }
    };
    authors
        .iter()
        .map(credit(ContributorRole::Author))
        .chain(translators.iter().map(credit(ContributorRole::Translator)))
        .collect()
}

/// "曹文轩 著; 任溶溶 译": names with what they did, as Chinese
/// catalogues print them.
pub fn credits(contributors: &[Contributor]) -> String {
    contributors
        .iter()
        .map(|contributor| {
            let role = match ContributorRole::try_from(contributor.role) {
                Ok(ContributorRole::Translator) => "译",
                Ok(ContributorRole::Illustrator) => "绘",
                Ok(ContributorRole::Editor) => "编",
                _ => "著",
            };
            format!("{} {role}", contributor.name)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `lectern title …`.
pub async fn run_title(command: TitleCommand) -> anyhow::Result<()> {
    let TitleCommand::Add {
        isbn,
        title,
        authors,
        translators,
        publisher,
        year,
        language,
        details,
        connection,
    } = command;
    let details = *details;
    let desk = Desk::open(&connection).await?;
    let message = CreateTitleRequest {
        isbn,
        title,
        contributors: contributors(&authors, &translators),
        publisher: publisher.unwrap_or_default(),
        publication_year: year.unwrap_or_default(),
        language: language.unwrap_or_default(),
        request_id: request_id(),
        subtitle: details.subtitle.unwrap_or_default(),
        series: details.series.unwrap_or_default(),
        subjects: details.subjects,
        clc: details.clc.unwrap_or_default(),
        dewey: details.dewey.unwrap_or_default(),
        call_number: details.call_number.unwrap_or_default(),
        audience: details.grades,
        other_isbns: details.other_isbns,
        ..Default::default()
    };
    let client = desk.catalog();
    let title = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.create_title(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    println!("title added: {}", clean(&title.title));
    println!("id: {}", title.id);
    if !title.isbn13.is_empty() {
        println!("ISBN-13: {}", title.isbn13);
    }
    if !title.call_number.is_empty() {
        println!("call number: {}", clean(&title.call_number));
    }
    Ok(())
}

/// `lectern copy …`.
pub async fn run_copy(command: CopyCommand) -> anyhow::Result<()> {
    let (title_id, isbn, barcode, school, call_number, location, item_type, price, connection) = match command
    {
        CopyCommand::Add {
            title_id,
            isbn,
            barcode,
            school,
            call_number,
            location,
            item_type,
            price,
            connection,
        } => (title_id, isbn, barcode, school, call_number, location, item_type, price, connection),
        CopyCommand::Status { barcode, status, reason, repair_notes, repair_cost, connection } => {
            return super::shelves::change_status(
                barcode,
                status,
                reason,
                repair_notes,
                repair_cost,
                connection,
            )
            .await;
        }
        CopyCommand::History { barcode, connection } => {
            return super::shelves::history(barcode, connection).await;
        }
    };
    let desk = Desk::open(&connection).await?;
    let title_id = match (title_id, isbn) {
        (Some(id), _) => id,
        (None, Some(isbn)) => {
            desk.catalog()
                .lookup_title(desk.request(LookupTitleRequest { isbn }))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner()
                .id
        }
        (None, None) => anyhow::bail!("give --title-id or --isbn"),
    };
    let message = CreateCopyRequest {
        title_id,
        barcode,
        school_id: school_id(&desk, &school).await?,
        call_number: call_number.unwrap_or_default(),
        status: 0,
        request_id: request_id(),
        location_id: location.unwrap_or_default(),
        item_type: item_type.unwrap_or_default(),
        price,
        ..Default::default()
    };
    let client = desk.catalog();
    let copy = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.create_copy(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    println!("copy added: {} of {} (id {})", clean(&copy.barcode), clean(&copy.title), copy.id);
    if !copy.call_number.is_empty() {
        println!("call number: {}", clean(&copy.call_number));
    }
    Ok(())
}

/// `lectern search`.
pub async fn search(args: SearchArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let school_id = match &args.school {
        Some(school) => school_id(&desk, school).await?,
        None => String::new(),
    };
    let message = SearchTitlesRequest {
        query: args.query,
        school_id,
        page_size: args.limit,
        page_token: String::new(),
        ..Default::default()
    };
    let answer = desk
        .catalog()
        .search_titles(desk.request(message))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    if answer.hits.is_empty() {
        println!("nothing found");
        return Ok(());
    }
    // School codes say more at a desk than ids; if the list is not to be
    // had, ids will do.
    let codes: HashMap<String, String> = all_schools(&desk)
        .await
        .map(|schools| schools.into_iter().map(|school| (school.id, school.code)).collect())
        .unwrap_or_default();
    print!("{}", render_hits(&answer.hits, &codes, here_day));
    if !answer.next_page_token.is_empty() {
        println!("(more titles match: raise --limit or search more precisely)");
    }
    Ok(())
}

/// The search answer as text: per title a heading, then its copies.
fn render_hits(
    hits: &[SearchHit],
    codes: &HashMap<String, String>,
    day: impl Fn(DateTime<Utc>) -> String + Copy,
) -> String {
    let mut out = String::new();
    for (index, hit) in hits.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let title = hit.title.clone().unwrap_or_default();
        out.push_str(&clean(&title.title));
        out.push('\n');
        if !title.contributors.is_empty() {
            out.push_str(&format!("  {}\n", clean(&credits(&title.contributors))));
        }
        let isbn =
            if title.isbn13.is_empty() { "no ISBN".to_owned() } else { format!("ISBN {}", title.isbn13) };
        if hit.copies.is_empty() {
            out.push_str(&format!("  {isbn}, no copies\n"));
            continue;
        }
        out.push_str(&format!("  {isbn}, {} of {} on shelf\n", hit.available_copies, hit.copies.len()));
        let mut table = Table::new(&["BARCODE", "SCHOOL", "CALL NUMBER", "AVAILABILITY"]);
        for copy in &hit.copies {
            let school = codes.get(&copy.school_id).unwrap_or(&copy.school_id);
            table.row(vec![
                copy.barcode.clone(),
                school.clone(),
                copy.call_number.clone(),
                availability(copy, day),
            ]);
        }
        out.push_str(&table.render("  "));
    }
    out
}

#[cfg(test)]
mod tests {
    use lectern_proto::catalog::v1::{Availability, Copy, Title};
    use prost_types::Timestamp;

    use super::*;

    #[test]
    fn authors_come_before_translators() {
        let list = contributors(&["E. B. White ".into()], &["任溶溶".into()]);
        assert_eq!(list[0].name, "E. B. White");
        assert_eq!(list[0].role, ContributorRole::Author as i32);
        assert_eq!(list[1].role, ContributorRole::Translator as i32);
        assert_eq!(credits(&list), "E. B. White 著; 任溶溶 译");
    }

    #[test]
    fn hits_list_each_copy_with_its_availability() {
        let hit = SearchHit {
            title: Some(Title {
                title: "草房子".into(),
                isbn13: "9787534687983".into(),
                contributors: contributors(&["曹文轩".into()], &[]),
                ..Title::default()
            }),
            copies: vec![
                Copy {
                    barcode: "C0001".into(),
                    school_id: "s1".into(),
                    call_number: "I287.45/C12".into(),
                    availability: Availability::OnShelf as i32,
                    ..Copy::default()
                },
                Copy {
                    barcode: "C0002".into(),
                    school_id: "s2".into(),
                    availability: Availability::OnLoan as i32,
                    due_at: Some(Timestamp { seconds: 86_400, nanos: 0 }),
                    ..Copy::default()
                },
            ],
            available_copies: 1,
            ..Default::default()
        };
        let bare = SearchHit {
            title: Some(Title { title: "夏洛的网".into(), ..Title::default() }),
            ..SearchHit::default()
        };
        let codes = HashMap::from([("s1".to_owned(), "XH-PRI".to_owned())]);
        let day = |time: DateTime<Utc>| time.format("%Y-%m-%d").to_string();
        assert_eq!(render_hits(&[bare], &codes, day), "夏洛的网\n  no ISBN, no copies\n");
        assert_eq!(
            render_hits(&[hit], &codes, day),
            "草房子\n\
             \x20 曹文轩 著\n\
             \x20 ISBN 9787534687983, 1 of 2 on shelf\n\
             \x20 BARCODE  SCHOOL  CALL NUMBER  AVAILABILITY\n\
             \x20 C0001    XH-PRI  I287.45/C12  on shelf\n\
             \x20 C0002    s2                   on loan until 1970-01-02\n"
        );
    }
}
