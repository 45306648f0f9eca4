//! `GET /readers/{id}`: the reader page — who the reader is, their blocks,
//! the books they have and have had (as far as their category's history
//! rule keeps them), staff notes and contacts, with the forms that add and
//! remove those ([`super::actions`]), the WeChat accounts bound to the
//! reader ([`super::bindings`]) and the ways to lend, edit, set a PIN,
//! replace a lost card, print a binding code and export the reader's data.
//!
//! Only the reader record is needed to show the page; a part whose service
//! does not answer says so in its place, and contacts the staff member may
//! not see are replaced by a sentence, not an error.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::StatusCode;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{ListLoansRequest, Loan, LoanFilter};
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{
    GetReaderRequest, HistoryRetention, ListReaderContactsRequest, ListReaderNotesRequest, Reader,
};
use serde::Deserialize;
use tonic::{Code, Status};

use super::actions::{CHANNELS, Typed, WHO};
use super::bindings::{BindingLine, bindings, paper_choices};
use super::{Choice, Standing, cannot_open, categories, category_name, standing, today};
use crate::http::Edge;
use crate::pages::format::{day, day_of, day_with_year, moment};
use crate::pages::i18n::{Lang, format, text};
use crate::pages::school::{Desk, Section};
use crate::pages::signin::refusal_text;
use crate::pages::views::{FieldMessage, FieldMessages as _, Notice, Shell};
use crate::pages::{Visit, encode, render};

/// Loans shown in each of "on loan" and "history".
const LOANS_SHOWN: i32 = 100;

/// The reader page.
#[derive(Debug, Clone, Template)]
#[template(path = "reader.html")]
pub struct ReaderPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub reader: Facts,
    pub blocks: Vec<BlockLine>,
    /// Copies on loan now.
    pub loans: Listing<LoanLine>,
    /// Returned loans that still name the reader.
    pub history: Listing<LoanLine>,
    /// The category's history rule in words; empty when history is kept.
    pub history_rule: String,
    pub notes: Listing<NoteLine>,
    pub contacts: Listing<ContactLine>,
    /// The WeChat accounts bound to the reader.
    pub bindings: Listing<BindingLine>,
    /// The papers a binding-code slip prints on.
    pub paper_choices: Vec<Choice>,
    pub who_choices: Vec<Choice>,
    pub channel_choices: Vec<Choice>,
    /// What was typed in the page's forms, kept after a refusal.
    pub typed: Typed,
}

impl ReaderPage {
    /// Whether `field` gets the focus: the first field in error only (the
    /// page is read more than typed in).
    pub fn autofocus(&self, field: &str) -> bool {
        self.errors.first_field() == Some(field)
    }

    /// The paper the binding-code form offers first: the desk's slip roll.
    pub fn default_paper(&self) -> String {
        crate::pages::slips::Paper::default().value().to_owned()
    }

    /// Whether the contact form has a message (it is then shown open).
    pub fn contact_errors(&self) -> bool {
        self.errors.iter().any(|error| error.field.starts_with("contact_"))
    }
}

/// The reader record, in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The reader page's path, `/readers/{id}`; the forms post below it.
    pub path: String,
    /// The reader's id, for the desk's "lend to this reader" link.
    pub id: String,
    pub name: String,
    pub class: String,
    pub category: String,
    pub card: String,
    pub number: String,
    pub expires: String,
    pub registered: String,
    pub standing: Vec<Standing>,
    /// "This reader belongs to …" when not the desk's school; else empty.
    pub elsewhere: String,
}

/// A part of the page that comes from its own call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub lines: Vec<T>,
    /// Why the part cannot be shown (the service's sentence); empty if it can.
    pub failed: String,
    /// The staff member may not see this part.
    pub not_allowed: bool,
    /// There are more than the lines shown.
    pub more: bool,
}

impl<T> Listing<T> {
    /// The lines, or why there are none to show.
    fn of(visit: &Visit, answer: Result<(Vec<T>, bool), Status>) -> Self {
        match answer {
            Ok((lines, more)) => Self { lines, failed: String::new(), not_allowed: false, more },
            Err(status) if status.code() == Code::PermissionDenied => {
                Self { lines: Vec::new(), failed: String::new(), not_allowed: true, more: false }
            }
            Err(status) => Self {
                lines: Vec::new(),
                failed: refusal_text(visit, &status),
                not_allowed: false,
                more: false,
            },
        }
    }
}

/// A block in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLine {
    pub id: String,
    pub reason: String,
    /// "until Mon 21 Dec" or "until lifted".
    pub ends: String,
    pub placed: String,
}

/// A loan, open or returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoanLine {
    pub title: String,
    pub barcode: String,
    pub lent: String,
    pub due: String,
    pub returned: String,
    /// Overdue, declared lost, said to be returned.
    pub marks: Vec<Standing>,
}

