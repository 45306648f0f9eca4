//! Token verification, with public keys from a [`KeySource`]: the reader
//! service reads its own; every other server asks the reader service
//! (`ListVerificationKeys`) and caches the answer. Tokens of a signed-out
//! session are refused with the help of a [`RevocationSource`] (see
//! `docs/decisions/0007-sessions-and-revocation.md`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{
    ListRevokedSessionsRequest, ListRevokedSessionsResponse, ListVerificationKeysRequest,
};
use tokio::sync::Mutex;
use tonic::transport::Channel;

use super::claims::{AUDIENCE, Claims, ISSUER, Principal};
use crate::clock::SharedClock;

/// A public key that verifies tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The key id.
    pub key_id: String,
    /// The raw Ed25519 public key.
    pub public_key: [u8; 32],
    /// When the key was made.
    pub created_at: DateTime<Utc>,
}

impl PublicKey {
    /// Reads a key published as base64url (JWK `x`).
    pub fn from_b64(key_id: &str, public_key: &str, created_at: DateTime<Utc>) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(public_key).ok()?;
        Some(Self { key_id: key_id.to_owned(), public_key: bytes.try_into().ok()?, created_at })
    }
}

/// Why a token was not accepted. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No `authorization: Bearer …` header.
    #[error("missing bearer token: sign in and send `authorization: Bearer <token>`")]
    Missing,
    /// Not a token we can read.
    #[error("malformed bearer token")]
    Malformed,
    /// Signed by a key Lectern does not know (or by someone else).
    #[error("bearer token is not signed by this Lectern district")]
    UnknownKey,
    /// The signature does not match.
    #[error("bearer token signature is invalid")]
    BadSignature,
    /// Past its expiry.
    #[error("bearer token has expired: sign in again")]
    Expired,
    /// Wrong issuer, audience or claims.
    #[error("bearer token is not a Lectern token")]
    WrongClaims,
    /// The keys could not be fetched.
    #[error("cannot verify tokens right now: {0}")]
    KeysUnavailable(String),
    /// The token's session was signed out (or its refresh token reused).
    #[error("this sign-in session has ended: sign in again")]
    SessionEnded,
}

/// Where verification keys come from.
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// The key with `key_id`, if it is trusted.
    fn key(&self, key_id: &str) -> BoxFuture<'_, Result<Option<PublicKey>, TokenError>>;
}

/// Where the ended sessions come from.
pub trait RevocationSource: Send + Sync + std::fmt::Debug {
    /// Whether session `session_id` has ended.
    fn is_revoked(&self, session_id: &str) -> BoxFuture<'_, Result<bool, TokenError>>;
}

/// Verifies Lectern tokens.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: Arc<dyn KeySource>,
    revocations: Option<Arc<dyn RevocationSource>>,
    clock: SharedClock,
}

impl TokenVerifier {
    /// A verifier trusting the keys of `keys`, without revocation checks.
    pub fn new(keys: Arc<dyn KeySource>, clock: SharedClock) -> Self {
        Self { keys, revocations: None, clock }
    }

    /// The same verifier, refusing tokens of the sessions `revocations` names.
    pub fn with_revocations(mut self, revocations: Arc<dyn RevocationSource>) -> Self {
        self.revocations = Some(revocations);
        self
    }

    /// Checks a token's signature, issuer, audience and expiry.
    pub async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::UnknownKey);
        }
        let key_id = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.key(&key_id).await?.ok_or(TokenError::UnknownKey)?;
        let decoding_key = DecodingKey::from_ed_der(&key.public_key);
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against Lectern's clock below, so tests can move time.
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, &decoding_key, &validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            match error.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidIssuer
                | ErrorKind::InvalidAudience
                | ErrorKind::MissingRequiredClaim(_) => TokenError::WrongClaims,
                ErrorKind::Json(_) | ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
                    TokenError::Malformed
                }
                _ => TokenError::BadSignature,
            }
        })?;
        let claims = data.claims;
        let now = self.clock.now().timestamp();
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        if let (Some(revocations), Some(session_id)) = (&self.revocations, &claims.sid)
            && revocations.is_revoked(session_id).await?
        {
            return Err(TokenError::SessionEnded);
        }
        Ok(Principal {
            subject_id: claims.sub,
            kind: claims.kind,
            role: claims.role,
            schools: claims.schools,
            session_id: claims.sid,
            device_id: claims.dev,
            family_account: claims.fam,
            password_change_required: claims.pwd_change,
            expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
            token: token.to_owned(),
        })
    }
}

