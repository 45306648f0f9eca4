//! Circulation rules: for which loans a rule is (its [`Scope`]: school,
//! reader category, item type, each optional) and on what [`Terms`]. Of
//! the rules whose scope matches a loan the most specific applies: the one
//! with the most scope fields set, and among equally specific ones the
//! order school, then item type, then reader category decides. The
//! district default (no scope field set) always matches, so a loan always
//! has a rule. Plain data and functions, no I/O; a request is checked here
//! before anything is stored.

use std::cmp::Reverse;

use chrono::NaiveDateTime;
use lectern_core::validate::{self, FieldError};
use lectern_proto::circulation::v1::{self as pb, LoanPeriodUnit};

/// The district default rule's id: seeded by the migration, never retired.
pub const DISTRICT_DEFAULT_ID: &str = "00000000-0000-7000-8000-000000000001";
/// Longest rule name.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest scope code (reader category, item type).
const MAX_CODE_CHARS: usize = 64;

/// Which loans a rule is for; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub school_id: Option<String>,
    pub reader_category: Option<String>,
    pub item_type: Option<String>,
}

/// How much a scope says: more fields set outranks fewer; then the school
/// outranks the item type, which outranks the reader category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    fields: u8,
    school: bool,
    item_type: bool,
    reader_category: bool,
}

impl Scope {
    /// Whether a loan at `school_id` to a reader of `reader_category` of a
    /// copy of `item_type` falls under this scope. An unknown item type
    /// (`None`: the scanned copy was not found) matches only rules for any
    /// item type.
    pub fn matches(&self, school_id: &str, reader_category: &str, item_type: Option<&str>) -> bool {
        let fits = |field: &Option<String>, value: Option<&str>| match field {
            None => true,
            Some(wanted) => value == Some(wanted.as_str()),
        };
        fits(&self.school_id, Some(school_id))
            && fits(&self.reader_category, Some(reader_category))
            && fits(&self.item_type, item_type)
    }

    /// How specific the scope is, for choosing among matching rules.
    pub fn specificity(&self) -> Specificity {
        let (school, item_type, reader_category) =
            (self.school_id.is_some(), self.item_type.is_some(), self.reader_category.is_some());
        Specificity {
            fields: u8::from(school) + u8::from(item_type) + u8::from(reader_category),
            school,
            item_type,
            reader_category,
        }
    }

    /// Whether this is the district default's scope.
    pub fn is_any(&self) -> bool {
        self.specificity().fields == 0
    }

    /// The scope in words, for the desk: "school X, category student, any
    /// item type".
    pub fn describe(&self) -> String {
        let part = |label: &str, value: &Option<String>, any: &str| match value {
            Some(value) => format!("{label} {value}"),
            None => any.to_owned(),
        };
        [
            part("school", &self.school_id, "any school"),
            part("reader category", &self.reader_category, "any reader category"),
            part("item type", &self.item_type, "any item type"),
        ]
        .join(", ")
    }
}

/// How a rule sets the due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanPeriod {
    /// The end of the day this many days after the loan, moved off closed days.
    Days(u32),
    /// This many hours after the loan.
    Hours(u32),
    /// The end of the last day of the term the loan is made in; this many
    /// days when no term covers the day.
    EndOfTerm { fallback_days: u32 },
}

impl LoanPeriod {
    /// The stored unit and length.
    pub fn to_stored(self) -> (&'static str, i32) {
        let (unit, length) = match self {
            Self::Days(days) => ("days", days),
            Self::Hours(hours) => ("hours", hours),
            Self::EndOfTerm { fallback_days } => ("end_of_term", fallback_days),
        };
        (unit, i32::try_from(length).unwrap_or(i32::MAX))
    }

    /// Reads a stored unit and length back. The migration's CHECK admits
    /// only the three units; anything else reads as days.
    pub fn from_stored(unit: &str, length: i32) -> Self {
        let length = u32::try_from(length).unwrap_or(0);
        match unit {
            "hours" => Self::Hours(length),
            "end_of_term" => Self::EndOfTerm { fallback_days: length },
            _ => Self::Days(length),
        }
    }

