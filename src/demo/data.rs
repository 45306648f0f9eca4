//! The demo district's data files (tab-separated, in this folder) and the
//! rules that spread copies over the two libraries.

use std::collections::HashMap;

use anyhow::{Context as _, bail};
use lectern_proto::catalog::v1::{Contributor, ContributorRole, CreateCopyRequest, GradeRange};

const SCHOOLS: &str = include_str!("schools.tsv");
const CLASSES: &str = include_str!("classes.tsv");
const READERS: &str = include_str!("readers.tsv");
const TITLES: &str = include_str!("titles.tsv");

/// A demo school.
#[derive(Debug, Clone)]
pub struct DemoSchool {
    pub code: String,
    pub name: String,
}

/// A demo class.
#[derive(Debug, Clone)]
pub struct DemoClass {
    pub school_code: String,
    pub name: String,
    pub grade: i32,
}

/// A demo reader.
#[derive(Debug, Clone)]
pub struct DemoReader {
    pub card_barcode: String,
    pub name: String,
    pub category: String,
    pub school_code: String,
    pub class_name: String,
    pub expires_on: String,
}

impl DemoReader {
    /// A made-up guardian's mobile number (personal data: it must never
    /// reach a log line).
    pub fn guardian_phone(&self) -> String {
        let digits: String = self.card_barcode.chars().filter(char::is_ascii_digit).collect();
        format!("139{digits:0>8}")
    }

    /// A made-up guardian's email address: the address of a family who
    /// chose e-mail reminders ([`EMAIL_FAMILIES`]), else one of the card's
    /// own.
    pub fn guardian_email(&self) -> String {
        match self.email_family() {
            Some((_, address, _)) => (*address).to_owned(),
            None => format!("guardian.{}@family.example.cn", self.card_barcode.to_lowercase()),
        }
    }

    /// Who the guardian is to the child, as the contact's label.
    pub fn guardian_label(&self) -> &'static str {
        self.email_family().map_or("家长", |(_, _, label)| label)
    }

    /// Whether the family chose to be reminded by e-mail as well as in the
    /// inbox.
    pub fn wants_email(&self) -> bool {
        self.email_family().is_some()
    }

    /// The homeroom teacher's e-mail address, for readers of the class
    /// that has one on file ([`HOMEROOM_TEACHER`]).
    pub fn homeroom_teacher_email(&self) -> Option<&'static str> {
        let (school, class, address) = HOMEROOM_TEACHER;
        (self.school_code == school && self.class_name == class).then_some(address)
    }

    fn email_family(&self) -> Option<&'static (&'static str, &'static str, &'static str)> {
        EMAIL_FAMILIES.iter().find(|(card, _, _)| *card == self.card_barcode)
    }
}

/// The families who chose e-mail reminders (everyone else keeps the
/// default, the inbox): the child's card, the guardian's address and who
/// they are. They are the demo's overdue borrowers, so `lectern up --demo`
/// with an SMTP relay mails them at once. R100002 and R100003 are one
/// mother's two children (the younger has her surname), in one class: she
/// gets one digest naming both.
pub const EMAIL_FAMILIES: [(&str, &str, &str); 4] = [
    ("R100001", "yao.baba@example.cn", "爸爸"),
    ("R100002", "ren.mama@example.cn", "妈妈"),
    ("R100003", "ren.mama@example.cn", "妈妈"),
    ("R100004", "sun.mama@example.cn", "妈妈"),
];

/// The homeroom teacher with an e-mail address on file (school, class,
/// address): the class of the demo's overdue borrowers, whose teacher
/// gets its overdue reminders.
pub const HOMEROOM_TEACHER: (&str, &str, &str) = ("XH-PRI", "三年级(1)班", "zhang.laoshi@example.cn");

/// A demo title.
#[derive(Debug, Clone)]
pub struct DemoTitle {
    pub isbn13: String,
    pub title: String,
    pub contributors: Vec<Contributor>,
    pub publisher: String,
    pub year: i32,
    pub language: String,
}

/// Classic novels of Chinese literature (中国古典小说, CLC I242.4); every
/// other Chinese demo title is modern children's fiction (I287.45).
const CLASSIC_AUTHORS: [&str; 5] = ["吴承恩", "施耐庵", "罗贯中", "曹雪芹", "高鹗"];

impl DemoTitle {
    /// The demo's classification: CLC for Chinese titles, Dewey for English
    /// ones (American fiction, 813.54), as school libraries often do.
    pub fn classification(&self) -> (String, String) {
        if self.language != "zh" {
            return (String::new(), "813.54".to_owned());
        }
        if self.contributors.iter().any(|contributor| CLASSIC_AUTHORS.contains(&contributor.name.as_str())) {
            ("I242.4".to_owned(), String::new())
        } else {
            ("I287.45".to_owned(), String::new())
        }
    }

    /// Grades the demo title suits: the classics for grade 5 up, the rest
    /// for the primary grades.
    pub fn grades(&self) -> GradeRange {
        match self.classification().0.as_str() {
            "I242.4" => GradeRange { min_grade: 5, max_grade: 9 },
            _ => GradeRange { min_grade: 1, max_grade: 6 },
        }
    }

    /// The demo shelf its copies stand on at every school.
    pub fn shelf(&self) -> &'static str {
        if self.language == "zh" { SHELF_CHINESE } else { SHELF_FOREIGN }
    }
}

/// The demo libraries' shelf locations.
pub const SHELF_CHINESE: &str = "一楼 中文图书区";
/// Where the English books stand.
pub const SHELF_FOREIGN: &str = "二楼 外文图书区";

