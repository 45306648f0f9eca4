//! `lectern bench reminders`: a district morning's reminders through the
//! whole suite, the figures issue 18 asks for: how long the planning pass
//! takes, how soon every message is handed to its channel, and how soon
//! after the pass starts the first and the last webhook request leave.
//!
//! The bench starts the whole suite in this process on fresh databases (as
//! `lectern bench checkout` does; they are removed afterwards) with the
//! real clock, and a webhook receiver of its own on loopback (a small HTTP
//! server that answers 200 and notes when each request came) as the
//! notification service's webhook channel. No SMTP relay is configured:
//! an SMTP relay's speed is the relay's, not Lectern's, so the channels
//! measured are the in-app inbox and the webhook.
//!
//! The district is generated fast, straight into the services' databases:
//! schools and classes through the reader service (a few calls); readers,
//! guardians' phone numbers and the SMS + in-app preferences of those
//! readers as rows of the reader service's database; open loans as rows of
//! circulation's `loans` and the matching rows of notification's
//! `loan_schedules` (what circulation's `loan.checked_out` events would
//! have made). `--overdue-percent` of the loans are 1 to 30 days overdue,
//! the rest fall due 1 to 28 days from today (the schools' day, in the
//! suite's time zone, Asia/Shanghai). With the default settings a loan
//! gets a reminder today when it is overdue (the latest of overdue 1, 7
//! and 14 days whose day has come) or due within two days ("due soon").
//! One in fifty of the loans about to be reminded of was returned at the
//! desk a moment ago: circulation has the return, notification's schedule
//! not yet (its event is on its way), so the planner's re-check with
//! circulation must skip it.
//!
//! Each school's reminder settings are the defaults except three, saved
//! through `UpdateReminderSettings` before the pass: no quiet hours and
//! sending on closed days (so the figures do not depend on when the bench
//! runs), and daily caps high enough for the district's morning.
//!
//! Then, timed: one `ReminderService.SendDueReminders` call (not a dry
//! run, all schools, as the district admin, straight to the notification
//! service) and the hand-off of every delivery it queued, watched in
//! notification's database until none is waiting, and at the receiver.
//! The call answers after the planner's pass and one batch of the sender
//! (200 deliveries), which the handler runs before answering. Unlike the
//! background pass, a pass asked for does not wake the sender's loop, so
//! the rest waits for the loop's timer (30 s in service); the bench sets
//! that timer to `--sender-interval-ms` (1 s), standing in for the wake-up
//! the background pass gives, and the loop then sends batch after batch.
//! The background planner is set to a day, so only the measured pass
//! plans.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use chrono::{Days, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use lectern_common::db::batch::bulk_insert;
use lectern_common::db::{Backend, Db, DbConnection, DbError};
use lectern_core::client::with_bearer;
use lectern_core::ids::new_id;
use lectern_proto::notification::v1::reminder_service_client::ReminderServiceClient;
use lectern_proto::notification::v1::{
    GetReminderSettingsRequest, SendDueRemindersRequest, UpdateReminderSettingsRequest,
};
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{CreateClassRequest, CreateSchoolRequest};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tonic::transport::Channel;

use super::scratch::Scratch;
use crate::suite::Suite;

/// Deadline of the setup calls.
const DEADLINE: Duration = Duration::from_secs(30);
/// Deadline of the planning pass itself.
const PASS_DEADLINE: Duration = Duration::from_secs(3600);
/// How often the bench looks at the deliveries while they are handed off.
const POLL: Duration = Duration::from_millis(20);
/// The planner's re-check chunks (`plan.rs`).
const PLANNER_CHUNK: usize = 500;
/// "Due soon" this many days before the due day (the default setting).
const DUE_SOON_DAYS: i64 = 2;
/// One in this many loans about to be reminded of was just returned.
const RETURNED_ONE_IN: usize = 50;
/// Rows per insert transaction while generating.
const ROWS_PER_WRITE: usize = 10_000;
/// Classes per school: grades 1 to 6.
const GRADES: i32 = 6;
/// Titles the loans are of (they appear in the texts).
const TITLES: [&str; 8] =
    ["草房子", "窗边的小豆豆", "小王子", "夏洛的网", "城南旧事", "稻草人", "昆虫记", "西游记"];

