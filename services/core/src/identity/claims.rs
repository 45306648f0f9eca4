//! What a Lectern token says about its bearer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The `iss` of every Lectern token.
pub const ISSUER: &str = "lectern";
/// The `aud` of every Lectern token.
pub const AUDIENCE: &str = "lectern";

/// What kind of subject a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A staff member (librarian, assistant, district admin).
    Staff,
    /// One of Lectern's own services doing background work.
    Service,
    /// A reader (student, teacher) signed in with card and PIN.
    Reader,
    /// A self-service kiosk or SIP2 machine, bound to one school.
    Device,
}

impl SubjectKind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Service => "service",
            Self::Reader => "reader",
            Self::Device => "device",
        }
    }
}

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the district.
    DistrictAdmin,
    /// Runs school libraries.
    Librarian,
    /// Helps at the desk.
    Assistant,
}

impl Role {
    /// The name used in tokens, the database and the permission matrix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DistrictAdmin => "district_admin",
            Self::Librarian => "librarian",
            Self::Assistant => "assistant",
        }
    }

    /// Reads a role name back.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "district_admin" => Some(Self::DistrictAdmin),
            "librarian" => Some(Self::Librarian),
            "assistant" => Some(Self::Assistant),
            _ => None,
        }
    }
}

/// The claims of a Lectern token (registered JWT claims plus Lectern's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer, always [`ISSUER`].
    pub iss: String,
    /// Audience, always [`AUDIENCE`].
    pub aud: String,
    /// Subject: a staff account id, or `service:<name>`.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
    /// What kind of subject this is.
    pub kind: SubjectKind,
    /// The staff role, for staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Set when the account must change its password before anything else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pwd_change: bool,
    /// The schools the bearer acts for: a librarian's or assistant's
    /// schools, a reader's school, a device's school. Empty for district
    /// admins (every school) and services.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schools: Vec<String>,
    /// The sign-in session the token belongs to; signing out ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// For a reader who signed in at a kiosk or SIP2 machine: that device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// For a reader signed in through a WeChat binding: the WeChat account
    /// (its Lectern id, never the openid). Such a token may switch to
    /// another reader bound to the same account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
}

/// What a token grants: who the bearer is, as what, for which schools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// A staff account id, reader id, device id or `service:<name>`.
    pub subject: String,
    /// What kind of subject this is.
    pub kind: SubjectKind,
    /// The staff role, for staff.
    pub role: Option<Role>,
    /// The schools the bearer acts for (see [`Claims::schools`]).
    pub schools: Vec<String>,
    /// The sign-in session, for tokens that can be signed out.
    pub session_id: Option<String>,
    /// The device a reader signed in at.
    pub device_id: Option<String>,
    /// The WeChat account a reader signed in through.
    pub family_account: Option<String>,
    /// Whether only a password change is allowed.
    pub password_change_required: bool,
}

impl Grant {
    /// A staff member with `role` working for `schools`.
    pub fn staff(account_id: &str, role: Role, schools: Vec<String>) -> Self {
        Self::new(account_id, SubjectKind::Staff, Some(role), schools)
    }

    /// A reader of `school_id`.
    pub fn reader(reader_id: &str, school_id: &str) -> Self {
        Self::new(reader_id, SubjectKind::Reader, None, vec![school_id.to_owned()])
    }

    /// A self-service device of `school_id`.
    pub fn device(device_id: &str, school_id: &str) -> Self {
        Self::new(device_id, SubjectKind::Device, None, vec![school_id.to_owned()])
    }

    /// One of Lectern's services (subject `service:<name>`).
    pub fn service(name: &str) -> Self {
        Self::new(&format!("service:{name}"), SubjectKind::Service, None, Vec::new())
    }

    fn new(subject: &str, kind: SubjectKind, role: Option<Role>, schools: Vec<String>) -> Self {
        Self {
            subject: subject.to_owned(),
            kind,
            role,
            schools,
            session_id: None,
            device_id: None,
            family_account: None,
            password_change_required: false,
        }
    }

    /// The same grant, within sign-in session `session_id`.
    pub fn in_session(mut self, session_id: &str) -> Self {
        self.session_id = Some(session_id.to_owned());
        self
    }

    /// The same grant, for a reader who signed in at `device_id`.
    pub fn at_device(mut self, device_id: &str) -> Self {
        self.device_id = Some(device_id.to_owned());
        self
    }

    /// The same grant, for a reader who signed in through the WeChat
    /// account `account_id` (a binding).
    pub fn in_family(mut self, account_id: &str) -> Self {
        self.family_account = Some(account_id.to_owned());
        self
    }

    /// The same grant, allowing only a password change.
    pub fn password_change_only(mut self, required: bool) -> Self {
        self.password_change_required = required;
        self
    }
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Staff account id, reader id, device id, or `service:<name>`.
    pub subject_id: String,
    /// Staff, reader, device or service.
    pub kind: SubjectKind,
    /// The staff role, for staff.
    pub role: Option<Role>,
    /// The schools the caller acts for (see [`Claims::schools`]).
    pub schools: Vec<String>,
    /// The sign-in session of the token, if it has one.
    pub session_id: Option<String>,
    /// For a reader signed in at a kiosk or SIP2 machine: that device.
    pub device_id: Option<String>,
    /// For a reader signed in through a WeChat binding: the WeChat account.
    pub family_account: Option<String>,
    /// Whether only a password change is allowed.
    pub password_change_required: bool,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
    /// The token itself, to forward on calls made on the caller's behalf.
    pub token: String,
}

impl Principal {
    /// Whether the caller may see and change records of `school_id`:
    /// district admins and Lectern's services everywhere, everyone else
    /// only at the schools in their token.
    pub fn covers_school(&self, school_id: &str) -> bool {
        match self.kind {
            SubjectKind::Service => true,
            SubjectKind::Staff if self.role == Some(Role::DistrictAdmin) => true,
            _ => self.schools.iter().any(|school| school == school_id),
        }
    }

    /// The schools a listing should be limited to: `None` for callers who
    /// see every school, else the caller's schools.
    pub fn school_filter(&self) -> Option<&[String]> {
        match self.kind {
            SubjectKind::Service => None,
            SubjectKind::Staff if self.role == Some(Role::DistrictAdmin) => None,
            _ => Some(&self.schools),
        }
    }

    /// The schools a listing of one reader's records (loans, holds, fees,
    /// notices) is limited to: a reader sees all of their own, wherever
    /// they were made; staff see those of their schools.
    pub fn schools_for_reader_records(&self) -> Option<Vec<String>> {
        match self.kind {
            SubjectKind::Reader => None,
            _ => self.school_filter().map(<[String]>::to_vec),
        }
    }

    /// A short, personal-data-free description for logs.
    pub fn log_label(&self) -> String {
        match self.role {
            Some(role) => format!("{}:{}", role.as_str(), self.subject_id),
            None => self.subject_id.clone(),
        }
    }
}
