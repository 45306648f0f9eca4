//! What a search query means, how a title is indexed for it, and how hits
//! are ranked (decision record 0004). A query that reads as an ISBN finds
//! the title having that ISBN; anything else is looked up in the search
//! index (two-character windows of Chinese, whole words of English, see
//! [`crate::search_terms`]) and checked as a case-insensitive substring of
//! the searched field: any length of Chinese from one character, English
//! words and word prefixes, in the title, contributors or subjects.
//!
//! Text is matched on lower-cased copies stored with each title
//! (`search_text`, `title_key`, `title_search_fields`), lower-cased here the
//! same way (Rust's `to_lowercase`), so both databases compare plain
//! strings and behave alike.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::QueryResult;
use lectern_common::db::DbConnection;
use lectern_core::paging;
use lectern_core::validate::{FieldError, known_enum, required_text};
use lectern_proto::catalog::v1 as pb;

use crate::db::{self, CopyRow, SearchFieldsRow, SearchTermRow};
use crate::isbn::{self, Isbn};
use crate::search_terms::{self, Piece};
use crate::{copies, titles};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// What a query searches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// The title with this ISBN.
    Isbn(Isbn),
    /// Titles whose title or contributors contain this text.
    Text(TextQuery),
}

/// A text search, ready for SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    /// The lower-cased query.
    pub needle: String,
    /// `needle%`, with LIKE wildcards in the query escaped (ranking).
    pub prefix_pattern: String,
    /// `%needle%`, with LIKE wildcards in the query escaped (ranking).
    pub contains_pattern: String,
    /// The index look-ups; a title must have all of them.
    pub pieces: Vec<Piece>,
    /// `%part%` for each space-separated part of the query: the searched
    /// field must contain every one.
    pub substring_patterns: Vec<String>,
    /// Whether the substring check can find anything the index look-ups
    /// have not already proved: false when each space-separated part of
    /// the query is exactly one look-up (`森林`, `cha`, `harry smith`),
    /// whose entry shows the text contains it (`char` looks up `cha`, so
    /// its substring is checked).
    pub verify: bool,
}

impl TextQuery {
    /// A text search for `text` (already trimmed).
    pub fn new(text: &str) -> Self {
        let needle = text.to_lowercase();
        let escaped = escape_like(&needle);
        let pieces = search_terms::query_pieces(&needle);
        let looked_up = |part: &str| {
            pieces
                .iter()
                .any(|piece| matches!(piece, Piece::Exact(text) | Piece::Prefix(text) if text == part))
        };
        let verify = pieces.is_empty() || !search_terms::substrings(&needle).into_iter().all(looked_up);
        Self {
            prefix_pattern: format!("{escaped}%"),
            contains_pattern: format!("%{escaped}%"),
            verify,
            pieces,
            substring_patterns: search_terms::substrings(&needle)
                .into_iter()
                .map(|part| format!("%{}%", escape_like(part)))
                .collect(),
            needle,
        }
    }
}

/// Which text of a record a text query is looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    /// Title, subtitle, series, contributors, subjects.
    Any,
    /// Title proper, subtitle, series.
    Title,
    /// Contributor names.
    Author,
    /// Subject headings.
    Subject,
}

/// "Available now" filter: a copy on the shelf at this school, or at any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailableNow {
    /// The school, or `None` for any school of the district.
    pub school_id: Option<String>,
}

/// What a search is narrowed to besides its query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only titles with a copy at this school.
    pub held_at_school: Option<String>,
    /// Only titles with a copy on the shelf now.
    pub available_now: Option<AvailableNow>,
    /// `prefix%` (escaped, upper-cased) on the CLC or Dewey class number.
    pub class_prefix_pattern: Option<String>,
    /// ISO 639-1 code.
    pub language: Option<String>,
    /// A grade inside the title's audience range.
    pub audience_grade: Option<i32>,
}

