//! A reader's profile beyond the card: contact points (the reader's own,
//! guardians', the homeroom teacher's), notification preferences and staff
//! notes. What a valid e-mail address, phone number and WeChat open id look
//! like, and the rules checked in the write transaction. Contact values
//! and note texts are personal data: they appear in no log line and no
//! audit detail (ids, kinds and channels only).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use lectern_common::db::{DbConnection, unique_violation_on};
use lectern_core::validate::{self, FieldError};
use lectern_proto::reader::v1::{ContactChannel, ContactWho, NotificationChannel};

use crate::audit::{self, Entry};
use crate::db::profile::{AddresseeRow, ContactRow, NoteRow, PreferencesRow};
use crate::db::{self};
use crate::error::{Error, ReaderRefusal};

/// Most contact points one reader may have.
pub const MAX_CONTACTS: i64 = 20;
/// Languages notices can be written in.
pub const LANGUAGES: [&str; 2] = ["zh-CN", "en"];
/// The language until a reader chooses one.
pub const DEFAULT_LANGUAGE: &str = "zh-CN";

/// The stored code of whose contact point it is.
pub fn who_code(who: ContactWho) -> Option<&'static str> {
    match who {
        ContactWho::Reader => Some("reader"),
        ContactWho::Guardian => Some("guardian"),
        ContactWho::HomeroomTeacher => Some("homeroom_teacher"),
        ContactWho::Unspecified => None,
    }
}

/// Whose contact point a stored code is.
pub fn who_of(code: &str) -> ContactWho {
    match code {
        "reader" => ContactWho::Reader,
        "guardian" => ContactWho::Guardian,
        "homeroom_teacher" => ContactWho::HomeroomTeacher,
        _ => ContactWho::Unspecified,
    }
}

/// The stored code of a contact channel.
pub fn channel_code(channel: ContactChannel) -> Option<&'static str> {
    match channel {
        ContactChannel::Email => Some("email"),
        ContactChannel::Phone => Some("phone"),
        ContactChannel::Wechat => Some("wechat"),
        ContactChannel::Unspecified => None,
    }
}

/// The contact channel of a stored code.
pub fn channel_of(code: &str) -> ContactChannel {
    match code {
        "email" => ContactChannel::Email,
        "phone" => ContactChannel::Phone,
        "wechat" => ContactChannel::Wechat,
        _ => ContactChannel::Unspecified,
    }
}

/// A contact value checked and normalised for its channel: an e-mail
/// address of a plausible shape, a phone number of 5–20 digits with an
/// optional leading "+" (spaces and "-" dropped), or a WeChat open id of
/// 1–64 letters, digits, "-" and "_". The message never repeats the value.
pub fn contact_value(
    field: &'static str,
    channel: ContactChannel,
    value: &str,
) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    match channel {
        ContactChannel::Email => email(field, value),
        ContactChannel::Phone => phone(field, value),
        ContactChannel::Wechat => open_id(field, value),
        ContactChannel::Unspecified => Err(FieldError::new("channel", "is required")),
    }
}

fn email(field: &'static str, value: &str) -> Result<String, FieldError> {
    let bad = || FieldError::new(field, "is not an e-mail address like name@example.cn");
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
    let labels: Vec<&str> = domain.split('.').collect();
    if local.is_empty()
        || local.len() > 64
        || local.contains('@')
        || labels.len() < 2
        || labels.iter().any(|label| label.is_empty() || label.starts_with('-') || label.ends_with('-'))
        || !domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
    {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

fn phone(field: &'static str, value: &str) -> Result<String, FieldError> {
    let compact: String = value.chars().filter(|c| *c != ' ' && *c != '-').collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if !(5..=20).contains(&digits.len()) || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(FieldError::new(field, "must be 5 to 20 digits, optionally starting with \"+\""));
    }
    Ok(compact)
}

fn open_id(field: &'static str, value: &str) -> Result<String, FieldError> {
    if value.len() > 64
        || !value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        return Err(FieldError::new(field, "must be 1 to 64 letters, digits, \"-\" or \"_\""));
    }
    Ok(value.to_owned())
}

