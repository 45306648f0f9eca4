//! Circulation rules at the desk: `rules list`, `rules add`, `rules change`,
//! `rules retire`, and `explain` ("why can't she borrow this?"). Amounts
//! are typed and shown in yuan ("0.10"); the server keeps fen.

use lectern_proto::circulation::v1::{
    CheckOutExplanation, CirculationRule, CreateCirculationRuleRequest, DeleteCirculationRuleRequest,
    ExplainCheckOutRequest, GetCirculationRuleRequest, ListCirculationRulesRequest, LoanPeriodUnit,
    UpdateCirculationRuleRequest,
};
use lectern_proto::reader::v1::School;

use super::Connection;
use super::desk::{Desk, request_id, retrying};
use super::format::yuan;
use super::schools::{all_schools, school_id};
use super::table::{Table, clean};

/// The district default rule, which a new rule's unset terms start from.
const DISTRICT_DEFAULT: &str = "00000000-0000-7000-8000-000000000001";

/// `lectern rules …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RulesCommand {
    /// The rules in force: the district's, and a school's with --school. 借阅规则
    List {
        /// Also this school's rules: its code (XH-PRI) or id
        #[arg(long, value_name = "SCHOOL")]
        school: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Add a rule for a school, reader category and item type (each optional). 新增规则
    #[command(after_help = "Examples:\n  \
        lectern rules add --school XH-PRI --category student --max-loans 3 --block-overdue-days 14\n  \
        lectern rules add --school XH-PRI --item-type reference --not-loanable\n  \
        lectern rules add --item-type picture_book --days 7 --name 绘本    # every school (district admins)\n\n\
        Terms not given are the district default's. The most specific rule applies:\n\
        more of school, category and item type set wins; among equals the school\n\
        outranks the item type, which outranks the category.")]
    Add {
        /// The lending school: its code or id; none for every school (district admins)
        #[arg(long, value_name = "SCHOOL")]
        school: Option<String>,
        /// A reader category code (student, teacher, …); none for every category
        #[arg(long, value_name = "CODE")]
        category: Option<String>,
        /// An item type code (book, picture_book, reference, …); none for every type
        #[arg(long = "item-type", value_name = "CODE")]
        item_type: Option<String>,
        #[command(flatten)]
        terms: TermFlags,
        #[command(flatten)]
        connection: Connection,
    },
    /// Change a rule's terms; loans made before keep the version they were made under. 修改规则
    #[command(
        after_help = "Example:\n  lectern rules change 0190… --max-loans 5 --fine-per-day 0.10 --fine-cap 5"
    )]
    Change {
        /// The rule's id (see `lectern rules list`)
        #[arg(value_name = "RULE_ID")]
        id: String,
        #[command(flatten)]
        terms: TermFlags,
        #[command(flatten)]
        connection: Connection,
    },
    /// Retire a rule; the next most specific one applies from then on. 停用规则
    Retire {
        /// The rule's id
        #[arg(value_name = "RULE_ID")]
        id: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// Terms a command may set; each one not given is left as it is.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TermFlags {
    /// A note for librarians, e.g. 一二年级绘本
    #[arg(long)]
    name: Option<String>,
    /// Such copies are not lent at all (reference books)
    #[arg(long = "not-loanable", conflicts_with = "loanable")]
    not_loanable: bool,
    /// Such copies are lent
    #[arg(long)]
    loanable: bool,
    /// Loan period in days
    #[arg(long, value_name = "N", conflicts_with = "hours")]
    days: Option<i32>,
    /// Loan period in hours (reference copies read in the library)
    #[arg(long, value_name = "N")]
    hours: Option<i32>,
    /// Due at the end of the term (--days then applies outside terms)
    #[arg(long = "end-of-term", conflicts_with = "hours")]
    end_of_term: bool,
    /// Most copies on loan in all ("none" for no limit)
    #[arg(long = "max-loans", value_name = "N|none")]
    max_loans: Option<Limit>,
    /// Most copies of the item type on loan ("none" for no limit)
    #[arg(long = "max-of-type", value_name = "N|none")]
    max_of_type: Option<Limit>,
    /// Renewals allowed per loan
    #[arg(long, value_name = "N")]
    renewals: Option<i32>,
    /// Days a renewal adds
    #[arg(long = "renewal-days", value_name = "N")]
    renewal_days: Option<i32>,
    /// Allow renewing while another reader waits for the title (on|off)
    #[arg(long = "renew-while-held", value_name = "on|off")]
    renew_while_held: Option<Switch>,
    /// Open days after the due day before fines or suspension start
    #[arg(long = "grace-days", value_name = "N")]
    grace_days: Option<i32>,
    /// Fine per open day overdue, in yuan (0 for none)
    #[arg(long = "fine-per-day", value_name = "YUAN")]
    fine_per_day: Option<Yuan>,
    /// Most fine per loan, in yuan (0 for no cap)
    #[arg(long = "fine-cap", value_name = "YUAN")]
    fine_cap: Option<Yuan>,
    /// Days without borrowing per open day overdue (0 for none)
    #[arg(long = "suspension-days", value_name = "N")]
    suspension_days: Option<i32>,
    /// Processing fee added to a lost copy's price, in yuan
    #[arg(long = "lost-fee", value_name = "YUAN")]
    lost_fee: Option<Yuan>,
    /// Days a copy waits on the hold shelf
    #[arg(long = "hold-shelf-days", value_name = "N")]
    hold_shelf_days: Option<i32>,
    /// Most holds a reader may have (0 for no holds)
    #[arg(long = "max-holds", value_name = "N")]
    max_holds: Option<i32>,
    /// Block borrowing while a copy is overdue more than N days ("none" never)
    #[arg(long = "block-overdue-days", value_name = "N|none")]
    block_overdue_days: Option<Limit>,
    /// Block borrowing while unpaid fees exceed this many yuan ("none" never)
    #[arg(long = "block-fees-over", value_name = "YUAN|none")]
    block_fees_over: Option<YuanLimit>,
}

