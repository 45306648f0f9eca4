//! Tokens: the signing key (the newest key not retired, or one made at the
//! first start and stored), key rotation and retirement, the verification
//! keys read back from the database for this server's own authentication
//! and for `ListVerificationKeys`, this server's own check for ended
//! sessions, and the tokens issued to staff, readers, devices and services.
//!
//! Keys live in the database rather than a file so that every replica of
//! the service signs with keys every other replica trusts.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use futures::future::BoxFuture;
use lectern_common::db::{Db, DbConnection, DbError};
use lectern_core::clock::SharedClock;
use lectern_core::identity::{
    Grant, KeySource, PublicKey, RevocationSource, SigningKey, TokenError, TokenSigner,
};
use lectern_proto::reader::v1::LoginResponse;
use tokio::sync::Mutex;

use crate::accounts;
use crate::db::{self, SessionRow, SigningKeyRow, StaffRow};
use crate::error::Error;
use lectern_core::time::timestamp;

/// The key to sign with: the newest one not retired, or a new one. Keys
/// whose tokens have all expired are retired on the way.
pub async fn signing_key(
    db: &Db,
    clock: &SharedClock,
    access_ttl: chrono::Duration,
) -> Result<SigningKey, Error> {
    let now = clock.now();
    let row = db
        .write(move |connection| -> Result<SigningKeyRow, Error> {
            retire_superseded(connection, now.naive_utc(), access_ttl)?;
            if let Some(current) = current_key(connection, now.naive_utc())? {
                return Ok(current);
            }
            store_new_key(connection, now, access_ttl)
        })
        .await?;
    signing_key_of(row)
}

/// The public half of a stored key (`None` if it is damaged).
pub fn public_key(row: &SigningKeyRow) -> Option<PublicKey> {
    Some(PublicKey {
        key_id: row.key_id.clone(),
        public_key: row.public_key.as_slice().try_into().ok()?,
        created_at: row.created_at.and_utc(),
    })
}

/// Verification keys read from the service's own database. The keys are
/// cached; an unknown key id reloads them (another replica may have made
/// a key) at most once a second, and the cache is reloaded after a minute
/// so a retired key stops verifying.
#[derive(Debug)]
pub struct DbKeys {
    db: Db,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    keys: HashMap<String, PublicKey>,
    loaded_at: Option<Instant>,
}

const MIN_RELOAD: Duration = Duration::from_secs(1);
const MAX_AGE: Duration = Duration::from_secs(60);

impl DbKeys {
    /// Keys from `db`, loaded on first use.
    pub fn new(db: Db) -> Self {
        Self { db, cache: Mutex::new(Cache::default()) }
    }

    /// Trusts a key this replica has just started signing with, without
    /// waiting for the next reload.
    pub async fn trust(&self, key: PublicKey) {
        self.cache.lock().await.keys.insert(key.key_id.clone(), key);
    }
}

impl KeySource for DbKeys {
    fn key(&self, key_id: &str) -> BoxFuture<'_, Result<Option<PublicKey>, TokenError>> {
        let key_id = key_id.to_owned();
        Box::pin(async move {
            let mut cache = self.cache.lock().await;
            let age = cache.loaded_at.map(|at| at.elapsed());
            let cached = cache.keys.get(&key_id).cloned();
            match (age, &cached) {
                (Some(age), Some(_)) if age < MAX_AGE => return Ok(cached),
                (Some(age), None) if age < MIN_RELOAD => return Ok(None),
                _ => {}
            }
            let rows = self
                .db
                .run(|connection| -> Result<_, DbError> { Ok(db::signing_keys::active_keys(connection)?) })
                .await;
            match rows {
                Ok(rows) => {
                    cache.keys =
                        rows.iter().filter_map(public_key).map(|key| (key.key_id.clone(), key)).collect();
                    cache.loaded_at = Some(Instant::now());
                    Ok(cache.keys.get(&key_id).cloned())
                }
                // A key we already trusted stays trusted while the
                // database is briefly away.
                Err(error) if cached.is_some() => {
                    tracing::warn!(%error, "cannot reload verification keys; using cached ones");
                    Ok(cached)
                }
                Err(error) => Err(TokenError::KeysUnavailable(error.to_string())),
            }
        })
    }
}

/// The reader service's own revocation check: asks its database whether
/// the session has ended, on every call, so a sign-out here takes effect
/// at once (one primary-key read per authenticated call).
#[derive(Debug)]
pub struct DbRevocations {
    db: Db,
}

