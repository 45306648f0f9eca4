//! `ReaderProfileService`: a reader's contact points, notification
//! preferences and staff notes. Every call is scoped to the reader's
//! school: staff of that school (and district admins) may do everything; a
//! signed-in reader may list their own contact points and read and set
//! their own preferences; Lectern's services (notification) may read
//! contact points and preferences. Contact values never reach a log line.

use lectern_common::db::Db;
use lectern_common::idempotency::Idempotent;
use lectern_core::access::Access;
use lectern_core::clock::SharedClock;
use lectern_core::identity::{Principal, SubjectKind, principal};
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::{self, page_size};
use lectern_core::{ids, paging};
use lectern_proto::reader::v1::reader_profile_service_server::ReaderProfileService;
use lectern_proto::reader::v1::{
    BatchGetNotificationProfilesRequest, BatchGetNotificationProfilesResponse, ContactChannel, ContactWho,
    CreateReaderContactRequest, CreateReaderNoteRequest, DeleteReaderContactRequest,
    DeleteReaderContactResponse, DeleteReaderNoteRequest, DeleteReaderNoteResponse,
    GetNotificationPreferencesRequest, ListReaderContactsRequest, ListReaderContactsResponse,
    ListReaderNotesRequest, ListReaderNotesResponse, NotificationChannel, NotificationPreferences,
    NotificationProfile, ReaderContact, ReaderNote, UpdateNotificationPreferencesRequest,
};
use tonic::{Request, Response, Status};

use super::{STAFF_OR_SERVICES, page, scope};
use crate::audit::action::{READER_CHANGED, READER_READ};
use crate::db::profile::{ContactRow, NoteRow, PreferencesRow};
use crate::db::{self};
use crate::error::{Error, ReaderRefusal};
use crate::profile;
use lectern_core::time::timestamp;

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 500;

/// Who besides staff of the reader's school may make a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Also {
    /// Nobody else.
    Nobody,
    /// The reader themself.
    Reader,
    /// The reader themself and Lectern's services.
    ReaderAndServices,
}

/// The `ReaderProfileService` handlers.
#[derive(Debug, Clone)]
pub struct Profiles {
    pub db: Db,
    pub clock: SharedClock,
}

impl Profiles {
    /// Refuses unless `caller` may act on reader `reader_id`: a reader only
    /// on their own record where `also` allows it; staff and services only
    /// for readers of a school they cover (a refusal is audited as
    /// `action`). An unknown reader is NOT_FOUND.
    async fn authorize(
        &self,
        caller: &Principal,
        reader_id: &str,
        also: Also,
        action: &'static str,
    ) -> Result<(), Status> {
        match caller.kind {
            // A kiosk screen is semi-public: contacts and preferences are
            // for the reader's own phone or the portal.
            SubjectKind::Reader if caller.device_id.is_some() => {
                return Err(Refusal::new(
                    Reason::DeviceNotAllowed,
                    "contact details are not shown at self-service devices",
                )
                .into());
            }
            SubjectKind::Reader if matches!(also, Also::Reader | Also::ReaderAndServices) => {
                return Ok(caller.require_self_or_staff(reader_id)?);
            }
            SubjectKind::Service if also == Also::ReaderAndServices => caller.require(STAFF_OR_SERVICES)?,
            _ => caller.require(Access::STAFF)?,
        }
        let school_id = scope::school_of_reader(&self.db, reader_id).await?;
        scope::require_reader_school(&self.db, &self.clock, caller, &school_id, reader_id, action).await
    }
}

fn contact(row: ContactRow) -> ReaderContact {
    ReaderContact {
        who: profile::who_of(&row.who).into(),
        channel: profile::channel_of(&row.channel).into(),
        id: row.id,
        reader_id: row.reader_id,
        value: row.value,
        label: row.label,
        create_time: Some(timestamp(row.created_at)),
    }
}

fn note(row: NoteRow) -> ReaderNote {
    ReaderNote {
        id: row.id,
        reader_id: row.reader_id,
        text: row.body,
        author_id: row.author_id,
        create_time: Some(timestamp(row.created_at)),
    }
}

