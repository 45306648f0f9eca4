//! The sender against a real database (SQLite, or PostgreSQL with
//! `LECTERN_TEST_DATABASE_URL`), with the reader service and circulation
//! down and no SMTP relay: the inbox still fills, e-mails fail and wait.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures::future::BoxFuture;
use lectern_common::db::Db;
use lectern_common::testing::{ReservedPort, TestDatabase, lazy_channel};
use lectern_core::clock::{Clock as _, ManualClock, SharedClock};
use lectern_core::identity::TokenSource;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use tonic::Status;

use super::*;
use crate::channels::ChannelConfig;
use crate::db::schema::{deliveries as deliveries_table, notices, reminders};

#[derive(Debug)]
struct StaticToken;

impl TokenSource for StaticToken {
    fn bearer(&self) -> BoxFuture<'_, Result<String, Status>> {
        Box::pin(async { Ok("token".to_owned()) })
    }
}

fn sender(db: Db, clock: SharedClock, down: &ReservedPort) -> Sender {
    let channel = lazy_channel(down.address());
    let config = ChannelConfig { smtp_from: "library@district.cn".into(), ..ChannelConfig::default() };
    Sender {
        db,
        clock,
        channels: Channels::new(config, "https://lectern.example.cn".into(), "key".into()),
        loans: LoanServiceClient::new(channel.clone()),
        readers: ReaderServiceClient::new(channel.clone()),
        profiles: ReaderProfileServiceClient::new(channel),
        tokens: Arc::new(StaticToken),
        zone: chrono_tz::Asia::Shanghai,
        waker: Arc::new(tokio::sync::Notify::new()),
        interval: Duration::from_secs(30),
        call_timeout: Duration::from_secs(2),
    }
}

fn add_reminder(
    connection: &mut lectern_common::db::DbConnection,
    id: &str,
    trigger: &str,
    now: NaiveDateTime,
) {
    diesel::insert_into(reminders::table)
        .values((
            reminders::id.eq(id),
            reminders::school_id.eq("school-1"),
            reminders::reader_id.eq("reader-1"),
            reminders::subject_id.eq(format!("hold-{id}")),
            reminders::trigger_name.eq(trigger),
            reminders::title.eq("草房子"),
            reminders::due_date.eq(Some("2026-12-12")),
            reminders::state.eq("queued"),
            reminders::day.eq("2026-12-08"),
            reminders::created_at.eq(now),
        ))
        .execute(connection)
        .unwrap();
}

fn add_delivery(
    connection: &mut lectern_common::db::DbConnection,
    id: &str,
    reminder: &str,
    channel: &str,
    address: &str,
    now: NaiveDateTime,
) {
    diesel::insert_into(deliveries_table::table)
        .values((
            deliveries_table::id.eq(id),
            deliveries_table::reminder_id.eq(reminder),
            deliveries_table::school_id.eq("school-1"),
            deliveries_table::reader_id.eq("reader-1"),
            deliveries_table::reader_name.eq("王小明"),
            deliveries_table::trigger_name.eq("hold_ready"),
            deliveries_table::channel.eq(channel),
            deliveries_table::recipient.eq("guardian"),
            deliveries_table::contact_id.eq(""),
            deliveries_table::address.eq(address),
            deliveries_table::language.eq("zh-CN"),
            deliveries_table::state.eq("pending"),
            deliveries_table::attempts.eq(0),
            deliveries_table::last_error.eq(""),
            deliveries_table::provider_id.eq(""),
            deliveries_table::subject.eq(""),
            deliveries_table::message_id.eq(""),
            deliveries_table::next_attempt_at.eq(now),
            deliveries_table::created_at.eq(now),
        ))
        .execute(connection)
        .unwrap();
}

