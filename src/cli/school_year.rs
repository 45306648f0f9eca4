//! `lectern school year-end`: the year-end promotion of one school. By
//! default a preview: the plan (each class with the class it becomes, the
//! classes that graduate, the totals) and nothing changed. With `--apply`
//! the plan is carried out in one go, with one request id for the whole
//! invocation so a retry after a lost answer gets the first result back.
//! The server's refusals (already promoted, nothing to promote, not
//! allowed) are printed as they come. See docs/school-year.md.

use chrono::NaiveDate;
use lectern_proto::reader::v1::{YearEndPlan, YearEndRequest};

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::readers::parse_date;
use super::schools::{parse_school_year, school_id};
use super::table::{Table, clean};

/// Options of `lectern school year-end`.
#[derive(Debug, Clone, clap::Args)]
pub struct YearEndArgs {
    /// The school: its code (XH-PRI) or id
    #[arg(long, value_name = "SCHOOL")]
    pub school: String,
    /// The school year that ends, e.g. 2026-2027
    #[arg(long, value_parser = parse_school_year, value_name = "YYYY-YYYY")]
    pub from: String,
    /// The school year that starts (default: the one after --from)
    #[arg(long, value_parser = parse_school_year, value_name = "YYYY-YYYY")]
    pub to: Option<String>,
    /// The school's last grade, whose classes graduate: 6 primary, 9 middle, 12 high school
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=12), value_name = "GRADE")]
    pub top_grade: i32,
    /// Last day graduates' cards are valid, e.g. 2027-08-31
    #[arg(long, alias = "graduates-expire", value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub graduate_expires_on: NaiveDate,
    /// Carry the promotion out. Without it, only show the plan.
    #[arg(long)]
    pub apply: bool,
    #[command(flatten)]
    pub connection: Connection,
}

/// The school year after `year` ("2026-2027" → "2027-2028"), if `year` is one.
pub fn next_school_year(year: &str) -> Option<String> {
    let (_, second) = year.split_once('-')?;
    let second: u32 = second.parse().ok()?;
    Some(format!("{second}-{}", second + 1))
}

/// `lectern school year-end`.
pub async fn run_year_end(args: YearEndArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    print!("{}", year_end(&desk, &args).await?);
    Ok(())
}

/// Previews (or with `--apply` carries out) the promotion `args` describe
/// at `desk`, and answers the text to print.
pub async fn year_end(desk: &Desk, args: &YearEndArgs) -> anyhow::Result<String> {
    let to_school_year = match &args.to {
        Some(year) => year.clone(),
        None => next_school_year(&args.from)
            .ok_or_else(|| anyhow::anyhow!("{:?} is not a school year like 2026-2027", args.from))?,
    };
    let message = YearEndRequest {
        school_id: school_id(desk, &args.school).await?,
        from_school_year: args.from.clone(),
        to_school_year,
        top_grade: args.top_grade,
        graduate_expires_on: args.graduate_expires_on.to_string(),
        request_id: if args.apply { request_id() } else { String::new() },
    };
    let client = desk.school_year();
    let plan = if args.apply {
        retrying(|| {
            let mut client = client.clone();
            let call = desk.request(message.clone());
            async move { client.apply_year_end(call).await.map(tonic::Response::into_inner) }
        })
        .await
    } else {
        let mut client = client.clone();
        client.preview_year_end(desk.request(message)).await.map(tonic::Response::into_inner)
    }
    .map_err(|status| desk.fail(status))?;
    Ok(render_plan(&plan))
}

/// The plan as a librarian reads it: a heading, the classes that move up,
/// the classes that graduate, and what was (or would be) done.
pub fn render_plan(plan: &YearEndPlan) -> String {
    let mut out = format!(
        "year-end {} → {}{}\n",
        clean(&plan.from_school_year),
        clean(&plan.to_school_year),
        if plan.applied { "" } else { " (preview: nothing changed yet)" }
    );
    if plan.promotions.is_empty() {
        out.push_str("no class moves up\n");
    } else {
        out.push_str("classes moving up:\n");
        out.push_str(&promotions_table(plan).render("  "));
    }
    if plan.graduations.is_empty() {
        out.push_str("no class graduates\n");
    } else {
        out.push_str(&format!("graduating (cards expire {}):\n", clean(&plan.graduate_expires_on)));
        let mut table = Table::new(&["CLASS", "GRADE", "GRADUATES"]);
        for class in &plan.graduations {
            table.row(vec![
                class.class_name.clone(),
                class.grade.to_string(),
                class.graduate_count.to_string(),
            ]);
        }
        out.push_str(&table.render("  "));
    }
    out.push_str(&summary(plan));
    out.push('\n');
    out
}

fn promotions_table(plan: &YearEndPlan) -> Table {
    let mut headers = vec!["CLASS", "GRADE", "BECOMES", "GRADE", "STUDENTS"];
    if plan.applied {
        headers.push("NEW CLASS ID");
    }
    let mut table = Table::new(&headers);
    for class in &plan.promotions {
        table.row(vec![
            class.from_class_name.clone(),
            class.from_grade.to_string(),
            class.to_class_name.clone(),
            class.to_grade.to_string(),
            class.student_count.to_string(),
            class.to_class_id.clone(),
        ]);
    }
    table
}

