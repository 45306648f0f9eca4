//! Who is at the counter, and at which school. Staff lend and take back at
//! a library desk of a school they work for; a reader lends and returns at
//! a self-service kiosk or SIP2 machine, for themselves, at the device's
//! school. A device nobody has signed in at takes books back (a return
//! box) and lends nothing; a reader's phone or portal session may do
//! neither.
//!
//! Where a check-out or check-in happens is the desk's school: a librarian
//! or assistant of one school and a device are at their own; staff covering
//! several schools and district admins name the school they stand in, or
//! work at the copy's own school when they do not.

use lectern_common::Error;
use lectern_core::access::Access;
use lectern_core::identity::{Principal, Role, SubjectKind};
use lectern_core::ids;
use lectern_core::refusal::{Reason, Refusal};
use lectern_core::validate::FieldError;

/// Who is at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// Staff at a desk, on their own token.
    Desk,
    /// A reader who signed in at a self-service device; they act only for
    /// themselves, at the device's school.
    SelfService,
    /// A self-service device with nobody signed in at it: a return box or
    /// a kiosk in return mode. It takes books back at its school and
    /// lends nothing.
    ReturnBox,
}

/// A counter and, when known, the school it stands in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desk {
    pub counter: Counter,
    /// The desk's school; `None`: a caller covering several schools who
    /// named none works at the copy's own school.
    pub school_id: Option<String>,
}

impl Desk {
    /// Where `caller` stands, with the school the request names (may be
    /// empty), or why they may not lend and return.
    pub fn of(caller: &Principal, requested: &str) -> Result<Self, Error> {
        let requested = ids::parse_optional_id("desk_school_id", requested)?;
        let counter = counter(caller)?;
        let own = match (counter, caller.schools.as_slice()) {
            // A device's token names its school; a staff member of one
            // school is at it.
            (Counter::SelfService | Counter::ReturnBox, [school]) => Some(school.clone()),
            (Counter::Desk, [school]) if caller.role != Some(Role::DistrictAdmin) => Some(school.clone()),
            _ => None,
        };
        let school_id = match (requested, own) {
            (Some(requested), Some(own)) if requested != own => {
                return Err(
                    FieldError::new("desk_school_id", "is not the school of this desk or device").into()
                );
            }
            (Some(requested), _) => {
                caller.require_school(&requested)?;
                Some(requested)
            }
            (None, own) => own,
        };
        Ok(Self { counter, school_id })
    }

    /// The school the counter stands in, for a copy of `copy_school_id`.
    pub fn school_for<'a>(&'a self, copy_school_id: &'a str) -> &'a str {
        self.school_id.as_deref().unwrap_or(copy_school_id)
    }
}

/// Where `caller` stands, or why they may not lend and return.
fn counter(caller: &Principal) -> Result<Counter, Refusal> {
    match caller.kind {
        SubjectKind::Staff => caller.require(Access::STAFF).map(|()| Counter::Desk),
        SubjectKind::Reader if caller.device_id.is_some() => Ok(Counter::SelfService),
        SubjectKind::Reader => Err(Refusal::new(
            Reason::RoleNotAllowed,
            "readers borrow and return at a self-service kiosk or the library desk",
        )),
        SubjectKind::Device => Ok(Counter::ReturnBox),
        SubjectKind::Service => Err(Refusal::new(Reason::RoleNotAllowed, "services do not lend")),
    }
}

/// A self-service device acting for someone other than the reader signed in at it.
pub fn not_for_this_reader(message: &str) -> Refusal {
    Refusal::new(Reason::DeviceNotAllowed, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(kind: SubjectKind, role: Option<Role>, schools: &[&str], device_id: Option<&str>) -> Principal {
        Principal {
            subject_id: "x".into(),
            kind,
            role,
            schools: schools.iter().map(|school| (*school).to_owned()).collect(),
            session_id: None,
            device_id: device_id.map(str::to_owned),
            family_account: None,
            password_change_required: false,
            expires_at: chrono::DateTime::UNIX_EPOCH,
            token: String::new(),
        }
    }

    const A: &str = "00000000-0000-7000-8000-00000000000a";
    const B: &str = "00000000-0000-7000-8000-00000000000b";

    #[test]
    fn staff_lend_at_the_desk_readers_at_a_device_and_devices_take_back() {
        let assistant = caller(SubjectKind::Staff, Some(Role::Assistant), &[A], None);
        assert_eq!(
            Desk::of(&assistant, "").unwrap(),
            Desk { counter: Counter::Desk, school_id: Some(A.into()) }
        );
        let kiosk_reader = caller(SubjectKind::Reader, None, &[A], Some("kiosk-1"));
        assert_eq!(Desk::of(&kiosk_reader, "").unwrap().counter, Counter::SelfService);
        let return_box = caller(SubjectKind::Device, None, &[A], None);
        assert_eq!(
            Desk::of(&return_box, "").unwrap(),
            Desk { counter: Counter::ReturnBox, school_id: Some(A.into()) }
        );
        for refused in
            [caller(SubjectKind::Reader, None, &[A], None), caller(SubjectKind::Service, None, &[], None)]
        {
            assert_eq!(Desk::of(&refused, "").unwrap_err().code(), tonic::Code::PermissionDenied);
        }
    }

    #[test]
    fn staff_of_several_schools_name_theirs_and_others_are_where_they_work() {
        let admin = caller(SubjectKind::Staff, Some(Role::DistrictAdmin), &[], None);
        assert_eq!(Desk::of(&admin, "").unwrap().school_id, None);
        assert_eq!(Desk::of(&admin, B).unwrap().school_id.as_deref(), Some(B));
        assert_eq!(Desk::of(&admin, "").unwrap().school_for(A), A);
        let covering = caller(SubjectKind::Staff, Some(Role::Librarian), &[A, B], None);
        assert_eq!(Desk::of(&covering, B).unwrap().school_id.as_deref(), Some(B));
        let librarian = caller(SubjectKind::Staff, Some(Role::Librarian), &[A], None);
        assert_eq!(Desk::of(&librarian, B).unwrap_err().code(), tonic::Code::InvalidArgument);
        let elsewhere = caller(SubjectKind::Staff, Some(Role::Librarian), &[A, B], None);
        let other = "00000000-0000-7000-8000-00000000000c";
        assert_eq!(Desk::of(&elsewhere, other).unwrap_err().reason(), Some(Reason::SchoolNotAllowed));
        assert_eq!(Desk::of(&admin, "not an id").unwrap_err().code(), tonic::Code::InvalidArgument);
    }
}
