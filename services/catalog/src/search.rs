//! What a search query means and how hits are ranked. A query that reads
//! as an ISBN finds the title with that ISBN; anything else is a
//! case-insensitive substring of a title or a contributor's name, in any
//! script, of any length (a two-character Chinese word, an English prefix).
//!
//! Text is matched on lower-cased copies stored with each title
//! (`search_text`, `title_key`), lower-cased here the same way (Rust's
//! `to_lowercase`), so both databases compare plain strings and behave alike.

use std::collections::HashMap;

use diesel::QueryResult;
use lectern_common::db::DbConnection;
use lectern_common::paging;
use lectern_common::validate::{FieldError, required_text};
use lectern_proto::catalog::v1 as pb;

use crate::db::{self, CopyRow};
use crate::isbn::{self, Isbn};
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
    /// `needle%`, with LIKE wildcards in the query escaped.
    pub prefix_pattern: String,
    /// `%needle%`, with LIKE wildcards in the query escaped.
    pub contains_pattern: String,
}

impl TextQuery {
    /// A text search for `text` (already trimmed).
    pub fn new(text: &str) -> Self {
        let needle = text.to_lowercase();
        let escaped = escape_like(&needle);
        Self { prefix_pattern: format!("{escaped}%"), contains_pattern: format!("%{escaped}%"), needle }
    }
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

/// The key a title is ranked and ordered by: lower-cased and trimmed.
pub fn title_key(title: &str) -> String {
    title.trim().to_lowercase()
}

/// How well a title matches a text query; lower ranks come first. The SQL
/// in `db::search_titles_by_text` computes the same with `CASE WHEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// The title is the query.
    ExactTitle,
    /// The title starts with the query.
    TitlePrefix,
    /// The title contains the query.
    TitleContains,
    /// Only a contributor's name contains the query.
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

    /// The rank of a title (by its [`title_key`]) for a query's needle, as
    /// the database computes it.
    pub fn of(title_key: &str, needle: &str) -> Self {
        if title_key == needle {
            Self::ExactTitle
        } else if title_key.starts_with(needle) {
            Self::TitlePrefix
        } else if title_key.contains(needle) {
            Self::TitleContains
        } else {
            Self::Other
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

/// Runs a search: one page of `page_size` titles from `offset`, each with
/// its copies (at `school_id`, if given) and how many are on the shelf.
/// Contributors and copies of the whole page are loaded with one query each.
pub fn run(
    connection: &mut DbConnection,
    query: &SearchQuery,
    school_id: Option<&str>,
    offset: i64,
    page_size: i64,
) -> QueryResult<SearchPage> {
    let rows = match query {
        SearchQuery::Isbn(isbn) => {
            db::search_titles_by_isbn(connection, isbn.isbn13(), offset, page_size + 1)?
        }
        SearchQuery::Text(text) => db::search_titles_by_text(connection, text, offset, page_size + 1)?,
    };
    let (rows, more) = paging::split_page(rows, page_size);
    let records = titles::with_contributors(connection, rows)?;
    let title_ids: Vec<String> = records.iter().map(|record| record.row.id.clone()).collect();
    let mut copies_by_title: HashMap<String, Vec<CopyRow>> = HashMap::new();
    for copy in db::copies_of_titles(connection, &title_ids, school_id)? {
        copies_by_title.entry(copy.title_id.clone()).or_default().push(copy);
    }
    let hits = records
        .iter()
        .map(|record| -> QueryResult<pb::SearchHit> {
            let copy_rows = copies_by_title.remove(&record.row.id).unwrap_or_default();
            let on_shelf = copy_rows
                .iter()
                .filter(|copy| copies::availability(copy).0 == pb::Availability::OnShelf)
                .count();
            Ok(pb::SearchHit {
                title: Some(titles::to_proto(record)),
                copies: copies::with_location_names(
                    connection,
                    copy_rows.iter().map(|copy| copies::to_proto(copy, &record.row.title)).collect(),
                )?,
                available_copies: i32::try_from(on_shelf).unwrap_or(i32::MAX),
            })
        })
        .collect::<QueryResult<Vec<_>>>()?;
    Ok(SearchPage { hits, more })
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
        assert_eq!(Rank::of("草房子", "草房子"), Rank::ExactTitle);
        assert_eq!(Rank::of("草房子", "草房"), Rank::TitlePrefix);
        assert_eq!(Rank::of("草房子", "房子"), Rank::TitleContains);
        assert_eq!(Rank::of("青铜葵花", "曹文轩"), Rank::Other);
        let mut ranks = [Rank::Other, Rank::TitleContains, Rank::ExactTitle, Rank::TitlePrefix];
        ranks.sort();
        assert_eq!(ranks.map(Rank::value), [0, 1, 2, 3], "the SQL values must sort like the ranks");
    }
}
