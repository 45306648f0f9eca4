//! Who may lend and return: staff at a library desk (for the schools they
//! work for), or a reader at a self-service kiosk or SIP2 machine of their
//! school, for themselves. A reader's phone or portal session, and a device
//! nobody has signed in at, may not lend.

use lectern_core::identity::{Principal, SubjectKind, require_staff};
use lectern_core::refusal::{Reason, Refusal};
use tonic::Status;

/// Who is at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Staff at a desk, on their own token.
    Desk,
    /// A reader who signed in at a self-service device; they act only for
    /// themselves, at the device's school.
    SelfService,
}

/// Where `caller` stands, or why they may not lend and return.
pub fn counter(caller: &Principal) -> Result<Counter, Status> {
    match caller.kind {
        SubjectKind::Staff => require_staff(caller).map(|()| Counter::Desk),
        SubjectKind::Reader if caller.device_id.is_some() => Ok(Counter::SelfService),
        SubjectKind::Reader => Err(Refusal::new(
            Reason::RoleNotAllowed,
            "readers borrow and return at a self-service kiosk or the library desk",
        )
        .into()),
        SubjectKind::Device => Err(not_for_this_reader("sign the reader in at this device first").into()),
        SubjectKind::Service => Err(Refusal::new(Reason::RoleNotAllowed, "services do not lend").into()),
    }
}

/// A self-service device acting for someone other than the reader signed in at it.
pub fn not_for_this_reader(message: &str) -> Refusal {
    Refusal::new(Reason::DeviceNotAllowed, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_core::identity::Role;
    use tonic::Code;

    fn caller(kind: SubjectKind, role: Option<Role>, device_id: Option<&str>) -> Principal {
        Principal {
            subject_id: "x".into(),
            kind,
            role,
            schools: vec!["school-a".into()],
            session_id: None,
            device_id: device_id.map(str::to_owned),
            password_change_required: false,
            expires_at: chrono::Utc::now(),
            token: String::new(),
        }
    }

    #[test]
    fn staff_lend_at_the_desk_and_readers_only_at_a_device() {
        assert_eq!(counter(&caller(SubjectKind::Staff, Some(Role::Assistant), None)).unwrap(), Counter::Desk);
        assert_eq!(
            counter(&caller(SubjectKind::Reader, None, Some("kiosk-1"))).unwrap(),
            Counter::SelfService
        );
        assert_eq!(
            counter(&caller(SubjectKind::Reader, None, None)).unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            counter(&caller(SubjectKind::Device, None, None)).unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            counter(&caller(SubjectKind::Service, None, None)).unwrap_err().code(),
            Code::PermissionDenied
        );
    }
}