/// The rows of a TSV file, header skipped, each with exactly `columns` fields.
fn rows(file: &'static str, name: &str, columns: usize) -> anyhow::Result<Vec<Vec<&'static str>>> {
    file.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(index, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != columns {
                bail!("{name} line {}: expected {columns} columns, found {}", index + 2, fields.len());
            }
            Ok(fields)
        })
        .collect()
}

/// The demo schools.
pub fn schools() -> anyhow::Result<Vec<DemoSchool>> {
    rows(SCHOOLS, "schools.tsv", 2)?
        .into_iter()
        .map(|fields| Ok(DemoSchool { code: fields[0].to_owned(), name: fields[1].to_owned() }))
        .collect()
}

/// The demo classes.
pub fn classes() -> anyhow::Result<Vec<DemoClass>> {
    rows(CLASSES, "classes.tsv", 3)?
        .into_iter()
        .map(|fields| {
            Ok(DemoClass {
                school_code: fields[0].to_owned(),
                name: fields[1].to_owned(),
                grade: fields[2].parse().context("classes.tsv: grade")?,
            })
        })
        .collect()
}

impl DemoReader {
    /// Every reader of the demo district.
    pub fn all() -> anyhow::Result<Vec<Self>> {
        readers()
    }
}

/// The demo readers.
pub fn readers() -> anyhow::Result<Vec<DemoReader>> {
    rows(READERS, "readers.tsv", 6)?
        .into_iter()
        .map(|fields| {
            Ok(DemoReader {
                card_barcode: fields[0].to_owned(),
                name: fields[1].to_owned(),
                category: fields[2].to_owned(),
                school_code: fields[3].to_owned(),
                class_name: fields[4].to_owned(),
                expires_on: fields[5].to_owned(),
            })
        })
        .collect()
}

fn contributor(text: &str) -> Contributor {
    let (name, role) = text.split_once('|').unwrap_or((text, "author"));
    let role = match role {
        "translator" => ContributorRole::Translator,
        "illustrator" => ContributorRole::Illustrator,
        "editor" => ContributorRole::Editor,
        _ => ContributorRole::Author,
    };
    Contributor { name: name.trim().to_owned(), role: role.into() }
}

impl DemoTitle {
    /// Every title of the demo catalogue (what `lectern bench portal`'s
    /// phones search for).
    pub fn all() -> anyhow::Result<Vec<Self>> {
        titles()
    }
}

/// The demo titles.
pub fn titles() -> anyhow::Result<Vec<DemoTitle>> {
    rows(TITLES, "titles.tsv", 6)?
        .into_iter()
        .map(|fields| {
            Ok(DemoTitle {
                isbn13: fields[0].to_owned(),
                title: fields[1].to_owned(),
                contributors: fields[2]
                    .split(';')
                    .filter(|name| !name.trim().is_empty())
                    .map(contributor)
                    .collect(),
                publisher: fields[3].to_owned(),
                year: fields[4].parse().context("titles.tsv: year")?,
                language: fields[5].to_owned(),
            })
        })
        .collect()
}

/// Copies for catalogued titles (`(index in titles.tsv, title id)`): one or
/// two at the primary school (barcodes `P…`), one at the middle school for
/// two titles in three (`M…`). Deterministic, so the demo is the same every time.
pub fn copies_for(titles: &[(usize, String)], schools: &HashMap<String, String>) -> Vec<CreateCopyRequest> {
    let (Some(primary), Some(middle)) = (schools.get("XH-PRI"), schools.get("XH-MID")) else {
        return Vec::new();
    };
    let mut sorted = titles.to_vec();
    sorted.sort();
    let mut requests = Vec::new();
    let (mut next_primary, mut next_middle) = (1, 1);
    for (index, title_id) in sorted {
        for _ in 0..(1 + index % 2) {
            requests.push(copy(title_id.clone(), format!("P{next_primary:06}"), primary.clone()));
            next_primary += 1;
        }
        if index % 3 != 0 {
            requests.push(copy(title_id.clone(), format!("M{next_middle:06}"), middle.clone()));
            next_middle += 1;
        }
    }
    requests
}

fn copy(title_id: String, barcode: String, school_id: String) -> CreateCopyRequest {
    CreateCopyRequest { title_id, barcode, school_id, ..Default::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_files_parse_and_agree() {
        let schools = schools().unwrap();
        let classes = classes().unwrap();
        let readers = readers().unwrap();
        let titles = titles().unwrap();
        assert_eq!(schools.len(), 2);
        assert_eq!(readers.len(), 100);
        assert!(titles.len() >= 200);
        for reader in readers.iter().filter(|reader| !reader.class_name.is_empty()) {
            assert!(
                classes
                    .iter()
                    .any(|class| class.name == reader.class_name && class.school_code == reader.school_code),
                "reader {} in unknown class",
                reader.card_barcode
            );
        }
        assert!(titles.iter().any(|title| title.language == "zh"));
        assert!(titles.iter().any(|title| title.language == "en"));
    }

    #[test]
    fn copies_are_spread_over_both_schools_with_unique_barcodes() {
        let schools: HashMap<String, String> =
            [("XH-PRI".to_owned(), "p".to_owned()), ("XH-MID".to_owned(), "m".to_owned())].into();
        let titles: Vec<(usize, String)> = (0..6).map(|index| (index, format!("t{index}"))).collect();
        let copies = copies_for(&titles, &schools);
        assert_eq!(copies.iter().filter(|copy| copy.school_id == "p").count(), 9);
        assert_eq!(copies.iter().filter(|copy| copy.school_id == "m").count(), 4);
        let mut barcodes: Vec<&str> = copies.iter().map(|copy| copy.barcode.as_str()).collect();
        barcodes.sort_unstable();
        barcodes.dedup();
        assert_eq!(barcodes.len(), copies.len());
    }
}
