//! The desk's screens as a librarian sees them, in both languages.

use askama::Template;

use super::*;
use crate::pages::i18n::{Lang, text};
use crate::pages::school::DeskBar;
use crate::pages::views::testing::{check_page, shell};

fn desk_shell(lang: Lang) -> crate::pages::views::Shell {
    let mut shell = shell(lang);
    shell.signed_in = true;
    shell.desk = Some(DeskBar {
        section: Section::Desk,
        school: "徐汇区实验小学".to_owned(),
        can_change_school: true,
        who: "xh-librarian".to_owned(),
    });
    shell
}

fn reader() -> ReaderView {
    ReaderView {
        id: "r-1".to_owned(),
        card: "R100001".to_owned(),
        name: "姚欣怡".to_owned(),
        class_name: "三年级(1)班".to_owned(),
        category: "学生".to_owned(),
        expires: "7月31日 周六".to_owned(),
        blocks: vec![text(Lang::ZhCn, "reason.READER_HAS_OVERDUE").to_owned()],
        loans: vec![LoanLine {
            id: "l-1".to_owned(),
            title: "草房子".to_owned(),
            barcode: "XH-000123".to_owned(),
            due: "12月21日 周一".to_owned(),
            overdue: true,
        }],
        holds_ready: vec!["青铜葵花 —— 在徐汇区实验小学的预约书架上".to_owned()],
        holds_waiting: 1,
        fees: vec![FeeLine {
            what: "超期罚款".to_owned(),
            title: "草房子".to_owned(),
            outstanding: "¥1.50".to_owned(),
        }],
        balance: "¥1.50".to_owned(),
        balance_plain: "1.50".to_owned(),
    }
}

fn page(lang: Lang, panel: DeskPanel) -> String {
    DeskPage { shell: desk_shell(lang), errors: Vec::new(), request_id: "req-1".to_owned(), panel }
        .render()
        .unwrap()
}

#[test]
fn the_empty_desk_asks_for_a_card() {
    for lang in Lang::ALL {
        let html = page(lang, DeskPanel::new(desk_shell(lang)));
        check_page(&html, lang);
        assert!(html.contains(text(lang, "desk.scan_label")));
        assert!(html.contains(text(lang, "desk.empty")));
        assert!(html.contains(r#"data-scan-box autofocus>"#), "{html}");
        assert!(html.contains(r#"data-fragment="desk-panel""#));
        assert!(html.contains("徐汇区实验小学") && html.contains(text(lang, "nav.change_school")));
        assert!(html.contains(r#"<a href="/desk" aria-current="page">"#), "the bar marks the desk");
        assert!(!html.contains(r#"name="reader""#), "no reader yet");
    }
}

#[test]
fn a_reader_shows_with_loans_holds_fees_and_blocks() {
    for lang in Lang::ALL {
        let mut panel = DeskPanel::new(desk_shell(lang));
        panel.reader = Some(reader());
        panel.outcome =
            Some(Outcome::ok(format(lang, "desk.lent", &[("title", "草房子")]), vec!["x".to_owned()]));
        let html = page(lang, panel);
        check_page(&html, lang);
        for shown in ["姚欣怡", "三年级(1)班", "R100001", "草房子", "XH-000123", "¥1.50", "青铜葵花"]
        {
            assert!(html.contains(shown), "{shown}");
        }
        assert!(html.contains(text(lang, "desk.scan_label")));
        assert!(html.contains(text(lang, "desk.blocks_title")));
        assert!(html.contains(r#"<input type="hidden" name="reader" value="r-1" form="scan-form">"#));
        assert!(html.contains(r#"<input type="hidden" name="card" value="R100001" form="scan-form">"#));
        assert!(html.contains(r#"data-outcome="ok""#) && html.contains("outcome-ok"));
        assert!(html.contains(r#"action="/desk/renew""#) && html.contains(r#"action="/desk/renew-all""#));
        assert!(html.contains(r#"action="/desk/pay""#) && html.contains(r#"value="1.50""#));
        assert!(html.contains(r#"href="/slips/receipt?reader=r-1""#));
        assert!(html.contains(r#"href="/readers/r-1/card""#));
        assert!(html.contains(r#"<tr class="overdue">"#));
    }
}

#[test]
fn a_refusal_offers_the_override_to_a_librarian_only() {
    for lang in Lang::ALL {
        for may_override in [true, false] {
            let mut panel = DeskPanel::new(desk_shell(lang));
            panel.reader = Some(reader());
            panel.outcome =
                Some(Outcome::refused(text(lang, "reason.READER_HAS_OVERDUE").to_owned(), Vec::new()));
            panel.blocked =
                Some(Blocked { copy_barcode: "XH-000200".to_owned(), may_override, reason_error: None });
            let html = page(lang, panel);
            check_page(&html, lang);
            assert!(html.contains(r#"data-outcome="refused""#) && html.contains("outcome-refused"));
            assert!(html.contains(r#"role="alert""#));
            assert_eq!(html.contains(r#"action="/desk/override""#), may_override);
            let submit = format(lang, "desk.override_submit", &[("barcode", "XH-000200")]);
            assert_eq!(html.contains(&submit), may_override);
            assert_eq!(html.contains(text(lang, "desk.ask_librarian")), !may_override);
            if may_override {
                assert!(html.contains(r#"name="copy" value="XH-000200""#));
                // The scan box keeps the focus: the next scan must not land in
                // the reason box and lend the refused book past the block.
                assert!(!html.contains("data-autofocus"));
            }
        }
    }
}

#[test]
fn the_panel_alone_is_what_the_script_swaps_in() {
    let mut panel = DeskPanel::new(desk_shell(Lang::En));
    panel.reader = Some(reader());
    let html = panel.render().unwrap();
    assert!(!html.contains("<html") && !html.contains("<nav"), "a fragment, not a page");
    assert!(html.contains("姚欣怡"));
    assert!(html.contains(r#"<input type="hidden" name="csrf" value="token-&#60;&#38;&#34;&#62;">"#));
}
