//! The reminders screens' view models: one template struct per screen and
//! the rows they show, already in the visitor's language.

use askama::Template;

use crate::pages::readers::Choice;
use crate::pages::views::{FieldMessage, FieldMessages, Shell};

/// The reminders due today, counted per trigger (`SendDueReminders` as a
/// dry run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuePanel {
    /// Whether the dry run answered; without it the panel says so and the
    /// log still shows.
    pub loaded: bool,
    /// The school day it was worked out for, in words.
    pub day: String,
    pub counts: Vec<DueCount>,
    pub total: usize,
    /// Loans that came back or changed since they were scheduled.
    pub skipped: i32,
}

/// How many reminders of one kind are due.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DueCount {
    /// The trigger in words.
    pub trigger: String,
    pub count: usize,
}

/// One message of the delivery log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryRow {
    /// The delivery, for the resend form only (never shown).
    pub id: String,
    /// When it was made, in words.
    pub when: String,
    pub reader: String,
    /// The trigger in words, and the title it is about.
    pub about: String,
    pub title: String,
    /// Who it went to and over which channel, in words; the address only
    /// for those who may see readers' contacts.
    pub recipient: String,
    pub channel: String,
    pub address: String,
    /// The state in words, its mark (CSS class suffix) and symbol.
    pub state: String,
    pub mark: &'static str,
    pub symbol: &'static str,
    /// "已试 3 次" for failed and dead messages; empty otherwise.
    pub attempts: String,
    /// What the provider said last, for failed and dead messages.
    pub error: String,
    /// When the next attempt is due, in words (failed messages).
    pub next_attempt: String,
    /// Whether "send again" applies (failed or dead).
    pub resendable: bool,
}

/// `GET /notices`: what is due today, the delivery log, the ways to the
/// other reminder screens.
#[derive(Debug, Clone, Template)]
#[template(path = "notices.html")]
pub struct LogPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub school: String,
    pub due: DuePanel,
    pub rows: Vec<DeliveryRow>,
    /// Whether the log was read (no "nothing yet" sentence otherwise).
    pub loaded: bool,
    /// The state filter's choices and the state chosen ("" for all).
    pub states: Vec<Choice>,
    pub state: String,
    /// The links to the next page and back to the first; empty for none.
    pub next_page: String,
    pub first_page: String,
    /// This page's path and query, for the forms to come back to.
    pub back: String,
    /// Librarians and district admins: "send now" and "send again".
    pub may_change: bool,
    /// District admins: the link to the channels.
    pub is_admin: bool,
}

impl LogPage {
    /// The sentence for an empty log.
    pub fn empty(&self) -> &'static str {
        let id = if self.state.is_empty() { "notices.log.empty" } else { "notices.log.empty_state" };
        self.shell.texts().get(id)
    }
}

/// The reminder settings as the form holds them: numbers and times as
/// typed, so a wrong one shows again next to its message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsFields {
    pub due_soon_days: String,
    pub due_today: bool,
    pub overdue_1: String,
    pub overdue_2: String,
    pub overdue_3: String,
    pub hold_expiring_days: String,
    pub open_days: bool,
    pub send_on_closed_days: bool,
    pub quiet_hours_start: String,
    pub quiet_hours_end: String,
    pub daily_cap_email: String,
    pub daily_cap_webhook: String,
    pub homeroom_teacher_overdue: bool,
    pub sender_name: String,
    pub from_address: String,
    pub reply_to: String,
    pub library_hours: String,
}

/// `GET /notices/settings`: the form for librarians and admins, the
/// settings in words for assistants.
#[derive(Debug, Clone, Template)]
#[template(path = "notices_settings.html")]
pub struct SettingsPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub fields: SettingsFields,
    pub may_change: bool,
    /// Whether nobody saved settings yet (the defaults apply).
    pub defaults: bool,
    /// When they were saved last, in words; empty for the defaults.
    pub updated: String,
    /// Whether the settings could be read (no form otherwise).
    pub loaded: bool,
}

impl SettingsPage {
    /// Only a field in error takes the focus: a settings page is read
    /// before it is changed.
    pub fn autofocus(&self, field: &str) -> bool {
        self.errors.first_field() == Some(field)
    }

    /// The message about the overdue days, whichever box it is about.
    pub fn overdue_error(&self) -> Option<&str> {
        ["overdue_1", "overdue_2", "overdue_3"].into_iter().find_map(|field| self.errors.for_field(field))
    }

    /// The three overdue boxes: id, catalogue id of the label, value.
    pub fn overdue_boxes(&self) -> [(&'static str, &'static str, &str); 3] {
        [
            ("overdue_1", "notices.settings.overdue_1", self.fields.overdue_1.as_str()),
            ("overdue_2", "notices.settings.overdue_2", self.fields.overdue_2.as_str()),
            ("overdue_3", "notices.settings.overdue_3", self.fields.overdue_3.as_str()),
        ]
    }

