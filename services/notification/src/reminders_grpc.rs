//! `ReminderService` handlers: check who calls, validate, call the planner,
//! the sender, the texts or the database, and map the answer. Staff of a
//! school read its settings, texts and delivery log; librarians of the
//! school and district admins change them; district admins see the
//! channels; anyone holding an unsubscribe link may use it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use lectern_common::db::Db;
use lectern_core::access::Access;
use lectern_core::client::{dependency_status, with_bearer};
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Principal, Role, SubjectKind, TokenSource, principal};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::time::timestamp;
use lectern_core::validate::{self, FieldError, page_size};
use lectern_core::{ids, paging};
use lectern_proto::notification::v1::reminder_service_server::ReminderService;
use lectern_proto::notification::v1::{
    ChannelSettings, Delivery, DeliveryReport, DeliveryReportRow, DeliveryState, GetChannelSettingsRequest,
    GetDeliveryReportRequest, GetReminderSettingsRequest, ListDeliveriesRequest, ListDeliveriesResponse,
    ListTemplatesRequest, ListTemplatesResponse, PreviewTemplateRequest, PreviewTemplateResponse,
    ReminderSettings, ResendDeliveryRequest, ResetTemplateRequest, SendDueRemindersRequest,
    SendDueRemindersResponse, SendTestEmailRequest, SendTestEmailResponse, Template, Trigger,
    UnsubscribeRequest, UnsubscribeResponse, UpdateReminderSettingsRequest, UpdateTemplateRequest,
};
use lectern_proto::reader::v1::reader_profile_service_client::ReaderProfileServiceClient;
use lectern_proto::reader::v1::reader_service_client::ReaderServiceClient;
use lectern_proto::reader::v1::{BatchGetNotificationProfilesRequest, GetSchoolRequest};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::Error;
use crate::channels::Channels;
use crate::db::reminders::{self as db, DeliveryFilter, DeliveryRecord};
use crate::notices::Language;
use crate::plan::Planner;
use crate::schedule;
use crate::sender::Sender;
use crate::settings::{self, SchoolSettings};
use crate::templates::{self, Item, TemplateContext, TemplateRow, Text, language_tag};
use crate::triggers::{self, channel_of, recipient_of, state_name, state_of, trigger_name, trigger_of};
use crate::unsubscribe;

/// The reminder handlers and what they need.
#[derive(Clone)]
pub struct Reminders {
    pub db: Db,
    pub clock: SharedClock,
    pub zone: chrono_tz::Tz,
    pub planner: Planner,
    pub sender: Sender,
    pub channels: Channels,
    /// Signs and checks unsubscribe links.
    pub service_key: String,
    /// The reader service: school names and readers' profiles.
    pub readers: ReaderServiceClient<Channel>,
    pub profiles: ReaderProfileServiceClient<Channel>,
    pub tokens: Arc<dyn TokenSource>,
    pub call_timeout: Duration,
}

impl std::fmt::Debug for Reminders {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Reminders").field("zone", &self.zone).finish_non_exhaustive()
    }
}

/// Whether the caller may see readers' contact points (librarians,
/// district admins, services; not assistants).
fn sees_contacts(caller: &Principal) -> bool {
    caller.kind == SubjectKind::Service || caller.is_staff_from(Role::Librarian)
}

/// A language as the API names it: "zh-CN" or "en".
fn language(field: &'static str, value: &str) -> Result<Language, FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(field, "is required: \"zh-CN\" or \"en\""));
    }
    Language::parse(value).ok_or_else(|| FieldError::new(field, "must be \"zh-CN\" or \"en\""))
}

fn trigger(field: &'static str, value: i32) -> Result<Trigger, FieldError> {
    validate::known_enum::<Trigger>(field, value)
}

