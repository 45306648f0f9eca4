//! Staff accounts and sign-in: what a username may look like, how roles
//! are named on the wire and in the database, and the checks behind
//! `Login` and `ChangePassword`. The checks that hash run through
//! `passwords::off_runtime`, after the database connection is given back.

use chrono::NaiveDateTime;
use lectern_common::db::DbConnection;
use lectern_core::identity::Role;
use lectern_core::validate::FieldError;
use lectern_proto::reader::v1::{LoginRequest, StaffRole, login_request};

use crate::db::{self, StaffRow};
use crate::error::{Error, ReaderRefusal};
use crate::passwords;

/// The Lectern services that may sign in with the district's service key.
pub const SERVICES: &[&str] = &["catalog", "circulation", "reader", "notification", "gateway"];
/// The answer to an unknown username and to a wrong password alike.
pub const WRONG_STAFF_CREDENTIALS: &str = "username or password is wrong";
/// The answer to an unknown card, a card without PIN and a wrong PIN alike.
pub const WRONG_READER_CREDENTIALS: &str = "card or PIN is wrong";
const WRONG_SERVICE_CREDENTIALS: &str = "service name or key is wrong";
/// The answer to an unknown device and to a wrong device key alike.
pub const WRONG_DEVICE_CREDENTIALS: &str = "device id or key is wrong";
const WRONG_CURRENT_PASSWORD: &str = "the current password is wrong";

/// A sign-in name: trimmed, lower case, 3–64 of `a-z 0-9 . _ -`.
pub fn username(field: &'static str, value: &str) -> Result<String, FieldError> {
    let name = value.trim().to_lowercase();
    if name.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if !(3..=64).contains(&name.chars().count()) {
        return Err(FieldError::new(field, "must have 3 to 64 characters"));
    }
    if !name.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"._-".contains(&byte))
    {
        return Err(FieldError::new(field, "may only contain letters a-z, digits, \".\", \"_\" and \"-\""));
    }
    Ok(name)
}

/// The role a wire role stands for.
pub fn role_of(role: StaffRole) -> Option<Role> {
    match role {
        StaffRole::Unspecified => None,
        StaffRole::DistrictAdmin => Some(Role::DistrictAdmin),
        StaffRole::Librarian => Some(Role::Librarian),
        StaffRole::Assistant => Some(Role::Assistant),
    }
}

/// The wire form of a role.
pub fn staff_role(role: Role) -> StaffRole {
    match role {
        Role::DistrictAdmin => StaffRole::DistrictAdmin,
        Role::Librarian => StaffRole::Librarian,
        Role::Assistant => StaffRole::Assistant,
    }
}

/// The schools of a staff account with `role`, checked: ids, no repeats,
/// at least one for librarians and assistants, none for district admins
/// (they work for every school).
pub fn school_ids(field: &'static str, role: Role, values: &[String]) -> Result<Vec<String>, FieldError> {
    const MAX_SCHOOLS: usize = 200;
    if values.len() > MAX_SCHOOLS {
        return Err(FieldError::new(field, format!("may name at most {MAX_SCHOOLS} schools")));
    }
    let mut ids = values
        .iter()
        .map(|value| lectern_core::ids::parse_id(field, value))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort();
    ids.dedup();
    match role {
        Role::DistrictAdmin if !ids.is_empty() => {
            Err(FieldError::new(field, "must be empty for a district admin, who works for every school"))
        }
        Role::Librarian | Role::Assistant if ids.is_empty() => {
            Err(FieldError::new(field, "needs at least one school for a librarian or assistant"))
        }
        _ => Ok(ids),
    }
}

/// Makes `school_ids` the schools of `staff_id`; every school must exist.
pub fn set_schools(
    connection: &mut DbConnection,
    staff_id: &str,
    school_ids: &[String],
) -> Result<(), Error> {
    for school_id in school_ids {
        if db::organisation::find_school(connection, school_id)?.is_none() {
            return Err(ReaderRefusal::SchoolNotFound(school_id.clone()).into());
        }
    }
    db::staff::replace_schools(connection, staff_id, school_ids)?;
    Ok(())
}

/// The role stored on an account.
pub fn stored_role(account: &StaffRow) -> Result<Role, Error> {
    Role::parse(&account.role).ok_or_else(|| {
        Error::Internal(format!("staff account {} has an unknown role {:?}", account.id, account.role))
    })
}

/// Who is signing in, with the fields checked.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A staff member: lower-case username and password.
    Staff { username: String, password: String },
    /// A Lectern service: its name and the district's service key.
    Service { service: String, key: String },
    /// A reader: library card barcode and PIN.
    Reader { card_barcode: String, pin: String },
    /// A kiosk or SIP2 machine: its id and key.
    Device { device_id: String, key: String },
}