fn preferences(row: PreferencesRow, stored: bool) -> NotificationPreferences {
    let channels = [
        (row.notify_email, NotificationChannel::Email),
        (row.notify_sms, NotificationChannel::Sms),
        (row.notify_wechat, NotificationChannel::Wechat),
        (row.notify_in_app, NotificationChannel::InApp),
    ]
    .into_iter()
    .filter_map(|(on, channel)| on.then_some(i32::from(channel)))
    .collect();
    NotificationPreferences {
        reader_id: row.reader_id,
        channels,
        language: row.language,
        update_time: stored.then(|| timestamp(row.updated_at)),
    }
}

fn notification_profile(found: profile::NotificationProfile) -> NotificationProfile {
    let (stored, set) = found.preferences;
    NotificationProfile {
        reader_id: found.reader.reader_id,
        school_id: found.reader.school_id,
        name: found.reader.name,
        class_id: found.reader.class_id.unwrap_or_default(),
        class_name: found.reader.class_name.unwrap_or_default(),
        preferences: Some(preferences(stored, set)),
        contacts: found.contacts.into_iter().map(contact).collect(),
    }
}

#[tonic::async_trait]
impl ReaderProfileService for Profiles {
    async fn batch_get_notification_profiles(
        &self,
        request: Request<BatchGetNotificationProfilesRequest>,
    ) -> Result<Response<BatchGetNotificationProfilesResponse>, Status> {
        // Contact points of many readers at once are for the notification
        // service only; staff look readers up one at a time.
        principal(&request)?.require(Access::SERVICE)?;
        let reader_ids = profile::reader_ids("reader_ids", &request.get_ref().reader_ids)?;
        let found =
            self.db.run(move |connection| profile::notification_profiles(connection, &reader_ids)).await?;
        Ok(Response::new(BatchGetNotificationProfilesResponse {
            profiles: found.into_iter().map(notification_profile).collect(),
        }))
    }

