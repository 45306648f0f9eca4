//! `/slips/…`: what the desk prints. A receipt for the reader (the books on
//! loan and their due days, today's marked), a slip that goes in a book on
//! the hold shelf (for whom, until when) and one that goes in a book in the
//! transit bin (to which school). Each prints on 58 mm or 80 mm slip
//! printers or on A4 (`?paper=58|80|a4`): the stylesheet names a page size
//! per paper, so the browser's print dialog needs no setting.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use http::StatusCode;
use lectern_proto::circulation::v1::hold_service_client::HoldServiceClient;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::{
    GetReaderSummaryRequest, ListHoldsRequest, ListTransitsRequest, TransitDirection, TransitReason,
};
use lectern_proto::reader::v1::GetReaderRequest;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use serde::Deserialize;
use tonic::Status;

use super::format::{day, day_of, moment, written_day};
use super::school::{Desk, Section};
use super::signin::{refusal_text, status_of};
use super::views::{FieldMessage, Shell};
use super::{error_page, render};
use crate::http::Edge;

/// How many transits to look through for one slip.
const TRANSITS_MAX: i32 = 500;

/// The slips' routes.
pub fn routes() -> Router<Edge> {
    Router::new()
        .route("/slips/receipt", get(receipt))
        .route("/slips/hold", get(hold_slip))
        .route("/slips/transit", get(transit_slip))
}

/// The paper a slip is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    /// A 58 mm roll, the common small slip printer.
    #[default]
    Roll58,
    /// An 80 mm roll.
    Roll80,
    /// A sheet of A4.
    A4,
}

impl Paper {
    /// Every paper, in the order the choice shows them.
    pub const ALL: [Paper; 3] = [Paper::Roll58, Paper::Roll80, Paper::A4];

    fn from_query(value: &str) -> Paper {
        match value {
            "80" => Paper::Roll80,
            "a4" | "A4" => Paper::A4,
            _ => Paper::Roll58,
        }
    }

    /// The value in `?paper=`.
    pub fn value(self) -> &'static str {
        match self {
            Paper::Roll58 => "58",
            Paper::Roll80 => "80",
            Paper::A4 => "a4",
        }
    }

    /// The CSS class that picks the page size.
    pub fn class(self) -> &'static str {
        match self {
            Paper::Roll58 => "paper-58",
            Paper::Roll80 => "paper-80",
            Paper::A4 => "paper-a4",
        }
    }

    /// The catalogue id of its name.
    pub fn name_id(self) -> &'static str {
        match self {
            Paper::Roll58 => "slips.paper_58",
            Paper::Roll80 => "slips.paper_80",
            Paper::A4 => "slips.paper_a4",
        }
    }
}

/// A slip or receipt to print.
#[derive(Debug, Clone, Template)]
#[template(path = "slip.html")]
pub struct SlipPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub paper: Paper,
    /// This page's path without `paper`, for the paper choice.
    pub base: String,
    /// The big word at the top ("借书凭条", "预约", "在途").
    pub heading: String,
    /// The school the slip comes from, and when it was printed.
    pub school: String,
    pub printed: String,
    /// Name-value lines under the heading (reader, card, to, until…).
    pub facts: Vec<(String, String)>,
    /// The books, for a receipt: title, barcode, due day, lent today.
    pub books: Vec<SlipBook>,
    /// A closing line ("请按时还书").
    pub footer: String,
}

/// One book on a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipBook {
    pub title: String,
    pub barcode: String,
    pub due: String,
    pub today: bool,
}

/// `?reader=…&hold=…&transit=…&paper=…`.
#[derive(Debug, Default, Deserialize)]
pub struct SlipQuery {
    #[serde(default)]
    reader: String,
    #[serde(default)]
    hold: String,
    #[serde(default)]
    transit: String,
    #[serde(default)]
    paper: String,
}

/// Which slip a route prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Receipt,
    Hold,
    Transit,
}

impl Which {
    /// Its path, and the catalogue ids of its heading and closing line.
    fn words(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Which::Receipt => ("/slips/receipt", "slips.receipt", "slips.receipt_footer"),
            Which::Hold => ("/slips/hold", "slips.hold", "slips.hold_footer"),
            Which::Transit => ("/slips/transit", "slips.transit", "slips.transit_footer"),
        }
    }
}

/// What a slip says: name-value lines, and books for a receipt.
type Content = (Vec<(String, String)>, Vec<SlipBook>);

/// Why a slip cannot be made.
enum Missing {
    /// A call failed: its sentence.
    Call(Status),
    /// The hold or transit is not (or no longer) there.
    Gone,
}

impl From<Status> for Missing {
    fn from(status: Status) -> Self {
        Missing::Call(status)
    }
}

