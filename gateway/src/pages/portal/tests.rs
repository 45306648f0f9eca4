//! The portal's wording, without a server: due days, holds, the history
//! rule, availability, the notices-seen cookie, and that every page
//! renders with its hooks.

use chrono::NaiveDate;
use lectern_proto::catalog::v1::{SchoolAvailability, SearchHit};
use lectern_proto::circulation::v1::{Hold, HoldStatus, Loan};
use lectern_proto::reader::v1::{HistoryRetention, HistoryRule};

use super::report::{class_name, month_name};
use super::views::*;
use super::words::*;
use crate::pages::i18n::Lang;
use crate::pages::views::Notice;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[test]
fn due_days_are_counted_from_today() {
    let today = day("2026-12-11");
    assert_eq!(due_in(Lang::ZhCn, "2026-12-14", today), ("还有 3 天".to_owned(), false));
    assert_eq!(due_in(Lang::ZhCn, "2026-12-11", today), ("今天要还".to_owned(), false));
    assert_eq!(due_in(Lang::En, "2026-12-12", today), ("Due tomorrow".to_owned(), false));
    assert_eq!(due_in(Lang::ZhCn, "2026-12-09", today), ("超期 2 天了".to_owned(), true));
    assert_eq!(due_in(Lang::En, "soon", today), (String::new(), false));
}