/// A count or "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limit(Option<i32>);

impl std::str::FromStr for Limit {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("none") {
            return Ok(Self(None));
        }
        text.parse()
            .map(|count| Self(Some(count)))
            .map_err(|_| format!("{text:?} is not a number or \"none\""))
    }
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Switch(bool);

impl std::str::FromStr for Switch {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "on" | "yes" | "true" => Ok(Self(true)),
            "off" | "no" | "false" => Ok(Self(false)),
            _ => Err(format!("{text:?} is not on or off")),
        }
    }
}

/// An amount in yuan ("12.5", "0.10"), kept in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yuan(pub i64);

impl std::str::FromStr for Yuan {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let invalid = || format!("{text:?} is not an amount in yuan, e.g. 0.10 or 5");
        let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
        if whole.is_empty() || fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid());
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let fen: i64 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
        whole
            .checked_mul(100)
            .and_then(|yuan| yuan.checked_add(fen))
            .filter(|fen| *fen >= 0)
            .map(Self)
            .ok_or_else(invalid)
    }
}

/// An amount in yuan or "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct YuanLimit(Option<i64>);

impl std::str::FromStr for YuanLimit {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("none") {
            return Ok(Self(None));
        }
        text.parse::<Yuan>().map(|yuan| Self(Some(yuan.0)))
    }
}

