//! The texts of reminders: defaults in Chinese and English for every
//! trigger, a school's own texts (`reminder_templates`), and rendering with
//! minijinja. Texts are plain (e-mail bodies are text/plain, the inbox
//! shows text), so nothing is escaped; an unknown variable is an error,
//! never an empty gap in a letter to a parent.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;
use lectern_core::validate::FieldError;
use lectern_proto::notification::v1::{TemplateVariable, Trigger};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde::Serialize;

use crate::db::schema::reminder_templates;
use crate::notices::Language;
use crate::triggers::trigger_name;

/// One book (or hold, or fee) a text lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Item {
    pub title: String,
    /// "YYYY-MM-DD": the due day, or the last pickup day of a hold.
    pub due_date: String,
    /// Days until due (due soon) or days overdue; 0 otherwise.
    pub days: i64,
}

/// What a text may use, as the proto's `Template` comment lists it. Every
/// field is always there (empty when it does not apply), so a school's
/// text may use any of them with any trigger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TemplateContext {
    /// The reader's name.
    pub reader: String,
    /// The reader's class, e.g. "三年级（2）班"; empty for staff.
    pub class: String,
    /// The school's name (the library's sender name when the school set one).
    pub school: String,
    /// The titles of `items`.
    pub titles: Vec<String>,
    /// The first item's due day.
    pub due_date: String,
    /// The first item's days.
    pub days: i64,
    /// The library's opening hours as the school wrote them; may be empty.
    pub library_hours: String,
    /// The books (holds, fees) the reminder is about.
    pub items: Vec<Item>,
    /// A fee, written out ("¥5.00"); empty otherwise.
    pub amount: String,
    /// A hold's last pickup day; empty otherwise.
    pub pickup_by: String,
}

impl TemplateContext {
    /// A context for `items`, with `titles`, `due_date` and `days` taken
    /// from them.
    pub fn for_items(reader: &str, class: &str, school: &str, library_hours: &str, items: Vec<Item>) -> Self {
        Self {
            reader: reader.to_owned(),
            class: class.to_owned(),
            school: school.to_owned(),
            titles: items.iter().map(|item| item.title.clone()).collect(),
            due_date: items.first().map(|item| item.due_date.clone()).unwrap_or_default(),
            days: items.first().map_or(0, |item| item.days),
            library_hours: library_hours.to_owned(),
            items,
            amount: String::new(),
            pickup_by: String::new(),
        }
    }

    /// The context a text is checked against before it is saved: every
    /// variable filled, two books so loops run.
    pub fn sample() -> Self {
        let mut context = Self::for_items(
            "王小明",
            "三年级（2）班",
            "徐汇区实验小学",
            "周一至周五 7:30–16:30",
            vec![
                Item { title: "草房子".into(), due_date: "2026-12-08".into(), days: 3 },
                Item { title: "夏洛的网".into(), due_date: "2026-12-10".into(), days: 1 },
            ],
        );
        context.amount = "¥5.00".into();
        context.pickup_by = "2026-12-12".into();
        context
    }
}

/// A text that does not render: which field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct TemplateError {
    /// `subject` or `body`.
    pub field: &'static str,
    /// In plain words, with the line where it helps.
    pub problem: String,
}

impl From<TemplateError> for FieldError {
    fn from(error: TemplateError) -> Self {
        FieldError::new(error.field, error.problem)
    }
}

/// The names texts may use, in the order the editor lists them.
const VARIABLES: [(&str, &str, &str); 10] = [
    ("reader", "读者姓名", "The reader's name"),
    ("class", "读者所在班级", "The reader's class"),
    ("school", "学校名称", "The school's name"),
    ("titles", "书名列表", "The list of titles"),
    ("due_date", "应还日期（第一本书）", "The due day (of the first book)"),
    ("days", "距应还日期或已逾期的天数（第一本书）", "Days until due, or days overdue (of the first book)"),
    ("library_hours", "图书馆开放时间", "The library's opening hours"),
    (
        "items",
        "图书列表，每本有 title（书名）、due_date（应还日期）、days（天数）",
        "The books, each with title, due_date and days",
    ),
    ("amount", "费用金额", "The fee's amount"),
    ("pickup_by", "预约书的最后领取日期", "The last day to pick up a held book"),
];

/// The variables texts may use, for the editor.
pub fn variables() -> Vec<TemplateVariable> {
    VARIABLES
        .iter()
        .map(|(name, zh, en)| TemplateVariable {
            name: (*name).to_owned(),
            description_zh: (*zh).to_owned(),
            description_en: (*en).to_owned(),
        })
        .collect()
}

