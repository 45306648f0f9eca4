//! Year-end promotion of one school: every class of the old school year
//! gets a class one grade up in the new year and its active students move
//! into it; classes of the top grade graduate (their students become
//! inactive, cards expiring on a given day, and stay in the old class for
//! history). [`plan`] is a plain function over the old year's classes;
//! [`apply`] carries a plan out inside one write transaction, so a
//! promotion happens entirely or not at all, and at most once per school
//! and year. New class names follow [`promoted_name`].

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use lectern_common::db::{DbConnection, is_unique_violation};
use lectern_core::ids;
use lectern_core::validate::{self, FieldError};
use lectern_proto::reader::v1::{ClassGraduation, ClassPromotion, YearEndPlan, YearEndRequest};

use crate::audit::{self, Entry};
use crate::db::school_year::YearEndRunRow;
use crate::db::{self, ClassRow};
use crate::error::{Error, ReaderRefusal};
use crate::organisation;

/// A checked year-end request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearEnd {
    pub school_id: String,
    pub from_school_year: String,
    pub to_school_year: String,
    pub top_grade: i32,
    pub graduate_expires_on: NaiveDate,
}

impl YearEnd {
    /// Checks a request: two school years, the second following the first;
    /// a top grade 1–12; the graduates' card expiry date.
    pub fn from_request(request: &YearEndRequest) -> Result<Self, FieldError> {
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let from_school_year = organisation::school_year("from_school_year", &request.from_school_year)?;
        let to_school_year = organisation::school_year("to_school_year", &request.to_school_year)?;
        if to_school_year != next_school_year(&from_school_year) {
            return Err(FieldError::new(
                "to_school_year",
                format!("must be the year after {from_school_year}: {}", next_school_year(&from_school_year)),
            ));
        }
        let top_grade = organisation::grade("top_grade", request.top_grade)?;
        let graduate_expires_on =
            validate::optional_date("graduate_expires_on", &request.graduate_expires_on)?
                .ok_or_else(|| FieldError::new("graduate_expires_on", "is required"))?;
        Ok(Self { school_id, from_school_year, to_school_year, top_grade, graduate_expires_on })
    }
}

/// The school year after a valid "YYYY-YYYY".
fn next_school_year(school_year: &str) -> String {
    let years: Vec<u16> = school_year.split('-').filter_map(|year| year.parse().ok()).collect();
    match years.as_slice() {
        [first, second] => format!("{}-{}", first + 1, second + 1),
        _ => String::new(),
    }
}

/// A class of the old year with its active students.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OldClass {
    pub id: String,
    pub name: String,
    pub grade: i32,
    pub students: i64,
}

/// A class that moves up: into a new class `to_name` of `to_grade`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promotion {
    pub from: OldClass,
    pub to_name: String,
    pub to_grade: i32,
}

/// What a year-end promotion does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Classes below the top grade, by grade then name.
    pub promotions: Vec<Promotion>,
    /// Classes of the top grade, by name.
    pub graduations: Vec<OldClass>,
}

impl Plan {
    /// Students who move up.
    pub fn promoted_students(&self) -> i64 {
        self.promotions.iter().map(|promotion| promotion.from.students).sum()
    }

    /// Students who graduate.
    pub fn graduates(&self) -> i64 {
        self.graduations.iter().map(|class| class.students).sum()
    }
}

const CHINESE_GRADES: [&str; 12] =
    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"];

/// The short Chinese name of a middle or high school grade: 初一–初三 for
/// grades 7–9, 高一–高三 for 10–12.
fn short_grade(grade: i32) -> Option<String> {
    let index = usize::try_from(grade).ok()?;
    match grade {
        7..=9 => Some(format!("初{}", CHINESE_GRADES[index - 7])),
        10..=12 => Some(format!("高{}", CHINESE_GRADES[index - 10])),
        _ => None,
    }
}

