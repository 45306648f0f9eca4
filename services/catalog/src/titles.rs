//! Titles: what a cataloguer may enter for a bibliographic record, how it
//! is stored (with the lower-cased text search matches on), and the ISBN
//! rule: one title per ISBN.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{FieldError, known_enum, optional_text, required_text};
use lectern_proto::catalog::v1 as pb;
use pb::ContributorRole;

use crate::db::{self, ContributorRow, SubjectRow, TitleRow};
use crate::isbn::{self, Isbn};
use crate::search;
use lectern_common::Error;

/// Longest title proper, in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// Most contributors on one title.
pub const MAX_CONTRIBUTORS: usize = 20;
/// Longest contributor name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest publisher, in characters.
pub const MAX_PUBLISHER_CHARS: usize = 200;
/// Years of publication accepted besides 0 (unknown): from Gutenberg to a
/// comfortable distance ahead.
pub const PUBLICATION_YEARS: std::ops::RangeInclusive<i32> = 1450..=2100;
/// Longest subtitle, in characters.
pub const MAX_SUBTITLE_CHARS: usize = 500;
/// Longest edition statement, series, subject, in characters.
pub const MAX_EDITION_CHARS: usize = 100;
/// Longest series name or subject heading, in characters.
pub const MAX_HEADING_CHARS: usize = 200;
/// Most subject headings on one title.
pub const MAX_SUBJECTS: usize = 20;
/// Longest summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 4000;
/// Longest class number (CLC or Dewey), in characters.
pub const MAX_CLASS_CHARS: usize = 40;
/// Most ISBNs besides the first.
pub const MAX_OTHER_ISBNS: usize = 10;
/// Most pages a book is believed to have.
pub const MAX_PAGES: i32 = 100_000;
/// Grades: 0 is kindergarten, 1–12 the school grades.
pub const GRADES: std::ops::RangeInclusive<i32> = 0..=12;

/// A contributor as entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributorDraft {
    /// Name as printed.
    pub name: String,
    /// What they did (never unspecified).
    pub role: ContributorRole,
}

/// A checked request to catalog a title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleDraft {
    /// The ISBN, if the book has one.
    pub isbn: Option<Isbn>,
    /// Title proper, trimmed.
    pub title: String,
    /// Contributors in printed order.
    pub contributors: Vec<ContributorDraft>,
    /// Publisher, trimmed; may be empty.
    pub publisher: String,
    /// Year of publication, 0 if unknown.
    pub publication_year: i32,
    /// ISO 639-1 language code, or empty.
    pub language: String,
    /// Other title information; may be empty.
    pub subtitle: String,
    /// Edition statement; may be empty.
    pub edition: String,
    /// Number of pages, 0 if unknown.
    pub pages: i32,
    /// Series; may be empty.
    pub series: String,
    /// Subject headings in order.
    pub subjects: Vec<String>,
    /// Summary; may be empty.
    pub summary: String,
    /// Grades the book suits, if said.
    pub audience: Option<GradeRange>,
    /// 中图法 class number; may be empty.
    pub clc: String,
    /// Dewey number; may be empty.
    pub dewey: String,
    /// Call number for new copies; when empty, [`TitleDraft::call_number`]
    /// suggests one from the class number and the first contributor.
    pub call_number: String,
    /// ISBNs besides `isbn`, without repeats.
    pub other_isbns: Vec<Isbn>,
}

/// A range of school grades, 0 (kindergarten) to 12, low ≤ high.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GradeRange {
    /// Lowest grade.
    pub min: i32,
    /// Highest grade.
    pub max: i32,
}

impl GradeRange {
    /// Checks a range; `None` when either end is outside 0–12 or low > high.
    pub fn new(min: i32, max: i32) -> Option<Self> {
        (GRADES.contains(&min) && GRADES.contains(&max) && min <= max).then_some(Self { min, max })
    }
}

/// A draft with only what every title needs; the rest empty. MARC import
/// and ISBN intake start from this and fill in what their source has.
impl TitleDraft {
    /// A title with nothing but its title proper.
    pub fn titled(title: impl Into<String>) -> Self {
        Self {
            isbn: None,
            title: title.into(),
            contributors: Vec::new(),
            publisher: String::new(),
            publication_year: 0,
            language: String::new(),
            subtitle: String::new(),
            edition: String::new(),
            pages: 0,
            series: String::new(),
            subjects: Vec::new(),
            summary: String::new(),
            audience: None,
            clc: String::new(),
            dewey: String::new(),
            call_number: String::new(),
            other_isbns: Vec::new(),
        }
    }