/// `GET /slips/receipt?reader=…`: the reader's loans, today's marked.
pub async fn receipt(
    State(edge): State<Edge>,
    visit: super::Visit,
    Query(query): Query<SlipQuery>,
) -> Response {
    print(edge, visit, query, Which::Receipt).await
}

/// `GET /slips/hold?reader=…&hold=…`: the slip in a book on the hold shelf.
pub async fn hold_slip(
    State(edge): State<Edge>,
    visit: super::Visit,
    Query(query): Query<SlipQuery>,
) -> Response {
    print(edge, visit, query, Which::Hold).await
}

/// `GET /slips/transit?transit=…`: the slip in a book in the transit bin.
pub async fn transit_slip(
    State(edge): State<Edge>,
    visit: super::Visit,
    Query(query): Query<SlipQuery>,
) -> Response {
    print(edge, visit, query, Which::Transit).await
}

/// The slip page of `which`, or why it cannot be made.
async fn print(edge: Edge, visit: super::Visit, query: SlipQuery, which: Which) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let content = match which {
        Which::Receipt => receipt_content(&edge, &desk, &query).await,
        Which::Hold => hold_content(&edge, &desk, &query).await,
        Which::Transit => transit_content(&edge, &desk, &query).await,
    };
    match content {
        Ok((facts, books)) => {
            let page = slip(&edge, &desk, &query, which, facts, books);
            desk.visit.finish(&edge, render(&page, StatusCode::OK))
        }
        Err(Missing::Gone) => {
            error_page(&edge, &desk.visit, StatusCode::NOT_FOUND, "slips.not_found_title", "slips.not_found")
        }
        Err(Missing::Call(failure)) => {
            let page = super::views::ErrorPage {
                shell: desk.shell(Section::Desk),
                title: desk.text("slips.not_found_title"),
                message: refusal_text(&desk.visit, &failure),
            };
            desk.visit.finish(&edge, render(&page, status_of(&failure)))
        }
    }
}

async fn receipt_content(edge: &Edge, desk: &Desk, query: &SlipQuery) -> Result<Content, Missing> {
    let lang = desk.visit.lang;
    let zone = edge.config().time_zone;
    let request =
        GetReaderSummaryRequest { reader_card_barcode: String::new(), reader_id: query.reader.clone() };
    let summary = LoanServiceClient::new(edge.calls())
        .get_reader_summary(desk.request(edge, request))
        .await?
        .into_inner();
    let today = edge.clock().now().with_timezone(&zone).date_naive();
    let reader = summary.reader.unwrap_or_default();
    let mut books: Vec<SlipBook> = summary
        .loans
        .into_iter()
        .map(|loan| SlipBook {
            today: loan
                .checked_out_at
                .as_ref()
                .and_then(|at| chrono::DateTime::from_timestamp(at.seconds, 0))
                .is_some_and(|at| at.with_timezone(&zone).date_naive() == today),
            due: day(lang, &loan.due_date),
            title: loan.title,
            barcode: loan.copy_barcode,
        })
        .collect();
    // Today's books first, each group soonest due first as the service sent them.
    books.sort_by_key(|book| !book.today);
    let mut facts =
        vec![(desk.text("slips.reader"), reader.name), (desk.text("slips.card"), reader.card_barcode)];
    if !reader.class_name.is_empty() {
        facts.push((desk.text("slips.class"), reader.class_name));
    }
    facts.push((desk.text("slips.count"), books.len().to_string()));
    Ok((facts, books))
}

async fn hold_content(edge: &Edge, desk: &Desk, query: &SlipQuery) -> Result<Content, Missing> {
    let request = ListHoldsRequest { reader_id: query.reader.clone(), include_closed: true };
    let holds =
        HoldServiceClient::new(edge.calls()).list_holds(desk.request(edge, request)).await?.into_inner();
    let hold = holds.holds.into_iter().find(|hold| hold.id == query.hold).ok_or(Missing::Gone)?;
    let request = GetReaderRequest { id: query.reader.clone() };
    let reader =
        ReaderServiceClient::new(edge.calls()).get_reader(desk.request(edge, request)).await?.into_inner();
    let mut facts = vec![(desk.text("slips.reader"), reader.name)];
    if !reader.class_name.is_empty() {
        facts.push((desk.text("slips.class"), reader.class_name));
    }
    facts.push((desk.text("slips.card"), reader.card_barcode));
    facts.push((desk.text("slips.book"), hold.title));
    facts.push((desk.text("slips.barcode"), hold.copy_barcode));
    facts.push((desk.text("slips.pickup"), desk.school_name(&hold.pickup_school_id)));
    let until = day_of(desk.visit.lang, hold.expire_time.as_ref(), edge.config().time_zone);
    if !until.is_empty() {
        facts.push((desk.text("slips.keep_until"), until));
    }
    Ok((facts, Vec::new()))
}