#[tokio::test]
async fn the_inbox_fills_and_mail_without_a_relay_waits_for_a_retry() {
    let database = TestDatabase::migrated("notification", crate::MIGRATIONS);
    let db = Db::connect(database.url(), 4).unwrap();
    let clock = Arc::new(ManualClock::starting_at(lectern_common::testing::start()));
    let now = clock.now().naive_utc().trunc_subsecs(6);
    {
        let mut connection = db.connection().unwrap();
        add_reminder(&mut connection, "rem-1", "hold_ready", now);
        add_delivery(&mut connection, "del-inbox", "rem-1", "in_app", "", now);
        add_delivery(&mut connection, "del-mail", "rem-1", "email", "wang.mama@example.cn", now);
        add_delivery(&mut connection, "del-out", "rem-1", "email", "opted@example.cn", now);
        crate::unsubscribe::opt_out(&mut connection, Via::Email, "opted@example.cn", now).unwrap();
    }
    let down = ReservedPort::new();
    let sender = sender(db.clone(), clock.clone(), &down);

    let summary = sender.run_once().await.unwrap();
    assert_eq!(
        summary,
        SendSummary { claimed: 3, sent: 1, failed: 1, cancelled: 1, ..SendSummary::default() }
    );

    let mut connection = db.connection().unwrap();
    let (kind, subject, body): (String, Option<String>, Option<String>) = notices::table
        .filter(notices::event_id.eq("del-inbox"))
        .select((notices::kind, notices::subject, notices::body))
        .first(&mut connection)
        .unwrap();
    assert_eq!(crate::notices::kind_of(&kind), lectern_proto::notification::v1::NoticeKind::HoldReady);
    assert!(subject.unwrap().contains("王小明预约的书到了"));
    assert!(body.unwrap().contains("《草房子》 请在 2026-12-12 前领取"));

    let states: Vec<(String, String, i32, String, NaiveDateTime)> = deliveries_table::table
        .order(deliveries_table::id)
        .select((
            deliveries_table::id,
            deliveries_table::state,
            deliveries_table::attempts,
            deliveries_table::last_error,
            deliveries_table::next_attempt_at,
        ))
        .load(&mut connection)
        .unwrap();
    assert_eq!(states[0].1, "sent");
    let mail = &states[1];
    assert_eq!((mail.1.as_str(), mail.2), ("failed", 1));
    assert!(mail.3.contains("LECTERN_SMTP_URL"), "{}", mail.3);
    assert_eq!(mail.4, now + chrono::Duration::minutes(1));
    assert_eq!((states[2].1.as_str(), states[2].3.as_str()), ("cancelled", "opted out"));

    // Nothing is due until the retry time; then the mail is tried again.
    assert_eq!(sender.run_once().await.unwrap().claimed, 0);
    clock.advance(chrono::Duration::minutes(1));
    let again = sender.run_once().await.unwrap();
    assert_eq!((again.claimed, again.failed), (1, 1));
}

#[tokio::test]
async fn a_claimed_delivery_is_not_claimed_twice_until_its_lease_expires() {
    let database = TestDatabase::migrated("notification", crate::MIGRATIONS);
    let db = Db::connect(database.url(), 4).unwrap();
    let now = lectern_common::testing::start().naive_utc().trunc_subsecs(6);
    let mut connection = db.connection().unwrap();
    add_reminder(&mut connection, "rem-1", "hold_ready", now);
    add_delivery(&mut connection, "del-1", "rem-1", "email", "a@example.cn", now);
    add_delivery(&mut connection, "del-2", "rem-1", "email", "b@example.cn", now);
    let lease = now + chrono::Duration::minutes(15);
    let first = deliveries::claim(&mut connection, "one", now, lease, 1).unwrap();
    let second = deliveries::claim(&mut connection, "two", now, lease, 10).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(second.len(), 1);
    assert_ne!(first[0].id, second[0].id);
    assert!(deliveries::claim(&mut connection, "three", now, lease, 10).unwrap().is_empty());
    // Another holder cannot record what it does not hold.
    assert_eq!(
        deliveries::mark_sent(&mut connection, &[first[0].id.clone()], "two", "s", "p", "m", now).unwrap(),
        0
    );
    assert_eq!(
        deliveries::mark_sent(&mut connection, &[first[0].id.clone()], "one", "s", "p", "m", now).unwrap(),
        1
    );
    assert_eq!(deliveries::count_sent_since(&mut connection, "school-1", "email", now).unwrap(), 1);
    // An expired lease frees the row.
    let later = lease + chrono::Duration::seconds(1);
    let retaken =
        deliveries::claim(&mut connection, "four", later, later + chrono::Duration::minutes(15), 10).unwrap();
    assert_eq!(
        retaken.iter().map(|claimed| claimed.id.as_str()).collect::<Vec<_>>(),
        vec![second[0].id.as_str()]
    );
}