    /// Every ISBN of the draft, the first one first.
    pub fn isbns(&self) -> impl Iterator<Item = &Isbn> {
        self.isbn.iter().chain(&self.other_isbns)
    }

    /// The call number to store: the one entered, else one suggested from
    /// the class number (CLC, else Dewey) and the first contributor's name;
    /// empty when the title is not classified.
    pub fn call_number(&self) -> String {
        if !self.call_number.is_empty() {
            return self.call_number.clone();
        }
        let class = if self.clc.is_empty() { &self.dewey } else { &self.clc };
        let author = self.contributors.first().map_or("", |contributor| contributor.name.as_str());
        lectern_biblio::callnumber::suggest(class, author).unwrap_or_default()
    }
}

impl TitleDraft {
    /// Checks a `CreateTitleRequest`; the error names the bad field.
    pub fn from_request(request: &pb::CreateTitleRequest) -> Result<Self, FieldError> {
        let isbn = match request.isbn.trim() {
            "" => None,
            text => Some(Isbn::parse(text).map_err(|error| FieldError::new("isbn", error.to_string()))?),
        };
        let title = required_text("title", &request.title, MAX_TITLE_CHARS)?;
        if request.contributors.len() > MAX_CONTRIBUTORS {
            return Err(FieldError::new(
                "contributors",
                format!("has {} entries; at most {MAX_CONTRIBUTORS} are allowed", request.contributors.len()),
            ));
        }
        let contributors = request
            .contributors
            .iter()
            .enumerate()
            .map(|(index, contributor)| contributor_draft(index, contributor))
            .collect::<Result<Vec<_>, _>>()?;
        let publisher = optional_text("publisher", &request.publisher, MAX_PUBLISHER_CHARS)?;
        let publication_year = request.publication_year;
        if publication_year != 0 && !PUBLICATION_YEARS.contains(&publication_year) {
            return Err(FieldError::new(
                "publication_year",
                format!(
                    "must be 0 (unknown) or between {} and {}",
                    PUBLICATION_YEARS.start(),
                    PUBLICATION_YEARS.end()
                ),
            ));
        }
        let language = request.language.trim().to_owned();
        if !(language.is_empty() || language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase())) {
            return Err(FieldError::new(
                "language",
                "must be empty or an ISO 639-1 code of two lower-case letters, such as \"zh\" or \"en\"",
            ));
        }
        let subtitle = optional_text("subtitle", &request.subtitle, MAX_SUBTITLE_CHARS)?;
        let edition = optional_text("edition", &request.edition, MAX_EDITION_CHARS)?;
        if !(0..=MAX_PAGES).contains(&request.pages) {
            return Err(FieldError::new(
                "pages",
                format!("must be 0 (unknown) or between 1 and {MAX_PAGES}"),
            ));
        }
        let series = optional_text("series", &request.series, MAX_HEADING_CHARS)?;
        if request.subjects.len() > MAX_SUBJECTS {
            return Err(FieldError::new(
                "subjects",
                format!("has {} entries; at most {MAX_SUBJECTS} are allowed", request.subjects.len()),
            ));
        }
        let subjects = request
            .subjects
            .iter()
            .map(|subject| required_text("subjects", subject, MAX_HEADING_CHARS))
            .collect::<Result<Vec<_>, _>>()?;
        let summary = optional_text("summary", &request.summary, MAX_SUMMARY_CHARS)?;
        let audience = match &request.audience {
            None => None,
            Some(range) => Some(GradeRange::new(range.min_grade, range.max_grade).ok_or_else(|| {
                FieldError::new("audience", "grades must be 0 (kindergarten) to 12, the lowest first")
            })?),
        };
        let clc = class_number("clc", &request.clc)?;
        let dewey = class_number("dewey", &request.dewey)?;
        let call_number =
            optional_text("call_number", &request.call_number, crate::copies::MAX_CALL_NUMBER_CHARS)?;
        if request.other_isbns.len() > MAX_OTHER_ISBNS {
            return Err(FieldError::new(
                "other_isbns",
                format!("has {} entries; at most {MAX_OTHER_ISBNS} are allowed", request.other_isbns.len()),
            ));
        }
        let mut other_isbns: Vec<Isbn> = Vec::new();
        for text in &request.other_isbns {
            let other =
                Isbn::parse(text).map_err(|error| FieldError::new("other_isbns", error.to_string()))?;
            if isbn.as_ref() != Some(&other) && !other_isbns.contains(&other) {
                other_isbns.push(other);
            }
        }
        if isbn.is_none() && !other_isbns.is_empty() {
            return Err(FieldError::new("other_isbns", "needs the first ISBN in `isbn`"));
        }
        Ok(Self {
            isbn,
            title,
            contributors,
            publisher,
            publication_year,
            language,
            subtitle,
            edition,
            pages: request.pages,
            series,
            subjects,
            summary,
            audience,
            clc,
            dewey,
            call_number,
            other_isbns,
        })
    }
}