/// The name of a class one grade up. The first of these that the name
/// contains is replaced: the grade in Chinese before "年级" ("三年级(2)班"
/// → "四年级(2)班"), the short middle/high school form ("初二3班" →
/// "初三3班", "初三1班" → "高一1班"), or the grade as a number standing on
/// its own ("Grade 3 B" → "Grade 4 B", "3-2" → "4-2"). A name without its
/// grade in it stays as it is (the new class is in another school year).
pub fn promoted_name(name: &str, grade: i32) -> String {
    let next = grade + 1;
    let chinese = |grade: i32| usize::try_from(grade - 1).ok().and_then(|index| CHINESE_GRADES.get(index));
    if let (Some(old), Some(new)) = (chinese(grade), chinese(next)) {
        let old = format!("{old}年级");
        // "一年级" inside "十一年级" is another grade.
        let found = name.match_indices(&old).find(|(at, _)| !name[..*at].ends_with('十'));
        if let Some((at, _)) = found {
            return format!("{}{new}年级{}", &name[..at], &name[at + old.len()..]);
        }
    }
    if let (Some(old), Some(new)) = (short_grade(grade), short_grade(next))
        && let Some(at) = name.find(&old)
    {
        return format!("{}{new}{}", &name[..at], &name[at + old.len()..]);
    }
    let old = grade.to_string();
    let bytes = name.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if !bytes[start].is_ascii_digit() {
            start += 1;
            continue;
        }
        let end = start + bytes[start..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        if name[start..end] == old {
            return format!("{}{next}{}", &name[..start], &name[end..]);
        }
        start = end;
    }
    name.to_owned()
}

/// Plans a promotion of `classes` (the old year's, with their active
/// students) for a school whose last grade is `top_grade`, given the names
/// of classes that already exist in the new year. Refuses a class above the
/// top grade, an old year without classes, and a new name that is taken.
pub fn plan(
    classes: Vec<OldClass>,
    top_grade: i32,
    from_school_year: &str,
    to_school_year: &str,
    names_taken: &HashSet<String>,
) -> Result<Plan, Error> {
    if classes.is_empty() {
        return Err(ReaderRefusal::NothingToPromote(from_school_year.to_owned()).into());
    }
    if let Some(class) = classes.iter().find(|class| class.grade > top_grade) {
        return Err(FieldError::new(
            "top_grade",
            format!("class {} has grade {}, above the top grade {top_grade}", class.id, class.grade),
        )
        .into());
    }
    let mut plan = Plan::default();
    let mut new_names: HashSet<String> = HashSet::new();
    for class in classes {
        if class.grade == top_grade {
            plan.graduations.push(class);
            continue;
        }
        let to_name = promoted_name(&class.name, class.grade);
        if names_taken.contains(&to_name) || !new_names.insert(to_name.clone()) {
            return Err(Error::from(ReaderRefusal::ClassNameTaken {
                name: to_name,
                school_year: to_school_year.to_owned(),
            }));
        }
        plan.promotions.push(Promotion { to_grade: class.grade + 1, to_name, from: class });
    }
    plan.promotions.sort_by(|a, b| (a.from.grade, &a.from.name).cmp(&(b.from.grade, &b.from.name)));
    plan.graduations.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(plan)
}

/// Reads the school's old year and plans its promotion (changes nothing).
/// A year promoted already has nothing left to plan.
pub fn read_plan(connection: &mut DbConnection, year_end: &YearEnd) -> Result<Plan, Error> {
    if db::organisation::find_school(connection, &year_end.school_id)?.is_none() {
        return Err(ReaderRefusal::SchoolNotFound(year_end.school_id.clone()).into());
    }
    if db::school_year::run_exists(connection, &year_end.school_id, &year_end.from_school_year)? {
        return Err(ReaderRefusal::YearEndApplied(year_end.from_school_year.clone()).into());
    }
    let old = db::school_year::classes_of_year(connection, &year_end.school_id, &year_end.from_school_year)?;
    let ids: Vec<String> = old.iter().map(|class| class.id.clone()).collect();
    let students = db::school_year::active_students(connection, &ids)?;
    let taken: HashSet<String> =
        db::school_year::classes_of_year(connection, &year_end.school_id, &year_end.to_school_year)?
            .into_iter()
            .map(|class| class.name)
            .collect();
    let classes = old
        .into_iter()
        .map(|class| OldClass {
            students: students.get(&class.id).copied().unwrap_or(0),
            id: class.id,
            name: class.name,
            grade: class.grade,
        })
        .collect();
    plan(classes, year_end.top_grade, &year_end.from_school_year, &year_end.to_school_year, &taken)
}