/// The kind of subject a token *claims* to be, without checking anything.
/// Only for deciding how to treat a token sent where none is needed (a
/// phone's stale reader token on a sign-in, against a kiosk's device
/// token); everything the token grants still comes from [`TokenVerifier::verify`].
pub fn unverified_kind(token: &str) -> Option<super::claims::SubjectKind> {
    #[derive(serde::Deserialize)]
    struct KindOnly {
        kind: super::claims::SubjectKind,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<KindOnly>(&bytes).ok().map(|claims| claims.kind)
}

/// Keys fetched from the reader service and cached. An unknown key id
/// triggers a refetch (a key was rotated), at most once per `min_refresh`.
#[derive(Debug)]
pub struct RemoteKeys {
    client: IdentityServiceClient<Channel>,
    cache: Mutex<Cache>,
    min_refresh: Duration,
}

#[derive(Debug, Default)]
struct Cache {
    keys: HashMap<String, PublicKey>,
    fetched_at: Option<Instant>,
}

impl RemoteKeys {
    /// Keys from the reader service behind `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            client: IdentityServiceClient::new(channel),
            cache: Mutex::new(Cache::default()),
            min_refresh: Duration::from_secs(5),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, PublicKey>, TokenError> {
        let mut client = self.client.clone();
        let response = client
            .list_verification_keys(crate::client::with_deadline(
                ListVerificationKeysRequest {},
                Duration::from_secs(3),
            ))
            .await
            .map_err(|status| TokenError::KeysUnavailable(status.message().to_owned()))?;
        Ok(response
            .into_inner()
            .keys
            .into_iter()
            .filter_map(|key| {
                let created_at = key
                    .create_time
                    .and_then(|time| DateTime::from_timestamp(time.seconds, 0))
                    .unwrap_or_default();
                PublicKey::from_b64(&key.key_id, &key.public_key, created_at)
            })
            .map(|key| (key.key_id.clone(), key))
            .collect())
    }
}

impl KeySource for RemoteKeys {
    fn key(&self, key_id: &str) -> BoxFuture<'_, Result<Option<PublicKey>, TokenError>> {
        let key_id = key_id.to_owned();
        Box::pin(async move {
            let mut cache = self.cache.lock().await;
            if let Some(key) = cache.keys.get(&key_id) {
                return Ok(Some(key.clone()));
            }
            let recently = cache.fetched_at.is_some_and(|at| at.elapsed() < self.min_refresh);
            if recently {
                return Ok(None);
            }
            let keys = self.fetch().await?;
            cache.keys = keys;
            cache.fetched_at = Some(Instant::now());
            Ok(cache.keys.get(&key_id).cloned())
        })
    }
}

/// Ended sessions fetched from the reader service (`ListRevokedSessions`)
/// and refetched when the list is older than `refresh`
/// (`LECTERN_REVOCATION_REFRESH_MS`). Refetches ask only for sessions ended
/// since the previous answer (less [`FETCH_OVERLAP`], for sign-outs whose
/// transaction was still committing); once a minute the whole list is
/// fetched again, which also drops sessions whose tokens have all expired.
/// If the reader service cannot be reached the last list stays in use:
/// access tokens are short-lived, and refusing every call while the reader
/// service restarts would be worse.
#[derive(Debug)]
pub struct RemoteRevocations {
    client: IdentityServiceClient<Channel>,
    refresh: Duration,
    cache: std::sync::RwLock<RevokedCache>,
    /// Held by the one call that refetches; the others go on with the
    /// list they have instead of queueing behind the fetch.
    fetching: Mutex<()>,
}

/// How far back an incremental fetch reaches before the previous answer.
pub const FETCH_OVERLAP: Duration = Duration::from_secs(60);
/// How often the whole list is fetched.
const FULL_FETCH_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct RevokedCache {
    sessions: HashSet<String>,
    fetched_at: Option<Instant>,
    full_fetch_at: Option<Instant>,
    /// The reader service's time of its last answer.
    as_of: Option<prost_types::Timestamp>,
}

impl RevokedCache {
    /// What to ask for next: everything, or what ended since the last answer.
    fn next_request(&self) -> ListRevokedSessionsRequest {
        let full = self.full_fetch_at.is_none_or(|at| at.elapsed() >= FULL_FETCH_EVERY);
        let since = match (&self.as_of, full) {
            (Some(as_of), false) => Some(prost_types::Timestamp {
                seconds: as_of.seconds - i64::try_from(FETCH_OVERLAP.as_secs()).unwrap_or(60),
                nanos: 0,
            }),
            _ => None,
        };
        ListRevokedSessionsRequest { since }
    }

    /// Takes the answer to `asked`.
    fn take(&mut self, asked: &ListRevokedSessionsRequest, answer: ListRevokedSessionsResponse) {
        if asked.since.is_none() {
            self.sessions = answer.session_ids.into_iter().collect();
            self.full_fetch_at = Some(Instant::now());
        } else {
            self.sessions.extend(answer.session_ids);
        }
        self.as_of = answer.as_of;
    }
}