/// Arguments of `lectern bench reminders`.
#[derive(Debug, Clone, clap::Args)]
pub struct RemindersBenchArgs {
    /// Where to make the bench's databases: a folder (a new subfolder of
    /// SQLite files, removed afterwards) or a PostgreSQL server URL such as
    /// postgres://postgres@127.0.0.1:5432/postgres (four new databases,
    /// dropped afterwards).
    #[arg(long)]
    pub database_url: String,
    /// Open loans in the district.
    #[arg(long, default_value_t = 100_000)]
    pub loans: usize,
    /// Share of the loans that are overdue, in percent.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub overdue_percent: u32,
    /// Readers in the district, spread over the schools.
    #[arg(long, default_value_t = 20_000)]
    pub readers: usize,
    /// Schools in the district.
    #[arg(long, default_value_t = 10)]
    pub schools: usize,
    /// Share of the readers, in percent, whose guardian's phone number is
    /// on file and who chose SMS besides the inbox (their reminders also go
    /// to the webhook).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub phone_percent: u32,
    /// The sender's timer (`LECTERN_SENDER_INTERVAL_MS`) in the bench's
    /// suite: after the pass's own batch, the rest waits for it.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub sender_interval_ms: u64,
}

/// One channel's hand-off.
#[derive(Debug, Clone)]
pub struct ChannelFigures {
    /// As stored: "in_app", "webhook".
    pub channel: String,
    /// Deliveries sent.
    pub sent: usize,
    /// From the pass's start to the first and the last `sent_at`.
    pub first: Duration,
    pub last: Duration,
    /// Deliveries per second from the first delivery of any channel sent
    /// to this channel's last (the inbox stamps a whole batch with one
    /// time, so a channel's own first-to-last span can be nearly zero).
    pub per_second: f64,
}

/// What a run generated and measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub backend: Backend,
    pub schools: usize,
    pub readers: usize,
    /// Readers with a guardian's phone and SMS chosen.
    pub readers_with_phone: usize,
    pub loans: usize,
    pub overdue: usize,
    /// Loans due within the "due soon" days (two by default).
    pub due_soon: usize,
    /// Writing the district into the databases.
    pub generate: Duration,
    /// The schools' day the loans were generated for and the pass ran on.
    pub day: String,
    /// Wall time of the `SendDueReminders` call.
    pub pass: Duration,
    /// Reminders the pass made, and how many the generated loans call for.
    pub reminders: usize,
    pub expected_reminders: usize,
    /// Loans the pass skipped as returned, and how many were.
    pub skipped_returned: usize,
    pub expected_skipped: usize,
    /// Loans the planner re-checked with circulation (reminders made plus
    /// loans skipped), and the `BatchGetLoans` calls that took in chunks of
    /// 500.
    pub rechecked: usize,
    pub planner_batch_calls: usize,
    /// Deliveries the pass queued, and how many the generated data call for.
    pub deliveries_queued: usize,
    pub expected_deliveries: usize,
    /// Per channel, in-app first.
    pub channels: Vec<ChannelFigures>,
    /// Deliveries in another state than sent after the hand-off, by state.
    pub not_sent: BTreeMap<String, usize>,
    /// From the pass's start to the last delivery sent.
    pub all_sent: Duration,
    /// Webhook deliveries the generated data call for, and the requests
    /// the receiver got.
    pub expected_webhook: usize,
    pub webhook_requests: usize,
    /// From the pass's start to the first and last webhook request received.
    pub first_webhook: Option<Duration>,
    pub last_webhook: Option<Duration>,
    /// What the bench made and removed: PostgreSQL databases or a folder.
    pub scratch: Vec<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = super::common::backend_name(self.backend);
        writeln!(
            formatter,
            "reminders on {backend}, school day {}: {} schools, {} readers ({} with a guardian's phone and SMS), \
             {} open loans ({} overdue, {} due within two days); generated in {:.1} s",
            self.day,
            self.schools,
            self.readers,
            self.readers_with_phone,
            self.loans,
            self.overdue,
            self.due_soon,
            self.generate.as_secs_f64()
        )?;
        writeln!(
            formatter,
            "planning pass (SendDueReminders, all schools): {:.2} s; {} reminders (expected {}), {} loans re-checked \
             in {} BatchGetLoans calls, {} skipped as returned (expected {}), {} deliveries queued (expected {})",
            self.pass.as_secs_f64(),
            self.reminders,
            self.expected_reminders,
            self.rechecked,
            self.planner_batch_calls,
            self.skipped_returned,
            self.expected_skipped,
            self.deliveries_queued,
            self.expected_deliveries
        )?;
        writeln!(
            formatter,
            "{:<8} | {:>10} | {:>13} | {:>12} | {:>12}",
            "channel", "deliveries", "first sent s", "last sent s", "deliveries/s"
        )?;
        for channel in &self.channels {
            writeln!(
                formatter,
                "{:<8} | {:>10} | {:>13.2} | {:>12.2} | {:>12.1}",
                channel.channel,
                channel.sent,
                channel.first.as_secs_f64(),
                channel.last.as_secs_f64(),
                channel.per_second
            )?;
        }
        if !self.not_sent.is_empty() {
            writeln!(formatter, "not sent: {:?}", self.not_sent)?;
        }
        let seconds =
            |at: Option<Duration>| at.map_or_else(|| "-".to_owned(), |at| format!("{:.2}", at.as_secs_f64()));
        writeln!(
            formatter,
            "every delivery sent {:.2} s after the pass started; webhook requests received: {} (expected {}), \
             first {} s, last {} s after the pass started",
            self.all_sent.as_secs_f64(),
            self.webhook_requests,
            self.expected_webhook,
            seconds(self.first_webhook),
            seconds(self.last_webhook)
        )
    }
}

