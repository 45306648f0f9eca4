//! Stored circulation rules. Every version is a row; the versions in force
//! have `in_force` set, at most one per scope (a partial unique index), so
//! a new version is "retire the old row, insert the new one" in one
//! transaction, and a loan can always read the exact version it was made
//! under.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use lectern_common::Error;

use super::schema::circulation_rules;
use crate::policy::rule::{DISTRICT_DEFAULT_ID, LoanPeriod, Rule, Scope, Terms, choose};

/// A stored rule version.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = circulation_rules)]
pub struct RuleRow {
    pub id: String,
    pub version: i32,
    pub in_force: bool,
    pub school_id: String,
    pub reader_category: String,
    pub item_type: String,
    pub name: String,
    pub loanable: bool,
    pub loan_period_unit: String,
    pub loan_period: i32,
    pub max_loans: Option<i32>,
    pub max_loans_of_item_type: Option<i32>,
    pub renewals: i32,
    pub renewal_period_days: i32,
    pub no_renewal_when_held: bool,
    pub grace_days: i32,
    pub fine_per_open_day: i64,
    pub fine_cap: i64,
    pub suspension_days_per_overdue_day: i32,
    pub lost_processing_fee: i64,
    pub hold_shelf_days: i32,
    pub max_holds: i32,
    pub block_when_overdue_days: Option<i32>,
    pub block_when_fees_over: Option<i64>,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

fn stored_count(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn read_count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

impl RuleRow {
    /// The row of `rule`, in force or not.
    pub fn from_rule(rule: &Rule, in_force: bool) -> Self {
        let (loan_period_unit, loan_period) = rule.terms.loan_period.to_stored();
        let any = |value: &Option<String>| value.clone().unwrap_or_default();
        let terms = &rule.terms;
        Self {
            id: rule.id.clone(),
            version: rule.version,
            in_force,
            school_id: any(&rule.scope.school_id),
            reader_category: any(&rule.scope.reader_category),
            item_type: any(&rule.scope.item_type),
            name: rule.name.clone(),
            loanable: terms.loanable,
            loan_period_unit: loan_period_unit.to_owned(),
            loan_period,
            max_loans: terms.max_loans.map(stored_count),
            max_loans_of_item_type: terms.max_loans_of_item_type.map(stored_count),
            renewals: stored_count(terms.renewals),
            renewal_period_days: stored_count(terms.renewal_period_days),
            no_renewal_when_held: terms.no_renewal_when_held,
            grace_days: stored_count(terms.grace_days),
            fine_per_open_day: terms.fine_per_open_day,
            fine_cap: terms.fine_cap,
            suspension_days_per_overdue_day: stored_count(terms.suspension_days_per_overdue_day),
            lost_processing_fee: terms.lost_processing_fee,
            hold_shelf_days: stored_count(terms.hold_shelf_days),
            max_holds: stored_count(terms.max_holds),
            block_when_overdue_days: terms.block_when_overdue_days.map(stored_count),
            block_when_fees_over: terms.block_when_fees_over,
            updated_by: rule.updated_by.clone(),
            updated_at: rule.updated_at,
        }
    }

    /// The rule this row stores.
    pub fn into_rule(self) -> Rule {
        let any = |value: String| Some(value).filter(|value| !value.is_empty());
        Rule {
            id: self.id,
            version: self.version,
            scope: Scope {
                school_id: any(self.school_id),
                reader_category: any(self.reader_category),
                item_type: any(self.item_type),
            },
            name: self.name,
            terms: Terms {
                loanable: self.loanable,
                loan_period: LoanPeriod::from_stored(&self.loan_period_unit, self.loan_period),
                max_loans: self.max_loans.map(read_count),
                max_loans_of_item_type: self.max_loans_of_item_type.map(read_count),
                renewals: read_count(self.renewals),
                renewal_period_days: read_count(self.renewal_period_days),
                no_renewal_when_held: self.no_renewal_when_held,
                grace_days: read_count(self.grace_days),
                fine_per_open_day: self.fine_per_open_day,
                fine_cap: self.fine_cap,
                suspension_days_per_overdue_day: read_count(self.suspension_days_per_overdue_day),
                lost_processing_fee: self.lost_processing_fee,
                hold_shelf_days: read_count(self.hold_shelf_days),
                max_holds: read_count(self.max_holds),
                block_when_overdue_days: self.block_when_overdue_days.map(read_count),
                block_when_fees_over: self.block_when_fees_over,
            },
            updated_by: self.updated_by,
            updated_at: self.updated_at,
        }
    }
}

/// The rule that applies to a loan, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicable {
    pub rule: Rule,
    /// Why it applies, in words for the desk.
    pub why: String,
    /// The other matching rules it outranks.
    pub outranked: Vec<Rule>,
}

/// The rule that applies to a loan at `school_id` to a reader of
/// `reader_category` of a copy of `item_type` (`None`: an unknown copy,
/// matched only by rules for any item type): the most specific rule in
/// force whose scope matches (`policy::rule::choose`).
pub fn applicable_rule(
    connection: &mut DbConnection,
    school_id: &str,
    reader_category: &str,
    item_type: Option<&str>,
) -> Result<Applicable, Error> {
    let candidates = rules_for_loan(connection, school_id, reader_category, item_type)?;
    let choice = choose(&candidates, school_id, reader_category, item_type).ok_or_else(no_rule)?;
    Ok(Applicable {
        rule: choice.rule.clone(),
        why: choice.why(),
        outranked: choice.outranked.into_iter().cloned().collect(),
    })
}

/// The rule version a loan was made under (`rule_id`, `version`); for a
/// loan made before rules existed, the district default as it is now.
pub fn rule_of_loan(
    connection: &mut DbConnection,
    rule_id: Option<&str>,
    version: Option<i32>,
) -> Result<Rule, Error> {
    let found = match rule_id {
        Some(rule_id) => find_rule(connection, rule_id, version)?,
        None => find_rule(connection, DISTRICT_DEFAULT_ID, None)?,
    };
    found.map(|(rule, _)| rule).ok_or_else(no_rule)
}

/// The rules in force that can match a loan at `school_id` to a reader of
/// `reader_category` of a copy of `item_type` (`None`: unknown copy): at
/// most eight rows, read through the scope index.
fn rules_for_loan(
    connection: &mut DbConnection,
    school_id: &str,
    reader_category: &str,
    item_type: Option<&str>,
) -> QueryResult<Vec<Rule>> {
    let item_types: Vec<String> = [Some(""), item_type].into_iter().flatten().map(str::to_owned).collect();
    let rows: Vec<RuleRow> = circulation_rules::table
        .filter(circulation_rules::in_force.eq(true))
        .filter(circulation_rules::school_id.eq_any([String::new(), school_id.to_owned()]))
        .filter(circulation_rules::reader_category.eq_any([String::new(), reader_category.to_owned()]))
        .filter(circulation_rules::item_type.eq_any(item_types))
        .select(RuleRow::as_select())
        .load(connection)?;
    Ok(rows.into_iter().map(RuleRow::into_rule).collect())
}

/// The rules in force for every school, and those of `school_id` if given.
pub fn rules_in_force(connection: &mut DbConnection, school_id: Option<&str>) -> QueryResult<Vec<Rule>> {
    let schools: Vec<String> = [Some(""), school_id].into_iter().flatten().map(str::to_owned).collect();
    let rows: Vec<RuleRow> = circulation_rules::table
        .filter(circulation_rules::in_force.eq(true))
        .filter(circulation_rules::school_id.eq_any(schools))
        .select(RuleRow::as_select())
        .load(connection)?;
    Ok(rows.into_iter().map(RuleRow::into_rule).collect())
}

/// A rule: the given version, or else the version in force, or else (a
/// retired rule) its last version. The flag says whether it is in force.
pub fn find_rule(
    connection: &mut DbConnection,
    id: &str,
    version: Option<i32>,
) -> QueryResult<Option<(Rule, bool)>> {
    let mut query = circulation_rules::table
        .filter(circulation_rules::id.eq(id))
        .select(RuleRow::as_select())
        .order(circulation_rules::version.desc())
        .into_boxed();
    if let Some(version) = version {
        query = query.filter(circulation_rules::version.eq(version));
    }
    let row: Option<RuleRow> = query.first(connection).optional()?;
    Ok(row.map(|row| {
        let in_force = row.in_force;
        (row.into_rule(), in_force)
    }))
}

/// The rule in force with the same scope as `scope`, if any.
pub fn rule_with_scope(connection: &mut DbConnection, scope: &Scope) -> QueryResult<Option<Rule>> {
    let any = |value: &Option<String>| value.clone().unwrap_or_default();
    let row: Option<RuleRow> = circulation_rules::table
        .filter(circulation_rules::in_force.eq(true))
        .filter(circulation_rules::school_id.eq(any(&scope.school_id)))
        .filter(circulation_rules::reader_category.eq(any(&scope.reader_category)))
        .filter(circulation_rules::item_type.eq(any(&scope.item_type)))
        .select(RuleRow::as_select())
        .first(connection)
        .optional()?;
    Ok(row.map(RuleRow::into_rule))
}

/// Stores a new rule version, in force.
pub fn insert_rule(connection: &mut DbConnection, rule: &Rule) -> QueryResult<()> {
    diesel::insert_into(circulation_rules::table)
        .values(RuleRow::from_rule(rule, true))
        .execute(connection)?;
    Ok(())
}

/// Takes version `version` of rule `id` out of force. Returns false if it
/// was not in force (someone saved or retired the rule since).
pub fn retire_version(connection: &mut DbConnection, id: &str, version: i32) -> QueryResult<bool> {
    let updated = diesel::update(
        circulation_rules::table
            .filter(circulation_rules::id.eq(id))
            .filter(circulation_rules::version.eq(version))
            .filter(circulation_rules::in_force.eq(true)),
    )
    .set(circulation_rules::in_force.eq(false))
    .execute(connection)?;
    Ok(updated == 1)
}

/// The district default rule's id (see `policy::rule`), for tests and tools.
pub const DISTRICT_DEFAULT: &str = DISTRICT_DEFAULT_ID;

/// No rule matched a loan: the district default, which the migration seeds
/// and which cannot be retired, is missing. A broken database, not a
/// refusal.
fn no_rule() -> Error {
    Error::internal("no circulation rule matches: the district default rule is missing")
}
