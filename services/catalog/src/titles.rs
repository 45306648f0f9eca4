//! Titles: what a cataloguer may enter for a bibliographic record, how it
//! is stored (with the lower-cased text search matches on), and the ISBN
//! rule: one title per ISBN.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_common::refusal::{Reason, Refusal};
use lectern_common::validate::{FieldError, known_enum, optional_text, required_text};
use lectern_proto::catalog::v1 as pb;
use pb::ContributorRole;
use tonic::Code;

use crate::db::{self, ContributorRow, TitleRow};
use crate::error::Error;
use crate::isbn::{self, Isbn};
use crate::search;

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
        Ok(Self { isbn, title, contributors, publisher, publication_year, language })
    }
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
    let isbn13 = draft.isbn.as_ref().map(|isbn| isbn.isbn13().to_owned());
    if let Some(isbn13) = &isbn13
        && let Some(existing) = db::find_title_by_isbn(connection, isbn13)?
    {
        return Err(isbn_taken(isbn13, Some(&existing.id)).into());
    }
    let row = TitleRow {
        id,
        isbn13,
        title: draft.title.clone(),
        publisher: draft.publisher.clone(),
        publication_year: draft.publication_year,
        language: draft.language.clone(),
        search_text: search::search_text(&draft.title, draft.contributors.iter().map(|c| c.name.as_str())),
        title_key: search::title_key(&draft.title),
        created_at: now,
    };
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
    Ok(TitleRecord { row, contributors })
}

fn isbn_taken(isbn13: &str, title_id: Option<&str>) -> Refusal {
    let refusal = Refusal::new(
        Code::AlreadyExists,
        Reason::IsbnTaken,
        format!("a title with ISBN {isbn13} is already catalogued"),
    )
    .with("isbn13", isbn13);
    match title_id {
        Some(title_id) => refusal.with("title_id", title_id),
        None => refusal,
    }
}

/// NOT_FOUND / `TITLE_NOT_FOUND` for a title that is not there.
pub fn not_found(message: impl Into<String>) -> Refusal {
    Refusal::new(Code::NotFound, Reason::TitleNotFound, message)
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

/// Attaches their contributors to titles, with one query for all of them.
pub fn with_contributors(
    connection: &mut DbConnection,
    rows: Vec<TitleRow>,
) -> diesel::QueryResult<Vec<TitleRecord>> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut by_title: HashMap<String, Vec<ContributorRow>> = HashMap::new();
    for contributor in db::contributors_of(connection, &ids)? {
        by_title.entry(contributor.title_id.clone()).or_default().push(contributor);
    }
    Ok(rows
        .into_iter()
        .map(|row| TitleRecord { contributors: by_title.remove(&row.id).unwrap_or_default(), row })
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
        create_time: Some(crate::time::to_proto(row.created_at)),
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
            request_id: String::new(),
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
