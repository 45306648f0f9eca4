//! School calendars, stored and read whole: one row of weekly closed days
//! per school, and its closures and terms. Days are stored as
//! "YYYY-MM-DD" text, which sorts as dates on both backends.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::{school_calendars, school_closures, school_terms};
use crate::policy::calendar::{Closure, ClosureKind, SchoolCalendar, Term, day_text, parse_day};

/// A school's calendar as stored, with who changed it last and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCalendar {
    pub calendar: SchoolCalendar,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

/// The school's calendar: open every day if it was never given one.
pub fn calendar_of(connection: &mut DbConnection, school_id: &str) -> QueryResult<SchoolCalendar> {
    Ok(load_calendar(connection, school_id)?.map(|stored| stored.calendar).unwrap_or_default())
}

/// The calendar of `school_id`, or `None` if it was never set (open every
/// day).
pub fn load_calendar(connection: &mut DbConnection, school_id: &str) -> QueryResult<Option<StoredCalendar>> {
    let Some((closed_weekdays, updated_by, updated_at)) = school_calendars::table
        .find(school_id)
        .select((
            school_calendars::closed_weekdays,
            school_calendars::updated_by,
            school_calendars::updated_at,
        ))
        .first::<(String, String, NaiveDateTime)>(connection)
        .optional()?
    else {
        return Ok(None);
    };
    let closures = school_closures::table
        .filter(school_closures::school_id.eq(school_id))
        .order((school_closures::first_day.asc(), school_closures::last_day.asc()))
        .select((
            school_closures::first_day,
            school_closures::last_day,
            school_closures::kind,
            school_closures::name,
        ))
        .load::<(String, String, String, String)>(connection)?;
    let terms = school_terms::table
        .filter(school_terms::school_id.eq(school_id))
        .order(school_terms::first_day.asc())
        .select((school_terms::first_day, school_terms::last_day, school_terms::name))
        .load::<(String, String, String)>(connection)?;
    // Rows are written from checked calendars only; a day that does not
    // read back (a hand edit) drops its entry rather than every check-out.
    let calendar = SchoolCalendar {
        closed_weekdays: closed_weekdays
            .split(',')
            .filter_map(|weekday| weekday.trim().parse().ok())
            .collect(),
        closures: closures
            .into_iter()
            .filter_map(|(first_day, last_day, kind, name)| {
                Some(Closure {
                    first_day: parse_day(&first_day)?,
                    last_day: parse_day(&last_day)?,
                    kind: ClosureKind::from_stored(&kind),
                    name,
                })
            })
            .collect(),
        terms: terms
            .into_iter()
            .filter_map(|(first_day, last_day, name)| {
                Some(Term { name, first_day: parse_day(&first_day)?, last_day: parse_day(&last_day)? })
            })
            .collect(),
    };
    Ok(Some(StoredCalendar { calendar, updated_by, updated_at }))
}

/// Replaces the calendar of `school_id` (inside the caller's transaction).
pub fn replace_calendar(
    connection: &mut DbConnection,
    school_id: &str,
    stored: &StoredCalendar,
) -> QueryResult<()> {
    diesel::delete(school_closures::table.filter(school_closures::school_id.eq(school_id)))
        .execute(connection)?;
    diesel::delete(school_terms::table.filter(school_terms::school_id.eq(school_id))).execute(connection)?;
    diesel::delete(school_calendars::table.find(school_id)).execute(connection)?;
    let calendar = &stored.calendar;
    let weekdays: Vec<String> = calendar.closed_weekdays.iter().map(u32::to_string).collect();
    diesel::insert_into(school_calendars::table)
        .values((
            school_calendars::school_id.eq(school_id),
            school_calendars::closed_weekdays.eq(weekdays.join(",")),
            school_calendars::updated_by.eq(&stored.updated_by),
            school_calendars::updated_at.eq(stored.updated_at),
        ))
        .execute(connection)?;
    for closure in &calendar.closures {
        diesel::insert_into(school_closures::table)
            .values((
                school_closures::school_id.eq(school_id),
                school_closures::first_day.eq(day_text(closure.first_day)),
                school_closures::last_day.eq(day_text(closure.last_day)),
                school_closures::kind.eq(closure.kind.as_str()),
                school_closures::name.eq(&closure.name),
            ))
            .execute(connection)?;
    }
    for term in &calendar.terms {
        diesel::insert_into(school_terms::table)
            .values((
                school_terms::school_id.eq(school_id),
                school_terms::first_day.eq(day_text(term.first_day)),
                school_terms::last_day.eq(day_text(term.last_day)),
                school_terms::name.eq(&term.name),
            ))
            .execute(connection)?;
    }
    Ok(())
}