fn template_to_proto(school_id: &str, trigger: Trigger, language: Language, text: Text) -> Template {
    Template {
        school_id: school_id.to_owned(),
        trigger: trigger.into(),
        language: language_tag(language).to_owned(),
        customized: text.saved.is_some(),
        updated_by: text.saved.as_ref().map(|row| row.updated_by.clone()).unwrap_or_default(),
        update_time: text.saved.as_ref().map(|row| timestamp(row.updated_at)),
        subject: text.subject,
        body: text.body,
    }
}

/// The default text of a trigger and language.
fn default_of(trigger: Trigger, language: Language) -> Text {
    let (subject, body) = templates::default_text(trigger, language);
    Text { subject: subject.to_owned(), body: body.to_owned(), saved: None }
}

fn delivery_to_proto(row: DeliveryRecord, subject_id: String, title: String, show_address: bool) -> Delivery {
    let state = state_of(&row.state);
    let waiting = matches!(state, DeliveryState::Pending | DeliveryState::Failed);
    Delivery {
        id: row.id,
        school_id: row.school_id,
        reader_id: row.reader_id,
        reader_name: row.reader_name,
        trigger: trigger_of(&row.trigger_name).into(),
        channel: channel_of(&row.channel).into(),
        recipient: recipient_of(&row.recipient).into(),
        address: if show_address { row.address } else { String::new() },
        contact_id: row.contact_id,
        state: state.into(),
        attempts: row.attempts,
        last_error: row.last_error,
        provider_id: row.provider_id,
        subject: row.subject,
        subject_id,
        title,
        create_time: Some(timestamp(row.created_at)),
        next_attempt_time: waiting.then(|| timestamp(row.next_attempt_at)),
        sent_time: row.sent_at.map(timestamp),
        message_id: row.message_id,
    }
}

impl Reminders {
    fn today(&self) -> NaiveDate {
        schedule::school_day(self.clock.now(), self.zone)
    }

    async fn bearer(&self) -> Result<String, Error> {
        self.tokens.bearer().await.map_err(|status| Error::Dependency(dependency_status("reader", status)))
    }

    /// A school's name, for texts and test messages.
    async fn school_name(&self, school_id: &str) -> Result<String, Error> {
        let bearer = self.bearer().await?;
        let request = with_bearer(GetSchoolRequest { id: school_id.to_owned() }, &bearer, self.call_timeout);
        let school = self
            .readers
            .clone()
            .get_school(request)
            .await
            .map_err(|status| Error::Dependency(dependency_status("reader", status)))?
            .into_inner();
        Ok(school.name)
    }

    /// A reader's name and class, for a preview.
    async fn reader_of(&self, reader_id: &str) -> Result<(String, String), Error> {
        let bearer = self.bearer().await?;
        let request = with_bearer(
            BatchGetNotificationProfilesRequest { reader_ids: vec![reader_id.to_owned()] },
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
        Ok(answer
            .profiles
            .into_iter()
            .next()
            .map(|profile| (profile.name, profile.class_name))
            .unwrap_or_default())
    }

    async fn load_settings(&self, school_id: String) -> Result<SchoolSettings, Error> {
        self.db
            .run(move |connection| -> Result<_, Error> { Ok(settings::load(connection, &school_id)?) })
            .await
    }
}

#[tonic::async_trait]
impl ReminderService for Reminders {
    async fn get_reminder_settings(
        &self,
        request: Request<GetReminderSettingsRequest>,
    ) -> Result<Response<ReminderSettings>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let school_id = ids::parse_id("school_id", &request.get_ref().school_id)?;
        caller.require_school(&school_id)?;
        Ok(Response::new(self.load_settings(school_id).await?.to_proto()))
    }

