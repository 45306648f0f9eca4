//! The sender: hands due deliveries to their channels. Each pass claims a
//! batch under a lease (safe with several replicas, see
//! `db::deliveries`), re-checks the batch's loans with circulation in one
//! call (a book returned since the reminder was made gets nothing),
//! renders the texts, groups e-mails to one address into one digest
//! (never a hold-ready notice), keeps each school's daily cap, sends, and
//! records what happened: sent, failed with a retry later, or dead.
//!
//! Logs name deliveries by id and count them; they never carry an
//! address, a name or a text.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDateTime, SubsecRound, TimeZone, Utc};
use lectern_common::db::Db;
use lectern_core::clock::SharedClock;
use lectern_core::identity::TokenSource;
use lectern_core::shutdown::Shutdown;
use lectern_proto::circulation::v1::BatchGetLoansRequest;
use lectern_proto::circulation::v1::loan_service_client::LoanServiceClient;
use lectern_proto::notification::v1::{Channel as Via, Trigger};
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{BatchGetNotificationProfilesRequest, GetSchoolRequest};
use tonic::transport::Channel;

use crate::Error;
use crate::channels::Channels;
use crate::channels::email::Refused;
use crate::channels::webhook::{WebhookPayload, channel_for_address};
use crate::db::NoticeRow;
use crate::db::deliveries::{self, Claimed};
use crate::notices::Language;
use crate::settings::SchoolSettings;
use crate::templates::{self, Item, TemplateContext, language_tag};
use crate::triggers::{self, channel_name, channel_of, trigger_of};

/// Deliveries one pass claims.
const BATCH: i64 = 200;
/// How long a claim keeps other replicas off a batch: a whole batch of
/// e-mails to a slow relay (10 s each at worst) fits well inside.
const LEASE: chrono::Duration = chrono::Duration::minutes(15);
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 5;
/// Waits after the first, second, … failed attempt.
const BACKOFF_SECONDS: [i64; 5] = [60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600];

/// Why a delivery was cancelled, as the log shows it.
const RETURNED: &str = "returned";
const LOST: &str = "lost";
const RENEWED: &str = "due date changed";
const OPTED_OUT: &str = "opted out";

/// Sends due deliveries. Safe with several replicas: each claims its
/// batch under a lease.
#[derive(Debug, Clone)]
pub struct Sender {
    pub db: Db,
    pub clock: SharedClock,
    pub channels: Channels,
    /// Circulation, to re-check loans before reminding of them.
    pub loans: LoanServiceClient<Channel>,
    /// The reader service: school names (`GetSchool`).
    pub readers: ReaderServiceClient<Channel>,
    /// The reader service: readers' classes for the texts.
    pub profiles: ReaderProfileServiceClient<Channel>,
    /// Service tokens for those calls.
    pub tokens: Arc<dyn TokenSource>,
    /// The schools' time zone (daily caps count the local day).
    pub zone: chrono_tz::Tz,
    /// Wakes the loop (the planner after making deliveries, a resend).
    pub waker: Arc<tokio::sync::Notify>,
    /// Time between passes (`LECTERN_SENDER_INTERVAL_MS`).
    pub interval: Duration,
    /// Deadline of each call to another service.
    pub call_timeout: Duration,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendSummary {
    /// Deliveries this pass claimed.
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
    /// Cancelled: the book came back, the address opted out.
    pub cancelled: usize,
    /// Left pending for later: the daily cap, or circulation unreachable.
    pub deferred: usize,
}

impl SendSummary {
    fn add(&mut self, other: Self) {
        self.sent += other.sent;
        self.failed += other.failed;
        self.dead += other.dead;
        self.cancelled += other.cancelled;
        self.deferred += other.deferred;
    }
}

/// Counts what one channel's pass recorded in
/// `lectern_notification_deliveries_total{channel,state}` (state: sent,
/// failed = to be tried again, dead = given up), and passes it on.
fn counted(channel: &'static str, summary: SendSummary) -> SendSummary {
    for (state, count) in [("sent", summary.sent), ("failed", summary.failed), ("dead", summary.dead)] {
        if count > 0 {
            metrics::counter!("lectern_notification_deliveries_total", "channel" => channel, "state" => state)
                .increment(u64::try_from(count).unwrap_or(u64::MAX));
        }
    }
    summary
}

/// A claimed delivery, rendered and ready for its channel.
#[derive(Debug, Clone)]
struct Work {
    delivery: Claimed,
    channel: Via,
    trigger: Trigger,
    language: Language,
    subject: String,
    body: String,
    item: Item,
}

/// What a pass knows of one school.
#[derive(Debug, Clone)]
struct School {
    settings: SchoolSettings,
    name: String,
    /// Messages each channel may still send today.
    left_email: i64,
    left_webhook: i64,
}

/// How a loan stands at circulation now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LoanNow {
    Open { due_date: String },
    Returned,
    Lost,
}

