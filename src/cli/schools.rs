//! Schools and classes: `school add|list` (`school year-end` is in
//! `school_year.rs`), `class add|list`, and how a
//! `--school` argument (an id, or a code such as XH-PRI that people
//! remember) becomes the id the API wants.

use anyhow::bail;
use lectern_proto::reader::v1::{
    CreateClassRequest, CreateSchoolRequest, ListClassesRequest, ListSchoolsRequest, School,
};

use super::Connection;
use super::desk::{Desk, all_pages, request_id, retrying};
use super::school_year::{self, YearEndArgs};
use super::table::{Table, clean};

/// At most this many pages of any list are fetched.
pub const MAX_PAGES: usize = 100;

/// `lectern school …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SchoolCommand {
    /// Add a school (district admins only). 添加学校
    #[command(after_help = "Example:\n  lectern school add --code XH-PRI --name 徐汇区实验小学")]
    Add {
        /// Short code, unique in the district (letters, digits, "-"), e.g. XH-PRI
        #[arg(long)]
        code: String,
        /// The school's name, e.g. 徐汇区实验小学
        #[arg(long)]
        name: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// List the district's schools with their codes. 学校列表
    List {
        #[command(flatten)]
        connection: Connection,
    },
    /// End a school year: preview, then --apply, the promotion of every class a grade up. 升年级
    #[command(after_help = "Examples:\n  \
        lectern school year-end --school XH-PRI --from 2026-2027 --top-grade 6 --graduate-expires-on 2027-08-31\n  \
        lectern school year-end --school XH-PRI --from 2026-2027 --top-grade 6 --graduate-expires-on 2027-08-31 --apply\n\n\
        Without --apply only the plan is shown. Each school and year is promoted once;\n\
        librarians of the school and district admins only (see docs/school-year.md).")]
    YearEnd(YearEndArgs),
}

/// `lectern class …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ClassCommand {
    /// Add a class (homeroom) to a school for one school year. 添加班级
    #[command(
        after_help = "Example:\n  lectern class add --school XH-PRI --name 三年级(2)班 --grade 3 --year 2026-2027"
    )]
    Add {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// The class name, e.g. 三年级(2)班 or "Grade 3 B"
        #[arg(long)]
        name: String,
        /// Grade 1–12 (1 = first year of primary school)
        #[arg(long, value_parser = clap::value_parser!(i32).range(1..=12))]
        grade: i32,
        /// School year, e.g. 2026-2027
        #[arg(long, value_parser = parse_school_year, value_name = "YYYY-YYYY")]
        year: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// List a school's classes, by grade. 班级列表
    #[command(after_help = "Example:\n  lectern class list --school XH-PRI --year 2026-2027")]
    List {
        /// The school: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: String,
        /// Only classes of this school year, e.g. 2026-2027
        #[arg(long, value_parser = parse_school_year, value_name = "YYYY-YYYY")]
        year: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
}

/// A `--school` argument: an id, or a code to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchoolArg {
    Id(String),
    Code(String),
}

impl SchoolArg {
    /// Ids are UUIDs; anything else is taken as a school code (codes are at
    /// most 32 characters, so a UUID can never be one).
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        match uuid::Uuid::try_parse(text) {
            Ok(id) => Self::Id(id.to_string()),
            Err(_) => Self::Code(text.to_owned()),
        }
    }
}

/// The school whose code is `code`, ignoring case.
pub fn find_by_code<'a>(schools: &'a [School], code: &str) -> Option<&'a School> {
    schools.iter().find(|school| school.code.eq_ignore_ascii_case(code))
}

