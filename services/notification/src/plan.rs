//! The planner: once every few minutes (and when an event or a caller wakes
//! it) it works out, per school and school day, which reminders are due
//! (`schedule.rs` decides), re-checks the loans with circulation so a book
//! that just came back gets no overdue notice, finds each reader's
//! recipients with the reader service, and makes the reminder and its
//! deliveries in one transaction per reminder. The unique (subject,
//! trigger) index makes it safe with several replicas: the second to make a
//! reminder finds it made. One replica at a time holds the job's lease for
//! the scheduled reminders; reminders made by events ("planned": hold
//! ready, fee, lost book) are addressed by whichever replica is woken.
//! A dry run decides the same and writes nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use lectern_common::db::Db;
use lectern_common::outbox;
use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::clock::SharedClock;
use lectern_core::identity::TokenSource;
use lectern_core::shutdown::Shutdown;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::circulation::v1::school_calendar_service_client::SchoolCalendarServiceClient;
use lectern_proto::circulation::v1::{BatchGetLoansRequest, GetSchoolCalendarRequest, Loan};
use lectern_proto::notification::v1::{Channel, DueReminder, PlannedMessage, Recipient, Trigger};
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::{
    BatchGetNotificationProfilesRequest, ContactChannel, ContactWho, NotificationChannel, NotificationProfile,
};
use tokio::sync::Notify;
use tonic::transport::Channel as GrpcChannel;

use crate::Error;
use crate::channels::Channels;
use crate::db::reminders::{self as db, LoanSchedule, NewDelivery, ReminderRow};
use crate::notices::Language;
use crate::schedule::{self, Calendar};
use crate::settings::{self, SchoolSettings};
use crate::templates::language_tag;
use crate::triggers::{self, channel_name, recipient_name, trigger_name, trigger_of};

/// The job's lease name in `relay_leases`.
pub const LEASE: &str = "job:reminders";
/// How long the lease outlives one interval.
const LEASE_MARGIN: Duration = Duration::from_secs(60);
/// Ids per batch call to circulation and the reader service.
const CHUNK: usize = 500;

/// The planner and its neighbours.
#[derive(Debug, Clone)]
pub struct Planner {
    pub db: Db,
    pub clock: SharedClock,
    /// The schools' time zone.
    pub zone: chrono_tz::Tz,
    /// Circulation: loans re-checked before a reminder.
    pub loans: LoanServiceClient<GrpcChannel>,
    /// Circulation: schools' calendars.
    pub calendars: SchoolCalendarServiceClient<GrpcChannel>,
    /// The reader service: recipients.
    pub profiles: ReaderProfileServiceClient<GrpcChannel>,
    /// Service tokens for those calls.
    pub tokens: Arc<dyn TokenSource>,
    /// Deadline of each call.
    pub call_timeout: Duration,
    /// Which channels are configured (no e-mail deliveries without a relay,
    /// no webhook deliveries without a receiver).
    pub channels: Channels,
    /// Wakes the planner (an event made a reminder).
    pub waker: Arc<Notify>,
    /// Wakes the sender once deliveries were made.
    pub sender: Arc<Notify>,
    /// Time between passes.
    pub interval: Duration,
}

/// One message of a reminder: to whom, how, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub recipient: Recipient,
    pub channel: Channel,
    /// The reader service's contact point; empty for the inbox.
    pub contact_id: String,
    /// Empty for the inbox.
    pub address: String,
}

/// A reminder due now, with its recipients.
#[derive(Debug, Clone)]
pub struct DueNow {
    pub reminder: ReminderRow,
    pub reader_name: String,
    pub class_name: String,
    pub language: Language,
    pub messages: Vec<Message>,
}

impl DueNow {
    /// As the API lists it; addresses only when `show_addresses`.
    pub fn to_proto(&self, show_addresses: bool) -> DueReminder {
        DueReminder {
            school_id: self.reminder.school_id.clone(),
            trigger: trigger_of(&self.reminder.trigger_name).into(),
            subject_id: self.reminder.subject_id.clone(),
            reader_id: self.reminder.reader_id.clone(),
            reader_name: self.reader_name.clone(),
            class_name: self.class_name.clone(),
            title: self.reminder.title.clone(),
            due_date: self.reminder.due_date.clone().unwrap_or_default(),
            messages: self
                .messages
                .iter()
                .map(|message| PlannedMessage {
                    recipient: message.recipient.into(),
                    channel: message.channel.into(),
                    address: if show_addresses { message.address.clone() } else { String::new() },
                })
                .collect(),
        }
    }
}