impl Credentials {
    /// Reads and checks a `LoginRequest`.
    pub fn from_request(request: LoginRequest) -> Result<Self, FieldError> {
        match request.credentials {
            None => Err(FieldError::new("credentials", "is required: staff, reader, device or service")),
            Some(login_request::Credentials::Device(device)) => {
                let device_id = lectern_core::ids::parse_id("device.device_id", &device.device_id)?;
                if device.key.is_empty() {
                    return Err(FieldError::new("device.key", "is required"));
                }
                if device.key.chars().count() > passwords::MAX_CHARS {
                    return Err(FieldError::new(
                        "device.key",
                        format!("is longer than {} characters", passwords::MAX_CHARS),
                    ));
                }
                Ok(Self::Device { device_id, key: device.key })
            }
            Some(login_request::Credentials::Staff(staff)) => {
                let username = staff.username.trim().to_lowercase();
                if username.is_empty() {
                    return Err(FieldError::new("staff.username", "is required"));
                }
                if staff.password.is_empty() {
                    return Err(FieldError::new("staff.password", "is required"));
                }
                if staff.password.chars().count() > passwords::MAX_CHARS {
                    return Err(FieldError::new(
                        "staff.password",
                        format!("is longer than {} characters", passwords::MAX_CHARS),
                    ));
                }
                Ok(Self::Staff { username, password: staff.password })
            }
            Some(login_request::Credentials::Reader(reader)) => {
                let card_barcode =
                    lectern_core::validate::barcode("reader.card_barcode", &reader.card_barcode)?;
                // An empty PIN is for a card-only device; the sign-in
                // refuses it anywhere else, once it knows the device.
                if reader.pin.chars().count() > passwords::MAX_CHARS {
                    return Err(FieldError::new(
                        "reader.pin",
                        format!("is longer than {} characters", passwords::MAX_CHARS),
                    ));
                }
                Ok(Self::Reader { card_barcode, pin: reader.pin })
            }
            Some(login_request::Credentials::Service(service)) => {
                let name = service.service.trim().to_lowercase();
                if name.is_empty() {
                    return Err(FieldError::new("service.service", "is required"));
                }
                if !SERVICES.contains(&name.as_str()) {
                    return Err(FieldError::new(
                        "service.service",
                        format!("must be one of {}", SERVICES.join(", ")),
                    ));
                }
                if service.key.is_empty() {
                    return Err(FieldError::new("service.key", "is required"));
                }
                Ok(Self::Service { service: name, key: service.key })
            }
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Staff { .. } => formatter.write_str("Credentials::Staff"),
            Self::Service { service, .. } => write!(formatter, "Credentials::Service({service})"),
            Self::Reader { .. } => formatter.write_str("Credentials::Reader"),
            Self::Device { device_id, .. } => write!(formatter, "Credentials::Device({device_id})"),
        }
    }
}

/// After `attempts` wrong passwords in a row an account refuses sign-ins
/// for `period`, whichever channel the attempts came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// Wrong passwords in a row that lock the account.
    pub attempts: u32,
    /// How long it stays locked.
    pub period: chrono::Duration,
}

impl Lockout {
    /// Until when an account locked now stays locked.
    pub fn until(&self, now: NaiveDateTime) -> NaiveDateTime {
        now + self.period
    }

    /// The failed-attempt count that locks, as stored.
    pub fn threshold(&self) -> i32 {
        i32::try_from(self.attempts).unwrap_or(i32::MAX)
    }
}

/// A reader's PIN as the library sets it: 4 to 8 digits.
pub fn pin(field: &'static str, value: &str) -> Result<String, FieldError> {
    if !(4..=8).contains(&value.len()) || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(FieldError::new(field, "must be 4 to 8 digits"));
    }
    Ok(value.to_owned())
}

/// Checks a service's key against the district's (`expected`; `None`
/// refuses every service).
pub fn authenticate_service(expected: Option<&str>, service: &str, key: &str) -> Result<(), Error> {
    match expected {
        Some(expected) if passwords::same_secret(expected.as_bytes(), key.as_bytes()) => Ok(()),
        Some(_) => {
            tracing::warn!(service, "service sign-in refused: wrong key");
            Err(ReaderRefusal::CredentialsInvalid(WRONG_SERVICE_CREDENTIALS).into())
        }
        None => {
            tracing::warn!(service, "service sign-in refused: LECTERN_SERVICE_KEY is not set");
            Err(ReaderRefusal::CredentialsInvalid(WRONG_SERVICE_CREDENTIALS).into())
        }
    }
}