/// Runs the bench and returns its figures.
pub async fn run(args: &RemindersBenchArgs) -> anyhow::Result<Report> {
    ensure!(args.loans > 0, "--loans must be above zero");
    ensure!(args.schools > 0, "--schools must be above zero");
    ensure!(args.readers >= args.schools, "--readers must be at least --schools (one reader per school)");
    let scratch = Scratch::create(&args.database_url, "lectern_remind")?;
    let result = measure(args, &scratch).await;
    let made = scratch.made();
    let mut report = scratch.remove_after(result)?;
    report.scratch = made;
    Ok(report)
}

/// The webhook receiver: answers 200 with an id and notes when each
/// request came.
#[derive(Debug, Default)]
struct Receiver {
    arrivals: Mutex<Vec<Instant>>,
}

impl Receiver {
    fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().map(|arrivals| arrivals.clone()).unwrap_or_default()
    }
}

async fn receive(axum::extract::State(receiver): axum::extract::State<Arc<Receiver>>) -> String {
    let at = Instant::now();
    let count = match receiver.arrivals.lock() {
        Ok(mut arrivals) => {
            arrivals.push(at);
            arrivals.len()
        }
        Err(_) => 0,
    };
    format!("{{\"id\":\"bench-{count}\"}}")
}

/// Starts the receiver on loopback; returns its URL and the task serving it.
async fn start_receiver(
    receiver: Arc<Receiver>,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("http://{}/webhook", listener.local_addr()?);
    let app = axum::Router::new().route("/webhook", axum::routing::post(receive)).with_state(receiver);
    let task = tokio::spawn(async move {
        let stopped = async {
            let _ = stop.await;
        };
        if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
            tracing::warn!(%error, "the bench's webhook receiver stopped");
        }
    });
    Ok((url, task))
}

