//! Queries behind the home-screen lists: a school's new arrivals (from its
//! copies) and popular titles (from `title_checkouts`, kept from
//! circulation's `loan.checked_out` events).

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max};
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::TitleRow;
use super::schema::{copies, title_checkouts, titles};

/// A check-out as the popular list counts it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = title_checkouts)]
pub struct CheckoutRow {
    pub loan_id: String,
    pub title_id: String,
    pub school_id: String,
    pub grade: Option<i32>,
    pub checked_out_at: NaiveDateTime,
}

/// Records a check-out once (a loan already recorded is left alone);
/// returns whether it was new.
pub fn record_checkout(connection: &mut DbConnection, checkout: &CheckoutRow) -> QueryResult<bool> {
    let known: bool = diesel::select(diesel::dsl::exists(
        title_checkouts::table.filter(title_checkouts::loan_id.eq(&checkout.loan_id)),
    ))
    .get_result(connection)?;
    if known {
        return Ok(false);
    }
    diesel::insert_into(title_checkouts::table).values(checkout).execute(connection)?;
    Ok(true)
}

/// Titles with copies made available at `school_id` since `since` (added
/// as available, or brought from in process to available), newest first
/// (ties by title id): (title id, newest copy's time, copies).
/// With `grade`, only titles whose audience includes it.
pub fn new_arrivals(
    connection: &mut DbConnection,
    school_id: &str,
    since: NaiveDateTime,
    grade: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<(String, Option<NaiveDateTime>, i64)>> {
    let mut query = copies::table
        .inner_join(titles::table)
        .filter(copies::school_id.eq(school_id.to_owned()))
        .filter(copies::status_changed_at.ge(since))
        .filter(copies::status.eq("available"))
        .group_by(copies::title_id)
        .select((copies::title_id, max(copies::status_changed_at), count_star()))
        .order((max(copies::status_changed_at).desc(), copies::title_id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(grade) = grade {
        query =
            query.filter(titles::audience_min_grade.le(grade)).filter(titles::audience_max_grade.ge(grade));
    }
    query.load(connection)
}

/// The most borrowed titles at `school_id` since `since` (by readers in
/// `grade`, if given), most first (ties by title id): (title id, count).
pub fn popular_titles(
    connection: &mut DbConnection,
    school_id: &str,
    since: NaiveDateTime,
    grade: Option<i32>,
    limit: i64,
) -> QueryResult<Vec<(String, i64)>> {
    let mut query = title_checkouts::table
        .filter(title_checkouts::school_id.eq(school_id.to_owned()))
        .filter(title_checkouts::checked_out_at.ge(since))
        .group_by(title_checkouts::title_id)
        .select((title_checkouts::title_id, count_star()))
        .order((count_star().desc(), title_checkouts::title_id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(grade) = grade {
        query = query.filter(title_checkouts::grade.eq(grade));
    }
    query.load(connection)
}

/// The titles with these ids (any order).
pub fn titles_by_ids(connection: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<TitleRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    titles::table.filter(titles::id.eq_any(ids.to_vec())).select(TitleRow::as_select()).load(connection)
}
