//! Kiosk and SIP2 device accounts at the identity service: district admins
//! register, list and disable devices anywhere, librarians those of their
//! own schools. A device's key is shown once, at registration, and stored
//! as an argon2id hash like a password. A reader signing in with a
//! device's token sent along is bound to that device.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lectern_core::access::Access;
use lectern_core::identity::{Principal, SubjectKind, TokenError, unverified_kind};
use lectern_core::validate::{self, known_enum, page_size};
use lectern_core::{ids, paging};
use lectern_proto::reader::v1::{
    CreateDeviceRequest, CreateDeviceResponse, Device, DeviceCharset, DeviceKind, DeviceSettings,
    DisableDeviceRequest, GetDeviceRequest, ListDevicesRequest, ListDevicesResponse,
    UpdateDeviceSettingsRequest,
};
use tonic::Status;

use super::{Identity, page};
use crate::audit::{self, Entry, action, outcome};
use crate::db::devices::DeviceSettingsRow;
use crate::db::{self, DeviceRow};
use crate::error::{Error, ReaderRefusal};
use crate::{passwords, sessions};

/// The stored name of a device kind.
fn kind_name(kind: DeviceKind) -> Option<&'static str> {
    match kind {
        DeviceKind::Unspecified => None,
        DeviceKind::Kiosk => Some("kiosk"),
        DeviceKind::Sip2 => Some("sip2"),
    }
}

/// The wire form of a stored device.
fn to_proto(row: DeviceRow) -> Device {
    let kind = match row.kind.as_str() {
        "kiosk" => DeviceKind::Kiosk,
        "sip2" => DeviceKind::Sip2,
        _ => DeviceKind::Unspecified,
    };
    Device {
        id: row.id,
        school_id: row.school_id,
        kind: kind.into(),
        label: row.label,
        disabled: row.disabled,
        create_time: Some(lectern_core::time::timestamp(row.created_at)),
        settings: Some(DeviceSettings {
            card_only: row.card_only,
            charset: charset_of(&row.charset).into(),
            language: row.language,
            crlf: row.crlf,
        }),
    }
}

/// The wire form of a stored character set name.
fn charset_of(name: &str) -> DeviceCharset {
    match name {
        "gb18030" => DeviceCharset::Gb18030,
        "cp850" => DeviceCharset::Cp850,
        _ => DeviceCharset::Utf8,
    }
}

/// Checks settings from a request (none: the defaults) and gives their
/// stored form.
fn settings_row(settings: Option<&DeviceSettings>) -> Result<DeviceSettingsRow, validate::FieldError> {
    let defaults = DeviceSettings::default();
    let settings = settings.unwrap_or(&defaults);
    let charset = match DeviceCharset::try_from(settings.charset) {
        Ok(DeviceCharset::Unspecified | DeviceCharset::Utf8) => "utf-8",
        Ok(DeviceCharset::Gb18030) => "gb18030",
        Ok(DeviceCharset::Cp850) => "cp850",
        Err(_) => {
            return Err(validate::FieldError::new(
                "settings.charset",
                format!("has unknown value {}", settings.charset),
            ));
        }
    };
    let language = match settings.language.trim() {
        "" | "zh-CN" => "zh-CN",
        "en" => "en",
        _ => return Err(validate::FieldError::new("settings.language", "must be \"zh-CN\" or \"en\"")),
    };
    Ok(DeviceSettingsRow {
        card_only: settings.card_only,
        charset: charset.to_owned(),
        language: language.to_owned(),
        crlf: settings.crlf,
    })
}

