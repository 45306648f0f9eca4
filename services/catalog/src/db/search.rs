//! The search index tables and the search queries (decision record 0004).
//!
//! Each index entry carries its title's key: `(term, title_key, title_id)`
//! is the primary key, so a term's entries are stored in the order hits are
//! shown in. A text search reads the ranks of [`Rank`] one after the other
//! (exact title and title prefix, then title contains, then the rest), each
//! in key order from the entries of one look-up, the *driver*, and stops as
//! soon as the page is full. The query's other look-ups, its substring
//! check and the filters are `EXISTS` conditions on each entry read,
//! answered from primary keys. A query matching tens of thousands of titles
//! thus reads a few dozen entries, not all of them. The title ranks read
//! the marked entries of titles proper
//! ([`crate::search_terms::TITLE_MARK`]), so a name found in thousands of
//! titles' authors and in no title costs nothing there.
//!
//! The statements are written as SQL text, the same on both backends apart
//! from their placeholders ([`Statement`]): the number of look-ups and
//! filters varies per query, and correlated sub-selects of a dynamic shape
//! are beyond the multi-backend query builder.

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Integer, Text};
use diesel::sqlite::Sqlite;
use lectern_common::db::{DbConnection, insert_rows};

use super::TitleRow;
use super::schema::{title_search_fields, title_search_terms, titles};
use crate::search::{Filters, Rank, SearchField, TextQuery, TitleIndex};
use crate::search_terms::{Piece, in_title, prefix_end};

/// The escape character of every LIKE pattern made by [`crate::search`].
const LIKE_ESCAPE: &str = r"ESCAPE '\'";
/// A look-up with more entries than this is not counted further when the
/// rarest look-up of a query is chosen as its driver. A driver with fewer
/// is read whole in one statement and its hits ranked after reading.
const DRIVER_COUNT_CAP: i64 = 256;
/// Old entries of a title deleted per statement when it is re-indexed.
const TERMS_PER_DELETE: usize = 500;

/// The lower-cased field texts of one title.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = title_search_fields, treat_none_as_default_value = false)]
pub struct SearchFieldsRow {
    pub title_id: String,
    pub title_text: String,
    pub author_text: String,
    pub subject_text: String,
    /// The title key the title's entries were stored under (see
    /// [`SearchTermRow::title_key`]): with the texts, it gives the primary
    /// keys of the entries to delete when the title is indexed again.
    pub title_key: String,
}

/// One search index entry of a title. The fields are in the primary key's
/// order, so the derived order is the index's (byte order, like `BINARY`
/// and `COLLATE "C"`): an import batch writes its entries sorted by it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Insertable)]
#[diesel(table_name = title_search_terms, treat_none_as_default_value = false)]
pub struct SearchTermRow {
    pub term: String,
    /// The title's [`crate::search::title_key`]: hits of one term are read
    /// in this order.
    pub title_key: String,
    pub title_id: String,
}

/// Replaces a title's index entries and field texts, and stores its
/// `search_text` and `title_key` (call inside a write transaction).
pub fn store_title_index(connection: &mut DbConnection, index: &TitleIndex) -> QueryResult<()> {
    let title_id = index.fields.title_id.as_str();
    // The old entries, by their primary keys: the terms of the field texts
    // and key stored with the title (there is no index by title, which
    // would cost every import a second B-tree insert per entry).
    let old = title_search_fields::table
        .find(title_id)
        .select(SearchFieldsRow::as_select())
        .first(connection)
        .optional()?;
    if let Some(fields) = old {
        let terms: Vec<String> = crate::search::title_terms(&fields).into_iter().collect();
        for chunk in terms.chunks(TERMS_PER_DELETE) {
            diesel::delete(
                title_search_terms::table
                    .filter(title_search_terms::term.eq_any(chunk))
                    .filter(title_search_terms::title_key.eq(&fields.title_key))
                    .filter(title_search_terms::title_id.eq(title_id)),
            )
            .execute(connection)?;
        }
    }
    diesel::update(titles::table.find(title_id))
        .set((titles::search_text.eq(&index.search_text), titles::title_key.eq(&index.title_key)))
        .execute(connection)?;
    diesel::delete(title_search_fields::table.find(title_id)).execute(connection)?;
    diesel::insert_into(title_search_fields::table).values(&index.fields).execute(connection)?;
    insert_rows::<_, SearchTermRow>(connection, title_search_terms::table, 3, index.entries.as_slice())?;
    Ok(())
}

