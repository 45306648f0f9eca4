//! The handlers of the circulation rule table and of the explain call:
//! who may change which rules, versions and their optimistic check, and
//! the desk's "why can't she borrow this?". The rules themselves are plain
//! data in `policy`; the judging is `checkout::assess`.

use chrono::SubsecRound;
use diesel::Connection as _;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_common::idempotency::{previous, remember};
use lectern_core::identity::{Principal, Role, principal, require_role, require_school, require_staff};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::{ids, validate};
use lectern_proto::circulation::v1::{
    self as pb, CheckOutExplanation, CreateCirculationRuleRequest, DeleteCirculationRuleRequest,
    DeleteCirculationRuleResponse, ExplainCheckOutRequest, GetCirculationRuleRequest,
    ListCirculationRulesRequest, ListCirculationRulesResponse, UpdateCirculationRuleRequest,
};
use tonic::{Request, Response, Status};

use crate::assess::Assessment;
use crate::convert;
use crate::db::rules;
use crate::due;
use crate::grpc::Circulation;
use crate::policy::{self, Rule, RuleDraft, Scope};
use lectern_common::Error;

/// Operation names under which rule changes are remembered for retries.
const CREATE_RULE: &str = "CreateCirculationRule";
const UPDATE_RULE: &str = "UpdateCirculationRule";
const DELETE_RULE: &str = "DeleteCirculationRule";

