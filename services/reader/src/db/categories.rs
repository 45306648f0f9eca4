//! Reader categories (student, teacher, ...) with their loan history rules.

use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::reader_categories;

/// A stored reader category.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reader_categories)]
#[diesel(treat_none_as_null = true)]
pub struct CategoryRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// "keep", "anonymize_after_days" or "never_keep".
    pub history_retention: String,
    /// Days after the return, for "anonymize_after_days".
    pub history_days: Option<i32>,
}

/// Every category, by code.
pub fn list(connection: &mut DbConnection) -> QueryResult<Vec<CategoryRow>> {
    reader_categories::table
        .select(CategoryRow::as_select())
        .order(reader_categories::code.asc())
        .load(connection)
}

/// One category by code.
pub fn find(connection: &mut DbConnection, code: &str) -> QueryResult<Option<CategoryRow>> {
    reader_categories::table.find(code).select(CategoryRow::as_select()).first(connection).optional()
}

/// Stores a new category.
pub fn insert(connection: &mut DbConnection, category: &CategoryRow) -> QueryResult<()> {
    diesel::insert_into(reader_categories::table).values(category).execute(connection)?;
    Ok(())
}

/// Replaces a category's names and rule.
pub fn update(connection: &mut DbConnection, category: &CategoryRow) -> QueryResult<()> {
    diesel::update(reader_categories::table.find(&category.code)).set(category).execute(connection)?;
    Ok(())
}