/// Ids of up to `limit` titles without index entries (catalogued before
/// the index existed, or before its last change), for indexing at start-up.
pub fn unindexed_titles(connection: &mut DbConnection, limit: i64) -> QueryResult<Vec<String>> {
    use diesel::dsl::{exists, not};
    titles::table
        .filter(not(exists(title_search_fields::table.filter(title_search_fields::title_id.eq(titles::id)))))
        .select(titles::id)
        .order(titles::id.asc())
        .limit(limit)
        .load(connection)
}

/// A value bound to a placeholder of a [`Statement`].
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Integer(i32),
    BigInt(i64),
}

/// A SQL statement for either backend: its text, with placeholders in the
/// backend's style (`$1` or `?`), and the values bound to them.
#[derive(Debug)]
struct Statement {
    sql: String,
    binds: Vec<Bind>,
    postgres: bool,
}

impl Statement {
    fn new(connection: &DbConnection, sql: &str) -> Self {
        Self { sql: sql.to_owned(), binds: Vec::new(), postgres: matches!(connection, DbConnection::Pg(_)) }
    }

    /// Appends SQL text.
    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        if self.postgres {
            self.sql.push_str(&format!("${}", self.binds.len()));
        } else {
            self.sql.push('?');
        }
        self
    }

    fn text(&mut self, value: &str) -> &mut Self {
        self.bind(Bind::Text(value.to_owned()))
    }

    /// Closes an `EXISTS (SELECT …` sub-select. `LIMIT 1 OFFSET 0` keeps
    /// PostgreSQL from turning it into a join: it stays a check per row read
    /// (as SQLite runs it), so reading stops when the page is full, and
    /// planning stays cheap however many look-ups a query has.
    fn end_exists(&mut self) -> &mut Self {
        self.push(" LIMIT 1 OFFSET 0)")
    }

    /// Appends `column LIKE ? ESCAPE '\'`.
    fn like(&mut self, column: &str, pattern: &str) -> &mut Self {
        self.push(column).push(" LIKE ").text(pattern).push(" ").push(LIKE_ESCAPE)
    }

    fn load<Row>(self, connection: &mut DbConnection) -> QueryResult<Vec<Row>>
    where
        Row: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        match connection {
            DbConnection::Pg(pg) => bound::<Pg>(self.sql, self.binds).load(pg),
            DbConnection::Sqlite(sqlite) => bound::<Sqlite>(self.sql, self.binds).load(sqlite),
        }
    }
}

/// `sql` with `binds` bound, for backend `DB`.
fn bound<DB>(sql: String, binds: Vec<Bind>) -> BoxedSqlQuery<'static, DB, SqlQuery>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Integer> + HasSqlType<BigInt>,
    String: ToSql<Text, DB>,
    i32: ToSql<Integer, DB>,
    i64: ToSql<BigInt, DB>,
{
    binds.into_iter().fold(diesel::sql_query(sql).into_boxed::<DB>(), |query, value| match value {
        Bind::Text(text) => query.bind::<Text, _>(text),
        Bind::Integer(integer) => query.bind::<Integer, _>(integer),
        Bind::BigInt(integer) => query.bind::<BigInt, _>(integer),
    })
}

/// A title id a query found.
#[derive(Debug, QueryableByName)]
struct FoundId {
    #[diesel(sql_type = Text)]
    title_id: String,
}

/// A title a text search found, with its key.
#[derive(Debug, QueryableByName)]
struct FoundHit {
    #[diesel(sql_type = Text)]
    title_id: String,
    #[diesel(sql_type = Text)]
    title_key: String,
}

