//! Reminders through the gateway with the suite clock, as a librarian and
//! a parent see them: the delivery log (`ListDeliveries`), the reader's
//! inbox (`ListNotices`), and what reached the district's webhook bridge
//! and a mail relay.
//!
//! The webhook receiver is the district's SMS/WeChat bridge as a district
//! would run one: an HTTP server that checks `X-Lectern-Signature` and
//! keeps every body. The SMTP sink is a minimal relay that accepts
//! everything and keeps each message; the Python tests (tests/reminders)
//! read mail from a real SMTP server (aiosmtpd), with its refusals.
//!
//! Times: the suite clock starts at 08:00 in Shanghai (outside the default
//! quiet hours, 21:00–07:30) and moves by whole days unless a test says.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use chrono::{NaiveDate, TimeZone as _, Utc};
use chrono_tz::Asia::Shanghai;
use hmac::{Hmac, Mac as _};
use lectern_core::clock::Clock as _;
use lectern_proto::circulation::v1::{
    CheckInRequest, Closure, ClosureKind, SchoolCalendar, SetSchoolCalendarRequest,
};
use lectern_proto::notification::v1::reminder_service_client::ReminderServiceClient;
use lectern_proto::notification::v1::{
    Channel as Via, Delivery, DeliveryState, ListDeliveriesRequest, ListNoticesRequest, Notice, NoticeKind,
    Recipient, SendDueRemindersRequest, SendDueRemindersResponse, Trigger, UnsubscribeRequest,
};
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    ContactChannel, ContactWho, CreateClassRequest, CreateReaderContactRequest, CreateReaderRequest,
    NotificationChannel, Reader, School, UpdateNotificationPreferencesRequest,
};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::{ADMIN_PASSWORD, TestSuite, bearer, eventually, lent_days_ago};

/// The webhook's signing secret in these tests.
const SECRET: &str = "district-bridge-secret-1234";
/// How long a test waits for the sender to act on what a pass queued.
const SENDING: Duration = Duration::from_secs(20);

// ---- the district's webhook bridge -------------------------------------------

/// One POST the bridge received.
#[derive(Debug, Clone)]
struct Received {
    body: serde_json::Value,
    /// Whether `X-Lectern-Signature` was the HMAC of `{timestamp}.{body}`.
    signed: bool,
    /// What the bridge answered.
    status: u16,
}

/// A webhook receiver on loopback: verifies each signature, keeps each
/// body, and answers 500 to the first `failures` calls.
#[derive(Clone)]
struct Bridge {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    failures: Arc<AtomicUsize>,
}

impl Bridge {
    async fn start() -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let failures = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let state = (received.clone(), failures.clone());
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let (received, failures) = state.clone();
                async move {
                    let header = |name: &str| {
                        headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("").to_owned()
                    };
                    let signed = signature_is_right(
                        &header("x-lectern-timestamp"),
                        &header("x-lectern-signature"),
                        &body,
                    );
                    let failing = failures
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
                        .is_ok();
                    let status = if !signed {
                        401
                    } else if failing {
                        500
                    } else {
                        200
                    };
                    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    let id = body["id"].as_str().unwrap_or("").to_owned();
                    received.lock().unwrap().push(Received { body, signed, status });
                    let code = axum::http::StatusCode::from_u16(status).unwrap();
                    (code, format!(r#"{{"id":"bridge-{id}"}}"#))
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, received, failures }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The bodies the bridge accepted (answered 200).
    fn accepted(&self) -> Vec<serde_json::Value> {
        self.received().into_iter().filter(|call| call.status == 200).map(|call| call.body).collect()
    }

    /// The triggers of the accepted bodies, in the order they came.
    fn triggers(&self) -> Vec<String> {
        self.accepted().iter().map(|body| body["trigger"].as_str().unwrap_or("?").to_owned()).collect()
    }
}

/// Whether `signature` is "sha256=<hex HMAC-SHA256(SECRET, "{timestamp}.{body}")>".
fn signature_is_right(timestamp: &str, signature: &str, body: &[u8]) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else { return false };
    if timestamp.parse::<i64>().is_err() {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let wanted: String = mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect();
    wanted == hex
}

// ---- a mail relay that accepts everything ----------------------------------

/// One message the relay accepted.
#[derive(Debug, Clone)]
struct Mail {
    recipients: Vec<String>,
    raw: String,
}

impl Mail {
    /// A header's value (unfolded), if present.
    fn header(&self, name: &str) -> Option<String> {
        header_of(self.raw.split("\r\n\r\n").next().unwrap_or(""), name)
    }

    /// The text of the message, its transfer encoding undone.
    fn text(&self) -> String {
        decoded_text(&self.raw)
    }
}

/// A plain SMTP relay on loopback (no TLS, no sign-in) that keeps each
/// message.
#[derive(Clone)]
struct Relay {
    address: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl Relay {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let kept = mails.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(smtp_session(stream, kept.clone()));
            }
        });
        Self { address, mails }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails().into_iter().filter(|mail| mail.recipients.iter().any(|to| to == address)).collect()
    }
}

async fn smtp_session(stream: tokio::net::TcpStream, mails: Arc<Mutex<Vec<Mail>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 relay.test ESMTP\r\n").await;
    let mut recipients = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let command = line.to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") {
            b"250-relay.test\r\n250 8BITMIME\r\n"
        } else if command.starts_with("MAIL FROM") {
            recipients.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO") {
            let to = line[8..].trim().trim_start_matches(':').trim().trim_matches(['<', '>']).to_owned();
            recipients.push(to);
            b"250 OK\r\n"
        } else if command == "DATA" {
            let _ = write.write_all(b"354 go ahead\r\n").await;
            let mut raw = String::new();
            while let Ok(Some(data)) = lines.next_line().await {
                if data == "." {
                    break;
                }
                raw.push_str(data.strip_prefix('.').filter(|_| data.starts_with("..")).unwrap_or(&data));
                raw.push_str("\r\n");
            }
            mails.lock().unwrap().push(Mail { recipients: std::mem::take(&mut recipients), raw });
            b"250 OK queued\r\n"
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"250 OK\r\n"
        };
        if write.write_all(answer).await.is_err() {
            return;
        }
    }
}