async fn measure(args: &RemindersBenchArgs, scratch: &Scratch) -> anyhow::Result<Report> {
    let receiver = Arc::new(Receiver::default());
    let (stop_receiver, stop) = tokio::sync::oneshot::channel();
    let (webhook_url, receiver_task) = start_receiver(receiver.clone(), stop).await?;
    let secret = new_id();
    let channels = lectern_notification::ChannelConfig::from_vars(|name| match name {
        "LECTERN_WEBHOOK_URL" => Some(webhook_url.clone()),
        "LECTERN_WEBHOOK_SECRET" => Some(secret.clone()),
        _ => None,
    })
    .map_err(|error| anyhow::anyhow!("the bench's webhook: {error}"))?;

    let mut config = super::common::suite_config(scratch);
    config.notification.channels = channels;
    // The background pass runs once at start (nothing to do then) and not
    // again during the bench: the measured pass is the one asked for.
    config.notification.reminder_interval = Duration::from_secs(24 * 3600);
    // A pass asked for over gRPC sends one batch itself and does not wake
    // the sender's loop (the background pass does); the loop's timer,
    // short here, stands in for that wake-up.
    config.notification.sender_interval = Duration::from_millis(args.sender_interval_ms);
    let suite = Suite::start(config).await.context("starting the suite")?;
    let result = district_morning(args, scratch, &suite, &receiver).await;
    let stopped = suite.shutdown().await.context("stopping the suite");
    let _ = stop_receiver.send(());
    let _ = receiver_task.await;
    let report = result?;
    stopped?;
    Ok(report)
}

/// Generates the district, runs the pass and watches the hand-off.
async fn district_morning(
    args: &RemindersBenchArgs,
    scratch: &Scratch,
    suite: &Suite,
    receiver: &Receiver,
) -> anyhow::Result<Report> {
    let first_admin = suite.first_admin.clone().context("the bench databases were not empty")?;
    let gateway = Channel::from_shared(suite.gateway_url())?.connect().await?;
    let admin =
        crate::demo::sign_in_and_rotate(&gateway, &first_admin.username, &first_admin.password).await?;
    let token = admin.token.as_str();
    let notification_address = suite.address("notification").context("no notification server")?;
    // Straight to the notification service: the pass's answer lists every
    // reminder made, more than a gateway hop's default 4 MiB at full size.
    let notification = Channel::from_shared(format!("http://{notification_address}"))?.connect().await?;
    let mut reminders = ReminderServiceClient::new(notification)
        .max_decoding_message_size(1 << 30)
        .max_encoding_message_size(1 << 30);

    let schools = register_schools(&gateway, token, args.schools).await?;
    for school in &schools {
        let mut settings = reminders
            .get_reminder_settings(with_bearer(
                GetReminderSettingsRequest { school_id: school.id.clone() },
                token,
                DEADLINE,
            ))
            .await
            .context("reading a school's reminder settings")?
            .into_inner();
        settings.quiet_hours_start = "00:00".into();
        settings.quiet_hours_end = "00:00".into();
        settings.send_on_closed_days = true;
        settings.daily_cap_email = 1_000_000;
        settings.daily_cap_webhook = 1_000_000;
        reminders
            .update_reminder_settings(with_bearer(
                UpdateReminderSettingsRequest { settings: Some(settings) },
                token,
                DEADLINE,
            ))
            .await
            .context("saving a school's reminder settings")?;
    }

    let today = school_day();
    let district = District::generate(args, &schools, today);
    let started = Instant::now();
    district.write(&scratch.databases).await?;
    let generate = started.elapsed();

    // The pass, timed from the call to its answer.
    let notification_db = Db::connect(&scratch.databases.notification, 1)?;
    let pass_started_at = Utc::now().naive_utc();
    let pass_started = Instant::now();
    let answer = reminders
        .send_due_reminders(with_bearer(
            SendDueRemindersRequest { school_id: String::new(), dry_run: false },
            token,
            PASS_DEADLINE,
        ))
        .await
        .context("SendDueReminders")?
        .into_inner();
    let pass = pass_started.elapsed();
    let day = today.format("%Y-%m-%d").to_string();
    if answer.day != day {
        bail!(
            "the schools' day turned from {day} to {} during the bench (midnight in Asia/Shanghai): run it again",
            answer.day
        );
    }
    let deliveries_queued = usize::try_from(answer.deliveries_queued).unwrap_or_default();
    let skipped_returned = usize::try_from(answer.skipped_returned).unwrap_or_default();

    // The hand-off: until no delivery waits, then until the receiver has
    // every webhook request the database says was sent.
    let within = Duration::from_secs(600) + Duration::from_millis(20 * deliveries_queued as u64);
    let deadline = Instant::now() + within;
    loop {
        let waiting = notification_db.run(waiting_deliveries).await?;
        if waiting == 0 {
            break;
        }
        if Instant::now() >= deadline {
            bail!("{waiting} deliveries still waiting {} s after the pass", within.as_secs());
        }
        tokio::time::sleep(POLL).await;
    }
    let rows = notification_db.run(delivery_states).await?;
    let webhook_sent = rows.iter().filter(|row| row.state == "sent" && row.channel == "webhook").count();
    while receiver.arrivals().len() < webhook_sent {
        if Instant::now() >= deadline {
            bail!("the receiver got {} of {webhook_sent} webhook requests", receiver.arrivals().len());
        }
        tokio::time::sleep(POLL).await;
    }

    let mut by_channel: BTreeMap<String, (usize, Duration, Duration)> = BTreeMap::new();
    let mut not_sent = BTreeMap::new();
    let mut all_sent = Duration::ZERO;
    for row in &rows {
        match (row.state.as_str(), row.sent_at) {
            ("sent", Some(sent_at)) => {
                let after = (sent_at - pass_started_at).to_std().unwrap_or_default();
                all_sent = all_sent.max(after);
                let entry = by_channel.entry(row.channel.clone()).or_insert((0, after, after));
                entry.0 += 1;
                entry.1 = entry.1.min(after);
                entry.2 = entry.2.max(after);
            }
            (state, _) => *not_sent.entry(state.to_owned()).or_insert(0) += 1,
        }
    }
    let hand_off_began = by_channel.values().map(|(_, first, _)| *first).min().unwrap_or_default();
    let mut channels: Vec<ChannelFigures> = by_channel
        .into_iter()
        .map(|(channel, (sent, first, last))| {
            let span = last.saturating_sub(hand_off_began).as_secs_f64();
            let per_second = if span > 0.0 { sent as f64 / span } else { 0.0 };
            ChannelFigures { channel, sent, first, last, per_second }
        })
        .collect();
    channels.sort_by_key(|figures| figures.channel != "in_app");
    let arrivals = receiver.arrivals();
    let rechecked = answer.reminders.len() + skipped_returned;
    Ok(Report {
        backend: Backend::of_url(&scratch.databases.notification).0,
        schools: schools.len(),
        readers: args.readers,
        readers_with_phone: district.readers_with_phone,
        loans: args.loans,
        overdue: district.overdue,
        due_soon: district.due_soon,
        generate,
        day,
        pass,
        reminders: answer.reminders.len(),
        expected_reminders: district.expected_reminders,
        skipped_returned,
        expected_skipped: district.expected_skipped,
        rechecked,
        planner_batch_calls: rechecked.div_ceil(PLANNER_CHUNK),
        deliveries_queued,
        expected_deliveries: district.expected_reminders + district.expected_webhook,
        channels,
        not_sent,
        all_sent,
        expected_webhook: district.expected_webhook,
        webhook_requests: arrivals.len(),
        first_webhook: arrivals.iter().min().map(|at| at.saturating_duration_since(pass_started)),
        last_webhook: arrivals.iter().max().map(|at| at.saturating_duration_since(pass_started)),
        scratch: Vec::new(),
    })
}

