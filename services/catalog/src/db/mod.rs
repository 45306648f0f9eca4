//! The catalog's tables and queries. Query functions take
//! `&mut DbConnection` and return `QueryResult`, so they compose inside the
//! callers' transactions.

pub mod schema;
pub mod stocktake;

mod copies;
mod records;
mod shelves;
mod titles;
// MARC import, export and intake.
mod marc;
// MARC import: a batch's lookups and multi-row inserts.
mod marc_batch;

// Search index, availability view changes, home-screen lists (issue 4).
mod availability;
mod discovery;
mod search;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

pub use self::copies::*;
pub use self::marc::*;
pub use self::marc_batch::*;
pub use self::records::*;
pub use self::shelves::*;
pub use self::titles::*;

pub use self::availability::*;
pub use self::discovery::*;
pub use self::search::*;

/// A stored title.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = schema::titles, treat_none_as_null = true, treat_none_as_default_value = false)]
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
    pub subtitle: String,
    pub edition: String,
    pub pages: i32,
    pub series: String,
    pub summary: String,
    pub audience_min_grade: Option<i32>,
    pub audience_max_grade: Option<i32>,
    pub clc: String,
    pub dewey: String,
    pub call_number: String,
}

/// A stored contributor of a title.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::title_contributors, treat_none_as_default_value = false)]
pub struct ContributorRow {
    pub title_id: String,
    pub position: i32,
    pub name: String,
    pub role: String,
}

/// A stored copy, with its availability view.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::copies, treat_none_as_default_value = false)]
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
    pub location_id: Option<String>,
    pub item_type: String,
    pub price_minor: Option<i64>,
    pub currency: String,
    pub acquired_on: Option<NaiveDate>,
    pub acquisition_source: String,
    pub condition_note: String,
    pub on_hold_shelf: bool,
    pub in_transit: bool,
    pub status_changed_at: Option<NaiveDateTime>,
}

/// A stored subject heading of a title.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::title_subjects, treat_none_as_default_value = false)]
pub struct SubjectRow {
    pub title_id: String,
    pub position: i32,
    pub subject: String,
}

/// A stored item type.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::item_types)]
pub struct ItemTypeRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub created_at: NaiveDateTime,
}

/// A stored shelf location.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::shelf_locations)]
pub struct LocationRow {
    pub id: String,
    pub school_id: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// A stored status change of a copy.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::copy_status_history)]
pub struct StatusChangeRow {
    pub id: String,
    pub copy_id: String,
    pub from_status: String,
    pub to_status: String,
    pub reason: String,
    pub actor_id: String,
    pub repair_ticket_id: Option<String>,
    pub occurred_at: NaiveDateTime,
}

/// A stored repair ticket.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::repair_tickets)]
pub struct RepairTicketRow {
    pub id: String,
    pub copy_id: String,
    pub notes: String,
    pub cost_minor: i64,
    pub currency: String,
    pub opened_by: String,
    pub opened_at: NaiveDateTime,
    pub closed_by: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
}
