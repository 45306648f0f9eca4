//! The lists' view models: one template struct per list, and the rows they
//! show, already in the visitor's language.

use askama::Template;
use chrono::NaiveDate;
use lectern_proto::circulation::v1::Loan;
use lectern_proto::reader::v1::{Class, Reader};

use super::super::format;
use super::super::i18n::{Lang, format as fill};
use super::super::school::Desk;
use super::super::views::{FieldMessage, FieldMessages, Shell};
use crate::http::Edge;

/// What every list shows above its table: the school, the day, whether the
/// list could be read at all and whether it was cut at [`super::MAX_ROWS`].
#[derive(Debug, Clone, Default)]
pub struct ListHead {
    pub school: String,
    /// Today, in words.
    pub today: String,
    /// Whether the list was read (false after a failed call: no "nothing
    /// here" sentence then).
    pub loaded: bool,
    /// Whether more rows exist than were shown.
    pub cut: bool,
}

impl ListHead {
    /// The head of a list at `desk`, today.
    pub fn of(edge: &Edge, desk: &Desk) -> Self {
        let today = super::today(edge);
        Self {
            school: desk.school.name.clone(),
            today: format::written_day(desk.visit.lang, today),
            loaded: false,
            cut: false,
        }
    }

    /// The most rows a list shows, for the "cut" sentence.
    pub fn max_rows(&self) -> usize {
        super::MAX_ROWS
    }
}

/// Text `id` with its `{days}` filled; `{id}_one` for one day, since
/// English says "1 day" but "2 days".
pub fn with_days(lang: Lang, id: &str, days: &str) -> String {
    if days.trim() == "1" { fill(lang, &format!("{id}_one"), &[]) } else { fill(lang, id, &[("days", days)]) }
}

/// A class in the class filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassChoice {
    pub id: String,
    /// Its name, with the school year when the school has classes of
    /// several years.
    pub name: String,
    pub selected: bool,
}

impl ClassChoice {
    /// Every class of the school, `chosen` selected.
    pub fn all(classes: &[Class], chosen: &str) -> Vec<ClassChoice> {
        let first_year = classes.first().map(|class| class.school_year.as_str());
        let several_years = classes.iter().any(|class| Some(class.school_year.as_str()) != first_year);
        classes
            .iter()
            .map(|class| ClassChoice {
                id: class.id.clone(),
                name: if several_years {
                    format!("{} ({})", class.name, class.school_year)
                } else {
                    class.name.clone()
                },
                selected: class.id == chosen,
            })
            .collect()
    }
}

/// One loan on a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoanRow {
    /// The reader (for grouping; never shown).
    pub reader_id: String,
    /// The reader's name; empty when the reader service could not say.
    pub reader: String,
    /// The reader's class now (for grouping), its grade and name.
    pub class_id: String,
    pub grade: i32,
    pub class_name: String,
    pub title: String,
    pub barcode: String,
    /// The due day "YYYY-MM-DD" (for sorting) and in words.
    pub due_date: String,
    pub due_day: String,
    /// "5 days" overdue, or "tomorrow" for a due-soon list.
    pub when: String,
}

impl LoanRow {
    /// The row of `loan`, borrowed by `reader` (if known), seen `today`.
    pub fn of(lang: Lang, loan: &Loan, reader: Option<&Reader>, today: NaiveDate, overdue: bool) -> Self {
        let due = NaiveDate::parse_from_str(&loan.due_date, "%Y-%m-%d").ok();
        let when = match due.map(|due| (due - today).num_days()) {
            None => String::new(),
            Some(days) if overdue => with_days(lang, "lists.days_overdue", &(-days).max(1).to_string()),
            Some(days) if days <= 0 => fill(lang, "lists.due_today", &[]),
            Some(1) => fill(lang, "lists.due_tomorrow", &[]),
            Some(days) => fill(lang, "lists.due_in_days", &[("days", &days.to_string())]),
        };
        Self {
            reader_id: loan.reader_id.clone(),
            reader: reader.map(|reader| reader.name.clone()).unwrap_or_default(),
            class_id: reader.map(|reader| reader.class_id.clone()).unwrap_or_default(),
            grade: reader.map_or(0, |reader| reader.grade),
            class_name: reader.map(|reader| reader.class_name.clone()).unwrap_or_default(),
            title: loan.title.clone(),
            barcode: loan.copy_barcode.clone(),
            due_date: loan.due_date.clone(),
            due_day: format::day(lang, &loan.due_date),
            when,
        }
    }
}