impl Sender {
    /// Runs passes every `interval` and when woken, until `shutdown`. A
    /// full batch is followed by the next one at once.
    pub fn spawn(self, shutdown: Shutdown) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let stop = shutdown.wait();
            tokio::pin!(stop);
            loop {
                let mut again = false;
                match self.run_once().await {
                    Ok(summary) if summary.claimed > 0 => {
                        tracing::info!(
                            claimed = summary.claimed,
                            sent = summary.sent,
                            failed = summary.failed,
                            dead = summary.dead,
                            cancelled = summary.cancelled,
                            deferred = summary.deferred,
                            "deliveries handed to their channels"
                        );
                        again = summary.claimed >= usize::try_from(BATCH).unwrap_or(usize::MAX);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "sending reminders failed; retrying next interval"),
                }
                if again && !shutdown.is_triggered() {
                    continue;
                }
                tokio::select! {
                    () = tokio::time::sleep(self.interval) => {}
                    () = self.waker.notified() => {}
                    () = &mut stop => return,
                }
            }
        })
    }

    /// One pass: claims due deliveries and sends them.
    pub async fn run_once(&self) -> Result<SendSummary, Error> {
        let now = self.now();
        let holder = lectern_core::ids::new_id();
        let claim_holder = holder.clone();
        let claimed = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(deliveries::claim(connection, &claim_holder, now, now + LEASE, BATCH)?)
            })
            .await?;
        if claimed.is_empty() {
            return Ok(SendSummary::default());
        }
        let ids: Vec<String> = claimed.iter().map(|delivery| delivery.id.clone()).collect();
        match self.send_claimed(claimed, &holder, now).await {
            Ok(summary) => Ok(summary),
            Err(error) => {
                // Give back what this pass did not finish, so the next pass
                // (here or in another replica) takes it now rather than
                // when the lease runs out. Rows already sent keep their state.
                let release = self
                    .db
                    .run(move |connection| -> Result<_, Error> {
                        Ok(deliveries::release(connection, &ids, &holder)?)
                    })
                    .await;
                if let Err(release_error) = release {
                    tracing::warn!(error = %release_error, "claimed deliveries could not be given back; their lease will run out");
                }
                Err(error)
            }
        }
    }

    /// Sends a claimed batch: re-checks, cancels, renders and hands each
    /// delivery to its channel.
    async fn send_claimed(
        &self,
        claimed: Vec<Claimed>,
        holder: &str,
        now: NaiveDateTime,
    ) -> Result<SendSummary, Error> {
        let holder = holder.to_owned();
        let mut summary = SendSummary { claimed: claimed.len(), ..SendSummary::default() };

        // Loans first: nothing about a book that came back.
        let (claimed, cancels, held_back) = self.recheck_loans(claimed).await;
        let claimed = self.drop_opted_out(claimed, cancels, &holder, &mut summary).await?;
        if !held_back.is_empty() {
            summary.deferred += held_back.len();
            let holder = holder.clone();
            self.db
                .run(move |connection| -> Result<_, Error> {
                    Ok(deliveries::release(connection, &held_back, &holder)?)
                })
                .await?;
        }
        if claimed.is_empty() {
            return Ok(summary);
        }

        let mut schools = self.schools(&claimed, now).await?;
        let classes = self.classes(&claimed).await;
        let work = self.render(claimed, &schools, &classes, now).await?;

        let (inbox, email, webhook): (Vec<Work>, Vec<Work>, Vec<Work>) = split(work);
        summary.add(counted("in_app", self.send_inbox(inbox, &holder).await?));
        summary.add(counted("email", self.send_email(email, &mut schools, &holder).await?));
        summary.add(counted("webhook", self.send_webhook(webhook, &mut schools, &holder).await?));
        Ok(summary)
    }

    fn now(&self) -> NaiveDateTime {
        // Microseconds: what both databases store, so values compare equal.
        self.clock.now().naive_utc().trunc_subsecs(6)
    }

    /// Splits a batch by what circulation says of its loans: deliveries to
    /// send, deliveries to cancel (with why), and loan deliveries held
    /// back because circulation could not be asked.
    async fn recheck_loans(
        &self,
        claimed: Vec<Claimed>,
    ) -> (Vec<Claimed>, Vec<(String, &'static str)>, Vec<String>) {
        let loan_ids: Vec<String> = claimed
            .iter()
            .filter(|delivery| triggers::is_about_a_loan(trigger_of(&delivery.trigger_name)))
            .map(|delivery| delivery.subject_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if loan_ids.is_empty() {
            return (claimed, Vec::new(), Vec::new());
        }
        let loans = match self.batch_get_loans(loan_ids).await {
            Ok(loans) => loans,
            Err(status) => {
                tracing::warn!(code = ?status.code(), "circulation could not re-check loans; their reminders wait");
                let (loan, other): (Vec<Claimed>, Vec<Claimed>) = claimed
                    .into_iter()
                    .partition(|delivery| triggers::is_about_a_loan(trigger_of(&delivery.trigger_name)));
                return (other, Vec::new(), loan.into_iter().map(|delivery| delivery.id).collect());
            }
        };
        let mut keep = Vec::new();
        let mut cancels = Vec::new();
        for delivery in claimed {
            if !triggers::is_about_a_loan(trigger_of(&delivery.trigger_name)) {
                keep.push(delivery);
                continue;
            }
            match loans.get(&delivery.subject_id) {
                // Circulation no longer has it (anonymized after its return).
                None | Some(LoanNow::Returned) => cancels.push((delivery.id, RETURNED)),
                Some(LoanNow::Lost) => cancels.push((delivery.id, LOST)),
                Some(LoanNow::Open { due_date })
                    if delivery.due_date.as_deref().is_some_and(|due| due != due_date) =>
                {
                    cancels.push((delivery.id, RENEWED));
                }
                Some(LoanNow::Open { .. }) => keep.push(delivery),
            }
        }
        (keep, cancels, Vec::new())
    }

    /// One BatchGetLoans call for the batch's loans.
    async fn batch_get_loans(
        &self,
        loan_ids: Vec<String>,
    ) -> Result<HashMap<String, LoanNow>, tonic::Status> {
        let token = self.tokens.bearer().await?;
        let request =
            lectern_core::client::with_bearer(BatchGetLoansRequest { loan_ids }, &token, self.call_timeout);
        let loans = self.loans.clone().batch_get_loans(request).await?.into_inner().loans;
        Ok(loans
            .into_iter()
            .map(|loan| {
                let now = if loan.returned_at.is_some() {
                    LoanNow::Returned
                } else if loan.lost_time.is_some() {
                    LoanNow::Lost
                } else {
                    LoanNow::Open { due_date: loan.due_date }
                };
                (loan.id, now)
            })
            .collect())
    }

    /// Cancels `cancels` and the deliveries to addresses that opted out
    /// since they were made; returns the rest.
    async fn drop_opted_out(
        &self,
        claimed: Vec<Claimed>,
        mut cancels: Vec<(String, &'static str)>,
        holder: &str,
        summary: &mut SendSummary,
    ) -> Result<Vec<Claimed>, Error> {
        let holder = holder.to_owned();
        let external: Vec<(String, String)> = claimed
            .iter()
            .filter(|delivery| channel_of(&delivery.channel) != Via::InApp)
            .map(|delivery| (delivery.channel.clone(), delivery.address.clone()))
            .collect();
        let (claimed, cancelled) = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let mut opted: HashSet<(String, String)> = HashSet::new();
                for channel in [channel_name(Via::Email), channel_name(Via::Webhook)] {
                    let addresses: Vec<String> = external
                        .iter()
                        .filter(|(via, _)| via == channel)
                        .map(|(_, address)| address.clone())
                        .collect();
                    for address in deliveries::opted_out(connection, channel, &addresses)? {
                        opted.insert((channel.to_owned(), address));
                    }
                }
                let (gone, keep): (Vec<Claimed>, Vec<Claimed>) = claimed.into_iter().partition(|delivery| {
                    opted.contains(&(delivery.channel.clone(), delivery.address.clone()))
                });
                cancels.extend(gone.into_iter().map(|delivery| (delivery.id, OPTED_OUT)));
                let mut cancelled = 0;
                let mut by_reason: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                for (id, why) in cancels {
                    by_reason.entry(why).or_default().push(id);
                }
                for (why, ids) in by_reason {
                    cancelled += deliveries::cancel(connection, &ids, &holder, why)?;
                }
                Ok((keep, cancelled))
            })
            .await?;
        summary.cancelled += cancelled;
        Ok(claimed)
    }

    /// The settings, name and what is left of today's caps of each school
    /// in the batch. A school whose name cannot be had is named by its
    /// sender name (or not at all) rather than holding its mail back.
    async fn schools(
        &self,
        claimed: &[Claimed],
        now: NaiveDateTime,
    ) -> Result<HashMap<String, School>, Error> {
        let ids: Vec<String> = claimed
            .iter()
            .map(|delivery| delivery.school_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let day_start = local_day_start(now, self.zone);
        let loaded = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let mut loaded = Vec::new();
                for id in ids {
                    let settings = crate::settings::load(connection, &id)?;
                    let email =
                        deliveries::count_sent_since(connection, &id, channel_name(Via::Email), day_start)?;
                    let webhook =
                        deliveries::count_sent_since(connection, &id, channel_name(Via::Webhook), day_start)?;
                    loaded.push((settings, email, webhook));
                }
                Ok(loaded)
            })
            .await?;
        let mut schools = HashMap::new();
        for (settings, sent_email, sent_webhook) in loaded {
            let name = match self.school_name(&settings.school_id).await {
                Ok(name) => name,
                Err(status) => {
                    tracing::warn!(school.id = %settings.school_id, code = ?status.code(), "school name unavailable");
                    settings.sender_name.clone()
                }
            };
            schools.insert(
                settings.school_id.clone(),
                School {
                    left_email: i64::from(settings.daily_cap_email) - sent_email,
                    left_webhook: i64::from(settings.daily_cap_webhook) - sent_webhook,
                    settings,
                    name,
                },
            );
        }
        Ok(schools)
    }

    async fn school_name(&self, school_id: &str) -> Result<String, tonic::Status> {
        let token = self.tokens.bearer().await?;
        let request = lectern_core::client::with_bearer(
            GetSchoolRequest { id: school_id.to_owned() },
            &token,
            self.call_timeout,
        );
        Ok(self.readers.clone().get_school(request).await?.into_inner().name)
    }

    /// Readers' classes, for the texts; empty when the reader service
    /// cannot say (the reminder still goes out).
    async fn classes(&self, claimed: &[Claimed]) -> HashMap<String, String> {
        let reader_ids: Vec<String> = claimed
            .iter()
            .map(|delivery| delivery.reader_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let answer = async {
            let token = self.tokens.bearer().await?;
            let request = lectern_core::client::with_bearer(
                BatchGetNotificationProfilesRequest { reader_ids },
                &token,
                self.call_timeout,
            );
            self.profiles.clone().batch_get_notification_profiles(request).await
        }
        .await;
        match answer {
            Ok(response) => response
                .into_inner()
                .profiles
                .into_iter()
                .map(|profile| (profile.reader_id, profile.class_name))
                .collect(),
            Err(status) => {
                tracing::warn!(code = ?status.code(), "readers' classes unavailable; texts go without them");
                HashMap::new()
            }
        }
    }

    /// Each delivery's subject and body, from the school's text (or the
    /// default when the school's no longer renders).
    async fn render(
        &self,
        claimed: Vec<Claimed>,
        schools: &HashMap<String, School>,
        classes: &HashMap<String, String>,
        now: NaiveDateTime,
    ) -> Result<Vec<Work>, Error> {
        // Languages are keyed by their tag: `Language` is not `Hash`.
        let keys: HashMap<(String, Trigger, &'static str), Language> = claimed
            .iter()
            .map(|delivery| {
                let language = language(&delivery.language);
                (
                    (delivery.school_id.clone(), trigger_of(&delivery.trigger_name), language_tag(language)),
                    language,
                )
            })
            .collect();
        let texts = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let mut texts = HashMap::new();
                for ((school, trigger, tag), language) in keys {
                    let text = templates::load_text(connection, &school, trigger, language)?;
                    texts.insert((school, trigger, tag), (text.subject, text.body));
                }
                Ok(texts)
            })
            .await?;
        let today = local_date(now, self.zone);
        let mut work = Vec::with_capacity(claimed.len());
        for delivery in claimed {
            let trigger = trigger_of(&delivery.trigger_name);
            let language = language(&delivery.language);
            let school = schools.get(&delivery.school_id);
            let item = item_of(&delivery, trigger, today);
            let mut context = TemplateContext::for_items(
                &delivery.reader_name,
                classes.get(&delivery.reader_id).map_or("", String::as_str),
                school.map_or("", |school| school.name.as_str()),
                school.map_or("", |school| school.settings.library_hours.as_str()),
                vec![item.clone()],
            );
            if trigger == Trigger::HoldReady || trigger == Trigger::HoldExpiring {
                context.pickup_by = item.due_date.clone();
            }
            if let (Some(amount), Some(currency)) = (delivery.amount_minor, delivery.currency.as_deref()) {
                context.amount = format_amount(amount, currency);
            }
            let (subject, body) = texts
                .get(&(delivery.school_id.clone(), trigger, language_tag(language)))
                .cloned()
                .unwrap_or_else(|| {
                    let (subject, body) = templates::default_text(trigger, language);
                    (subject.to_owned(), body.to_owned())
                });
            let rendered = templates::render(&subject, &body, &context).or_else(|error| {
                tracing::warn!(delivery.id = %delivery.id, field = error.field, "the school's text does not render; using the default");
                let (subject, body) = templates::default_text(trigger, language);
                templates::render(subject, body, &context)
            });
            let (subject, body) = rendered.unwrap_or_else(|_| (item.title.clone(), item.title.clone()));
            work.push(Work {
                channel: channel_of(&delivery.channel),
                delivery,
                trigger,
                language,
                subject,
                body,
                item,
            });
        }
        Ok(work)
    }

    /// Inbox deliveries become notices at once.
    async fn send_inbox(&self, inbox: Vec<Work>, holder: &str) -> Result<SendSummary, Error> {
        if inbox.is_empty() {
            return Ok(SendSummary::default());
        }
        let now = self.now();
        let holder = holder.to_owned();
        let sent = self
            .db
            .write(move |connection| -> Result<usize, Error> {
                let mut sent = 0;
                for work in inbox {
                    let notice_id = lectern_core::ids::new_id();
                    let ids = [work.delivery.id.clone()];
                    // Only a delivery this pass still holds becomes a notice.
                    if deliveries::mark_sent(
                        connection,
                        &ids,
                        &holder,
                        &work.subject,
                        &notice_id,
                        &work.delivery.id,
                        now,
                    )? == 0
                    {
                        continue;
                    }
                    crate::db::insert_notice(
                        connection,
                        &NoticeRow {
                            id: notice_id,
                            reader_id: work.delivery.reader_id.clone(),
                            school_id: work.delivery.school_id.clone(),
                            event_id: work.delivery.id.clone(),
                            loan_id: work.delivery.subject_id.clone(),
                            kind: notice_kind_name(work.trigger),
                            title: work.delivery.title.clone(),
                            due_date: work.delivery.due_date.clone(),
                            occurred_at: now,
                            created_at: now,
                            subject: Some(work.subject),
                            body: Some(work.body),
                        },
                    )?;
                    sent += 1;
                }
                Ok(sent)
            })
            .await?;
        Ok(SendSummary { sent, ..SendSummary::default() })
    }

    /// E-mails, one per (school, address) digest; a hold-ready notice alone.
    async fn send_email(
        &self,
        email: Vec<Work>,
        schools: &mut HashMap<String, School>,
        holder: &str,
    ) -> Result<SendSummary, Error> {
        let mut summary = SendSummary::default();
        let keys: Vec<(&str, &str, Trigger)> = email
            .iter()
            .map(|work| (work.delivery.school_id.as_str(), work.delivery.address.as_str(), work.trigger))
            .collect();
        let groups = group_emails(&keys);
        // Once the relay cannot be reached, the rest of the pass fails the
        // same way without waiting on it again.
        let mut unreachable: Option<Refused> = None;
        for group in groups {
            let works: Vec<&Work> = group.iter().map(|index| &email[*index]).collect();
            let Some(first) = works.first() else { continue };
            let school_id = first.delivery.school_id.clone();
            let ids: Vec<String> = works.iter().map(|work| work.delivery.id.clone()).collect();
            let left = schools.get(&school_id).map_or(0, |school| school.left_email);
            if left <= 0 {
                summary.deferred += self.defer(ids, holder).await?;
                continue;
            }
            let Some(school) = schools.get_mut(&school_id) else { continue };
            school.left_email -= 1;
            let texts: Vec<(String, String)> =
                works.iter().map(|work| (work.subject.clone(), work.body.clone())).collect();
            let (subject, body) = templates::digest(first.language, &school.name, &texts);
            let unsubscribe = self.channels.unsubscribe_url(Via::Email, &first.delivery.address);
            let body = body + &templates::email_footer(first.language, &unsubscribe);
            let mail = self.channels.mail(
                &school.settings,
                &school.name,
                first.language,
                &first.delivery.address,
                subject.clone(),
                body,
            );
            let result = match &unreachable {
                Some(refused) => Err(refused.clone()),
                None => self.channels.send_email(&mail).await,
            };
            match result {
                Ok(accepted) => {
                    let now = self.now();
                    let holder = holder.to_owned();
                    let sent = self
                        .db
                        .run(move |connection| -> Result<_, Error> {
                            Ok(deliveries::mark_sent(
                                connection,
                                &ids,
                                &holder,
                                &subject,
                                &accepted.message_id,
                                &accepted.message_id,
                                now,
                            )?)
                        })
                        .await?;
                    summary.sent += sent;
                }
                Err(refused) => {
                    if refused.unreachable && unreachable.is_none() {
                        tracing::warn!(detail = %refused.detail, "the SMTP relay cannot be reached");
                        unreachable = Some(refused.clone());
                    }
                    for work in works {
                        summary.add(self.fail(work, &subject, &refused, holder).await?);
                    }
                }
            }
        }
        Ok(summary)
    }

    /// Webhook deliveries, one signed POST each.
    async fn send_webhook(
        &self,
        webhook: Vec<Work>,
        schools: &mut HashMap<String, School>,
        holder: &str,
    ) -> Result<SendSummary, Error> {
        let mut summary = SendSummary::default();
        let mut unreachable: Option<Refused> = None;
        for work in webhook {
            let left = schools.get(&work.delivery.school_id).map_or(0, |school| school.left_webhook);
            if left <= 0 {
                summary.deferred += self.defer(vec![work.delivery.id.clone()], holder).await?;
                continue;
            }
            if let Some(school) = schools.get_mut(&work.delivery.school_id) {
                school.left_webhook -= 1;
            }
            let payload = WebhookPayload {
                id: work.delivery.id.clone(),
                school_id: work.delivery.school_id.clone(),
                trigger: work.delivery.trigger_name.clone(),
                channel: channel_for_address(&work.delivery.address).to_owned(),
                to: work.delivery.address.clone(),
                language: language_tag(work.language).to_owned(),
                subject: work.subject.clone(),
                body: work.body.clone(),
                items: vec![work.item.clone()],
            };
            let result = match &unreachable {
                Some(refused) => Err(refused.clone()),
                None => self.channels.send_webhook(&payload, self.clock.now().timestamp()).await,
            };
            match result {
                Ok(provider_id) => {
                    let now = self.now();
                    let holder = holder.to_owned();
                    let id = work.delivery.id.clone();
                    let subject = work.subject.clone();
                    summary.sent += self
                        .db
                        .run(move |connection| -> Result<_, Error> {
                            Ok(deliveries::mark_sent(
                                connection,
                                std::slice::from_ref(&id),
                                &holder,
                                &subject,
                                &provider_id,
                                &id,
                                now,
                            )?)
                        })
                        .await?;
                }
                Err(refused) => {
                    if refused.unreachable && unreachable.is_none() {
                        tracing::warn!(detail = %refused.detail, "the webhook receiver cannot be reached");
                        unreachable = Some(refused.clone());
                    }
                    summary.add(self.fail(&work, &work.subject, &refused, holder).await?);
                }
            }
        }
        Ok(summary)
    }

    /// Leaves deliveries pending until the school's next local midnight.
    async fn defer(&self, ids: Vec<String>, holder: &str) -> Result<usize, Error> {
        let until = next_local_midnight(self.now(), self.zone);
        let holder = holder.to_owned();
        self.db
            .run(move |connection| -> Result<_, Error> {
                Ok(deliveries::defer(connection, &ids, &holder, until)?)
            })
            .await
    }

    /// Records a failed attempt: retried later, or dead.
    async fn fail(
        &self,
        work: &Work,
        subject: &str,
        refused: &Refused,
        holder: &str,
    ) -> Result<SendSummary, Error> {
        let now = self.now();
        let attempts = work.delivery.attempts + 1;
        let next = if refused.permanent { None } else { backoff(attempts).map(|wait| now + wait) };
        let state = if next.is_some() { "failed" } else { "dead" };
        tracing::info!(delivery.id = %work.delivery.id, state, attempts, permanent = refused.permanent, "delivery not sent");
        let (id, holder, subject, error) =
            (work.delivery.id.clone(), holder.to_owned(), subject.to_owned(), refused.detail.clone());
        self.db
            .run(move |connection| -> Result<_, Error> {
                let attempt =
                    deliveries::Attempt { attempts, subject: &subject, error: &error, next_attempt_at: next };
                Ok(deliveries::mark_failed(connection, &id, &holder, &attempt, now)?)
            })
            .await?;
        Ok(if next.is_some() {
            SendSummary { failed: 1, ..SendSummary::default() }
        } else {
            SendSummary { dead: 1, ..SendSummary::default() }
        })
    }
}