/// A class number as cataloguers write it: letters, digits and the
/// punctuation of CLC and Dewey (`.` `-` `/` `:` `=` `(` `)` `"` `<` `>`).
fn class_number(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let text = optional_text(field, raw, MAX_CLASS_CHARS)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-/:=()\"<> +".contains(c);
    if let Some(bad) = text.chars().find(|c| !allowed(*c)) {
        return Err(FieldError::new(
            field,
            format!("contains {bad:?}, which does not belong in a class number"),
        ));
    }
    Ok(text)
}

fn contributor_draft(index: usize, contributor: &pb::Contributor) -> Result<ContributorDraft, FieldError> {
    let position = index + 1;
    let name = required_text("contributors.name", &contributor.name, MAX_NAME_CHARS).map_err(|error| {
        FieldError::new(error.field, format!("{} (contributor {position})", error.problem))
    })?;
    let role = if contributor.role == 0 {
        ContributorRole::Author
    } else {
        known_enum("contributors.role", contributor.role).map_err(|error| {
            FieldError::new(error.field, format!("{} (contributor {position})", error.problem))
        })?
    };
    Ok(ContributorDraft { name, role })
}

/// A title with its contributors, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleRecord {
    /// The title.
    pub row: TitleRow,
    /// Its contributors in printed order.
    pub contributors: Vec<ContributorRow>,
    /// Its subject headings in order.
    pub subjects: Vec<String>,
    /// Its ISBN-13s besides `row.isbn13`.
    pub other_isbn13s: Vec<String>,
}

/// Catalogs a title (call inside a write transaction). An ISBN already
/// catalogued is refused with ALREADY_EXISTS / `ISBN_TAKEN` naming the
/// title that has it.
pub fn create(
    connection: &mut DbConnection,
    draft: &TitleDraft,
    id: String,
    now: NaiveDateTime,
) -> Result<TitleRecord, Error> {
    for isbn in draft.isbns() {
        if let Some(existing) = db::title_id_by_isbn(connection, isbn.isbn13())? {
            return Err(isbn_taken(isbn.isbn13(), Some(&existing)).into());
        }
    }
    let row = title_row(draft, id, now);
    db::insert_title(connection, &row).map_err(|error| {
        // Another cataloguer stored the same ISBN between the check above
        // and this insert (PostgreSQL only: SQLite writers are serialized).
        // The transaction is aborted, so the other title cannot be named.
        match &row.isbn13 {
            Some(isbn13) if unique_violation_on(&error, "isbn13") => Error::from(isbn_taken(isbn13, None)),
            _ => Error::from(error),
        }
    })?;
    let mut contributors = Vec::with_capacity(draft.contributors.len());
    for (position, contributor) in (1..).zip(&draft.contributors) {
        let contributor = ContributorRow {
            title_id: row.id.clone(),
            position,
            name: contributor.name.clone(),
            role: role_name(contributor.role).to_owned(),
        };
        db::insert_contributor(connection, &contributor)?;
        contributors.push(contributor);
    }
    for isbn in draft.isbns() {
        db::insert_title_isbn(connection, isbn.isbn13(), &row.id).map_err(|error| {
            if unique_violation_on(&error, "isbn13") {
                Error::from(isbn_taken(isbn.isbn13(), None))
            } else {
                Error::from(error)
            }
        })?;
    }
    for (position, subject) in (1..).zip(&draft.subjects) {
        db::insert_subject(
            connection,
            &SubjectRow { title_id: row.id.clone(), position, subject: subject.clone() },
        )?;
    }
    // Search index (issue 4, search): the stored title's index entries and
    // field texts, written in the same transaction.
    search::index_title(connection, &row.id)?;
    Ok(TitleRecord {
        row,
        contributors,
        subjects: draft.subjects.clone(),
        other_isbn13s: draft.other_isbns.iter().map(|isbn| isbn.isbn13().to_owned()).collect(),
    })
}