/// The stored tag of a language: "zh-CN" or "en".
pub fn language_tag(language: Language) -> &'static str {
    match language {
        Language::ZhCn => "zh-CN",
        Language::En => "en",
    }
}

/// The default subject and body of a trigger in a language.
pub fn default_text(trigger: Trigger, language: Language) -> (&'static str, &'static str) {
    match language {
        Language::ZhCn => default_zh(trigger),
        Language::En => default_en(trigger),
    }
}

fn default_zh(trigger: Trigger) -> (&'static str, &'static str) {
    // The greeting, the books, what to do, the hours, and who writes.
    macro_rules! zh {
        ($subject:expr, $intro:expr, $line:expr, $ask:expr) => {
            (
                $subject,
                concat!(
                    "您好！\n\n",
                    $intro,
                    "\n{% for item in items %}\n",
                    $line,
                    "\n{% endfor %}\n\n",
                    $ask,
                    "\n",
                    "{% if library_hours %}\n图书馆开放时间：{{ library_hours }}\n{% endif %}\n",
                    "\n{{ school }}图书馆"
                ),
            )
        };
    }
    match trigger {
        Trigger::DueSoon => zh!(
            "【{{ school }}图书馆】{{ reader }}借的书快到还书日期了",
            "{{ class }} {{ reader }} 借阅的以下图书快到还书日期了：",
            "  《{{ item.title }}》 应还日期 {{ item.due_date }}（还有 {{ item.days }} 天）",
            "看完的书请按时归还；还没看完，可以到图书馆续借。"
        ),
        Trigger::DueToday => zh!(
            "【{{ school }}图书馆】{{ reader }}借的书今天到期",
            "{{ class }} {{ reader }} 借阅的以下图书今天到期：",
            "  《{{ item.title }}》 应还日期 {{ item.due_date }}",
            "请今天到图书馆归还或续借。"
        ),
        Trigger::Overdue1 => zh!(
            "【{{ school }}图书馆】{{ reader }}借的书已逾期",
            "{{ class }} {{ reader }} 借阅的以下图书已过还书日期：",
            "  《{{ item.title }}》 应还日期 {{ item.due_date }}（已逾期 {{ item.days }} 天）",
            "请尽快到图书馆归还或续借。"
        ),
        Trigger::Overdue2 => zh!(
            "【{{ school }}图书馆】{{ reader }}借的书已逾期（第二次提醒）",
            "{{ class }} {{ reader }} 借阅的以下图书已过还书日期，还没有归还：",
            "  《{{ item.title }}》 应还日期 {{ item.due_date }}（已逾期 {{ item.days }} 天）",
            "请帮孩子找一找，尽快还到图书馆。其他同学也在等着借这些书，谢谢！"
        ),
        Trigger::Overdue3 => zh!(
            "【{{ school }}图书馆】{{ reader }}借的书已逾期（最后一次提醒）",
            "{{ class }} {{ reader }} 借阅的以下图书已经逾期很久了：",
            "  《{{ item.title }}》 应还日期 {{ item.due_date }}（已逾期 {{ item.days }} 天）",
            "请尽快还到图书馆。如果书找不到了，请联系图书馆老师商量办法。"
        ),
        Trigger::HoldReady => zh!(
            "【{{ school }}图书馆】{{ reader }}预约的书到了",
            "{{ class }} {{ reader }} 预约的图书已经到馆，在图书馆等着领取：",
            "  《{{ item.title }}》 请在 {{ item.due_date }} 前领取",
            "请到图书馆借书处领取。过了领取日期，书会留给下一位预约的同学。"
        ),
        Trigger::HoldExpiring => zh!(
            "【{{ school }}图书馆】{{ reader }}预约的书快过领取期了",
            "{{ class }} {{ reader }} 预约的图书还在图书馆等着领取：",
            "  《{{ item.title }}》 最后领取日期 {{ item.due_date }}",
            "请尽快到图书馆领取，过期后书会留给下一位预约的同学。"
        ),
        Trigger::FeeCharged => zh!(
            "【{{ school }}图书馆】{{ reader }}有一笔图书馆费用",
            "{{ class }} {{ reader }} 有一笔图书馆费用{% if amount %}：{{ amount }}{% endif %}。涉及的图书：",
            "  《{{ item.title }}》",
            "请到图书馆了解详情并办理。"
        ),
        Trigger::LoanLost | Trigger::Unspecified => zh!(
            "【{{ school }}图书馆】{{ reader }}借的书已登记为遗失",
            "{{ class }} {{ reader }} 借阅的以下图书已登记为遗失：",
            "  《{{ item.title }}》",
            "如果找到了，请带回图书馆；有疑问请联系图书馆老师。"
        ),
    }
}