impl DbRevocations {
    /// Sessions from `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl RevocationSource for DbRevocations {
    fn is_revoked(&self, session_id: &str) -> BoxFuture<'_, Result<bool, TokenError>> {
        let session_id = session_id.to_owned();
        Box::pin(async move {
            self.db
                .run(move |connection| -> Result<_, DbError> {
                    Ok(db::sessions::is_revoked(connection, &session_id)?)
                })
                .await
                .map_err(|error| TokenError::KeysUnavailable(error.to_string()))
        })
    }
}

/// How long a new key is published before it signs: longer than the 5 s a
/// verifier waits between fetches of the keys, so no verifier meets a token
/// of a key it has not been able to fetch yet.
pub const PUBLISH_DELAY: chrono::Duration = chrono::Duration::seconds(10);

/// The key to sign with at `now`: the newest key published at least
/// [`PUBLISH_DELAY`] ago, or, if none is (a fresh district), the oldest
/// active key. `keys` come newest first.
pub fn choose_signing_key(keys: Vec<SigningKeyRow>, now: NaiveDateTime) -> Option<SigningKeyRow> {
    let ready = keys.iter().position(|key| key.created_at + PUBLISH_DELAY <= now);
    match ready {
        Some(index) => keys.into_iter().nth(index),
        None => keys.into_iter().last(),
    }
}

/// The stored key to sign with at `now` (see [`choose_signing_key`]).
pub fn current_key(
    connection: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<Option<SigningKeyRow>, Error> {
    Ok(choose_signing_key(db::signing_keys::active_keys(connection)?, now))
}

/// How long after a newer key appeared an older key still verifies: the
/// access-token lifetime plus a minute for clocks and calls in flight.
pub fn retirement_delay(access_ttl: chrono::Duration) -> chrono::Duration {
    access_ttl + chrono::Duration::minutes(1)
}

/// Retires every key whose tokens have all expired: a key stops being used
/// for signing when a newer key is stored, so once the newer key is older
/// than [`retirement_delay`], nothing the older key signed is still valid.
/// Call inside a write transaction.
pub fn retire_superseded(
    connection: &mut DbConnection,
    now: NaiveDateTime,
    access_ttl: chrono::Duration,
) -> Result<usize, Error> {
    let keys = db::signing_keys::active_keys(connection)?;
    let mut retired = 0;
    for pair in keys.windows(2) {
        let (newer, older) = (&pair[0], &pair[1]);
        // The older key signed until the newer one was published.
        if newer.created_at + PUBLISH_DELAY + retirement_delay(access_ttl) <= now {
            db::signing_keys::retire(connection, &older.key_id, now)?;
            tracing::info!(key.id = %older.key_id, "token signing key retired");
            retired += 1;
        }
    }
    Ok(retired)
}

/// Stores a new signing key (every replica signs with it once it has been
/// published for [`PUBLISH_DELAY`]) and retires keys whose tokens have all
/// expired. Call inside a write transaction.
pub fn store_new_key(
    connection: &mut DbConnection,
    now: DateTime<Utc>,
    access_ttl: chrono::Duration,
) -> Result<SigningKeyRow, Error> {
    let key = SigningKey::generate(now).map_err(Error::Internal)?;
    let row = SigningKeyRow {
        key_id: key.key_id.clone(),
        private_key: key.private_pkcs8.clone(),
        public_key: key.public_key.to_vec(),
        created_at: now.naive_utc(),
        retired_at: None,
    };
    db::signing_keys::insert_key(connection, &row)?;
    tracing::info!(key.id = %row.key_id, "token signing key created");
    retire_superseded(connection, now.naive_utc(), access_ttl)?;
    Ok(row)
}

fn signing_key_of(row: SigningKeyRow) -> Result<SigningKey, Error> {
    let public_key = row
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| Error::Internal(format!("signing key {} has no 32-byte public key", row.key_id)))?;
    Ok(SigningKey {
        key_id: row.key_id,
        private_pkcs8: row.private_key,
        public_key,
        created_at: row.created_at.and_utc(),
    })
}

/// Issues tokens, with the current key. Every replica of the reader service
/// reads the current key from the database when it signs (see
/// [`current_key`] and [`Issuer::adopt`]), so a key rotated on one replica
/// is used by all.
#[derive(Debug, Clone)]
pub struct Issuer {
    signer: Arc<RwLock<TokenSigner>>,
    /// This server's own verification keys, told about each key it adopts.
    keys: Arc<DbKeys>,
    clock: SharedClock,
    ttl: chrono::Duration,
}

