//! The portal's screens as askama templates (`gateway/templates/portal/`),
//! each holding only what it shows, already in the reader's words. Every
//! screen sits in the portal's frame ([`PortalShell`],
//! `portal/layout.html`): the reader's name, the language switch, sign
//! out, the screens' links, and the box saying what just happened
//! (`.portal-done` or `.portal-refusal`).

use askama::Template;

use crate::pages::Visit;
use crate::pages::i18n::{Lang, Texts};
use crate::pages::views::{FieldMessage, FieldMessages, Notice, NoticeKind};

/// The screens in the portal's navigation: name, path, catalogue id.
pub const NAV: [(&str, &str, &str); 8] = [
    ("home", "/portal", "portal.nav.home"),
    ("loans", "/portal/loans", "portal.nav.loans"),
    ("holds", "/portal/holds", "portal.nav.holds"),
    ("notices", "/portal/notices", "portal.nav.notices"),
    ("history", "/portal/history", "portal.nav.history"),
    ("report", "/portal/report", "portal.nav.report"),
    ("family", "/portal/family", "portal.nav.family"),
    ("preferences", "/portal/preferences", "portal.nav.preferences"),
];

/// What the portal's frame needs.
#[derive(Debug, Clone, Default)]
pub struct PortalShell {
    pub lang: Lang,
    pub csrf: String,
    /// The path of this page, for the language switch to come back to.
    pub path: String,
    /// The screen's name in [`NAV`] ("" for none).
    pub page: &'static str,
    pub signed_in: bool,
    /// The reader's name, class and school ("" when not known).
    pub name: String,
    pub class_name: String,
    pub school: String,
    /// Whether they came through WeChat (the family screen is then listed).
    pub family: bool,
    /// What just happened.
    pub notice: Option<Notice>,
}

impl PortalShell {
    /// The frame for a visitor who is not signed in.
    pub fn anonymous(visit: &Visit) -> Self {
        Self { lang: visit.lang, csrf: visit.csrf.clone(), path: visit.path.clone(), ..Self::default() }
    }

    pub fn texts(&self) -> Texts {
        Texts::new(self.lang)
    }

    /// The links of the navigation: (path, catalogue id, whether current).
    pub fn nav(&self) -> Vec<(&'static str, &'static str, bool)> {
        NAV.iter()
            .filter(|(name, _, _)| *name != "family" || self.family)
            .map(|(name, href, label)| (*href, *label, *name == self.page))
            .collect()
    }

    /// "王小明 · 三年级(2)班 · 徐汇区实验小学", leaving out what is unknown.
    pub fn who(&self) -> String {
        [&self.name, &self.class_name, &self.school]
            .into_iter()
            .filter(|part| !part.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The class of the notice box: `portal-done` or `portal-refusal`.
    pub fn notice_class(&self) -> &'static str {
        match self.notice.as_ref().map(|notice| notice.kind) {
            Some(NoticeKind::Refusal) => "portal-refusal",
            _ => "portal-done",
        }
    }
}

/// An error page inside the portal's frame: the notice says what happened.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/error.html")]
pub struct ErrorPage {
    pub shell: PortalShell,
}

/// `/portal/signin`: card and PIN.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/signin.html")]
pub struct SignInPage {
    pub shell: PortalShell,
    pub errors: Vec<FieldMessage>,
    /// The card typed last (never the PIN).
    pub card: String,
    pub next: String,
}

impl SignInPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.for_field(field)
    }
}

/// `/portal/bind`: prove a card to bind its reader to this WeChat account.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "portal/bind.html")]
pub struct BindPage {
    pub shell: PortalShell,
    pub errors: Vec<FieldMessage>,
    /// The binding ticket of the WeChat sign-in (first binding only).
    pub ticket: String,
    /// Whether a form can be sent: with a ticket, or signed in through WeChat.
    pub can_bind: bool,
    /// Signed in already: binding another child.
    pub adding: bool,
    pub card: String,
    /// "self" or "guardian".
    pub relation: String,
    pub guardian_contact: String,
}

impl BindPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.for_field(field)
    }

    pub fn guardian(&self) -> bool {
        self.relation != "self"
    }
}

/// A reader of the WeChat account in the child switcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub reader_id: String,
    pub name: String,
    /// The reader signed in now.
    pub current: bool,
}

/// A book the reader has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoanRow {
    pub id: String,
    pub title: String,
    pub title_id: String,
    /// "12月21日 周一".
    pub due: String,
    /// "还有 3 天" / "今天要还" / "超期 2 天了".
    pub due_in: String,
    pub overdue: bool,
    /// "续借过 1 次" ("" when never).
    pub renewals: String,
}