fn default_en(trigger: Trigger) -> (&'static str, &'static str) {
    macro_rules! en {
        ($subject:expr, $intro:expr, $line:expr, $ask:expr) => {
            (
                $subject,
                concat!(
                    "Hello,\n\n",
                    $intro,
                    "\n{% for item in items %}\n",
                    $line,
                    "\n{% endfor %}\n\n",
                    $ask,
                    "\n",
                    "{% if library_hours %}\nLibrary hours: {{ library_hours }}\n{% endif %}\n",
                    "\n{{ school }} Library"
                ),
            )
        };
    }
    match trigger {
        Trigger::DueSoon => en!(
            "{{ school }} Library: {{ reader }}'s books are due soon",
            "These books borrowed by {{ reader }}{% if class %} ({{ class }}){% endif %} are due soon:",
            "  \"{{ item.title }}\", due {{ item.due_date }} (in {{ item.days }} days)",
            "Please return them on time, or renew them at the library if they are not finished yet."
        ),
        Trigger::DueToday => en!(
            "{{ school }} Library: {{ reader }}'s books are due today",
            "These books borrowed by {{ reader }}{% if class %} ({{ class }}){% endif %} are due today:",
            "  \"{{ item.title }}\", due {{ item.due_date }}",
            "Please return or renew them at the library today."
        ),
        Trigger::Overdue1 => en!(
            "{{ school }} Library: {{ reader }}'s books are overdue",
            "These books borrowed by {{ reader }}{% if class %} ({{ class }}){% endif %} are past their due date:",
            "  \"{{ item.title }}\", due {{ item.due_date }} ({{ item.days }} days overdue)",
            "Please return or renew them at the library soon."
        ),
        Trigger::Overdue2 => en!(
            "{{ school }} Library: {{ reader }}'s books are overdue (second reminder)",
            "These books borrowed by {{ reader }}{% if class %} ({{ class }}){% endif %} are still overdue:",
            "  \"{{ item.title }}\", due {{ item.due_date }} ({{ item.days }} days overdue)",
            "Please help look for them and bring them back to the library. Other pupils are waiting for them. Thank you!"
        ),
        Trigger::Overdue3 => en!(
            "{{ school }} Library: {{ reader }}'s books are overdue (last reminder)",
            "These books borrowed by {{ reader }}{% if class %} ({{ class }}){% endif %} have been overdue for a long time:",
            "  \"{{ item.title }}\", due {{ item.due_date }} ({{ item.days }} days overdue)",
            "Please return them to the library soon. If a book cannot be found, please talk to the librarian."
        ),
        Trigger::HoldReady => en!(
            "{{ school }} Library: {{ reader }}'s reserved book is here",
            "The books {{ reader }}{% if class %} ({{ class }}){% endif %} reserved are waiting at the library:",
            "  \"{{ item.title }}\", please collect by {{ item.due_date }}",
            "Please collect them at the library desk. After that day they go to the next reader in line."
        ),
        Trigger::HoldExpiring => en!(
            "{{ school }} Library: {{ reader }}'s reserved book will not wait much longer",
            "The books {{ reader }}{% if class %} ({{ class }}){% endif %} reserved are still waiting at the library:",
            "  \"{{ item.title }}\", last day to collect {{ item.due_date }}",
            "Please collect them soon; after that day they go to the next reader in line."
        ),
        Trigger::FeeCharged => en!(
            "{{ school }} Library: a library fee for {{ reader }}",
            "{{ reader }}{% if class %} ({{ class }}){% endif %} has a library fee{% if amount %} of {{ amount }}{% endif %}, for:",
            "  \"{{ item.title }}\"",
            "Please ask at the library for the details."
        ),
        Trigger::LoanLost | Trigger::Unspecified => en!(
            "{{ school }} Library: {{ reader }}'s book was recorded as lost",
            "These books borrowed by {{ reader }}{% if class %} ({{ class }}){% endif %} were recorded as lost:",
            "  \"{{ item.title }}\"",
            "If you find them, please bring them back to the library; with any question, please talk to the librarian."
        ),
    }
}

fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    // Plain text: a title with "<" or "&" must read as written.
    environment.set_auto_escape_callback(|_| AutoEscape::None);
    // Block tags on lines of their own leave no blank lines behind.
    environment.set_trim_blocks(true);
    environment.set_lstrip_blocks(true);
    environment
}

