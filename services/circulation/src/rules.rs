//! The circulation rule table: who may change which rules, versions and
//! their optimistic check. The rules themselves are plain data in
//! `rule::rule`; which one applies to a loan is `db::rules::applicable_rule`.

use chrono::SubsecRound;
use diesel::Connection as _;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::identity::Principal;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::{ids, validate};
use lectern_proto::circulation::v1::{
    self as pb, CreateCirculationRuleRequest, DeleteCirculationRuleRequest, DeleteCirculationRuleResponse,
    GetCirculationRuleRequest, ListCirculationRulesRequest, ListCirculationRulesResponse,
    UpdateCirculationRuleRequest,
};

use lectern_common::Error;

use crate::context::Circulation;
use crate::convert;
use crate::db::rules;
use crate::policy::rule::{self, Rule, RuleDraft, Scope};

/// Operation names under which rule changes are remembered for retries.
const CREATE_RULE: &str = "circulation.CreateCirculationRule";
const UPDATE_RULE: &str = "circulation.UpdateCirculationRule";
const DELETE_RULE: &str = "circulation.DeleteCirculationRule";

/// The rules in force: the use case behind
/// `CirculationRuleService/ListCirculationRules`.
pub async fn list_circulation_rules(
    circulation: &Circulation,
    caller: &Principal,
    request: ListCirculationRulesRequest,
) -> Result<ListCirculationRulesResponse, Error> {
    caller.require(Access::STAFF)?;
    let school_id = ids::parse_optional_id("school_id", &request.school_id)?;
    if let Some(school_id) = &school_id {
        caller.require_school(school_id)?;
    }
    let mut rules = circulation
        .db
        .run(move |connection| -> Result<_, Error> {
            Ok(rules::rules_in_force(connection, school_id.as_deref())?)
        })
        .await?;
    rule::sort_for_listing(&mut rules);
    Ok(ListCirculationRulesResponse { rules: rules.iter().map(convert::rule).collect() })
}

/// One rule, or one version of it: the use case behind
/// `CirculationRuleService/GetCirculationRule`.
pub async fn get_circulation_rule(
    circulation: &Circulation,
    caller: &Principal,
    request: GetCirculationRuleRequest,
) -> Result<pb::CirculationRule, Error> {
    caller.require(Access::STAFF)?;
    let id = ids::parse_id("id", &request.id)?;
    let version = match request.version {
        0 => None,
        version if version > 0 => Some(version),
        _ => {
            return Err(
                validate::FieldError::new("version", "must be 0 (in force) or a version number").into()
            );
        }
    };
    let (rule, _) = read_rule(circulation, &id, version).await?;
    Ok(convert::rule(&rule))
}

/// Adds a rule: the use case behind
/// `CirculationRuleService/CreateCirculationRule`.
pub async fn create_circulation_rule(
    circulation: &Circulation,
    caller: &Principal,
    request: CreateCirculationRuleRequest,
) -> Result<pb::CirculationRule, Error> {
    caller.require(Access::LIBRARIAN)?;
    let draft = RuleDraft::from_request(&request.rule.unwrap_or_default())?;
    may_change(caller, &draft.scope)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let rule = Rule {
        id: ids::new_id(),
        version: 1,
        scope: draft.scope,
        name: draft.name,
        terms: draft.terms,
        updated_by: caller.subject_id.clone(),
        // Microseconds, as both databases keep them.
        updated_at: circulation.clock.now().trunc_subsecs(6).naive_utc(),
    };
    let answer = Idempotent::new(CREATE_RULE, request_id)
        .write(&circulation.db, rule.updated_at, move |connection| {
            if let Some(taken) = rules::rule_with_scope(connection, &rule.scope)? {
                return Err(scope_taken(&taken.id).into());
            }
            // Two admins saving the same scope at once: the partial
            // unique index stops the second.
            match connection.transaction(|connection| rules::insert_rule(connection, &rule)) {
                Ok(()) => {}
                Err(error)
                    if unique_violation_on(&error, "scope") || unique_violation_on(&error, "item_type") =>
                {
                    let taken = rules::rule_with_scope(connection, &rule.scope)?;
                    return Err(scope_taken(taken.map(|rule| rule.id).as_deref().unwrap_or_default()).into());
                }
                Err(error) => return Err(error.into()),
            }
            let answer = convert::rule(&rule);
            Ok(answer)
        })
        .await?
        .into_inner();
    tracing::info!(rule.id = %answer.id, rule.version = answer.version, staff.id = %caller.subject_id, "circulation rule created");
    Ok(answer)
}