fn header_of(head: &str, name: &str) -> Option<String> {
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
    })
}

/// The text parts of a message, each decoded from base64 or
/// quoted-printable.
fn decoded_text(raw: &str) -> String {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let content_type = header_of(head, "Content-Type").unwrap_or_default();
    if let Some(boundary) = content_type.split("boundary=").nth(1) {
        let boundary = format!("--{}", boundary.split(';').next().unwrap_or("").trim_matches('"'));
        return body
            .split(boundary.as_str())
            .filter(|part| part.contains("\r\n\r\n"))
            .map(|part| decoded_text(part.trim_start_matches("\r\n")))
            .collect::<Vec<_>>()
            .join("\n");
    }
    let encoding = header_of(head, "Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
    match encoding.as_str() {
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(joined).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        "quoted-printable" => {
            let mut bytes = Vec::new();
            let soft = body.replace("=\r\n", "");
            let mut rest = soft.as_bytes();
            while let Some((&first, tail)) = rest.split_first() {
                let escaped =
                    tail.get(..2).and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
                if let (b'=', Some(byte)) = (first, escaped) {
                    bytes.push(byte);
                    rest = &tail[2..];
                    continue;
                }
                bytes.push(first);
                rest = tail;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => body.to_owned(),
    }
}

// ---- the school, its readers and what they borrowed -----------------------

fn reminders(suite: &TestSuite) -> ReminderServiceClient<Channel> {
    ReminderServiceClient::new(suite.channel.clone())
}

fn profiles(suite: &TestSuite) -> ReaderProfileServiceClient<Channel> {
    ReaderProfileServiceClient::new(suite.channel.clone())
}

/// The admin's token now: the clock has often moved past the last one.
async fn admin_now(suite: &TestSuite) -> String {
    suite.login("admin", ADMIN_PASSWORD).await.expect("the admin signs in").access_token
}

/// A student named `name` in a class of their own.
async fn pupil(suite: &TestSuite, school: &School, card: &str, name: &str) -> Reader {
    let class = suite
        .readers()
        .create_class(suite.admin(CreateClassRequest {
            school_id: school.id.clone(),
            name: format!("四年级({card})班"),
            grade: 4,
            school_year: "2026-2027".into(),
            request_id: String::new(),
        }))
        .await
        .expect("class created")
        .into_inner();
    suite
        .readers()
        .create_reader(suite.admin(CreateReaderRequest {
            school_id: school.id.clone(),
            card_barcode: card.into(),
            name: name.into(),
            category: "student".into(),
            class_id: class.id,
            expires_on: suite.days_from_now(365),
            ..Default::default()
        }))
        .await
        .expect("reader registered")
        .into_inner()
}

async fn contact(suite: &TestSuite, reader: &Reader, who: ContactWho, channel: ContactChannel, value: &str) {
    profiles(suite)
        .create_reader_contact(suite.admin(CreateReaderContactRequest {
            reader_id: reader.id.clone(),
            who: who.into(),
            channel: channel.into(),
            value: value.into(),
            label: "妈妈".into(),
            request_id: String::new(),
        }))
        .await
        .expect("contact added");
}

async fn prefer(suite: &TestSuite, reader: &Reader, channels: &[NotificationChannel], language: &str) {
    profiles(suite)
        .update_notification_preferences(suite.admin(UpdateNotificationPreferencesRequest {
            reader_id: reader.id.clone(),
            channels: channels.iter().map(|&channel| channel.into()).collect(),
            language: language.into(),
        }))
        .await
        .expect("preferences set");
}

/// Lends the copy `barcode` of a new title to `card`, `days_ago` days
/// before the clock (14-day loans: 15 days ago is overdue by one day);
/// returns the loan's id and its due day.
async fn lend(
    suite: &TestSuite,
    school: &School,
    card: &str,
    barcode: &str,
    title: &str,
    days_ago: i64,
) -> (String, NaiveDate) {
    let isbn = isbn_for(barcode);
    let title = suite.title(&isbn, title, "曹文轩").await;
    suite.copy(&title, school, barcode).await;
    let loan = suite
        .loans()
        .check_out(suite.admin(lent_days_ago(suite, card, barcode, days_ago)))
        .await
        .expect("lent")
        .into_inner()
        .loan
        .expect("the loan");
    // Reminders come from circulation's events: wait until notification
    // has heard of the loan (its receipt is in the reader's inbox), as a
    // parent would before the first reminder could be due.
    let token = admin_now(suite).await;
    eventually(SENDING, "the loan's check-out receipt", || async {
        let inbox = suite
            .notifications()
            .list_notices(bearer(
                ListNoticesRequest {
                    reader_id: loan.reader_id.clone(),
                    page_size: 500,
                    ..Default::default()
                },
                &token,
            ))
            .await
            .expect("the inbox")
            .into_inner()
            .notices;
        inbox.iter().any(|notice| notice.loan_id == loan.id).then_some(())
    })
    .await;
    (loan.id, NaiveDate::parse_from_str(&loan.due_date, "%Y-%m-%d").expect("a due day"))
}

/// A valid ISBN-13 of its own for each barcode.
fn isbn_for(barcode: &str) -> String {
    let digits: String = barcode.chars().filter(char::is_ascii_digit).collect();
    let body = format!("978{:0>9}", &digits[digits.len().saturating_sub(9)..]);
    let sum: u32 = body
        .chars()
        .enumerate()
        .map(|(index, digit)| digit.to_digit(10).unwrap() * if index % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

async fn send_due(
    suite: &TestSuite,
    token: &str,
    school: &School,
    dry_run: bool,
) -> SendDueRemindersResponse {
    reminders(suite)
        .send_due_reminders(bearer(SendDueRemindersRequest { school_id: school.id.clone(), dry_run }, token))
        .await
        .expect("SendDueReminders")
        .into_inner()
}

async fn deliveries(suite: &TestSuite, token: &str, school: &School) -> Vec<Delivery> {
    reminders(suite)
        .list_deliveries(bearer(
            ListDeliveriesRequest { school_id: school.id.clone(), page_size: 500, ..Default::default() },
            token,
        ))
        .await
        .expect("the delivery log")
        .into_inner()
        .deliveries
}

/// The reader's inbox, reminders only (not the check-out receipts).
async fn reminder_notices(suite: &TestSuite, token: &str, reader: &Reader) -> Vec<Notice> {
    suite
        .notifications()
        .list_notices(bearer(
            ListNoticesRequest { reader_id: reader.id.clone(), page_size: 500, ..Default::default() },
            token,
        ))
        .await
        .expect("the inbox")
        .into_inner()
        .notices
        .into_iter()
        .filter(|notice| {
            !matches!(
                notice.kind(),
                NoticeKind::CheckoutReceipt | NoticeKind::CheckinReceipt | NoticeKind::RenewalReceipt
            )
        })
        .collect()
}

/// Waits until no delivery of `school` is PENDING or FAILED with its next
/// attempt due (the sender has done what it can now); returns the log.
async fn settled(suite: &TestSuite, token: &str, school: &School) -> Vec<Delivery> {
    let now = suite.clock.now().timestamp();
    eventually(SENDING, "the sender to hand out what is due", || async {
        let log = deliveries(suite, token, school).await;
        let waiting = log.iter().any(|delivery| {
            matches!(delivery.state(), DeliveryState::Pending | DeliveryState::Failed)
                && delivery.next_attempt_time.as_ref().is_none_or(|next| next.seconds <= now)
        });
        (!waiting).then_some(log)
    })
    .await
}

fn triggers(response: &SendDueRemindersResponse) -> Vec<Trigger> {
    response.reminders.iter().map(|reminder| reminder.trigger()).collect()
}

fn of(log: &[Delivery], trigger: Trigger, channel: Via) -> Vec<Delivery> {
    log.iter()
        .filter(|delivery| delivery.trigger() == trigger && delivery.channel() == channel)
        .cloned()
        .collect()
}

/// 08:00 on `day` in Shanghai, as the clock's instant.
fn eight_on(day: NaiveDate) -> chrono::DateTime<Utc> {
    Shanghai.from_local_datetime(&day.and_hms_opt(8, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
}

/// Moves the suite clock to 08:00 on `day`.
fn move_to(suite: &TestSuite, day: NaiveDate) {
    let by = eight_on(day) - suite.clock.now();
    assert!(by >= chrono::Duration::zero(), "the clock only moves forward");
    suite.clock.advance(by);
}

// ---- a: the right reminder on the right day ----------------------------------

#[tokio::test]
async fn due_soon_due_today_and_three_overdue_reminders_go_out_on_their_days() {
    let bridge = Bridge::start().await;
    let suite =
        TestSuite::start_with_channels(crate::harness::channels(None, Some((&bridge.url(), SECRET)))).await;
    let school = suite.school("RM-A", "提醒小学").await;
    let reader = pupil(&suite, &school, "R500001", "李小红").await;
    contact(&suite, &reader, ContactWho::Guardian, ContactChannel::Phone, "+8613800138001").await;
    prefer(&suite, &reader, &[NotificationChannel::Sms, NotificationChannel::InApp], "zh-CN").await;
    let (loan, due) = lend(&suite, &school, "R500001", "A500001", "草房子", 0).await;
    let first_day = suite.today();
    assert_eq!(due, first_day + chrono::Duration::days(14), "students borrow for 14 days");

    let expected = |day: NaiveDate| match (day - due).num_days() {
        -2 => Some(Trigger::DueSoon),
        0 => Some(Trigger::DueToday),
        1 => Some(Trigger::Overdue1),
        7 => Some(Trigger::Overdue2),
        14 => Some(Trigger::Overdue3),
        _ => None,
    };
    let mut day = first_day;
    let mut sent = Vec::new();
    while day <= due + chrono::Duration::days(16) {
        move_to(&suite, day);
        let token = admin_now(&suite).await;
        let before = deliveries(&suite, &token, &school).await;
        let dry = send_due(&suite, &token, &school, true).await;
        assert_eq!(dry.day, day.format("%Y-%m-%d").to_string());
        assert_eq!(dry.deliveries_queued, 0, "a dry run queues nothing");
        assert_eq!(triggers(&dry), Vec::from_iter(expected(day)), "dry run on {day}");
        if let Some(trigger) = expected(day) {
            let due_reminder = &dry.reminders[0];
            assert_eq!(
                (due_reminder.subject_id.as_str(), due_reminder.reader_id.as_str()),
                (loan.as_str(), reader.id.as_str())
            );
            assert_eq!(due_reminder.title, "草房子");
            assert_eq!(due_reminder.reader_name, "李小红");
            let planned: Vec<(Recipient, Via)> = due_reminder
                .messages
                .iter()
                .map(|message| (message.recipient(), message.channel()))
                .collect();
            assert!(planned.contains(&(Recipient::Reader, Via::InApp)), "{planned:?}");
            assert!(planned.contains(&(Recipient::Guardian, Via::Webhook)), "{planned:?}");
            // The dry run changed nothing: the same log, and it lists the same again.
            assert_eq!(deliveries(&suite, &token, &school).await, before, "a dry run makes no delivery");
            assert_eq!(triggers(&send_due(&suite, &token, &school, true).await), [trigger]);
        }

        let made = send_due(&suite, &token, &school, false).await;
        assert_eq!(triggers(&made), Vec::from_iter(expected(day)), "on {day}");
        if let Some(trigger) = expected(day) {
            assert!(made.deliveries_queued >= 2, "the inbox and the guardian's phone: {made:?}");
            sent.push(trigger);
            // Made once: the next pass the same day finds nothing more.
            assert!(send_due(&suite, &token, &school, true).await.reminders.is_empty());
            let log = settled(&suite, &token, &school).await;
            for channel in [Via::InApp, Via::Webhook] {
                let made = of(&log, trigger, channel);
                assert_eq!(made.len(), 1, "{trigger:?} over {channel:?}: {log:?}");
                assert_eq!(made[0].state(), DeliveryState::Sent, "{:?}", made[0]);
                assert_eq!(made[0].subject_id, loan);
            }
        }
        day += chrono::Duration::days(1);
    }
    assert_eq!(
        sent,
        [Trigger::DueSoon, Trigger::DueToday, Trigger::Overdue1, Trigger::Overdue2, Trigger::Overdue3]
    );

    // The guardian's bridge got each once, signed, in that order, about this loan.
    assert_eq!(bridge.triggers(), ["due_soon", "due_today", "overdue_1", "overdue_2", "overdue_3"]);
    for body in bridge.accepted() {
        assert_eq!(body["channel"], "sms");
        assert_eq!(body["to"], "+8613800138001");
        assert_eq!(body["school_id"], school.id.as_str());
        assert!(body["body"].as_str().unwrap_or("").contains("草房子"), "{body}");
    }
    assert!(bridge.received().iter().all(|call| call.signed));
    // The reader's inbox has the five reminders, newest first.
    let token = admin_now(&suite).await;
    let inbox = reminder_notices(&suite, &token, &reader).await;
    let kinds: Vec<NoticeKind> = inbox.iter().map(Notice::kind).collect();
    assert_eq!(
        kinds,
        [
            NoticeKind::Overdue,
            NoticeKind::Overdue,
            NoticeKind::Overdue,
            NoticeKind::DueToday,
            NoticeKind::DueSoon
        ]
    );
    assert!(
        inbox
            .iter()
            .all(|notice| notice.loan_id == loan && !notice.subject.is_empty() && notice.title == "草房子")
    );
}

// ---- b: closed days and term breaks ----------------------------------------

#[tokio::test]
async fn nothing_goes_out_on_a_closed_day_or_in_a_break_and_it_follows_on_the_next_open_day() {
    let suite = TestSuite::start().await;
    let school = suite.school("RM-B", "日历提醒小学").await;
    let reader = pupil(&suite, &school, "R500101", "赵一鸣").await;
    let (_, due) = lend(&suite, &school, "R500101", "A500101", "青铜葵花", 0).await;
    let day = |offset: i64| due + chrono::Duration::days(offset);
    let text = |day: NaiveDate| day.format("%Y-%m-%d").to_string();
    // Closed the two days after the due day (sports days), and a term
    // break around the second overdue reminder's day.
    suite
        .calendars()
        .set_school_calendar(suite.admin(SetSchoolCalendarRequest {
            calendar: Some(SchoolCalendar {
                school_id: school.id.clone(),
                closures: vec![
                    Closure {
                        first_day: text(day(1)),
                        last_day: text(day(2)),
                        kind: ClosureKind::Holiday.into(),
                        name: "运动会".into(),
                    },
                    Closure {
                        first_day: text(day(6)),
                        last_day: text(day(9)),
                        kind: ClosureKind::TermBreak.into(),
                        name: "秋假".into(),
                    },
                ],
                ..Default::default()
            }),
            request_id: String::new(),
        }))
        .await
        .expect("calendar set");

    let mut made = BTreeMap::new();
    for offset in [0, 1, 2, 3, 4, 7, 8, 9, 10, 11] {
        move_to(&suite, day(offset));
        let token = admin_now(&suite).await;
        let answer = send_due(&suite, &token, &school, false).await;
        made.insert(offset, triggers(&answer));
    }
    let expected = BTreeMap::from([
        (0, vec![Trigger::DueToday]),
        // Closed: nothing; the first overdue reminder waits for the day the library opens.
        (1, vec![]),
        (2, vec![]),
        (3, vec![Trigger::Overdue1]),
        (4, vec![]),
        // The break: nothing; the second follows on the first day after it.
        (7, vec![]),
        (8, vec![]),
        (9, vec![]),
        (10, vec![Trigger::Overdue2]),
        (11, vec![]),
    ]);
    assert_eq!(made, expected, "offsets from the due day {due}");
    let token = admin_now(&suite).await;
    let log = settled(&suite, &token, &school).await;
    let days_sent: Vec<String> = log
        .iter()
        .filter_map(|delivery| delivery.sent_time.as_ref())
        .map(|at| Utc.timestamp_opt(at.seconds, 0).unwrap().with_timezone(&Shanghai).date_naive().to_string())
        .collect();
    for closed in [day(1), day(2), day(7), day(8), day(9)] {
        assert!(!days_sent.contains(&closed.to_string()), "sent on closed day {closed}: {log:?}");
    }
    assert_eq!(reminder_notices(&suite, &token, &reader).await.len(), 3);
}

// ---- c: a book that came back ------------------------------------------------

#[tokio::test]
async fn a_book_returned_before_the_message_leaves_gets_no_overdue_notice() {
    let bridge = Bridge::start().await;
    let suite =
        TestSuite::start_with_channels(crate::harness::channels(None, Some((&bridge.url(), SECRET)))).await;
    let school = suite.school("RM-C", "归还小学").await;
    let early = pupil(&suite, &school, "R500201", "钱多多").await;
    let late = pupil(&suite, &school, "R500202", "孙悟空").await;
    for reader in [&early, &late] {
        contact(
            &suite,
            reader,
            ContactWho::Guardian,
            ContactChannel::Wechat,
            &format!("oUpF8u_{}", reader.card_barcode),
        )
        .await;
        prefer(&suite, reader, &[NotificationChannel::Wechat, NotificationChannel::InApp], "zh-CN").await;
    }
    // Both lent 15 days ago: overdue by one day today.
    lend(&suite, &school, "R500201", "A500201", "小王子", 15).await;
    let (late_loan, _) = lend(&suite, &school, "R500202", "A500202", "夏洛的网", 15).await;

    // The first comes back before anything was worked out: nothing is planned for it.
    suite
        .loans()
        .check_in(suite.admin(CheckInRequest { copy_barcode: "A500201".into(), ..Default::default() }))
        .await
        .expect("returned");

    // 23:00: the pass makes the second's reminder; the phone waits for the morning.
    suite.clock.advance(chrono::Duration::hours(15));
    let token_late = admin_now(&suite).await;
    let dry = send_due(&suite, &token_late, &school, true).await;
    assert_eq!(dry.reminders.iter().map(|r| r.reader_id.as_str()).collect::<Vec<_>>(), [late.id.as_str()]);
    let made = send_due(&suite, &token_late, &school, false).await;
    assert_eq!(made.reminders.len(), 1, "only the book still out: {made:?}");
    assert_eq!(made.reminders[0].subject_id, late_loan);
    let log = eventually(SENDING, "the inbox notice", || async {
        let log = deliveries(&suite, &token_late, &school).await;
        (of(&log, Trigger::Overdue1, Via::InApp).iter().any(|d| d.state() == DeliveryState::Sent))
            .then_some(log)
    })
    .await;
    let waiting = of(&log, Trigger::Overdue1, Via::Webhook);
    assert_eq!(waiting.len(), 1, "{log:?}");
    assert_eq!(waiting[0].state(), DeliveryState::Pending);
    assert!(
        log.iter().all(|delivery| delivery.reader_id == late.id),
        "nothing about the returned book: {log:?}"
    );

    // The book comes back at 23:30, before the message left.
    suite.clock.advance(chrono::Duration::minutes(30));
    let token = admin_now(&suite).await;
    suite
        .loans()
        .check_in(bearer(CheckInRequest { copy_barcode: "A500202".into(), ..Default::default() }, &token))
        .await
        .expect("returned");
    // The morning: the overdue message is cancelled, never sent.
    suite.clock.advance(chrono::Duration::hours(8) + chrono::Duration::minutes(1));
    let token = admin_now(&suite).await;
    let again = send_due(&suite, &token, &school, false).await;
    assert!(again.reminders.is_empty(), "{again:?}");
    let cancelled = eventually(SENDING, "the overdue message to be cancelled", || async {
        let log = deliveries(&suite, &token, &school).await;
        let message = of(&log, Trigger::Overdue1, Via::Webhook).pop()?;
        (message.state() == DeliveryState::Cancelled).then_some(message)
    })
    .await;
    assert!(cancelled.sent_time.is_none(), "{cancelled:?}");
    assert!(bridge.received().is_empty(), "nothing reached the phone: {:?}", bridge.received());
    assert!(reminder_notices(&suite, &token, &early).await.is_empty());
}

// ---- d: one message for a parent of two -------------------------------------

#[tokio::test]
async fn a_guardian_of_two_children_gets_one_email_listing_both() {
    let relay = Relay::start().await;
    let suite = TestSuite::start_with_channels(crate::harness::channels(Some(relay.address), None)).await;
    let school = suite.school("RM-D", "家长小学").await;
    let other = suite.school("RM-D2", "家长中学").await;
    let parent = "zhang.mama@example.cn";
    let children = [
        (pupil(&suite, &school, "R500301", "张小一").await, "A500301", "草房子"),
        (pupil(&suite, &school, "R500302", "张小二").await, "A500302", "城南旧事"),
        (pupil(&suite, &other, "R500303", "张大哥").await, "B500303", "骆驼祥子"),
    ];
    for (child, barcode, title) in &children {
        contact(&suite, child, ContactWho::Guardian, ContactChannel::Email, parent).await;
        prefer(&suite, child, &[NotificationChannel::Email, NotificationChannel::InApp], "zh-CN").await;
        let at = if child.school_id == school.id { &school } else { &other };
        lend(&suite, at, &child.card_barcode, barcode, title, 15).await;
    }
    let token = admin_now(&suite).await;
    let made = send_due(&suite, &token, &school, false).await;
    assert_eq!(made.reminders.len(), 2, "{made:?}");
    let log = settled(&suite, &token, &school).await;
    let mails = of(&log, Trigger::Overdue1, Via::Email);
    assert_eq!(mails.len(), 2, "one delivery per child: {log:?}");
    assert!(
        mails.iter().all(|mail| mail.state() == DeliveryState::Sent && mail.address == parent),
        "{mails:?}"
    );
    assert!(!mails[0].message_id.is_empty());
    assert_eq!(mails[0].message_id, mails[1].message_id, "sent together, in one message");
    let received = relay.mails_to(parent);
    assert_eq!(received.len(), 1, "one e-mail for both children: {received:?}");
    let text = received[0].text();
    for needle in ["张小一", "张小二", "草房子", "城南旧事"] {
        assert!(text.contains(needle), "the digest should name {needle}:\n{text}");
    }
    assert!(!text.contains("骆驼祥子"), "the other school's book is in its own message");

    // The other school's child: a message of its own, from that school.
    send_due(&suite, &token, &other, false).await;
    settled(&suite, &token, &other).await;
    let received = relay.mails_to(parent);
    assert_eq!(received.len(), 2);
    assert!(received[1].text().contains("骆驼祥子"));
}

// ---- e: quiet hours ---------------------------------------------------------

#[tokio::test]
async fn at_23_00_the_phone_waits_until_07_30_and_the_inbox_has_it_at_once() {
    let bridge = Bridge::start().await;
    let suite =
        TestSuite::start_with_channels(crate::harness::channels(None, Some((&bridge.url(), SECRET)))).await;
    let school = suite.school("RM-E", "安静小学").await;
    let reader = pupil(&suite, &school, "R500401", "周晓").await;
    contact(&suite, &reader, ContactWho::Guardian, ContactChannel::Phone, "+8613800138004").await;
    prefer(&suite, &reader, &[NotificationChannel::Sms, NotificationChannel::InApp], "zh-CN").await;
    lend(&suite, &school, "R500401", "A500401", "稻草人", 15).await;
    let today = suite.today();

    suite.clock.advance(chrono::Duration::hours(15));
    let token = admin_now(&suite).await;
    let made = send_due(&suite, &token, &school, false).await;
    assert_eq!(triggers(&made), [Trigger::Overdue1]);
    // The inbox has it at once.
    let inbox = eventually(SENDING, "the inbox notice", || async {
        let inbox = reminder_notices(&suite, &token, &reader).await;
        (!inbox.is_empty()).then_some(inbox)
    })
    .await;
    assert_eq!(inbox[0].kind(), NoticeKind::Overdue);
    // The phone's message waits for the end of quiet hours: 07:30 tomorrow in Shanghai.
    let morning = Shanghai
        .from_local_datetime(&(today + chrono::Duration::days(1)).and_hms_opt(7, 30, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let log = deliveries(&suite, &token, &school).await;
    let waiting = of(&log, Trigger::Overdue1, Via::Webhook);
    assert_eq!(waiting.len(), 1, "{log:?}");
    assert_eq!(waiting[0].state(), DeliveryState::Pending);
    assert_eq!(waiting[0].next_attempt_time.as_ref().map(|at| at.seconds), Some(morning.timestamp()));
    assert!(of(&log, Trigger::Overdue1, Via::InApp).iter().all(|d| d.state() == DeliveryState::Sent));
    assert!(bridge.received().is_empty(), "nothing reached a phone at 23:00");

    // 07:29: still quiet. 07:31: it goes.
    suite.clock.advance(morning - suite.clock.now() - chrono::Duration::minutes(1));
    let token = admin_now(&suite).await;
    send_due(&suite, &token, &school, false).await;
    suite.clock.advance(chrono::Duration::minutes(2));
    let token = admin_now(&suite).await;
    send_due(&suite, &token, &school, false).await;
    let log = settled(&suite, &token, &school).await;
    let sent = of(&log, Trigger::Overdue1, Via::Webhook);
    assert_eq!(sent[0].state(), DeliveryState::Sent, "{sent:?}");
    assert!(sent[0].sent_time.as_ref().unwrap().seconds >= morning.timestamp());
    assert_eq!(bridge.triggers(), ["overdue_1"]);
}

// ---- f: opting out ----------------------------------------------------------

#[tokio::test]
async fn the_unsubscribe_link_stops_email_to_that_address_and_nothing_else() {
    let relay = Relay::start().await;
    let suite = TestSuite::start_with_channels(crate::harness::channels(Some(relay.address), None)).await;
    let school = suite.school("RM-F", "退订小学").await;
    let reader = pupil(&suite, &school, "R500501", "吴桐").await;
    let parent = "wu.baba@example.cn";
    contact(&suite, &reader, ContactWho::Guardian, ContactChannel::Email, parent).await;
    contact(&suite, &reader, ContactWho::Guardian, ContactChannel::Email, "wu.mama@example.cn").await;
    prefer(&suite, &reader, &[NotificationChannel::Email, NotificationChannel::InApp], "zh-CN").await;
    let (_, due) = lend(&suite, &school, "R500501", "A500501", "窗边的小豆豆", 15).await;
    let token = admin_now(&suite).await;
    send_due(&suite, &token, &school, false).await;
    settled(&suite, &token, &school).await;
    let first = relay.mails_to(parent);
    assert_eq!(first.len(), 1);
    let mail = &first[0];
    assert_eq!(mail.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let link = mail.header("List-Unsubscribe").expect("a List-Unsubscribe header");
    let link = link.trim_matches(['<', '>']);
    assert!(mail.text().contains(link), "the body carries the same link: {link}");
    let token_in_link = link.split("token=").nth(1).expect("a token in the link").to_owned();
    assert!(mail.header("Message-ID").is_some());

    // A token that was tampered with is refused, naming the token.
    let tampered = format!("x{token_in_link}");
    let refused = reminders(&suite).unsubscribe(UnsubscribeRequest { token: tampered }).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("token"), "{refused:?}");
    // The parent follows the link: no sign-in needed.
    let answer = reminders(&suite)
        .unsubscribe(UnsubscribeRequest { token: token_in_link.clone() })
        .await
        .expect("unsubscribed without signing in")
        .into_inner();
    assert_eq!(answer.channel(), Via::Email);
    assert!(answer.address_hint.starts_with('w') && answer.address_hint.ends_with("@example.cn"));
    assert!(!answer.address_hint.contains("wu.baba"), "the hint hides the address: {}", answer.address_hint);
    // Twice is fine.
    reminders(&suite).unsubscribe(UnsubscribeRequest { token: token_in_link }).await.expect("again");

    // The second overdue reminder: the other guardian and the inbox get it, this address not.
    move_to(&suite, due + chrono::Duration::days(7));
    let token = admin_now(&suite).await;
    assert_eq!(triggers(&send_due(&suite, &token, &school, false).await), [Trigger::Overdue2]);
    let log = settled(&suite, &token, &school).await;
    let second: Vec<String> = of(&log, Trigger::Overdue2, Via::Email)
        .iter()
        .filter(|delivery| delivery.state() != DeliveryState::Cancelled)
        .map(|delivery| delivery.address.clone())
        .collect();
    assert_eq!(second, ["wu.mama@example.cn"]);
    assert_eq!(relay.mails_to(parent).len(), 1, "nothing more to the address that opted out");
    assert_eq!(relay.mails_to("wu.mama@example.cn").len(), 2);
    assert_eq!(reminder_notices(&suite, &token, &reader).await.len(), 2);
}

// ---- g: the signature, and a receiver that fails twice -----------------------

#[tokio::test]
async fn a_failing_webhook_is_retried_with_backoff_until_it_answers() {
    let bridge = Bridge::start().await;
    let suite =
        TestSuite::start_with_channels(crate::harness::channels(None, Some((&bridge.url(), SECRET)))).await;
    let school = suite.school("RM-G", "重试小学").await;
    let reader = pupil(&suite, &school, "R500601", "郑好").await;
    contact(&suite, &reader, ContactWho::Guardian, ContactChannel::Phone, "+8613800138006").await;
    prefer(&suite, &reader, &[NotificationChannel::Sms, NotificationChannel::InApp], "zh-CN").await;
    lend(&suite, &school, "R500601", "A500601", "爱的教育", 15).await;
    bridge.failures.store(2, Ordering::SeqCst);

    let token = admin_now(&suite).await;
    send_due(&suite, &token, &school, false).await;
    let failed = |attempts: i32| {
        let suite = &suite;
        let school = &school;
        async move {
            let token = admin_now(suite).await;
            eventually(SENDING, "a failed attempt", || async {
                let log = deliveries(suite, &token, school).await;
                let message = of(&log, Trigger::Overdue1, Via::Webhook).pop()?;
                (message.attempts == attempts).then_some(message)
            })
            .await
        }
    };
    let first = failed(1).await;
    assert_eq!(first.state(), DeliveryState::Failed, "{first:?}");
    assert!(first.last_error.contains("500"), "the bridge's answer: {:?}", first.last_error);
    assert!(!first.last_error.contains("+8613800138006"));
    let now = suite.clock.now().timestamp();
    assert_eq!(first.next_attempt_time.as_ref().map(|at| at.seconds - now), Some(60), "1 minute first");

    // A minute on: the second attempt fails too, the next in five minutes.
    suite.clock.advance(chrono::Duration::seconds(61));
    send_due(&suite, &admin_now(&suite).await, &school, false).await;
    let second = failed(2).await;
    assert_eq!(second.state(), DeliveryState::Failed);
    let now = suite.clock.now().timestamp();
    assert_eq!(second.next_attempt_time.as_ref().map(|at| at.seconds - now), Some(300), "then 5 minutes");

    // Five minutes on: the bridge takes it.
    suite.clock.advance(chrono::Duration::seconds(301));
    let token = admin_now(&suite).await;
    send_due(&suite, &token, &school, false).await;
    let log = settled(&suite, &token, &school).await;
    let sent = of(&log, Trigger::Overdue1, Via::Webhook).pop().unwrap();
    assert_eq!((sent.state(), sent.attempts), (DeliveryState::Sent, 3), "{sent:?}");
    assert_eq!(sent.provider_id, format!("bridge-{}", sent.id), "the bridge's id for it");
    let calls = bridge.received();
    assert_eq!(calls.iter().map(|call| call.status).collect::<Vec<_>>(), [500, 500, 200]);
    assert!(calls.iter().all(|call| call.signed && call.body["id"] == sent.id.as_str()), "{calls:?}");
    let body = &calls[2].body;
    assert_eq!((body["trigger"].as_str(), body["language"].as_str()), (Some("overdue_1"), Some("zh-CN")));
    assert!(body["items"][0]["title"] == "爱的教育", "{body}");
}

// ---- h: two replicas --------------------------------------------------------

#[tokio::test]
async fn two_notification_replicas_on_one_database_send_each_notice_once() {
    let bridge = Bridge::start().await;
    let channels = crate::harness::channels(None, Some((&bridge.url(), SECRET)));
    let suite = TestSuite::start_with_channels(channels.clone()).await;
    let second = suite.second_notification(channels).await;
    let school = suite.school("RM-H", "双副本小学").await;
    let mut readers = Vec::new();
    for index in 0..8 {
        let card = format!("R5007{index:02}");
        let reader = pupil(&suite, &school, &card, &format!("钱{index}")).await;
        contact(
            &suite,
            &reader,
            ContactWho::Guardian,
            ContactChannel::Phone,
            &format!("+86138001387{index:02}"),
        )
        .await;
        prefer(&suite, &reader, &[NotificationChannel::Sms, NotificationChannel::InApp], "zh-CN").await;
        lend(&suite, &school, &card, &format!("A5007{index:02}"), &format!("书{index}"), 15).await;
        readers.push(reader);
    }
    let token = admin_now(&suite).await;
    let request = || bearer(SendDueRemindersRequest { school_id: school.id.clone(), dry_run: false }, &token);
    let mut first_replica = ReminderServiceClient::new(suite.channel_to("notification"));
    let mut second_replica = ReminderServiceClient::new(second.channel.clone());
    let (one, two) = tokio::join!(
        first_replica.send_due_reminders(request()),
        second_replica.send_due_reminders(request())
    );
    let made = one.expect("the first replica's pass").into_inner().reminders.len()
        + two.expect("the second replica's pass").into_inner().reminders.len();
    assert!((8..=16).contains(&made), "each replica may list a reminder, the database keeps one: {made}");
    // And once more each, for the senders to race.
    let (one, two) = tokio::join!(
        first_replica.send_due_reminders(request()),
        second_replica.send_due_reminders(request())
    );
    one.unwrap();
    two.unwrap();
    let log = settled(&suite, &token, &school).await;
    assert_eq!(of(&log, Trigger::Overdue1, Via::Webhook).len(), 8, "one per reader: {log:?}");
    assert_eq!(of(&log, Trigger::Overdue1, Via::InApp).len(), 8);
    assert!(log.iter().all(|delivery| delivery.state() == DeliveryState::Sent), "{log:?}");
    let mut ids: Vec<String> =
        bridge.received().iter().map(|call| call.body["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    let count = ids.len();
    ids.dedup();
    assert_eq!((count, ids.len()), (8, 8), "each delivery reached the bridge once");
    for reader in &readers {
        assert_eq!(
            reminder_notices(&suite, &token, reader).await.len(),
            1,
            "one notice for {}",
            reader.card_barcode
        );
    }
    second.stop().await;
}

// ---- i: no contact detail in a log line -------------------------------------

/// Set in the process that runs the scenario with the log captured.
const LOG_CHILD: &str = "LECTERN_REMINDER_LOG_CAPTURE";

/// The log is global to a test process, and the privacy test captures it
/// too; so this test runs its scenario in a process of its own (this test
/// binary again, with only this test) and reads its verdict.
#[tokio::test]
async fn reminders_log_no_contact_detail() {
    if std::env::var_os(LOG_CHILD).is_some() {
        return logged_scenario().await;
    }
    let output = tokio::task::spawn_blocking(|| {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "reminders::reminders_log_no_contact_detail",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(LOG_CHILD, "1")
            .output()
    })
    .await
    .unwrap()
    .expect("the test binary runs again");
    let shown = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the scenario failed:\n{shown}\n{errors}");
    assert!(shown.contains("1 passed"), "the scenario did not run:\n{shown}");
}

async fn logged_scenario() {
    let captured = crate::harness::capture_log();
    let relay = Relay::start().await;
    let bridge = Bridge::start().await;
    let suite = TestSuite::start_with_channels(crate::harness::channels(
        Some(relay.address),
        Some((&bridge.url(), SECRET)),
    ))
    .await;
    let school = suite.school("RM-I", "日志小学").await;
    let reader = pupil(&suite, &school, "R500801", "欧阳娜娜").await;
    let secrets = ["ouyang.mama@family.example.cn", "+8613912345678", "oUpF8uSecretOpenId"];
    contact(&suite, &reader, ContactWho::Guardian, ContactChannel::Email, secrets[0]).await;
    contact(&suite, &reader, ContactWho::Guardian, ContactChannel::Phone, secrets[1]).await;
    contact(&suite, &reader, ContactWho::Guardian, ContactChannel::Wechat, secrets[2]).await;
    prefer(
        &suite,
        &reader,
        &[
            NotificationChannel::Email,
            NotificationChannel::Sms,
            NotificationChannel::Wechat,
            NotificationChannel::InApp,
        ],
        "zh-CN",
    )
    .await;
    lend(&suite, &school, "R500801", "A500801", "哈利·波特", 15).await;
    // One send fails, so the failure path logs too.
    bridge.failures.store(1, Ordering::SeqCst);
    let token = admin_now(&suite).await;
    send_due(&suite, &token, &school, true).await;
    send_due(&suite, &token, &school, false).await;
    eventually(SENDING, "the mail and a failed webhook call", || async {
        (relay.mails_to(secrets[0]).len() == 1 && !bridge.received().is_empty()).then_some(())
    })
    .await;
    suite.clock.advance(chrono::Duration::minutes(2));
    let token = admin_now(&suite).await;
    send_due(&suite, &token, &school, false).await;
    settled(&suite, &token, &school).await;
    let mail = &relay.mails_to(secrets[0])[0];
    let link = mail.header("List-Unsubscribe").unwrap();
    let unsubscribe = link.trim_matches(['<', '>']).split("token=").nth(1).unwrap().to_owned();
    reminders(&suite).unsubscribe(UnsubscribeRequest { token: unsubscribe.clone() }).await.unwrap();

    let log = String::from_utf8_lossy(&captured.lock().unwrap()).into_owned();
    assert!(
        log.contains(&school.id) || log.contains("reminder") || log.contains("deliver"),
        "nothing was captured:\n{log}"
    );
    for secret in secrets.iter().copied().chain(["欧阳娜娜", SECRET, unsubscribe.as_str()]) {
        assert!(!log.contains(secret), "a log line carries {secret:?}");
    }
    assert!(!log.contains("ouyang.mama"), "a log line carries part of an e-mail address");
}
