//! `/lists/hold-shelf`: the books waiting on this school's hold shelf for
//! the readers who asked for them, the soonest to expire first (the
//! service's order), each with the day it was put there and the last day
//! it is kept. Holds whose last day is today or tomorrow, or already
//! passed, say so in words, so the desk can call the reader or free the
//! book; the colour only repeats the words.
//!
//! One call to circulation (`HoldService.ListHoldShelf`, followed page by
//! page up to [`MAX_ROWS`]) plus the readers' names ([`names`]).

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use http::StatusCode;
use lectern_proto::circulation::v1::hold_service_client::HoldServiceClient;
use lectern_proto::circulation::v1::{Hold, ListHoldShelfRequest};
use lectern_proto::reader::v1::Reader;

use super::super::format;
use super::super::i18n::{Lang, text};
use super::super::school::{Desk, Section};
use super::super::views::{FieldMessage, Shell};
use super::super::{Visit, render};
use super::{ListHead, MAX_ROWS, PAGE_SIZE, failed, names};
use crate::http::Edge;

/// How near the last day of a hold on the shelf is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Expiry {
    /// After tomorrow (or not known): nothing to say.
    #[default]
    Later,
    /// Kept until the end of tomorrow.
    Tomorrow,
    /// Kept until the end of today.
    Today,
    /// Its time ran out; the hold ends at the service's next expiry run.
    Passed,
}

impl Expiry {
    /// The expiry of a hold kept until `until`, seen at `now`; days are the
    /// school's (`zone`). The service ends a hold once `now` is past
    /// `until`, and so does this.
    pub fn of(until: Option<DateTime<Utc>>, now: DateTime<Utc>, zone: Tz) -> Self {
        let Some(until) = until else {
            return Expiry::Later;
        };
        if now > until {
            return Expiry::Passed;
        }
        let days =
            (until.with_timezone(&zone).date_naive() - now.with_timezone(&zone).date_naive()).num_days();
        match days {
            ..=0 => Expiry::Today,
            1 => Expiry::Tomorrow,
            _ => Expiry::Later,
        }
    }

    /// The catalogue id of the words for it, if it has any.
    pub fn text_id(self) -> Option<&'static str> {
        match self {
            Expiry::Later => None,
            Expiry::Tomorrow => Some("lists.hold_shelf.expires_tomorrow"),
            Expiry::Today => Some("lists.hold_shelf.expires_today"),
            Expiry::Passed => Some("lists.hold_shelf.expired"),
        }
    }

    /// The CSS modifier of its mark.
    pub fn class(self) -> &'static str {
        match self {
            Expiry::Later => "later",
            Expiry::Tomorrow => "tomorrow",
            Expiry::Today => "today",
            Expiry::Passed => "passed",
        }
    }
}

/// One book on the hold shelf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldShelfRow {
    /// The reader's name; empty when the reader service could not say.
    pub reader: String,
    /// The reader's class now; empty for readers without one.
    pub class_name: String,
    pub title: String,
    pub barcode: String,
    /// The day it was put on the shelf, and the last day it is kept there,
    /// in words.
    pub since: String,
    pub until: String,
    pub expiry: Expiry,
    /// The words for `expiry`; empty when there is nothing to say.
    pub mark: String,
}

impl HoldShelfRow {
    /// The row of `hold` for `reader` (if known), seen at `now` in `zone`.
    pub fn of(lang: Lang, hold: &Hold, reader: Option<&Reader>, now: DateTime<Utc>, zone: Tz) -> Self {
        let until = hold.expire_time.as_ref().and_then(|at| DateTime::from_timestamp(at.seconds, 0));
        let expiry = Expiry::of(until, now, zone);
        Self {
            reader: reader.map(|reader| reader.name.clone()).unwrap_or_default(),
            class_name: reader.map(|reader| reader.class_name.clone()).unwrap_or_default(),
            title: hold.title.clone(),
            barcode: hold.copy_barcode.clone(),
            since: format::day_of(lang, hold.ready_time.as_ref(), zone),
            until: format::day_of(lang, hold.expire_time.as_ref(), zone),
            expiry,
            mark: expiry.text_id().map(|id| text(lang, id).to_owned()).unwrap_or_default(),
        }
    }
}

/// `GET /lists/hold-shelf`.
#[derive(Debug, Clone, Template)]
#[template(path = "lists_hold_shelf.html")]
pub struct HoldShelfPage {
    pub shell: Shell,
    pub errors: Vec<FieldMessage>,
    pub head: ListHead,
    pub rows: Vec<HoldShelfRow>,
}

/// `GET /lists/hold-shelf`: the books on this school's hold shelf.
pub async fn show(State(edge): State<Edge>, visit: Visit) -> Response {
    let desk = match Desk::open(&edge, visit).await {
        Ok(desk) => desk,
        Err(response) => return response,
    };
    let mut head = ListHead::of(&edge, &desk);
    let (rows, errors, status) = match holds_on_shelf(&edge, &desk).await {
        Ok((holds, cut)) => {
            head.cut = cut;
            let readers =
                names::readers_of(&edge, &desk, holds.iter().map(|hold| hold.reader_id.as_str()), "").await;
            let (lang, zone, now) = (desk.visit.lang, edge.config().time_zone, Utc::now());
            let rows = holds
                .iter()
                .map(|hold| HoldShelfRow::of(lang, hold, readers.get(&hold.reader_id), now, zone))
                .collect();
            (rows, Vec::new(), StatusCode::OK)
        }
        Err(status) => failed(&desk, &status),
    };
    head.loaded = errors.is_empty();
    let page = HoldShelfPage { shell: desk.shell(Section::Lists), errors, head, rows };
    desk.visit.finish(&edge, render(&page, status))
}

/// The school's hold shelf, page by page up to [`MAX_ROWS`]; whether the
/// list was cut there.
async fn holds_on_shelf(edge: &Edge, desk: &Desk) -> Result<(Vec<Hold>, bool), tonic::Status> {
    let mut client = HoldServiceClient::new(edge.calls());
    let mut holds = Vec::new();
    let mut page_token = String::new();
    loop {
        let request =
            ListHoldShelfRequest { school_id: desk.school.id.clone(), page_size: PAGE_SIZE, page_token };
        let answer = client.list_hold_shelf(desk.request(edge, request)).await?.into_inner();
        holds.extend(answer.holds);
        if answer.next_page_token.is_empty() {
            return Ok((holds, false));
        }
        if holds.len() >= MAX_ROWS {
            holds.truncate(MAX_ROWS);
            return Ok((holds, true));
        }
        page_token = answer.next_page_token;
    }
}

#[cfg(test)]
#[path = "hold_shelf_tests.rs"]
mod tests;
