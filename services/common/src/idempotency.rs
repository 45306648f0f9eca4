//! Idempotent retries: a state-changing call may carry a client request id;
//! its first answer is stored in the same transaction as the change, and a
//! retry with the same id gets that answer back without changing anything.

use diesel::prelude::*;
use prost::Message;

use crate::db::DbConnection;
use crate::db::schema::idempotency_keys;
use lectern_core::refusal::{Reason, Refusal};

/// What went wrong looking up a request id.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    /// The id was used before for another operation.
    #[error(transparent)]
    Reused(Refusal),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    /// The stored answer could not be decoded.
    #[error("stored answer for request id cannot be decoded: {0}")]
    Corrupt(#[from] prost::DecodeError),
}

/// The stored answer for `request_id`, if this operation ran before.
/// Call inside the write transaction, before changing anything.
pub fn previous_answer<M: Message + Default>(
    connection: &mut DbConnection,
    operation: &str,
    request_id: &str,
) -> Result<Option<M>, IdempotencyError> {
    let row: Option<(String, Vec<u8>)> = idempotency_keys::table
        .find(request_id)
        .select((idempotency_keys::operation, idempotency_keys::response))
        .first(connection)
        .optional()?;
    match row {
        None => Ok(None),
        Some((stored_operation, _)) if stored_operation != operation => {
            Err(IdempotencyError::Reused(Refusal::new(
                Reason::RequestIdReused,
                format!("request id {request_id} was already used for another operation"),
            )))
        }
        Some((_, bytes)) => Ok(Some(M::decode(bytes.as_slice())?)),
    }
}

/// Stores the answer to `request_id`, in the transaction that made the change.
pub fn remember_answer<M: Message>(
    connection: &mut DbConnection,
    operation: &str,
    request_id: &str,
    answer: &M,
    now: chrono::NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::request_id.eq(request_id),
            idempotency_keys::operation.eq(operation),
            idempotency_keys::response.eq(answer.encode_to_vec()),
            idempotency_keys::created_at.eq(now),
        ))
        .execute(connection)?;
    Ok(())
}

/// [`previous_answer`] for a call whose request id is optional: without
/// one there is never a previous answer.
pub fn previous<M: Message + Default>(
    connection: &mut DbConnection,
    operation: &str,
    request_id: Option<&str>,
) -> Result<Option<M>, IdempotencyError> {
    match request_id {
        Some(request_id) => previous_answer(connection, operation, request_id),
        None => Ok(None),
    }
}

/// [`remember_answer`] for a call whose request id is optional: without
/// one nothing is stored.
pub fn remember<M: Message>(
    connection: &mut DbConnection,
    operation: &str,
    request_id: Option<&str>,
    answer: &M,
    now: chrono::NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    match request_id {
        Some(request_id) => remember_answer(connection, operation, request_id, answer, now),
        None => Ok(()),
    }
}

impl From<IdempotencyError> for crate::Error {
    fn from(error: IdempotencyError) -> Self {
        match error {
            IdempotencyError::Reused(refusal) => Self::Refused(refusal),
            IdempotencyError::Database(error) => error.into(),
            IdempotencyError::Corrupt(error) => error.into(),
        }
    }
}
