//! Walking the shelves: a school's copies at a location or of a class, in
//! call-number order, and its repair tickets.

use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{copies, repair_tickets, titles};
use super::{CopyRow, RepairTicketRow};
use crate::search::escape_like;

/// What part of a school's shelves to walk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShelfFilter {
    /// Only copies at this location.
    pub location_id: Option<String>,
    /// Only titles whose CLC or Dewey number starts with this.
    pub class_prefix: Option<String>,
}

/// Copies of `school_id` on its shelves (not withdrawn) with their titles,
/// by call number then barcode.
pub fn browse_shelf(
    connection: &mut DbConnection,
    school_id: &str,
    filter: &ShelfFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<(CopyRow, String)>> {
    let mut query = copies::table
        .inner_join(titles::table)
        .filter(copies::school_id.eq(school_id))
        .filter(copies::status.ne("withdrawn"))
        .select((CopyRow::as_select(), titles::title))
        .order((copies::call_number.asc(), copies::barcode.asc()))
        .offset(offset)
        .limit(limit)
        .into_boxed();
    if let Some(location_id) = &filter.location_id {
        query = query.filter(copies::location_id.eq(location_id));
    }
    if let Some(prefix) = &filter.class_prefix {
        let pattern = format!("{}%", escape_like(prefix));
        query = query.filter(
            titles::clc.like(pattern.clone()).escape('\\').or(titles::dewey.like(pattern).escape('\\')),
        );
    }
    query.load(connection)
}

/// Repair tickets of `school_id`'s copies, newest first, with the copies.
pub fn school_repair_tickets(
    connection: &mut DbConnection,
    school_id: &str,
    include_closed: bool,
    limit: i64,
) -> QueryResult<Vec<(RepairTicketRow, CopyRow, String)>> {
    let mut query = repair_tickets::table
        .inner_join(copies::table.inner_join(titles::table))
        .filter(copies::school_id.eq(school_id))
        .select((RepairTicketRow::as_select(), CopyRow::as_select(), titles::title))
        .order((repair_tickets::opened_at.desc(), repair_tickets::id.desc()))
        .limit(limit)
        .into_boxed();
    if !include_closed {
        query = query.filter(repair_tickets::closed_at.is_null());
    }
    query.load(connection)
}