/// Today in the schools' time zone (the suite's default, Asia/Shanghai).
fn school_day() -> NaiveDate {
    Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

/// A school and its classes (grades 1 to 6).
#[derive(Debug, Clone)]
struct BenchSchool {
    id: String,
    classes: Vec<(String, i32)>,
}

async fn register_schools(gateway: &Channel, token: &str, count: usize) -> anyhow::Result<Vec<BenchSchool>> {
    let mut readers = ReaderServiceClient::new(gateway.clone());
    let mut schools = Vec::with_capacity(count);
    for number in 1..=count {
        let school = readers
            .create_school(with_bearer(
                CreateSchoolRequest {
                    code: format!("R{number:03}"),
                    name: format!("第{number}小学"),
                    request_id: String::new(),
                },
                token,
                DEADLINE,
            ))
            .await
            .context("creating a bench school")?
            .into_inner();
        let mut classes = Vec::new();
        for grade in 1..=GRADES {
            let class = readers
                .create_class(with_bearer(
                    CreateClassRequest {
                        school_id: school.id.clone(),
                        name: format!("{grade}年级(1)班"),
                        grade,
                        school_year: crate::demo::SCHOOL_YEAR.into(),
                        request_id: String::new(),
                    },
                    token,
                    DEADLINE,
                ))
                .await
                .context("creating a bench class")?
                .into_inner();
            classes.push((class.id, grade));
        }
        schools.push(BenchSchool { id: school.id, classes });
    }
    Ok(schools)
}

/// The rows the bench writes, and what they call for today.
struct District {
    readers: Vec<ReaderInsert>,
    contacts: Vec<ContactInsert>,
    preferences: Vec<PreferencesInsert>,
    loans: Vec<LoanInsert>,
    schedules: Vec<ScheduleInsert>,
    readers_with_phone: usize,
    overdue: usize,
    due_soon: usize,
    expected_reminders: usize,
    expected_skipped: usize,
    expected_webhook: usize,
}

impl District {
    fn generate(args: &RemindersBenchArgs, schools: &[BenchSchool], today: NaiveDate) -> Self {
        let mut rng = StdRng::seed_from_u64(2026);
        let now = Utc::now().naive_utc();
        let expires_on = today.checked_add_days(Days::new(365));
        let mut district = Self {
            readers: Vec::with_capacity(args.readers),
            contacts: Vec::new(),
            preferences: Vec::new(),
            loans: Vec::with_capacity(args.loans),
            schedules: Vec::with_capacity(args.loans),
            readers_with_phone: 0,
            overdue: 0,
            due_soon: 0,
            expected_reminders: 0,
            expected_skipped: 0,
            expected_webhook: 0,
        };
        // Per reader: school index, class, whether the guardian's phone is on file.
        let mut who: Vec<(usize, String, i32, bool)> = Vec::with_capacity(args.readers);
        for index in 0..args.readers {
            let school_index = index % schools.len();
            let school = &schools[school_index];
            let (class_id, grade) = school.classes[(index / schools.len()) % school.classes.len()].clone();
            let id = new_id();
            let name = format!("学生{index:05}");
            district.readers.push(ReaderInsert {
                id: id.clone(),
                school_id: school.id.clone(),
                card_barcode: format!("RB{index:07}"),
                name: name.clone(),
                category: "student".into(),
                class_id: Some(class_id.clone()),
                status: "active".into(),
                expires_on,
                created_at: now,
                number: Some(format!("N{index:07}")),
                name_key: name,
            });
            let phone = rng.gen_range(0..100) < args.phone_percent;
            if phone {
                district.readers_with_phone += 1;
                district.contacts.push(ContactInsert {
                    id: new_id(),
                    reader_id: id.clone(),
                    who: "guardian".into(),
                    channel: "phone".into(),
                    value: format!("+86139{index:08}"),
                    label: String::new(),
                    created_at: now,
                });
                district.preferences.push(PreferencesInsert {
                    reader_id: id.clone(),
                    notify_email: false,
                    notify_sms: true,
                    notify_wechat: false,
                    notify_in_app: true,
                    language: "zh-CN".into(),
                    updated_at: now,
                });
            }
            who.push((school_index, id, grade, phone));
        }
        let overdue = args.loans * args.overdue_percent as usize / 100;
        district.overdue = overdue;
        let mut reminded = 0;
        for index in 0..args.loans {
            let days_from_today: i64 =
                if index < overdue { -rng.gen_range(1..=30) } else { rng.gen_range(1..=28) };
            let reader = &who[rng.gen_range(0..who.len())];
            let school = &schools[reader.0];
            let class_id = school.classes[usize::try_from(reader.2 - 1).unwrap_or_default()].0.clone();
            let due = today + chrono::Duration::days(days_from_today);
            let title = TITLES[index % TITLES.len()];
            let mut returned_at = None;
            if (0..=DUE_SOON_DAYS).contains(&days_from_today) {
                district.due_soon += 1;
            }
            if days_from_today <= DUE_SOON_DAYS {
                reminded += 1;
                if reminded % RETURNED_ONE_IN == 0 {
                    returned_at = Some(now - chrono::Duration::minutes(1));
                    district.expected_skipped += 1;
                } else {
                    district.expected_reminders += 1;
                    district.expected_webhook += usize::from(reader.3);
                }
            }
            let loan_id = new_id();
            let copy_barcode = format!("C{index:08}");
            let due_date = due.format("%Y-%m-%d").to_string();
            let midnight = due.and_time(chrono::NaiveTime::MIN);
            district.loans.push(LoanInsert {
                id: loan_id.clone(),
                reader_id: Some(reader.1.clone()),
                copy_id: new_id(),
                copy_barcode: copy_barcode.clone(),
                title_id: format!("00000000-0000-7000-8000-{:012}", index % TITLES.len()),
                title: title.to_owned(),
                school_id: school.id.clone(),
                // 08:00 and 23:59:59 in Asia/Shanghai.
                checked_out_at: midnight - chrono::Duration::days(28),
                due_at: midnight + chrono::Duration::seconds(16 * 3600 - 1),
                due_date: due_date.clone(),
                returned_at,
                reader_category: "student".into(),
                reader_class_id: Some(class_id),
                reader_grade: reader.2,
                checked_out_by: "bench".into(),
                checked_in_by: returned_at.map(|_| "bench".to_owned()),
                created_at: now,
                history_retention: "keep".into(),
                item_type: "book".into(),
                renewals: 0,
                classification: String::new(),
            });
            district.schedules.push(ScheduleInsert {
                loan_id,
                school_id: school.id.clone(),
                reader_id: reader.1.clone(),
                title: title.to_owned(),
                copy_barcode,
                due_date,
                state: "open".into(),
                updated_at: now,
            });
        }
        district
    }

    /// Writes the three databases at once, each in transactions of
    /// [`ROWS_PER_WRITE`] rows.
    async fn write(&self, databases: &crate::suite::Databases) -> anyhow::Result<()> {
        let reader = Db::connect(&databases.reader, 1)?;
        let circulation = Db::connect(&databases.circulation, 1)?;
        let notification = Db::connect(&databases.notification, 1)?;
        let readers = async {
            write_rows(&reader, &self.readers, |connection, rows| {
                bulk_insert::<_, ReaderInsert>(connection, bench_tables::readers::table, rows)
            })
            .await?;
            write_rows(&reader, &self.contacts, |connection, rows| {
                bulk_insert::<_, ContactInsert>(connection, bench_tables::reader_contacts::table, rows)
            })
            .await?;
            write_rows(&reader, &self.preferences, |connection, rows| {
                bulk_insert::<_, PreferencesInsert>(connection, bench_tables::reader_preferences::table, rows)
            })
            .await
        };
        let loans = write_rows(&circulation, &self.loans, |connection, rows| {
            bulk_insert::<_, LoanInsert>(connection, lectern_circulation::db::schema::loans::table, rows)
        });
        let schedules = write_rows(&notification, &self.schedules, |connection, rows| {
            bulk_insert::<_, ScheduleInsert>(connection, bench_tables::loan_schedules::table, rows)
        });
        let (readers, loans, schedules) = tokio::join!(readers, loans, schedules);
        readers.context("writing the readers")?;
        loans.context("writing circulation's loans")?;
        schedules.context("writing notification's loan schedules")?;
        Ok(())
    }
}

/// Writes `rows` in transactions of [`ROWS_PER_WRITE`].
async fn write_rows<R: Clone + Send + 'static>(
    db: &Db,
    rows: &[R],
    insert: fn(&mut DbConnection, &[R]) -> QueryResult<usize>,
) -> anyhow::Result<()> {
    for chunk in rows.chunks(ROWS_PER_WRITE) {
        let chunk = chunk.to_vec();
        db.write(move |connection| -> Result<usize, DbError> { Ok(insert(connection, &chunk)?) }).await?;
    }
    Ok(())
}