impl TermFlags {
    /// `rule` with the terms given here.
    fn apply(&self, mut rule: CirculationRule) -> CirculationRule {
        if let Some(name) = &self.name {
            rule.name = name.clone();
        }
        if self.not_loanable {
            rule.loanable = false;
        }
        if self.loanable {
            rule.loanable = true;
        }
        if let Some(hours) = self.hours {
            rule.loan_period_unit = LoanPeriodUnit::Hours.into();
            rule.loan_period = hours;
        } else if self.end_of_term {
            rule.loan_period_unit = LoanPeriodUnit::EndOfTerm.into();
            rule.loan_period = self.days.unwrap_or(rule.loan_period);
        } else if let Some(days) = self.days {
            rule.loan_period_unit = LoanPeriodUnit::Days.into();
            rule.loan_period = days;
        }
        let set = |target: &mut i32, value: Option<i32>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        set(&mut rule.renewals, self.renewals);
        set(&mut rule.renewal_period_days, self.renewal_days);
        set(&mut rule.grace_days, self.grace_days);
        set(&mut rule.suspension_days_per_overdue_day, self.suspension_days);
        set(&mut rule.hold_shelf_days, self.hold_shelf_days);
        set(&mut rule.max_holds, self.max_holds);
        if let Some(Limit(max)) = self.max_loans {
            rule.max_loans = max;
        }
        if let Some(Limit(max)) = self.max_of_type {
            rule.max_loans_of_item_type = max;
        }
        if let Some(Limit(days)) = self.block_overdue_days {
            rule.block_when_overdue_days = days;
        }
        if let Some(YuanLimit(amount)) = self.block_fees_over {
            rule.block_when_fees_over = amount;
        }
        if let Some(Switch(allowed)) = self.renew_while_held {
            rule.no_renewal_when_held = !allowed;
        }
        for (target, value) in [
            (&mut rule.fine_per_open_day, self.fine_per_day),
            (&mut rule.fine_cap, self.fine_cap),
            (&mut rule.lost_processing_fee, self.lost_fee),
        ] {
            if let Some(Yuan(fen)) = value {
                *target = fen;
            }
        }
        rule
    }
}