/// What a pass found or did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The school day it worked for.
    pub day: NaiveDate,
    /// Reminders due now (dry run) or made now.
    pub reminders: Vec<DueNow>,
    /// Loans that came back or changed since they were scheduled.
    pub skipped_returned: usize,
    /// Deliveries made.
    pub deliveries_queued: usize,
}

/// How a pass runs.
#[derive(Debug, Clone, Copy)]
struct Mode {
    /// Plan the schedules' reminders (this replica holds the lease, or a
    /// caller asked), not only those events made.
    scheduled: bool,
    /// Run for a caller: fail on a neighbour's error (the caller waits for
    /// the answer) rather than leave what needs it for the next pass, and
    /// leave the sender to the caller.
    strict: bool,
}

/// A reminder the pass is about to make.
#[derive(Debug, Clone)]
struct Candidate {
    reminder: ReminderRow,
    /// Made by an event and waiting (`planned`), rather than new.
    planned: bool,
}

impl Planner {
    /// Runs passes every `interval` and when woken, until `shutdown`.
    pub fn spawn(self, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
        let holder = lectern_core::ids::new_id();
        tokio::spawn(async move {
            let stop = shutdown.wait();
            tokio::pin!(stop);
            loop {
                match self.run_scheduled(&holder).await {
                    Ok(outcome) if outcome.deliveries_queued > 0 || outcome.skipped_returned > 0 => {
                        tracing::info!(
                            reminders = outcome.reminders.len(),
                            deliveries = outcome.deliveries_queued,
                            skipped_returned = outcome.skipped_returned,
                            "reminders made"
                        );
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "reminder planning failed; retrying next interval"),
                }
                tokio::select! {
                    () = tokio::time::sleep(self.interval) => {}
                    () = self.waker.notified() => {}
                    () = &mut stop => return,
                }
            }
        })
    }

    /// One background pass as `holder`: every school's reminders if it
    /// holds the job's lease, else only those events made.
    pub async fn run_scheduled(&self, holder: &str) -> Result<Outcome, Error> {
        let now = self.clock.now().naive_utc();
        let lease =
            chrono::Duration::from_std(self.interval + LEASE_MARGIN).unwrap_or(chrono::Duration::hours(1));
        let holder = holder.to_owned();
        let leader = self
            .db
            .write(move |connection| -> Result<bool, Error> {
                Ok(outbox::take_lease(connection, LEASE, &holder, now, now + lease)?)
            })
            .await?;
        self.pass(None, false, Mode { scheduled: leader, strict: false }).await
    }

    /// A pass asked for by a caller: every school's due reminders, or one
    /// school's; with `dry_run` nothing is written. The sender is not
    /// woken: the caller runs it (`Sender::run_once`) when it wants the
    /// messages out at once.
    pub async fn run(&self, school_id: Option<String>, dry_run: bool) -> Result<Outcome, Error> {
        self.pass(school_id, dry_run, Mode { scheduled: true, strict: true }).await
    }

