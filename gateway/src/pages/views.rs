//! The view models of the pages: one askama template struct per screen,
//! holding only what the screen shows, already in the visitor's language.
//! Handlers fill them from gRPC answers and the catalogue ([`super::i18n`]);
//! the templates in `gateway/templates/` take every word from the catalogue.
//!
//! Every page carries a [`Shell`], the data of the frame around it
//! (`layout.html`): language, CSRF token, the path the language switch
//! comes back to, whether someone is signed in, and a one-line notice.

use askama::Template;

use super::i18n::{Lang, Texts};

/// What the frame of every page needs.
#[derive(Debug, Clone, Default)]
pub struct Shell {
    /// The language of the page.
    pub lang: Lang,
    /// The CSRF token of the visitor's session (or of the anonymous visitor):
    /// in every POST form's hidden `csrf` field and in `<meta name="csrf-token">`.
    pub csrf: String,
    /// The path (and query) of this page, sent back by the language switch as
    /// `back`.
    pub path: String,
    /// Whether someone is signed in (the header then offers to sign out).
    pub signed_in: bool,
    /// A line at the top of the page about what just happened.
    pub notice: Option<Notice>,
    /// On the desk's screens: the bar with the screens and the school.
    pub desk: Option<super::school::DeskBar>,
}

impl Shell {
    /// The texts of the page's language; templates call it `t`.
    pub fn texts(&self) -> Texts {
        Texts::new(self.lang)
    }
}

/// A line at the top of a page about what just happened ("your password
/// has been changed"). Success and refusal differ in colour, icon and label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Whether it went well.
    pub kind: NoticeKind,
    /// What to say, in the page's language.
    pub text: String,
}

/// Whether a [`Notice`] reports a success or a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// It was done.
    Success,
    /// It was refused; the text says why and what to do.
    Refusal,
}

impl Notice {
    /// A notice that something was done.
    pub fn success(text: impl Into<String>) -> Self {
        Self { kind: NoticeKind::Success, text: text.into() }
    }

    /// A notice that something was refused.
    pub fn refusal(text: impl Into<String>) -> Self {
        Self { kind: NoticeKind::Refusal, text: text.into() }
    }

    /// The CSS class of the notice's look.
    pub fn class(&self) -> &'static str {
        match self.kind {
            NoticeKind::Success => "notice-success",
            NoticeKind::Refusal => "notice-refusal",
        }
    }

    /// The ARIA role: a refusal interrupts a screen reader, a success waits.
    pub fn role(&self) -> &'static str {
        match self.kind {
            NoticeKind::Success => "status",
            NoticeKind::Refusal => "alert",
        }
    }

    /// The message id of the label before the text ("Done: ").
    pub fn label_id(&self) -> &'static str {
        match self.kind {
            NoticeKind::Success => "notice.success",
            NoticeKind::Refusal => "notice.refusal",
        }
    }
}

/// One thing that went wrong with a form: shown in the error summary, and
/// next to its field when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMessage {
    /// The `id` of the input it is about (also its form field name); empty
    /// for a message about the whole form, shown in the summary only.
    pub field: String,
    /// What went wrong and what to do, in the page's language.
    pub text: String,
}

impl FieldMessage {
    /// A message about one field.
    pub fn field(field: impl Into<String>, text: impl Into<String>) -> Self {
        Self { field: field.into(), text: text.into() }
    }

    /// A message about the whole form.
    pub fn summary(text: impl Into<String>) -> Self {
        Self { field: String::new(), text: text.into() }
    }
}

/// Looks up the message of a field, for the templates.
pub trait FieldMessages {
    /// The message about `field`, if there is one (the first, if several).
    fn for_field(&self, field: &str) -> Option<&str>;
    /// The first field that has a message.
    fn first_field(&self) -> Option<&str>;
}

impl FieldMessages for [FieldMessage] {
    fn for_field(&self, field: &str) -> Option<&str> {
        self.iter().find(|message| message.field == field).map(|message| message.text.as_str())
    }

    fn first_field(&self) -> Option<&str> {
        self.iter().find(|message| !message.field.is_empty()).map(|message| message.field.as_str())
    }
}

/// Which sign-in form a [`SignInPage`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Which {
    /// Staff: username and password.
    #[default]
    Staff,
    /// Readers: library card and PIN.
    Reader,
}