fn split(work: Vec<Work>) -> (Vec<Work>, Vec<Work>, Vec<Work>) {
    let mut inbox = Vec::new();
    let mut email = Vec::new();
    let mut webhook = Vec::new();
    for item in work {
        match item.channel {
            Via::InApp => inbox.push(item),
            Via::Email => email.push(item),
            Via::Webhook | Via::Unspecified => webhook.push(item),
        }
    }
    (inbox, email, webhook)
}

fn language(tag: &str) -> Language {
    Language::parse(tag).unwrap_or(Language::ZhCn)
}

/// The inbox kind stored for a reminder's notice: the `NoticeKind` name
/// without its prefix ("overdue", "due_soon"), as `notices::kind_of` reads.
pub fn notice_kind_name(trigger: Trigger) -> String {
    triggers::notice_kind(trigger).as_str_name().trim_start_matches("NOTICE_KIND_").to_ascii_lowercase()
}

/// The item a delivery's reminder is about, with its days counted from
/// `today`: until the due day before it, overdue after it.
fn item_of(delivery: &Claimed, trigger: Trigger, today: chrono::NaiveDate) -> Item {
    let due_date = delivery.due_date.clone().unwrap_or_default();
    let days = chrono::NaiveDate::parse_from_str(&due_date, "%Y-%m-%d")
        .map(|due| match trigger {
            Trigger::Overdue1 | Trigger::Overdue2 | Trigger::Overdue3 => (today - due).num_days(),
            _ => (due - today).num_days(),
        })
        .unwrap_or(0)
        .max(0);
    Item { title: delivery.title.clone(), due_date, days }
}

