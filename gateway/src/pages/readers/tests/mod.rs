//! The readers screens' templates rendered in both languages, checked for
//! what a user sees and the house rules; the typed-field checks.

use askama::Template;
use tonic::Status;

use super::list::{Found, ReadersPage};
use super::*;
use crate::pages::i18n::text;
use crate::pages::school::DeskBar;
use crate::pages::views::Shell;
use crate::pages::views::testing::shell;

/// The frame of a desk screen at the readers section.
pub fn desk_shell(lang: Lang) -> Shell {
    let desk = DeskBar {
        section: Section::Readers,
        school: "徐汇区实验小学".to_owned(),
        can_change_school: true,
        who: "xh-librarian".to_owned(),
    };
    Shell { signed_in: true, desk: Some(desk), ..shell(lang) }
}

/// The house rules of every page, and what every readers screen shows:
/// the desk's bar with the readers section, and no message id in place of
/// a missing text ("readers.list.title").
pub fn check_page(html: &str, lang: Lang) {
    crate::pages::views::testing::check_page(html, lang);
    assert!(html.contains(text(lang, "nav.readers")));
    for (at, _) in html.match_indices("readers.") {
        let next = html[at + "readers.".len()..].chars().next().unwrap_or(' ');
        assert!(
            !next.is_ascii_lowercase(),
            "a message id on screen: {}",
            &html[at..(at + 40).min(html.len())]
        );
    }
}