/// `GET /signin` (and the answer to a failed `POST /signin/staff` or
/// `POST /signin/reader`). Fields: `username`, `password`, `card`, `pin`,
/// hidden `csrf` and `next`.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "signin.html")]
pub struct SignInPage {
    /// The frame.
    pub shell: Shell,
    /// What went wrong with the last attempt.
    pub errors: Vec<FieldMessage>,
    /// The username typed last (never the password).
    pub username: String,
    /// The card number typed or scanned last (never the PIN).
    pub card: String,
    /// The local path to go to after signing in.
    pub next: String,
    /// The form that was used last; it gets the focus.
    pub form: Which,
}

impl SignInPage {
    /// Whether `field` gets the focus: the first field with an error, else
    /// the first field of the form used last.
    pub fn autofocus(&self, field: &str) -> bool {
        let first = match self.form {
            Which::Staff => "username",
            Which::Reader => "card",
        };
        self.errors.first_field().unwrap_or(first) == field
    }
}

/// `GET /password`: change the password. Fields: `current_password`,
/// `new_password`, `new_password_again`, hidden `csrf`.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    /// The frame.
    pub shell: Shell,
    /// What went wrong with the last attempt.
    pub errors: Vec<FieldMessage>,
    /// The account signed in with a one-time password and may do nothing
    /// else before changing it (no way back is offered).
    pub forced: bool,
}

impl PasswordPage {
    /// The hint under the current password: only after a one-time password.
    pub fn current_hint(&self) -> &'static str {
        if self.forced { self.shell.texts().get("password.current_hint_forced") } else { "" }
    }

    /// Whether `field` gets the focus: the first field with an error, else
    /// the first field.
    pub fn autofocus(&self, field: &str) -> bool {
        self.errors.first_field().unwrap_or("current_password") == field
    }
}

/// `GET /` when signed in: who is signed in, and the way out.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "whoami.html")]
pub struct WhoAmIPage {
    /// The frame.
    pub shell: Shell,
    /// What went wrong (a sign-out with an old page's token).
    pub errors: Vec<FieldMessage>,
    /// The name of the person or device, or its id when there is no name.
    pub name_or_id: String,
    /// The kind of account, in words (`kind.staff`).
    pub kind_text: String,
    /// The staff role, in words (`role.librarian`); empty hides the row.
    pub role_text: String,
    /// When the session ends, already in words (`time.date_time`).
    pub session_ends: String,
    /// The schools the account works for; empty hides the row (a district
    /// admin may pass `whoami.all_schools` as the one line).
    pub schools: Vec<String>,
    /// Whether to offer "change password" (staff accounts).
    pub can_change_password: bool,
    /// Whether a reader is signed in (the first row is then their name).
    pub is_reader: bool,
}

/// A notice alone, for the desk's script to show in place of a fragment
/// (the session ended, the server cannot answer).
#[derive(Debug, Clone, Template)]
#[template(path = "partials/notice_fragment.html")]
pub struct NoticeFragment {
    pub shell: Shell,
    pub notice: Notice,
    /// Whether to offer signing in again (in a new tab, so the page and
    /// what was scanned stay).
    pub sign_in: bool,
}

/// A page that cannot be shown: not found, or a problem inside Lectern.
#[derive(Debug, Clone, Default, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The frame.
    pub shell: Shell,
    /// The heading (`error.not_found_title`, `error.server_title`).
    pub title: String,
    /// What happened and what to do (`error.not_found_page`, `error.internal`, …).
    pub message: String,
}

