//! The catalog's tables and queries. Query functions take
//! `&mut DbConnection` and return `QueryResult`, so they compose inside the
//! callers' transactions.

pub mod schema;

mod copies;
mod titles;

// Search index, availability view changes, home-screen lists (issue 4).
mod availability;
mod discovery;
mod search;

use chrono::NaiveDateTime;
use diesel::prelude::*;

pub use self::copies::*;
pub use self::titles::*;

pub use self::availability::*;
pub use self::discovery::*;
pub use self::search::*;

/// A stored title.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::titles)]
pub struct TitleRow {
    pub id: String,
    pub isbn13: Option<String>,
    pub title: String,
    pub publisher: String,
    pub publication_year: i32,
    pub language: String,
    pub search_text: String,
    pub title_key: String,
    pub created_at: NaiveDateTime,
}

/// A stored contributor of a title.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::title_contributors)]
pub struct ContributorRow {
    pub title_id: String,
    pub position: i32,
    pub name: String,
    pub role: String,
}

/// A stored copy, with its availability view.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::copies)]
pub struct CopyRow {
    pub id: String,
    pub title_id: String,
    pub barcode: String,
    pub school_id: String,
    pub status: String,
    pub call_number: String,
    pub created_at: NaiveDateTime,
    pub on_loan: bool,
    pub loan_due_at: Option<NaiveDateTime>,
    pub loan_event_at: Option<NaiveDateTime>,
}