/// A checked search request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    /// What is looked for.
    pub query: SearchQuery,
    /// Where a text query is looked for.
    pub field: SearchField,
    /// Narrowing filters.
    pub filters: Filters,
    /// Copies (and availability counts) are listed for this school only.
    pub school_id: Option<String>,
}

/// Longest classification prefix, in characters.
pub const MAX_CLASS_CHARS: usize = 32;
/// Highest grade of an audience filter (0 is kindergarten).
pub const MAX_GRADE: i32 = 12;

impl SearchRequest {
    /// A search of all fields without filters, listing copies at `school_id`
    /// (or everywhere).
    pub fn plain(query: SearchQuery, school_id: Option<String>) -> Self {
        Self { query, field: SearchField::Any, filters: Filters::default(), school_id }
    }

    /// Checks a `SearchTitlesRequest`; the error names the bad field.
    pub fn from_request(request: &pb::SearchTitlesRequest) -> Result<Self, FieldError> {
        let school_id = lectern_core::ids::parse_optional_id("school_id", &request.school_id)?;
        let field = if request.field == 0 {
            pb::SearchField::Unspecified
        } else {
            known_enum("field", request.field)?
        };
        let (query, field) = match field {
            pb::SearchField::Isbn => {
                let text = required_text("query", &request.query, MAX_QUERY_CHARS)?;
                let isbn = Isbn::parse(&text).map_err(|error| FieldError::new("query", error.to_string()))?;
                (SearchQuery::Isbn(isbn), SearchField::Any)
            }
            pb::SearchField::Title => (text_query("query", &request.query)?, SearchField::Title),
            pb::SearchField::Author => (text_query("query", &request.query)?, SearchField::Author),
            pb::SearchField::Subject => (text_query("query", &request.query)?, SearchField::Subject),
            pb::SearchField::Unspecified | pb::SearchField::Keyword => {
                (parse_query("query", &request.query)?, SearchField::Any)
            }
        };
        let held_at_school = match (request.held_at_school_only, &school_id) {
            (false, _) => None,
            (true, Some(school_id)) => Some(school_id.clone()),
            (true, None) => {
                return Err(FieldError::new("school_id", "is required when held_at_school_only is set"));
            }
        };
        let available_now = request.available_now.then(|| AvailableNow { school_id: school_id.clone() });
        let class = request.classification.trim();
        let class_prefix_pattern = if class.is_empty() {
            None
        } else if class.chars().count() > MAX_CLASS_CHARS
            || !class.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '+' | ':'))
        {
            return Err(FieldError::new(
                "classification",
                format!(
                    "must be a class number prefix such as \"I28\" or \"823\" (at most {MAX_CLASS_CHARS} \
                     letters, digits and . / - + :)"
                ),
            ));
        } else {
            Some(format!("{}%", escape_like(&class.to_ascii_uppercase())))
        };
        let language = request.language.trim();
        let language = if language.is_empty() {
            None
        } else if language.len() == 2 && language.bytes().all(|b| b.is_ascii_lowercase()) {
            Some(language.to_owned())
        } else {
            return Err(FieldError::new(
                "language",
                "must be empty or an ISO 639-1 code such as \"zh\" or \"en\"",
            ));
        };
        let audience_grade = match request.audience_grade {
            Some(grade) if !(0..=MAX_GRADE).contains(&grade) => {
                return Err(FieldError::new(
                    "audience_grade",
                    format!("must be 0 (kindergarten) to {MAX_GRADE}"),
                ));
            }
            grade => grade,
        };
        Ok(Self {
            query,
            field,
            filters: Filters {
                held_at_school,
                available_now,
                class_prefix_pattern,
                language,
                audience_grade,
            },
            school_id,
        })
    }
}

/// A query limited to contributors or subjects is always text (an ISBN
/// never names a person).
fn text_query(field: &'static str, raw: &str) -> Result<SearchQuery, FieldError> {
    Ok(SearchQuery::Text(TextQuery::new(&required_text(field, raw, MAX_QUERY_CHARS)?)))
}

