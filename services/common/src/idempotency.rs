//! Idempotent retries: a state-changing call may carry a client request
//! id; its first answer is stored with the change, and a retry with the
//! same id gets that answer back without changing anything, even when it
//! arrives while the first call is still running (a kiosk or a browser that
//! gave up waiting and sent the call again).
//!
//! One wrapper, [`Idempotent`], does this for every call:
//!
//! - **In the call's write transaction** ([`Idempotent::run`]), the request
//!   id is claimed first, by inserting its row without an answer. A
//!   duplicate's transaction stops at that row until the first one ends:
//!   PostgreSQL makes a second insert of a key wait for the transaction
//!   that holds it, and SQLite runs write transactions one at a time. If
//!   the first committed, the duplicate finds its answer and returns it,
//!   changing nothing; if it rolled back, the row went with it and the
//!   duplicate runs as the first. The claim is the transaction's first
//!   statement, so a waiting duplicate holds no other lock.
//! - **Around the whole call** ([`Idempotent::call`]), work done before
//!   the transaction (check-out asks the reader and catalog services) may
//!   see the first call's change once it committed (the copy is on loan)
//!   and refuse. The change and its answer commit together, so a call with
//!   a request id that fails looks for a stored answer and, if there is
//!   one, answers with it.
//! - **A call made of several transactions** (a streamed MARC import)
//!   holds its claim for the whole run ([`Idempotent::hold`]): the row
//!   without an answer is committed first, a duplicate waits until it has
//!   an answer or is released, and a claim left behind by a server that
//!   died is taken over once it is older than [`HELD_CLAIM_LEASE`].
//!
//! Refusals are not stored: a refused call changed nothing, and its retry
//! is judged again (by then the reader may have paid their fees).

use std::future::Future;
use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound as _};
use diesel::prelude::*;
use lectern_core::refusal::{Reason, Refusal};
use prost::Message;

use crate::Error;
use crate::db::schema::idempotency_keys;
use crate::db::{Db, DbConnection};

/// How long a claim held across transactions stays its holder's without
/// being refreshed; the holder refreshes it with every batch it commits.
pub const HELD_CLAIM_LEASE: Duration = Duration::from_secs(120);

/// How often a duplicate of a call that holds its claim looks again.
const HELD_CLAIM_POLL: Duration = Duration::from_millis(100);

/// A state-changing call: its operation name and the client's request id,
/// if it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotent {
    operation: &'static str,
    request_id: Option<String>,
}

/// What a call answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<M> {
    /// The call made its change now.
    Fresh(M),
    /// The request id was answered before (or by a duplicate running at the
    /// same time); nothing changed now.
    Repeated(M),
}

impl<M> Answer<M> {
    /// The answer to send.
    pub fn into_inner(self) -> M {
        match self {
            Self::Fresh(answer) | Self::Repeated(answer) => answer,
        }
    }

    /// The answer, if the change was made now (to log it, or wake the
    /// relay, once).
    pub fn fresh(&self) -> Option<&M> {
        match self {
            Self::Fresh(answer) => Some(answer),
            Self::Repeated(_) => None,
        }
    }
}

/// A stored request id.
struct Stored {
    operation: String,
    response: Option<Vec<u8>>,
    created_at: NaiveDateTime,
}

impl Idempotent {
    /// The call `operation` (unique in its service, such as
    /// `circulation.CheckOut`) with the client's `request_id`, already
    /// checked with `lectern_core::validate::request_id`.
    pub fn new(operation: &'static str, request_id: Option<String>) -> Self {
        Self { operation, request_id }
    }

    /// The client's request id.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Runs `work` once per request id, inside the caller's write
    /// transaction: claims the id first, then runs `work` and stores its
    /// answer, or returns the answer stored by an earlier (or concurrent,
    /// now committed) call without running `work`.
    pub fn run<M, F>(
        &self,
        connection: &mut DbConnection,
        now: NaiveDateTime,
        work: F,
    ) -> Result<Answer<M>, Error>
    where
        M: Message + Default,
        F: FnOnce(&mut DbConnection) -> Result<M, Error>,
    {
        let Some(request_id) = self.request_id.as_deref() else {
            return work(connection).map(Answer::Fresh);
        };
        if !claim(connection, self.operation, request_id, now)? {
            return match load(connection, request_id)? {
                Some(stored) => self.answered(request_id, stored).map(Answer::Repeated),
                // The row was there a moment ago and is gone: a claim held
                // across transactions was released. Tell the client to try
                // again rather than wait inside a transaction.
                None => Err(still_running(request_id).into()),
            };
        }
        let answer = work(connection)?;
        store(connection, request_id, &answer)?;
        Ok(Answer::Fresh(answer))
    }