/// A fresh device key: 32 random bytes, base64url.
fn new_device_key() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Identity {
    /// The device a reader is signing in at: the one whose token came along
    /// with the reader's credentials (`None` when no token came, or a
    /// token of another kind of holder). A device token that does not
    /// verify (expired, signed out) is refused rather than ignored, so a
    /// kiosk never hands out an unbound reader token.
    pub(super) async fn device_of_bearer(&self, bearer: Option<String>) -> Result<Option<DeviceRow>, Error> {
        // Only a token that says it is a device's matters here; a phone's
        // stale reader token sent along with a fresh sign-in is ignored.
        let Some(token) = bearer.filter(|token| unverified_kind(token) == Some(SubjectKind::Device)) else {
            return Ok(None);
        };
        let caller = self.verifier.verify(&token).await.map_err(|error| match error {
            TokenError::SessionEnded => ReaderRefusal::SessionEnded,
            error => ReaderRefusal::DeviceTokenInvalid(error.to_string()),
        })?;
        if caller.kind != SubjectKind::Device {
            return Ok(None);
        }
        let device_id = caller.subject_id;
        let device = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::devices::find(connection, &device_id)?) })
            .await?;
        match device {
            Some(device) if !device.disabled => Ok(Some(device)),
            _ => Err(ReaderRefusal::DeviceNotAllowed("this device is disabled").into()),
        }
    }

    /// `CreateDevice`.
    pub(super) async fn register_device(
        &self,
        caller: &Principal,
        request: CreateDeviceRequest,
    ) -> Result<CreateDeviceResponse, Status> {
        caller.require(Access::LIBRARIAN)?;
        let school_id = ids::parse_id("school_id", &request.school_id)?;
        let kind = kind_name(known_enum::<DeviceKind>("kind", request.kind)?)
            .ok_or_else(|| validate::FieldError::new("kind", "is required"))?;
        let label = validate::required_text("label", &request.label, 100)?;
        let settings = settings_row(request.settings.as_ref())?;
        caller.require_school(&school_id)?;
        let key = new_device_key();
        let secret = key.clone();
        let key_hash =
            passwords::off_runtime(move || passwords::hash(&secret).map_err(Error::Internal)).await?;
        let now = self.clock.now().naive_utc();
        let device = DeviceRow {
            id: ids::new_id(),
            school_id,
            kind: kind.to_owned(),
            label,
            key_hash,
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            created_at: now,
            card_only: settings.card_only,
            charset: settings.charset,
            language: settings.language,
            crlf: settings.crlf,
        };
        let actor = caller.subject_id.clone();
        let device = self
            .db
            .write(move |connection| -> Result<_, Error> {
                if db::organisation::find_school(connection, &device.school_id)?.is_none() {
                    return Err(ReaderRefusal::SchoolNotFound(device.school_id).into());
                }
                db::devices::insert(connection, &device)?;
                audit::record(
                    connection,
                    Entry::about(action::DEVICE_CREATE, outcome::SUCCEEDED, &actor, &device.id),
                    now,
                )?;
                Ok(device)
            })
            .await?;
        tracing::info!(device.id = %device.id, school.id = %device.school_id, "device registered");
        Ok(CreateDeviceResponse { device: Some(to_proto(device)), key })
    }

    /// `ListDevices`.
    pub(super) async fn devices(
        &self,
        caller: &Principal,
        request: ListDevicesRequest,
    ) -> Result<ListDevicesResponse, Status> {
        caller.require(Access::LIBRARIAN)?;
        let school_id = ids::parse_optional_id("school_id", &request.school_id)?;
        let limit = page_size("page_size", request.page_size, 50, 500)?;
        let offset = paging::decode_offset("page_token", &request.page_token)?;
        let schools: Option<Vec<String>> = match school_id {
            Some(school_id) => {
                caller.require_school(&school_id)?;
                Some(vec![school_id])
            }
            None => caller.school_filter().map(<[String]>::to_vec),
        };
        let rows = self
            .db
            .run(move |connection| -> Result<_, Error> {
                Ok(db::devices::list(connection, schools.as_deref(), offset, limit + 1)?)
            })
            .await?;
        let (rows, next_page_token) = page(rows, offset, limit);
        Ok(ListDevicesResponse { devices: rows.into_iter().map(to_proto).collect(), next_page_token })
    }

    /// The device `device_id`, if `caller` may see it: staff of its school
    /// or the device itself.
    async fn visible_device(&self, caller: &Principal, device_id: &str) -> Result<DeviceRow, Status> {
        let device_id = ids::parse_id("device_id", device_id)?;
        let own = caller.kind == SubjectKind::Device && caller.subject_id == device_id;
        if !own {
            caller.require(Access::STAFF)?;
        }
        let lookup = device_id.clone();
        let device = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::devices::find(connection, &lookup)?) })
            .await?
            .ok_or_else(|| ReaderRefusal::DeviceNotFound(device_id.clone()))?;
        caller.require_school(&device.school_id)?;
        Ok(device)
    }

    /// `GetDevice`: staff of the device's school, or the device itself.
    pub(super) async fn device(
        &self,
        caller: &Principal,
        request: GetDeviceRequest,
    ) -> Result<Device, Status> {
        Ok(to_proto(self.visible_device(caller, &request.device_id).await?))
    }

    /// `UpdateDeviceSettings`: librarians of the device's school and
    /// district admins.
    pub(super) async fn change_device_settings(
        &self,
        caller: &Principal,
        request: UpdateDeviceSettingsRequest,
    ) -> Result<Device, Status> {
        caller.require(Access::LIBRARIAN)?;
        let settings = settings_row(request.settings.as_ref())?;
        let device = self.visible_device(caller, &request.device_id).await?;
        let now = self.clock.now().naive_utc();
        let actor = caller.subject_id.clone();
        let device = self
            .db
            .write(move |connection| -> Result<_, Error> {
                db::devices::update_settings(connection, &device.id, &settings)?;
                audit::record(
                    connection,
                    Entry::about(action::DEVICE_SETTINGS, outcome::SUCCEEDED, &actor, &device.id),
                    now,
                )?;
                Ok(DeviceRow {
                    card_only: settings.card_only,
                    charset: settings.charset,
                    language: settings.language,
                    crlf: settings.crlf,
                    ..device
                })
            })
            .await?;
        tracing::info!(device.id = %device.id, "device settings changed");
        Ok(to_proto(device))
    }

    /// `DisableDevice`: the device can no longer sign in, and its sessions
    /// (and those of readers signed in at it) end.
    pub(super) async fn turn_off_device(
        &self,
        caller: &Principal,
        request: DisableDeviceRequest,
    ) -> Result<Device, Status> {
        caller.require(Access::LIBRARIAN)?;
        let device_id = ids::parse_id("device_id", &request.device_id)?;
        let lookup = device_id.clone();
        let device = self
            .db
            .run(move |connection| -> Result<_, Error> { Ok(db::devices::find(connection, &lookup)?) })
            .await?
            .ok_or_else(|| ReaderRefusal::DeviceNotFound(device_id.clone()))?;
        caller.require_school(&device.school_id)?;
        let now = self.clock.now().naive_utc();
        let actor = caller.subject_id.clone();
        let device = self
            .db
            .write(move |connection| -> Result<_, Error> {
                db::devices::disable(connection, &device.id)?;
                db::sessions::revoke_subject(
                    connection,
                    &device.id,
                    sessions::reason::SUBJECT_DISABLED,
                    now,
                )?;
                audit::record(
                    connection,
                    Entry::about(action::DEVICE_DISABLE, outcome::SUCCEEDED, &actor, &device.id),
                    now,
                )?;
                Ok(DeviceRow { disabled: true, ..device })
            })
            .await?;
        tracing::info!(device.id = %device.id, "device disabled");
        Ok(to_proto(device))
    }
}

/// The token of an `authorization: Bearer …` header (a kiosk's device
/// token sent along with a reader's sign-in).
pub(super) fn bearer_token<T>(request: &tonic::Request<T>) -> Option<String> {
    lectern_core::identity::bearer(request.metadata().get("authorization")?.to_str().ok()?)
}