/// Checks a school year "YYYY-YYYY" whose second year follows the first.
pub fn parse_school_year(text: &str) -> Result<String, String> {
    let problem = || format!("{text:?} is not a school year like 2026-2027");
    let (first, second) = text.trim().split_once('-').ok_or_else(problem)?;
    let year = |part: &str| {
        (part.len() == 4 && part.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    match (year(first), year(second)) {
        (Some(first), Some(second)) if second == first + 1 => Ok(format!("{first}-{second}")),
        _ => Err(problem()),
    }
}

/// Every school of the district.
pub async fn all_schools(desk: &Desk) -> anyhow::Result<Vec<School>> {
    let client = desk.readers();
    all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let message = ListSchoolsRequest { page_size: 500, page_token };
        let call = desk.request(message);
        async move {
            let page = client.list_schools(call).await?.into_inner();
            Ok((page.schools, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))
}

/// The school id a `--school` argument names.
pub async fn school_id(desk: &Desk, argument: &str) -> anyhow::Result<String> {
    match SchoolArg::parse(argument) {
        SchoolArg::Id(id) => Ok(id),
        SchoolArg::Code(code) => {
            if code.is_empty() {
                bail!("--school is empty: give a school code such as XH-PRI, or an id");
            }
            let schools = all_schools(desk).await?;
            match find_by_code(&schools, &code) {
                Some(school) => Ok(school.id.clone()),
                None => bail!("no school has the code {code:?}: `lectern school list` shows them"),
            }
        }
    }
}

/// `lectern school …`.
pub async fn run_school(command: SchoolCommand) -> anyhow::Result<()> {
    match command {
        SchoolCommand::Add { code, name, connection } => {
            let desk = Desk::open(&connection).await?;
            let message = CreateSchoolRequest { code, name, request_id: request_id() };
            let client = desk.readers();
            let school = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.create_school(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            println!("school added: {} {} (id {})", clean(&school.code), clean(&school.name), school.id);
        }
        SchoolCommand::List { connection } => {
            let desk = Desk::open(&connection).await?;
            let schools = all_schools(&desk).await?;
            if schools.is_empty() {
                println!("no schools yet: add one with `lectern school add`");
                return Ok(());
            }
            print!("{}", schools_table(&schools).render(""));
        }
        SchoolCommand::YearEnd(args) => school_year::run_year_end(args).await?,
    }
    Ok(())
}

fn schools_table(schools: &[School]) -> Table {
    let mut table = Table::new(&["CODE", "NAME", "ID"]);
    for school in schools {
        table.row(vec![school.code.clone(), school.name.clone(), school.id.clone()]);
    }
    table
}

/// `lectern class …`.
pub async fn run_class(command: ClassCommand) -> anyhow::Result<()> {
    match command {
        ClassCommand::Add { school, name, grade, year, connection } => {
            let desk = Desk::open(&connection).await?;
            let message = CreateClassRequest {
                school_id: school_id(&desk, &school).await?,
                name,
                grade,
                school_year: year,
                request_id: request_id(),
            };
            let client = desk.readers();
            let class = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.create_class(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            println!(
                "class added: {} (grade {}, {}) id {}",
                clean(&class.name),
                class.grade,
                clean(&class.school_year),
                class.id
            );
        }
        ClassCommand::List { school, year, connection } => {
            let desk = Desk::open(&connection).await?;
            let school_id = school_id(&desk, &school).await?;
            let client = desk.readers();
            let classes = all_pages(MAX_PAGES, |page_token| {
                let mut client = client.clone();
                let call = desk.request(ListClassesRequest {
                    school_id: school_id.clone(),
                    school_year: year.clone().unwrap_or_default(),
                    page_size: 500,
                    page_token,
                });
                async move {
                    let page = client.list_classes(call).await?.into_inner();
                    Ok((page.classes, page.next_page_token))
                }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            if classes.is_empty() {
                println!("no classes: add one with `lectern class add`");
                return Ok(());
            }
            let mut table = Table::new(&["GRADE", "NAME", "YEAR", "ID"]);
            for class in classes {
                table.row(vec![class.grade.to_string(), class.name, class.school_year, class.id]);
            }
            print!("{}", table.render(""));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_arguments_are_ids_or_codes() {
        let id = "0190f3c5-6b1e-7c2a-9d3e-1a2b3c4d5e6f";
        assert_eq!(SchoolArg::parse(id), SchoolArg::Id(id.to_owned()));
        assert_eq!(SchoolArg::parse(&id.to_uppercase()), SchoolArg::Id(id.to_owned()));
        assert_eq!(SchoolArg::parse(" XH-PRI "), SchoolArg::Code("XH-PRI".to_owned()));
    }

    #[test]
    fn codes_are_matched_ignoring_case() {
        let schools = vec![
            School { id: "1".into(), code: "XH-PRI".into(), ..School::default() },
            School { id: "2".into(), code: "XH-MID".into(), ..School::default() },
        ];
        assert_eq!(find_by_code(&schools, "xh-mid").map(|school| school.id.as_str()), Some("2"));
        assert!(find_by_code(&schools, "XH").is_none());
        assert!(schools_table(&schools).render("").starts_with("CODE    NAME  ID\n"));
    }

    #[test]
    fn school_years_run_one_year_into_the_next() {
        assert_eq!(parse_school_year("2026-2027"), Ok("2026-2027".to_owned()));
        assert!(parse_school_year("2026-2028").is_err());
        assert!(parse_school_year("2026").is_err());
        assert!(parse_school_year("26-27").is_err());
        assert!(parse_school_year("+026-2027").is_err());
    }
}
