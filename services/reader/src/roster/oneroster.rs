//! OneRoster 1.1 CSV, as student information systems export it: the org of
//! type school whose `identifier` is the Lectern school's code is the
//! school imported; its students, teachers and staff in `users.csv` become
//! readers (number = `identifier`, else `username`); its homeroom classes
//! in `classes.csv` become classes; student enrollments in those classes
//! put the students in them. File names match in any case; unknown columns
//! are ignored; `inactive`/`tobedeleted` and `enabledUser=false` make a
//! reader inactive.

use std::collections::{HashMap, HashSet};

use super::lectern_csv::{name, problem, take};
use super::table::Table;
use super::{ClassRef, LineError, Roster, RosterReader, duplicates, fields};
use crate::readers;

/// One file of the export, by name.
pub struct File<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Reads the files of a OneRoster 1.1 export for the school with code
/// `school_code`. `default_year` is the school year of classes whose term
/// says none.
pub fn read(files: &[File<'_>], school_code: &str, default_year: &str) -> Result<Roster, Vec<LineError>> {
    let by_name: HashMap<String, &File<'_>> = files
        .iter()
        .map(|file| {
            let base = file.name.rsplit(['/', '\\']).next().unwrap_or(file.name);
            (base.to_lowercase(), file)
        })
        .collect();
    let mut roster = Roster::default();
    let mut errors = Vec::new();
    if let Some(manifest) = by_name.get("manifest.csv") {
        match read_manifest(manifest, &by_name) {
            Ok(partial) => roster.partial = partial,
            Err(mut found) => errors.append(&mut found),
        }
    }
    let table = |name: &str, required: &[&str]| -> Option<Result<Table, Vec<LineError>>> {
        by_name.get(name).map(|file| Table::read(file.name, file.bytes, required, str::to_owned))
    };
    let need = |name: &str, required: &[&str], errors: &mut Vec<LineError>| match table(name, required) {
        Some(Ok(table)) => Some(table),
        Some(Err(mut found)) => {
            errors.append(&mut found);
            None
        }
        None => {
            errors.push(LineError::file(name, format!("the export has no {name}")));
            None
        }
    };
    let orgs = need("orgs.csv", &["sourcedId", "type"], &mut errors);
    let users = need("users.csv", &["sourcedId", "role", "orgSourcedIds"], &mut errors);
    let classes = match table("classes.csv", &["sourcedId", "title", "classType", "schoolSourcedId"]) {
        Some(result) => result.map(Some).unwrap_or_else(|mut found| {
            errors.append(&mut found);
            None
        }),
        None => None,
    };
    let enrollments = match table("enrollments.csv", &["classSourcedId", "userSourcedId", "role"]) {
        Some(result) => result.map(Some).unwrap_or_else(|mut found| {
            errors.append(&mut found);
            None
        }),
        None => None,
    };
    let sessions = match table("academicsessions.csv", &["sourcedId", "schoolYear"]) {
        Some(Ok(table)) => Some(table),
        Some(Err(mut found)) => {
            errors.append(&mut found);
            None
        }
        None => None,
    };
    if enrollments.is_some() && !by_name.contains_key("classes.csv") {
        errors.push(LineError::file(
            "classes.csv",
            "enrollments.csv names classes, but the export has no classes.csv",
        ));
    }
    let (Some(orgs), Some(users)) = (orgs, users) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let org = match school_org(&orgs, school_code) {
        Ok(org) => org,
        Err(error) => return Err(vec![error]),
    };
    let years = sessions.map(|sessions| school_years(&sessions, &mut errors)).unwrap_or_default();
    let homerooms = classes
        .as_ref()
        .map(|classes| homerooms(classes, &org, &years, default_year, &mut errors))
        .unwrap_or_default();
    let mut index_by_user: HashMap<String, usize> = HashMap::new();
    let mut known_users: HashSet<String> = HashSet::new();
    let (mut not_readers, mut elsewhere) = (0_u64, 0_u64);
    for row in &users.rows {
        let sourced_id = users.get(row, "sourcedid").to_owned();
        known_users.insert(sourced_id.clone());
        let in_school = users.get(row, "orgsourcedids").split(',').any(|id| id.trim() == org);
        let category = match users.get(row, "role").to_lowercase().as_str() {
            "student" => "student",
            "teacher" => "teacher",
            "aide" | "administrator" | "proctor" => "staff",
            _ => {
                not_readers += 1;
                continue;
            }
        };
        if !in_school {
            elsewhere += 1;
            continue;
        }
        let mut line_errors = Vec::new();
        let number_cell = match users.get(row, "identifier") {
            "" => ("username", users.get(row, "username")),
            identifier => ("identifier", identifier),
        };
        let number = match readers::number("number", number_cell.1) {
            Ok(Some(number)) => Some(number),
            Ok(None) => take(
                &mut line_errors,
                &users,
                row,
                "identifier",
                Err("a student or staff number is required in identifier (or username)".to_owned()),
            ),
            Err(error) => take(&mut line_errors, &users, row, number_cell.0, problem(Err(error))),
        };
        let full_name = take(
            &mut line_errors,
            &users,
            row,
            "givenname",
            name(&full_name(
                users.get(row, "givenname"),
                users.get(row, "middlename"),
                users.get(row, "familyname"),
            )),
        );
        let status = take(&mut line_errors, &users, row, "status", fields::active(users.get(row, "status")));
        let enabled = !users.get(row, "enableduser").eq_ignore_ascii_case("false");
        match (number, full_name, status) {
            (Some(number), Some(full_name), Some(active)) if line_errors.is_empty() => {
                index_by_user.insert(sourced_id, roster.readers.len());
                roster.readers.push(RosterReader {
                    file: users.file.clone(),
                    line: row.line,
                    number,
                    name: full_name,
                    category: category.to_owned(),
                    card_barcode: None,
                    class: None,
                    expires_on: None,
                    active: active && enabled,
                });
            }
            _ => errors.append(&mut line_errors),
        }
    }
    roster.skipped += not_readers + elsewhere;
    if not_readers > 0 {
        roster
            .notes
            .push(format!("{not_readers} users are parents, guardians or relatives: not readers, skipped"));
    }
    if elsewhere > 0 {
        roster.notes.push(format!("{elsewhere} users belong to other schools only: skipped"));
    }
    if let Some(enrollments) = &enrollments {
        enroll(enrollments, &homerooms, &known_users, &index_by_user, &mut roster, &mut errors);
    }
    errors.extend(duplicates(&roster.readers, "identifier"));
    if errors.is_empty() { Ok(roster) } else { Err(errors) }
}

/// Whether the manifest marks users.csv as a delta; errors for a version
/// other than 1.1 and for files marked absent but sent.
fn read_manifest(file: &File<'_>, by_name: &HashMap<String, &File<'_>>) -> Result<bool, Vec<LineError>> {
    let table = Table::read(file.name, file.bytes, &["propertyName", "value"], str::to_owned)?;
    let mut partial = false;
    let mut errors = Vec::new();
    for row in &table.rows {
        let property = table.get(row, "propertyname").to_lowercase();
        let value = table.get(row, "value").to_lowercase();
        if property == "oneroster.version" && !value.starts_with("1.1") && !value.starts_with("1.0") {
            errors.push(table.error(
                row,
                "value",
                format!("OneRoster {value} is not supported: export OneRoster 1.1"),
            ));
        }
        if let Some(name) = property.strip_prefix("file.") {
            if value == "delta" && name == "users" {
                partial = true;
            }
            if value == "absent" && by_name.contains_key(&format!("{name}.csv")) {
                errors.push(table.error(
                    row,
                    "value",
                    format!("{name}.csv is marked absent but is in the export"),
                ));
            }
        }
    }
    if errors.is_empty() { Ok(partial) } else { Err(errors) }
}

/// The sourcedId of the org of type school that is the Lectern school.
fn school_org(orgs: &Table, school_code: &str) -> Result<String, LineError> {
    let schools: Vec<_> =
        orgs.rows.iter().filter(|row| orgs.get(row, "type").eq_ignore_ascii_case("school")).collect();
    if let Some(row) =
        schools.iter().find(|row| orgs.get(row, "identifier").eq_ignore_ascii_case(school_code))
    {
        return Ok(orgs.get(row, "sourcedid").to_owned());
    }
    match schools.as_slice() {
        [only] if orgs.get(only, "identifier").is_empty() => Ok(orgs.get(only, "sourcedid").to_owned()),
        _ => Err(LineError::file(
            &orgs.file,
            format!("no org of type school has identifier {school_code} (the Lectern school's code)"),
        )),
    }
}

/// School year ("2026-2027") by academic session sourcedId.
fn school_years(sessions: &Table, errors: &mut Vec<LineError>) -> HashMap<String, String> {
    let mut years = HashMap::new();
    for row in &sessions.rows {
        if let Some(year) =
            take(errors, sessions, row, "schoolyear", fields::school_year(sessions.get(row, "schoolyear")))
        {
            years.insert(sessions.get(row, "sourcedid").to_owned(), year);
        }
    }
    years
}

/// Every class sourcedId of the file, with the Lectern class for the
/// school's active homerooms (`None` for other classes: enrollments in them
/// are ignored).
fn homerooms(
    classes: &Table,
    org: &str,
    years: &HashMap<String, String>,
    default_year: &str,
    errors: &mut Vec<LineError>,
) -> HashMap<String, Option<ClassRef>> {
    let mut found = HashMap::new();
    for row in &classes.rows {
        let sourced_id = classes.get(row, "sourcedid").to_owned();
        let wanted = classes.get(row, "classtype").eq_ignore_ascii_case("homeroom")
            && classes.get(row, "schoolsourcedid") == org
            && fields::active(classes.get(row, "status")).unwrap_or(true);
        if !wanted {
            found.insert(sourced_id, None);
            continue;
        }
        let title = take(
            errors,
            classes,
            row,
            "title",
            super::lectern_csv::class_name_cell(classes.get(row, "title")),
        );
        let first_grade = classes.get(row, "grades").split(',').next().unwrap_or_default();
        let grade = take(errors, classes, row, "grades", fields::grade(first_grade));
        let school_year = classes
            .get(row, "termsourcedids")
            .split(',')
            .find_map(|term| years.get(term.trim()).cloned())
            .unwrap_or_else(|| default_year.to_owned());
        let class = match (title, grade) {
            (Some(name), Some(grade)) => Some(ClassRef { name, grade, school_year }),
            _ => None,
        };
        found.insert(sourced_id, class);
    }
    found
}

/// Puts students in their homerooms; errors for enrollments naming a class
/// or user the export does not have.
fn enroll(
    enrollments: &Table,
    homerooms: &HashMap<String, Option<ClassRef>>,
    known_users: &HashSet<String>,
    index_by_user: &HashMap<String, usize>,
    roster: &mut Roster,
    errors: &mut Vec<LineError>,
) {
    for row in &enrollments.rows {
        if !fields::active(enrollments.get(row, "status")).unwrap_or(true) {
            continue;
        }
        let class_id = enrollments.get(row, "classsourcedid");
        let user_id = enrollments.get(row, "usersourcedid");
        let Some(class) = homerooms.get(class_id) else {
            errors.push(enrollments.error(
                row,
                "classsourcedid",
                format!("unknown class {class_id:?}: not in classes.csv"),
            ));
            continue;
        };
        if !known_users.contains(user_id) {
            errors.push(enrollments.error(
                row,
                "usersourcedid",
                format!("unknown user {user_id:?}: not in users.csv"),
            ));
            continue;
        }
        if !enrollments.get(row, "role").eq_ignore_ascii_case("student") {
            continue;
        }
        if let (Some(class), Some(index)) = (class, index_by_user.get(user_id))
            && let Some(reader) = roster.readers.get_mut(*index)
            && reader.class.is_none()
        {
            reader.class = Some(class.clone());
        }
    }
}

/// A person's name as the school writes it: family name first and no
/// spaces for Chinese names (王 + 小明 = 王小明), "Given Middle Family"
/// otherwise.
pub fn full_name(given: &str, middle: &str, family: &str) -> String {
    let chinese = |text: &str| text.chars().any(|character| ('\u{2E80}'..='\u{9FFF}').contains(&character));
    if chinese(given) || chinese(family) {
        return format!("{}{}{}", family.trim(), middle.trim(), given.trim());
    }
    [given, middle, family]
        .iter()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[path = "oneroster_tests.rs"]
mod tests;