    /// The wire unit and length.
    pub fn to_wire(self) -> (LoanPeriodUnit, i32) {
        let (unit, length) = match self {
            Self::Days(days) => (LoanPeriodUnit::Days, days),
            Self::Hours(hours) => (LoanPeriodUnit::Hours, hours),
            Self::EndOfTerm { fallback_days } => (LoanPeriodUnit::EndOfTerm, fallback_days),
        };
        (unit, i32::try_from(length).unwrap_or(i32::MAX))
    }
}

/// What a rule sets. Counts are `u32`, money `i64` minor units (fen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub loanable: bool,
    pub loan_period: LoanPeriod,
    pub max_loans: Option<u32>,
    pub max_loans_of_item_type: Option<u32>,
    pub renewals: u32,
    pub renewal_period_days: u32,
    pub no_renewal_when_held: bool,
    pub grace_days: u32,
    pub fine_per_open_day: i64,
    pub fine_cap: i64,
    pub suspension_days_per_overdue_day: u32,
    pub lost_processing_fee: i64,
    pub hold_shelf_days: u32,
    pub max_holds: u32,
    pub block_when_overdue_days: Option<u32>,
    pub block_when_fees_over: Option<i64>,
}

/// One version of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub version: i32,
    pub scope: Scope,
    pub name: String,
    pub terms: Terms,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

impl Rule {
    /// Whether this is the district default.
    pub fn is_district_default(&self) -> bool {
        self.id == DISTRICT_DEFAULT_ID
    }
}

/// The rule that applies, and the matching rules it outranks (most
/// specific first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice<'a> {
    pub rule: &'a Rule,
    pub outranked: Vec<&'a Rule>,
}

impl Choice<'_> {
    /// Why the rule applies, in words for the desk.
    pub fn why(&self) -> String {
        let scope = &self.rule.scope;
        if scope.is_any() {
            return "no rule more specific matches, so the district default applies".to_owned();
        }
        let outranks = match self.outranked.len() {
            0 => String::new(),
            1 => "; it outranks 1 other matching rule".to_owned(),
            count => format!("; it outranks {count} other matching rules"),
        };
        format!("the most specific matching rule: {}{outranks}", scope.describe())
    }
}

/// Chooses the rule for a loan among `rules` (the rules in force), or
/// `None` if none matches (the district default is missing).
pub fn choose<'a>(
    rules: &'a [Rule],
    school_id: &str,
    reader_category: &str,
    item_type: Option<&str>,
) -> Option<Choice<'a>> {
    let mut matching: Vec<&Rule> =
        rules.iter().filter(|rule| rule.scope.matches(school_id, reader_category, item_type)).collect();
    matching.sort_by_key(|rule| Reverse(rule.scope.specificity()));
    let mut matching = matching.into_iter();
    let rule = matching.next()?;
    Some(Choice { rule, outranked: matching.collect() })
}