/// How many entries a query's look-up (by its number) has.
#[derive(Debug, QueryableByName)]
struct PieceCount {
    #[diesel(sql_type = BigInt)]
    piece: i64,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Appends ` AND …` for each filter and for the field check, on the title
/// whose id is the SQL expression `title_id`. Conditions on the title row
/// share one `EXISTS`, so each candidate costs one primary-key look-up.
fn push_conditions(
    statement: &mut Statement,
    title_id: &str,
    filters: &Filters,
    field: SearchField,
    substring_patterns: &[String],
) {
    if let Some(school_id) = &filters.held_at_school {
        statement.push(" AND EXISTS (SELECT 1 FROM copies c WHERE c.title_id = ");
        statement.push(title_id).push(" AND c.school_id = ").text(school_id).end_exists();
    }
    if let Some(available) = &filters.available_now {
        statement.push(" AND EXISTS (SELECT 1 FROM copies c WHERE c.title_id = ").push(title_id);
        statement.push(" AND c.status = ").text("available");
        statement.push(" AND NOT c.on_loan AND NOT c.on_hold_shelf AND NOT c.in_transit");
        if let Some(school_id) = &available.school_id {
            statement.push(" AND c.school_id = ").text(school_id);
        }
        statement.end_exists();
    }
    let search_text_patterns = if field == SearchField::Any { substring_patterns } else { &[] };
    let on_title_row = filters.class_prefix_pattern.is_some()
        || filters.language.is_some()
        || filters.audience_grade.is_some()
        || !search_text_patterns.is_empty();
    if on_title_row {
        statement.push(" AND EXISTS (SELECT 1 FROM titles t WHERE t.id = ").push(title_id);
        if let Some(class_prefix) = &filters.class_prefix_pattern {
            statement.push(" AND (").like("t.clc", class_prefix).push(" OR ").like("t.dewey", class_prefix);
            statement.push(")");
        }
        if let Some(language) = &filters.language {
            statement.push(" AND t.language = ").text(language);
        }
        for pattern in search_text_patterns {
            statement.push(" AND ").like("t.search_text", pattern);
        }
        if let Some(grade) = filters.audience_grade {
            statement.push(" AND t.audience_min_grade <= ").bind(Bind::Integer(grade));
            statement.push(" AND t.audience_max_grade >= ").bind(Bind::Integer(grade));
        }
        statement.end_exists();
    }
    let column = match field {
        SearchField::Any => return,
        SearchField::Title => "f.title_text",
        SearchField::Author => "f.author_text",
        SearchField::Subject => "f.subject_text",
    };
    statement.push(" AND EXISTS (SELECT 1 FROM title_search_fields f WHERE f.title_id = ").push(title_id);
    for pattern in substring_patterns {
        statement.push(" AND ").like(column, pattern);
    }
    statement.end_exists();
}

/// The ids of one page of hits for an ISBN: the title having it among its
/// ISBNs (paged like a text search so a client need not tell the two apart).
pub fn search_titles_by_isbn(
    connection: &mut DbConnection,
    isbn13: &str,
    filters: &Filters,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<TitleRow>> {
    let mut statement = Statement::new(connection, "SELECT i.title_id FROM title_isbns i WHERE i.isbn13 = ");
    statement.text(isbn13);
    push_conditions(&mut statement, "i.title_id", filters, SearchField::Any, &[]);
    statement.push(" ORDER BY i.title_id LIMIT ").bind(Bind::BigInt(limit));
    statement.push(" OFFSET ").bind(Bind::BigInt(offset));
    let ids: Vec<String> =
        statement.load::<FoundId>(connection)?.into_iter().map(|found| found.title_id).collect();
    titles_in_order(connection, &ids)
}

/// The rows of titles `ids`, in that order.
fn titles_in_order(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<TitleRow>> {
    let mut rows = super::titles_by_ids(connection, ids)?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(rows)
}

/// How many entries each of `pieces` has, counting no further than `cap`:
/// one statement for all.
fn entry_counts(connection: &mut DbConnection, pieces: &[&Piece], cap: i64) -> QueryResult<Vec<i64>> {
    let mut statement = Statement::new(connection, "");
    for (number, piece) in pieces.iter().enumerate() {
        if number > 0 {
            statement.push(" UNION ALL ");
        }
        statement.push(&format!(
            "SELECT CAST({number} AS BIGINT) AS piece, COUNT(*) AS count FROM \
             (SELECT 1 FROM title_search_terms e WHERE "
        ));
        push_piece(&mut statement, "e.term", piece);
        statement.push(" LIMIT ").bind(Bind::BigInt(cap)).push(&format!(") c{number}"));
    }
    let mut counts = vec![0; pieces.len()];
    for row in statement.load::<PieceCount>(connection)? {
        if let Some(count) = usize::try_from(row.piece).ok().and_then(|piece| counts.get_mut(piece)) {
            *count = row.count;
        }
    }
    Ok(counts)
}

/// Appends the condition of a look-up on the term column `term`.
fn push_piece(statement: &mut Statement, term: &str, piece: &Piece) {
    match piece {
        Piece::Exact(text) => {
            statement.push(term).push(" = ").text(text);
        }
        Piece::Prefix(prefix) => {
            statement.push(term).push(" >= ").text(prefix);
            if let Some(end) = prefix_end(prefix) {
                statement.push(" AND ").push(term).push(" < ").text(&end);
            }
        }
    }
}

/// The ranks a text search reads one after the other (see [`Rank`]).
///
/// [`Rank`]: crate::search::Rank
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RankRange {
    /// The title is the query or starts with it: a range of title keys, in
    /// which the exact title comes first.
    TitleStart,
    /// The title contains the query elsewhere.
    TitleContains,
    /// Only another field contains the query.
    Other,
    /// Every rank at once, for a driver with few entries: ranked after
    /// reading, by [`Rank::of`].
    ///
    /// [`Rank::of`]: crate::search::Rank::of
    All,
}

/// Where the candidates of a text search come from.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    /// The entries of this look-up.
    Entries(&'a Piece),
    /// Every title: a query with nothing to look up (`%`, `·`).
    Titles,
}

/// The ids of one page of hits for text, best first (see [`Rank`]), then by
/// title key and id so pages are stable: titles having every look-up of the
/// query in the index, whose searched field contains each space-separated
/// part of the query, that pass the filters.
///
/// [`Rank`]: crate::search::Rank
pub fn search_titles_by_text(
    connection: &mut DbConnection,
    query: &TextQuery,
    field: SearchField,
    filters: &Filters,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<TitleRow>> {
    // The driver is the look-up with the fewest entries: an exact one when
    // there is one (its entries are in key order), otherwise the prefix.
    let mut pieces: Vec<&Piece> = query.pieces.iter().collect();
    let mut few_candidates = false;
    if pieces.len() > 1 {
        let counts = entry_counts(connection, &pieces, DRIVER_COUNT_CAP)?;
        let mut counted: Vec<(i64, &Piece)> = counts.into_iter().zip(pieces).collect();
        counted.sort_by_key(|(count, _)| *count);
        few_candidates = counted.first().is_some_and(|(count, _)| *count < DRIVER_COUNT_CAP);
        pieces = counted.into_iter().map(|(_, piece)| piece).collect();
    }
    let (source, others) = match pieces.split_first() {
        Some((driver, others)) => (Source::Entries(driver), others),
        None => (Source::Titles, &[][..]),
    };
    // `query_pieces` never mixes a prefix with other look-ups: the others
    // are exact terms.
    let others: Vec<&str> = others
        .iter()
        .filter_map(|piece| match piece {
            Piece::Exact(term) => Some(term.as_str()),
            Piece::Prefix(_) => None,
        })
        .collect();
    let others = others.as_slice();
    let wanted = offset.saturating_add(limit);
    let checks = substring_checks(query, field);
    let (key, id) = key_columns(source);
    let mut ids: Vec<String> = Vec::new();
    if few_candidates {
        // A rare driver: one read of all its candidates, ranked here.
        let mut statement = Statement::new(connection, "");
        push_rank_select(&mut statement, query, source, others, RankRange::All);
        push_conditions(&mut statement, id, filters, field, &checks);
        statement.push(&format!(" ORDER BY {key}, {id}"));
        let mut hits = statement.load::<FoundHit>(connection)?;
        // A stable sort: key order within each rank.
        hits.sort_by_key(|hit| Rank::of(&hit.title_key, &query.needle, &query.pieces));
        ids.extend(hits.into_iter().map(|hit| hit.title_id));
    } else {
        // Each rank range in key order, as far as the page needs.
        for range in [RankRange::TitleStart, RankRange::TitleContains, RankRange::Other] {
            let missing = wanted.saturating_sub(i64::try_from(ids.len()).unwrap_or(i64::MAX));
            if missing == 0 {
                break;
            }
            let mut statement = Statement::new(connection, "");
            push_rank_select(&mut statement, query, source, others, range);
            push_conditions(&mut statement, id, filters, field, &checks);
            statement.push(&format!(" ORDER BY {key}, {id} LIMIT ")).bind(Bind::BigInt(missing));
            ids.extend(statement.load::<FoundHit>(connection)?.into_iter().map(|hit| hit.title_id));
        }
    }
    ids.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
    let page: Vec<String> = ids.into_iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).collect();
    titles_in_order(connection, &page)
}

/// The (title key, title id) columns of a source.
fn key_columns(source: Source<'_>) -> (&'static str, &'static str) {
    match source {
        Source::Entries(_) => ("e.title_key", "e.title_id"),
        Source::Titles => ("t0.title_key", "t0.id"),
    }
}

/// The substring patterns the field check needs: none when the query is
/// one look-up searched in all fields (its entry proves the text has it).
fn substring_checks(query: &TextQuery, field: SearchField) -> Vec<String> {
    if field == SearchField::Any && !query.verify { Vec::new() } else { query.substring_patterns.clone() }
}

/// Appends the `SELECT` of the candidates of one rank range, up to the
/// conditions. With an exact driver the title ranks read the marked
/// entries of titles proper (see [`crate::search_terms::TITLE_MARK`]); the
/// other ranks, and a prefix driver, all entries.
fn push_rank_select(
    statement: &mut Statement,
    query: &TextQuery,
    source: Source<'_>,
    others: &[&str],
    range: RankRange,
) {
    let (key, _) = key_columns(source);
    let title_range = matches!(range, RankRange::TitleStart | RankRange::TitleContains);
    let mut marked = false;
    match source {
        Source::Entries(driver) => {
            // Several entries of a title can fall in one prefix range.
            let distinct = if matches!(driver, Piece::Prefix(_)) { "DISTINCT " } else { "" };
            statement
                .push(&format!("SELECT {distinct}e.title_id, e.title_key FROM title_search_terms e WHERE "));
            marked = title_range && matches!(driver, Piece::Exact(_));
            if marked {
                push_piece(statement, "e.term", &driver.in_title());
            } else {
                push_piece(statement, "e.term", driver);
            }
        }
        Source::Titles => {
            statement.push("SELECT t0.id AS title_id, t0.title_key FROM titles t0 WHERE 1 = 1");
        }
    }
    // The rank condition reads only the entry: it goes before the checks
    // that probe other rows.
    push_rank_range(statement, key, query, source, others, range);
    for term in others {
        statement.push(" AND ");
        if marked {
            push_probe(statement, &in_title(term));
        } else {
            push_probe(statement, term);
        }
    }
}

/// Appends `EXISTS (…)`: the title of the candidate entry `e` has an entry
/// for `term`. The other term's entries are in the same key order as the
/// driver's, so successive probes of the primary key stay on the same few
/// pages.
fn push_probe(statement: &mut Statement, term: &str) {
    statement.push("EXISTS (SELECT 1 FROM title_search_terms o WHERE o.term = ").text(term);
    statement.push(" AND o.title_key = e.title_key AND o.title_id = e.title_id").end_exists();
}

/// Appends the condition of a rank range on the title key column `key`.
/// The title ranks' candidates come from the marked entries (see
/// [`push_rank_select`]); the other rank leaves out what they read: titles
/// that contain the query and whose title proper has its look-ups.
fn push_rank_range(
    statement: &mut Statement,
    key: &str,
    query: &TextQuery,
    source: Source<'_>,
    others: &[&str],
    range: RankRange,
) {
    let end = prefix_end(&query.needle);
    match range {
        RankRange::TitleStart => {
            statement.push(" AND ").push(key).push(" >= ").text(&query.needle);
            if let Some(end) = &end {
                statement.push(" AND ").push(key).push(" < ").text(end);
            }
        }
        RankRange::TitleContains => {
            statement.push(" AND ").like(key, &query.contains_pattern);
            statement.push(" AND (").push(key).push(" < ").text(&query.needle);
            if let Some(end) = &end {
                statement.push(" OR ").push(key).push(" >= ").text(end);
            }
            statement.push(")");
        }
        RankRange::Other => {
            statement.push(" AND NOT (").like(key, &query.contains_pattern);
            if let Source::Entries(Piece::Exact(driver)) = source {
                for term in std::iter::once(driver.as_str()).chain(others.iter().copied()) {
                    statement.push(" AND ");
                    push_probe(statement, &in_title(term));
                }
            }
            statement.push(")");
        }
        RankRange::All => {}
    }
}