/// A staff note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteLine {
    pub id: String,
    pub text: String,
    pub written: String,
}

/// A contact point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactLine {
    pub id: String,
    /// Whose, with the label they go by ("家长或监护人（妈妈）").
    pub who: String,
    pub channel: String,
    pub value: String,
}

fn choices<T>(lang: Lang, list: &[(&str, T, &str)]) -> Vec<Choice> {
    list.iter()
        .map(|(value, _, id)| Choice { value: (*value).to_owned(), label: text(lang, id).to_owned() })
        .collect()
}

/// The words of the entry of `list` that `is` picks; empty if none does.
fn named<T>(lang: Lang, list: &[(&str, T, &str)], is: impl Fn(&T) -> bool) -> String {
    list.iter()
        .find(|(_, known, _)| is(known))
        .map_or_else(String::new, |(_, _, id)| text(lang, id).to_owned())
}

/// `GET /readers/{id}?done=…`.
#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    done: String,
}

/// What a `done` flag says after a change; `None` for an unknown flag.
pub fn done_text(lang: Lang, done: &str) -> Option<String> {
    const KNOWN: [&str; 12] = [
        "created",
        "saved",
        "unchanged",
        "pin",
        "card",
        "block",
        "lifted",
        "note",
        "note_deleted",
        "contact",
        "contact_deleted",
        "binding_removed",
    ];
    KNOWN.contains(&done).then(|| text(lang, &format!("readers.done.{done}")).to_owned())
}

/// `GET /readers/{id}`.
pub async fn show(
    State(edge): State<Edge>,
    visit: Visit,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    match load(&edge, &desk, &id, Typed::fresh(), Vec::new()).await {
        Ok(mut page) => {
            page.shell.notice = done_text(desk.visit.lang, &query.done).map(Notice::success);
            desk.visit.finish(&edge, render(&page, StatusCode::OK))
        }
        Err(status) => cannot_open(&edge, &desk, &status),
    }
}

/// The reader page of reader `id`, with the forms holding `typed` and
/// showing `errors`; the reader service's refusal if the reader cannot be
/// read.
pub async fn load(
    edge: &Edge,
    desk: &Desk,
    id: &str,
    typed: Typed,
    errors: Vec<FieldMessage>,
) -> Result<ReaderPage, Status> {
    let mut readers = ReaderServiceClient::new(edge.calls());
    let reader =
        readers.get_reader(desk.request(edge, GetReaderRequest { id: id.to_owned() })).await?.into_inner();
    let (categories, loans, history, notes, contacts, bound) = futures::join!(
        categories(edge, desk),
        loans(edge, desk, &reader.id, LoanFilter::Open),
        loans(edge, desk, &reader.id, LoanFilter::Returned),
        notes(edge, desk, &reader.id),
        contacts(edge, desk, &reader.id),
        bindings(edge, desk, &reader.id),
    );
    let visit = &desk.visit;
    let lang = visit.lang;
    let category = category_name(lang, &categories.unwrap_or_default(), &reader.category);
    let mut shell = desk.shell(Section::Readers);
    let path = format!("/readers/{}", encode(&reader.id));
    // After a refused form the address is the form's; the language switch
    // comes back to the page.
    shell.path = path.clone();
    Ok(ReaderPage {
        shell,
        errors,
        history_rule: history_rule(lang, &reader, &category),
        blocks: blocks(edge, lang, &reader),
        reader: facts(edge, desk, &reader, category, path),
        loans: Listing::of(visit, loans.map(|(loans, more)| (loan_lines(edge, lang, loans), more))),
        history: Listing::of(visit, history.map(|(loans, more)| (loan_lines(edge, lang, loans), more))),
        notes: Listing::of(visit, notes),
        contacts: Listing::of(visit, contacts),
        bindings: Listing::of(visit, bound),
        paper_choices: paper_choices(lang),
        who_choices: choices(lang, &WHO),
        channel_choices: choices(lang, &CHANNELS),
        typed,
    })
}

fn facts(edge: &Edge, desk: &Desk, reader: &Reader, category: String, path: String) -> Facts {
    let lang = desk.visit.lang;
    let or = |value: &str, empty_id: &str| {
        if value.is_empty() { text(lang, empty_id).to_owned() } else { value.to_owned() }
    };
    let elsewhere = if reader.school_id == desk.school.id {
        String::new()
    } else {
        format(lang, "readers.page.elsewhere", &[("school", &desk.school_name(&reader.school_id))])
    };
    Facts {
        path,
        id: reader.id.clone(),
        name: reader.name.clone(),
        class: or(&reader.class_name, "readers.no_class"),
        category,
        card: reader.card_barcode.clone(),
        number: or(&reader.number, "readers.no_number"),
        expires: if reader.expires_on.is_empty() {
            text(lang, "readers.no_expiry").to_owned()
        } else {
            day_with_year(lang, &reader.expires_on)
        },
        registered: day_of(lang, reader.create_time.as_ref(), edge.config().time_zone),
        standing: standing(lang, reader, today(edge)),
        elsewhere,
    }
}