/// Renders a subject and body. The subject becomes one line.
pub fn render(
    subject: &str,
    body: &str,
    context: &TemplateContext,
) -> Result<(String, String), TemplateError> {
    let environment = environment();
    let subject = render_one(&environment, "subject", subject, context)?;
    let body = render_one(&environment, "body", body, context)?;
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok((subject, body.trim_end().to_owned()))
}

fn render_one(
    environment: &Environment<'static>,
    field: &'static str,
    source: &str,
    context: &TemplateContext,
) -> Result<String, TemplateError> {
    let refuse = |problem: String| TemplateError { field, problem };
    let template = environment.template_from_str(source).map_err(|error| refuse(explain(&error)))?;
    let known: BTreeSet<&str> = VARIABLES.iter().map(|(name, _, _)| *name).collect();
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| {
            !known.contains(name.as_str()) && environment.globals().all(|(global, _)| global != name)
        })
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        return Err(refuse(format!(
            "uses {{{{ {name} }}}}, which is not a variable texts may use (they are: {})",
            VARIABLES.iter().map(|(name, _, _)| *name).collect::<Vec<_>>().join(", ")
        )));
    }
    template.render(context).map_err(|error| refuse(explain(&error)))
}

/// A minijinja error in words a librarian can act on.
fn explain(error: &minijinja::Error) -> String {
    let place = error.line().map(|line| format!("line {line}: ")).unwrap_or_default();
    let what = match error.kind() {
        ErrorKind::SyntaxError => "the text has a broken {{ }} or {% %}",
        ErrorKind::UndefinedError => "uses a name that does not exist (check the spelling of the variable)",
        ErrorKind::UnknownFilter => "uses a filter that does not exist",
        ErrorKind::UnknownFunction => "uses a function that does not exist",
        ErrorKind::UnknownTest => "uses a test that does not exist",
        _ => "cannot be rendered",
    };
    match error.detail() {
        Some(detail) => format!("{place}{what} ({detail})"),
        None => format!("{place}{what}"),
    }
}

/// Checks a text a librarian wants to save: it must render against a
/// sample reminder, and the subject must not be empty.
pub fn validate(subject: &str, body: &str) -> Result<(), FieldError> {
    if subject.trim().is_empty() {
        return Err(FieldError::new("subject", "must not be empty"));
    }
    if body.trim().is_empty() {
        return Err(FieldError::new("body", "must not be empty"));
    }
    let (rendered_subject, _) = render(subject, body, &TemplateContext::sample())?;
    if rendered_subject.is_empty() {
        return Err(FieldError::new("subject", "renders as an empty line"));
    }
    Ok(())
}

/// Several reminders to one address in one message: a guardian of two
/// children reads one e-mail listing both.
pub fn digest(language: Language, school: &str, texts: &[(String, String)]) -> (String, String) {
    if let [(subject, body)] = texts {
        return (subject.clone(), body.clone());
    }
    let subject = match language {
        Language::ZhCn => format!("【{school}图书馆】{} 条借阅提醒", texts.len()),
        Language::En => format!("{school} Library: reminders ({})", texts.len()),
    };
    let body =
        texts.iter().map(|(_, body)| body.as_str()).collect::<Vec<_>>().join("\n\n————————————————————\n\n");
    (subject, body)
}

/// The end of every e-mail: how to stop them.
pub fn email_footer(language: Language, unsubscribe_url: &str) -> String {
    match language {
        Language::ZhCn => {
            format!("\n\n--\n不想再收到图书馆的邮件？打开这个链接即可退订：\n{unsubscribe_url}\n")
        }
        Language::En => {
            format!(
                "\n\n--\nDon't want e-mails from the library any more? Unsubscribe here:\n{unsubscribe_url}\n"
            )
        }
    }
}

/// A school's saved text.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reminder_templates)]
pub struct TemplateRow {
    pub school_id: String,
    pub trigger_name: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

/// A text as the sender and the editor use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub body: String,
    /// The school's saved row; `None` while the default applies.
    pub saved: Option<TemplateRow>,
}

/// A school's text for a trigger and language, or the default.
pub fn load_text(
    connection: &mut DbConnection,
    school_id: &str,
    trigger: Trigger,
    language: Language,
) -> QueryResult<Text> {
    let saved = reminder_templates::table
        .find((school_id, trigger_name(trigger), language_tag(language)))
        .select(TemplateRow::as_select())
        .first(connection)
        .optional()?;
    Ok(match saved {
        Some(row) => Text { subject: row.subject.clone(), body: row.body.clone(), saved: Some(row) },
        None => {
            let (subject, body) = default_text(trigger, language);
            Text { subject: subject.to_owned(), body: body.to_owned(), saved: None }
        }
    })
}