    async fn update_reminder_settings(
        &self,
        request: Request<UpdateReminderSettingsRequest>,
    ) -> Result<Response<ReminderSettings>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::LIBRARIAN)?;
        let proposed =
            request.into_inner().settings.ok_or_else(|| FieldError::new("settings", "is required"))?;
        let school_id = ids::parse_id("settings.school_id", &proposed.school_id)?;
        caller.require_school(&school_id)?;
        let mut settings = SchoolSettings::from_proto(ReminderSettings { school_id, ..proposed })?;
        settings.updated_by = caller.subject_id.clone();
        settings.updated_at = self.clock.now().naive_utc();
        let saved = settings.clone();
        self.db
            .write(move |connection| -> Result<_, Error> { Ok(settings::save(connection, &saved)?) })
            .await?;
        tracing::info!(school.id = %settings.school_id, staff.id = %caller.subject_id, "reminder settings saved");
        Ok(Response::new(settings.to_proto()))
    }

    async fn list_templates(
        &self,
        request: Request<ListTemplatesRequest>,
    ) -> Result<Response<ListTemplatesResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let school_id = ids::parse_id("school_id", &request.get_ref().school_id)?;
        caller.require_school(&school_id)?;
        let lookup = school_id.clone();
        let texts = self
            .db
            .run(move |connection| -> Result<_, Error> {
                let mut texts = Vec::new();
                for trigger in triggers::ALL {
                    for language in [Language::ZhCn, Language::En] {
                        texts.push((
                            trigger,
                            language,
                            templates::load_text(connection, &lookup, trigger, language)?,
                        ));
                    }
                }
                Ok(texts)
            })
            .await?;
        let list = texts
            .into_iter()
            .map(|(trigger, language, text)| template_to_proto(&school_id, trigger, language, text))
            .collect();
        Ok(Response::new(ListTemplatesResponse { templates: list, variables: templates::variables() }))
    }

    async fn update_template(
        &self,
        request: Request<UpdateTemplateRequest>,
    ) -> Result<Response<Template>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::LIBRARIAN)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        caller.require_school(&school_id)?;
        let trigger = trigger("trigger", request.trigger)?;
        let language = language("language", &request.language)?;
        let subject = validate::required_text("subject", &request.subject, 200)?;
        let body = validate::required_paragraphs("body", &request.body, 5000)?;
        templates::validate(&subject, &body)?;
        let row = TemplateRow {
            school_id: school_id.clone(),
            trigger_name: trigger_name(trigger).to_owned(),
            language: language_tag(language).to_owned(),
            subject,
            body,
            updated_by: caller.subject_id.clone(),
            updated_at: self.clock.now().naive_utc(),
        };
        let saved = row.clone();
        self.db
            .write(move |connection| -> Result<_, Error> { Ok(templates::save_text(connection, &saved)?) })
            .await?;
        tracing::info!(school.id = %school_id, trigger = %row.trigger_name, language = %row.language, staff.id = %caller.subject_id, "reminder text saved");
        let text = Text { subject: row.subject.clone(), body: row.body.clone(), saved: Some(row) };
        Ok(Response::new(template_to_proto(&school_id, trigger, language, text)))
    }

    async fn reset_template(
        &self,
        request: Request<ResetTemplateRequest>,
    ) -> Result<Response<Template>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::LIBRARIAN)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        caller.require_school(&school_id)?;
        let trigger = trigger("trigger", request.trigger)?;
        let language = language("language", &request.language)?;
        let school = school_id.clone();
        self.db
            .write(move |connection| -> Result<_, Error> {
                Ok(templates::reset_text(connection, &school, trigger, language)?)
            })
            .await?;
        tracing::info!(school.id = %school_id, trigger = trigger_name(trigger), language = language_tag(language), staff.id = %caller.subject_id, "reminder text reset");
        Ok(Response::new(template_to_proto(&school_id, trigger, language, default_of(trigger, language))))
    }

    async fn preview_template(
        &self,
        request: Request<PreviewTemplateRequest>,
    ) -> Result<Response<PreviewTemplateResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        caller.require_school(&school_id)?;
        let trigger = trigger("trigger", request.trigger)?;
        let language = language("language", &request.language)?;
        let given = if request.subject.trim().is_empty() && request.body.trim().is_empty() {
            None
        } else {
            Some((
                validate::required_text("subject", &request.subject, 200)?,
                validate::required_paragraphs("body", &request.body, 5000)?,
            ))
        };
        let loan_id = ids::parse_optional_id("loan_id", &request.loan_id)?;
        let school = school_id.clone();
        let overdue = match trigger {
            Trigger::Overdue1 | Trigger::Overdue2 | Trigger::Overdue3 => Some(true),
            Trigger::DueSoon | Trigger::DueToday => Some(false),
            _ => None,
        };
        let today = self.today().format("%Y-%m-%d").to_string();
        let (settings, saved, loan) =
            self.db
                .run(move |connection| -> Result<_, Error> {
                    let settings = settings::load(connection, &school)?;
                    let saved = templates::load_text(connection, &school, trigger, language)?;
                    let loan = match loan_id {
                        Some(loan_id) => db::find_loan_schedule(connection, &loan_id)?
                            .filter(|loan| loan.school_id == school),
                        None => db::preview_loan(connection, &school, overdue, &today)?,
                    };
                    Ok((settings, saved, loan))
                })
                .await?;
        let loan = match (loan, request.loan_id.is_empty()) {
            (Some(loan), _) => loan,
            (None, true) => {
                return Err(Refusal::new(
                    Reason::NoLoanToPreview,
                    "this school has no book on loan to preview the text with",
                )
                .into());
            }
            (None, false) => {
                return Err(Refusal::new(Reason::LoanNotFound, "no loan of this school has this id").into());
            }
        };
        let (subject, body) = match given {
            Some(text) => text,
            None => (saved.subject, saved.body),
        };
        let (school_name, (reader, class)) =
            (self.school_name(&school_id).await?, self.reader_of(&loan.reader_id).await?);
        let today = self.today();
        let days = NaiveDate::parse_from_str(&loan.due_date, "%Y-%m-%d")
            .map(|due| match trigger {
                Trigger::Overdue1 | Trigger::Overdue2 | Trigger::Overdue3 => (today - due).num_days(),
                _ => (due - today).num_days(),
            })
            .unwrap_or(0);
        let context = TemplateContext {
            reader,
            class,
            school: school_name,
            titles: vec![loan.title.clone()],
            due_date: loan.due_date.clone(),
            days,
            library_hours: settings.library_hours.clone(),
            items: vec![Item { title: loan.title.clone(), due_date: loan.due_date.clone(), days }],
            amount: match language {
                Language::ZhCn => "2.50 元".to_owned(),
                Language::En => "CNY 2.50".to_owned(),
            },
            pickup_by: loan.due_date.clone(),
        };
        let (subject, body) = templates::render(&subject, &body, &context)
            .map_err(|error| Error::from(FieldError::new(error.field, error.problem)))?;
        Ok(Response::new(PreviewTemplateResponse { subject, body, loan_id: loan.loan_id }))
    }

    async fn send_due_reminders(
        &self,
        request: Request<SendDueRemindersRequest>,
    ) -> Result<Response<SendDueRemindersResponse>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let school_id = ids::parse_optional_id("school_id", &request.school_id)?;
        match &school_id {
            Some(school_id) => {
                caller.require(Access::STAFF.or_services())?;
                caller.require_school(school_id)?;
            }
            None => caller.require(Access::DISTRICT_ADMIN.or_services())?,
        }
        let outcome = self.planner.run(school_id.clone(), request.dry_run).await?;
        if !request.dry_run {
            tracing::info!(
                school.id = school_id.as_deref().unwrap_or("all"),
                caller = %caller.log_label(),
                reminders = outcome.reminders.len(),
                deliveries = outcome.deliveries_queued,
                "due reminders made on request"
            );
            if outcome.deliveries_queued > 0 {
                // The caller sees the messages go out, not only queued.
                if let Err(error) = self.sender.run_once().await {
                    tracing::warn!(%error, "sending right after planning failed; the sender retries");
                }
            }
        }
        let show = sees_contacts(&caller);
        let mut reminders = outcome.reminders;
        reminders.sort_by(|a, b| {
            (
                &a.reminder.school_id,
                &a.class_name,
                &a.reader_name,
                &a.reminder.trigger_name,
                &a.reminder.subject_id,
            )
                .cmp(&(
                    &b.reminder.school_id,
                    &b.class_name,
                    &b.reader_name,
                    &b.reminder.trigger_name,
                    &b.reminder.subject_id,
                ))
        });
        Ok(Response::new(SendDueRemindersResponse {
            reminders: reminders.iter().map(|due| due.to_proto(show)).collect(),
            skipped_returned: i32::try_from(outcome.skipped_returned).unwrap_or(i32::MAX),
            deliveries_queued: i32::try_from(outcome.deliveries_queued).unwrap_or(i32::MAX),
            day: outcome.day.format("%Y-%m-%d").to_string(),
        }))
    }

    async fn list_deliveries(
        &self,
        request: Request<ListDeliveriesRequest>,
    ) -> Result<Response<ListDeliveriesResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        caller.require_school(&school_id)?;
        let state = match request.state {
            0 => None,
            value => Some(state_name(validate::known_enum::<DeliveryState>("state", value)?).to_owned()),
        };
        let reader_id = ids::parse_optional_id("reader_id", &request.reader_id)?;
        let limit = page_size("page_size", request.page_size, 50, 500)?;
        let after = paging::decode("page_token", &request.page_token)?;
        let filter = DeliveryFilter { school_id, state, reader_id };
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::list_deliveries(connection, &filter, after.as_deref(), limit + 1)?)
            })
            .await?;
        let (rows, more) = paging::split_page(rows, limit);
        let next_page_token = match rows.last() {
            Some((last, _, _)) if more => paging::encode(&last.id),
            _ => String::new(),
        };
        let show = sees_contacts(&caller);
        Ok(Response::new(ListDeliveriesResponse {
            deliveries: rows
                .into_iter()
                .map(|(row, subject_id, title)| delivery_to_proto(row, subject_id, title, show))
                .collect(),
            next_page_token,
        }))
    }

    async fn resend_delivery(
        &self,
        request: Request<ResendDeliveryRequest>,
    ) -> Result<Response<Delivery>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::LIBRARIAN)?;
        let delivery_id = ids::parse_id("delivery_id", &request.get_ref().delivery_id)?;
        let lookup = delivery_id.clone();
        let found = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::find_delivery(connection, &lookup)?) })
            .await?;
        let not_found = || Refusal::new(Reason::DeliveryNotFound, "no delivery has this id");
        let Some((delivery, _, _)) = found else {
            return Err(not_found().into());
        };
        caller.require_school(&delivery.school_id)?;
        let now = self.clock.now().naive_utc();
        let id = delivery_id.clone();
        let resent = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if !db::resend_delivery(connection, &id, now)? {
                    return Ok(None);
                }
                Ok(db::find_delivery(connection, &id)?)
            })
            .await?;
        let Some((row, subject_id, title)) = resent else {
            return Err(Refusal::new(
                Reason::DeliveryNotResendable,
                "only a failed or given-up delivery can be sent again",
            )
            .with("state", delivery.state)
            .into());
        };
        self.sender.waker.notify_one();
        tracing::info!(delivery.id = %delivery_id, staff.id = %caller.subject_id, "delivery sent again");
        Ok(Response::new(delivery_to_proto(row, subject_id, title, sees_contacts(&caller))))
    }

    async fn get_delivery_report(
        &self,
        request: Request<GetDeliveryReportRequest>,
    ) -> Result<Response<DeliveryReport>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::STAFF)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        caller.require_school(&school_id)?;
        let today = self.today();
        let last = validate::optional_date("last_day", &request.last_day)?.unwrap_or(today);
        let first = validate::optional_date("first_day", &request.first_day)?
            .unwrap_or(last - chrono::Duration::days(6));
        if first > last {
            return Err(FieldError::new("first_day", "must not be after last_day").into());
        }
        if (last - first).num_days() > 366 {
            return Err(FieldError::new("first_day", "at most 367 days at a time").into());
        }
        let zone = self.zone;
        let midnight = |day: NaiveDate| {
            zone.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
                .earliest()
                .map_or_else(|| day.and_time(chrono::NaiveTime::MIN), |at| at.with_timezone(&Utc).naive_utc())
        };
        let (from, until) = (midnight(first), midnight(last + chrono::Duration::days(1)));
        let lookup = school_id.clone();
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::delivery_states(connection, &lookup, from, until)?)
            })
            .await?;
        let mut counts: BTreeMap<(NaiveDate, i32), DeliveryReportRow> = BTreeMap::new();
        for (created_at, channel, state) in rows {
            let day = Utc.from_utc_datetime(&created_at).with_timezone(&zone).date_naive();
            let channel = channel_of(&channel) as i32;
            let row = counts.entry((day, channel)).or_insert_with(|| DeliveryReportRow {
                day: day.format("%Y-%m-%d").to_string(),
                channel,
                ..Default::default()
            });
            match state_of(&state) {
                DeliveryState::Sent => row.sent += 1,
                DeliveryState::Failed => row.failed += 1,
                DeliveryState::Dead => row.dead += 1,
                DeliveryState::Pending => row.pending += 1,
                DeliveryState::Cancelled => row.cancelled += 1,
                DeliveryState::Unspecified => {}
            }
        }
        Ok(Response::new(DeliveryReport { school_id, rows: counts.into_values().collect() }))
    }

    async fn get_channel_settings(
        &self,
        request: Request<GetChannelSettingsRequest>,
    ) -> Result<Response<ChannelSettings>, Status> {
        principal(&request)?.require(Access::DISTRICT_ADMIN)?;
        Ok(Response::new(self.channels.config().settings_proto()))
    }

    async fn send_test_email(
        &self,
        request: Request<SendTestEmailRequest>,
    ) -> Result<Response<SendTestEmailResponse>, Status> {
        let caller = principal(&request)?;
        caller.require(Access::DISTRICT_ADMIN)?;
        let request = request.into_inner();
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let to = request.to_address.trim().to_owned();
        if to.is_empty() || to.len() > 254 || !to.contains('@') || to.contains(char::is_whitespace) {
            return Err(FieldError::new("to_address", "must be an e-mail address").into());
        }
        let settings = self.load_settings(school_id.clone()).await?;
        let school_name = self.school_name(&school_id).await?;
        let answer = self.channels.send_test_email(&settings, &school_name, &to).await;
        tracing::info!(school.id = %school_id, staff.id = %caller.subject_id, accepted = answer.accepted, "test e-mail sent");
        Ok(Response::new(answer))
    }

    async fn unsubscribe(
        &self,
        request: Request<UnsubscribeRequest>,
    ) -> Result<Response<UnsubscribeResponse>, Status> {
        let (channel, address) = unsubscribe::verify(&self.service_key, &request.get_ref().token)?;
        let now = self.clock.now().naive_utc();
        let stored = address.clone();
        let cancelled = self
            .db
            .write(move |connection| -> Result<_, Error> {
                unsubscribe::opt_out(connection, channel, &stored, now)?;
                Ok(db::cancel_deliveries_to(
                    connection,
                    triggers::channel_name(channel),
                    &stored,
                    "opted out",
                )?)
            })
            .await?;
        tracing::info!(channel = triggers::channel_name(channel), cancelled, "address opted out");
        Ok(Response::new(UnsubscribeResponse {
            channel: channel.into(),
            address_hint: unsubscribe::hint(&address),
        }))
    }
}