impl RemoteRevocations {
    /// Ended sessions from the reader service behind `channel`, at most
    /// `refresh` old.
    pub fn new(channel: Channel, refresh: Duration) -> Self {
        Self {
            client: IdentityServiceClient::new(channel),
            refresh,
            cache: std::sync::RwLock::new(RevokedCache::default()),
            fetching: Mutex::new(()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, RevokedCache> {
        self.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_stale(&self) -> bool {
        self.read().fetched_at.is_none_or(|at| at.elapsed() >= self.refresh)
    }

    /// Fetches what ended since the last answer (or everything).
    async fn refetch(&self) {
        let request = self.read().next_request();
        let mut client = self.client.clone();
        let answer =
            client.list_revoked_sessions(crate::client::with_deadline(request, Duration::from_secs(2))).await;
        let mut cache = self.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        match answer {
            Ok(answer) => cache.take(&request, answer.into_inner()),
            Err(status) => {
                tracing::warn!(code = ?status.code(), "cannot refresh ended sessions; using the last list");
            }
        }
        // A failed fetch waits for the next period too, so an unreachable
        // reader service is not asked on every call.
        cache.fetched_at = Some(Instant::now());
    }
}

impl RevocationSource for RemoteRevocations {
    fn is_revoked(&self, session_id: &str) -> BoxFuture<'_, Result<bool, TokenError>> {
        let session_id = session_id.to_owned();
        Box::pin(async move {
            if self.is_stale() {
                let never_fetched = self.read().fetched_at.is_none();
                // Until the first list has come every call waits for it;
                // after that one call refetches and the others use the
                // list they have.
                let guard = if never_fetched {
                    Some(self.fetching.lock().await)
                } else {
                    self.fetching.try_lock().ok()
                };
                if guard.is_some() && self.is_stale() {
                    self.refetch().await;
                }
            }
            Ok(self.read().sessions.contains(&session_id))
        })
    }
}

/// A fixed set of keys (the reader service's own, and tests).
#[derive(Debug, Default)]
pub struct StaticKeys {
    keys: std::sync::RwLock<HashMap<String, PublicKey>>,
}

impl StaticKeys {
    /// Trusts `keys`.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Self { keys: std::sync::RwLock::new(keys.into_iter().map(|key| (key.key_id.clone(), key)).collect()) }
    }

    /// Trusts one more key.
    pub fn insert(&self, key: PublicKey) {
        let mut keys = self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.insert(key.key_id.clone(), key);
    }
}

impl KeySource for StaticKeys {
    fn key(&self, key_id: &str) -> BoxFuture<'_, Result<Option<PublicKey>, TokenError>> {
        let keys = self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let found = keys.get(key_id).cloned();
        Box::pin(async move { Ok(found) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock, SharedClock};
    use crate::identity::{Grant, Role, SigningKey, SubjectKind, TokenSigner};

    fn setup() -> (ManualClock, TokenSigner, TokenVerifier) {
        let clock = ManualClock::starting_at(Utc::now());
        let shared: SharedClock = Arc::new(clock.clone());
        let key = SigningKey::generate(clock.now()).unwrap();
        let keys = Arc::new(StaticKeys::new([key.public()]));
        let signer = TokenSigner::new(key, shared.clone());
        (clock, signer, TokenVerifier::new(keys, shared))
    }

    #[tokio::test]
    async fn a_fresh_token_verifies_with_its_claims() {
        let (_clock, signer, verifier) = setup();
        let (token, _) = signer
            .sign(
                &Grant::staff("acc-1", Role::Librarian, vec!["school-a".into()]).in_session("s-1"),
                chrono::Duration::minutes(5),
            )
            .unwrap();
        let principal = verifier.verify(&token).await.unwrap();
        assert_eq!(principal.subject_id, "acc-1");
        assert_eq!(principal.role, Some(Role::Librarian));
        assert_eq!(principal.schools, vec!["school-a".to_owned()]);
        assert_eq!(principal.session_id.as_deref(), Some("s-1"));
        assert!(principal.covers_school("school-a"));
        assert!(!principal.covers_school("school-b"));
        assert!(!principal.password_change_required);
        assert_eq!(principal.family_account, None);
    }

    #[tokio::test]
    async fn a_family_sign_in_names_its_wechat_account() {
        let (_clock, signer, verifier) = setup();
        let grant = Grant::reader("r-1", "school-a").in_session("s-1").in_family("wx-1");
        let (token, _) = signer.sign(&grant, chrono::Duration::minutes(5)).unwrap();
        let principal = verifier.verify(&token).await.unwrap();
        assert_eq!(principal.kind, SubjectKind::Reader);
        assert_eq!(principal.subject_id, "r-1");
        assert_eq!(principal.family_account.as_deref(), Some("wx-1"));
        assert_eq!(principal.device_id, None);
    }

    #[derive(Debug)]
    struct Ended(&'static str);

    impl RevocationSource for Ended {
        fn is_revoked(&self, session_id: &str) -> BoxFuture<'_, Result<bool, TokenError>> {
            let ended = session_id == self.0;
            Box::pin(async move { Ok(ended) })
        }
    }

    #[tokio::test]
    async fn a_token_of_an_ended_session_is_refused() {
        let (_clock, signer, verifier) = setup();
        let verifier = verifier.with_revocations(Arc::new(Ended("s-ended")));
        let grant = Grant::reader("reader-1", "school-a");
        let ttl = chrono::Duration::minutes(5);
        let (ended, _) = signer.sign(&grant.clone().in_session("s-ended"), ttl).unwrap();
        let (open, _) = signer.sign(&grant.clone().in_session("s-open"), ttl).unwrap();
        let (service, _) = signer.sign(&Grant::service("circulation"), ttl).unwrap();
        assert_eq!(verifier.verify(&ended).await, Err(TokenError::SessionEnded));
        assert_eq!(verifier.verify(&open).await.unwrap().session_id.as_deref(), Some("s-open"));
        assert!(verifier.verify(&service).await.is_ok(), "tokens without a session are not looked up");
        assert_eq!(unverified_kind(&ended), Some(SubjectKind::Reader));
        assert_eq!(unverified_kind("not-a-token"), None);
    }

    #[test]
    fn revocations_are_fetched_whole_then_by_increments() {
        let mut cache = RevokedCache::default();
        let first = cache.next_request();
        assert_eq!(first.since, None);
        let as_of = prost_types::Timestamp { seconds: 1_800_000_000, nanos: 0 };
        let answer = |ids: &[&str], as_of| ListRevokedSessionsResponse {
            session_ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            as_of,
        };
        cache.take(&first, answer(&["a", "b"], Some(as_of)));
        let next = cache.next_request();
        assert_eq!(next.since.map(|since| since.seconds), Some(1_800_000_000 - 60));
        cache.take(&next, answer(&["c"], None));
        assert_eq!(cache.sessions.len(), 3, "increments add to the list");
        cache.full_fetch_at = Instant::now().checked_sub(FULL_FETCH_EVERY);
        let full = cache.next_request();
        assert_eq!(full.since, None);
        cache.take(&full, answer(&["c"], None));
        assert_eq!(cache.sessions.len(), 1, "a whole list replaces the old one");
    }

    #[tokio::test]
    async fn an_expired_token_is_refused() {
        let (clock, signer, verifier) = setup();
        let (token, _) = signer
            .sign(&Grant::staff("acc-1", Role::Assistant, Vec::new()), chrono::Duration::minutes(5))
            .unwrap();
        clock.advance(chrono::Duration::minutes(6));
        assert_eq!(verifier.verify(&token).await, Err(TokenError::Expired));
    }

    #[tokio::test]
    async fn a_token_signed_by_someone_else_is_refused() {
        let (clock, _signer, verifier) = setup();
        // Another district's key that happens to reuse our key id.
        let (_, ours, _) = setup();
        let mut stranger = SigningKey::generate(clock.now()).unwrap();
        stranger.key_id = ours.key().key_id.clone();
        let stranger = TokenSigner::new(stranger, Arc::new(clock.clone()));
        let (token, _) = stranger
            .sign(&Grant::staff("evil", Role::DistrictAdmin, Vec::new()), chrono::Duration::minutes(5))
            .unwrap();
        assert!(matches!(
            verifier.verify(&token).await,
            Err(TokenError::UnknownKey | TokenError::BadSignature)
        ));
    }

    #[tokio::test]
    async fn a_tampered_token_is_refused() {
        let (_clock, signer, verifier) = setup();
        let (token, _) = signer
            .sign(&Grant::staff("acc-1", Role::Assistant, Vec::new()), chrono::Duration::minutes(5))
            .unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "acc-1".into(),
            iat: 0,
            exp: i64::MAX / 2,
            jti: "x".into(),
            kind: SubjectKind::Staff,
            role: Some(Role::DistrictAdmin),
            pwd_change: false,
            schools: Vec::new(),
            sid: None,
            dev: None,
            fam: None,
        };
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(verifier.verify(&parts.join(".")).await, Err(TokenError::BadSignature));
        assert_eq!(verifier.verify("not-a-token").await, Err(TokenError::Malformed));
    }
}
