//! What the services say, in the portal's words: how many days until a
//! book is due, where a hold stands, the history rule, the availability at
//! the reader's school, the bars of the reading report. Plain functions
//! over the protos' types, so the wording is tested without a server.

use chrono::NaiveDate;
use lectern_proto::catalog::v1::SearchHit;
use lectern_proto::circulation::v1::{Hold, HoldStatus, Loan};
use lectern_proto::reader::v1::{HistoryRetention, HistoryRule};

use super::views::{Bar, HoldRow, LoanRow};
use crate::pages::format::{day, day_of};
use crate::pages::i18n::{Lang, format, text};

/// How long the due day is from `today`, in words, and whether it passed.
pub fn due_in(lang: Lang, due_date: &str, today: NaiveDate) -> (String, bool) {
    let Ok(due) = NaiveDate::parse_from_str(due_date, "%Y-%m-%d") else {
        return (String::new(), false);
    };
    let days = (due - today).num_days();
    let words = match days {
        ..0 => format(lang, "portal.due.overdue", &[("days", &(-days).to_string())]),
        0 => text(lang, "portal.due.today").to_owned(),
        1 => text(lang, "portal.due.tomorrow").to_owned(),
        _ => format(lang, "portal.due.in_days", &[("days", &days.to_string())]),
    };
    (words, days < 0)
}

/// A loan as the portal lists it.
pub fn loan_row(lang: Lang, loan: &Loan, today: NaiveDate) -> LoanRow {
    let (due_in, late) = due_in(lang, &loan.due_date, today);
    let renewals = if loan.renewals > 0 {
        format(lang, "portal.loans.renewed_times", &[("times", &loan.renewals.to_string())])
    } else {
        String::new()
    };
    LoanRow {
        id: loan.id.clone(),
        title: loan.title.clone(),
        title_id: loan.title_id.clone(),
        due: day(lang, &loan.due_date),
        due_in,
        overdue: loan.overdue || late,
        renewals,
    }
}

/// The loans soonest due first, as rows.
pub fn loan_rows(lang: Lang, loans: &[Loan], today: NaiveDate) -> Vec<LoanRow> {
    let mut loans: Vec<&Loan> = loans.iter().collect();
    loans.sort_by(|a, b| a.due_date.cmp(&b.due_date));
    loans.into_iter().map(|loan| loan_row(lang, loan, today)).collect()
}

/// A hold as the portal lists it.
pub fn hold_row(lang: Lang, hold: &Hold, zone: chrono_tz::Tz) -> HoldRow {
    let status = HoldStatus::try_from(hold.status).unwrap_or(HoldStatus::Unspecified);
    let words = match status {
        HoldStatus::Waiting if hold.position > 0 => {
            format(lang, "portal.hold.waiting_place", &[("place", &hold.position.to_string())])
        }
        HoldStatus::Waiting | HoldStatus::Unspecified => text(lang, "portal.hold.waiting").to_owned(),
        HoldStatus::InTransit => text(lang, "portal.hold.in_transit").to_owned(),
        HoldStatus::Ready => {
            let until = day_of(lang, hold.expire_time.as_ref(), zone);
            if until.is_empty() {
                text(lang, "portal.hold.ready").to_owned()
            } else {
                format(lang, "portal.hold.ready_until", &[("day", &until)])
            }
        }
        HoldStatus::Fulfilled => text(lang, "portal.hold.fulfilled").to_owned(),
        HoldStatus::Cancelled => text(lang, "portal.hold.cancelled").to_owned(),
        HoldStatus::Expired => text(lang, "portal.hold.expired").to_owned(),
    };
    HoldRow {
        id: hold.id.clone(),
        title: hold.title.clone(),
        title_id: hold.title_id.clone(),
        status: words,
        ready: status == HoldStatus::Ready,
        can_cancel: matches!(
            status,
            HoldStatus::Waiting | HoldStatus::InTransit | HoldStatus::Ready | HoldStatus::Unspecified
        ),
    }
}

/// The history rule of the reader's category, in a sentence.
pub fn history_rule(lang: Lang, rule: Option<&HistoryRule>) -> String {
    let retention = rule
        .and_then(|rule| HistoryRetention::try_from(rule.retention).ok())
        .unwrap_or(HistoryRetention::Keep);
    match retention {
        HistoryRetention::Keep | HistoryRetention::Unspecified => {
            text(lang, "portal.history.rule_keep").to_owned()
        }
        HistoryRetention::NeverKeep => text(lang, "portal.history.rule_never").to_owned(),
        HistoryRetention::AnonymizeAfterDays => {
            let days = rule.map_or(0, |rule| rule.anonymize_after_days);
            format(lang, "portal.history.rule_days", &[("days", &days.to_string())])
        }
    }
}

/// The copies of a search hit at the reader's school, in words, and
/// whether one is on the shelf.
pub fn here(lang: Lang, hit: &SearchHit, school_id: &str) -> (String, bool) {
    let Some(counts) = hit.schools.iter().find(|counts| counts.school_id == school_id) else {
        return (text(lang, "portal.search.none_here").to_owned(), false);
    };
    let lendable = counts.on_shelf + counts.on_loan + counts.on_hold_shelf + counts.in_transit;
    if counts.on_shelf > 0 {
        let on_shelf = counts.on_shelf.to_string();
        (format(lang, "portal.search.on_shelf", &[("count", &on_shelf)]), true)
    } else if lendable > 0 {
        (text(lang, "portal.search.all_out").to_owned(), false)
    } else {
        (text(lang, "portal.search.none_here").to_owned(), false)
    }
}

/// Bars for counts, each as wide as its share of the largest.
pub fn bars(items: Vec<(String, i32)>) -> Vec<Bar> {
    let most = items.iter().map(|(_, count)| *count).max().unwrap_or(0).max(1);
    items
        .into_iter()
        .map(|(label, count)| {
            let width = u32::try_from(count.max(0) * 100 / most).unwrap_or(0).max(2);
            Bar { label, count, width }
        })
        .collect()
}

/// The cookie that remembers, per reader, the newest notice seen here:
/// `reader~seconds` pairs joined by `.`, the latest first, at most
/// [`SEEN_MAX`] of them (a parent's children on one phone).
pub const SEEN_COOKIE: &str = "lectern_portal_seen";
pub const SEEN_MAX: usize = 10;

/// When `reader_id` last looked at their notices here (0: never).
pub fn seen_at(value: Option<&str>, reader_id: &str) -> i64 {
    value
        .unwrap_or_default()
        .split('.')
        .filter_map(|pair| pair.split_once('~'))
        .find(|(reader, _)| *reader == reader_id)
        .and_then(|(_, seconds)| seconds.parse().ok())
        .unwrap_or(0)
}

/// The cookie's value once `reader_id` has seen their notices up to `seconds`.
pub fn seen_value(value: Option<&str>, reader_id: &str, seconds: i64) -> String {
    let safe = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let mut pairs = vec![format!("{reader_id}~{seconds}")];
    pairs.extend(
        value
            .unwrap_or_default()
            .split('.')
            .filter(|pair| {
                pair.split_once('~').is_some_and(|(reader, _)| reader != reader_id && safe(reader))
            })
            .map(str::to_owned),
    );
    pairs.truncate(SEEN_MAX);
    if safe(reader_id) { pairs.join(".") } else { value.unwrap_or_default().to_owned() }
}