impl Circulation {
    pub(crate) async fn explain(
        &self,
        request: Request<ExplainCheckOutRequest>,
    ) -> Result<Response<CheckOutExplanation>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let request = request.into_inner();
        let card_barcode = validate::barcode("reader_card_barcode", &request.reader_card_barcode)?;
        let copy_barcode = validate::barcode("copy_barcode", &request.copy_barcode)?;
        let now = self.clock.now();
        let assessment = self.assess(&caller.token, card_barcode, copy_barcode, now).await?;
        let Assessment { copy, school_id, rule, why, outranked, standing, calendar, verdict, .. } =
            assessment;
        require_school(&caller, &school_id)?;
        let first = verdict.first_refusal(false);
        let (due, due_how) = due::due_under(rule.terms.loan_period, now, self.time_zone, &calendar);
        let item_type = copy.as_ref().map(|copy| copy.item_type.as_str()).unwrap_or_default();
        let count = |count: usize| i32::try_from(count).unwrap_or(i32::MAX);
        Ok(Response::new(CheckOutExplanation {
            rule: Some(convert::rule(&rule)),
            why,
            outranked: outranked.iter().map(convert::rule).collect(),
            would_lend: first.is_none(),
            refusal_reason: first.map(|refusal| refusal.reason.as_str_name().to_owned()).unwrap_or_default(),
            refusal_message: first.map(|refusal| refusal.message.clone()).unwrap_or_default(),
            blocks: verdict.blocks().map(|block| block.reason.as_str_name().to_owned()).collect(),
            due_date: due.date_text(),
            due_how,
            loans: count(standing.loans.len()),
            loans_of_item_type: count(standing.loans_of(item_type)),
            longest_overdue_days: i32::try_from(standing.longest_overdue_days(now, self.time_zone))
                .unwrap_or(i32::MAX),
            unpaid_fees: standing.unpaid_fees,
        }))
    }

    pub(crate) async fn list_rules(
        &self,
        request: Request<ListCirculationRulesRequest>,
    ) -> Result<Response<ListCirculationRulesResponse>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let school_id = ids::parse_optional_id("school_id", &request.into_inner().school_id)?;
        if let Some(school_id) = &school_id {
            require_school(&caller, school_id)?;
        }
        let mut rules = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(rules::rules_in_force(connection, school_id.as_deref())?)
            })
            .await?;
        policy::sort_for_listing(&mut rules);
        Ok(Response::new(ListCirculationRulesResponse { rules: rules.iter().map(convert::rule).collect() }))
    }

    pub(crate) async fn get_rule(
        &self,
        request: Request<GetCirculationRuleRequest>,
    ) -> Result<Response<pb::CirculationRule>, Status> {
        let caller = principal(&request)?;
        require_staff(&caller)?;
        let request = request.into_inner();
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
        let (rule, _) = self.read_rule(&id, version).await?;
        Ok(Response::new(convert::rule(&rule)))
    }

    pub(crate) async fn create_rule(
        &self,
        request: Request<CreateCirculationRuleRequest>,
    ) -> Result<Response<pb::CirculationRule>, Status> {
        let caller = principal(&request)?;
        require_role(&caller, &[Role::DistrictAdmin, Role::Librarian])?;
        let request = request.into_inner();
        let draft = RuleDraft::from_request(&request.rule.unwrap_or_default())?;
        may_change(&caller, &draft.scope)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let rule = Rule {
            id: ids::new_id(),
            version: 1,
            scope: draft.scope,
            name: draft.name,
            terms: draft.terms,
            updated_by: caller.subject_id.clone(),
            // Microseconds, as both databases keep them.
            updated_at: self.clock.now().trunc_subsecs(6).naive_utc(),
        };
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, CREATE_RULE, request_id.as_deref())? {
                    return Ok(answer);
                }
                if let Some(taken) = rules::rule_with_scope(connection, &rule.scope)? {
                    return Err(scope_taken(&taken.id).into());
                }
                // Two admins saving the same scope at once: the partial
                // unique index stops the second.
                match connection.transaction(|connection| rules::insert_rule(connection, &rule)) {
                    Ok(()) => {}
                    Err(error)
                        if unique_violation_on(&error, "scope")
                            || unique_violation_on(&error, "item_type") =>
                    {
                        let taken = rules::rule_with_scope(connection, &rule.scope)?;
                        return Err(
                            scope_taken(taken.map(|rule| rule.id).as_deref().unwrap_or_default()).into()
                        );
                    }
                    Err(error) => return Err(error.into()),
                }
                let answer = convert::rule(&rule);
                remember(connection, CREATE_RULE, request_id.as_deref(), &answer, rule.updated_at)?;
                Ok(answer)
            })
            .await?;
        tracing::info!(rule.id = %answer.id, rule.version = answer.version, staff.id = %caller.subject_id, "circulation rule created");
        Ok(Response::new(answer))
    }

    pub(crate) async fn update_rule(
        &self,
        request: Request<UpdateCirculationRuleRequest>,
    ) -> Result<Response<pb::CirculationRule>, Status> {
        let caller = principal(&request)?;
        require_role(&caller, &[Role::DistrictAdmin, Role::Librarian])?;
        let request = request.into_inner();
        let sent = request.rule.unwrap_or_default();
        let id = ids::parse_id("rule.id", &sent.id)?;
        if sent.version < 1 {
            return Err(validate::FieldError::new(
                "rule.version",
                "must be the version the change was made to",
            )
            .into());
        }
        let draft = RuleDraft::from_request(&sent)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        let (stored, in_force) = self.read_rule(&id, None).await?;
        if !in_force {
            return Err(rule_not_found(&id).into());
        }
        // The scope decides who may change a rule, and which loans it is
        // for; a rule for another scope is another rule.
        may_change(&caller, &stored.scope)?;
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
            updated_at: self.clock.now().trunc_subsecs(6).naive_utc(),
        };
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, UPDATE_RULE, request_id.as_deref())? {
                    return Ok(answer);
                }
                if !rules::retire_version(connection, &rule.id, expected)? {
                    return Err(version_changed(connection, &rule.id)?.into());
                }
                rules::insert_rule(connection, &rule)?;
                let answer = convert::rule(&rule);
                remember(connection, UPDATE_RULE, request_id.as_deref(), &answer, rule.updated_at)?;
                Ok(answer)
            })
            .await?;
        tracing::info!(rule.id = %answer.id, rule.version = answer.version, staff.id = %caller.subject_id, "circulation rule changed");
        Ok(Response::new(answer))
    }

    pub(crate) async fn delete_rule(
        &self,
        request: Request<DeleteCirculationRuleRequest>,
    ) -> Result<Response<DeleteCirculationRuleResponse>, Status> {
        let caller = principal(&request)?;
        require_role(&caller, &[Role::DistrictAdmin, Role::Librarian])?;
        let request = request.into_inner();
        let id = ids::parse_id("id", &request.id)?;
        let request_id = validate::request_id("request_id", &request.request_id)?;
        if id == policy::DISTRICT_DEFAULT_ID {
            return Err(Refusal::new(
                Reason::RuleIsDistrictDefault,
                "the district default rule always applies; change its terms instead of retiring it",
            )
            .into());
        }
        // A retry of an answered retirement finds the rule already retired.
        let replay_id = request_id.clone();
        let previous_answer = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(previous(connection, DELETE_RULE, replay_id.as_deref())?)
            })
            .await?;
        if let Some(answer) = previous_answer {
            return Ok(Response::new(answer));
        }
        let (stored, in_force) = self.read_rule(&id, None).await?;
        if !in_force {
            return Err(rule_not_found(&id).into());
        }
        may_change(&caller, &stored.scope)?;
        let now = self.clock.now().naive_utc();
        let answer = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if let Some(answer) = previous(connection, DELETE_RULE, request_id.as_deref())? {
                    return Ok(answer);
                }
                if !rules::retire_version(connection, &stored.id, stored.version)? {
                    return Err(version_changed(connection, &stored.id)?.into());
                }
                let answer = DeleteCirculationRuleResponse { rule: Some(convert::rule(&stored)) };
                remember(connection, DELETE_RULE, request_id.as_deref(), &answer, now)?;
                Ok(answer)
            })
            .await?;
        tracing::info!(rule.id = %id, staff.id = %caller.subject_id, "circulation rule retired");
        Ok(Response::new(answer))
    }

    /// A rule version, and whether it is in force; NOT_FOUND if none.
    async fn read_rule(&self, id: &str, version: Option<i32>) -> Result<(Rule, bool), Error> {
        let lookup_id = id.to_owned();
        let found = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(rules::find_rule(connection, &lookup_id, version)?)
            })
            .await?;
        found.ok_or_else(|| rule_not_found(id).into())
    }
}

/// Librarians change the rules of their own school only; the district's
/// rules (no school) are the district admins'.
fn may_change(caller: &Principal, scope: &Scope) -> Result<(), Status> {
    match &scope.school_id {
        Some(school_id) => require_school(caller, school_id),
        None => require_role(caller, &[Role::DistrictAdmin]),
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