fn blocks(edge: &Edge, lang: Lang, reader: &Reader) -> Vec<BlockLine> {
    reader
        .blocks
        .iter()
        .map(|block| BlockLine {
            id: block.id.clone(),
            reason: block.reason.clone(),
            ends: if block.ends_on.is_empty() {
                text(lang, "readers.block.until_lifted").to_owned()
            } else {
                format(lang, "readers.block.until", &[("day", &day(lang, &block.ends_on))])
            },
            placed: day_of(lang, block.create_time.as_ref(), edge.config().time_zone),
        })
        .collect()
}

/// The category's history rule in words, when it does not keep history.
fn history_rule(lang: Lang, reader: &Reader, category: &str) -> String {
    let Some(rule) = &reader.history_rule else { return String::new() };
    match HistoryRetention::try_from(rule.retention) {
        Ok(HistoryRetention::AnonymizeAfterDays) => format(
            lang,
            "readers.history.rule_after_days",
            &[("category", category), ("days", &rule.anonymize_after_days.to_string())],
        ),
        Ok(HistoryRetention::NeverKeep) => {
            format(lang, "readers.history.rule_never", &[("category", category)])
        }
        _ => String::new(),
    }
}

async fn loans(
    edge: &Edge,
    desk: &Desk,
    reader_id: &str,
    filter: LoanFilter,
) -> Result<(Vec<Loan>, bool), Status> {
    let mut circulation = LoanServiceClient::new(edge.calls());
    let request = ListLoansRequest {
        reader_id: reader_id.to_owned(),
        filter: filter.into(),
        page_size: LOANS_SHOWN,
        page_token: String::new(),
    };
    let answer = circulation.list_loans(desk.request(edge, request)).await?.into_inner();
    Ok((answer.loans, !answer.next_page_token.is_empty()))
}

fn loan_lines(edge: &Edge, lang: Lang, loans: Vec<Loan>) -> Vec<LoanLine> {
    let zone = edge.config().time_zone;
    let mark = |id: &str| Standing { text: text(lang, id).to_owned(), ok: false };
    loans
        .into_iter()
        .map(|loan| {
            let mut marks = Vec::new();
            if loan.overdue {
                marks.push(mark("readers.loans.overdue"));
            }
            if loan.lost_time.is_some() {
                marks.push(mark("readers.loans.lost"));
            }
            if loan.claimed_returned_time.is_some() {
                marks.push(mark("readers.loans.claimed"));
            }
            LoanLine {
                lent: day_of(lang, loan.checked_out_at.as_ref(), zone),
                due: day(lang, &loan.due_date),
                returned: day_of(lang, loan.returned_at.as_ref(), zone),
                title: loan.title,
                barcode: loan.copy_barcode,
                marks,
            }
        })
        .collect()
}

async fn notes(edge: &Edge, desk: &Desk, reader_id: &str) -> Result<(Vec<NoteLine>, bool), Status> {
    let mut profiles = ReaderProfileServiceClient::new(edge.calls());
    let request =
        ListReaderNotesRequest { reader_id: reader_id.to_owned(), page_size: 100, page_token: String::new() };
    let answer = profiles.list_reader_notes(desk.request(edge, request)).await?.into_inner();
    let zone = edge.config().time_zone;
    let lines = answer
        .notes
        .into_iter()
        .map(|note| NoteLine {
            written: moment(desk.visit.lang, note.create_time.as_ref(), zone),
            id: note.id,
            text: note.text,
        })
        .collect();
    Ok((lines, !answer.next_page_token.is_empty()))
}

async fn contacts(edge: &Edge, desk: &Desk, reader_id: &str) -> Result<(Vec<ContactLine>, bool), Status> {
    let mut profiles = ReaderProfileServiceClient::new(edge.calls());
    let request = ListReaderContactsRequest { reader_id: reader_id.to_owned() };
    let answer = profiles.list_reader_contacts(desk.request(edge, request)).await?.into_inner();
    let lang = desk.visit.lang;
    let lines = answer
        .contacts
        .into_iter()
        .map(|contact| ContactLine {
            who: match named(lang, &WHO, |who| *who as i32 == contact.who) {
                who if contact.label.is_empty() => who,
                who => {
                    format(lang, "readers.contact.with_label", &[("who", &who), ("label", &contact.label)])
                }
            },
            channel: named(lang, &CHANNELS, |channel| *channel as i32 == contact.channel),
            id: contact.id,
            value: contact.value,
        })
        .collect();
    Ok((lines, false))
}
