//! Correcting a catalogued title: the fields named in a field mask are
//! replaced, and the whole record is checked again by the same rules as at
//! cataloguing ([`TitleDraft::from_request`]), so an update can never store
//! what `CreateTitle` would refuse.

use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_core::validate::FieldError;
use lectern_proto::catalog::v1 as pb;

use crate::db::{self, ContributorRow, SubjectRow};
use crate::search;
use crate::titles::{self, TitleDraft, TitleRecord};
use lectern_common::Error;

/// The title fields `UpdateTitle` may change, as named in its field mask.
pub const UPDATABLE_FIELDS: [&str; 16] = [
    "isbn13",
    "other_isbn13s",
    "title",
    "subtitle",
    "contributors",
    "publisher",
    "publication_year",
    "language",
    "edition",
    "pages",
    "series",
    "subjects",
    "summary",
    "audience",
    "clc",
    "dewey",
];

/// The request that would catalog `record` as it is now.
fn as_request(record: &TitleRecord) -> pb::CreateTitleRequest {
    let title = titles::to_proto(record);
    pb::CreateTitleRequest {
        isbn: title.isbn13,
        title: title.title,
        contributors: title.contributors,
        publisher: title.publisher,
        publication_year: title.publication_year,
        language: title.language,
        request_id: String::new(),
        subtitle: title.subtitle,
        edition: title.edition,
        pages: title.pages,
        series: title.series,
        subjects: title.subjects,
        summary: title.summary,
        audience: title.audience,
        clc: title.clc,
        dewey: title.dewey,
        call_number: title.call_number,
        other_isbns: title.other_isbn13s,
    }
}

/// The draft of `record` with the fields of `changes` named in `mask`,
/// checked as a new title would be. `call_number` is also accepted in the
/// mask; left empty, it is suggested again from the (new) class number.
pub fn changed_draft(
    record: &TitleRecord,
    changes: &pb::Title,
    mask: &[String],
) -> Result<TitleDraft, FieldError> {
    if mask.is_empty() {
        return Err(FieldError::new("update_mask", "names no field to change"));
    }
    let mut request = as_request(record);
    for field in mask {
        match field.as_str() {
            "isbn13" => request.isbn.clone_from(&changes.isbn13),
            "other_isbn13s" => request.other_isbns.clone_from(&changes.other_isbn13s),
            "title" => request.title.clone_from(&changes.title),
            "subtitle" => request.subtitle.clone_from(&changes.subtitle),
            "contributors" => request.contributors.clone_from(&changes.contributors),
            "publisher" => request.publisher.clone_from(&changes.publisher),
            "publication_year" => request.publication_year = changes.publication_year,
            "language" => request.language.clone_from(&changes.language),
            "edition" => request.edition.clone_from(&changes.edition),
            "pages" => request.pages = changes.pages,
            "series" => request.series.clone_from(&changes.series),
            "subjects" => request.subjects.clone_from(&changes.subjects),
            "summary" => request.summary.clone_from(&changes.summary),
            "audience" => request.audience = changes.audience,
            "clc" => request.clc.clone_from(&changes.clc),
            "dewey" => request.dewey.clone_from(&changes.dewey),
            "call_number" => request.call_number.clone_from(&changes.call_number),
            other => {
                return Err(FieldError::new(
                    "update_mask",
                    format!(
                        "cannot change {other:?}; changeable: {}, call_number",
                        UPDATABLE_FIELDS.join(", ")
                    ),
                ));
            }
        }
    }
    TitleDraft::from_request(&request)
}

/// Stores the corrected title (inside a write transaction): its row, and
/// its contributors, subjects and ISBNs replaced. An ISBN another title has
/// is refused with `ISBN_TAKEN`.
pub fn save(
    connection: &mut DbConnection,
    record: &TitleRecord,
    draft: &TitleDraft,
) -> Result<TitleRecord, Error> {
    let id = record.row.id.as_str();
    for isbn in draft.isbns() {
        if let Some(owner) = db::title_id_by_isbn(connection, isbn.isbn13())?
            && owner != id
        {
            return Err(titles::isbn_taken(isbn.isbn13(), Some(&owner)).into());
        }
    }
    let mut row = record.row.clone();
    row.isbn13 = draft.isbn.as_ref().map(|isbn| isbn.isbn13().to_owned());
    row.title.clone_from(&draft.title);
    row.publisher.clone_from(&draft.publisher);
    row.publication_year = draft.publication_year;
    row.language.clone_from(&draft.language);
    row.search_text = search::search_text(&draft.title, draft.contributors.iter().map(|c| c.name.as_str()));
    row.title_key = search::title_key(&draft.title);
    row.subtitle.clone_from(&draft.subtitle);
    row.edition.clone_from(&draft.edition);
    row.pages = draft.pages;
    row.series.clone_from(&draft.series);
    row.summary.clone_from(&draft.summary);
    row.audience_min_grade = draft.audience.map(|range| range.min);
    row.audience_max_grade = draft.audience.map(|range| range.max);
    row.clc.clone_from(&draft.clc);
    row.dewey.clone_from(&draft.dewey);
    row.call_number = draft.call_number();
    db::replace_title_parts(connection, &row).map_err(|error| {
        if unique_violation_on(&error, "isbn13") {
            // Another cataloguer took one of the ISBNs meanwhile
            // (PostgreSQL); the transaction is aborted, so it is not named.
            Error::from(titles::isbn_taken(draft.isbn.as_ref().map_or("", |isbn| isbn.isbn13()), None))
        } else {
            Error::from(error)
        }
    })?;
    let contributors: Vec<ContributorRow> = (1..)
        .zip(&draft.contributors)
        .map(|(position, contributor)| ContributorRow {
            title_id: id.to_owned(),
            position,
            name: contributor.name.clone(),
            role: titles::role_name(contributor.role).to_owned(),
        })
        .collect();
    for contributor in &contributors {
        db::insert_contributor(connection, contributor)?;
    }
    for (position, subject) in (1..).zip(&draft.subjects) {
        db::insert_subject(
            connection,
            &SubjectRow { title_id: id.to_owned(), position, subject: subject.clone() },
        )?;
    }
    for isbn in draft.isbns() {
        db::insert_title_isbn(connection, isbn.isbn13(), id)?;
    }
    // The search index holds the old words until rewritten.
    search::index_title(connection, id)?;
    Ok(TitleRecord {
        row,
        contributors,
        subjects: draft.subjects.clone(),
        other_isbn13s: draft.other_isbns.iter().map(|isbn| isbn.isbn13().to_owned()).collect(),
    })
}