/// Deliveries still to be handed off.
fn waiting_deliveries(connection: &mut DbConnection) -> Result<i64, DbError> {
    use bench_tables::deliveries::dsl::{deliveries, state};
    Ok(deliveries.filter(state.eq_any(["pending", "failed"])).count().get_result(connection)?)
}

/// Every delivery's channel, state and time sent.
fn delivery_states(connection: &mut DbConnection) -> Result<Vec<DeliveryState>, DbError> {
    use bench_tables::deliveries::dsl::{channel, deliveries, sent_at, state};
    Ok(deliveries.select((channel, state, sent_at)).load::<DeliveryState>(connection)?)
}

#[derive(Debug, Clone, Queryable)]
struct DeliveryState {
    channel: String,
    state: String,
    sent_at: Option<NaiveDateTime>,
}

/// The columns of the services' tables the bench writes or reads, as their
/// migrations define them (`migrations/reader`, `migrations/notification`;
/// the services keep their schemas to themselves). Circulation's `loans`
/// is circulation's own public schema.
mod bench_tables {
    diesel::table! {
        readers (id) {
            id -> Text,
            school_id -> Text,
            card_barcode -> Text,
            name -> Text,
            category -> Text,
            class_id -> Nullable<Text>,
            status -> Text,
            expires_on -> Nullable<Date>,
            created_at -> Timestamp,
            number -> Nullable<Text>,
            name_key -> Text,
        }
    }

