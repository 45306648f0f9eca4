//! Schools and their classes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{classes, schools};

/// A stored school.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schools)]
pub struct SchoolRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// A stored class (homeroom).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = classes)]
pub struct ClassRow {
    pub id: String,
    pub school_id: String,
    pub name: String,
    pub grade: i32,
    pub school_year: String,
    pub created_at: NaiveDateTime,
}

/// Stores a school.
pub fn insert_school(connection: &mut DbConnection, school: &SchoolRow) -> QueryResult<()> {
    diesel::insert_into(schools::table).values(school).execute(connection)?;
    Ok(())
}

/// The school with `id`.
pub fn find_school(connection: &mut DbConnection, id: &str) -> QueryResult<Option<SchoolRow>> {
    schools::table.find(id).select(SchoolRow::as_select()).first(connection).optional()
}

/// Whether a school uses `code`.
pub fn school_code_exists(connection: &mut DbConnection, code: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(schools::table.filter(schools::code.eq(code)))).get_result(connection)
}

/// Schools by name then id, `limit` of them from `offset`.
pub fn list_schools(connection: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<Vec<SchoolRow>> {
    schools::table
        .select(SchoolRow::as_select())
        .order((schools::name.asc(), schools::id.asc()))
        .offset(offset)
        .limit(limit)
        .load(connection)
}

/// Stores a class.
pub fn insert_class(connection: &mut DbConnection, class: &ClassRow) -> QueryResult<()> {
    diesel::insert_into(classes::table).values(class).execute(connection)?;
    Ok(())
}

/// The class with `id`.
pub fn find_class(connection: &mut DbConnection, id: &str) -> QueryResult<Option<ClassRow>> {
    classes::table.find(id).select(ClassRow::as_select()).first(connection).optional()
}

/// Whether `school_id` already has a class called `name` in `school_year`.
pub fn class_name_exists(
    connection: &mut DbConnection,
    school_id: &str,
    school_year: &str,
    name: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        classes::table
            .filter(classes::school_id.eq(school_id))
            .filter(classes::school_year.eq(school_year))
            .filter(classes::name.eq(name)),
    ))
    .get_result(connection)
}

/// A school's classes (of one school year, if given) by grade, name and id,
/// `limit` of them from `offset`.
pub fn list_classes(
    connection: &mut DbConnection,
    school_id: &str,
    school_year: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<ClassRow>> {
    let mut query = classes::table
        .filter(classes::school_id.eq(school_id))
        .select(ClassRow::as_select())
        .order((classes::grade.asc(), classes::name.asc(), classes::id.asc()))
        .offset(offset)
        .limit(limit)
        .into_boxed();
    if let Some(school_year) = school_year {
        query = query.filter(classes::school_year.eq(school_year.to_owned()));
    }
    query.load(connection)
}