/// The stored row of a new title `id` (MARC import builds many at once).
pub fn title_row(draft: &TitleDraft, id: String, now: NaiveDateTime) -> TitleRow {
    let call_number = draft.call_number();
    TitleRow {
        id,
        isbn13: draft.isbn.as_ref().map(|isbn| isbn.isbn13().to_owned()),
        title: draft.title.clone(),
        publisher: draft.publisher.clone(),
        publication_year: draft.publication_year,
        language: draft.language.clone(),
        search_text: search::search_text(&draft.title, draft.contributors.iter().map(|c| c.name.as_str())),
        title_key: search::title_key(&draft.title),
        created_at: now,
        subtitle: draft.subtitle.clone(),
        edition: draft.edition.clone(),
        pages: draft.pages,
        series: draft.series.clone(),
        summary: draft.summary.clone(),
        audience_min_grade: draft.audience.map(|range| range.min),
        audience_max_grade: draft.audience.map(|range| range.max),
        clc: draft.clc.clone(),
        dewey: draft.dewey.clone(),
        call_number,
    }
}

/// ALREADY_EXISTS / `ISBN_TAKEN`, naming the title that has the ISBN when
/// it is known.
pub fn isbn_taken(isbn13: &str, title_id: Option<&str>) -> Refusal {
    let refusal =
        Refusal::new(Reason::IsbnTaken, format!("a title with ISBN {isbn13} is already catalogued"))
            .with("isbn13", isbn13);
    match title_id {
        Some(title_id) => refusal.with("title_id", title_id),
        None => refusal,
    }
}

/// NOT_FOUND / `TITLE_NOT_FOUND` for a title that is not there.
pub fn not_found(message: impl Into<String>) -> Refusal {
    Refusal::new(Reason::TitleNotFound, message)
}

/// The title with `id` and its contributors.
pub fn load(connection: &mut DbConnection, id: &str) -> Result<Option<TitleRecord>, Error> {
    let rows = db::find_title(connection, id)?.into_iter().collect();
    Ok(with_contributors(connection, rows)?.pop())
}

/// The title with an ISBN and its contributors.
pub fn load_by_isbn(connection: &mut DbConnection, isbn: &Isbn) -> Result<Option<TitleRecord>, Error> {
    let rows = db::find_title_by_isbn(connection, isbn.isbn13())?.into_iter().collect();
    Ok(with_contributors(connection, rows)?.pop())
}

/// Attaches their contributors, subjects and other ISBNs to titles, with
/// one query for each for all of them.
pub fn with_contributors(
    connection: &mut DbConnection,
    rows: Vec<TitleRow>,
) -> diesel::QueryResult<Vec<TitleRecord>> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut contributors: HashMap<String, Vec<ContributorRow>> = HashMap::new();
    for contributor in db::contributors_of(connection, &ids)? {
        contributors.entry(contributor.title_id.clone()).or_default().push(contributor);
    }
    let mut subjects: HashMap<String, Vec<String>> = HashMap::new();
    for subject in db::subjects_of(connection, &ids)? {
        subjects.entry(subject.title_id).or_default().push(subject.subject);
    }
    let mut isbns: HashMap<String, Vec<String>> = HashMap::new();
    for (title_id, isbn13) in db::isbns_of(connection, &ids)? {
        isbns.entry(title_id).or_default().push(isbn13);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut other_isbn13s = isbns.remove(&row.id).unwrap_or_default();
            other_isbn13s.retain(|isbn13| Some(isbn13) != row.isbn13.as_ref());
            TitleRecord {
                contributors: contributors.remove(&row.id).unwrap_or_default(),
                subjects: subjects.remove(&row.id).unwrap_or_default(),
                other_isbn13s,
                row,
            }
        })
        .collect())
}

/// The stored name of a contributor role.
pub fn role_name(role: ContributorRole) -> &'static str {
    match role {
        ContributorRole::Author | ContributorRole::Unspecified => "author",
        ContributorRole::Translator => "translator",
        ContributorRole::Illustrator => "illustrator",
        ContributorRole::Editor => "editor",
    }
}