    diesel::table! {
        reader_contacts (id) {
            id -> Text,
            reader_id -> Text,
            who -> Text,
            channel -> Text,
            value -> Text,
            label -> Text,
            created_at -> Timestamp,
        }
    }

    diesel::table! {
        reader_preferences (reader_id) {
            reader_id -> Text,
            notify_email -> Bool,
            notify_sms -> Bool,
            notify_wechat -> Bool,
            notify_in_app -> Bool,
            language -> Text,
            updated_at -> Timestamp,
        }
    }

    diesel::table! {
        loan_schedules (loan_id) {
            loan_id -> Text,
            school_id -> Text,
            reader_id -> Text,
            title -> Text,
            copy_barcode -> Text,
            due_date -> Text,
            state -> Text,
            updated_at -> Timestamp,
        }
    }

    diesel::table! {
        deliveries (id) {
            id -> Text,
            channel -> Text,
            state -> Text,
            sent_at -> Nullable<Timestamp>,
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = bench_tables::readers, treat_none_as_default_value = false)]
struct ReaderInsert {
    id: String,
    school_id: String,
    card_barcode: String,
    name: String,
    category: String,
    class_id: Option<String>,
    status: String,
    expires_on: Option<NaiveDate>,
    created_at: NaiveDateTime,
    number: Option<String>,
    name_key: String,
}
lectern_common::copy_in!(ReaderInsert => bench_tables::readers::table);

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = bench_tables::reader_contacts, treat_none_as_default_value = false)]
struct ContactInsert {
    id: String,
    reader_id: String,
    who: String,
    channel: String,
    value: String,
    label: String,
    created_at: NaiveDateTime,
}
lectern_common::copy_in!(ContactInsert => bench_tables::reader_contacts::table);

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = bench_tables::reader_preferences, treat_none_as_default_value = false)]
struct PreferencesInsert {
    reader_id: String,
    notify_email: bool,
    notify_sms: bool,
    notify_wechat: bool,
    notify_in_app: bool,
    language: String,
    updated_at: NaiveDateTime,
}
lectern_common::copy_in!(PreferencesInsert => bench_tables::reader_preferences::table);

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = bench_tables::loan_schedules, treat_none_as_default_value = false)]
struct ScheduleInsert {
    loan_id: String,
    school_id: String,
    reader_id: String,
    title: String,
    copy_barcode: String,
    due_date: String,
    state: String,
    updated_at: NaiveDateTime,
}
lectern_common::copy_in!(ScheduleInsert => bench_tables::loan_schedules::table);

/// An open loan as circulation's check-out writes it, with the columns a
/// check-out without rules, overrides or history days leaves empty left
/// out (NULL).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = lectern_circulation::db::schema::loans, treat_none_as_default_value = false)]
struct LoanInsert {
    id: String,
    reader_id: Option<String>,
    copy_id: String,
    copy_barcode: String,
    title_id: String,
    title: String,
    school_id: String,
    checked_out_at: NaiveDateTime,
    due_at: NaiveDateTime,
    due_date: String,
    returned_at: Option<NaiveDateTime>,
    reader_category: String,
    reader_class_id: Option<String>,
    reader_grade: i32,
    checked_out_by: String,
    checked_in_by: Option<String>,
    created_at: NaiveDateTime,
    history_retention: String,
    item_type: String,
    renewals: i32,
    classification: String,
}
lectern_common::copy_in!(LoanInsert => lectern_circulation::db::schema::loans::table);
