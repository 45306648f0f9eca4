//! The kiosk's screens rendered in both languages: words from the
//! catalogue, yes and no told apart by more than colour, every POST form
//! with its CSRF token, the script and styles as files, and no way out to
//! a staff page.

use askama::Template;

use super::views::testing::shell;
use super::views::{
    BorrowPage, DeviceChoice, FinishPage, LoanLine, Outcome, PinPage, ReturnLine, ReturnsPage, SetupPage,
    WelcomePage,
};
use crate::pages::i18n::{Lang, format, text};

/// What every kiosk screen must be.
fn check_screen(html: &str, lang: Lang) {
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains(&format!("<html lang=\"{}\">", lang.html_lang())));
    assert_eq!(html.matches("<script").count(), 1, "one script, a file");
    assert!(html.contains(r#"<script src="/assets/kiosk.js" defer></script>"#));
    assert!(html.contains(r#"<link rel="stylesheet" href="/assets/kiosk.css">"#));
    assert!(!html.contains("style=") && !html.contains("<style"), "inline style");
    assert!(!html.contains(" onclick=") && !html.contains(" onsubmit="), "inline handler");
    let posts = html.matches(r#"method="post""#).count();
    let tokens = html.matches(r#"<input type="hidden" name="csrf" value="csrf-token">"#).count();
    assert_eq!(posts, tokens, "every POST form carries the CSRF token");
    assert!(html.contains(r#"action="/kiosk/language""#));
    for staff in [r#"href="/""#, r#"href="/desk"#, r#"href="/returns"#, r#"action="/signout""#] {
        assert!(!html.contains(staff), "a way out of the kiosk: {staff}");
    }
    assert!(html.matches(" autofocus").count() <= 1, "at most one autofocus");
    assert!(html.contains(text(lang, "language.en")));
}

fn loans() -> Vec<LoanLine> {
    vec![
        LoanLine {
            id: "l-1".into(), title: "草房子".into(), due: "12月22日 周二".into(), overdue: false
        },
        LoanLine {
            id: "l-2".into(), title: "青铜葵花".into(), due: "12月1日 周二".into(), overdue: true
        },
    ]
}

#[test]
fn the_welcome_screen_asks_for_the_card_and_offers_return_mode() {
    for lang in Lang::ALL {
        for card_only in [false, true] {
            let page = WelcomePage {
                shell: shell(lang, "welcome", false),
                notice: Some(text(lang, "kiosk.welcome.bye_idle").to_owned()),
                outcome: None,
                card_only,
            };
            let html = page.render().unwrap();
            check_screen(&html, lang);
            assert!(html.contains(r#"action="/kiosk/card""#) && html.contains(r#"href="/kiosk/returns""#));
            assert!(html.contains(text(lang, "kiosk.welcome.scan")));
            assert!(html.contains(text(lang, "kiosk.welcome.bye_idle")));
            assert_eq!(html.contains(text(lang, "kiosk.welcome.step_pin")), !card_only);
            // The start waits for the next reader: no reload, no idle sign-out form.
            assert!(!html.contains("http-equiv=\"refresh\"") && !html.contains("kiosk-idle-signout"));
        }
    }
}

#[test]
fn yes_and_no_differ_in_shape_words_and_sound() {
    for lang in Lang::ALL {
        let mut page = BorrowPage {
            shell: shell(lang, "borrow", true),
            name: "曾琪".into(),
            outcome: Some(Outcome::yes(
                text(lang, "kiosk.borrow.lent").into(),
                "草房子".into(),
                vec![format(lang, "kiosk.borrow.due", &[("due", "12月22日 周二")])],
            )),
            loans: loans(),
            holds_ready: vec![format(lang, "kiosk.borrow.hold_ready_line", &[("title", "细米")])],
            blocks: Vec::new(),
            request_id: "req-1".into(),
        };
        let yes = page.render().unwrap();
        check_screen(&yes, lang);
        assert!(yes.contains(r#"data-outcome="yes""#) && yes.contains("result-yes") && yes.contains('✓'));
        assert!(yes.contains(&format(lang, "kiosk.book", &[("title", "草房子")])));
        assert!(yes.contains(text(lang, "kiosk.borrow.overdue")), "the late book says so");
        assert!(yes.contains(text(lang, "kiosk.borrow.holds_ready")));
        assert!(yes.contains(r#"action="/kiosk/renew""#) && yes.contains(r#"value="l-1""#));
        assert!(!yes.contains(r#"value="l-2""#), "a late book is not offered for renewal");
        assert!(
            yes.contains(r#"action="/kiosk/finish""#) && yes.contains(text(lang, "kiosk.borrow.done_hint"))
        );
        // Signed in: the idle sign-out form and, without the script, a reload.
        assert!(yes.contains(r#"id="kiosk-idle-signout""#));
        assert!(yes.contains(
            r#"<noscript><meta http-equiv="refresh" content="31;url=/kiosk?bye=idle"></noscript>"#
        ));
        page.outcome = Some(Outcome::no(
            text(lang, "kiosk.borrow.refused").into(),
            String::new(),
            vec![text(lang, "kiosk.reason.COPY_ALREADY_ON_LOAN").into()],
        ));
        let no = page.render().unwrap();
        assert!(no.contains(r#"data-outcome="no""#) && no.contains("result-no") && no.contains('✗'));
        assert!(no.contains(r#"role="alert""#));
        assert!(no.contains(text(lang, "kiosk.reason.COPY_ALREADY_ON_LOAN")));
    }
}

#[test]
fn the_pin_pad_the_receipt_and_return_mode_render() {
    for lang in Lang::ALL {
        let pin = PinPage {
            shell: shell(lang, "pin", false),
            card: "R100020".into(),
            error: Some(text(lang, "kiosk.pin.wrong").into()),
        };
        let html = pin.render().unwrap();
        check_screen(&html, lang);
        assert!(html.contains(r#"name="card" value="R100020""#) && html.contains(r#"inputmode="numeric""#));
        assert_eq!(html.matches("data-digit=").count(), 10);
        assert!(html.contains(text(lang, "kiosk.pin.wrong")));

        let finish = FinishPage {
            shell: shell(lang, "finish", false),
            name: "曾琪".into(),
            loans: loans(),
            printer: true,
            printed: "2026年12月7日 18:05".into(),
        };
        let html = finish.render().unwrap();
        check_screen(&html, lang);
        assert!(html.contains("kiosk-receipt") && html.contains("data-print"));
        assert!(html.contains(text(lang, "kiosk.finish.receipt_title")));
        let no_paper = FinishPage { printer: false, ..finish }.render().unwrap();
        assert!(!no_paper.contains("data-print") && no_paper.contains(text(lang, "kiosk.finish.no_paper")));

        let line = ReturnLine {
            shell: shell(lang, "returns", false),
            outcome: Outcome::yes(text(lang, "kiosk.returns.to_shelf").into(), "草房子".into(), Vec::new()),
            place: "box",
        };
        let page = ReturnsPage {
            shell: shell(lang, "returns", false),
            lines: vec![line],
            request_id: "req-2".into(),
        };
        let html = page.render().unwrap();
        check_screen(&html, lang);
        assert!(html.contains(r#"action="/kiosk/returns/scan""#) && html.contains("kiosk-return-box"));
        assert!(html.contains(text(lang, "kiosk.returns.to_shelf")));
        assert!(html.contains(r#"name="back" value="/kiosk/returns""#));
    }
}

#[test]
fn the_set_up_lists_kiosks_for_staff_and_says_what_went_wrong() {
    for lang in Lang::ALL {
        let page = SetupPage {
            shell: shell(lang, "setup", false),
            staff: true,
            devices: vec![DeviceChoice { id: "d-1".into(), label: "图书馆门口自助机".into() }],
            device_id: "d-1".into(),
            printer: true,
            current: None,
            errors: vec![("key".into(), text(lang, "kiosk.setup.invalid").into())],
        };
        let html = page.render().unwrap();
        check_screen(&html, lang);
        assert!(html.contains(r#"<option value="d-1" selected>图书馆门口自助机</option>"#), "{html}");
        assert!(html.contains(text(lang, "kiosk.setup.invalid")) && html.contains(r##"href="#key""##));
        assert!(html.contains(r#"type="password""#) && html.contains(" checked"));
        let anonymous = SetupPage { staff: false, devices: Vec::new(), errors: Vec::new(), ..page };
        let html = anonymous.render().unwrap();
        assert!(html.contains(r#"href="/signin?next=/kiosk/setup""#) && !html.contains("<select"));
    }
}

#[test]
fn kiosk_refusals_are_the_shorter_sentences() {
    use lectern_core::refusal::{Reason, Refusal};
    let status = tonic::Status::from(Refusal::new(Reason::CopyAlreadyOnLoan, "on loan"));
    assert_eq!(
        super::refusal_text(Lang::ZhCn, &status),
        text(Lang::ZhCn, "kiosk.reason.COPY_ALREADY_ON_LOAN")
    );
    // A reason without a kiosk sentence: the pages' one.
    let status = tonic::Status::from(Refusal::new(Reason::HoldLimitReached, "limit"));
    assert_eq!(super::refusal_text(Lang::En, &status), text(Lang::En, "reason.HOLD_LIMIT_REACHED"));
    assert_eq!(
        super::borrow::kiosk_reason(Lang::ZhCn, "NO_SUCH_REASON"),
        text(Lang::ZhCn, "reason.REASON_UNSPECIFIED")
    );
}
