//! The lists rendered in both languages with realistic rows, the house
//! rules of every page, and the homeroom grouping. The hold shelf's tests
//! (`hold_shelf_tests.rs`) share the helpers here.

use askama::Template;
use chrono::NaiveDate;
use lectern_proto::circulation::v1::Loan;
use lectern_proto::reader::v1::{Class, Reader};

use super::*;
use crate::pages::i18n::{Lang, text};
use crate::pages::school::DeskBar;
use crate::pages::views::{Shell, testing};

/// The frame of a desk screen at the lists section.
pub(super) fn shell(lang: Lang) -> Shell {
    let desk = DeskBar {
        section: Section::Lists,
        school: "徐汇区实验小学".to_owned(),
        can_change_school: false,
        who: "xh-librarian".to_owned(),
    };
    Shell { signed_in: true, desk: Some(desk), ..testing::shell(lang) }
}

/// The house rules of every page, and what every list adds: one h1, and
/// tables with column headers.
pub(super) fn check_page(html: &str, lang: Lang) {
    testing::check_page(html, lang);
    assert_eq!(html.matches("<h1").count(), 1, "one h1");
    if html.contains("<table") {
        assert!(html.contains(r#"<th scope="col">"#));
    }
}

/// `text` as the page writes it (askama escapes quotes and apostrophes).
pub(super) fn html_of(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

pub(super) fn print_button(html: &str) -> bool {
    html.contains(r#"<button class="button lists-print" type="button" data-print>"#)
}

pub(super) fn head(lang: Lang) -> ListHead {
    ListHead {
        school: "徐汇区实验小学".to_owned(),
        today: format::day(lang, "2026-12-21"),
        loaded: true,
        cut: false,
    }
}

pub(super) fn reader(id: &str, name: &str, class: Option<(&str, i32, &str)>) -> Reader {
    let (class_id, grade, class_name) = class.unwrap_or_default();
    Reader {
        id: id.to_owned(),
        name: name.to_owned(),
        class_id: class_id.to_owned(),
        grade,
        class_name: class_name.to_owned(),
        ..Reader::default()
    }
}

fn loan(reader_id: &str, title: &str, barcode: &str, due: &str) -> Loan {
    Loan {
        reader_id: reader_id.to_owned(),
        title: title.to_owned(),
        copy_barcode: barcode.to_owned(),
        due_date: due.to_owned(),
        overdue: true,
        ..Loan::default()
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 21).unwrap()
}

/// Four overdue loans of three children in two classes and a teacher.
fn rows(lang: Lang, overdue: bool) -> Vec<LoanRow> {
    let class_3_2 = Some(("c32", 3, "三年级(2)班"));
    let class_1_1 = Some(("c11", 1, "一年级(1)班"));
    let readers = [
        reader("r1", "王小明", class_3_2),
        reader("r2", "李华", class_1_1),
        reader("r3", "张伟", class_3_2),
        reader("t1", "陈老师", None),
    ];
    let loans = [
        loan("r1", "小王子", "XH-000123", "2026-12-01"),
        loan("r2", "草房子", "XH-000456", "2026-12-14"),
        loan("r1", "Charlotte's Web <2>", "XH-000789", "2026-11-20"),
        loan("r3", "窗边的小豆豆", "XH-000321", "2026-12-18"),
        loan("t1", "教育心理学", "XH-000999", "2026-12-10"),
        loan("gone", "西游记", "XH-000111", "2026-12-19"),
    ];
    loans
        .iter()
        .map(|loan| {
            let reader = readers.iter().find(|reader| reader.id == loan.reader_id);
            LoanRow::of(lang, loan, reader, today(), overdue)
        })
        .collect()
}

fn classes() -> Vec<Class> {
    let class = |id: &str, name: &str, grade| Class {
        id: id.to_owned(),
        name: name.to_owned(),
        grade,
        school_year: "2026-2027".to_owned(),
        ..Class::default()
    };
    vec![class("c11", "一年级(1)班", 1), class("c32", "三年级(2)班", 3)]
}

fn list(lang: Lang, rows: Vec<LoanRow>) -> LoanList {
    LoanList { head: head(lang), classes: ClassChoice::all(&classes(), ""), rows, ..LoanList::default() }
}

#[test]
fn loan_rows_say_how_late_or_how_soon() {
    let row = &rows(Lang::ZhCn, true)[0];
    assert_eq!(row.reader, "王小明");
    assert_eq!(row.class_name, "三年级(2)班");
    assert_eq!(row.when, "20 天");
    assert_eq!(row.due_day, "12月1日 周二");
    assert_eq!(rows(Lang::En, true)[0].when, "20 days");
    let soon =
        |due: &str, lang| LoanRow::of(lang, &loan("r1", "小王子", "XH-1", due), None, today(), false).when;
    assert_eq!(soon("2026-12-21", Lang::ZhCn), "今天到期");
    assert_eq!(soon("2026-12-22", Lang::ZhCn), "明天到期");
    assert_eq!(soon("2026-12-24", Lang::ZhCn), "3 天后到期");
    assert_eq!(soon("2026-12-24", Lang::En), "Due in 3 days");
    assert_eq!(soon("not a day", Lang::En), "");
    let yesterday = LoanRow::of(Lang::En, &loan("r1", "小王子", "XH-1", "2026-12-20"), None, today(), true);
    assert_eq!(yesterday.when, "1 day");
    assert_eq!(views::with_days(Lang::En, "lists.due_soon.caption", "1"), "Books due within 1 day");
    assert_eq!(views::with_days(Lang::En, "lists.due_soon.caption", "3"), "Books due within 3 days");
    let unknown = LoanRow::of(Lang::En, &loan("gone", "西游记", "XH-1", "2026-12-19"), None, today(), true);
    assert!(unknown.reader.is_empty() && unknown.class_id.is_empty());
}

#[test]
fn days_are_checked() {
    assert_eq!(parse_days(None), Some(3));
    assert_eq!(parse_days(Some("")), Some(3));
    assert_eq!(parse_days(Some(" 7 ")), Some(7));
    assert_eq!(parse_days(Some("60")), Some(60));
    for bad in ["0", "61", "-1", "abc", "3.5", "999999999999", "1e1", "+3"] {
        assert_eq!(parse_days(Some(bad)), None, "{bad}");
    }
}

#[test]
fn homeroom_groups_by_class_then_reader_then_due_day() {
    let groups = by_homeroom(rows(Lang::ZhCn, true));
    let names: Vec<_> = groups.iter().map(|group| group.class_name.as_str()).collect();
    assert_eq!(names, ["一年级(1)班", "三年级(2)班", ""], "by grade, readers without a class last");
    let grade_3 = &groups[1];
    assert_eq!(grade_3.books(), 3);
    let readers: Vec<_> = grade_3.readers.iter().map(|reader| reader.name.as_str()).collect();
    assert_eq!(readers, ["张伟", "王小明"], "by name");
    let wang: Vec<_> = grade_3.readers[1].books.iter().map(|book| book.due_date.as_str()).collect();
    assert_eq!(wang, ["2026-11-20", "2026-12-01"], "longest overdue first");
    let others = &groups[2];
    assert_eq!(others.readers.len(), 2, "the teacher and the reader who could not be read");
    assert!(others.readers.iter().any(|reader| reader.name.is_empty()));
    assert!(by_homeroom(Vec::new()).is_empty());
}

#[test]
fn two_readers_of_one_name_stay_apart() {
    let mut twins = rows(Lang::ZhCn, true);
    twins[3].reader = "王小明".to_owned();
    let groups = by_homeroom(twins);
    assert_eq!(groups[1].readers.len(), 2);
    assert!(groups[1].readers.iter().all(|reader| reader.name == "王小明"));
}

#[test]
fn class_choices_name_the_year_only_when_needed() {
    let choices = ClassChoice::all(&classes(), "c32");
    assert_eq!(choices[1], ClassChoice { id: "c32".into(), name: "三年级(2)班".into(), selected: true });
    let mut two_years = classes();
    two_years[0].school_year = "2025-2026".to_owned();
    assert_eq!(ClassChoice::all(&two_years, "")[0].name, "一年级(1)班 (2025-2026)");
    assert!(ClassChoice::all(&[], "").is_empty());
}

#[test]
fn the_index_links_every_list() {
    for lang in Lang::ALL {
        let page =
            IndexPage { shell: shell(lang), errors: Vec::new(), school: "徐汇区实验小学".to_owned() };
        let html = page.render().unwrap();
        check_page(&html, lang);
        for href in [
            "/lists/overdue",
            "/lists/due-soon",
            "/lists/homeroom?kind=overdue",
            "/lists/pull",
            "/lists/hold-shelf",
            "/lists/transits",
        ] {
            assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
        }
        for id in ["lists.title", "lists.overdue.title", "lists.pull.title", "lists.transits.title"] {
            assert!(html.contains(&html_of(text(lang, id))), "{id}");
        }
    }
    let html = IndexPage { shell: shell(Lang::ZhCn), errors: Vec::new(), school: "实验小学".to_owned() }
        .render()
        .unwrap();
    assert!(html.contains("逾期图书") && html.contains("即将到期") && html.contains("按班级打印"));
    assert!(html.contains("待取预约") && html.contains("在途图书"));
}

#[test]
fn the_overdue_list_shows_each_loan_in_both_languages() {
    for lang in Lang::ALL {
        let page = OverduePage { shell: shell(lang), errors: Vec::new(), list: list(lang, rows(lang, true)) };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(print_button(&html));
        for seen in ["王小明", "三年级(2)班", "小王子", "XH-000123", "Charlotte&#39;s Web &#60;2&#62;"]
        {
            assert!(html.contains(seen), "{seen}");
        }
        assert!(html.contains(&format::day(lang, "2026-12-01")));
        assert!(
            html.contains(&html_of(text(lang, "lists.unknown_reader"))),
            "a reader without a name still shows"
        );
        assert!(html.contains(&html_of(text(lang, "lists.count")).replace("{count}", "6")));
        assert!(
            html.contains(
                &html_of(text(lang, "lists.school_day"))
                    .replace("{school}", "徐汇区实验小学")
                    .replace("{day}", &format::day(lang, "2026-12-21"))
            )
        );
        assert!(html.contains(r#"<form class="lists-filter" method="get" action="/lists/overdue">"#));
        assert!(html.contains(r#"<label for="class">"#));
        assert!(html.contains(&html_of(text(lang, "lists.col.overdue_days"))));
        assert!(html.contains(r#"href="/lists/homeroom?kind=overdue""#));
        assert!(
            !html.contains("error-summary") && !html.contains(&html_of(text(lang, "lists.overdue.empty")))
        );
    }
    let html = OverduePage {
        shell: shell(Lang::ZhCn),
        errors: Vec::new(),
        list: list(Lang::ZhCn, rows(Lang::ZhCn, true)),
    }
    .render()
    .unwrap();
    assert!(html.contains("逾期图书") && html.contains("20 天") && html.contains("打印"));
}

#[test]
fn an_empty_list_says_so_kindly() {
    for lang in Lang::ALL {
        let page = OverduePage { shell: shell(lang), errors: Vec::new(), list: list(lang, Vec::new()) };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(&html_of(text(lang, "lists.overdue.empty"))));
        assert!(!html.contains("<table"));
        let mut one_class = list(lang, Vec::new());
        one_class.class = "c32".to_owned();
        one_class.class_name = "三年级(2)班".to_owned();
        one_class.classes = ClassChoice::all(&classes(), "c32");
        let html = OverduePage { shell: shell(lang), errors: Vec::new(), list: one_class }.render().unwrap();
        assert!(html.contains(&html_of(text(lang, "lists.overdue.empty_class"))));
        assert!(html.contains(r#"<option value="c32" selected>三年级(2)班</option>"#));
        assert!(html.contains("kind=overdue&amp;class=c32"));
    }
    assert_eq!(text(Lang::En, "lists.overdue.empty"), "No overdue books.");
}

#[test]
fn a_failed_or_cut_list_says_why() {
    for lang in Lang::ALL {
        let mut failed = list(lang, Vec::new());
        failed.head.loaded = false;
        let errors = vec![FieldMessage::summary(text(lang, "error.unavailable"))];
        let html = OverduePage { shell: shell(lang), errors, list: failed }.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains("error-summary") && html.contains(&html_of(text(lang, "error.unavailable"))));
        assert!(
            !html.contains(&html_of(text(lang, "lists.overdue.empty"))),
            "no 'nothing overdue' when unknown"
        );
        let mut cut = list(lang, rows(lang, true));
        cut.head.cut = true;
        let html = OverduePage { shell: shell(lang), errors: Vec::new(), list: cut }.render().unwrap();
        assert!(html.contains(&html_of(text(lang, "lists.cut")).replace("{count}", "2000")));
    }
}

#[test]
fn the_due_soon_list_keeps_the_days_typed() {
    for lang in Lang::ALL {
        let page = DueSoonPage {
            shell: shell(lang),
            errors: Vec::new(),
            list: list(lang, rows(lang, false)),
            days: "3".to_owned(),
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(print_button(&html));
        assert!(html.contains(&html_of(text(lang, "lists.due_soon.caption")).replace("{days}", "3")));
        assert!(
            html.contains(r#"<label for="days">"#) && html.contains(r#"name="days" type="text" value="3""#)
        );
        assert!(html.contains(r#"href="/lists/homeroom?kind=due-soon&amp;days=3""#));
        assert!(html.contains(&html_of(text(lang, "lists.col.when"))));

        let mut empty = list(lang, Vec::new());
        empty.head.loaded = true;
        let page = DueSoonPage { shell: shell(lang), errors: Vec::new(), list: empty, days: "7".to_owned() };
        let html = page.render().unwrap();
        assert!(html.contains(&html_of(text(lang, "lists.due_soon.empty")).replace("{days}", "7")));
        let mut one = list(lang, rows(lang, false));
        one.rows.truncate(1);
        let page = DueSoonPage { shell: shell(lang), errors: Vec::new(), list: one, days: "1".to_owned() };
        let html = page.render().unwrap();
        assert!(html.contains(&html_of(text(lang, "lists.count_one"))));
        assert!(html.contains(&html_of(text(lang, "lists.due_soon.caption_one"))));

        let mut refused = list(lang, Vec::new());
        refused.head.loaded = false;
        let errors = vec![FieldMessage::field("days", text(lang, "lists.days_invalid"))];
        let page = DueSoonPage { shell: shell(lang), errors, list: refused, days: "99<".to_owned() };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(r##"<a href="#days">"##), "in the summary");
        assert!(html.contains(r#"<p class="error-message" id="days-error">"#), "next to the field");
        assert!(html.contains(r#"value="99&#60;""#) && html.contains("aria-invalid=\"true\" autofocus"));
        assert!(!html.contains("/lists/homeroom?"), "no link with a bad number");
    }
}

#[test]
fn the_homeroom_list_prints_one_section_per_class() {
    for lang in Lang::ALL {
        for due_soon in [false, true] {
            let rows = rows(lang, !due_soon);
            let page = HomeroomPage {
                shell: shell(lang),
                errors: Vec::new(),
                groups: by_homeroom(rows.clone()),
                list: list(lang, rows),
                due_soon,
                days: "3".to_owned(),
            };
            let html = page.render().unwrap();
            check_page(&html, lang);
            assert!(print_button(&html));
            assert_eq!(html.matches(r#"<section class="lists-homeroom""#).count(), 3);
            assert!(html.contains("徐汇区实验小学 一年级(1)班"));
            assert!(html.contains("徐汇区实验小学 三年级(2)班"));
            assert!(html.contains(&format!("徐汇区实验小学 {}", text(lang, "lists.homeroom.no_class"))));
            assert!(html.contains(r#"<th scope="rowgroup" rowspan="2">王小明</th>"#));
            assert_eq!(html.matches(&format!(">{}<", format::day(lang, "2026-12-21"))).count(), 3);
            let note = if due_soon {
                text(lang, "lists.homeroom.due_soon_note").replace("{days}", "3")
            } else {
                text(lang, "lists.homeroom.overdue_note").to_owned()
            };
            assert_eq!(html.matches(&note).count(), 3);
            assert!(html.contains(r#"<option value="due-soon" selected>"#) == due_soon);
        }
        let page = HomeroomPage {
            shell: shell(lang),
            errors: Vec::new(),
            groups: Vec::new(),
            list: list(lang, Vec::new()),
            due_soon: false,
            days: "3".to_owned(),
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(&html_of(text(lang, "lists.overdue.empty"))));
    }
}

#[test]
fn the_pull_list_shows_where_each_book_stands() {
    for lang in Lang::ALL {
        let rows = vec![
            PullRow {
                location: "二楼儿童阅览室".to_owned(),
                call_number: "I287.45/C12".to_owned(),
                title: "草房子".to_owned(),
                barcode: "XH-000456".to_owned(),
                pickup: "徐汇区实验小学".to_owned(),
            },
            PullRow {
                location: "二楼儿童阅览室".to_owned(),
                call_number: "I565.88/S21".to_owned(),
                title: "小王子".to_owned(),
                barcode: "XH-000123".to_owned(),
                pickup: "徐汇区第二中学".to_owned(),
            },
        ];
        let page = PullPage { shell: shell(lang), errors: Vec::new(), head: head(lang), rows };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(print_button(&html));
        for seen in ["二楼儿童阅览室", "I287.45/C12", "草房子", "XH-000123", "徐汇区第二中学"]
        {
            assert!(html.contains(seen), "{seen}");
        }
        for id in ["lists.col.location", "lists.col.call_number", "lists.col.pickup", "lists.pull.intro"] {
            assert!(html.contains(&html_of(text(lang, id))), "{id}");
        }
        let page = PullPage { shell: shell(lang), errors: Vec::new(), head: head(lang), rows: Vec::new() };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(&html_of(text(lang, "lists.pull.empty"))));
    }
}

#[test]
fn the_transits_list_has_both_directions() {
    for lang in Lang::ALL {
        let row = |title: &str, school: &str, reason: &str| TransitRow {
            title: title.to_owned(),
            barcode: "XH-000777".to_owned(),
            school: school.to_owned(),
            since: "12月20日 周日 15:40".to_owned(),
            reason: text(lang, reason).to_owned(),
        };
        let page = TransitsPage {
            shell: shell(lang),
            errors: Vec::new(),
            head: head(lang),
            incoming: vec![row("草房子", "徐汇区第二中学", "lists.transits.for_hold")],
            outgoing: vec![row("小王子", "徐汇区第三小学", "lists.transits.home")],
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(print_button(&html));
        assert!(html.contains(r#"id="incoming""#) && html.contains(r#"id="outgoing""#));
        for id in [
            "lists.transits.incoming",
            "lists.transits.outgoing",
            "lists.col.from",
            "lists.col.to",
            "lists.transits.for_hold",
            "lists.transits.home",
            "lists.transits.incoming_hint",
        ] {
            assert!(html.contains(&html_of(text(lang, id))), "{id}");
        }
        assert!(html.contains("徐汇区第二中学") && html.contains("12月20日 周日 15:40"));
        let page = TransitsPage {
            shell: shell(lang),
            errors: Vec::new(),
            head: head(lang),
            incoming: Vec::new(),
            outgoing: Vec::new(),
        };
        let html = page.render().unwrap();
        assert!(html.contains(&html_of(text(lang, "lists.transits.incoming_empty"))));
        assert!(html.contains(&html_of(text(lang, "lists.transits.outgoing_empty"))));
    }
}

#[test]
fn the_print_stylesheet_breaks_pages_between_classes() {
    let css = include_str!("../../../assets/css/lists.css");
    assert!(css.contains("@media print"));
    assert!(css.contains(".lists-homeroom+.lists-homeroom{break-before:page}"));
    assert!(css.contains("size:A4"));
    assert!(css.len() < 6 * 1024, "lists.css has {} bytes", css.len());
}
