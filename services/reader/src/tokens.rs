//! Tokens: the signing key (the newest key not retired, or one made at the
//! first start and stored), the verification keys read back from the
//! database for this server's own authentication and for
//! `ListVerificationKeys`, and the tokens issued to staff and services.
//!
//! Keys live in the database rather than a file so that every replica of
//! the service signs with keys every other replica trusts.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use lectern_common::clock::SharedClock;
use lectern_common::db::{Db, DbError};
use lectern_common::identity::{Grant, KeySource, PublicKey, SigningKey, TokenError, TokenSigner};
use lectern_proto::reader::v1::LoginResponse;
use tokio::sync::Mutex;

use crate::accounts;
use crate::convert::timestamp;
use crate::db::{self, SigningKeyRow, StaffRow};
use crate::error::Error;

/// The key to sign with: the newest one not retired, or a new one.
pub async fn signing_key(db: &Db, clock: &SharedClock) -> Result<SigningKey, Error> {
    let now = clock.now();
    let row = db
        .write(move |connection| -> Result<SigningKeyRow, Error> {
            if let Some(newest) = db::signing_keys::active_keys(connection)?.into_iter().next() {
                return Ok(newest);
            }
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
            Ok(row)
        })
        .await?;
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

/// Issues tokens.
#[derive(Debug, Clone)]
pub struct Issuer {
    signer: TokenSigner,
    ttl: chrono::Duration,
}

impl Issuer {
    /// Signs with `signer`; tokens live for `ttl`.
    pub fn new(signer: TokenSigner, ttl: chrono::Duration) -> Self {
        Self { signer, ttl }
    }

    /// A token for a staff account that has just proved its password,
    /// acting for `schools`.
    pub fn staff(&self, account: &StaffRow, schools: Vec<String>) -> Result<LoginResponse, Error> {
        let role = accounts::stored_role(account)?;
        let grant =
            Grant::staff(&account.id, role, schools).password_change_only(account.password_change_required);
        self.issue(&grant, accounts::staff_role(role).into())
    }

    /// A token for a reader of `school_id` signed in with card and PIN (no
    /// role: readers act only on their own records).
    pub fn reader(&self, reader_id: &str, school_id: &str) -> Result<LoginResponse, Error> {
        self.issue(&Grant::reader(reader_id, school_id), 0)
    }

    /// A token for a Lectern service (subject `service:<name>`, no role).
    pub fn service(&self, service: &str) -> Result<LoginResponse, Error> {
        self.issue(&Grant::service(service), 0)
    }

    fn issue(&self, grant: &Grant, role: i32) -> Result<LoginResponse, Error> {
        let (token, expires_at) = self.signer.sign(grant, self.ttl).map_err(Error::Internal)?;
        Ok(response(token, expires_at, grant.password_change_required, &grant.subject, role))
    }
}

fn response(
    token: String,
    expires_at: DateTime<Utc>,
    password_change_required: bool,
    subject_id: &str,
    role: i32,
) -> LoginResponse {
    LoginResponse {
        access_token: token,
        expire_time: Some(timestamp(expires_at.naive_utc())),
        password_change_required,
        subject_id: subject_id.to_owned(),
        role,
    }
}
