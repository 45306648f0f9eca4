//! The audit log: who did what to whom, when, and how it ended. Ids only.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::audit_events;

/// A stored audit event.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: String,
    pub occurred_at: NaiveDateTime,
    pub action: String,
    pub outcome: String,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub detail: Option<String>,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub subject_id: Option<String>,
    pub actor_id: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

/// Records an event.
pub fn insert_event(connection: &mut DbConnection, event: &AuditRow) -> QueryResult<()> {
    diesel::insert_into(audit_events::table).values(event).execute(connection)?;
    Ok(())
}

/// Events matching `filter`, newest first.
pub fn list_events(
    connection: &mut DbConnection,
    filter: &AuditFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_events::table.select(AuditRow::as_select()).into_boxed();
    if let Some(action) = &filter.action {
        query = query.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(subject_id) = &filter.subject_id {
        query = query.filter(audit_events::subject_id.eq(subject_id.clone()));
    }
    if let Some(actor_id) = &filter.actor_id {
        query = query.filter(audit_events::actor_id.eq(actor_id.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_events::occurred_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_events::occurred_at.lt(until));
    }
    query
        .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
        .offset(offset)
        .limit(limit)
        .load(connection)
}