    async fn pass(&self, only: Option<String>, dry_run: bool, mode: Mode) -> Result<Outcome, Error> {
        let scheduled = mode.scheduled;
        let now = self.clock.now();
        let today = schedule::school_day(now, self.zone);
        let schools = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::schools_to_plan(connection, only.as_deref())?)
            })
            .await?;

        let mut candidates = Vec::new();
        let mut settings_of = HashMap::new();
        for school_id in schools {
            let lookup = school_id.clone();
            let (settings, loans, holds, planned) = self
                .db
                .run(move |connection| -> Result<_, Error> {
                    let settings = settings::load(connection, &lookup)?;
                    let loans =
                        if scheduled { db::open_loan_schedules(connection, &lookup)? } else { Vec::new() };
                    let holds =
                        if scheduled { db::open_hold_schedules(connection, &lookup)? } else { Vec::new() };
                    Ok((settings, loans, holds, db::planned_reminders(connection, &lookup)?))
                })
                .await?;
            candidates.extend(planned.into_iter().map(|reminder| Candidate { reminder, planned: true }));
            if !loans.is_empty() || !holds.is_empty() {
                let calendar = match self.calendar(&school_id, &settings).await {
                    Ok(calendar) => calendar,
                    // In the background one school's trouble waits for the
                    // next pass without holding up the others.
                    Err(error) if !mode.strict => {
                        tracing::warn!(school.id = %school_id, %error, "school calendar unavailable; its reminders wait");
                        settings_of.insert(school_id.clone(), (settings, Calendar::always_open()));
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                if !schedule::quiet_day(today, &settings, &calendar) {
                    candidates.extend(
                        loans
                            .iter()
                            .filter_map(|loan| loan_candidate(loan, today, &settings, &calendar, now)),
                    );
                    for hold in &holds {
                        let Ok(expires_on) = NaiveDate::parse_from_str(&hold.expires_on, "%Y-%m-%d") else {
                            continue;
                        };
                        if schedule::hold_expiring_due(expires_on, today, &settings, &calendar) {
                            let mut reminder = new_reminder(
                                &hold.school_id,
                                &hold.reader_id,
                                &hold.hold_id,
                                Trigger::HoldExpiring,
                                &hold.title,
                                today,
                                now,
                            );
                            reminder.due_date = Some(hold.expires_on.clone());
                            candidates.push(Candidate { reminder, planned: false });
                        }
                    }
                }
                settings_of.insert(school_id.clone(), (settings, calendar));
            } else {
                settings_of.insert(school_id.clone(), (settings, Calendar::always_open()));
            }
        }

        let mut candidates = self.without_made(candidates).await?;
        let skipped_returned = match self.recheck_loans(&mut candidates, &settings_of, today, dry_run).await {
            Ok(skipped) => skipped,
            // Without circulation no loan is reminded of; holds, fees and
            // lost books still are.
            Err(error) if !mode.strict => {
                tracing::warn!(%error, "loans cannot be re-checked; their reminders wait");
                candidates.retain(|candidate| {
                    !triggers::is_about_a_loan(trigger_of(&candidate.reminder.trigger_name))
                });
                0
            }
            Err(error) => return Err(error),
        };
        let candidates = self.without_made(candidates).await?;
        let profiles = self.profiles(&candidates).await?;
        let opted_out = self.opted_out(&profiles).await?;

        let mut due = Vec::new();
        let mut unknown_readers = Vec::new();
        for candidate in candidates {
            let Some(profile) = profiles.get(&candidate.reminder.reader_id) else {
                unknown_readers.push(candidate);
                continue;
            };
            let Some((settings, _)) = settings_of.get(&candidate.reminder.school_id) else {
                continue;
            };
            let trigger = trigger_of(&candidate.reminder.trigger_name);
            let on = Configured {
                email: self.channels.email_configured(),
                webhook: self.channels.webhook_configured(),
            };
            let preferences = profile.preferences.clone().unwrap_or_default();
            let language = Language::parse(&preferences.language).unwrap_or(Language::ZhCn);
            due.push((
                candidate.planned,
                DueNow {
                    reminder: candidate.reminder,
                    reader_name: profile.name.clone(),
                    class_name: profile.class_name.clone(),
                    language,
                    messages: messages(profile, trigger, settings, on, &opted_out),
                },
            ));
        }
        let mut outcome =
            Outcome { day: today, reminders: Vec::new(), skipped_returned, deliveries_queued: 0 };
        for (planned, due_now) in due {
            if dry_run {
                outcome.reminders.push(due_now);
                continue;
            }
            let quiet =
                settings_of.get(&due_now.reminder.school_id).and_then(|(settings, _)| settings.quiet_hours());
            let external_at = schedule::next_allowed(now, quiet, self.zone);
            let rows = delivery_rows(&due_now, now, external_at);
            let reminder = due_now.reminder.clone();
            let made = self
                .db
                .write(move |connection| -> Result<Option<usize>, Error> {
                    let fresh = if planned {
                        db::settle_planned(connection, &reminder.id, db::QUEUED)?
                    } else {
                        db::insert_reminder(
                            connection,
                            &ReminderRow { state: db::QUEUED.to_owned(), ..reminder },
                        )?
                    };
                    if !fresh {
                        return Ok(None);
                    }
                    Ok(Some(db::insert_deliveries(connection, &rows)?))
                })
                .await?;
            if let Some(count) = made {
                tracing::debug!(
                    reminder.id = %due_now.reminder.id,
                    school.id = %due_now.reminder.school_id,
                    trigger = %due_now.reminder.trigger_name,
                    deliveries = count,
                    "reminder made"
                );
                outcome.deliveries_queued += count;
                outcome.reminders.push(due_now);
            }
        }
        if !dry_run {
            // A reminder made by an event whose reader is gone goes nowhere.
            for candidate in unknown_readers.into_iter().filter(|candidate| candidate.planned) {
                let id = candidate.reminder.id.clone();
                self.db
                    .write(move |connection| -> Result<_, Error> {
                        Ok(db::settle_planned(connection, &id, db::SKIPPED)?)
                    })
                    .await?;
            }
            // A caller runs the sender itself, right after (see
            // `SendDueReminders`); the background pass hands over.
            if outcome.deliveries_queued > 0 && !mode.strict {
                self.sender.notify_one();
            }
        }
        Ok(outcome)
    }

    /// The school's calendar when its settings need one.
    async fn calendar(&self, school_id: &str, settings: &SchoolSettings) -> Result<Calendar, Error> {
        if settings.send_on_closed_days && !settings.open_days_only {
            return Ok(Calendar::always_open());
        }
        let bearer = self.bearer().await?;
        let request = with_bearer(
            GetSchoolCalendarRequest { school_id: school_id.to_owned() },
            &bearer,
            self.call_timeout,
        );
        let calendar = self
            .calendars
            .clone()
            .get_school_calendar(request)
            .await
            .map_err(|status| Error::Dependency(dependency_status("circulation", status)))?
            .into_inner();
        Ok(Calendar::from_proto(&calendar))
    }

    async fn bearer(&self) -> Result<String, Error> {
        self.tokens.bearer().await.map_err(|status| Error::Dependency(dependency_status("reader", status)))
    }

    /// The candidates whose reminder was not made yet (planned ones are
    /// made already and kept).
    async fn without_made(&self, candidates: Vec<Candidate>) -> Result<Vec<Candidate>, Error> {
        let subjects: Vec<String> = candidates
            .iter()
            .filter(|candidate| !candidate.planned)
            .map(|candidate| candidate.reminder.subject_id.clone())
            .collect();
        if subjects.is_empty() {
            return Ok(candidates);
        }
        let made = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::existing_reminders(connection, &subjects)?) })
            .await?;
        Ok(candidates
            .into_iter()
            .filter(|candidate| {
                candidate.planned
                    || !made.contains(&(
                        candidate.reminder.subject_id.clone(),
                        candidate.reminder.trigger_name.clone(),
                    ))
            })
            .collect())
    }

    /// Asks circulation for the loans about to be reminded of: a loan that
    /// came back, was lost or is claimed returned gets no reminder (and its
    /// schedule is closed); one whose due day changed is rescheduled and
    /// decided again. Returns how many loans were skipped.
    async fn recheck_loans(
        &self,
        candidates: &mut Vec<Candidate>,
        settings_of: &HashMap<String, (SchoolSettings, Calendar)>,
        today: NaiveDate,
        dry_run: bool,
    ) -> Result<usize, Error> {
        let loan_ids: Vec<String> = candidates
            .iter()
            .filter(|candidate| triggers::is_about_a_loan(trigger_of(&candidate.reminder.trigger_name)))
            .map(|candidate| candidate.reminder.subject_id.clone())
            .collect();
        if loan_ids.is_empty() {
            return Ok(0);
        }
        let mut current: HashMap<String, Loan> = HashMap::new();
        for chunk in loan_ids.chunks(CHUNK) {
            let bearer = self.bearer().await?;
            let request =
                with_bearer(BatchGetLoansRequest { loan_ids: chunk.to_vec() }, &bearer, self.call_timeout);
            let answer = self
                .loans
                .clone()
                .batch_get_loans(request)
                .await
                .map_err(|status| Error::Dependency(dependency_status("circulation", status)))?
                .into_inner();
            current.extend(answer.loans.into_iter().map(|loan| (loan.id.clone(), loan)));
        }
        let now = self.clock.now();
        let mut skipped = 0;
        let mut closed = Vec::new();
        let mut moved = Vec::new();
        let mut kept = Vec::new();
        for mut candidate in candidates.drain(..) {
            let trigger = trigger_of(&candidate.reminder.trigger_name);
            if !triggers::is_about_a_loan(trigger) {
                kept.push(candidate);
                continue;
            }
            let loan_id = candidate.reminder.subject_id.clone();
            match recheck(current.get(&loan_id), candidate.reminder.due_date.as_deref()) {
                Recheck::Unchanged => kept.push(candidate),
                Recheck::Ended => {
                    skipped += 1;
                    closed.push(loan_id);
                }
                Recheck::DueDateChanged(due_date) => {
                    moved.push((loan_id, due_date.clone()));
                    let decided = NaiveDate::parse_from_str(&due_date, "%Y-%m-%d").ok().and_then(|due| {
                        let (settings, calendar) = settings_of.get(&candidate.reminder.school_id)?;
                        schedule::due_loan_trigger(due, today, settings, calendar)
                    });
                    match decided {
                        Some((trigger, _)) => {
                            candidate.reminder.trigger_name = trigger_name(trigger).to_owned();
                            candidate.reminder.due_date = Some(due_date);
                            kept.push(candidate);
                        }
                        None => skipped += 1,
                    }
                }
            }
        }
        *candidates = kept;
        if !dry_run && (!closed.is_empty() || !moved.is_empty()) {
            let at = now.naive_utc();
            self.db
                .write(move |connection| -> Result<(), Error> {
                    for loan_id in &closed {
                        db::close_loan_schedule(connection, loan_id, at)?;
                        db::cancel_deliveries_about(connection, loan_id, crate::events::CANCELLED_RETURNED)?;
                    }
                    for (loan_id, due_date) in &moved {
                        db::move_loan_due_date(connection, loan_id, due_date, at)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(skipped)
    }

    /// The readers' profiles, by reader id; erased readers are absent.
    async fn profiles(
        &self,
        candidates: &[Candidate],
    ) -> Result<HashMap<String, NotificationProfile>, Error> {
        let mut reader_ids: Vec<String> =
            candidates.iter().map(|candidate| candidate.reminder.reader_id.clone()).collect();
        reader_ids.sort();
        reader_ids.dedup();
        let mut profiles = HashMap::new();
        for chunk in reader_ids.chunks(CHUNK) {
            let bearer = self.bearer().await?;
            let request = with_bearer(
                BatchGetNotificationProfilesRequest { reader_ids: chunk.to_vec() },
                &bearer,
                self.call_timeout,
            );
            let answer = self
                .profiles
                .clone()
                .batch_get_notification_profiles(request)
                .await
                .map_err(|status| Error::Dependency(dependency_status("reader", status)))?
                .into_inner();
            profiles.extend(answer.profiles.into_iter().map(|profile| (profile.reader_id.clone(), profile)));
        }
        Ok(profiles)
    }

    /// The (channel, address) pairs of the profiles' contacts that opted out.
    async fn opted_out(
        &self,
        profiles: &HashMap<String, NotificationProfile>,
    ) -> Result<HashSet<(String, String)>, Error> {
        let mut addresses: Vec<String> = profiles
            .values()
            .flat_map(|profile| profile.contacts.iter().map(|contact| contact.value.trim().to_owned()))
            .collect();
        addresses.sort();
        addresses.dedup();
        if addresses.is_empty() {
            return Ok(HashSet::new());
        }
        self.db
            .run(move |connection| -> Result<_, Error> { Ok(db::opted_out(connection, &addresses)?) })
            .await
    }
}

/// A new reminder row (state `queued` once written).
fn new_reminder(
    school_id: &str,
    reader_id: &str,
    subject_id: &str,
    trigger: Trigger,
    title: &str,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> ReminderRow {
    ReminderRow {
        id: lectern_core::ids::new_id(),
        school_id: school_id.to_owned(),
        reader_id: reader_id.to_owned(),
        subject_id: subject_id.to_owned(),
        trigger_name: trigger_name(trigger).to_owned(),
        title: title.to_owned(),
        due_date: None,
        amount_minor: None,
        currency: None,
        state: db::QUEUED.to_owned(),
        day: today.format("%Y-%m-%d").to_string(),
        created_at: now.naive_utc(),
    }
}

/// The reminder due today for an open loan, if any.
fn loan_candidate(
    loan: &LoanSchedule,
    today: NaiveDate,
    settings: &SchoolSettings,
    calendar: &Calendar,
    now: DateTime<Utc>,
) -> Option<Candidate> {
    let due = NaiveDate::parse_from_str(&loan.due_date, "%Y-%m-%d").ok()?;
    let (trigger, _) = schedule::due_loan_trigger(due, today, settings, calendar)?;
    let mut reminder =
        new_reminder(&loan.school_id, &loan.reader_id, &loan.loan_id, trigger, &loan.title, today, now);
    reminder.due_date = Some(loan.due_date.clone());
    Some(Candidate { reminder, planned: false })
}

/// What circulation says of a loan about to be reminded of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recheck {
    /// Still on loan, due as scheduled.
    Unchanged,
    /// Returned, lost, claimed returned, anonymized or unknown: no
    /// reminder, the schedule closes.
    Ended,
    /// Still on loan, due on another day.
    DueDateChanged(String),
}

/// Compares circulation's loan with the scheduled due day.
pub fn recheck(loan: Option<&Loan>, scheduled_due: Option<&str>) -> Recheck {
    let Some(loan) = loan else {
        return Recheck::Ended;
    };
    if loan.returned_at.is_some()
        || loan.lost_time.is_some()
        || loan.claimed_returned_time.is_some()
        || loan.anonymize_time.is_some()
    {
        return Recheck::Ended;
    }
    if !loan.due_date.is_empty() && Some(loan.due_date.as_str()) != scheduled_due {
        return Recheck::DueDateChanged(loan.due_date.clone());
    }
    Recheck::Unchanged
}

/// Which channels the district configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Configured {
    pub email: bool,
    pub webhook: bool,
}

/// Who gets a reminder and how: the reader's inbox always (a copy on the
/// hold shelf already has its inbox notice from the event); the reader's
/// and each guardian's contacts on the channels the reader chose; the
/// homeroom teacher's e-mail for overdue reminders when the school wants
/// it. Opted-out addresses and repeats are left out.
pub fn messages(
    profile: &NotificationProfile,
    trigger: Trigger,
    settings: &SchoolSettings,
    on: Configured,
    opted_out: &HashSet<(String, String)>,
) -> Vec<Message> {
    let chosen: Vec<NotificationChannel> = profile
        .preferences
        .as_ref()
        .map(|preferences| {
            preferences
                .channels
                .iter()
                .filter_map(|channel| NotificationChannel::try_from(*channel).ok())
                .collect()
        })
        .unwrap_or_default();
    let wants = |channel: NotificationChannel| chosen.contains(&channel);
    let overdue = matches!(trigger, Trigger::Overdue1 | Trigger::Overdue2 | Trigger::Overdue3);
    let mut messages = Vec::new();
    if trigger != Trigger::HoldReady {
        messages.push(Message {
            recipient: Recipient::Reader,
            channel: Channel::InApp,
            contact_id: String::new(),
            address: String::new(),
        });
    }
    let mut seen = HashSet::new();
    for contact in &profile.contacts {
        let who = ContactWho::try_from(contact.who).unwrap_or(ContactWho::Unspecified);
        let how = ContactChannel::try_from(contact.channel).unwrap_or(ContactChannel::Unspecified);
        let recipient = match who {
            ContactWho::Reader => Recipient::Reader,
            ContactWho::Guardian => Recipient::Guardian,
            ContactWho::HomeroomTeacher => Recipient::HomeroomTeacher,
            ContactWho::Unspecified => continue,
        };
        let channel = match (recipient, how) {
            (Recipient::HomeroomTeacher, ContactChannel::Email) => {
                (overdue && settings.homeroom_teacher_overdue && on.email).then_some(Channel::Email)
            }
            (Recipient::HomeroomTeacher, _) => None,
            (_, ContactChannel::Email) => {
                (on.email && wants(NotificationChannel::Email)).then_some(Channel::Email)
            }
            (_, ContactChannel::Phone) => {
                (on.webhook && wants(NotificationChannel::Sms)).then_some(Channel::Webhook)
            }
            (_, ContactChannel::Wechat) => {
                (on.webhook && wants(NotificationChannel::Wechat)).then_some(Channel::Webhook)
            }
            (_, ContactChannel::Unspecified) => None,
        };
        let Some(channel) = channel else {
            continue;
        };
        let address = contact.value.trim().to_owned();
        if address.is_empty() || opted_out.contains(&(channel_name(channel).to_owned(), address.clone())) {
            continue;
        }
        if !seen.insert((channel, address.clone())) {
            continue;
        }
        messages.push(Message { recipient, channel, contact_id: contact.id.clone(), address });
    }
    messages
}

/// The delivery rows of a reminder: the inbox now, the others at
/// `external_at` (the end of quiet hours, or now).
fn delivery_rows(due: &DueNow, now: DateTime<Utc>, external_at: DateTime<Utc>) -> Vec<NewDelivery> {
    due.messages
        .iter()
        .map(|message| NewDelivery {
            id: lectern_core::ids::new_id(),
            reminder_id: due.reminder.id.clone(),
            school_id: due.reminder.school_id.clone(),
            reader_id: due.reminder.reader_id.clone(),
            reader_name: due.reader_name.clone(),
            trigger_name: due.reminder.trigger_name.clone(),
            channel: channel_name(message.channel).to_owned(),
            recipient: recipient_name(message.recipient).to_owned(),
            contact_id: message.contact_id.clone(),
            address: message.address.clone(),
            language: language_tag(due.language).to_owned(),
            state: "pending".to_owned(),
            attempts: 0,
            last_error: String::new(),
            provider_id: String::new(),
            subject: String::new(),
            message_id: String::new(),
            next_attempt_at: if message.channel == Channel::InApp { now } else { external_at }.naive_utc(),
            created_at: now.naive_utc(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use lectern_proto::reader::v1::{NotificationPreferences, ReaderContact};

    use super::*;

    fn contact(id: &str, who: ContactWho, channel: ContactChannel, value: &str) -> ReaderContact {
        ReaderContact {
            id: id.into(),
            who: who.into(),
            channel: channel.into(),
            value: value.into(),
            ..Default::default()
        }
    }

    fn profile(channels: &[NotificationChannel]) -> NotificationProfile {
        NotificationProfile {
            reader_id: "reader-1".into(),
            school_id: "school-1".into(),
            name: "王小明".into(),
            class_name: "三(2)班".into(),
            preferences: Some(NotificationPreferences {
                channels: channels.iter().map(|channel| *channel as i32).collect(),
                language: "zh-CN".into(),
                ..Default::default()
            }),
            contacts: vec![
                contact("c1", ContactWho::Guardian, ContactChannel::Email, "mama@example.cn"),
                contact("c2", ContactWho::Guardian, ContactChannel::Phone, "+8613800138000"),
                contact("c3", ContactWho::HomeroomTeacher, ContactChannel::Email, "li.laoshi@example.cn"),
                contact("c4", ContactWho::Reader, ContactChannel::Email, "mama@example.cn"),
            ],
            ..Default::default()
        }
    }

    const ALL_ON: Configured = Configured { email: true, webhook: true };

    fn summary(messages: &[Message]) -> Vec<(Recipient, Channel, &str)> {
        messages
            .iter()
            .map(|message| (message.recipient, message.channel, message.address.as_str()))
            .collect()
    }

    #[test]
    fn the_inbox_always_and_contacts_by_the_readers_choice() {
        let settings = SchoolSettings::defaults("school-1");
        let none = HashSet::new();
        let inbox_only =
            messages(&profile(&[NotificationChannel::InApp]), Trigger::DueSoon, &settings, ALL_ON, &none);
        assert_eq!(summary(&inbox_only), vec![(Recipient::Reader, Channel::InApp, "")]);
        let email =
            messages(&profile(&[NotificationChannel::Email]), Trigger::DueSoon, &settings, ALL_ON, &none);
        // The reader's own address is the guardian's: one message.
        assert_eq!(
            summary(&email),
            vec![
                (Recipient::Reader, Channel::InApp, ""),
                (Recipient::Guardian, Channel::Email, "mama@example.cn")
            ]
        );
        let sms = messages(&profile(&[NotificationChannel::Sms]), Trigger::DueSoon, &settings, ALL_ON, &none);
        assert_eq!(
            sms[1],
            Message {
                recipient: Recipient::Guardian,
                channel: Channel::Webhook,
                contact_id: "c2".into(),
                address: "+8613800138000".into(),
            }
        );
    }

    #[test]
    fn the_homeroom_teacher_hears_of_overdue_books_only() {
        let mut settings = SchoolSettings::defaults("school-1");
        let none = HashSet::new();
        let reader = profile(&[NotificationChannel::InApp]);
        let overdue = messages(&reader, Trigger::Overdue1, &settings, ALL_ON, &none);
        assert_eq!(overdue[1].recipient, Recipient::HomeroomTeacher);
        assert_eq!(overdue[1].address, "li.laoshi@example.cn");
        assert_eq!(messages(&reader, Trigger::DueToday, &settings, ALL_ON, &none).len(), 1);
        settings.homeroom_teacher_overdue = false;
        assert_eq!(messages(&reader, Trigger::Overdue3, &settings, ALL_ON, &none).len(), 1);
    }

    #[test]
    fn opted_out_addresses_and_unconfigured_channels_get_nothing() {
        let settings = SchoolSettings::defaults("school-1");
        let reader = profile(&[NotificationChannel::Email, NotificationChannel::Sms]);
        let opted: HashSet<_> = [("email".to_owned(), "mama@example.cn".to_owned())].into_iter().collect();
        let left = messages(&reader, Trigger::DueSoon, &settings, ALL_ON, &opted);
        assert_eq!(
            summary(&left),
            vec![
                (Recipient::Reader, Channel::InApp, ""),
                (Recipient::Guardian, Channel::Webhook, "+8613800138000")
            ]
        );
        let no_webhook = messages(
            &reader,
            Trigger::DueSoon,
            &settings,
            Configured { email: true, webhook: false },
            &HashSet::new(),
        );
        assert!(no_webhook.iter().all(|message| message.channel != Channel::Webhook));
    }

    #[test]
    fn a_copy_on_the_hold_shelf_has_its_inbox_notice_already() {
        let settings = SchoolSettings::defaults("school-1");
        let sent = messages(
            &profile(&[NotificationChannel::Email]),
            Trigger::HoldReady,
            &settings,
            ALL_ON,
            &HashSet::new(),
        );
        assert_eq!(summary(&sent), vec![(Recipient::Guardian, Channel::Email, "mama@example.cn")]);
    }

    #[test]
    fn a_loan_is_rechecked_against_circulation() {
        let on_loan = Loan { id: "loan-1".into(), due_date: "2026-12-15".into(), ..Default::default() };
        assert_eq!(recheck(Some(&on_loan), Some("2026-12-15")), Recheck::Unchanged);
        assert_eq!(recheck(Some(&on_loan), Some("2026-12-10")), Recheck::DueDateChanged("2026-12-15".into()));
        assert_eq!(recheck(None, Some("2026-12-15")), Recheck::Ended);
        let returned = Loan { returned_at: Some(prost_types::Timestamp::default()), ..on_loan.clone() };
        assert_eq!(recheck(Some(&returned), Some("2026-12-15")), Recheck::Ended);
        let lost = Loan { lost_time: Some(prost_types::Timestamp::default()), ..on_loan };
        assert_eq!(recheck(Some(&lost), Some("2026-12-15")), Recheck::Ended);
    }

    #[test]
    fn quiet_hours_hold_back_external_messages_not_the_inbox() {
        let due = DueNow {
            reminder: new_reminder(
                "school-1",
                "reader-1",
                "loan-1",
                Trigger::Overdue1,
                "Matilda",
                NaiveDate::default(),
                DateTime::<Utc>::default(),
            ),
            reader_name: "王小明".into(),
            class_name: String::new(),
            language: Language::En,
            messages: messages(
                &profile(&[NotificationChannel::Email]),
                Trigger::Overdue1,
                &SchoolSettings::defaults("school-1"),
                ALL_ON,
                &HashSet::new(),
            ),
        };
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
        let later = now + chrono::Duration::hours(8);
        let rows = delivery_rows(&due, now, later);
        assert_eq!(rows[0].channel, "in_app");
        assert_eq!(rows[0].next_attempt_at, now.naive_utc());
        assert!(rows[1..].iter().all(|row| row.next_attempt_at == later.naive_utc() && row.language == "en"));
        assert!(rows.iter().all(|row| row.state == "pending" && row.reader_name == "王小明"));
    }
}
