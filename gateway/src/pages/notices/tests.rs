//! The reminders screens rendered in both languages with realistic data:
//! the house rules of every page, what a librarian sees that an assistant
//! does not, the words for every state, and where refusals go on the forms.

use std::collections::HashMap;

use askama::Template;
use chrono::NaiveDate;
use lectern_core::validate::FieldError;
use lectern_proto::notification::v1::{
    Channel, ChannelSettings, Delivery, DeliveryReport, DeliveryReportRow, DeliveryState, DueReminder,
    EmailSettings, Recipient, ReminderSettings, SendDueRemindersResponse, Template as Text, TemplateVariable,
    Trigger, WebhookSettings,
};
use prost_types::Timestamp;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

use super::log::{delivery_row, due_panel, with_param};
use super::report::{days, rows_of as report_rows, views_of};
use super::settings::{check, fields_of};
use super::texts::{check as check_text, rows_of as text_rows, variables};
use super::*;
use crate::http::session::Caller;
use crate::pages::Visit;
use crate::pages::i18n::{Lang, text};
use crate::pages::readers::Choice;
use crate::pages::school::{DeskBar, Section};
use crate::pages::views::{FieldMessage, Shell, testing};

const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn shell(lang: Lang) -> Shell {
    let desk = DeskBar {
        section: Section::Notices,
        school: "徐汇区实验小学".to_owned(),
        can_change_school: false,
        who: "xh-librarian".to_owned(),
    };
    Shell { signed_in: true, desk: Some(desk), ..testing::shell(lang) }
}

