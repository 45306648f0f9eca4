//! Who may call what: the one vocabulary of the gateway's method table
//! (`gateway/src/authz.rs`) and the services' own checks. An [`Access`]
//! names the kinds of caller an operation admits (staff from a least
//! role up, readers, self-service devices, Lectern's services); a service
//! then checks, on its own data, the caller's school
//! ([`Principal::require_school`]) and a reader's own record
//! ([`Principal::require_self_or_staff`]).
//!
//! Roles are ordered: a district admin may do what a librarian may, and a
//! librarian what an assistant may.

use crate::identity::{Principal, Role, SubjectKind};
use crate::refusal::{Reason, Refusal};

/// The kinds of caller an operation admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// Anyone, signed in or not (sign-in itself, verification keys).
    anyone: bool,
    /// Staff of this role or a higher one; `None`: no staff.
    staff_from: Option<Role>,
    /// Readers signed in with card and PIN (the service then shows them
    /// only their own records).
    readers: bool,
    /// Self-service kiosks and SIP2 machines by themselves, before a
    /// reader signs in at them.
    devices: bool,
    /// Lectern's own services, for calls they make to each other.
    services: bool,
}

impl Access {
    /// Anyone, without a token.
    pub const PUBLIC: Self = Self::nobody().with_anyone();
    /// Any staff member: assistants, librarians, district admins.
    pub const STAFF: Self = Self::staff_from(Role::Assistant);
    /// Librarians and district admins, not assistants.
    pub const LIBRARIAN: Self = Self::staff_from(Role::Librarian);
    /// District admins only.
    pub const DISTRICT_ADMIN: Self = Self::staff_from(Role::DistrictAdmin);
    /// Readers only (a family's own calls: switching between children).
    pub const READERS: Self = Self::nobody().or_readers();
    /// Lectern's services only: internal calls, never through the gateway.
    pub const SERVICE: Self = Self::nobody().or_services();
    /// Every person or device signed in at the edge: staff, readers and
    /// self-service devices (the district's catalog, signing out).
    pub const SIGNED_IN: Self = Self::STAFF.or_readers().or_devices();

    const fn nobody() -> Self {
        Self { anyone: false, staff_from: None, readers: false, devices: false, services: false }
    }

    const fn with_anyone(mut self) -> Self {
        self.anyone = true;
        self
    }

    const fn staff_from(role: Role) -> Self {
        let mut access = Self::nobody();
        access.staff_from = Some(role);
        access
    }

    /// The same, and readers too.
    pub const fn or_readers(mut self) -> Self {
        self.readers = true;
        self
    }

    /// The same, and self-service devices by themselves too.
    pub const fn or_devices(mut self) -> Self {
        self.devices = true;
        self
    }

    /// The same, and Lectern's services too.
    pub const fn or_services(mut self) -> Self {
        self.services = true;
        self
    }

    /// Who is admitted, in words for API documentation: "anyone", or
    /// e.g. "librarians and district admins, readers".
    pub fn describe(self) -> String {
        if self.anyone {
            return "anyone, without signing in".to_owned();
        }
        let mut who = Vec::new();
        match self.staff_from {
            Some(Role::Assistant) => who.push("staff"),
            Some(Role::Librarian) => who.push("librarians and district admins"),
            Some(Role::DistrictAdmin) => who.push("district admins"),
            None => {}
        }
        if self.readers {
            who.push("readers");
        }
        if self.devices {
            who.push("self-service devices");
        }
        if self.services {
            who.push("Lectern's services");
        }
        who.join(", ")
    }

    /// Whether anyone may call without a token.
    pub fn is_public(self) -> bool {
        self.anyone
    }

    /// Whether `caller` (none: no token) is admitted.
    pub fn admits(self, caller: Option<&Principal>) -> bool {
        if self.anyone {
            return true;
        }
        let Some(caller) = caller else {
            return false;
        };
        match caller.kind {
            SubjectKind::Staff => match (self.staff_from, caller.role) {
                (Some(least), Some(role)) => rank(role) >= rank(least),
                _ => false,
            },
            SubjectKind::Reader => self.readers,
            SubjectKind::Device => self.devices,
            SubjectKind::Service => self.services,
        }
    }
}

/// Assistants rank lowest, district admins highest.
fn rank(role: Role) -> u8 {
    match role {
        Role::Assistant => 0,
        Role::Librarian => 1,
        Role::DistrictAdmin => 2,
    }
}

/// The refusal of a caller whose kind or role an operation does not admit.
pub fn role_not_allowed() -> Refusal {
    Refusal::new(Reason::RoleNotAllowed, "your role may not do this")
}

/// The refusal of a record of a school the caller does not work for.
pub fn school_not_allowed() -> Refusal {
    Refusal::new(Reason::SchoolNotAllowed, "this record belongs to a school you do not work for")
}

