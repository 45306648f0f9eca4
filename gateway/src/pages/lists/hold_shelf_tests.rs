//! The hold shelf rendered in both languages: who waits for what, since
//! when and until when, and the last days near or past said in words.

use askama::Template;
use chrono::{DateTime, Utc};
use lectern_proto::circulation::v1::{Hold, HoldStatus};
use prost_types::Timestamp;

use super::super::tests::{check_page, head, html_of, print_button, reader, shell};
use super::*;

const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn at(text: &str) -> Option<Timestamp> {
    Some(Timestamp { seconds: utc(text).timestamp(), nanos: 0 })
}

/// 10:00 on Monday 21 December 2026 in Shanghai.
fn now() -> DateTime<Utc> {
    utc("2026-12-21T02:00:00Z")
}

/// A hold on the shelf since `ready`, kept until the end of the Shanghai
/// day `last_day`.
fn hold(reader_id: &str, title: &str, barcode: &str, ready: &str, last_day: &str) -> Hold {
    Hold {
        reader_id: reader_id.to_owned(),
        title: title.to_owned(),
        copy_barcode: barcode.to_owned(),
        status: HoldStatus::Ready.into(),
        ready_time: at(ready),
        expire_time: at(&format!("{last_day}T15:59:59Z")),
        ..Hold::default()
    }
}

/// Four books in the service's order (soonest to expire first), one of a
/// reader the reader service could not name.
fn rows(lang: Lang) -> Vec<HoldShelfRow> {
    let readers = [
        reader("r1", "王小明", Some(("c32", 3, "三年级(2)班"))),
        reader("r2", "李华", Some(("c11", 1, "一年级(1)班"))),
        reader("t1", "陈老师", None),
    ];
    let holds = [
        hold("r1", "小王子", "XH-000123", "2026-12-13T01:00:00Z", "2026-12-20"),
        hold("r2", "草房子", "XH-000456", "2026-12-14T03:30:00Z", "2026-12-21"),
        hold("t1", "Charlotte's Web <2>", "XH-000789", "2026-12-15T06:00:00Z", "2026-12-22"),
        hold("gone", "西游记", "XH-000111", "2026-12-18T02:00:00Z", "2026-12-25"),
    ];
    holds
        .iter()
        .map(|hold| {
            let reader = readers.iter().find(|reader| reader.id == hold.reader_id);
            HoldShelfRow::of(lang, hold, reader, now(), SHANGHAI)
        })
        .collect()
}

fn page(lang: Lang, rows: Vec<HoldShelfRow>) -> HoldShelfPage {
    HoldShelfPage { shell: shell(lang), errors: Vec::new(), head: head(lang), rows }
}

#[test]
fn the_last_day_is_today_tomorrow_later_or_past() {
    let until = |day: &str| Some(utc(&format!("{day}T15:59:59Z")));
    assert_eq!(Expiry::of(until("2026-12-21"), now(), SHANGHAI), Expiry::Today);
    assert_eq!(Expiry::of(until("2026-12-22"), now(), SHANGHAI), Expiry::Tomorrow);
    assert_eq!(Expiry::of(until("2026-12-23"), now(), SHANGHAI), Expiry::Later);
    assert_eq!(Expiry::of(until("2026-12-20"), now(), SHANGHAI), Expiry::Passed);
    assert_eq!(Expiry::of(None, now(), SHANGHAI), Expiry::Later);
    // The last second of the last day still counts; the next one does not.
    let last_second = utc("2026-12-21T15:59:59Z");
    assert_eq!(Expiry::of(until("2026-12-21"), last_second, SHANGHAI), Expiry::Today);
    let midnight = utc("2026-12-21T16:00:00Z");
    assert_eq!(Expiry::of(until("2026-12-21"), midnight, SHANGHAI), Expiry::Passed);
    // Just after midnight in Shanghai (still the 21st in UTC) it is the 22nd.
    assert_eq!(Expiry::of(until("2026-12-22"), midnight, SHANGHAI), Expiry::Today);
}

