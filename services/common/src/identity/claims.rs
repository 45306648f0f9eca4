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
}

impl SubjectKind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Service => "service",
            Self::Reader => "reader",
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
}

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Staff account id, or `service:<name>`.
    pub subject_id: String,
    /// Staff or service.
    pub kind: SubjectKind,
    /// The staff role, for staff.
    pub role: Option<Role>,
    /// Whether only a password change is allowed.
    pub password_change_required: bool,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
    /// The token itself, to forward on calls made on the caller's behalf.
    pub token: String,
}

impl Principal {
    /// A short, personal-data-free description for logs.
    pub fn log_label(&self) -> String {
        match self.role {
            Some(role) => format!("{}:{}", role.as_str(), self.subject_id),
            None => self.subject_id.clone(),
        }
    }
}