/// "2 students", "1 class", ...
fn count(number: impl Into<i64>, one: &str, many: &str) -> String {
    let number = number.into();
    format!("{number} {}", if number == 1 { one } else { many })
}

/// The closing line: what would be done, or what was.
fn summary(plan: &YearEndPlan) -> String {
    let moved = count(plan.promoted_students, "student", "students");
    let new_classes = count(i64::try_from(plan.promotions.len()).unwrap_or(i64::MAX), "class", "classes");
    let graduates = count(plan.graduates, "student", "students");
    let graduating = count(i64::try_from(plan.graduations.len()).unwrap_or(i64::MAX), "class", "classes");
    let to = clean(&plan.to_school_year);
    let expires = clean(&plan.graduate_expires_on);
    if plan.applied {
        format!(
            "done: {new_classes} opened in {to}, {moved} moved up; {graduates} of {graduating} \
             graduated (inactive, cards expire {expires})"
        )
    } else {
        format!(
            "would open {new_classes} in {to} and move {moved} up; {graduates} of {graduating} \
             would graduate (cards expire {expires}). Run again with --apply to do it."
        )
    }
}

#[cfg(test)]
mod tests {
    use lectern_proto::reader::v1::{ClassGraduation, ClassPromotion};

    use super::*;

    fn plan(applied: bool) -> YearEndPlan {
        let promotion = |from: &str, grade: i32, to: &str, students: i32, id: &str| ClassPromotion {
            from_class_id: format!("old-{from}"),
            from_class_name: from.into(),
            from_grade: grade,
            to_class_id: if applied { id.into() } else { String::new() },
            to_class_name: to.into(),
            to_grade: grade + 1,
            student_count: students,
        };
        YearEndPlan {
            school_id: "s".into(),
            from_school_year: "2026-2027".into(),
            to_school_year: "2027-2028".into(),
            promotions: vec![
                promotion("三年级(2)班", 3, "四年级(2)班", 31, "c1"),
                promotion("Grade 5 B", 5, "Grade 6 B", 1, "c2"),
            ],
            graduations: vec![ClassGraduation {
                class_id: "g".into(),
                class_name: "六年级(1)班".into(),
                grade: 6,
                graduate_count: 28,
            }],
            promoted_students: 32,
            graduates: 28,
            graduate_expires_on: "2027-08-31".into(),
            applied,
        }
    }

    #[test]
    fn a_preview_shows_each_class_and_what_it_becomes() {
        assert_eq!(
            render_plan(&plan(false)),
            "year-end 2026-2027 → 2027-2028 (preview: nothing changed yet)\n\
             classes moving up:\n\
             \x20 CLASS        GRADE  BECOMES      GRADE  STUDENTS\n\
             \x20 三年级(2)班  3      四年级(2)班  4      31\n\
             \x20 Grade 5 B    5      Grade 6 B    6      1\n\
             graduating (cards expire 2027-08-31):\n\
             \x20 CLASS        GRADE  GRADUATES\n\
             \x20 六年级(1)班  6      28\n\
             would open 2 classes in 2027-2028 and move 32 students up; 28 students of 1 class \
             would graduate (cards expire 2027-08-31). Run again with --apply to do it.\n"
        );
    }

    #[test]
    fn an_applied_plan_says_what_was_done_with_the_new_ids() {
        let text = render_plan(&plan(true));
        assert!(text.starts_with("year-end 2026-2027 → 2027-2028\n"), "{text}");
        assert!(text.contains("STUDENTS  NEW CLASS ID\n"), "{text}");
        assert!(text.contains("四年级(2)班  4      31        c1\n"), "{text}");
        assert!(text.ends_with(
            "done: 2 classes opened in 2027-2028, 32 students moved up; 28 students of 1 class \
             graduated (inactive, cards expire 2027-08-31)\n"
        ));
    }

    #[test]
    fn an_empty_side_is_said_in_words() {
        let mut only_graduates = plan(false);
        only_graduates.promotions.clear();
        only_graduates.promoted_students = 0;
        only_graduates.graduations[0].graduate_count = 1;
        only_graduates.graduates = 1;
        let text = render_plan(&only_graduates);
        assert!(text.contains("no class moves up\n"), "{text}");
        assert!(
            text.contains("would open 0 classes in 2027-2028 and move 0 students up; 1 student of 1 class")
        );
        let mut none_graduate = plan(false);
        none_graduate.graduations.clear();
        assert!(render_plan(&none_graduate).contains("no class graduates\n"));
    }

    #[test]
    fn school_years_follow_one_another() {
        assert_eq!(next_school_year("2026-2027").as_deref(), Some("2027-2028"));
        assert_eq!(next_school_year("2026"), None);
    }

    #[test]
    fn server_text_is_cleaned() {
        let mut bad = plan(false);
        bad.to_school_year = "2027-2028\u{1b}[2J".into();
        assert!(!render_plan(&bad).contains('\u{1b}'));
    }
}