/// A loan list with its class filter.
#[derive(Debug, Clone, Default)]
pub struct LoanList {
    pub head: ListHead,
    pub errors: Vec<FieldMessage>,
    pub classes: Vec<ClassChoice>,
    /// The class chosen (id; empty for the whole school) and its name.
    pub class: String,
    pub class_name: String,
    pub rows: Vec<LoanRow>,
}

/// One homeroom's page: its children and their books.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Homeroom {
    pub class_id: String,
    /// Empty for readers without a class (teachers, staff).
    pub class_name: String,
    pub grade: i32,
    pub readers: Vec<ReaderBooks>,
}

impl Homeroom {
    /// How many books the class has on the list.
    pub fn books(&self) -> usize {
        self.readers.iter().map(|reader| reader.books.len()).sum()
    }
}

/// One reader's books on a homeroom page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderBooks {
    pub name: String,
    pub books: Vec<LoanRow>,
}

/// `GET /lists`.
#[derive(Debug, Clone, Template)]
#[template(path = "lists.html")]
pub struct IndexPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub school: String,
}

/// `GET /lists/overdue`.
#[derive(Debug, Clone, Template)]
#[template(path = "lists_overdue.html")]
pub struct OverduePage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub list: LoanList,
}

impl OverduePage {
    /// The table's caption: the whole school's, or one class's.
    pub fn caption(&self) -> String {
        let t = self.shell.texts();
        if self.list.class_name.is_empty() {
            t.get("lists.overdue.caption").to_owned()
        } else {
            t.format("lists.overdue.caption_class", &[("class", &self.list.class_name)])
        }
    }

    /// The sentence for an empty list.
    pub fn empty(&self) -> &'static str {
        let id =
            if self.list.class_name.is_empty() { "lists.overdue.empty" } else { "lists.overdue.empty_class" };
        self.shell.texts().get(id)
    }
}

/// `GET /lists/due-soon`. Field `days` as typed.
#[derive(Debug, Clone, Template)]
#[template(path = "lists_due_soon.html")]
pub struct DueSoonPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub list: LoanList,
    pub days: String,
}

impl DueSoonPage {
    /// Text `id` about the days asked for (see [`with_days`]).
    pub fn days_text(&self, id: &str) -> String {
        with_days(self.shell.lang, id, &self.days)
    }
}

/// `GET /lists/homeroom`.
#[derive(Debug, Clone, Template)]
#[template(path = "lists_homeroom.html")]
pub struct HomeroomPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub list: LoanList,
    pub groups: Vec<Homeroom>,
    /// Books falling due soon rather than overdue.
    pub due_soon: bool,
    pub days: String,
}

impl HomeroomPage {
    /// Text `id` about the days asked for (see [`with_days`]).
    pub fn days_text(&self, id: &str) -> String {
        with_days(self.shell.lang, id, &self.days)
    }
}

/// One copy to pull from the shelves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullRow {
    pub location: String,
    pub call_number: String,
    pub title: String,
    pub barcode: String,
    /// The school where the reader picks it up.
    pub pickup: String,
}

/// `GET /lists/pull`.
#[derive(Debug, Clone, Template)]
#[template(path = "lists_pull.html")]
pub struct PullPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub head: ListHead,
    pub rows: Vec<PullRow>,
}

/// One copy on its way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitRow {
    pub title: String,
    pub barcode: String,
    /// Where it comes from (coming here) or goes to (going out).
    pub school: String,
    /// When it left, in words.
    pub since: String,
    /// Why it travels, in words.
    pub reason: String,
}

/// `GET /lists/transits`.
#[derive(Debug, Clone, Template)]
#[template(path = "lists_transits.html")]
pub struct TransitsPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub head: ListHead,
    pub incoming: Vec<TransitRow>,
    pub outgoing: Vec<TransitRow>,
}
