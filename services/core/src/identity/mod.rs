//! Identity: who is calling. The reader service signs short-lived tokens
//! (JWT, EdDSA/Ed25519, with a key id); every server verifies them in
//! [`AuthLayer`] and hands the [`Principal`] to its handlers; calls made on
//! a caller's behalf carry the caller's token on to the next service.
//! Background work uses a service token from [`ServiceTokens`].

mod claims;
mod keys;
mod layer;
mod service_tokens;
mod verifier;

pub use claims::{AUDIENCE, Claims, Grant, ISSUER, Principal, Role, SubjectKind};
pub use keys::{SigningKey, TokenSigner};
pub use layer::{AuthLayer, AuthService, PublicMethods};
pub use service_tokens::{ServiceTokens, TokenSource};
pub use verifier::{
    KeySource, PublicKey, RemoteKeys, RemoteRevocations, RevocationSource, StaticKeys, TokenError,
    TokenVerifier, unverified_kind,
};

use tonic::Status;

use crate::refusal::{Reason, Refusal};

/// A verifier for every server but the reader service: keys and signed-out
/// sessions from the reader service behind `reader`, the sessions list
/// refetched when older than `revocation_refresh`.
pub fn remote_verifier(
    reader: tonic::transport::Channel,
    revocation_refresh: std::time::Duration,
    clock: crate::clock::SharedClock,
) -> TokenVerifier {
    let keys = std::sync::Arc::new(RemoteKeys::new(reader.clone()));
    let revocations = std::sync::Arc::new(RemoteRevocations::new(reader, revocation_refresh));
    TokenVerifier::new(keys, clock).with_revocations(revocations)
}

/// The caller of a request, as put there by [`AuthLayer`].
pub fn principal<T>(request: &tonic::Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Refusal::new(Reason::TokenInvalid, "sign in first").into())
}

/// Refuses unless the caller is a staff member with one of `roles`.
pub fn require_role(principal: &Principal, roles: &[Role]) -> Result<(), Status> {
    match principal.role {
        Some(role) if principal.kind == SubjectKind::Staff && roles.contains(&role) => Ok(()),
        _ => Err(Refusal::new(Reason::RoleNotAllowed, "your role may not do this").into()),
    }
}

/// Refuses unless the caller is a staff member (any role).
pub fn require_staff(principal: &Principal) -> Result<(), Status> {
    require_role(principal, &[Role::DistrictAdmin, Role::Librarian, Role::Assistant])
}

/// Refuses unless the caller is staff, or the reader `reader_id` acting on
/// their own record.
pub fn require_staff_or_self(principal: &Principal, reader_id: &str) -> Result<(), Status> {
    if principal.kind == SubjectKind::Reader {
        if principal.subject_id == reader_id {
            return Ok(());
        }
        return Err(Refusal::new(Reason::RoleNotAllowed, "readers may only see their own records").into());
    }
    require_staff(principal)
}

/// Refuses unless the caller may act on records of `school_id` (see
/// [`Principal::covers_school`]).
pub fn require_school(principal: &Principal, school_id: &str) -> Result<(), Status> {
    if principal.covers_school(school_id) {
        return Ok(());
    }
    Err(school_not_allowed().into())
}

/// The refusal of a record of a school the caller does not work for.
pub fn school_not_allowed() -> Refusal {
    Refusal::new(Reason::SchoolNotAllowed, "this record belongs to a school you do not work for")
}

/// Refuses unless the caller is one of Lectern's services.
pub fn require_service(principal: &Principal) -> Result<(), Status> {
    if principal.kind == SubjectKind::Service {
        Ok(())
    } else {
        Err(Refusal::new(Reason::RoleNotAllowed, "only Lectern services may call this").into())
    }
}