/// Sorts rules for a list: most specific first, then by scope values.
pub fn sort_for_listing(rules: &mut [Rule]) {
    rules.sort_by(|a, b| {
        let key = |rule: &Rule| {
            (
                Reverse(rule.scope.specificity()),
                rule.scope.school_id.clone(),
                rule.scope.item_type.clone(),
                rule.scope.reader_category.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// A rule as a client sent it: scope, name and terms, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDraft {
    pub scope: Scope,
    pub name: String,
    pub terms: Terms,
}

impl RuleDraft {
    /// Checks a rule from a request. Each problem names its field.
    pub fn from_request(rule: &pb::CirculationRule) -> Result<Self, FieldError> {
        let scope = Scope {
            school_id: validate::optional_text("rule.school_id", &rule.school_id, 64)
                .and_then(|id| lectern_core::ids::parse_optional_id("rule.school_id", &id))?,
            reader_category: code("rule.reader_category", &rule.reader_category)?,
            item_type: code("rule.item_type", &rule.item_type)?,
        };
        let name = validate::optional_text("rule.name", &rule.name, MAX_NAME_CHARS)?;
        let loan_period =
            match validate::known_enum::<LoanPeriodUnit>("rule.loan_period_unit", rule.loan_period_unit)? {
                LoanPeriodUnit::Unspecified => {
                    return Err(FieldError::new(
                        "rule.loan_period_unit",
                        "is required (days, hours or end of term)",
                    ));
                }
                LoanPeriodUnit::Days => {
                    LoanPeriod::Days(count("rule.loan_period", rule.loan_period, 1, 365)?)
                }
                LoanPeriodUnit::Hours => {
                    LoanPeriod::Hours(count("rule.loan_period", rule.loan_period, 1, 72)?)
                }
                LoanPeriodUnit::EndOfTerm => LoanPeriod::EndOfTerm {
                    fallback_days: count("rule.loan_period", rule.loan_period, 1, 365)?,
                },
            };
        let terms = Terms {
            loanable: rule.loanable,
            loan_period,
            max_loans: rule.max_loans.map(|max| count("rule.max_loans", max, 0, 1000)).transpose()?,
            max_loans_of_item_type: rule
                .max_loans_of_item_type
                .map(|max| count("rule.max_loans_of_item_type", max, 0, 1000))
                .transpose()?,
            renewals: count("rule.renewals", rule.renewals, 0, 20)?,
            renewal_period_days: count("rule.renewal_period_days", rule.renewal_period_days, 1, 365)?,
            no_renewal_when_held: rule.no_renewal_when_held,
            grace_days: count("rule.grace_days", rule.grace_days, 0, 30)?,
            fine_per_open_day: money("rule.fine_per_open_day", rule.fine_per_open_day)?,
            fine_cap: money("rule.fine_cap", rule.fine_cap)?,
            suspension_days_per_overdue_day: count(
                "rule.suspension_days_per_overdue_day",
                rule.suspension_days_per_overdue_day,
                0,
                30,
            )?,
            lost_processing_fee: money("rule.lost_processing_fee", rule.lost_processing_fee)?,
            hold_shelf_days: count("rule.hold_shelf_days", rule.hold_shelf_days, 1, 60)?,
            max_holds: count("rule.max_holds", rule.max_holds, 0, 100)?,
            block_when_overdue_days: rule
                .block_when_overdue_days
                .map(|days| count("rule.block_when_overdue_days", days, 0, 365))
                .transpose()?,
            block_when_fees_over: rule
                .block_when_fees_over
                .map(|amount| money("rule.block_when_fees_over", amount))
                .transpose()?,
        };
        Ok(Self { scope, name, terms })
    }
}

/// Most money one rule field may hold: 100,000.00 in minor units.
const MAX_MONEY: i64 = 10_000_000;

fn count(field: &'static str, value: i32, min: u32, max: u32) -> Result<u32, FieldError> {
    u32::try_from(value)
        .ok()
        .filter(|value| (min..=max).contains(value))
        .ok_or_else(|| FieldError::new(field, format!("must be from {min} to {max}")))
}

fn money(field: &'static str, value: i64) -> Result<i64, FieldError> {
    if (0..=MAX_MONEY).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, format!("must be from 0 to {MAX_MONEY} (minor units)")))
    }
}

/// A reader category or item type code: lowercase letters, digits and `_`;
/// empty means any.
fn code(field: &'static str, value: &str) -> Result<Option<String>, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let well_formed = value.chars().count() <= MAX_CODE_CHARS
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if well_formed {
        Ok(Some(value.to_owned()))
    } else {
        Err(FieldError::new(
            field,
            format!(
                "must be a code of lowercase letters, digits and _ (at most {MAX_CODE_CHARS}), or empty for any"
            ),
        ))
    }
}

/// Plain terms for tests: 14 days, one renewal of 14 days (not while the
/// title is held), up to 5 holds kept 7 days; no limits, fines or blocks.
#[cfg(test)]
impl Terms {
    pub(crate) fn plain() -> Self {
        Terms {
            loanable: true,
            loan_period: LoanPeriod::Days(14),
            max_loans: None,
            max_loans_of_item_type: None,
            renewals: 1,
            renewal_period_days: 14,
            no_renewal_when_held: true,
            grace_days: 0,
            fine_per_open_day: 0,
            fine_cap: 0,
            suspension_days_per_overdue_day: 0,
            lost_processing_fee: 0,
            hold_shelf_days: 7,
            max_holds: 5,
            block_when_overdue_days: None,
            block_when_fees_over: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHOOL: &str = "0190a000-0000-7000-8000-000000000001";
    const OTHER_SCHOOL: &str = "0190a000-0000-7000-8000-000000000002";

    fn rule(id: &str, school: Option<&str>, category: Option<&str>, item_type: Option<&str>) -> Rule {
        Rule {
            id: id.into(),
            version: 1,
            scope: Scope {
                school_id: school.map(Into::into),
                reader_category: category.map(Into::into),
                item_type: item_type.map(Into::into),
            },
            name: String::new(),
            terms: Terms::plain(),
            updated_by: "admin".into(),
            updated_at: NaiveDateTime::default(),
        }
    }

    fn table() -> Vec<Rule> {
        vec![
            rule(DISTRICT_DEFAULT_ID, None, None, None),
            rule("teachers", None, Some("teacher"), None),
            rule("reference", None, None, Some("reference")),
            rule("school", Some(SCHOOL), None, None),
            rule("school-teachers", Some(SCHOOL), Some("teacher"), None),
            rule("picture-books-students", None, Some("student"), Some("picture_book")),
            rule("school-picture-books", Some(SCHOOL), None, Some("picture_book")),
        ]
    }

    fn chosen(school: &str, category: &str, item_type: Option<&str>) -> (String, Vec<String>) {
        let rules = table();
        let choice = choose(&rules, school, category, item_type).unwrap();
        (choice.rule.id.clone(), choice.outranked.iter().map(|rule| rule.id.clone()).collect())
    }

    #[test]
    fn the_district_default_applies_when_nothing_else_matches() {
        let (rule, outranked) = chosen(OTHER_SCHOOL, "student", Some("book"));
        assert_eq!(rule, DISTRICT_DEFAULT_ID);
        assert!(outranked.is_empty());
        let rules = table();
        let why = choose(&rules, OTHER_SCHOOL, "student", Some("book")).unwrap().why();
        assert!(why.contains("district default"), "{why}");
    }

    #[test]
    fn more_scope_fields_win() {
        let (rule, outranked) = chosen(SCHOOL, "teacher", Some("book"));
        assert_eq!(rule, "school-teachers");
        // School alone outranks category alone; the default comes last.
        assert_eq!(outranked, ["school", "teachers", DISTRICT_DEFAULT_ID]);
        // Two fields without the school still beat the school alone.
        let (rule, _) = chosen(OTHER_SCHOOL, "student", Some("picture_book"));
        assert_eq!(rule, "picture-books-students");
    }

    #[test]
    fn ties_go_to_the_school_then_the_item_type_then_the_category() {
        // school+item type and category+item type both have two fields; the
        // school's wins.
        let (rule, outranked) = chosen(SCHOOL, "student", Some("picture_book"));
        assert_eq!(rule, "school-picture-books");
        assert_eq!(outranked, ["picture-books-students", "school", DISTRICT_DEFAULT_ID]);
        // Item type alone outranks category alone.
        let (rule, outranked) = chosen(OTHER_SCHOOL, "teacher", Some("reference"));
        assert_eq!(rule, "reference");
        assert_eq!(outranked, ["teachers", DISTRICT_DEFAULT_ID]);
    }

    #[test]
    fn an_unknown_item_type_matches_only_rules_for_any_item_type() {
        let (rule, _) = chosen(SCHOOL, "student", None);
        assert_eq!(rule, "school");
        let (rule, _) = chosen(OTHER_SCHOOL, "teacher", None);
        assert_eq!(rule, "teachers");
    }

    #[test]
    fn no_rule_without_a_district_default_that_matches() {
        let rules = vec![rule("school", Some(SCHOOL), None, None)];
        assert_eq!(choose(&rules, OTHER_SCHOOL, "student", None), None);
    }

    #[test]
    fn listing_puts_the_most_specific_first() {
        let mut rules = table();
        sort_for_listing(&mut rules);
        let ids: Vec<&str> = rules.iter().map(|rule| rule.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "school-picture-books",
                "school-teachers",
                "picture-books-students",
                "school",
                "reference",
                "teachers",
                DISTRICT_DEFAULT_ID
            ]
        );
    }

    fn request() -> pb::CirculationRule {
        pb::CirculationRule {
            school_id: SCHOOL.into(),
            reader_category: "student".into(),
            item_type: "picture_book".into(),
            name: "一二年级绘本".into(),
            loanable: true,
            loan_period_unit: LoanPeriodUnit::Days.into(),
            loan_period: 7,
            max_loans: Some(2),
            renewals: 1,
            renewal_period_days: 7,
            hold_shelf_days: 5,
            max_holds: 2,
            fine_per_open_day: 10,
            fine_cap: 500,
            block_when_overdue_days: Some(14),
            ..Default::default()
        }
    }

    #[test]
    fn a_well_formed_request_is_read_into_a_draft() {
        let draft = RuleDraft::from_request(&request()).unwrap();
        assert_eq!(draft.scope.school_id.as_deref(), Some(SCHOOL));
        assert_eq!(draft.scope.item_type.as_deref(), Some("picture_book"));
        assert_eq!(draft.terms.loan_period, LoanPeriod::Days(7));
        assert_eq!(draft.terms.max_loans, Some(2));
        assert_eq!(draft.terms.max_loans_of_item_type, None);
        assert_eq!(draft.terms.block_when_overdue_days, Some(14));
        assert_eq!(draft.terms.block_when_fees_over, None);
        let any = RuleDraft::from_request(&pb::CirculationRule {
            school_id: String::new(),
            reader_category: " ".into(),
            item_type: String::new(),
            ..request()
        })
        .unwrap();
        assert!(any.scope.is_any());
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases: Vec<(pb::CirculationRule, &str)> = vec![
            (pb::CirculationRule { school_id: "XH-PRI".into(), ..request() }, "rule.school_id"),
            (pb::CirculationRule { reader_category: "Student!".into(), ..request() }, "rule.reader_category"),
            (pb::CirculationRule { item_type: "图书".into(), ..request() }, "rule.item_type"),
            (pb::CirculationRule { name: "长".repeat(201), ..request() }, "rule.name"),
            (pb::CirculationRule { loan_period_unit: 0, ..request() }, "rule.loan_period_unit"),
            (pb::CirculationRule { loan_period_unit: 9, ..request() }, "rule.loan_period_unit"),
            (pb::CirculationRule { loan_period: 0, ..request() }, "rule.loan_period"),
            (
                pb::CirculationRule {
                    loan_period_unit: LoanPeriodUnit::Hours.into(),
                    loan_period: 73,
                    ..request()
                },
                "rule.loan_period",
            ),
            (pb::CirculationRule { max_loans: Some(-1), ..request() }, "rule.max_loans"),
            (pb::CirculationRule { renewals: 21, ..request() }, "rule.renewals"),
            (pb::CirculationRule { renewal_period_days: 0, ..request() }, "rule.renewal_period_days"),
            (pb::CirculationRule { grace_days: 31, ..request() }, "rule.grace_days"),
            (pb::CirculationRule { fine_per_open_day: -5, ..request() }, "rule.fine_per_open_day"),
            (pb::CirculationRule { fine_cap: MAX_MONEY + 1, ..request() }, "rule.fine_cap"),
            (pb::CirculationRule { hold_shelf_days: 0, ..request() }, "rule.hold_shelf_days"),
            (
                pb::CirculationRule { block_when_fees_over: Some(-1), ..request() },
                "rule.block_when_fees_over",
            ),
        ];
        for (request, field) in cases {
            let error = RuleDraft::from_request(&request).unwrap_err();
            assert_eq!(error.field, field, "{error}");
        }
    }

    #[test]
    fn loan_periods_survive_storage_and_the_wire() {
        for period in
            [LoanPeriod::Days(14), LoanPeriod::Hours(2), LoanPeriod::EndOfTerm { fallback_days: 30 }]
        {
            let (unit, length) = period.to_stored();
            assert_eq!(LoanPeriod::from_stored(unit, length), period);
        }
        assert_eq!(LoanPeriod::Hours(3).to_wire(), (LoanPeriodUnit::Hours, 3));
    }
}