/// A contact point's label: optional, at most 20 characters.
pub fn label(field: &'static str, value: &str) -> Result<String, FieldError> {
    validate::optional_text(field, value, 20)
}

/// A note's text: 1–1000 characters.
pub fn note_text(field: &'static str, value: &str) -> Result<String, FieldError> {
    validate::required_text(field, value, 1000)
}

/// The language of notices: "zh-CN" or "en" (any case).
pub fn language(field: &'static str, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    LANGUAGES
        .iter()
        .find(|known| known.eq_ignore_ascii_case(value))
        .map(|known| (*known).to_owned())
        .ok_or_else(|| FieldError::new(field, "must be \"zh-CN\" or \"en\""))
}

/// Which channels to notify on, from the request's list: at least one,
/// repeats ignored. Returns (email, sms, wechat, in_app).
pub fn channels(field: &'static str, values: &[i32]) -> Result<[bool; 4], FieldError> {
    let mut chosen = [false; 4];
    for value in values {
        let channel: NotificationChannel = validate::known_enum(field, *value)?;
        let index = match channel {
            NotificationChannel::Email => 0,
            NotificationChannel::Sms => 1,
            NotificationChannel::Wechat => 2,
            NotificationChannel::InApp => 3,
            NotificationChannel::Unspecified => return Err(FieldError::new(field, "is required")),
        };
        chosen[index] = true;
    }
    if !chosen.contains(&true) {
        return Err(FieldError::new(field, "choose at least one channel"));
    }
    Ok(chosen)
}

/// The preferences in force for a reader who never set any.
pub fn default_preferences(reader_id: &str) -> PreferencesRow {
    PreferencesRow {
        reader_id: reader_id.to_owned(),
        notify_email: false,
        notify_sms: false,
        notify_wechat: false,
        notify_in_app: true,
        language: DEFAULT_LANGUAGE.to_owned(),
        updated_at: NaiveDateTime::default(),
    }
}

/// The most readers one `BatchGetNotificationProfiles` call may name.
pub const MAX_BATCH_READERS: usize = 1000;

/// The reader ids of a batch, checked and without repeats: 1 to
/// [`MAX_BATCH_READERS`] of them.
pub fn reader_ids(field: &'static str, values: &[String]) -> Result<Vec<String>, FieldError> {
    if values.is_empty() {
        return Err(FieldError::new(field, "is required (at least one reader id)"));
    }
    let mut ids = values
        .iter()
        .map(|value| lectern_core::ids::parse_id(field, value))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_BATCH_READERS {
        return Err(FieldError::new(field, format!("may name at most {MAX_BATCH_READERS} readers")));
    }
    Ok(ids)
}

/// What the notification service needs to address one reader's notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationProfile {
    pub reader: AddresseeRow,
    /// The preferences in force, and whether the reader ever set them
    /// (the defaults otherwise).
    pub preferences: (PreferencesRow, bool),
    /// Every contact point, oldest first.
    pub contacts: Vec<ContactRow>,
}

/// The notification profiles of the readers among `reader_ids` that exist,
/// in three queries whatever their number (readers, preferences,
/// contacts). Erased and unknown readers are absent.
pub fn notification_profiles(
    connection: &mut DbConnection,
    reader_ids: &[String],
) -> Result<Vec<NotificationProfile>, Error> {
    let readers = db::profile::addressees(connection, reader_ids)?;
    if readers.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<String> = readers.iter().map(|reader| reader.reader_id.clone()).collect();
    let mut preferences: HashMap<String, PreferencesRow> =
        db::profile::preferences_of_readers(connection, &found)?
            .into_iter()
            .map(|row| (row.reader_id.clone(), row))
            .collect();
    let mut contacts: HashMap<String, Vec<ContactRow>> = HashMap::new();
    for row in db::profile::contacts_of_readers(connection, &found)? {
        contacts.entry(row.reader_id.clone()).or_default().push(row);
    }
    Ok(readers
        .into_iter()
        .map(|reader| {
            let preferences = match preferences.remove(&reader.reader_id) {
                Some(row) => (row, true),
                None => (default_preferences(&reader.reader_id), false),
            };
            let contacts = contacts.remove(&reader.reader_id).unwrap_or_default();
            NotificationProfile { reader, preferences, contacts }
        })
        .collect())
}