    async fn create_reader_contact(
        &self,
        request: Request<CreateReaderContactRequest>,
    ) -> Result<Response<ReaderContact>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let who: ContactWho = validate::known_enum("who", request.who)?;
        let channel: ContactChannel = validate::known_enum("channel", request.channel)?;
        let row = ContactRow {
            id: ids::new_id(),
            reader_id: reader_id.clone(),
            who: profile::who_code(who).unwrap_or_default().to_owned(),
            channel: profile::channel_code(channel).unwrap_or_default().to_owned(),
            value: profile::contact_value("value", channel, &request.value)?,
            label: profile::label("label", &request.label)?,
            created_at: self.clock.now().naive_utc(),
        };
        let request_id = validate::request_id("request_id", &request.request_id)?;
        self.authorize(&caller, &reader_id, Also::Nobody, READER_CHANGED).await?;
        let now = row.created_at;
        let answer = Idempotent::new("reader.CreateReaderContact", request_id)
            .write(&self.db, now, move |connection| {
                profile::create_contact(connection, row, &caller.subject_id).map(contact)
            })
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn list_reader_contacts(
        &self,
        request: Request<ListReaderContactsRequest>,
    ) -> Result<Response<ListReaderContactsResponse>, Status> {
        let caller = principal(&request)?;
        let reader_id = ids::parse_id("reader_id", &request.get_ref().reader_id)?;
        self.authorize(&caller, &reader_id, Also::ReaderAndServices, READER_READ).await?;
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::profile::contacts(connection, &reader_id)?) })
            .await?;
        Ok(Response::new(ListReaderContactsResponse { contacts: rows.into_iter().map(contact).collect() }))
    }

    async fn delete_reader_contact(
        &self,
        request: Request<DeleteReaderContactRequest>,
    ) -> Result<Response<DeleteReaderContactResponse>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let contact_id = ids::parse_id("contact_id", &request.contact_id)?;
        self.authorize(&caller, &reader_id, Also::Nobody, READER_CHANGED).await?;
        let now = self.clock.now().naive_utc();
        self.db
            .write(move |connection| {
                profile::delete_contact(connection, &reader_id, &contact_id, &caller.subject_id, now)
            })
            .await?;
        Ok(Response::new(DeleteReaderContactResponse {}))
    }

    async fn get_notification_preferences(
        &self,
        request: Request<GetNotificationPreferencesRequest>,
    ) -> Result<Response<NotificationPreferences>, Status> {
        let caller = principal(&request)?;
        let reader_id = ids::parse_id("reader_id", &request.get_ref().reader_id)?;
        self.authorize(&caller, &reader_id, Also::ReaderAndServices, READER_READ).await?;
        let stored = self
            .db
            .run(move |connection| -> Result<_, Error> {
                if !db::readers::reader_exists(connection, &reader_id)? {
                    return Err(ReaderRefusal::ReaderNotFound(reader_id).into());
                }
                Ok(db::profile::preferences(connection, &reader_id)?
                    .map(|row| (row, true))
                    .unwrap_or_else(|| (profile::default_preferences(&reader_id), false)))
            })
            .await?;
        Ok(Response::new(preferences(stored.0, stored.1)))
    }

    async fn update_notification_preferences(
        &self,
        request: Request<UpdateNotificationPreferencesRequest>,
    ) -> Result<Response<NotificationPreferences>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let [notify_email, notify_sms, notify_wechat, notify_in_app] =
            profile::channels("channels", &request.channels)?;
        let row = PreferencesRow {
            reader_id: reader_id.clone(),
            notify_email,
            notify_sms,
            notify_wechat,
            notify_in_app,
            language: profile::language("language", &request.language)?,
            updated_at: self.clock.now().naive_utc(),
        };
        self.authorize(&caller, &reader_id, Also::Reader, READER_CHANGED).await?;
        let row = self
            .db
            .write(move |connection| {
                if !db::readers::reader_exists(connection, &reader_id)? {
                    return Err(ReaderRefusal::ReaderNotFound(reader_id).into());
                }
                profile::set_preferences(connection, row, &caller.subject_id)
            })
            .await?;
        Ok(Response::new(preferences(row, true)))
    }

    async fn create_reader_note(
        &self,
        request: Request<CreateReaderNoteRequest>,
    ) -> Result<Response<ReaderNote>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let row = NoteRow {
            id: ids::new_id(),
            reader_id: reader_id.clone(),
            body: profile::note_text("text", &request.text)?,
            author_id: caller.subject_id.clone(),
            created_at: self.clock.now().naive_utc(),
        };
        let request_id = validate::request_id("request_id", &request.request_id)?;
        self.authorize(&caller, &reader_id, Also::Nobody, READER_CHANGED).await?;
        let now = row.created_at;
        let answer = Idempotent::new("reader.CreateReaderNote", request_id)
            .write(&self.db, now, move |connection| profile::create_note(connection, row).map(note))
            .await?
            .into_inner();
        Ok(Response::new(answer))
    }

    async fn list_reader_notes(
        &self,
        request: Request<ListReaderNotesRequest>,
    ) -> Result<Response<ListReaderNotesResponse>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let limit = page_size("page_size", request.page_size, DEFAULT_PAGE, MAX_PAGE)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        self.authorize(&caller, &reader_id, Also::Nobody, READER_READ).await?;
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::profile::notes(connection, &reader_id, offset, limit + 1)?)
            })
            .await?;
        let (rows, next_page_token) = page(rows, offset, limit);
        Ok(Response::new(ListReaderNotesResponse {
            notes: rows.into_iter().map(note).collect(),
            next_page_token,
        }))
    }

    async fn delete_reader_note(
        &self,
        request: Request<DeleteReaderNoteRequest>,
    ) -> Result<Response<DeleteReaderNoteResponse>, Status> {
        let caller = principal(&request)?;
        let request = request.into_inner();
        let reader_id = ids::parse_id("reader_id", &request.reader_id)?;
        let note_id = ids::parse_id("note_id", &request.note_id)?;
        self.authorize(&caller, &reader_id, Also::Nobody, READER_CHANGED).await?;
        let now = self.clock.now().naive_utc();
        self.db
            .write(move |connection| {
                profile::delete_note(connection, &reader_id, &note_id, &caller.subject_id, now)
            })
            .await?;
        Ok(Response::new(DeleteReaderNoteResponse {}))
    }
}