#[test]
fn loans_come_soonest_due_first_and_overdue_ones_are_flagged() {
    let loan = |id: &str, due: &str| Loan {
        id: id.into(),
        title: id.into(),
        due_date: due.into(),
        ..Loan::default()
    };
    let rows = loan_rows(Lang::ZhCn, &[loan("b", "2026-12-20"), loan("a", "2026-12-01")], day("2026-12-11"));
    assert_eq!(rows.iter().map(|row| row.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert!(rows[0].overdue && !rows[1].overdue);
    assert_eq!(rows[0].due_in, "超期 10 天了");
}

#[test]
fn holds_say_where_they_stand() {
    let zone = chrono_tz::Asia::Shanghai;
    let hold = Hold { id: "h".into(), status: HoldStatus::Waiting as i32, position: 2, ..Hold::default() };
    let row = hold_row(Lang::ZhCn, &hold, zone);
    assert_eq!(row.status, "在排队，你排第 2 位");
    assert!(row.can_cancel && !row.ready);
    let ready = Hold { status: HoldStatus::Ready as i32, ..hold.clone() };
    assert!(hold_row(Lang::En, &ready, zone).ready);
    let done = Hold { status: HoldStatus::Fulfilled as i32, ..hold };
    assert!(!hold_row(Lang::En, &done, zone).can_cancel);
}

#[test]
fn the_history_rule_is_said_in_a_sentence() {
    let rule = |retention: HistoryRetention, days| HistoryRule {
        retention: retention as i32,
        anonymize_after_days: days,
    };
    assert!(history_rule(Lang::ZhCn, None).contains("一直"));
    assert!(
        history_rule(Lang::En, Some(&rule(HistoryRetention::AnonymizeAfterDays, 30))).starts_with("30 days")
    );
    assert!(history_rule(Lang::ZhCn, Some(&rule(HistoryRetention::NeverKeep, 0))).contains("不再记着"));
}

#[test]
fn availability_is_at_the_readers_school() {
    let counts = |school: &str, on_shelf, on_loan| SchoolAvailability {
        school_id: school.into(),
        on_shelf,
        on_loan,
        ..SchoolAvailability::default()
    };
    let hit = SearchHit { schools: vec![counts("a", 0, 2), counts("b", 3, 0)], ..SearchHit::default() };
    assert_eq!(here(Lang::ZhCn, &hit, "b"), ("本校在架 3 本，可以去借".to_owned(), true));
    assert!(!here(Lang::ZhCn, &hit, "a").1);
    assert!(here(Lang::En, &hit, "a").0.starts_with("All copies"));
    assert!(here(Lang::En, &hit, "c").0.contains("does not have"));
}

#[test]
fn the_seen_cookie_keeps_one_time_per_reader() {
    assert_eq!(seen_at(None, "r1"), 0);
    let value = seen_value(None, "r1", 100);
    assert_eq!(value, "r1~100");
    let value = seen_value(Some(&value), "r2", 200);
    assert_eq!(seen_at(Some(&value), "r1"), 100);
    assert_eq!(seen_at(Some(&value), "r2"), 200);
    let value = seen_value(Some(&value), "r1", 300);
    assert_eq!(value, "r1~300.r2~200");
    // Garbage is dropped, and ids that could break the cookie are refused.
    assert_eq!(seen_value(Some("x;y~1.r3~5"), "r1", 1), "r1~1.r3~5");
    assert_eq!(seen_value(Some("r1~1"), "a;b", 9), "r1~1");
    let many = (0..20).fold(String::new(), |value, n| seen_value(Some(&value), &format!("r{n}"), n));
    assert_eq!(many.split('.').count(), SEEN_MAX);
}

#[test]
fn bars_are_as_wide_as_their_share() {
    let bars = bars(vec![("a".into(), 4), ("b".into(), 1), ("c".into(), 0)]);
    assert_eq!(bars.iter().map(|bar| bar.width).collect::<Vec<_>>(), [100, 25, 2]);
    assert_eq!(month_name(Lang::ZhCn, "2026-03"), "2026年3月");
    assert_eq!(month_name(Lang::En, "2026-03"), "Mar 2026");
    assert_eq!(class_name(Lang::ZhCn, "I"), "文学");
    assert_eq!(class_name(Lang::En, ""), "Books without a class");
}

fn shell(page: &'static str) -> PortalShell {
    PortalShell {
        lang: Lang::ZhCn,
        csrf: "token".into(),
        path: "/portal".into(),
        page,
        signed_in: true,
        name: "任小雨".into(),
        class_name: "三年级(2)班".into(),
        school: "徐汇区实验小学".into(),
        family: true,
        notice: None,
    }
}

#[test]
fn home_renders_its_hooks() {
    use askama::Template as _;
    let page = HomePage {
        shell: shell("home"),
        switches: vec![
            Switch { reader_id: "r1".into(), name: "任小雨".into(), current: true },
            Switch { reader_id: "r2".into(), name: "任小雪".into(), current: false },
        ],
        loans: vec![LoanRow {
            id: "l1".into(), title: "草房子".into(), overdue: true, ..LoanRow::default()
        }],
        holds_ready: vec![HoldRow {
            id: "h1".into(),
            title: "城南旧事".into(),
            ready: true,
            ..HoldRow::default()
        }],
        holds_waiting: 1,
        unread: 2,
        blocks: Vec::new(),
        failed: false,
    };
    let html = page.render().unwrap();
    for hook in [
        "id=\"portal-search\"",
        "id=\"portal-loans\"",
        "id=\"portal-holds\"",
        "id=\"portal-notices\"",
        "id=\"portal-switcher\"",
        "id=\"portal-signout\"",
        "data-loan-id=\"l1\"",
        "data-hold-id=\"h1\"",
        "data-reader-id=\"r2\"",
        "<h1>我的借阅</h1>",
        "任小雨 · 三年级(2)班 · 徐汇区实验小学",
        "退出登录",
    ] {
        assert!(html.contains(hook), "{hook} missing");
    }
    assert!(html.len() < 20_000, "{} bytes", html.len());
}

#[test]
fn notices_are_done_or_refused_boxes() {
    use askama::Template as _;
    let mut page = HoldsPage { shell: shell("holds"), holds: Vec::new(), request_id: "x".into() };
    page.shell.notice = Some(Notice::refusal("不行"));
    assert!(page.render().unwrap().contains("portal-refusal"));
    page.shell.notice = Some(Notice::success("好了"));
    let html = page.render().unwrap();
    assert!(html.contains("portal-done") && !html.contains("portal-refusal"));
}
