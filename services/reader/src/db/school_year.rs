//! The rows a year-end promotion reads and writes: a school's classes of
//! one year, their active students, and the record of promotions done.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::ClassRow;
use super::readers::{STATUS_ACTIVE, STATUS_INACTIVE};
use super::schema::{classes, readers, year_end_runs};

/// The reader category that moves up with its class; teachers and others
/// stay where they are.
pub const PROMOTED_CATEGORY: &str = "student";

/// A year-end promotion that was applied.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = year_end_runs)]
pub struct YearEndRunRow {
    pub id: String,
    pub school_id: String,
    pub from_school_year: String,
    pub to_school_year: String,
    pub top_grade: i32,
    pub classes_opened: i32,
    pub promoted_students: i32,
    pub graduates: i32,
    pub applied_by: String,
    pub applied_at: NaiveDateTime,
}

/// A school's classes of `school_year`, by grade, name and id.
pub fn classes_of_year(
    connection: &mut DbConnection,
    school_id: &str,
    school_year: &str,
) -> QueryResult<Vec<ClassRow>> {
    classes::table
        .filter(classes::school_id.eq(school_id))
        .filter(classes::school_year.eq(school_year))
        .select(ClassRow::as_select())
        .order((classes::grade.asc(), classes::name.asc(), classes::id.asc()))
        .load(connection)
}

/// The number of active students in each of `class_ids` (classes without
/// any are left out).
pub fn active_students(
    connection: &mut DbConnection,
    class_ids: &[String],
) -> QueryResult<HashMap<String, i64>> {
    if class_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<String>, i64)> = readers::table
        .filter(readers::class_id.eq_any(class_ids.to_vec()))
        .filter(readers::status.eq(STATUS_ACTIVE))
        .filter(readers::category.eq(PROMOTED_CATEGORY))
        .group_by(readers::class_id)
        .select((readers::class_id, diesel::dsl::count_star()))
        .load(connection)?;
    Ok(rows.into_iter().filter_map(|(class_id, count)| Some((class_id?, count))).collect())
}

/// Moves the active students of `from_class_id` into `to_class_id`;
/// returns how many moved.
pub fn move_students(
    connection: &mut DbConnection,
    from_class_id: &str,
    to_class_id: &str,
) -> QueryResult<usize> {
    diesel::update(
        readers::table
            .filter(readers::class_id.eq(from_class_id))
            .filter(readers::status.eq(STATUS_ACTIVE))
            .filter(readers::category.eq(PROMOTED_CATEGORY)),
    )
    .set(readers::class_id.eq(to_class_id))
    .execute(connection)
}

/// Makes the active students of `class_id` inactive with their cards
/// expiring on `expires_on`; they stay in the class, for history. Returns
/// how many graduated.
pub fn graduate_students(
    connection: &mut DbConnection,
    class_id: &str,
    expires_on: NaiveDate,
) -> QueryResult<usize> {
    diesel::update(
        readers::table
            .filter(readers::class_id.eq(class_id))
            .filter(readers::status.eq(STATUS_ACTIVE))
            .filter(readers::category.eq(PROMOTED_CATEGORY)),
    )
    .set((readers::status.eq(STATUS_INACTIVE), readers::expires_on.eq(expires_on)))
    .execute(connection)
}

/// Whether the school's year `from_school_year` was promoted already.
pub fn run_exists(
    connection: &mut DbConnection,
    school_id: &str,
    from_school_year: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        year_end_runs::table
            .filter(year_end_runs::school_id.eq(school_id))
            .filter(year_end_runs::from_school_year.eq(from_school_year)),
    ))
    .get_result(connection)
}

/// Records an applied promotion.
pub fn insert_run(connection: &mut DbConnection, run: &YearEndRunRow) -> QueryResult<()> {
    diesel::insert_into(year_end_runs::table).values(run).execute(connection)?;
    Ok(())
}