/// Reads the `query` field of a search: trimmed, 1–200 characters.
pub fn parse_query(field: &'static str, raw: &str) -> Result<SearchQuery, FieldError> {
    let text = required_text(field, raw, MAX_QUERY_CHARS)?;
    if isbn::looks_like_isbn(&text) {
        match Isbn::parse(&text) {
            Ok(isbn) => return Ok(SearchQuery::Isbn(isbn)),
            // A misread or mistyped ISBN is searched as text: the desk sees
            // "no hits" (the usual answer to a bad scan), not an error.
            Err(error) => tracing::debug!(%error, "search query looks like an ISBN but is not one"),
        }
    }
    Ok(SearchQuery::Text(TextQuery::new(&text)))
}

/// Escapes the LIKE wildcards `%` and `_` and the escape character `\`, so
/// the query matches literally (use with `ESCAPE '\'`).
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// The text stored for matching a title: its title and contributor names,
/// lower-cased, one per line (a query cannot contain a line break, so it
/// never matches across two names).
pub fn search_text<'a>(title: &str, contributor_names: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = title.to_lowercase();
    for name in contributor_names {
        text.push('\n');
        text.push_str(&name.to_lowercase());
    }
    text
}

/// The key a title is ranked and ordered by: lower-cased and trimmed (a
/// title proper is at most `titles::MAX_TITLE_CHARS` characters, which keeps
/// index entries well inside PostgreSQL's B-tree row limit).
pub fn title_key(title: &str) -> String {
    title.trim().to_lowercase()
}

/// How well a title matches a text query; lower ranks come first.
/// `db::search_titles_by_text` reads the ranks in this order, one after the
/// other, from the index entries, which carry the title key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// The title is the query.
    ExactTitle,
    /// The title starts with the query.
    TitlePrefix,
    /// The title contains the query elsewhere.
    TitleContains,
    /// Another field has the query (or the title has it only inside words).
    Other,
}

impl Rank {
    /// The number the SQL ranking uses.
    pub fn value(self) -> i32 {
        match self {
            Self::ExactTitle => 0,
            Self::TitlePrefix => 1,
            Self::TitleContains => 2,
            Self::Other => 3,
        }
    }

    /// The rank of a title (by its [`title_key`]) for a query (its needle
    /// and look-ups), as the database computes it. A title ranks by its
    /// title only when the title proper itself has the query's look-ups
    /// (its marked entries, see [`search_terms::TITLE_MARK`];
    /// [`search_terms::text_has_pieces`]): `john` in *Littlejohn* is a
    /// substring, not a word of the title.
    pub fn of(title_key: &str, needle: &str, pieces: &[Piece]) -> Self {
        if !title_key.contains(needle) || !search_terms::text_has_pieces(title_key, pieces) {
            Self::Other
        } else if title_key == needle {
            Self::ExactTitle
        } else if title_key.starts_with(needle) {
            Self::TitlePrefix
        } else {
            Self::TitleContains
        }
    }
}

/// The texts of a title that search looks in, as catalogued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexedTexts<'a> {
    /// Title proper.
    pub title: &'a str,
    /// Subtitle, series and other title-like texts.
    pub other_titles: Vec<&'a str>,
    /// Contributor names.
    pub names: Vec<&'a str>,
    /// Subject headings.
    pub subjects: Vec<&'a str>,
}

/// What is stored for a title: its field texts, `search_text`, and index
/// entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleIndex {
    /// Lower-cased field texts, one value per line.
    pub fields: SearchFieldsRow,
    /// All field texts, one value per line.
    pub search_text: String,
    /// See [`title_key`].
    pub title_key: String,
    /// Index entries, sorted by term, each term once (the title proper's
    /// also marked, see [`search_terms::TITLE_MARK`]); each carries the
    /// title's key, which ranks and pages hits inside the index.
    pub entries: Vec<SearchTermRow>,
}

/// Lower-cases non-empty values and joins them one per line.
fn lines<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let values: Vec<String> =
        values.into_iter().map(str::trim).filter(|value| !value.is_empty()).map(str::to_lowercase).collect();
    values.join("\n")
}