/// Adds a contact point the reader does not have yet, within the limit.
pub fn create_contact(
    connection: &mut DbConnection,
    contact: ContactRow,
    actor_id: &str,
) -> Result<ContactRow, Error> {
    if db::profile::contact_count(connection, &contact.reader_id)? >= MAX_CONTACTS {
        return Err(ReaderRefusal::ContactLimitReached(MAX_CONTACTS).into());
    }
    if db::profile::contact_exists(connection, &contact)? {
        return Err(ReaderRefusal::ContactExists.into());
    }
    match db::profile::insert_contact(connection, &contact) {
        Ok(()) => {}
        Err(error) if unique_violation_on(&error, "value") => return Err(ReaderRefusal::ContactExists.into()),
        Err(error) => return Err(error.into()),
    }
    let detail = format!("contact={} who={} channel={}", contact.id, contact.who, contact.channel);
    audit::record(
        connection,
        Entry::about(audit::action::CONTACT_ADDED, audit::outcome::SUCCEEDED, actor_id, &contact.reader_id)
            .detail(detail),
        contact.created_at,
    )?;
    tracing::info!(reader.id = %contact.reader_id, contact.id = %contact.id, "contact point added");
    Ok(contact)
}

/// Removes a contact point of the reader.
pub fn delete_contact(
    connection: &mut DbConnection,
    reader_id: &str,
    contact_id: &str,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    if !db::profile::delete_contact(connection, reader_id, contact_id)? {
        return Err(ReaderRefusal::ContactNotFound(contact_id.to_owned()).into());
    }
    let entry = Entry::about(audit::action::CONTACT_REMOVED, audit::outcome::SUCCEEDED, actor_id, reader_id)
        .detail(format!("contact={contact_id}"));
    audit::record(connection, entry, now)?;
    tracing::info!(reader.id = %reader_id, contact.id = %contact_id, "contact point removed");
    Ok(())
}

/// Replaces a reader's notification preferences.
pub fn set_preferences(
    connection: &mut DbConnection,
    preferences: PreferencesRow,
    actor_id: &str,
) -> Result<PreferencesRow, Error> {
    db::profile::set_preferences(connection, &preferences)?;
    audit::record(
        connection,
        Entry::about(
            audit::action::PREFERENCES_SET,
            audit::outcome::SUCCEEDED,
            actor_id,
            &preferences.reader_id,
        ),
        preferences.updated_at,
    )?;
    tracing::info!(reader.id = %preferences.reader_id, "notification preferences set");
    Ok(preferences)
}

/// Adds a staff note.
pub fn create_note(connection: &mut DbConnection, note: NoteRow) -> Result<NoteRow, Error> {
    db::profile::insert_note(connection, &note)?;
    let entry =
        Entry::about(audit::action::NOTE_ADDED, audit::outcome::SUCCEEDED, &note.author_id, &note.reader_id)
            .detail(format!("note={}", note.id));
    audit::record(connection, entry, note.created_at)?;
    tracing::info!(reader.id = %note.reader_id, note.id = %note.id, "reader note added");
    Ok(note)
}