    /// "是" or "否".
    pub fn yes_no(&self, value: &bool) -> &'static str {
        self.shell.texts().get(if *value { "notices.yes" } else { "notices.no" })
    }

    /// A text as shown read-only: "(not given)" when empty.
    pub fn or_not_set<'a>(&self, value: &'a str) -> &'a str {
        if value.trim().is_empty() { self.shell.texts().get("notices.settings.not_set") } else { value }
    }

    /// The overdue days as one line: "1、7、14".
    pub fn overdue_line(&self) -> String {
        let days: Vec<&str> = [&self.fields.overdue_1, &self.fields.overdue_2, &self.fields.overdue_3]
            .into_iter()
            .map(|day| day.trim())
            .filter(|day| !day.is_empty())
            .collect();
        let separator = if self.shell.lang == crate::pages::i18n::Lang::ZhCn { "、" } else { ", " };
        days.join(separator)
    }
}

/// One text of the list: a trigger in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextCell {
    /// The language in words.
    pub language: String,
    /// The editor, `/notices/templates/{trigger}/{language}`.
    pub href: String,
    /// The school's own text (else the default).
    pub customized: bool,
}

/// One trigger's texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextRow {
    pub trigger: String,
    pub cells: Vec<TextCell>,
}

/// `GET /notices/templates`.
#[derive(Debug, Clone, Template)]
#[template(path = "notices_texts.html")]
pub struct TextsPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub rows: Vec<TextRow>,
    pub may_change: bool,
}

/// A variable a text may use, as written in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariableRow {
    /// "{{ reader }}".
    pub written: String,
    pub description: String,
}

/// A text rendered for a real loan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub subject: String,
    pub body: String,
}

/// `GET /notices/templates/{trigger}/{language}`: one text, to change,
/// preview, save or reset. Fields `subject`, `body`, `action`.
#[derive(Debug, Clone, Template)]
#[template(path = "notices_text.html")]
pub struct TextPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    /// "逾期第一次提醒（中文）".
    pub heading: String,
    /// The editor's path, the form's action.
    pub action: String,
    pub subject: String,
    pub body: String,
    pub customized: bool,
    pub variables: Vec<VariableRow>,
    pub preview: Option<Preview>,
    pub may_change: bool,
}

impl TextPage {
    pub fn autofocus(&self, field: &str) -> bool {
        self.errors.first_field() == Some(field)
    }

    /// How a variable is written, for the hint: `{{ reader }}`.
    pub fn example(&self) -> &'static str {
        "{{ reader }}"
    }
}

/// One day and channel of the report, or the total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRow {
    /// The day in words (empty for the total).
    pub day: String,
    pub channel: String,
    pub sent: i32,
    pub failed: i32,
    pub dead: i32,
    pub pending: i32,
    pub cancelled: i32,
}

/// `GET /notices/report?first=…&last=…`. Fields `first`, `last` as typed.
#[derive(Debug, Clone, Template)]
#[template(path = "notices_report.html")]
pub struct ReportPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub school: String,
    pub first: String,
    pub last: String,
    /// "12月1日 周一至12月7日 周日"; empty when the dates are wrong.
    pub caption: String,
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
    pub loaded: bool,
}

impl ReportPage {
    pub fn autofocus(&self, field: &str) -> bool {
        self.errors.first_field() == Some(field)
    }
}

/// The SMTP relay as the page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailView {
    pub configured: bool,
    pub host: String,
    pub port: String,
    /// The security in words.
    pub security: String,
    pub username: String,
    pub password_set: bool,
    pub from: String,
}

/// The webhook as the page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookView {
    pub configured: bool,
    pub url: String,
    pub secret_set: bool,
}

/// `GET /notices/channels` (district admins): the channels without secrets,
/// and the test e-mail form. Fields `school`, `to`.
#[derive(Debug, Clone, Template)]
#[template(path = "notices_channels.html")]
pub struct ChannelsPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub loaded: bool,
    pub email: EmailView,
    pub webhook: WebhookView,
    pub schools: Vec<Choice>,
    pub school: String,
    pub to: String,
}

impl ChannelsPage {
    pub fn autofocus(&self, field: &str) -> bool {
        self.errors.first_field() == Some(field)
    }

    /// "已设置" or "没有设置".
    pub fn set(&self, value: &bool) -> &'static str {
        self.shell.texts().get(if *value { "notices.channels.set" } else { "notices.channels.not_set" })
    }
}