async fn transit_content(edge: &Edge, desk: &Desk, query: &SlipQuery) -> Result<Content, Missing> {
    let request = ListTransitsRequest {
        school_id: desk.school.id.clone(),
        direction: TransitDirection::Unspecified as i32,
        include_received: true,
        page_size: TRANSITS_MAX,
        page_token: String::new(),
    };
    let transits =
        LoanServiceClient::new(edge.calls()).list_transits(desk.request(edge, request)).await?.into_inner();
    let transit =
        transits.transits.into_iter().find(|transit| transit.id == query.transit).ok_or(Missing::Gone)?;
    let why = if transit.reason == TransitReason::Hold as i32 { "slips.why_hold" } else { "slips.why_home" };
    let sent = moment(desk.visit.lang, transit.start_time.as_ref(), edge.config().time_zone);
    let facts = vec![
        (desk.text("slips.to"), desk.school_name(&transit.to_school_id)),
        (desk.text("slips.from"), desk.school_name(&transit.from_school_id)),
        (desk.text("slips.book"), transit.title),
        (desk.text("slips.barcode"), transit.copy_barcode),
        (desk.text("slips.why"), desk.text(why)),
        (desk.text("slips.sent"), sent),
    ];
    Ok((facts, Vec::new()))
}

/// A slip page for `desk`, with the paper chosen in `query`.
fn slip(
    edge: &Edge,
    desk: &Desk,
    query: &SlipQuery,
    which: Which,
    facts: Vec<(String, String)>,
    books: Vec<SlipBook>,
) -> SlipPage {
    let (path, heading_id, footer_id) = which.words();
    let lang = desk.visit.lang;
    let now = edge.clock().now().with_timezone(&edge.config().time_zone);
    let base = [("reader", &query.reader), ("hold", &query.hold), ("transit", &query.transit)]
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", super::encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    SlipPage {
        shell: desk.shell(Section::Desk),
        errors: Vec::new(),
        paper: Paper::from_query(&query.paper),
        base: format!("{path}?{base}"),
        heading: desk.text(heading_id),
        school: desk.school.name.clone(),
        printed: format!("{} {}", written_day(lang, now.date_naive()), now.format("%H:%M")),
        facts,
        books,
        footer: desk.text(footer_id),
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;
    use crate::pages::i18n::{Lang, text};
    use crate::pages::views::testing::{check_page, shell};

    fn receipt(lang: Lang, paper: Paper) -> String {
        SlipPage {
            shell: shell(lang),
            errors: Vec::new(),
            paper,
            base: "/slips/receipt?reader=r-1".to_owned(),
            heading: text(lang, "slips.receipt").to_owned(),
            school: "徐汇区实验小学".to_owned(),
            printed: "12月7日 周一 09:30".to_owned(),
            facts: vec![("读者".to_owned(), "姚欣怡".to_owned())],
            books: vec![
                SlipBook {
                    title: "草房子".to_owned(),
                    barcode: "P000004".to_owned(),
                    due: "12月21日 周一".to_owned(),
                    today: true,
                },
                SlipBook {
                    title: "青铜葵花".to_owned(),
                    barcode: "P000007".to_owned(),
                    due: "12月14日 周一".to_owned(),
                    today: false,
                },
            ],
            footer: text(lang, "slips.receipt_footer").to_owned(),
        }
        .render()
        .unwrap()
    }

    #[test]
    fn a_receipt_lists_the_books_and_prints_on_the_chosen_paper() {
        for lang in Lang::ALL {
            for paper in Paper::ALL {
                let html = receipt(lang, paper);
                check_page(&html, lang);
                assert!(html.contains(&format!(r#"<article class="slip {}">"#, paper.class())));
                assert!(html.contains("草房子") && html.contains("青铜葵花") && html.contains("姚欣怡"));
                assert_eq!(html.matches(r#"class="slip-today""#).count(), 1);
                assert!(html.contains(text(lang, "slips.receipt_footer")));
                assert!(html.contains("data-print"));
                for choice in Paper::ALL {
                    let link = format!(r#"href="/slips/receipt?reader=r-1&amp;paper={}""#, choice.value());
                    assert!(html.contains(&link), "{link}");
                }
                assert!(html.contains(r#"aria-current="true">"#));
            }
        }
    }

    #[test]
    fn every_paper_has_a_page_size_in_print() {
        let css = crate::pages::assets::STYLESHEET;
        for (class, page) in [("paper-58", "roll58"), ("paper-80", "roll80"), ("paper-a4", "sheet")] {
            assert!(css.contains(&format!(".slip.{class}{{page:{page}")), "{class}");
            assert!(css.contains(&format!("@page {page}{{size:")), "{page}");
        }
        assert_eq!(Paper::from_query("80"), Paper::Roll80);
        assert_eq!(Paper::from_query("A4"), Paper::A4);
        assert_eq!(Paper::from_query("<script>"), Paper::Roll58);
    }
}