/// Computes what to store for a title (pure; see [`index_title`]).
pub fn title_index(title_id: &str, texts: &IndexedTexts<'_>) -> TitleIndex {
    let title_text = lines(std::iter::once(texts.title).chain(texts.other_titles.iter().copied()));
    let author_text = lines(texts.names.iter().copied());
    let subject_text = lines(texts.subjects.iter().copied());
    let search_text = lines([title_text.as_str(), author_text.as_str(), subject_text.as_str()]);
    let title_key = title_key(texts.title);
    let fields = SearchFieldsRow {
        title_id: title_id.to_owned(),
        title_text,
        author_text,
        subject_text,
        title_key: title_key.clone(),
    };
    let entries = title_terms(&fields)
        .into_iter()
        .map(|term| SearchTermRow { term, title_key: title_key.clone(), title_id: title_id.to_owned() })
        .collect();
    TitleIndex { fields, search_text, title_key, entries }
}

/// The terms a title is indexed under, from its stored field texts and key:
/// the terms of each field, and those of the title proper again, marked.
/// Re-indexing finds a title's old entries by these (their primary keys).
pub fn title_terms(fields: &SearchFieldsRow) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    for text in [&fields.title_text, &fields.author_text, &fields.subject_text] {
        search_terms::index_terms(text, &mut terms);
    }
    search_terms::title_proper_terms(&fields.title_key, &mut terms);
    terms
}

/// Re-indexes the stored title `title_id` from its title, subtitle, series,
/// contributors and subjects (call inside the write transaction that
/// stored or changed them: `titles::create`, an update, the MARC import).
/// Returns false if there is no such title.
pub fn index_title(connection: &mut DbConnection, title_id: &str) -> QueryResult<bool> {
    let Some(row) = db::find_title(connection, title_id)? else {
        return Ok(false);
    };
    let contributors = db::contributors_of(connection, std::slice::from_ref(&row.id))?;
    let subjects: Vec<String> = db::subjects_of(connection, std::slice::from_ref(&row.id))?
        .into_iter()
        .map(|subject| subject.subject)
        .collect();
    let texts = IndexedTexts {
        title: &row.title,
        other_titles: vec![row.subtitle.as_str(), row.series.as_str()],
        names: contributors.iter().map(|contributor| contributor.name.as_str()).collect(),
        subjects: subjects.iter().map(String::as_str).collect(),
    };
    let index = title_index(&row.id, &texts);
    db::store_title_index(connection, &index)?;
    Ok(true)
}

/// Indexes titles catalogued before the index existed, `batch` per
/// transaction; returns how many. Run at start-up.
pub async fn index_unindexed(db: &lectern_common::db::Db, batch: i64) -> Result<usize, crate::Error> {
    let mut total = 0;
    loop {
        let done = db
            .write(move |connection| -> Result<usize, crate::Error> {
                let ids = db::unindexed_titles(connection, batch)?;
                for id in &ids {
                    index_title(connection, id)?;
                }
                Ok(ids.len())
            })
            .await?;
        total += done;
        if i64::try_from(done).map_or(true, |done| done < batch) {
            return Ok(total);
        }
    }
}

/// One page of search hits.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// The hits, best first.
    pub hits: Vec<pb::SearchHit>,
    /// Whether more hits follow.
    pub more: bool,
}

/// The title ids of one page of a search, best first, and whether more
/// follow: the part of [`run`] that uses the index (what the benchmark
/// times besides the whole of `run`).
pub fn find(
    connection: &mut DbConnection,
    request: &SearchRequest,
    offset: i64,
    page_size: i64,
) -> QueryResult<(Vec<db::TitleRow>, bool)> {
    let rows = match &request.query {
        SearchQuery::Isbn(isbn) => {
            db::search_titles_by_isbn(connection, isbn.isbn13(), &request.filters, offset, page_size + 1)?
        }
        SearchQuery::Text(text) => db::search_titles_by_text(
            connection,
            text,
            request.field,
            &request.filters,
            offset,
            page_size + 1,
        )?,
    };
    Ok(paging::split_page(rows, page_size))
}

