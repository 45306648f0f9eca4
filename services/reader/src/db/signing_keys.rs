//! Token signing keys.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lectern_common::db::DbConnection;

use super::schema::signing_keys;

/// A stored signing key. `Debug` leaves the private key out.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub key_id: String,
    /// PKCS#8 DER.
    pub private_key: Vec<u8>,
    /// The raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningKeyRow")
            .field("key_id", &self.key_id)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Stores a key.
pub fn insert_key(connection: &mut DbConnection, key: &SigningKeyRow) -> QueryResult<()> {
    diesel::insert_into(signing_keys::table).values(key).execute(connection)?;
    Ok(())
}

/// Every key not retired, newest first.
pub fn active_keys(connection: &mut DbConnection) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .select(SigningKeyRow::as_select())
        .order((signing_keys::created_at.desc(), signing_keys::key_id.desc()))
        .load(connection)
}

/// Retires a key: it no longer verifies tokens.
pub fn retire(connection: &mut DbConnection, key_id: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(signing_keys::table.find(key_id))
        .set(signing_keys::retired_at.eq(Some(now)))
        .execute(connection)?;
    Ok(())
}