/// Carries out the promotion in the caller's write transaction; returns
/// the plan with the new classes' ids. Refuses a year already promoted
/// (checked while planning, and by the unique index at the end).
pub fn apply(
    connection: &mut DbConnection,
    year_end: &YearEnd,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<YearEndPlan, Error> {
    let already = || ReaderRefusal::YearEndApplied(year_end.from_school_year.clone()).into();
    let plan = read_plan(connection, year_end)?;
    let mut new_ids = HashMap::new();
    for promotion in &plan.promotions {
        let class = ClassRow {
            id: ids::new_id(),
            school_id: year_end.school_id.clone(),
            name: promotion.to_name.clone(),
            grade: promotion.to_grade,
            school_year: year_end.to_school_year.clone(),
            created_at: now,
        };
        match db::organisation::insert_class(connection, &class) {
            Ok(()) => {}
            // A desk added a class of that name to the new year meanwhile.
            Err(error) if is_unique_violation(&error) => {
                return Err(Error::from(ReaderRefusal::ClassNameTaken {
                    name: class.name,
                    school_year: class.school_year,
                }));
            }
            Err(error) => return Err(error.into()),
        }
        db::school_year::move_students(connection, &promotion.from.id, &class.id)?;
        new_ids.insert(promotion.from.id.clone(), class.id);
    }
    for class in &plan.graduations {
        db::school_year::graduate_students(connection, &class.id, year_end.graduate_expires_on)?;
    }
    let count = |value: i64| i32::try_from(value).unwrap_or(i32::MAX);
    let run = YearEndRunRow {
        id: ids::new_id(),
        school_id: year_end.school_id.clone(),
        from_school_year: year_end.from_school_year.clone(),
        to_school_year: year_end.to_school_year.clone(),
        top_grade: year_end.top_grade,
        classes_opened: i32::try_from(plan.promotions.len()).unwrap_or(i32::MAX),
        promoted_students: count(plan.promoted_students()),
        graduates: count(plan.graduates()),
        applied_by: actor_id.to_owned(),
        applied_at: now,
    };
    match db::school_year::insert_run(connection, &run) {
        Ok(()) => {}
        // Another desk applied the same year at the same moment.
        Err(error) if is_unique_violation(&error) => return Err(already()),
        Err(error) => return Err(error.into()),
    }
    let detail = format!(
        "from={} to={} top_grade={} classes_opened={} promoted={} graduated={}",
        run.from_school_year,
        run.to_school_year,
        run.top_grade,
        run.classes_opened,
        run.promoted_students,
        run.graduates
    );
    audit::record(
        connection,
        Entry::about(audit::action::YEAR_END_APPLIED, audit::outcome::SUCCEEDED, actor_id, &run.school_id)
            .detail(detail),
        now,
    )?;
    tracing::info!(
        school.id = %run.school_id,
        classes_opened = run.classes_opened,
        promoted = run.promoted_students,
        graduated = run.graduates,
        "year-end promotion applied"
    );
    Ok(to_proto(year_end, &plan, &new_ids, true))
}

/// The wire form of a plan; `new_ids` maps old class ids to the new
/// classes' (empty for a preview).
pub fn to_proto(
    year_end: &YearEnd,
    plan: &Plan,
    new_ids: &HashMap<String, String>,
    applied: bool,
) -> YearEndPlan {
    let count = |value: i64| i32::try_from(value).unwrap_or(i32::MAX);
    YearEndPlan {
        school_id: year_end.school_id.clone(),
        from_school_year: year_end.from_school_year.clone(),
        to_school_year: year_end.to_school_year.clone(),
        promotions: plan
            .promotions
            .iter()
            .map(|promotion| ClassPromotion {
                from_class_id: promotion.from.id.clone(),
                from_class_name: promotion.from.name.clone(),
                from_grade: promotion.from.grade,
                to_class_id: new_ids.get(&promotion.from.id).cloned().unwrap_or_default(),
                to_class_name: promotion.to_name.clone(),
                to_grade: promotion.to_grade,
                student_count: count(promotion.from.students),
            })
            .collect(),
        graduations: plan
            .graduations
            .iter()
            .map(|class| ClassGraduation {
                class_id: class.id.clone(),
                class_name: class.name.clone(),
                grade: class.grade,
                graduate_count: count(class.students),
            })
            .collect(),
        promoted_students: count(plan.promoted_students()),
        graduates: count(plan.graduates()),
        graduate_expires_on: year_end.graduate_expires_on.to_string(),
        applied,
    }
}

#[cfg(test)]
mod tests;