/// `lectern rules …`.
pub async fn run_rules(command: RulesCommand) -> anyhow::Result<()> {
    match command {
        RulesCommand::List { school, connection } => {
            let desk = Desk::open(&connection).await?;
            let school_id = match school {
                Some(school) => school_id(&desk, &school).await?,
                None => String::new(),
            };
            let rules = desk
                .rules()
                .list_circulation_rules(desk.request(ListCirculationRulesRequest { school_id }))
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner()
                .rules;
            let schools = all_schools(&desk).await.unwrap_or_default();
            println!("{}{} rules in force", rule_lines(&rules, &schools), rules.len());
        }
        RulesCommand::Add { school, category, item_type, terms, connection } => {
            let desk = Desk::open(&connection).await?;
            let mut circulation = desk.rules();
            let default = circulation
                .get_circulation_rule(
                    desk.request(GetCirculationRuleRequest { id: DISTRICT_DEFAULT.into(), version: 0 }),
                )
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            let school_id = match school {
                Some(school) => school_id(&desk, &school).await?,
                None => String::new(),
            };
            let rule = terms.apply(CirculationRule {
                school_id,
                reader_category: category.unwrap_or_default(),
                item_type: item_type.unwrap_or_default(),
                name: String::new(),
                ..default
            });
            let message = CreateCirculationRuleRequest { rule: Some(rule), request_id: request_id() };
            let created = retrying(|| {
                let mut client = circulation.clone();
                let call = desk.request(message.clone());
                async move { client.create_circulation_rule(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            let schools = all_schools(&desk).await.unwrap_or_default();
            print!("rule added\n{}", rule_lines(&[created], &schools));
        }
        RulesCommand::Change { id, terms, connection } => {
            let desk = Desk::open(&connection).await?;
            let mut circulation = desk.rules();
            let current = circulation
                .get_circulation_rule(
                    desk.request(GetCirculationRuleRequest { id: id.trim().to_owned(), version: 0 }),
                )
                .await
                .map_err(|status| desk.fail(status))?
                .into_inner();
            let message =
                UpdateCirculationRuleRequest { rule: Some(terms.apply(current)), request_id: request_id() };
            let changed = retrying(|| {
                let mut client = circulation.clone();
                let call = desk.request(message.clone());
                async move { client.update_circulation_rule(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            let schools = all_schools(&desk).await.unwrap_or_default();
            print!(
                "rule changed (version {})\n{}",
                changed.version,
                rule_lines(std::slice::from_ref(&changed), &schools)
            );
        }
        RulesCommand::Retire { id, connection } => {
            let desk = Desk::open(&connection).await?;
            let message = DeleteCirculationRuleRequest { id: id.trim().to_owned(), request_id: request_id() };
            let client = desk.rules();
            retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.delete_circulation_rule(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            println!("rule retired");
        }
    }
    Ok(())
}

/// Options of `lectern explain`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Example:\n  lectern explain R100001 C0001")]
pub struct ExplainArgs {
    /// The reader's library card barcode
    #[arg(value_name = "READER_CARD")]
    pub card: String,
    /// The book's barcode
    #[arg(value_name = "COPY_BARCODE")]
    pub barcode: String,
    #[command(flatten)]
    pub connection: Connection,
}

/// `lectern explain`: which rule applies and what a check-out would answer.
pub async fn explain(args: ExplainArgs) -> anyhow::Result<()> {
    let desk = Desk::open(&args.connection).await?;
    let explanation = desk
        .loans()
        .explain_check_out(desk.request(ExplainCheckOutRequest {
            reader_card_barcode: args.card.trim().to_owned(),
            copy_barcode: args.barcode.trim().to_owned(),
        }))
        .await
        .map_err(|status| desk.fail(status))?
        .into_inner();
    let schools = all_schools(&desk).await.unwrap_or_default();
    print!("{}", explanation_lines(&explanation, &schools));
    Ok(())
}

fn school_code(id: &str, schools: &[School]) -> String {
    if id.is_empty() {
        return "any".to_owned();
    }
    schools.iter().find(|school| school.id == id).map_or_else(|| id.to_owned(), |school| school.code.clone())
}

fn any(code: &str) -> String {
    if code.is_empty() { "any".to_owned() } else { clean(code) }
}

/// The loan period in words: "14 days", "2 hours", "end of term (else 14 days)".
fn period(rule: &CirculationRule) -> String {
    match LoanPeriodUnit::try_from(rule.loan_period_unit) {
        Ok(LoanPeriodUnit::Hours) => format!("{} hours", rule.loan_period),
        Ok(LoanPeriodUnit::EndOfTerm) => format!("end of term (else {} days)", rule.loan_period),
        _ => format!("{} days", rule.loan_period),
    }
}

/// The rules as the desk shows them.
fn rule_lines(rules: &[CirculationRule], schools: &[School]) -> String {
    let mut table = Table::new(&[
        "SCHOOL",
        "CATEGORY",
        "ITEM TYPE",
        "LOAN",
        "MAX",
        "RENEW",
        "FINE/DAY",
        "BLOCKS",
        "NAME",
        "ID (VERSION)",
    ]);
    for rule in rules {
        let lends = if rule.loanable { period(rule) } else { "not lent".to_owned() };
        let max = match (rule.max_loans, rule.max_loans_of_item_type) {
            (None, None) => "-".to_owned(),
            (Some(all), None) => all.to_string(),
            (None, Some(of_type)) => format!("{of_type} of type"),
            (Some(all), Some(of_type)) => format!("{all} ({of_type} of type)"),
        };
        let mut blocks = Vec::new();
        if let Some(days) = rule.block_when_overdue_days {
            blocks.push(format!("overdue > {days} d"));
        }
        if let Some(fen) = rule.block_when_fees_over {
            blocks.push(format!("fees > {}", yuan(fen)));
        }
        table.row(vec![
            school_code(&rule.school_id, schools),
            any(&rule.reader_category),
            any(&rule.item_type),
            lends,
            max,
            format!("{} × {} d", rule.renewals, rule.renewal_period_days),
            yuan(rule.fine_per_open_day),
            if blocks.is_empty() { "-".to_owned() } else { blocks.join(", ") },
            clean(&rule.name),
            format!("{} ({})", rule.id, rule.version),
        ]);
    }
    table.render("")
}

/// An explanation as the desk shows it.
fn explanation_lines(explanation: &CheckOutExplanation, schools: &[School]) -> String {
    let mut out = String::new();
    if explanation.would_lend {
        out.push_str(&format!("would lend: yes, due {} ({})\n", explanation.due_date, explanation.due_how));
    } else {
        out.push_str(&format!(
            "would lend: no — {} ({})\n",
            clean(&explanation.refusal_message),
            explanation.refusal_reason
        ));
    }
    if !explanation.blocks.is_empty() {
        out.push_str(&format!(
            "blocks a librarian may lend past (lectern checkout --override REASON): {}\n",
            explanation.blocks.join(", ")
        ));
    }
    out.push_str(&format!(
        "reader: {} on loan ({} of this item type), longest overdue {} days, unpaid fees {}\n",
        explanation.loans,
        explanation.loans_of_item_type,
        explanation.longest_overdue_days,
        yuan(explanation.unpaid_fees)
    ));
    out.push_str(&format!("rule: {}\n", explanation.why));
    if let Some(rule) = &explanation.rule {
        out.push_str(&rule_lines(std::slice::from_ref(rule), schools));
    }
    if !explanation.outranked.is_empty() {
        out.push_str("outranked:\n");
        out.push_str(&rule_lines(&explanation.outranked, schools));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_are_read_to_the_fen() {
        assert_eq!("0.10".parse::<Yuan>(), Ok(Yuan(10)));
        assert_eq!("5".parse::<Yuan>(), Ok(Yuan(500)));
        assert_eq!("12.5".parse::<Yuan>(), Ok(Yuan(1250)));
        assert!("-1".parse::<Yuan>().is_err());
        assert!("0.123".parse::<Yuan>().is_err());
        assert!("abc".parse::<Yuan>().is_err());
        assert!(".5".parse::<Yuan>().is_err());
        assert_eq!("none".parse::<YuanLimit>(), Ok(YuanLimit(None)));
        assert_eq!("NONE".parse::<Limit>(), Ok(Limit(None)));
        assert_eq!("3".parse::<Limit>(), Ok(Limit(Some(3))));
        assert_eq!(yuan(1250), "12.50");
    }

    #[test]
    fn flags_change_only_what_they_name() {
        let base = CirculationRule {
            loanable: true,
            loan_period_unit: LoanPeriodUnit::Days.into(),
            loan_period: 14,
            max_loans: Some(5),
            renewals: 1,
            renewal_period_days: 14,
            no_renewal_when_held: true,
            ..Default::default()
        };
        let flags = TermFlags {
            max_loans: Some(Limit(None)),
            fine_per_day: Some(Yuan(10)),
            end_of_term: true,
            renew_while_held: Some(Switch(true)),
            ..TermFlags::default()
        };
        let rule = flags.apply(base.clone());
        assert_eq!(rule.max_loans, None);
        assert_eq!(rule.fine_per_open_day, 10);
        assert_eq!((rule.loan_period_unit, rule.loan_period), (LoanPeriodUnit::EndOfTerm.into(), 14));
        assert!(!rule.no_renewal_when_held);
        assert_eq!((rule.renewals, rule.loanable), (1, true));
        assert!(!TermFlags { not_loanable: true, ..TermFlags::default() }.apply(base).loanable);
    }

    #[test]
    fn an_explanation_reads_as_the_desk_shows_it() {
        let explanation = CheckOutExplanation {
            rule: Some(CirculationRule {
                reader_category: "student".into(),
                loanable: true,
                loan_period_unit: LoanPeriodUnit::Days.into(),
                loan_period: 7,
                max_loans: Some(2),
                id: "rule-1".into(),
                version: 2,
                ..Default::default()
            }),
            why: "the most specific matching rule: any school, reader category student, any item type".into(),
            would_lend: false,
            refusal_reason: "LOAN_LIMIT_REACHED".into(),
            refusal_message: "this reader has 2 copies on loan, as many as the rule allows (2)".into(),
            blocks: vec!["LOAN_LIMIT_REACHED".into()],
            loans: 2,
            loans_of_item_type: 2,
            ..Default::default()
        };
        let text = explanation_lines(&explanation, &[]);
        assert!(text.starts_with("would lend: no — this reader has 2 copies on loan"), "{text}");
        assert!(text.contains("--override REASON): LOAN_LIMIT_REACHED\n"), "{text}");
        assert!(
            text.contains(
                "reader: 2 on loan (2 of this item type), longest overdue 0 days, unpaid fees 0.00\n"
            )
        );
        let row = text.lines().find(|line| line.ends_with("rule-1 (2)")).expect("the rule's row");
        assert_eq!(
            row.split_whitespace().collect::<Vec<_>>(),
            ["any", "student", "any", "7", "days", "2", "0", "×", "0", "d", "0.00", "-", "rule-1", "(2)"]
        );
        assert!(!text.contains("outranked"), "{text}");
    }
}
