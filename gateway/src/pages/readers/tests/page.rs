//! The reader page.

use super::super::actions::Typed;
use super::super::bindings::{BindingLine, paper_choices};
use super::super::export::export_file_name;
use super::super::page::{BlockLine, ContactLine, Facts, Listing, LoanLine, NoteLine, ReaderPage, done_text};
use super::*;
use crate::pages::i18n::format;

fn listing<T>(lines: Vec<T>) -> Listing<T> {
    Listing { lines, failed: String::new(), not_allowed: false, more: false }
}

fn page(lang: Lang) -> ReaderPage {
    let t = |id: &str| text(lang, id).to_owned();
    ReaderPage {
        shell: desk_shell(lang),
        errors: Vec::new(),
        reader: Facts {
            path: "/readers/r1".to_owned(),
            id: "r1".to_owned(),
            name: "姚欣怡".to_owned(),
            class: "三年级(1)班".to_owned(),
            category: "学生".to_owned(),
            card: "R100001".to_owned(),
            number: "G3101012015".to_owned(),
            expires: "7月31日 周六".to_owned(),
            registered: "9月1日 周二".to_owned(),
            standing: vec![Standing { text: t("readers.state.blocked"), ok: false }],
            elsewhere: String::new(),
        },
        blocks: vec![BlockLine {
            id: "b1".to_owned(),
            reason: "弄坏了《草房子》，请先找图书管理员".to_owned(),
            ends: format(lang, "readers.block.until", &[("day", "12月31日 周四")]),
            placed: "12月1日 周二".to_owned(),
        }],
        loans: listing(vec![LoanLine {
            title: "草房子".to_owned(),
            barcode: "C200001".to_owned(),
            lent: "12月1日 周二".to_owned(),
            due: "12月15日 周二".to_owned(),
            returned: String::new(),
            marks: vec![Standing { text: t("readers.loans.overdue"), ok: false }],
        }]),
        history: listing(vec![LoanLine {
            title: "小王子".to_owned(),
            barcode: "C200002".to_owned(),
            lent: "11月2日 周一".to_owned(),
            due: "11月16日 周一".to_owned(),
            returned: "11月10日 周二".to_owned(),
            marks: Vec::new(),
        }]),
        history_rule: String::new(),
        notes: listing(vec![NoteLine {
            id: "n1".to_owned(),
            text: "借书证丢过两次，有事请联系妈妈".to_owned(),
            written: "12月2日 周三 10:05".to_owned(),
        }]),
        contacts: listing(vec![ContactLine {
            id: "k1".to_owned(),
            who: format(
                lang,
                "readers.contact.with_label",
                &[("who", &t("readers.contact.guardian")), ("label", "妈妈")],
            ),
            channel: t("readers.contact.phone"),
            value: "+8613800138000".to_owned(),
        }]),
        bindings: listing(vec![BindingLine {
            id: "w1".to_owned(),
            account: "微信 #3F9A".to_owned(),
            how: format!("{} · {}", t("readers.binding.guardian"), t("readers.binding.by_code")),
            contact: "ren.mama@example.cn".to_owned(),
            bound: format(lang, "readers.binding.bound", &[("day", "12月1日 周二")]),
            last: t("readers.binding.never_used"),
        }]),
        paper_choices: paper_choices(lang),
        who_choices: vec![Choice { value: "guardian".to_owned(), label: t("readers.contact.guardian") }],
        channel_choices: vec![Choice { value: "phone".to_owned(), label: t("readers.contact.phone") }],
        typed: Typed { block_request: "req-b".to_owned(), ..Typed::default() },
    }
}