#[test]
fn rows_say_who_what_since_when_and_until_when() {
    let rows = rows(Lang::ZhCn);
    assert_eq!(
        (rows[0].reader.as_str(), rows[0].class_name.as_str(), rows[0].barcode.as_str()),
        ("王小明", "三年级(2)班", "XH-000123")
    );
    assert_eq!(rows[0].since, "12月13日 周日");
    assert_eq!(rows[0].until, "12月20日 周日");
    let marks: Vec<_> = rows.iter().map(|row| row.mark.as_str()).collect();
    assert_eq!(marks, ["已过期：下次扫描还书时会告诉你放到哪里", "今天到期", "明天到期", ""]);
    assert!(rows[3].reader.is_empty() && rows[3].class_name.is_empty());
    let english: Vec<_> = self::rows(Lang::En).into_iter().map(|row| row.mark).collect();
    assert_eq!(english[1], "Last day today");
}

#[test]
fn the_hold_shelf_shows_each_book_in_both_languages() {
    for lang in Lang::ALL {
        let html = page(lang, rows(lang)).render().unwrap();
        check_page(&html, lang);
        assert!(print_button(&html));
        for seen in
            ["王小明", "三年级(2)班", "小王子", "XH-000456", "Charlotte&#39;s Web &#60;2&#62;", "陈老师"]
        {
            assert!(html.contains(seen), "{seen}");
        }
        for id in [
            "lists.hold_shelf.title",
            "lists.hold_shelf.intro",
            "lists.hold_shelf.caption",
            "lists.col.reader",
            "lists.col.class",
            "lists.col.on_shelf_since",
            "lists.col.kept_until",
            "lists.unknown_reader",
        ] {
            assert!(html.contains(&html_of(text(lang, id))), "{id} in {}", lang.tag());
        }
        for day in ["2026-12-13", "2026-12-20", "2026-12-25"] {
            assert!(html.contains(&format::day(lang, day)), "{day}");
        }
        // Each mark once, in words, with its shape class; the later book has none.
        for (id, class) in [
            ("lists.hold_shelf.expired", "passed"),
            ("lists.hold_shelf.expires_today", "today"),
            ("lists.hold_shelf.expires_tomorrow", "tomorrow"),
        ] {
            let mark = format!(
                r#"<strong class="lists-mark lists-mark-{class}">{}</strong>"#,
                html_of(text(lang, id))
            );
            assert_eq!(html.matches(&mark).count(), 1, "{id}");
            assert!(html.contains(&format!(r#"<tr class="lists-expiry-{class}">"#)));
        }
        assert_eq!(html.matches("lists-mark ").count(), 3);
        assert!(html.contains(&html_of(text(lang, "lists.count")).replace("{count}", "4")));
        assert!(
            !html.contains("error-summary") && !html.contains(&html_of(text(lang, "lists.hold_shelf.empty")))
        );
    }
    let html = page(Lang::ZhCn, rows(Lang::ZhCn)).render().unwrap();
    assert!(html.contains("预约书架") && html.contains("今天到期") && html.contains("明天到期"));
    assert!(html.contains("已过期：下次扫描还书时会告诉你放到哪里") && html.contains("打印"));
}

#[test]
fn an_empty_or_unread_hold_shelf_says_which() {
    for lang in Lang::ALL {
        let html = page(lang, Vec::new()).render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(&html_of(text(lang, "lists.hold_shelf.empty"))));
        assert!(!html.contains("<table"));

        let mut failed = page(lang, Vec::new());
        failed.head.loaded = false;
        failed.errors = vec![FieldMessage::summary(text(lang, "error.unavailable"))];
        let html = failed.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains("error-summary") && html.contains(&html_of(text(lang, "error.unavailable"))));
        assert!(
            !html.contains(&html_of(text(lang, "lists.hold_shelf.empty"))),
            "no 'nothing here' when unknown"
        );
    }
}