    /// Runs a whole call whose change is one write transaction that uses
    /// [`Idempotent::run`]; if the call fails but its request id was
    /// answered meanwhile (work before the transaction saw the first call's
    /// change and refused), answers with the stored answer.
    pub async fn call<M, E, Fut>(&self, db: &Db, work: Fut) -> Result<Answer<M>, E>
    where
        M: Message + Default + Send + 'static,
        E: From<Error>,
        Fut: Future<Output = Result<Answer<M>, E>>,
    {
        let error = match work.await {
            Ok(answer) => return Ok(answer),
            Err(error) => error,
        };
        let Some(request_id) = self.request_id.clone() else {
            return Err(error);
        };
        let (operation, lookup) = (self.operation, request_id.clone());
        let stored = db.run(move |connection| load(connection, &lookup)).await?;
        match stored {
            Some(stored) if stored.operation == operation && stored.response.is_some() => {
                Ok(self.answered(&request_id, stored).map(Answer::Repeated)?)
            }
            _ => Err(error),
        }
    }

    /// A call whose whole change is `work` in one write transaction.
    pub async fn write<M, F>(&self, db: &Db, now: NaiveDateTime, work: F) -> Result<Answer<M>, Error>
    where
        M: Message + Default + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<M, Error> + Send + 'static,
    {
        let once = self.clone();
        self.call(db, db.write(move |connection| once.run(connection, now, work))).await
    }

    /// Claims the request id for a call made of several transactions. Waits
    /// while another call holds it (up to `wait`), then returns its answer;
    /// otherwise the claim is this call's until [`HeldClaim::complete`]
    /// stores the answer or [`HeldClaim::release`] gives it up.
    pub async fn hold<M>(
        &self,
        db: &Db,
        clock: &lectern_core::clock::SharedClock,
        wait: Duration,
    ) -> Result<Held<M>, Error>
    where
        M: Message + Default + Send + 'static,
    {
        let Some(request_id) = self.request_id.clone() else {
            return Ok(Held::Claimed(HeldClaim { key: self.clone(), claimed_at: None }));
        };
        let waited = std::time::Instant::now();
        loop {
            // Microseconds, as both databases keep them: the claim is found
            // again by its time.
            let now = lectern_core::clock::Clock::now(clock.as_ref()).naive_utc().trunc_subsecs(6);
            let (operation, id) = (self.operation, request_id.clone());
            let attempt = db
                .write(move |connection| -> Result<Result<NaiveDateTime, Option<Stored>>, Error> {
                    if claim(connection, operation, &id, now)? {
                        return Ok(Ok(now));
                    }
                    let stored = load(connection, &id)?;
                    if let Some(stale) = stored
                        .as_ref()
                        .filter(|stored| stored.operation == operation && stored.response.is_none())
                        .filter(|stored| stored.created_at + lease() < now)
                        && take_over(connection, &id, stale.created_at, now)?
                    {
                        return Ok(Ok(now));
                    }
                    Ok(Err(stored))
                })
                .await?;
            match attempt {
                Ok(claimed_at) => {
                    return Ok(Held::Claimed(HeldClaim { key: self.clone(), claimed_at: Some(claimed_at) }));
                }
                Err(Some(stored)) if stored.response.is_some() || stored.operation != self.operation => {
                    return self.answered(&request_id, stored).map(Held::Answered);
                }
                Err(_) if waited.elapsed() >= wait => return Err(still_running(&request_id).into()),
                // Held by a call still running, or released just now.
                Err(_) => tokio::time::sleep(HELD_CLAIM_POLL).await,
            }
        }
    }

    /// The stored answer of `request_id`, or why it cannot be given.
    fn answered<M: Message + Default>(&self, request_id: &str, stored: Stored) -> Result<M, Error> {
        if stored.operation != self.operation {
            return Err(Refusal::new(
                Reason::RequestIdReused,
                format!("request id {request_id} was already used for another operation"),
            )
            .into());
        }
        match stored.response {
            Some(bytes) => Ok(M::decode(bytes.as_slice())?),
            None => Err(still_running(request_id).into()),
        }
    }
}

/// A claim held across transactions, or the answer of the call that held it.
#[derive(Debug)]
pub enum Held<M> {
    /// This call holds the claim.
    Claimed(HeldClaim),
    /// Another call with the request id finished; this is its answer.
    Answered(M),
}

/// A request id claimed by a call made of several transactions.
#[derive(Debug, Clone)]
pub struct HeldClaim {
    key: Idempotent,
    /// When the claim was made or last refreshed; `None` without a request id.
    claimed_at: Option<NaiveDateTime>,
}

impl HeldClaim {
    /// Keeps the claim this call's: call after each piece of work the
    /// call commits (a batch of an import). Writes only when a quarter of
    /// the lease has passed since the claim was last refreshed.
    pub fn refresh(&mut self, connection: &mut DbConnection, now: NaiveDateTime) -> Result<(), Error> {
        let (Some(request_id), Some(claimed_at)) = (self.key.request_id.as_deref(), self.claimed_at) else {
            return Ok(());
        };
        let now = now.trunc_subsecs(6);
        if now - claimed_at < lease() / 4 {
            return Ok(());
        }
        if !take_over(connection, request_id, claimed_at, now)? {
            return Err(Error::internal(format!("the claim of request id {request_id} was taken over")));
        }
        self.claimed_at = Some(now);
        Ok(())
    }

