//! Days, times and money as the pages write them, in the visitor's
//! language: "12月21日 周一" / "Mon 21 Dec", "¥12.50". The services send
//! days as "YYYY-MM-DD" in the school's time zone and money in minor units
//! (fen); nothing here decides anything, it only writes.

use chrono::{Datelike, NaiveDate};
use prost_types::Timestamp;

use super::i18n::{Lang, format, text};

/// A day "YYYY-MM-DD" in words with its weekday; the text itself if it is
/// not a day (so an odd answer still shows), empty for empty.
pub fn day(lang: Lang, iso: &str) -> String {
    let Ok(date) = NaiveDate::parse_from_str(iso, "%Y-%m-%d") else {
        return iso.to_owned();
    };
    written_day(lang, date)
}

/// A day "YYYY-MM-DD" with its year ("2027年7月31日"), for days that may be
/// in another year (a card's expiry); the text itself if it is not a day.
pub fn day_with_year(lang: Lang, iso: &str) -> String {
    let Ok(date) = NaiveDate::parse_from_str(iso, "%Y-%m-%d") else {
        return iso.to_owned();
    };
    let month_name = text(lang, &format!("time.month.{}", date.month())).to_owned();
    format(
        lang,
        "time.day_with_year",
        &[("year", &date.year().to_string()), ("month_name", &month_name), ("day", &date.day().to_string())],
    )
}

/// `date` in words with its weekday.
pub fn written_day(lang: Lang, date: NaiveDate) -> String {
    let weekday = text(lang, &format!("time.weekday.{}", date.weekday().number_from_monday())).to_owned();
    let month_name = text(lang, &format!("time.month.{}", date.month())).to_owned();
    format(
        lang,
        "time.day",
        &[
            ("year", &date.year().to_string()),
            ("month", &date.month().to_string()),
            ("month_name", &month_name),
            ("day", &date.day().to_string()),
            ("weekday", &weekday),
        ],
    )
}

/// A moment in the school's time zone, with day and time ("12月21日 周一 14:05").
pub fn moment(lang: Lang, at: Option<&Timestamp>, zone: chrono_tz::Tz) -> String {
    let Some(at) = at.and_then(|at| chrono::DateTime::from_timestamp(at.seconds, 0)) else {
        return String::new();
    };
    let local = at.with_timezone(&zone);
    format!("{} {}", written_day(lang, local.date_naive()), local.format("%H:%M"))
}

/// The day of a moment in the school's time zone, in words.
pub fn day_of(lang: Lang, at: Option<&Timestamp>, zone: chrono_tz::Tz) -> String {
    at.and_then(|at| chrono::DateTime::from_timestamp(at.seconds, 0))
        .map(|at| written_day(lang, at.with_timezone(&zone).date_naive()))
        .unwrap_or_default()
}

/// An amount in minor units (fen) as yuan: "¥12.50", "-¥3.00".
pub fn money(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let fen = amount.unsigned_abs();
    format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
}

/// An amount typed at the desk in yuan ("12", "12.5", "12.50", "¥12.50") as
/// fen; `None` if it is not an amount of at most two decimals.
pub fn parse_money(typed: &str) -> Option<i64> {
    let typed = typed.trim().trim_start_matches(['¥', '￥']).trim();
    let (whole, fraction) = typed.split_once('.').unwrap_or((typed, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.len() > 9 {
        return None;
    }
    if fraction.len() > 2 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<2}").parse().ok()? };
    Some(whole * 100 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_written_with_their_weekday() {
        assert_eq!(day(Lang::ZhCn, "2026-12-21"), "12月21日 周一");
        assert_eq!(day(Lang::En, "2026-12-21"), "Mon 21 Dec");
        assert_eq!(day(Lang::En, "not a day"), "not a day");
        assert_eq!(day(Lang::En, ""), "");
        assert_eq!(day_with_year(Lang::ZhCn, "2027-07-31"), "2027年7月31日");
        assert_eq!(day_with_year(Lang::En, "2027-07-31"), "31 Jul 2027");
    }

    #[test]
    fn money_is_written_and_read_in_yuan() {
        assert_eq!(money(1250), "¥12.50");
        assert_eq!(money(5), "¥0.05");
        assert_eq!(money(-300), "-¥3.00");
        assert_eq!(parse_money("12"), Some(1200));
        assert_eq!(parse_money("12.5"), Some(1250));
        assert_eq!(parse_money(" ¥0.05 "), Some(5));
        assert_eq!(parse_money("￥3.10"), Some(310));
        for bad in ["", "1.234", "-1", "abc", "1e3", ".5", "1.x", "9999999999"] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
    }
}