/// A fee in minor units as a parent reads it: "¥5.00", "5.00 EUR".
fn format_amount(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let units = minor.unsigned_abs();
    let number = format!("{sign}{}.{:02}", units / 100, units % 100);
    match currency {
        "CNY" | "" => format!("¥{number}"),
        other => format!("{number} {other}"),
    }
}

/// How long to wait after the `attempts`-th failed attempt; `None`: give up.
pub fn backoff(attempts: i32) -> Option<chrono::Duration> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let index = usize::try_from(attempts.max(1) - 1).unwrap_or(0).min(BACKOFF_SECONDS.len() - 1);
    Some(chrono::Duration::seconds(BACKOFF_SECONDS[index]))
}

/// Groups e-mail deliveries, given as (school, address, trigger), into
/// messages: one per school and address (addresses compared without
/// case), in the order first seen; hold-ready notices each alone.
pub fn group_emails(deliveries: &[(&str, &str, Trigger)]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut open: HashMap<(String, String), usize> = HashMap::new();
    for (index, (school, address, trigger)) in deliveries.iter().enumerate() {
        if !triggers::may_be_grouped(*trigger) {
            groups.push(vec![index]);
            continue;
        }
        let key = ((*school).to_owned(), address.trim().to_lowercase());
        match open.get(&key) {
            Some(group) => groups[*group].push(index),
            None => {
                open.insert(key, groups.len());
                groups.push(vec![index]);
            }
        }
    }
    groups
}

