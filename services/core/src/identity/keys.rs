//! Signing keys and the token signer (used by the reader service only).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use super::claims::{AUDIENCE, Claims, Grant, ISSUER};
use super::verifier::PublicKey;
use crate::clock::SharedClock;

/// An Ed25519 signing key with its id.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id, named in each token's `kid` header.
    pub key_id: String,
    /// The private key, PKCS#8 DER.
    pub private_pkcs8: Vec<u8>,
    /// The raw 32-byte public key.
    pub public_key: [u8; 32],
    /// When the key was made.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("SigningKey").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate(now: DateTime<Utc>) -> Result<Self, String> {
        let seed: [u8; 32] = rand::random();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let private_pkcs8 = key
            .to_pkcs8_der()
            .map_err(|error| format!("cannot encode signing key: {error}"))?
            .as_bytes()
            .to_vec();
        Ok(Self {
            key_id: crate::ids::new_id(),
            private_pkcs8,
            public_key: key.verifying_key().to_bytes(),
            created_at: now,
        })
    }

    /// The public half, as published to verifiers.
    pub fn public(&self) -> PublicKey {
        PublicKey { key_id: self.key_id.clone(), public_key: self.public_key, created_at: self.created_at }
    }

    /// The public key in JWK `x` form (base64url, no padding).
    pub fn public_key_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public_key)
    }
}

/// Signs tokens with the current key.
#[derive(Clone)]
pub struct TokenSigner {
    key: SigningKey,
    encoding_key: EncodingKey,
    clock: SharedClock,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("TokenSigner").field("key", &self.key).finish()
    }
}

impl TokenSigner {
    /// A signer for `key`.
    pub fn new(key: SigningKey, clock: SharedClock) -> Self {
        let encoding_key = EncodingKey::from_ed_der(&key.private_pkcs8);
        Self { key, encoding_key, clock }
    }

    /// The key this signer uses.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs a token carrying `grant`, valid for `ttl`; returns it with its expiry.
    pub fn sign(&self, grant: &Grant, ttl: Duration) -> Result<(String, DateTime<Utc>), String> {
        let now = self.clock.now();
        let expires_at = now + ttl;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: grant.subject.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: crate::ids::new_id(),
            kind: grant.kind,
            role: grant.role,
            pwd_change: grant.password_change_required,
            schools: grant.schools.clone(),
            sid: grant.session_id.clone(),
            dev: grant.device_id.clone(),
            fam: grant.family_account.clone(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.key.key_id.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding_key)
            .map_err(|error| format!("cannot sign token: {error}"))?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or(expires_at);
        Ok((token, expires_at))
    }
}