/// Runs a search: one page of `page_size` titles from `offset`, each with
/// its copies (at the request's school, if given), how many are on the
/// shelf, and per school how many are where. Contributors and copies of the
/// whole page are loaded with one query each.
pub fn run(
    connection: &mut DbConnection,
    request: &SearchRequest,
    offset: i64,
    page_size: i64,
) -> QueryResult<SearchPage> {
    let (rows, more) = find(connection, request, offset, page_size)?;
    let records = titles::with_contributors(connection, rows)?;
    let title_ids: Vec<String> = records.iter().map(|record| record.row.id.clone()).collect();
    let mut copies_by_title: HashMap<String, Vec<CopyRow>> = HashMap::new();
    for copy in db::copies_of_titles(connection, &title_ids, request.school_id.as_deref())? {
        copies_by_title.entry(copy.title_id.clone()).or_default().push(copy);
    }
    let hits = records
        .iter()
        .map(|record| -> QueryResult<pb::SearchHit> {
            let copy_rows = copies_by_title.remove(&record.row.id).unwrap_or_default();
            let schools = school_availability(&copy_rows);
            let on_shelf: i32 = schools.iter().map(|school| school.on_shelf).sum();
            Ok(pb::SearchHit {
                title: Some(titles::to_proto(record)),
                copies: copies::with_location_names(
                    connection,
                    copy_rows.iter().map(|copy| copies::to_proto(copy, &record.row.title)).collect(),
                )?,
                available_copies: on_shelf,
                schools,
            })
        })
        .collect::<QueryResult<Vec<_>>>()?;
    Ok(SearchPage { hits, more })
}