/// `text` as a page shows it in its HTML (escaped).
pub fn shown(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('"', "&#34;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('\'', "&#39;")
}

fn class_choices() -> Vec<Choice> {
    vec![
        Choice { value: "c1".to_owned(), label: "三年级(1)班".to_owned() },
        Choice { value: "c2".to_owned(), label: "三年级(2)班".to_owned() },
    ]
}

fn page(lang: Lang) -> ReadersPage {
    ReadersPage {
        shell: desk_shell(lang),
        errors: Vec::new(),
        q: "姚".to_owned(),
        class: "c1".to_owned(),
        classes: class_choices(),
        searched: true,
        found: vec![
            Found {
                href: "/readers/r1".to_owned(),
                name: "姚欣怡".to_owned(),
                class: "三年级(1)班".to_owned(),
                card: "R100001".to_owned(),
                category: "学生".to_owned(),
                standing: vec![Standing { text: text(lang, "readers.state.active").to_owned(), ok: true }],
            },
            Found {
                href: "/readers/r2".to_owned(),
                name: "姚<b>".to_owned(),
                class: "三年级(1)班".to_owned(),
                card: "R100009".to_owned(),
                category: "学生".to_owned(),
                standing: vec![Standing { text: text(lang, "readers.state.blocked").to_owned(), ok: false }],
            },
        ],
        more: "/readers?q=%E5%A7%9A&class=c1&page=abc".to_owned(),
        first: String::new(),
    }
}

#[test]
fn the_results_show_as_a_table_in_both_languages() {
    for lang in Lang::ALL {
        let html = page(lang).render().unwrap();
        check_page(&html, lang);
        for id in [
            "readers.list.title",
            "readers.list.search",
            "readers.list.submit",
            "readers.list.add",
            "readers.list.class_all",
            "readers.name",
            "readers.card",
            "readers.status",
            "readers.list.more",
        ] {
            assert!(html.contains(&shown(text(lang, id))), "{id} in {}", lang.tag());
        }
        assert!(html.contains(r#"<a href="/readers/r1">姚欣怡</a>"#), "{html}");
        assert!(html.contains("姚&#60;b&#62;"), "escaped");
        assert!(html.contains(r#"<th scope="col">"#));
        assert!(html.contains(r#"<option value="c1" selected>三年级(1)班</option>"#));
        assert!(html.contains(r#"name="q" type="search" value="姚""#));
        assert!(html.contains(" autofocus>"), "the search box takes the focus");
        assert!(html.contains(r#"href="/readers?q=%E5%A7%9A&#38;class=c1&#38;page=abc""#), "{html}");
        assert!(html.contains(r#"href="/readers/new""#));
        assert!(html.contains("standing-bad"));
    }
}

#[test]
fn an_empty_result_and_a_fresh_page_say_what_to_do() {
    for lang in Lang::ALL {
        let empty = ReadersPage { found: Vec::new(), more: String::new(), ..page(lang) };
        let html = empty.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(&shown(text(lang, "readers.list.empty"))));
        assert!(!html.contains("<table"));
        let fresh = ReadersPage { searched: false, q: String::new(), class: String::new(), ..empty };
        let html = fresh.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(&shown(text(lang, "readers.list.start"))));
        assert!(!html.contains(&shown(text(lang, "readers.list.empty"))));
    }
}

#[test]
fn a_bad_search_is_reported_next_to_the_box() {
    let mut bad = page(Lang::ZhCn);
    bad.searched = false;
    bad.errors = vec![FieldMessage::field("q", text(Lang::ZhCn, "readers.list.query_too_long"))];
    let html = bad.render().unwrap();
    check_page(&html, Lang::ZhCn);
    assert!(html.contains(r##"<a href="#q">"##));
    assert!(html.contains(r#"aria-invalid="true""#));
}

#[test]
fn request_ids_are_uuids_and_kept_only_when_the_outcome_is_unknown() {
    let id = new_request_id();
    assert_eq!(id.len(), 36);
    assert_eq!(id.as_bytes()[14], b'4');
    assert_ne!(id, new_request_id());
    assert_eq!(request_id_or_new("abc"), "abc");
    assert_eq!(request_id_or_new("a b").len(), 36);
    assert_eq!(request_id_after(&Status::unavailable("down"), "abc"), "abc");
    assert_ne!(request_id_after(&Status::failed_precondition("no"), "abc"), "abc");
}

#[test]
fn typed_fields_are_checked_as_the_services_check_them() {
    assert_eq!(check_text("  ", 10, true, false), Some(Problem::Missing));
    assert_eq!(check_text("", 10, false, false), None);
    assert_eq!(check_text(&"字".repeat(101), 100, true, false), Some(Problem::TooLong));
    assert_eq!(check_text(&"字".repeat(100), 100, true, false), None);
    assert_eq!(check_text("a\tb", 10, true, true), Some(Problem::Control));
    assert_eq!(check_text("a\r\nb", 10, true, true), None);
    assert_eq!(check_text("a\nb", 10, true, false), Some(Problem::Control));
    assert!(is_barcode(" R100001 "));
    assert!(!is_barcode("R 1") && !is_barcode("证1") && !is_barcode(""));
    assert!(is_day_or_empty("") && is_day_or_empty("2027-07-31"));
    assert!(!is_day_or_empty("2027-02-30") && !is_day_or_empty("31/07/2027"));
    assert!(is_number_or_empty("") && is_number_or_empty("G3101-01"));
    assert!(!is_number_or_empty("12 34") && !is_number_or_empty(&"9".repeat(33)));
}

#[test]
fn the_standing_says_what_the_record_says() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 21).unwrap();
    let mut reader = Reader { status: ReaderStatus::Active as i32, ..Reader::default() };
    assert_eq!(standing(Lang::ZhCn, &reader, today)[0].text, "借书证有效");
    reader.expires_on = "2026-12-20".to_owned();
    reader.blocks.push(Default::default());
    let words: Vec<_> = standing(Lang::En, &reader, today).into_iter().map(|word| word.text).collect();
    assert_eq!(words, [text(Lang::En, "readers.state.expired"), text(Lang::En, "readers.state.blocked")]);
    let categories = vec![ReaderCategory {
        code: "student".to_owned(),
        name_zh: "学生".to_owned(),
        name_en: "Student".to_owned(),
        history_rule: None,
    }];
    assert_eq!(category_name(Lang::ZhCn, &categories, "student"), "学生");
    assert_eq!(category_name(Lang::En, &categories, "student"), "Student");
    assert_eq!(category_name(Lang::En, &categories, "other"), "other");
}

mod form;
mod page;