/// The house rules, one h1, tables with column headers, and the bar
/// marking the reminders.
fn check_page(html: &str, lang: Lang) {
    testing::check_page(html, lang);
    assert_eq!(html.matches("<h1").count(), 1, "one h1");
    if html.contains("<table") {
        assert!(html.contains(r#"<th scope="col">"#));
    }
    assert!(html.contains(r#"<a href="/notices" aria-current="page">"#), "the bar marks reminders");
    assert!(html.contains(text(lang, "nav.notices")));
}

fn visit(lang: Lang) -> Visit {
    Visit {
        lang,
        csrf: testing::shell(lang).csrf,
        fresh_csrf: false,
        path: "/notices".to_owned(),
        caller: Caller::Anonymous,
        headers: http::HeaderMap::new(),
        label: String::new(),
    }
}

fn at(day: &str, time: &str) -> Option<Timestamp> {
    let local = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap().and_time(time.parse().unwrap());
    let utc = local.and_local_timezone(ZONE).unwrap().with_timezone(&chrono::Utc);
    Some(Timestamp { seconds: utc.timestamp(), nanos: 0 })
}

fn delivery(state: DeliveryState, trigger: Trigger, channel: Channel, recipient: Recipient) -> Delivery {
    Delivery {
        id: format!("d-{}-{}", state as i32, trigger as i32),
        school_id: "s1".to_owned(),
        reader_id: "r1".to_owned(),
        reader_name: "王小明".to_owned(),
        trigger: trigger.into(),
        channel: channel.into(),
        recipient: recipient.into(),
        address: if channel == Channel::InApp { String::new() } else { "wang.parent@example.cn".to_owned() },
        state: state.into(),
        attempts: 3,
        last_error: "550 mailbox unknown <&>".to_owned(),
        title: "小王子".to_owned(),
        create_time: at("2026-12-21", "08:05"),
        next_attempt_time: at("2026-12-21", "09:05"),
        ..Delivery::default()
    }
}

/// One message in every state, as the log shows them.
fn deliveries() -> Vec<Delivery> {
    vec![
        delivery(DeliveryState::Sent, Trigger::Overdue1, Channel::Email, Recipient::Guardian),
        delivery(DeliveryState::Pending, Trigger::Overdue1, Channel::Webhook, Recipient::Guardian),
        delivery(DeliveryState::Failed, Trigger::Overdue2, Channel::Email, Recipient::HomeroomTeacher),
        delivery(DeliveryState::Dead, Trigger::DueSoon, Channel::Email, Recipient::Reader),
        delivery(DeliveryState::Cancelled, Trigger::Overdue3, Channel::InApp, Recipient::Reader),
        delivery(DeliveryState::Cancelled, Trigger::HoldExpiring, Channel::Email, Recipient::Guardian),
    ]
}

fn due(trigger: Trigger) -> DueReminder {
    DueReminder { school_id: "s1".to_owned(), trigger: trigger.into(), ..DueReminder::default() }
}

fn dry_run() -> SendDueRemindersResponse {
    SendDueRemindersResponse {
        reminders: vec![due(Trigger::Overdue1), due(Trigger::DueSoon), due(Trigger::Overdue1)],
        skipped_returned: 2,
        deliveries_queued: 0,
        day: "2026-12-21".to_owned(),
    }
}

fn log_page(lang: Lang, may_change: bool, admin: bool) -> LogPage {
    LogPage {
        shell: shell(lang),
        errors: Vec::new(),
        school: "徐汇区实验小学".to_owned(),
        due: due_panel(lang, &dry_run()),
        rows: deliveries().iter().map(|delivery| delivery_row(lang, delivery, ZONE)).collect(),
        loaded: true,
        states: words::STATES
            .iter()
            .map(|(_, name, id)| Choice { value: (*name).to_owned(), label: text(lang, id).to_owned() })
            .collect(),
        state: String::new(),
        next_page: "/notices?page=abc%3D".to_owned(),
        first_page: String::new(),
        back: "/notices".to_owned(),
        may_change,
        is_admin: admin,
    }
}

#[test]
fn what_is_due_today_is_counted_per_trigger_in_order() {
    let panel = due_panel(Lang::ZhCn, &dry_run());
    assert!(panel.loaded);
    assert_eq!(panel.day, "12月21日 周一");
    assert_eq!(panel.total, 3);
    assert_eq!(panel.skipped, 2);
    let counts: Vec<(&str, usize)> = panel.counts.iter().map(|c| (c.trigger.as_str(), c.count)).collect();
    assert_eq!(counts, [("快到期提醒", 1), ("逾期第一次提醒", 2)]);
}

#[test]
fn every_state_has_its_words_and_its_mark() {
    let rows: Vec<DeliveryRow> = deliveries().iter().map(|d| delivery_row(Lang::ZhCn, d, ZONE)).collect();
    let states: Vec<(&str, &str, &str)> =
        rows.iter().map(|row| (row.state.as_str(), row.mark, row.symbol)).collect();
    assert_eq!(
        states,
        [
            ("已发送", "sent", "✓"),
            ("等待发送（安静时段或每日上限）", "pending", "◷"),
            ("发送失败，将重试", "failed", "↻"),
            ("已放弃", "dead", "✕"),
            ("已取消（书已归还）", "cancelled", "–"),
            ("已取消（不再需要）", "cancelled", "–"),
        ]
    );
    // Attempts and the provider's words only where something went wrong.
    assert_eq!(rows[0].attempts, "");
    assert_eq!(rows[0].error, "");
    assert_eq!(rows[2].attempts, "已试 3 次");
    assert_eq!(rows[3].error, "550 mailbox unknown <&>");
    assert!(rows[2].resendable && rows[3].resendable);
    assert!(!rows[0].resendable && !rows[1].resendable && !rows[4].resendable);
    // When the next try is due: waiting and failed messages.
    assert_eq!(rows[1].next_attempt, "下次重试：12月21日 周一 09:05");
    assert_eq!(rows[2].next_attempt, "下次重试：12月21日 周一 09:05");
    assert_eq!(rows[3].next_attempt, "");
    assert_eq!(rows[0].when, "12月21日 周一 08:05");
    assert_eq!((rows[2].recipient.as_str(), rows[2].channel.as_str()), ("班主任", "邮件"));
    assert_eq!((rows[1].recipient.as_str(), rows[1].channel.as_str()), ("家长", "短信/微信网关"));
    assert_eq!(rows[4].channel, "站内信");
    let nameless = Delivery { reader_name: String::new(), ..deliveries()[0].clone() };
    assert_eq!(delivery_row(Lang::En, &nameless, ZONE).reader, "Name not found");
}

#[test]
fn the_log_renders_for_a_librarian_in_both_languages() {
    for lang in Lang::ALL {
        let html = log_page(lang, true, false).render().unwrap();
        check_page(&html, lang);
        for id in [
            "notices.title",
            "notices.due.title",
            "notices.due.send_now",
            "notices.log.title",
            "notices.log.col.action",
            "notices.state.sent",
            "notices.state.dead",
            "notices.links.settings",
            "notices.links.texts",
            "notices.links.report",
            "notices.links.homeroom",
        ] {
            assert!(html.contains(text(lang, id)), "{id} in {}", lang.tag());
        }
        assert!(html.contains(r#"action="/notices/send-due""#));
        assert_eq!(html.matches(r#"action="/notices/resend""#).count(), 2, "failed and dead only");
        assert!(html.contains(r#"name="delivery_id" value="d-3-4""#));
        assert!(html.contains(r#"href="/lists/homeroom?kind=overdue""#));
        assert!(!html.contains(r#"href="/notices/channels""#), "channels are for admins");
        assert!(html.contains("wang.parent@example.cn"));
        assert!(html.contains("550 mailbox unknown &#60;&#38;&#62;"), "escaped");
        assert!(
            html.contains(r#"class="notices-state notices-state-failed"><span aria-hidden="true">↻</span>"#)
        );
        assert!(html.contains(r#"href="/notices?page=abc%3D""#));
        assert!(!html.contains("d-2-3</"), "no id on screen");
    }
    let html = log_page(Lang::ZhCn, true, true).render().unwrap();
    assert!(html.contains(r#"href="/notices/channels""#));
}

#[test]
fn an_assistant_sees_the_log_without_buttons() {
    for lang in Lang::ALL {
        let html = log_page(lang, false, false).render().unwrap();
        check_page(&html, lang);
        assert!(!html.contains(r#"action="/notices/resend""#));
        assert!(!html.contains(r#"action="/notices/send-due""#));
        assert!(!html.contains(text(lang, "notices.log.col.action")));
        assert!(html.contains(text(lang, "notices.state.failed")));
    }
}

#[test]
fn an_empty_log_and_a_dry_run_that_failed_say_so() {
    let mut page = log_page(Lang::ZhCn, true, false);
    page.rows.clear();
    page.due = DuePanel::default();
    page.next_page.clear();
    page.state = "dead".to_owned();
    let html = page.render().unwrap();
    check_page(&html, Lang::ZhCn);
    assert!(html.contains("没有这种状态的记录。"));
    assert!(html.contains(text(Lang::ZhCn, "notices.due.failed")));
    assert!(!html.contains(r#"action="/notices/send-due""#));
    assert!(html.contains(r#"<option value="dead" selected>"#), "{html}");
    page.loaded = false;
    page.errors = vec![FieldMessage::summary("系统暂时连不上。")];
    let html = page.render().unwrap();
    assert!(!html.contains("没有这种状态的记录。"), "no 'nothing here' after a failure");
    assert!(html.contains("error-summary"));
}

#[test]
fn resending_comes_back_to_the_same_page() {
    assert_eq!(with_param("/notices?state=dead", "done=resent"), "/notices?state=dead&done=resent");
    assert_eq!(with_param("/notices", "done=resent"), "/notices?done=resent");
    assert_eq!(with_param("https://evil.example/", "done=resent"), "/notices?done=resent");
    assert_eq!(with_param("//evil.example/notices", "done=resent"), "/notices?done=resent");
}

fn defaults() -> ReminderSettings {
    ReminderSettings {
        school_id: "s1".to_owned(),
        due_soon_days: 2,
        due_today: true,
        overdue_days: vec![1, 7, 14],
        hold_expiring_days: 1,
        day_counting: 1,
        send_on_closed_days: false,
        quiet_hours_start: "21:00".to_owned(),
        quiet_hours_end: "07:30".to_owned(),
        daily_cap_email: 2000,
        daily_cap_webhook: 2000,
        homeroom_teacher_overdue: true,
        library_hours: "周一至周五 7:30–16:30".to_owned(),
        ..ReminderSettings::default()
    }
}

fn settings_page(lang: Lang, may_change: bool) -> SettingsPage {
    SettingsPage {
        shell: shell(lang),
        errors: Vec::new(),
        fields: fields_of(&defaults()),
        may_change,
        defaults: true,
        updated: String::new(),
        loaded: true,
    }
}

#[test]
fn the_settings_form_labels_every_field_for_a_librarian() {
    for lang in Lang::ALL {
        let html = settings_page(lang, true).render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(r#"action="/notices/settings""#));
        for id in [
            "notices.settings.due_soon_days",
            "notices.settings.overdue",
            "notices.settings.open_days",
            "notices.settings.send_on_closed_days",
            "notices.settings.quiet_hours_start",
            "notices.settings.daily_cap_email",
            "notices.settings.homeroom_teacher_overdue",
            "notices.settings.sender_name",
            "notices.settings.from_address",
            "notices.settings.reply_to",
            "notices.settings.library_hours",
            "notices.settings.defaults",
        ] {
            assert!(html.contains(text(lang, id)), "{id}");
        }
        assert!(html.contains(r#"id="overdue_1" name="overdue_1" type="text" value="1""#), "{html}");
        assert!(html.contains(r#"id="overdue_3" name="overdue_3" type="text" value="14""#));
        assert!(
            html.contains(r#"type="checkbox" id="due_today" name="due_today" value="on" checked"#),
            "{html}"
        );
        assert!(
            html.contains(r#"type="checkbox" id="open_days" name="open_days" value="on" aria-describedby"#)
        );
        assert!(!html.contains(" autofocus"), "a settings page is read first");
        assert!(!html.contains(text(lang, "notices.settings.readonly")));
    }
}

#[test]
fn an_assistant_reads_the_settings_in_words() {
    for lang in Lang::ALL {
        let html = settings_page(lang, false).render().unwrap();
        check_page(&html, lang);
        assert!(!html.contains(r#"action="/notices/settings""#));
        assert!(html.contains(text(lang, "notices.settings.readonly")));
        assert!(html.contains(if lang == Lang::ZhCn { "1、7、14" } else { "1, 7, 14" }));
        assert!(html.contains(text(lang, "notices.settings.not_set")), "an empty sender name");
        assert!(html.contains("周一至周五 7:30–16:30"));
    }
}

#[test]
fn settings_errors_stand_next_to_their_fields() {
    let mut page = settings_page(Lang::ZhCn, true);
    page.fields.overdue_2 = "0".to_owned();
    page.fields.quiet_hours_start = "9pm".to_owned();
    page.errors = vec![
        FieldMessage::field("overdue_2", text(Lang::ZhCn, "notices.settings.overdue_bad")),
        FieldMessage::field("quiet_hours_start", text(Lang::ZhCn, "notices.settings.time_bad")),
    ];
    let html = page.render().unwrap();
    check_page(&html, Lang::ZhCn);
    assert!(html.contains(r##"<a href="#overdue_2">"##));
    assert!(html.contains(r#"<p class="error-message" id="overdue-error">"#));
    assert!(
        html.contains(r#"value="0" autocomplete="off" inputmode="numeric" aria-invalid="true" autofocus>"#),
        "{html}"
    );
    assert!(html.contains(r#"<p class="error-message" id="quiet_hours_start-error">"#));
    assert_eq!(html.matches(" autofocus").count(), 1);
}

#[test]
fn typed_settings_are_checked_as_notification_checks_them() {
    let fields = fields_of(&defaults());
    let settings = check(&fields).unwrap();
    assert_eq!(settings.overdue_days, [1, 7, 14]);
    assert_eq!(settings.day_counting, 1);
    assert_eq!(settings.quiet_hours_end, "07:30");
    let mut typed = fields.clone();
    typed.overdue_3.clear();
    typed.open_days = true;
    typed.quiet_hours_start = "9:05".to_owned();
    let settings = check(&typed).unwrap();
    assert_eq!(settings.overdue_days, [1, 7]);
    assert_eq!(settings.day_counting, 2);
    assert_eq!(settings.quiet_hours_start, "09:05");

    let wrong = |edit: &dyn Fn(&mut SettingsFields)| {
        let mut typed = fields.clone();
        edit(&mut typed);
        check(&typed).unwrap_err()
    };
    assert_eq!(wrong(&|f| f.due_soon_days = "61".into()), [("due_soon_days", "notices.settings.days_bad")]);
    assert_eq!(wrong(&|f| f.due_soon_days = "".into()), [("due_soon_days", "notices.settings.days_bad")]);
    assert_eq!(wrong(&|f| f.overdue_2 = "1".into()), [("overdue_2", "notices.settings.overdue_bad")]);
    assert_eq!(wrong(&|f| f.overdue_2 = "".into()), [("overdue_3", "notices.settings.overdue_gap")]);
    assert_eq!(wrong(&|f| f.overdue_1 = "-1".into()), [("overdue_1", "notices.settings.overdue_bad")]);
    assert_eq!(
        wrong(&|f| f.quiet_hours_end = "25:00".into()),
        [("quiet_hours_end", "notices.settings.time_bad")]
    );
    assert_eq!(
        wrong(&|f| f.daily_cap_webhook = "1e3".into()),
        [("daily_cap_webhook", "notices.settings.cap_bad")]
    );
    assert_eq!(wrong(&|f| f.reply_to = "library".into()), [("reply_to", "notices.settings.address_bad")]);
    assert_eq!(
        wrong(&|f| f.sender_name = "图".repeat(61)),
        [("sender_name", "notices.settings.sender_name_long")]
    );
}

#[test]
fn notification_refusals_go_next_to_the_field_they_name() {
    let visit = visit(Lang::ZhCn);
    let status = Status::from(FieldError::new("overdue_days", "must go up"));
    let message = super::settings::refusal(&visit, &status);
    assert_eq!(message.field, "overdue_1");
    assert_eq!(message.text, text(Lang::ZhCn, "notices.settings.overdue_bad"));
    let status = Status::from(FieldError::new("settings.from_address", "must be an e-mail address"));
    assert_eq!(super::settings::refusal(&visit, &status).field, "from_address");
    let message = super::settings::refusal(&visit, &Status::unavailable("down"));
    assert_eq!(message.field, "");
    assert_eq!(message.text, text(Lang::ZhCn, "error.unavailable"));
}

fn texts() -> Vec<Text> {
    let text = |trigger: Trigger, language: &str, customized| Text {
        school_id: "s1".to_owned(),
        trigger: trigger.into(),
        language: language.to_owned(),
        subject: "【{{ school }}图书馆】{{ reader }}的图书已逾期".to_owned(),
        body: "{{ reader }}家长您好：\n{% for item in items %}《{{ item.title }}》{% endfor %}".to_owned(),
        customized,
        ..Text::default()
    };
    vec![text(Trigger::Overdue1, "zh-CN", true), text(Trigger::Overdue1, "en", false)]
}

#[test]
fn the_texts_list_every_trigger_in_both_languages() {
    for lang in Lang::ALL {
        let rows = text_rows(lang, &texts());
        assert_eq!(rows.len(), TRIGGERS.len());
        assert!(rows[2].cells[0].customized && !rows[2].cells[1].customized);
        assert_eq!(rows[2].cells[0].href, "/notices/templates/overdue_1/zh-CN");
        assert_eq!(rows[8].cells[1].href, "/notices/templates/loan_lost/en");
        for may_change in [true, false] {
            let page = TextsPage { shell: shell(lang), errors: Vec::new(), rows: rows.clone(), may_change };
            let html = page.render().unwrap();
            check_page(&html, lang);
            assert_eq!(html.matches(r#"href="/notices/templates/"#).count(), 18);
            let customized = text(lang, "notices.texts.customized").replace('\'', "&#39;");
            assert_eq!(html.matches(&customized).count(), 1);
            let word = if may_change { "notices.texts.edit" } else { "notices.texts.view" };
            assert!(html.contains(&format!(">{}<span class=\"visually-hidden\">", text(lang, word))));
        }
    }
}

fn text_page(lang: Lang, may_change: bool) -> TextPage {
    let variables = variables(
        lang,
        &[TemplateVariable {
            name: "reader".to_owned(),
            description_zh: "读者姓名".to_owned(),
            description_en: "The reader's name".to_owned(),
        }],
    );
    TextPage {
        shell: shell(lang),
        errors: Vec::new(),
        heading: "逾期第一次提醒（中文）".to_owned(),
        action: "/notices/templates/overdue_1/zh-CN".to_owned(),
        subject: texts()[0].subject.clone(),
        body: texts()[0].body.clone(),
        customized: true,
        variables,
        preview: Some(Preview {
            subject: "【徐汇区实验小学图书馆】王小明的图书已逾期".to_owned(),
            body: "王小明家长您好：\n《小王子》<b>".to_owned(),
        }),
        may_change,
    }
}

#[test]
fn the_editor_previews_saves_and_resets_for_a_librarian() {
    for lang in Lang::ALL {
        let html = text_page(lang, true).render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(r#"action="/notices/templates/overdue_1/zh-CN""#));
        assert!(html.contains(r#"action="/notices/templates/overdue_1/zh-CN/reset""#));
        assert!(html.contains(r#"name="action" value="preview""#));
        assert!(html.contains(r#"name="action" value="save""#));
        assert!(html.contains("【{{ school }}图书馆】{{ reader }}的图书已逾期"), "the text as written");
        assert!(
            html.contains(
                r#"<div class="notices-mail-body">王小明家长您好：
《小王子》&#60;b&#62;</div>"#
            ),
            "the preview, escaped, lines kept"
        );
        assert!(html.contains("<code>{{ reader }}</code>"));
        let description = if lang == Lang::En { "The reader's name" } else { "读者姓名" };
        assert!(html.contains(&description.replace('\'', "&#39;")));
        assert!(html.contains(text(lang, "notices.texts.body_hint").split('{').next().unwrap()));
    }
}

#[test]
fn an_assistant_may_preview_but_not_save() {
    for lang in Lang::ALL {
        let mut page = text_page(lang, false);
        page.preview = None;
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(r#"name="action" value="preview""#));
        assert!(!html.contains(r#"value="save""#));
        assert!(!html.contains("/reset\""));
        assert!(html.contains(text(lang, "notices.texts.readonly")));
        assert!(!html.contains("notices-mail"));
    }
}

#[test]
fn a_text_that_does_not_render_is_refused_next_to_it() {
    let lang = Lang::ZhCn;
    assert_eq!(check_text(lang, "", "x")[0].field, "subject");
    assert_eq!(check_text(lang, "x", &"字".repeat(5001))[0].text, text(lang, "notices.texts.body_long"));
    assert!(check_text(lang, "标题", "正文").is_empty());
    let visit = visit(lang);
    let status = Status::from(FieldError::new("body", "unknown variable `raeder` on line 2"));
    let message = super::texts::refusal(&visit, &status);
    assert_eq!(message.field, "body");
    assert_eq!(message.text, "这段文字用不了：unknown variable `raeder` on line 2");
    let details = ErrorDetails::with_error_info("NO_LOAN_TO_PREVIEW", "lectern", HashMap::new());
    let status = Status::with_error_details(Code::FailedPrecondition, "no loan", details);
    let message = super::texts::refusal(&visit, &status);
    assert_eq!(
        (message.field.as_str(), message.text.as_str()),
        ("", text(lang, "reason.NO_LOAN_TO_PREVIEW"))
    );

    let mut page = text_page(lang, true);
    page.errors = vec![FieldMessage::field("body", "这段文字用不了：unknown variable".to_owned())];
    let html = page.render().unwrap();
    check_page(&html, lang);
    assert!(html.contains(r#"<p class="error-message" id="body-error">"#));
    assert!(html.contains(r#"aria-invalid="true" autofocus>"#));
}

fn report() -> DeliveryReport {
    let row = |day: &str, channel: Channel, sent, failed| DeliveryReportRow {
        day: day.to_owned(),
        channel: channel.into(),
        sent,
        failed,
        dead: 1,
        pending: 2,
        cancelled: 3,
    };
    DeliveryReport {
        school_id: "s1".to_owned(),
        rows: vec![row("2026-12-20", Channel::Email, 40, 2), row("2026-12-21", Channel::InApp, 55, 0)],
    }
}

#[test]
fn the_report_adds_up_days_and_channels() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 21).unwrap();
    let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    assert_eq!(days(today, "", ""), Ok((day("2026-12-15"), today)));
    assert_eq!(days(today, "2026-12-01", " 2026-12-02 "), Ok((day("2026-12-01"), day("2026-12-02"))));
    assert_eq!(
        days(today, "12/01", "x"),
        Err(vec![("first", "notices.report.day_bad"), ("last", "notices.report.day_bad")])
    );
    assert_eq!(days(today, "2026-12-22", ""), Err(vec![("first", "notices.report.order_bad")]));
    assert_eq!(days(today, "2025-01-01", ""), Err(vec![("first", "notices.report.too_long")]));
    for lang in Lang::ALL {
        let (rows, total) = report_rows(lang, &report());
        assert_eq!((total.sent, total.failed, total.dead, total.pending, total.cancelled), (95, 2, 2, 4, 6));
        let page = ReportPage {
            shell: shell(lang),
            errors: Vec::new(),
            school: "徐汇区实验小学".to_owned(),
            first: "2026-12-15".to_owned(),
            last: "2026-12-21".to_owned(),
            caption: "12月15日 周二至12月21日 周一".to_owned(),
            rows,
            total,
            loaded: true,
        };
        let html = page.render().unwrap();
        check_page(&html, lang);
        assert!(html.contains(r#"type="date" value="2026-12-15""#));
        assert!(html.contains(text(lang, "notices.channel.email")));
        assert!(html.contains(r#"<td class="notices-number">95</td>"#));
        assert!(html.contains(&format!(
            r#"<th scope="row" colspan="2">{}</th>"#,
            text(lang, "notices.report.total")
        )));
    }
}

fn channels_page(lang: Lang) -> ChannelsPage {
    let settings = ChannelSettings {
        email: Some(EmailSettings {
            configured: true,
            host: "relay.school.cn".to_owned(),
            port: 587,
            security: "starttls".to_owned(),
            username: "lectern".to_owned(),
            password_set: true,
            from_address: "library@xuhui.edu.cn".to_owned(),
        }),
        webhook: Some(WebhookSettings { configured: false, url: String::new(), secret_set: false }),
    };
    let (email, webhook) = views_of(lang, &settings);
    ChannelsPage {
        shell: shell(lang),
        errors: Vec::new(),
        loaded: true,
        email,
        webhook,
        schools: vec![Choice { value: "s1".to_owned(), label: "徐汇区实验小学".to_owned() }],
        school: "s1".to_owned(),
        to: String::new(),
    }
}

#[test]
fn the_channels_show_where_they_come_from_and_never_a_secret() {
    for lang in Lang::ALL {
        let html = channels_page(lang).render().unwrap();
        check_page(&html, lang);
        assert!(html.contains("relay.school.cn") && html.contains(">587<"));
        assert!(html.contains(text(lang, "notices.channels.security_starttls")));
        assert!(html.contains(text(lang, "notices.channels.not_configured")), "no webhook");
        for variable in ["LECTERN_SMTP_URL", "LECTERN_SMTP_PASSWORD_FILE", "LECTERN_WEBHOOK_SECRET"] {
            assert!(html.contains(variable), "{variable}");
        }
        assert!(html.contains(r#"action="/notices/channels/test""#));
        assert!(html.contains(r#"<option value="s1" selected>"#));
        assert!(html.contains(r#"type="text" value="" autocomplete="email""#));
        assert!(!html.contains("type=\"password\""));
    }
    let mut page = channels_page(Lang::ZhCn);
    page.shell.notice =
        Some(crate::pages::views::Notice::refusal("邮件服务器没有收下测试邮件：550 relay denied"));
    page.errors = vec![FieldMessage::field("to", text(Lang::ZhCn, "notices.channels.to_bad"))];
    let html = page.render().unwrap();
    check_page(&html, Lang::ZhCn);
    assert!(html.contains("550 relay denied"));
    assert!(html.contains(r#"aria-invalid="true" autofocus>"#));
}

#[test]
fn triggers_are_named_in_paths_and_words() {
    for (trigger, name) in TRIGGERS {
        assert_eq!(trigger_of(name), Some(trigger));
        assert_eq!(trigger_name(trigger as i32), name);
        for lang in Lang::ALL {
            let id = words::trigger(trigger as i32);
            assert_ne!(text(lang, &id), id, "{id} in {}", lang.tag());
        }
    }
    assert_eq!(trigger_of("overdue_4"), None);
    assert_eq!(trigger_name(99), "unknown");
    assert_eq!(text(Lang::En, &words::trigger(99)), "Other reminder");
}
