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
pub use layer::{AuthLayer, AuthService, PublicMethods, bearer};
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