/// Changes a rule's terms as a new version: the use case behind
/// `CirculationRuleService/UpdateCirculationRule`.
pub async fn update_circulation_rule(
    circulation: &Circulation,
    caller: &Principal,
    request: UpdateCirculationRuleRequest,
) -> Result<pb::CirculationRule, Error> {
    caller.require(Access::LIBRARIAN)?;
    let sent = request.rule.unwrap_or_default();
    let id = ids::parse_id("rule.id", &sent.id)?;
    if sent.version < 1 {
        return Err(
            validate::FieldError::new("rule.version", "must be the version the change was made to").into()
        );
    }
    let draft = RuleDraft::from_request(&sent)?;
    let request_id = validate::request_id("request_id", &request.request_id)?;
    let (stored, in_force) = read_rule(circulation, &id, None).await?;
    if !in_force {
        return Err(rule_not_found(&id).into());
    }
    // The scope decides who may change a rule, and which loans it is
    // for; a rule for another scope is another rule.
    may_change(caller, &stored.scope)?;
    if draft.scope != stored.scope {
        return Err(validate::FieldError::new(
            "rule.school_id",
            "the scope (school, reader category, item type) of a rule cannot change; retire it and create a rule for the new scope",
        )
        .into());
    }
    let expected = sent.version;
    let rule = Rule {
        id: id.clone(),
        version: expected + 1,
        scope: stored.scope,
        name: draft.name,
        terms: draft.terms,
        updated_by: caller.subject_id.clone(),
        updated_at: circulation.clock.now().trunc_subsecs(6).naive_utc(),
    };
    let answer = Idempotent::new(UPDATE_RULE, request_id)
        .write(&circulation.db, rule.updated_at, move |connection| {
            if !rules::retire_version(connection, &rule.id, expected)? {
                return Err(version_changed(connection, &rule.id)?.into());
            }
            rules::insert_rule(connection, &rule)?;
            let answer = convert::rule(&rule);
            Ok(answer)
        })
        .await?
        .into_inner();
    tracing::info!(rule.id = %answer.id, rule.version = answer.version, staff.id = %caller.subject_id, "circulation rule changed");
    Ok(answer)
}

/// Retires a rule: the use case behind
/// `CirculationRuleService/DeleteCirculationRule`.
pub async fn delete_circulation_rule(
    circulation: &Circulation,
    caller: &Principal,
    request: DeleteCirculationRuleRequest,
) -> Result<DeleteCirculationRuleResponse, Error> {
    caller.require(Access::LIBRARIAN)?;
    let id = ids::parse_id("id", &request.id)?;
    let once = Idempotent::new(DELETE_RULE, validate::request_id("request_id", &request.request_id)?);
    if id == rule::DISTRICT_DEFAULT_ID {
        return Err(Refusal::new(
            Reason::RuleIsDistrictDefault,
            "the district default rule always applies; change its terms instead of retiring it",
        )
        .into());
    }
    // A retry of an answered retirement finds the rule already retired,
    // and is answered with the first answer.
    let retired = once
        .call(&circulation.db, async {
            let (stored, in_force) = read_rule(circulation, &id, None).await?;
            if !in_force {
                return Err(rule_not_found(&id).into());
            }
            may_change(caller, &stored.scope)?;
            let now = circulation.now().naive_utc();
            let once = once.clone();
            circulation
                .db
                .write(move |connection| {
                    once.run(connection, now, |connection| {
                        if !rules::retire_version(connection, &stored.id, stored.version)? {
                            return Err(version_changed(connection, &stored.id)?.into());
                        }
                        Ok(DeleteCirculationRuleResponse { rule: Some(convert::rule(&stored)) })
                    })
                })
                .await
        })
        .await?;
    if retired.fresh().is_some() {
        tracing::info!(rule.id = %id, staff.id = %caller.subject_id, "circulation rule retired");
    }
    Ok(retired.into_inner())
}

/// A rule version, and whether it is in force; NOT_FOUND if none.
async fn read_rule(circulation: &Circulation, id: &str, version: Option<i32>) -> Result<(Rule, bool), Error> {
    let lookup_id = id.to_owned();
    let found = circulation
        .db
        .run(move |connection| -> Result<_, Error> { Ok(rules::find_rule(connection, &lookup_id, version)?) })
        .await?;
    found.ok_or_else(|| rule_not_found(id).into())
}

/// Librarians change the rules of their own school only; the district's
/// rules (no school) are the district admins'.
fn may_change(caller: &Principal, scope: &Scope) -> Result<(), Refusal> {
    match &scope.school_id {
        Some(school_id) => caller.require_school(school_id),
        None => caller.require(Access::DISTRICT_ADMIN),
    }
}

fn rule_not_found(id: &str) -> Refusal {
    Refusal::new(Reason::RuleNotFound, format!("no circulation rule in force has id {id}"))
        .with("rule_id", id)
}

fn scope_taken(existing_id: &str) -> Refusal {
    Refusal::new(
        Reason::RuleScopeTaken,
        "a rule for the same school, reader category and item type is in force; change that rule instead",
    )
    .with("rule_id", existing_id)
}

/// The refusal of a change made to a version no longer in force.
fn version_changed(connection: &mut DbConnection, id: &str) -> Result<Refusal, Error> {
    let current = rules::find_rule(connection, id, None)?;
    Ok(match current {
        Some((rule, true)) => Refusal::new(
            Reason::RuleVersionChanged,
            format!("the rule was changed since you read it; it is now version {}", rule.version),
        )
        .with("version", rule.version.to_string()),
        _ => rule_not_found(id),
    })
}