    /// Stores the call's answer, in its last transaction.
    pub fn complete<M: Message>(&self, connection: &mut DbConnection, answer: &M) -> Result<(), Error> {
        match self.key.request_id.as_deref() {
            Some(request_id) => store(connection, request_id, answer),
            None => Ok(()),
        }
    }

    /// Gives the claim up after a failure, so a retry runs the call again.
    pub async fn release(self, db: &Db) -> Result<(), Error> {
        let (Some(request_id), Some(claimed_at)) = (self.key.request_id, self.claimed_at) else {
            return Ok(());
        };
        db.write(move |connection| -> Result<(), Error> {
            diesel::delete(
                idempotency_keys::table
                    .find(&request_id)
                    .filter(idempotency_keys::response.is_null())
                    .filter(idempotency_keys::created_at.eq(claimed_at)),
            )
            .execute(connection)?;
            Ok(())
        })
        .await
    }
}

/// Deletes the stored answers of `operations` that `concerns` says carry
/// what must be forgotten (an erased reader's data), by request id.
pub fn forget(
    connection: &mut DbConnection,
    operations: &[&str],
    concerns: impl Fn(&str, &[u8]) -> bool,
) -> Result<usize, Error> {
    let rows: Vec<(String, String, Option<Vec<u8>>)> = idempotency_keys::table
        .filter(idempotency_keys::operation.eq_any(operations))
        .select((idempotency_keys::operation, idempotency_keys::request_id, idempotency_keys::response))
        .load(connection)?;
    let forgotten: Vec<String> = rows
        .into_iter()
        .filter(|(operation, _, response)| {
            response.as_deref().is_some_and(|bytes| concerns(operation, bytes))
        })
        .map(|(_, request_id, _)| request_id)
        .collect();
    let deleted =
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::request_id.eq_any(forgotten)))
            .execute(connection)?;
    Ok(deleted)
}

fn lease() -> chrono::Duration {
    chrono::Duration::from_std(HELD_CLAIM_LEASE).unwrap_or(chrono::Duration::MAX)
}

/// The refusal of a duplicate of a call still running (a held claim).
fn still_running(request_id: &str) -> Refusal {
    Refusal::new(
        Reason::RequestInProgress,
        format!("a call with request id {request_id} is still running; try again when it has finished"),
    )
}

/// Inserts the request id's row without an answer, unless a row exists;
/// returns whether this call inserted it. On PostgreSQL an insert of a key
/// that an open transaction inserted waits for that transaction to end.
fn claim(
    connection: &mut DbConnection,
    operation: &str,
    request_id: &str,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let row = (
        idempotency_keys::request_id.eq(request_id),
        idempotency_keys::operation.eq(operation),
        idempotency_keys::response.eq(None::<Vec<u8>>),
        idempotency_keys::created_at.eq(now),
    );
    let insert = diesel::insert_into(idempotency_keys::table).values(row).on_conflict_do_nothing();
    let inserted = match connection {
        DbConnection::Pg(pg) => insert.execute(pg)?,
        DbConnection::Sqlite(sqlite) => insert.execute(sqlite)?,
    };
    Ok(inserted == 1)
}

fn load(connection: &mut DbConnection, request_id: &str) -> Result<Option<Stored>, Error> {
    let row: Option<(String, Option<Vec<u8>>, NaiveDateTime)> = idempotency_keys::table
        .find(request_id)
        .select((idempotency_keys::operation, idempotency_keys::response, idempotency_keys::created_at))
        .first(connection)
        .optional()?;
    Ok(row.map(|(operation, response, created_at)| Stored { operation, response, created_at }))
}

/// Stores the answer on the claimed row.
fn store<M: Message>(connection: &mut DbConnection, request_id: &str, answer: &M) -> Result<(), Error> {
    let updated =
        diesel::update(idempotency_keys::table.find(request_id).filter(idempotency_keys::response.is_null()))
            .set(idempotency_keys::response.eq(Some(answer.encode_to_vec())))
            .execute(connection)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(Error::internal(format!("request id {request_id} was not claimed by this call")))
    }
}

/// Moves an unanswered claim made at `claimed_at` to `now`; false if it is
/// no longer that claim (answered, released or taken over).
fn take_over(
    connection: &mut DbConnection,
    request_id: &str,
    claimed_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let updated = diesel::update(
        idempotency_keys::table
            .find(request_id)
            .filter(idempotency_keys::response.is_null())
            .filter(idempotency_keys::created_at.eq(claimed_at)),
    )
    .set(idempotency_keys::created_at.eq(now))
    .execute(connection)?;
    Ok(updated == 1)
}