/// Deletes a staff note of the reader.
pub fn delete_note(
    connection: &mut DbConnection,
    reader_id: &str,
    note_id: &str,
    actor_id: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    if !db::profile::delete_note(connection, reader_id, note_id)? {
        return Err(ReaderRefusal::NoteNotFound(note_id.to_owned()).into());
    }
    let entry = Entry::about(audit::action::NOTE_DELETED, audit::outcome::SUCCEEDED, actor_id, reader_id)
        .detail(format!("note={note_id}"));
    audit::record(connection, entry, now)?;
    tracing::info!(reader.id = %reader_id, note.id = %note_id, "reader note deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_have_a_plausible_shape() {
        let check = |value| contact_value("value", ContactChannel::Email, value);
        assert_eq!(check(" Wang.Mama@Example.CN "), Ok("Wang.Mama@example.cn".to_owned()));
        assert_eq!(check("li@学校.中国"), Ok("li@学校.中国".to_owned()));
        for bad in [
            "",
            "wang",
            "@example.cn",
            "wang@",
            "wang@localhost",
            "wang@example..cn",
            "a b@example.cn",
            "wang@-x.cn",
        ] {
            assert!(check(bad).is_err(), "{bad:?} should be refused");
        }
        let error = check("not-an-address").unwrap_err().to_string();
        assert!(!error.contains("not-an-address"), "the value stays out of messages: {error}");
    }

    #[test]
    fn phone_numbers_are_digits_with_an_optional_plus() {
        let check = |value| contact_value("value", ContactChannel::Phone, value);
        assert_eq!(check("+86 138-0013-8000"), Ok("+8613800138000".to_owned()));
        assert_eq!(check("021 6438 0000"), Ok("02164380000".to_owned()));
        for bad in ["1234", "138OO138000", "++8613800138000", "+", "1".repeat(21).as_str(), "86+138"] {
            assert!(check(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn wechat_open_ids_use_a_safe_charset() {
        let check = |value| contact_value("value", ContactChannel::Wechat, value);
        assert_eq!(check("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), Ok("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned()));
        assert!(check("o Up F8").is_err());
        assert!(check("oUpF8+uM").is_err());
        assert!(check(&"o".repeat(65)).is_err());
        assert_eq!(contact_value("value", ContactChannel::Unspecified, "x").unwrap_err().field, "channel");
    }

    #[test]
    fn labels_notes_and_languages_are_checked() {
        assert_eq!(label("label", " 妈妈 "), Ok("妈妈".to_owned()));
        assert!(label("label", &"长".repeat(21)).is_err());
        assert!(note_text("text", " ").is_err());
        assert!(note_text("text", &"字".repeat(1001)).is_err());
        assert_eq!(language("language", "zh-cn"), Ok("zh-CN".to_owned()));
        assert_eq!(language("language", "EN"), Ok("en".to_owned()));
        assert!(language("language", "fr").is_err());
        assert!(language("language", "").is_err());
    }

    #[test]
    fn at_least_one_known_channel_is_chosen() {
        let email = NotificationChannel::Email as i32;
        let in_app = NotificationChannel::InApp as i32;
        assert_eq!(channels("channels", &[in_app, email, in_app]), Ok([true, false, false, true]));
        assert!(channels("channels", &[]).is_err());
        assert!(channels("channels", &[0]).is_err());
        assert!(channels("channels", &[99]).is_err());
    }

    #[test]
    fn batch_reader_ids_are_checked_and_repeats_dropped() {
        let id = lectern_core::ids::new_id();
        assert_eq!(reader_ids("reader_ids", &[id.clone(), id.clone()]), Ok(vec![id.clone()]));
        assert_eq!(reader_ids("reader_ids", &[]).unwrap_err().field, "reader_ids");
        assert_eq!(reader_ids("reader_ids", &[id, "R100001".into()]).unwrap_err().field, "reader_ids");
        let too_many: Vec<String> = (0..=MAX_BATCH_READERS).map(|_| lectern_core::ids::new_id()).collect();
        assert!(reader_ids("reader_ids", &too_many).is_err());
    }

    #[test]
    fn stored_codes_round_trip() {
        for who in [ContactWho::Reader, ContactWho::Guardian, ContactWho::HomeroomTeacher] {
            assert_eq!(who_of(who_code(who).unwrap()), who);
        }
        for channel in [ContactChannel::Email, ContactChannel::Phone, ContactChannel::Wechat] {
            assert_eq!(channel_of(channel_code(channel).unwrap()), channel);
        }
    }
}