/// Checks the current password of the caller's account and hashes the
/// new one (blocking: hashes twice). `new` must already meet the rules.
pub fn check_password_change(
    account: Option<StaffRow>,
    current: &str,
    new: &str,
) -> Result<(StaffRow, String), Error> {
    let Some(account) = account else {
        return Err(ReaderRefusal::CredentialsInvalid(WRONG_CURRENT_PASSWORD).into());
    };
    if !passwords::verify(current, &account.password_hash) {
        tracing::info!(staff.id = %account.id, "password change refused: wrong current password");
        return Err(ReaderRefusal::CredentialsInvalid(WRONG_CURRENT_PASSWORD).into());
    }
    if account.disabled {
        return Err(ReaderRefusal::AccountLocked.into());
    }
    let new_hash = passwords::hash(new).map_err(Error::Internal)?;
    Ok((account, new_hash))
}

/// Stores a checked password change and lifts the change requirement.
pub fn apply_password_change(
    connection: &mut DbConnection,
    account: StaffRow,
    new_hash: String,
    now: NaiveDateTime,
) -> Result<StaffRow, Error> {
    // Conditional on the old hash: of two changes racing, one wins and the
    // other is told its current password is no longer right.
    if !db::staff::replace_password(connection, &account.id, &account.password_hash, &new_hash, now)? {
        return Err(ReaderRefusal::CredentialsInvalid(WRONG_CURRENT_PASSWORD).into());
    }
    tracing::info!(staff.id = %account.id, "password changed");
    Ok(StaffRow {
        password_hash: new_hash,
        password_change_required: false,
        password_changed_at: Some(now),
        ..account
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_core::refusal::Reason;
    use lectern_proto::reader::v1::{ServiceCredentials, StaffCredentials};

    #[test]
    fn usernames_are_lower_case_and_plain() {
        assert_eq!(username("username", "  Li.Na_2 ").as_deref(), Ok("li.na_2"));
        assert_eq!(
            username("username", "ab").unwrap_err().to_string(),
            "username: must have 3 to 64 characters"
        );
        assert!(username("username", &"a".repeat(65)).is_err());
        assert!(username("username", "li na").is_err());
        assert!(username("username", "王老师").is_err());
        assert_eq!(username("username", " ").unwrap_err().to_string(), "username: is required");
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::DistrictAdmin, Role::Librarian, Role::Assistant] {
            assert_eq!(role_of(staff_role(role)), Some(role));
        }
        assert_eq!(role_of(StaffRole::Unspecified), None);
    }

    fn staff(username: &str, password: &str) -> LoginRequest {
        LoginRequest {
            credentials: Some(login_request::Credentials::Staff(StaffCredentials {
                username: username.into(),
                password: password.into(),
            })),
        }
    }

    fn service(name: &str, key: &str) -> LoginRequest {
        LoginRequest {
            credentials: Some(login_request::Credentials::Service(ServiceCredentials {
                service: name.into(),
                key: key.into(),
            })),
        }
    }

    #[test]
    fn login_requests_name_the_missing_field() {
        let error = |request| Credentials::from_request(request).unwrap_err().to_string();
        assert_eq!(error(staff(" ", "pw")), "staff.username: is required");
        assert_eq!(error(staff("admin", "")), "staff.password: is required");
        assert_eq!(error(service("", "k")), "service.service: is required");
        assert_eq!(error(service("circulation", "")), "service.key: is required");
        assert!(error(service("printer", "k")).starts_with("service.service: must be one of"));
        assert!(error(LoginRequest { credentials: None }).starts_with("credentials: is required"));
        assert_eq!(
            Credentials::from_request(staff(" Admin ", "pw")).unwrap(),
            Credentials::Staff { username: "admin".into(), password: "pw".into() }
        );
    }

    #[test]
    fn service_keys_must_match_a_configured_key() {
        assert!(authenticate_service(Some("district-key-0001"), "circulation", "district-key-0001").is_ok());
        let refused =
            |expected, key| authenticate_service(expected, "circulation", key).unwrap_err().reason();
        assert_eq!(refused(Some("district-key-0001"), "district-key-0002"), Some(Reason::CredentialsInvalid));
        assert_eq!(refused(None, "anything"), Some(Reason::CredentialsInvalid));
    }
}

#[cfg(test)]
mod lockout_tests {
    use super::*;

    #[test]
    fn a_lock_ends_after_its_period_and_pins_are_digits() {
        let now = chrono::Utc::now().naive_utc();
        let policy = Lockout { attempts: 5, period: chrono::Duration::minutes(15) };
        assert_eq!(policy.until(now) - now, chrono::Duration::minutes(15));
        assert_eq!(policy.threshold(), 5);
        assert_eq!(pin("pin", "0427"), Ok("0427".to_owned()));
        assert!(pin("pin", "123").is_err());
        assert!(pin("pin", "123456789").is_err());
        assert!(pin("pin", "12a4").is_err());
    }
}
