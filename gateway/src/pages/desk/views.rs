//! The desk's view models: the page, the panel under the scan box, and the
//! reader's summary as the desk shows it, already in the visitor's words.

use askama::Template;
use lectern_proto::circulation::v1::{HoldStatus, ReaderSummary};

use crate::pages::format::{day, day_with_year, money};
use crate::pages::i18n::{Lang, format, reason_named};
use crate::pages::new_request_id;
use crate::pages::school::Desk;
use crate::pages::views::{FieldMessage, Shell};

/// `GET /desk`: the scan box, and the reader being served if any.
#[derive(Debug, Clone, Template)]
#[template(path = "desk.html")]
pub struct DeskPage {
    pub shell: Shell,
    /// Always empty: the desk reports in its panel, next to the scan.
    pub errors: Vec<FieldMessage>,
    pub panel: DeskPanel,
    /// A fresh request id for the scan form (the script makes its own).
    pub request_id: String,
}

/// The part of the desk under the scan box: the last answer and the reader.
#[derive(Debug, Clone, Template)]
#[template(path = "partials/desk_panel.html")]
pub struct DeskPanel {
    pub shell: Shell,
    /// What the last scan or action came to.
    pub outcome: Option<Outcome>,
    /// A refusal a librarian may lend past, or that an assistant must hand on.
    pub blocked: Option<Blocked>,
    /// The reader being served.
    pub reader: Option<ReaderView>,
    /// The request id of the panel's forms when sent without the script
    /// (which makes one per send); a new one with every answer.
    pub request_id: String,
}

/// What the last scan or action came to, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// The big line: "《草房子》已借出" / "借不了：…".
    pub headline: String,
    /// More: the due day, what to do.
    pub details: Vec<String>,
}

impl Outcome {
    pub fn ok(headline: String, details: Vec<String>) -> Self {
        Self { ok: true, headline, details }
    }

    pub fn refused(headline: String, details: Vec<String>) -> Self {
        Self { ok: false, headline, details }
    }
}

/// A refused check-out a librarian may lend past.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    pub copy_barcode: String,
    /// Whether this person may lend past it (else: ask a librarian).
    pub may_override: bool,
    /// An error about the override reason, when one was sent empty.
    pub reason_error: Option<String>,
}

/// The reader at the desk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReaderView {
    pub id: String,
    pub card: String,
    pub name: String,
    pub class_name: String,
    pub category: String,
    pub expires: String,
    /// What stops them borrowing now, each in the catalogue's words.
    pub blocks: Vec<String>,
    pub loans: Vec<LoanLine>,
    pub holds_ready: Vec<String>,
    pub holds_waiting: usize,
    pub fees: Vec<FeeLine>,
    /// What they owe, "¥3.00"; empty when nothing.
    pub balance: String,
    /// What they owe in yuan for the payment box ("3.00").
    pub balance_plain: String,
}

/// One loan in the reader's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanLine {
    pub id: String,
    pub title: String,
    pub barcode: String,
    pub due: String,
    pub overdue: bool,
}

/// One open fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeLine {
    pub what: String,
    pub title: String,
    pub outstanding: String,
}

impl DeskPanel {
    pub fn new(shell: Shell) -> Self {
        Self { shell, outcome: None, blocked: None, reader: None, request_id: new_request_id() }
    }
}

/// The reader summary as the desk shows it.
pub fn reader_view(desk: &Desk, summary: ReaderSummary) -> ReaderView {
    let lang = desk.visit.lang;
    let reader = summary.reader.unwrap_or_default();
    let category_id = format!("desk.category.{}", reader.category);
    let category = match crate::pages::i18n::Catalogue::get().text(lang, &category_id) {
        Some(text) => text.to_owned(),
        None => reader.category.clone(),
    };
    ReaderView {
        id: reader.id,
        card: reader.card_barcode,
        name: reader.name,
        class_name: reader.class_name,
        category,
        expires: day_with_year(lang, &reader.expires_on),
        blocks: summary.blocks.iter().map(|block| reason_named(lang, &block.reason).to_owned()).collect(),
        loans: summary
            .loans
            .into_iter()
            .map(|loan| LoanLine {
                id: loan.id,
                due: day(lang, &loan.due_date),
                title: loan.title,
                barcode: loan.copy_barcode,
                overdue: loan.overdue,
            })
            .collect(),
        holds_ready: summary
            .holds
            .iter()
            .filter(|hold| hold.status == HoldStatus::Ready as i32)
            .map(|hold| {
                format(
                    lang,
                    "desk.hold_ready_line",
                    &[("title", &hold.title), ("school", &desk.school_name(&hold.pickup_school_id))],
                )
            })
            .collect(),
        holds_waiting: summary.holds.iter().filter(|hold| hold.status != HoldStatus::Ready as i32).count(),
        fees: summary
            .fees
            .into_iter()
            .map(|fee| FeeLine {
                what: fee_kind(lang, fee.kind),
                title: fee.title,
                outstanding: money(fee.outstanding),
            })
            .collect(),
        balance: if summary.balance > 0 { money(summary.balance) } else { String::new() },
        balance_plain: format!("{}.{:02}", summary.balance.max(0) / 100, summary.balance.max(0) % 100),
    }
}

fn fee_kind(lang: Lang, kind: i32) -> String {
    use lectern_proto::circulation::v1::FeeKind;
    let id = match FeeKind::try_from(kind).unwrap_or(FeeKind::Unspecified) {
        FeeKind::Overdue => "desk.fee.overdue",
        FeeKind::Lost => "desk.fee.lost",
        FeeKind::Damaged => "desk.fee.damaged",
        FeeKind::Processing => "desk.fee.processing",
        FeeKind::Unspecified => "desk.fee.other",
    };
    crate::pages::i18n::text(lang, id).to_owned()
}