/// Where a title's copies are, per school (ordered by school id).
pub fn school_availability(copy_rows: &[CopyRow]) -> Vec<pb::SchoolAvailability> {
    let mut schools: BTreeMap<&str, pb::SchoolAvailability> = BTreeMap::new();
    for copy in copy_rows {
        let school = schools.entry(copy.school_id.as_str()).or_insert_with(|| pb::SchoolAvailability {
            school_id: copy.school_id.clone(),
            ..Default::default()
        });
        let count = match copies::availability(copy).0 {
            pb::Availability::OnShelf => &mut school.on_shelf,
            pb::Availability::OnLoan => &mut school.on_loan,
            pb::Availability::OnHoldShelf => &mut school.on_hold_shelf,
            pb::Availability::InTransit => &mut school.in_transit,
            pb::Availability::NotLoanable | pb::Availability::Unspecified => &mut school.not_loanable,
        };
        *count += 1;
    }
    schools.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbn_queries_find_by_isbn() {
        match parse_query("query", " 0-8044-2957-X ").unwrap() {
            SearchQuery::Isbn(isbn) => assert_eq!(isbn.isbn13(), "9780804429573"),
            other => panic!("expected an ISBN search, got {other:?}"),
        }
        // A wrong check digit falls back to text.
        assert_eq!(
            parse_query("query", "9780804429574").unwrap(),
            SearchQuery::Text(TextQuery::new("9780804429574"))
        );
    }

    #[test]
    fn labelled_and_full_width_isbns_typed_into_the_search_box_find_by_isbn() {
        for query in [
            "ISBN 978-0-8044-2957-3",
            "isbn:080442957x",
            "ISBN-13: 9780804429573",
            "９７８－０－８０４４－２９５７－３",
            "ＩＳＢＮ：０８０４４２９５７Ｘ",
            "978\u{2014}\u{2014}0\u{3000}8044\u{2013}2957\u{2010}3",
        ] {
            match parse_query("query", query).unwrap() {
                SearchQuery::Isbn(isbn) => assert_eq!(isbn.isbn13(), "9780804429573", "{query:?}"),
                other => panic!("{query:?}: expected an ISBN search, got {other:?}"),
            }
        }
        // Words that merely mention an ISBN stay a text search.
        assert!(matches!(parse_query("query", "isbn 1984").unwrap(), SearchQuery::Text(_)));
        let request = |query: &str| pb::SearchTitlesRequest {
            query: query.into(),
            field: pb::SearchField::Isbn.into(),
            ..Default::default()
        };
        let searched = SearchRequest::from_request(&request("ＩＳＢＮ ９７８０８０４４２９５７３")).unwrap();
        assert!(matches!(searched.query, SearchQuery::Isbn(isbn) if isbn.isbn13() == "9780804429573"));
        assert_eq!(
            SearchRequest::from_request(&request("ISBN ９７８０８０４４Ａ９５７３")).unwrap_err().to_string(),
            "query: contains 'Ａ', which is not a digit"
        );
    }

    #[test]
    fn text_queries_are_trimmed_lower_cased_and_bounded() {
        let SearchQuery::Text(query) = parse_query("query", "  Charlotte's WEB ").unwrap() else {
            panic!("expected a text search");
        };
        assert_eq!(query.needle, "charlotte's web");
        assert_eq!(query.prefix_pattern, "charlotte's web%");
        assert_eq!(query.contains_pattern, "%charlotte's web%");
        assert_eq!(parse_query("query", "   ").unwrap_err().to_string(), "query: is required");
        assert!(parse_query("query", &"书".repeat(200)).is_ok());
        assert_eq!(
            parse_query("query", &"书".repeat(201)).unwrap_err().to_string(),
            "query: is longer than 200 characters"
        );
        assert!(parse_query("query", "a\nb").is_err());
    }

    #[test]
    fn only_queries_their_entries_prove_skip_the_substring_check() {
        for query in ["森林", "cha", "harry smith", "go", "龙"] {
            assert!(!TextQuery::new(query).verify, "{query:?}");
        }
        // `char` looks up `cha` and `charlotte` looks up `charl`: the
        // entry does not show the text has the whole word.
        for query in ["char", "charlotte", "john smith", "大森林", "!!!"] {
            assert!(TextQuery::new(query).verify, "{query:?}");
        }
    }

    #[test]
    fn like_wildcards_match_literally() {
        assert_eq!(escape_like(r"100% a_b c\d"), r"100\% a\_b c\\d");
        assert_eq!(TextQuery::new("50%").contains_pattern, r"%50\%%");
        assert_eq!(escape_like("草房子"), "草房子");
    }

    #[test]
    fn stored_text_is_lower_cased_one_name_per_line() {
        assert_eq!(
            search_text("Charlotte's Web", ["E. B. White", "Garth Williams"]),
            "charlotte's web\ne. b. white\ngarth williams"
        );
        assert_eq!(search_text("草房子", ["曹文轩"]), "草房子\n曹文轩");
        assert_eq!(title_key("  The Hobbit "), "the hobbit");
        assert_eq!(title_key("ÉTÉ"), "été");
    }

    #[test]
    fn ranking_puts_exact_then_prefix_then_part_then_author() {
        let rank =
            |title_key: &str, query: &str| Rank::of(title_key, query, &search_terms::query_pieces(query));
        assert_eq!(rank("草房子", "草房子"), Rank::ExactTitle);
        assert_eq!(rank("草房子", "草房"), Rank::TitlePrefix);
        assert_eq!(rank("草房子", "房子"), Rank::TitleContains);
        assert_eq!(rank("青铜葵花", "曹文轩"), Rank::Other);
        // A substring that is not where a word of the title starts.
        assert_eq!(rank("littlejohn's farm", "john"), Rank::Other);
        assert_eq!(rank("the john smith story", "john smith"), Rank::TitleContains);
        let mut ranks = [Rank::Other, Rank::TitleContains, Rank::ExactTitle, Rank::TitlePrefix];
        ranks.sort();
        assert_eq!(ranks.map(Rank::value), [0, 1, 2, 3], "the SQL values must sort like the ranks");
    }
}