/// Saves a school's text (checked with [`validate`] first).
pub fn save_text(connection: &mut DbConnection, row: &TemplateRow) -> QueryResult<()> {
    let updated =
        diesel::update(reminder_templates::table.find((&row.school_id, &row.trigger_name, &row.language)))
            .set(row)
            .execute(connection)?;
    if updated == 0 {
        diesel::insert_into(reminder_templates::table).values(row).execute(connection)?;
    }
    Ok(())
}

/// Goes back to the default text; true if the school had its own.
pub fn reset_text(
    connection: &mut DbConnection,
    school_id: &str,
    trigger: Trigger,
    language: Language,
) -> QueryResult<bool> {
    let deleted = diesel::delete(reminder_templates::table.find((
        school_id,
        trigger_name(trigger),
        language_tag(language),
    )))
    .execute(connection)?;
    Ok(deleted > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::ALL;

    #[test]
    fn every_default_renders_in_both_languages() {
        let context = TemplateContext::sample();
        for trigger in ALL {
            for language in [Language::ZhCn, Language::En] {
                let (subject, body) = default_text(trigger, language);
                validate(subject, body).unwrap_or_else(|error| panic!("{trigger:?} {language:?}: {error:?}"));
                let (subject, body) = render(subject, body, &context).unwrap();
                assert!(subject.contains("王小明") && subject.contains("徐汇区实验小学"), "{subject}");
                assert!(body.contains("草房子") && body.contains("夏洛的网"), "{body}");
                assert!(body.contains("7:30–16:30"), "library hours missing: {body}");
                assert!(!body.contains("{{") && !body.contains("{%"), "{body}");
                assert!(!body.contains("\n\n\n"), "a gap in {trigger:?} {language:?}:\n{body}");
            }
        }
    }

    #[test]
    fn the_overdue_default_reads_like_a_letter() {
        let mut context = TemplateContext::sample();
        context.library_hours.clear();
        let (subject, body) = default_text(Trigger::Overdue1, Language::ZhCn);
        let (subject, body) = render(subject, body, &context).unwrap();
        assert_eq!(subject, "【徐汇区实验小学图书馆】王小明借的书已逾期");
        assert_eq!(
            body,
            "您好！\n\n三年级（2）班 王小明 借阅的以下图书已过还书日期：\n  《草房子》 应还日期 2026-12-08（已逾期 3 天）\n  《夏洛的网》 应还日期 2026-12-10（已逾期 1 天）\n\n请尽快到图书馆归还或续借。\n\n徐汇区实验小学图书馆"
        );
    }

    #[test]
    fn a_broken_text_is_refused_naming_the_field() {
        let error = validate("{{ reader", "fine").unwrap_err();
        assert_eq!(error.field, "subject");
        assert!(error.problem.contains("line 1"), "{}", error.problem);
        let error = validate("ok", "line one\n{% for item in items %}\n{{ item.title }}").unwrap_err();
        assert_eq!(error.field, "body");
        let error = validate("ok", "{{ item.title }}").unwrap_err();
        assert_eq!(error.field, "body");
        assert_eq!(validate("", "body").unwrap_err().field, "subject");
    }

    #[test]
    fn an_unknown_variable_is_refused() {
        let error = validate("{{ reader }}", "Dear {{ parent_name }},").unwrap_err();
        assert_eq!(error.field, "body");
        assert!(error.problem.contains("parent_name"), "{}", error.problem);
        let error = validate("ok", "{% for item in items %}{{ item.titel }}{% endfor %}").unwrap_err();
        assert_eq!(error.field, "body");
    }

    #[test]
    fn titles_are_not_escaped() {
        let mut context = TemplateContext::sample();
        context.items[0].title = "Tom & Jerry <1>".into();
        let (_, body) = render("s", "{% for item in items %}{{ item.title }}{% endfor %}", &context).unwrap();
        assert!(body.starts_with("Tom & Jerry <1>"), "{body}");
    }

    #[test]
    fn a_digest_lists_every_reminder() {
        let texts = vec![("a".to_owned(), "first".to_owned()), ("b".to_owned(), "second".to_owned())];
        let (subject, body) = digest(Language::ZhCn, "实验小学", &texts);
        assert_eq!(subject, "【实验小学图书馆】2 条借阅提醒");
        assert!(body.starts_with("first") && body.ends_with("second"));
        assert_eq!(digest(Language::En, "X", &texts[..1]), ("a".to_owned(), "first".to_owned()));
        assert_eq!(variables().len(), 10);
    }
}