#[test]
fn the_reader_page_shows_everything_in_both_languages() {
    for lang in Lang::ALL {
        let html = page(lang).render().unwrap();
        check_page(&html, lang);
        assert!(html.contains("<h1>姚欣怡</h1>"));
        for id in [
            "readers.page.lend",
            "readers.page.edit",
            "readers.page.pin",
            "readers.page.card",
            "readers.page.export",
            "readers.page.details",
            "readers.card",
            "readers.number",
            "readers.expires_on",
            "readers.block.title",
            "readers.block.lift",
            "readers.block.add_title",
            "readers.loans.title",
            "readers.loans.overdue",
            "readers.history.title",
            "readers.history.returned",
            "readers.note.title",
            "readers.note.add",
            "readers.contact.title",
            "readers.contact.guardian",
            "readers.contact.add",
            "readers.binding.title",
            "readers.binding.remove",
            "readers.binding.print_code",
            "readers.binding.never_used",
        ] {
            assert!(html.contains(&shown(text(lang, id))), "{id} in {}", lang.tag());
        }
        for content in [
            "弄坏了《草房子》",
            "草房子",
            "C200001",
            "小王子",
            "借书证丢过两次",
            "+8613800138000",
            "妈妈",
            "微信 #3F9A",
        ] {
            assert!(html.contains(content), "{content}");
        }
        assert!(html.contains(r#"href="/desk?reader=r1""#));
        for action in [
            r#"action="/readers/r1/blocks""#,
            r#"action="/readers/r1/blocks/b1/lift""#,
            r#"action="/readers/r1/notes""#,
            r#"action="/readers/r1/notes/n1/delete""#,
            r#"action="/readers/r1/contacts""#,
            r#"action="/readers/r1/contacts/k1/delete""#,
            r#"action="/readers/r1/bindings/w1/remove""#,
            r#"action="/readers/r1/binding-code""#,
        ] {
            assert!(html.contains(action), "{action}");
        }
        for link in ["/readers/r1/edit", "/readers/r1/pin", "/readers/r1/card", "/readers/r1/export"] {
            assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
        }
        assert!(html.contains(r#"name="block_request" value="req-b""#));
        assert!(html.contains(r#"type="date""#));
        assert!(!html.contains(" autofocus"), "nothing takes the focus on a fresh page");
        assert!(!html.contains("<details class=\"reader-add\" open"), "the add forms start closed");
    }
}

#[test]
fn empty_parts_say_so_and_the_history_rule_is_explained() {
    for lang in Lang::ALL {
        let rule = format(lang, "readers.history.rule_never", &[("category", "学生")]);
        let page = ReaderPage {
            blocks: Vec::new(),
            loans: listing(Vec::new()),
            history: listing(Vec::new()),
            history_rule: rule.clone(),
            notes: listing(Vec::new()),
            contacts: Listing { lines: Vec::new(), failed: String::new(), not_allowed: true, more: false },
            ..page(lang)
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        for id in ["readers.block.none", "readers.loans.none", "readers.history.none", "readers.note.none"] {
            assert!(html.contains(&shown(text(lang, id))), "{id}");
        }
        assert!(html.contains(&shown(&rule)), "{rule}");
        assert!(html.contains(&shown(text(lang, "readers.contact.not_allowed"))));
        assert!(!html.contains(r#"action="/readers/r1/contacts""#), "no contact form without contacts");
        assert!(!html.contains("<table"));
    }
}

#[test]
fn a_refused_form_keeps_what_was_typed_with_the_message_next_to_it() {
    let lang = Lang::ZhCn;
    let mut page = page(lang);
    page.loans.failed = text(lang, "error.unavailable").to_owned();
    page.loans.lines.clear();
    page.typed.contact_value = "wang.mama@example<cn>".to_owned();
    page.typed.contact_who = "guardian".to_owned();
    page.errors = vec![FieldMessage::field("contact_value", text(lang, "reason.CONTACT_ALREADY_EXISTS"))];
    let html = page.render().unwrap();
    check_page(&html, lang);
    assert!(html.contains(&shown(text(lang, "error.unavailable"))));
    assert!(html.contains(r##"<a href="#contact_value">"##));
    assert!(html.contains(r#"value="wang.mama@example&#60;cn&#62;""#));
    assert!(html.contains(r#"<option value="guardian" selected>"#));
    assert!(html.contains("<details class=\"reader-add\" open>"), "{html}");
    assert!(html.contains(r#"aria-invalid="true" autofocus>"#));
}

#[test]
fn notices_exports_and_names_are_safe() {
    assert_eq!(done_text(Lang::ZhCn, "pin").as_deref(), Some(text(Lang::ZhCn, "readers.done.pin")));
    assert_eq!(done_text(Lang::En, "<script>"), None);
    for done in
        ["created", "saved", "unchanged", "card", "block", "lifted", "note", "contact", "binding_removed"]
    {
        assert!(!done_text(Lang::En, done).unwrap().starts_with("readers."), "{done}");
    }
    assert_eq!(export_file_name("R100001"), "reader-R100001.json");
    assert_eq!(export_file_name("a\"b/c\\d"), "reader-a_b_c_d.json");
}

#[test]
fn a_reader_without_bindings_is_told_how_to_bind_and_may_still_get_a_code() {
    for lang in Lang::ALL {
        let page = ReaderPage { bindings: listing(Vec::new()), ..page(lang) };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(&shown(text(lang, "readers.binding.none"))));
        assert!(!html.contains("/bindings/"), "no remove button without bindings");
        assert!(html.contains(r#"action="/readers/r1/binding-code""#));
        assert!(html.contains(r#"<option value="58" selected>"#));
    }
}

#[test]
fn the_binding_code_slip_shows_the_code_the_card_the_last_day_and_the_steps() {
    use super::super::bindings::{BindingCodePage, grouped};
    use crate::pages::slips::Paper;
    for lang in Lang::ALL {
        for paper in Paper::ALL {
            let html = BindingCodePage {
                shell: desk_shell(lang),
                errors: Vec::new(),
                paper,
                back: "/readers/r1".to_owned(),
                school: "徐汇区实验小学".to_owned(),
                name: "任小雨".to_owned(),
                class: "三年级(2)班".to_owned(),
                card: "R100002".to_owned(),
                code: grouped("31415926"),
                expires: "12月21日 周一".to_owned(),
                printed: "12月7日 周一 09:30".to_owned(),
            }
            .render()
            .unwrap();
            check_page(&html, lang);
            assert!(html.contains(&format!(r#"<article class="slip binding-slip {}">"#, paper.class())));
            assert!(html.contains(r#"<p class="binding-code" id="binding-code">3141 5926</p>"#));
            for content in ["任小雨", "三年级(2)班", "R100002", "徐汇区实验小学"] {
                assert!(html.contains(content), "{content}");
            }
            let expires = format(lang, "readers.binding_code.expires", &[("day", "12月21日 周一")]);
            assert!(html.contains(&shown(&expires)));
            for id in [
                "readers.binding_code.title",
                "readers.binding_code.step_open",
                "readers.binding_code.step_guardian",
                "readers.binding_code.step_type",
                "readers.binding_code.step_contact",
                "readers.binding_code.keep",
                "readers.binding_code.once",
            ] {
                assert!(html.contains(&shown(text(lang, id))), "{id}");
            }
            assert!(html.contains("data-print"));
            assert!(html.contains(r#"href="/readers/r1""#));
        }
    }
}