impl Issuer {
    /// Signs with `key`; tokens live for `ttl`; `keys` are the server's
    /// own verification keys.
    pub fn new(key: SigningKey, keys: Arc<DbKeys>, clock: SharedClock, ttl: chrono::Duration) -> Self {
        let signer = TokenSigner::new(key, clock.clone());
        Self { signer: Arc::new(RwLock::new(signer)), keys, clock, ttl }
    }

    /// How long access tokens live.
    pub fn ttl(&self) -> chrono::Duration {
        self.ttl
    }

    /// The id of the key tokens are signed with.
    pub fn key_id(&self) -> String {
        self.signer.read().unwrap_or_else(|poisoned| poisoned.into_inner()).key().key_id.clone()
    }

    /// Signs from now on with `newest` (the current stored key), if it is
    /// not the key in use already.
    pub async fn adopt(&self, newest: Option<SigningKeyRow>) -> Result<(), Error> {
        let Some(newest) = newest else {
            return Ok(());
        };
        if newest.key_id == self.key_id() {
            return Ok(());
        }
        let key = signing_key_of(newest)?;
        tracing::info!(key.id = %key.key_id, "signing tokens with a newer key");
        self.keys.trust(key.public()).await;
        let mut signer = self.signer.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        *signer = TokenSigner::new(key, self.clock.clone());
        Ok(())
    }

    /// A token for a Lectern service (subject `service:<name>`, no role,
    /// no session).
    pub fn service(&self, service: &str) -> Result<LoginResponse, Error> {
        let grant = Grant::service(service);
        let (token, expires_at) = self.sign(&grant)?;
        Ok(LoginResponse {
            access_token: token,
            expire_time: Some(timestamp(expires_at.naive_utc())),
            subject_id: grant.subject,
            ..LoginResponse::default()
        })
    }

    /// A token for `grant` within `session`, with the session's refresh
    /// token; `role` is the wire role of staff (0 for others).
    pub fn in_session(
        &self,
        grant: &Grant,
        role: i32,
        session: &SessionRow,
        refresh_token: String,
    ) -> Result<LoginResponse, Error> {
        let (token, expires_at) = self.sign(grant)?;
        Ok(LoginResponse {
            access_token: token,
            expire_time: Some(timestamp(expires_at.naive_utc())),
            password_change_required: grant.password_change_required,
            subject_id: grant.subject.clone(),
            role,
            refresh_token,
            refresh_expire_time: Some(timestamp(session.expires_at)),
            session_id: session.id.clone(),
            school_ids: grant.schools.clone(),
            device_id: grant.device_id.clone().unwrap_or_default(),
        })
    }

    fn sign(&self, grant: &Grant) -> Result<(String, DateTime<Utc>), Error> {
        let signer = self.signer.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        signer.sign(grant, self.ttl).map_err(Error::Internal)
    }
}

/// The grant of a staff account acting for `schools`.
pub fn staff_grant(account: &StaffRow, schools: Vec<String>) -> Result<(Grant, i32), Error> {
    let role = accounts::stored_role(account)?;
    let grant =
        Grant::staff(&account.id, role, schools).password_change_only(account.password_change_required);
    Ok((grant, accounts::staff_role(role).into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, created_at: NaiveDateTime) -> SigningKeyRow {
        SigningKeyRow {
            key_id: id.to_owned(),
            private_key: Vec::new(),
            public_key: Vec::new(),
            created_at,
            retired_at: None,
        }
    }

    #[test]
    fn a_new_key_signs_once_it_has_been_published_long_enough() {
        let now = Utc::now().naive_utc();
        let chosen = |keys: Vec<SigningKeyRow>| choose_signing_key(keys, now).map(|key| key.key_id);
        let old = key("old", now - chrono::Duration::days(30));
        let young = key("young", now - chrono::Duration::seconds(3));
        let ready = key("ready", now - chrono::Duration::seconds(10));
        assert_eq!(chosen(vec![young.clone(), old.clone()]).as_deref(), Some("old"));
        assert_eq!(chosen(vec![ready.clone(), old.clone()]).as_deref(), Some("ready"));
        assert_eq!(chosen(vec![young.clone(), ready, old]).as_deref(), Some("ready"));
        // A fresh district's first key signs at once.
        assert_eq!(chosen(vec![young]).as_deref(), Some("young"));
        assert_eq!(chosen(Vec::new()), None);
    }

    #[test]
    fn an_old_key_retires_once_its_last_tokens_have_expired() {
        let ttl = chrono::Duration::hours(1);
        assert_eq!(retirement_delay(ttl), chrono::Duration::minutes(61));
    }
}