/// The school's local date at `now` (UTC).
fn local_date(now: NaiveDateTime, zone: chrono_tz::Tz) -> chrono::NaiveDate {
    DateTime::<Utc>::from_naive_utc_and_offset(now, Utc).with_timezone(&zone).date_naive()
}

/// The UTC time the school's local day of `now` began: the daily cap
/// counts from there.
pub fn local_day_start(now: NaiveDateTime, zone: chrono_tz::Tz) -> NaiveDateTime {
    local_midnight(local_date(now, zone), zone).unwrap_or(now - chrono::Duration::hours(24))
}

/// The UTC time of the school's next local midnight after `now`: capped
/// messages wait for it.
pub fn next_local_midnight(now: NaiveDateTime, zone: chrono_tz::Tz) -> NaiveDateTime {
    local_date(now, zone)
        .checked_add_days(Days::new(1))
        .and_then(|tomorrow| local_midnight(tomorrow, zone))
        .unwrap_or(now + chrono::Duration::hours(24))
}

fn local_midnight(date: chrono::NaiveDate, zone: chrono_tz::Tz) -> Option<NaiveDateTime> {
    // `earliest`: where a zone skips midnight (DST), the first instant of the day.
    zone.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).earliest().map(|local| local.naive_utc())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod pure_tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn a_guardian_of_two_gets_one_mail_but_hold_ready_goes_alone() {
        let batch = [
            ("school-1", "wang.mama@example.cn", Trigger::Overdue1),
            ("school-1", "li.baba@example.cn", Trigger::Overdue1),
            ("school-1", "Wang.Mama@example.cn", Trigger::DueSoon),
            ("school-1", "wang.mama@example.cn", Trigger::HoldReady),
            ("school-2", "wang.mama@example.cn", Trigger::Overdue1),
        ];
        assert_eq!(group_emails(&batch), vec![vec![0, 2], vec![1], vec![3], vec![4]]);
    }

    #[test]
    fn retries_back_off_then_give_up() {
        let minutes = |attempts| backoff(attempts).map(|wait| wait.num_minutes());
        assert_eq!(minutes(1), Some(1));
        assert_eq!(minutes(2), Some(5));
        assert_eq!(minutes(3), Some(30));
        assert_eq!(minutes(4), Some(120));
        assert_eq!(minutes(5), None);
    }

    #[test]
    fn the_daily_cap_counts_the_local_day() {
        let shanghai = chrono_tz::Asia::Shanghai;
        // 23:30 UTC is 07:30 the next morning in Shanghai: that day began
        // at 16:00 UTC, and the next one begins at 16:00 UTC the day after.
        assert_eq!(local_day_start(at("2026-12-08 23:30:00"), shanghai), at("2026-12-08 16:00:00"));
        assert_eq!(next_local_midnight(at("2026-12-08 23:30:00"), shanghai), at("2026-12-09 16:00:00"));
        // 15:59 UTC is 23:59 in Shanghai: a minute before the next day.
        assert_eq!(next_local_midnight(at("2026-12-08 15:59:00"), shanghai), at("2026-12-08 16:00:00"));
        assert_eq!(local_day_start(at("2026-12-08 16:00:00"), shanghai), at("2026-12-08 16:00:00"));
    }

    #[test]
    fn items_count_days_to_and_past_the_due_day() {
        let delivery = Claimed {
            id: "d".into(),
            school_id: "s".into(),
            reader_id: "r".into(),
            reader_name: "n".into(),
            trigger_name: "overdue_1".into(),
            channel: "email".into(),
            recipient: "guardian".into(),
            address: "a@b.cn".into(),
            language: "zh-CN".into(),
            attempts: 0,
            subject_id: "loan".into(),
            title: "草房子".into(),
            due_date: Some("2026-12-05".into()),
            amount_minor: None,
            currency: None,
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
        assert_eq!(item_of(&delivery, Trigger::Overdue1, today).days, 3);
        let soon = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(item_of(&delivery, Trigger::DueSoon, soon).days, 2);
        assert_eq!(format_amount(500, "CNY"), "¥5.00");
        assert_eq!(notice_kind_name(Trigger::Overdue2), "overdue");
        assert_eq!(notice_kind_name(Trigger::DueSoon), "due_soon");
    }
}