impl Principal {
    /// Refuses unless `access` admits the caller.
    pub fn require(&self, access: Access) -> Result<(), Refusal> {
        if access.admits(Some(self)) { Ok(()) } else { Err(role_not_allowed()) }
    }

    /// Whether the caller is staff with `role` or a higher one.
    pub fn is_staff_from(&self, role: Role) -> bool {
        Access::staff_from(role).admits(Some(self))
    }

    /// Refuses unless the caller may act on records of `school_id` (see
    /// [`Principal::covers_school`]).
    pub fn require_school(&self, school_id: &str) -> Result<(), Refusal> {
        if self.covers_school(school_id) { Ok(()) } else { Err(school_not_allowed()) }
    }

    /// Refuses unless the caller is staff, or the reader `reader_id`
    /// acting on their own record.
    pub fn require_self_or_staff(&self, reader_id: &str) -> Result<(), Refusal> {
        match self.kind {
            SubjectKind::Reader if self.subject_id == reader_id => Ok(()),
            SubjectKind::Reader => {
                Err(Refusal::new(Reason::RoleNotAllowed, "readers may only see their own records"))
            }
            _ => self.require(Access::STAFF),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(kind: SubjectKind, role: Option<Role>) -> Principal {
        Principal {
            subject_id: "s".into(),
            kind,
            role,
            schools: vec!["school-a".into()],
            session_id: None,
            device_id: None,
            family_account: None,
            password_change_required: false,
            expires_at: chrono::DateTime::UNIX_EPOCH,
            token: String::new(),
        }
    }

    #[test]
    fn roles_are_ordered() {
        let admin = caller(SubjectKind::Staff, Some(Role::DistrictAdmin));
        let librarian = caller(SubjectKind::Staff, Some(Role::Librarian));
        let assistant = caller(SubjectKind::Staff, Some(Role::Assistant));
        for staff in [&admin, &librarian, &assistant] {
            assert!(Access::STAFF.admits(Some(staff)));
        }
        assert!(Access::LIBRARIAN.admits(Some(&admin)));
        assert!(Access::LIBRARIAN.admits(Some(&librarian)));
        assert!(!Access::LIBRARIAN.admits(Some(&assistant)));
        assert!(Access::DISTRICT_ADMIN.admits(Some(&admin)));
        assert!(!Access::DISTRICT_ADMIN.admits(Some(&librarian)));
        assert!(librarian.is_staff_from(Role::Librarian) && !assistant.is_staff_from(Role::Librarian));
    }

    #[test]
    fn readers_devices_and_services_are_admitted_only_when_named() {
        let reader = caller(SubjectKind::Reader, None);
        let device = caller(SubjectKind::Device, None);
        let service = caller(SubjectKind::Service, None);
        assert!(!Access::STAFF.admits(Some(&reader)));
        assert!(Access::STAFF.or_readers().admits(Some(&reader)));
        assert!(!Access::STAFF.or_readers().admits(Some(&device)));
        assert!(Access::STAFF.or_devices().admits(Some(&device)));
        assert!(Access::SIGNED_IN.admits(Some(&reader)) && Access::SIGNED_IN.admits(Some(&device)));
        assert!(!Access::SIGNED_IN.admits(Some(&service)));
        assert!(Access::SERVICE.admits(Some(&service)) && !Access::SERVICE.admits(Some(&reader)));
        assert!(Access::STAFF.or_services().admits(Some(&service)));
        // A staff token without a role (a broken token) is admitted nowhere.
        assert!(!Access::STAFF.admits(Some(&caller(SubjectKind::Staff, None))));
    }

    #[test]
    fn public_admits_no_token_and_nothing_else_does() {
        assert!(Access::PUBLIC.admits(None) && Access::PUBLIC.is_public());
        assert!(!Access::SIGNED_IN.admits(None) && !Access::SIGNED_IN.is_public());
    }

    #[test]
    fn readers_see_only_their_own_records_and_staff_only_their_schools() {
        let reader = caller(SubjectKind::Reader, None);
        assert!(reader.require_self_or_staff("s").is_ok());
        assert_eq!(reader.require_self_or_staff("other").unwrap_err().reason, Reason::RoleNotAllowed);
        let librarian = caller(SubjectKind::Staff, Some(Role::Librarian));
        assert!(librarian.require_self_or_staff("anyone").is_ok());
        assert!(librarian.require_school("school-a").is_ok());
        assert_eq!(librarian.require_school("school-b").unwrap_err().reason, Reason::SchoolNotAllowed);
        let admin = caller(SubjectKind::Staff, Some(Role::DistrictAdmin));
        assert!(admin.require_school("school-b").is_ok());
    }
}