/// A stored role name as the API enum (author for anything unknown).
pub fn role_of(stored: &str) -> ContributorRole {
    match stored {
        "translator" => ContributorRole::Translator,
        "illustrator" => ContributorRole::Illustrator,
        "editor" => ContributorRole::Editor,
        _ => ContributorRole::Author,
    }
}

/// A stored title as the API message.
pub fn to_proto(record: &TitleRecord) -> pb::Title {
    let row = &record.row;
    let isbn13 = row.isbn13.clone().unwrap_or_default();
    pb::Title {
        id: row.id.clone(),
        isbn10: isbn::isbn10_of(&isbn13),
        isbn13,
        title: row.title.clone(),
        contributors: record
            .contributors
            .iter()
            .map(|c| pb::Contributor { name: c.name.clone(), role: role_of(&c.role).into() })
            .collect(),
        publisher: row.publisher.clone(),
        publication_year: row.publication_year,
        language: row.language.clone(),
        create_time: Some(lectern_core::time::timestamp(row.created_at)),
        subtitle: row.subtitle.clone(),
        edition: row.edition.clone(),
        pages: row.pages,
        series: row.series.clone(),
        subjects: record.subjects.clone(),
        summary: row.summary.clone(),
        audience: match (row.audience_min_grade, row.audience_max_grade) {
            (Some(min_grade), Some(max_grade)) => Some(pb::GradeRange { min_grade, max_grade }),
            _ => None,
        },
        clc: row.clc.clone(),
        dewey: row.dewey.clone(),
        call_number: row.call_number.clone(),
        other_isbn13s: record.other_isbn13s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> pb::CreateTitleRequest {
        pb::CreateTitleRequest {
            isbn: "978-7-5346-5238-7".into(),
            title: " 草房子 ".into(),
            contributors: vec![pb::Contributor { name: "曹文轩".into(), role: 0 }],
            publisher: "江苏少年儿童出版社".into(),
            publication_year: 2008,
            language: "zh".into(),
            ..Default::default()
        }
    }

    fn problem(request: pb::CreateTitleRequest) -> String {
        TitleDraft::from_request(&request).unwrap_err().to_string()
    }

    #[test]
    fn a_good_request_is_trimmed_and_defaults_to_author() {
        let draft = TitleDraft::from_request(&request()).unwrap();
        assert_eq!(draft.title, "草房子");
        assert_eq!(draft.isbn.unwrap().isbn13(), "9787534652387");
        assert_eq!(draft.contributors[0].role, ContributorRole::Author);
        let no_isbn = TitleDraft::from_request(&pb::CreateTitleRequest {
            isbn: "  ".into(),
            language: String::new(),
            publication_year: 0,
            ..request()
        })
        .unwrap();
        assert_eq!(no_isbn.isbn, None);
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(
            problem(pb::CreateTitleRequest { isbn: "978-7-5346-5238-0".into(), ..request() }),
            "isbn: ISBN-13 check digit is 0 but should be 7 (mistyped or misread?)"
        );
        assert_eq!(
            problem(pb::CreateTitleRequest { title: "x".repeat(501), ..request() }),
            "title: is longer than 500 characters"
        );
        assert_eq!(
            problem(pb::CreateTitleRequest { publication_year: 1449, ..request() }),
            "publication_year: must be 0 (unknown) or between 1450 and 2100"
        );
        assert!(
            problem(pb::CreateTitleRequest { language: "ZH".into(), ..request() }).starts_with("language: ")
        );
        assert!(
            problem(pb::CreateTitleRequest { language: "zho".into(), ..request() }).starts_with("language: ")
        );
        assert_eq!(
            problem(pb::CreateTitleRequest {
                contributors: vec![pb::Contributor::default(); 21],
                ..request()
            }),
            "contributors: has 21 entries; at most 20 are allowed"
        );
        let mut two = request();
        two.contributors.push(pb::Contributor { name: " ".into(), role: 2 });
        assert_eq!(problem(two), "contributors.name: is required (contributor 2)");
        let mut unknown_role = request();
        unknown_role.contributors[0].role = 99;
        assert_eq!(problem(unknown_role), "contributors.role: has unknown value 99 (contributor 1)");
    }

    #[test]
    fn roles_round_trip_through_storage() {
        for role in [
            ContributorRole::Author,
            ContributorRole::Translator,
            ContributorRole::Illustrator,
            ContributorRole::Editor,
        ] {
            assert_eq!(role_of(role_name(role)), role);
        }
    }
}