/// A hold of the reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldRow {
    pub id: String,
    pub title: String,
    pub title_id: String,
    /// Where it stands, in words.
    pub status: String,
    pub ready: bool,
    pub can_cancel: bool,
}

/// `GET /portal`.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/home.html")]
pub struct HomePage {
    pub shell: PortalShell,
    pub switches: Vec<Switch>,
    pub loans: Vec<LoanRow>,
    pub holds_ready: Vec<HoldRow>,
    /// Holds still waiting or on their way.
    pub holds_waiting: usize,
    pub unread: usize,
    /// What stops them borrowing now.
    pub blocks: Vec<String>,
    /// The summary could not be read (said in the notice).
    pub failed: bool,
}

impl HomePage {
    pub fn overdue(&self) -> usize {
        self.loans.iter().filter(|loan| loan.overdue).count()
    }
}

/// `GET /portal/loans`.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/loans.html")]
pub struct LoansPage {
    pub shell: PortalShell,
    pub loans: Vec<LoanRow>,
    /// Loans that could not be renewed by "renew all", with why.
    pub not_renewed: Vec<String>,
    pub request_id: String,
}

/// A returned loan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PastLoan {
    pub title: String,
    pub title_id: String,
    pub borrowed: String,
    pub returned: String,
}

/// `GET /portal/history`.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/history.html")]
pub struct HistoryPage {
    pub shell: PortalShell,
    /// The history rule of the reader's category, in a sentence.
    pub rule: String,
    pub loans: Vec<PastLoan>,
    /// Whether there are more than shown.
    pub more: bool,
}

/// `GET /portal/holds`.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/holds.html")]
pub struct HoldsPage {
    pub shell: PortalShell,
    pub holds: Vec<HoldRow>,
    pub request_id: String,
}

/// A title found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HitRow {
    pub id: String,
    pub title: String,
    pub byline: String,
    /// "在架 2 本" / "都借出去了" / "本校没有".
    pub here: String,
    pub on_shelf: bool,
}

/// `GET /portal/search`.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/search.html")]
pub struct SearchPage {
    pub shell: PortalShell,
    pub errors: Vec<FieldMessage>,
    pub q: String,
    pub searched: bool,
    pub hits: Vec<HitRow>,
}

/// `GET /portal/titles/{id}`.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/title.html")]
pub struct TitlePage {
    pub shell: PortalShell,
    pub id: String,
    pub title: String,
    pub subtitle: String,
    pub byline: String,
    pub summary: String,
    /// At the reader's school, in words.
    pub here: String,
    pub on_shelf: bool,
    pub request_id: String,
}

/// A notice to the reader.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeRow {
    pub heading: String,
    pub message: String,
    pub when: String,
    /// New since the reader last looked.
    pub unread: bool,
}

/// `GET /portal/notices`.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/notices.html")]
pub struct NoticesPage {
    pub shell: PortalShell,
    pub notices: Vec<NoticeRow>,
}

/// One bar of the reading report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub count: i32,
    /// Its width, per cent of the longest.
    pub width: u32,
}

/// A title in the reading report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadRow {
    pub title: String,
    pub title_id: String,
    /// "12月21日 周一 · 2 次".
    pub detail: String,
}

/// `GET /portal/report`.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "portal/report.html")]
pub struct ReportPage {
    pub shell: PortalShell,
    pub failed: bool,
    /// "从 2025年12月11日 到 2026年12月11日".
    pub range: String,
    /// "借了 12 次，读了 9 本不同的书".
    pub total: String,
    pub months: Vec<Bar>,
    pub classes: Vec<Bar>,
    pub read: Vec<ReadRow>,
}

/// `GET /portal/preferences`.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "portal/preferences.html")]
pub struct PreferencesPage {
    pub shell: PortalShell,
    pub errors: Vec<FieldMessage>,
    pub failed: bool,
    pub email: bool,
    pub sms: bool,
    pub wechat: bool,
    pub in_app: bool,
    /// "zh-CN" or "en".
    pub language: String,
}

impl PreferencesPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.for_field(field)
    }
}

/// A reader bound to the WeChat account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberRow {
    pub binding_id: String,
    pub reader_id: String,
    pub name: String,
    /// Class and school.
    pub detail: String,
    /// "本人" / "家长".
    pub relation: String,
    pub current: bool,
}

/// `GET /portal/family`.
#[derive(Debug, Clone, Template)]
#[template(path = "portal/family.html")]
pub struct FamilyPage {
    pub shell: PortalShell,
    pub members: Vec<MemberRow>,
}