/// What every page's tests share: a visitor's frame, and the house rules
/// every page keeps.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::pages::i18n::text;

    pub fn shell(lang: Lang) -> Shell {
        Shell {
            lang,
            csrf: "token-<&\">".to_owned(),
            path: "/signin?next=%2Fdesk".to_owned(),
            signed_in: false,
            notice: None,
            desk: None,
        }
    }

    /// The house rules of every page: the language, the CSRF token in the
    /// head and in every POST form, no script but the one file, no inline
    /// style, no inline event handler, at most one autofocus, a field for
    /// every label, headings in order.
    pub fn check_page(html: &str, lang: Lang) {
        assert!(html.starts_with("<!doctype html>"), "{html}");
        assert!(html.contains(&format!("<html lang=\"{}\">", lang.html_lang())));
        assert!(html.contains(r#"<meta name="csrf-token" content="token-&#60;&#38;&#34;&#62;">"#), "{html}");
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains(r#"<script src="/assets/lectern.js" defer></script>"#));
        assert!(!html.contains("style="), "inline style");
        assert!(!html.contains("<style"), "inline style");
        assert!(!has_handler_attribute(html), "inline event handler");
        let forms = html.matches("<form").count();
        let posts = html.matches(r#"method="post""#).count();
        let gets = html.matches(r#"method="get""#).count();
        let tokens =
            html.matches(r#"<input type="hidden" name="csrf" value="token-&#60;&#38;&#34;&#62;">"#).count();
        assert_eq!(forms, posts + gets, "every form says how it is sent");
        assert_eq!(posts, tokens, "every POST form carries the CSRF token");
        assert!(html.contains(r#"action="/language""#));
        assert!(html.contains(r#"name="back" value="/signin?next=%2Fdesk""#), "{html}");
        assert!(html.contains(r##"<a class="skip-link" href="#main">"##));
        assert!(html.contains(r#"<main id="main""#));
        assert!(html.contains(text(lang, "layout.skip")));
        assert!(html.matches(" autofocus").count() <= 1, "at most one autofocus");
        for id in labelled_ids(html) {
            assert!(html.contains(&format!("id=\"{id}\"")), "a label for a missing input {id}");
        }
        // No level skipped on the way down. The error summary's h2 may
        // stand above the h1 (the layout puts it there).
        let mut level = 1;
        for heading in heading_levels(html) {
            assert!(heading <= level + 1, "headings in order: h{heading} after h{level}");
            level = heading;
        }
    }

    /// Whether an attribute like `onclick=` appears in a tag.
    fn has_handler_attribute(html: &str) -> bool {
        html.split('<').skip(1).filter_map(|tag| tag.split('>').next()).any(|tag| {
            tag.split_whitespace().skip(1).any(|attribute| {
                let name = attribute.split('=').next().unwrap_or_default().to_ascii_lowercase();
                name.len() > 2 && name.starts_with("on") && attribute.contains('=')
            })
        })
    }

    fn labelled_ids(html: &str) -> Vec<&str> {
        html.split("<label for=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect()
    }

    /// The levels of the headings `<h1>`…`<h6>`, in order.
    fn heading_levels(html: &str) -> Vec<u32> {
        html.split("<h").skip(1).filter_map(|rest| rest.chars().next()?.to_digit(10)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{check_page, shell};
    use super::*;
    use crate::pages::i18n::text;

    #[test]
    fn sign_in_renders_both_forms_in_both_languages() {
        for lang in Lang::ALL {
            let page = SignInPage { shell: shell(lang), next: "/desk".to_owned(), ..SignInPage::default() };
            let html = page.render().unwrap();
            check_page(&html, lang);
            for id in [
                "signin.title",
                "signin.staff.username",
                "signin.staff.password",
                "signin.reader.card",
                "signin.reader.pin",
            ] {
                assert!(html.contains(text(lang, id)), "{id} in {}", lang.tag());
            }
            assert!(html.contains(r#"action="/signin/staff""#));
            assert!(html.contains(r#"action="/signin/reader""#));
            assert_eq!(html.matches(r#"name="next" value="/desk""#).count(), 2);
            assert!(html.contains(r#"autocomplete="username""#));
            assert!(html.contains(r#"inputmode="numeric""#));
            assert!(
                html.contains(
                    r#"autocomplete="username" autocapitalize="none" spellcheck="false" autofocus>"#
                )
            );
            assert!(!html.contains("error-summary"), "no summary without errors");
        }
    }

    #[test]
    fn sign_in_errors_show_in_the_summary_and_next_to_the_field() {
        let page = SignInPage {
            shell: shell(Lang::ZhCn),
            errors: vec![
                FieldMessage::summary("登录信息不对。"),
                FieldMessage::field("pin", text(Lang::ZhCn, "signin.reader.pin_missing")),
            ],
            card: "S-0001<b>".to_owned(),
            form: Which::Reader,
            ..SignInPage::default()
        };
        let html = page.render().unwrap();
        check_page(&html, Lang::ZhCn);
        assert!(html.contains(text(Lang::ZhCn, "error.summary_title")));
        assert!(html.contains("<li>登录信息不对。</li>"));
        assert!(html.contains(r##"<a href="#pin">请输入 PIN 密码。</a>"##));
        assert!(html.contains(r#"<p class="error-message" id="pin-error">"#));
        assert!(
            html.contains(r#"aria-describedby="pin-hint pin-error" aria-invalid="true" autofocus>"#),
            "{html}"
        );
        assert!(html.contains(r#"value="S-0001&#60;b&#62;""#), "escaped");
    }

    #[test]
    fn password_page_renders_in_both_languages() {
        for lang in Lang::ALL {
            for forced in [false, true] {
                let page = PasswordPage { shell: shell(lang), errors: Vec::new(), forced };
                let html = page.render().unwrap();
                check_page(&html, lang);
                for id in [
                    "password.title",
                    "password.current",
                    "password.new",
                    "password.again",
                    "password.new_hint",
                ] {
                    assert!(html.contains(text(lang, id)), "{id}");
                }
                assert!(html.contains(r#"action="/password""#));
                assert_eq!(html.matches(r#"autocomplete="new-password""#).count(), 2);
                assert_eq!(html.contains(text(lang, "password.forced_intro")), forced);
                assert_eq!(html.contains(text(lang, "password.cancel")), !forced);
            }
        }
        let page = PasswordPage {
            shell: shell(Lang::En),
            errors: vec![FieldMessage::field("new_password_again", text(Lang::En, "password.mismatch"))],
            forced: true,
        };
        let html = page.render().unwrap();
        assert!(html.contains(
            r#"autocomplete="new-password" aria-describedby="new_password_again-error" aria-invalid="true" autofocus>"#
        ), "{html}");
    }

    #[test]
    fn who_am_i_renders_in_both_languages() {
        for lang in Lang::ALL {
            let page = WhoAmIPage {
                shell: Shell {
                    signed_in: true,
                    notice: Some(Notice::success(text(lang, "password.changed"))),
                    ..shell(lang)
                },
                errors: Vec::new(),
                name_or_id: "王老师".to_owned(),
                kind_text: text(lang, "kind.staff").to_owned(),
                role_text: text(lang, "role.librarian").to_owned(),
                session_ends: "2025年9月1日 17:30".to_owned(),
                schools: vec!["实验小学".to_owned()],
                can_change_password: true,
                is_reader: false,
            };
            let html = page.render().unwrap();
            check_page(&html, lang);
            for id in ["whoami.title", "whoami.signout", "role.librarian", "kind.staff", "notice.success"] {
                assert!(html.contains(text(lang, id)), "{id}");
            }
            assert!(html.contains("王老师") && html.contains("实验小学"));
            assert!(html.contains("notice-success"));
            assert_eq!(html.matches(r#"action="/signout""#).count(), 2, "header and page");
            assert!(html.contains(r#"href="/password""#));
        }
    }

    #[test]
    fn error_page_renders_in_both_languages() {
        for lang in Lang::ALL {
            let page = ErrorPage {
                shell: Shell { notice: Some(Notice::refusal("x")), ..shell(lang) },
                title: text(lang, "error.not_found_title").to_owned(),
                message: text(lang, "error.not_found_page").to_owned(),
            };
            let html = page.render().unwrap();
            check_page(&html, lang);
            assert!(html.contains(&format!("<h1>{}</h1>", text(lang, "error.not_found_title"))));
            assert!(html.contains(text(lang, "error.home")));
            assert!(html.contains(r#"<div class="notice notice-refusal" role="alert">"#));
        }
    }

    #[test]
    fn assets_stay_small_and_local() {
        let css = super::super::assets::STYLESHEET;
        let js = include_str!("../../assets/lectern.js");
        assert!(css.len() < 40 * 1024, "lectern.css has {} bytes", css.len());
        for class in
            [".notice-success", ".notice-refusal", ".error-summary", "@media print", ":focus-visible"]
        {
            assert!(css.contains(class), "{class}");
        }
        assert!(!css.contains("http") && !js.contains("http"), "no outside addresses");
        assert!(!js.contains("eval(") && !js.contains("innerHTML"));
    }

    #[test]
    fn the_language_switch_marks_the_current_language() {
        let html = ErrorPage { shell: shell(Lang::En), ..ErrorPage::default() }.render().unwrap();
        assert!(html.contains(r#"value="en" lang="en" aria-current="true">English</button>"#), "{html}");
        assert!(html.contains(r#"value="zh-CN" lang="zh-CN">中文</button>"#));
    }
}
