//! The `<server>.database` readiness check: a server behind the gateway
//! can do nothing without its database, so it is ready only while a
//! connection can be had from its pool in good time and answers `SELECT 1`.

use std::future::Future;
use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use lectern_core::readiness::{CheckState, Readiness, check_timeout};

use super::Db;

/// Checks `db` once: a connection from the pool within `timeout` (the
/// pool's own wait is longer), then `SELECT 1`, off the async runtime.
pub async fn check(db: &Db, timeout: Duration) -> CheckState {
    let pool = db.pool.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut connection = pool
            .get_timeout(timeout)
            .map_err(|error| format!("no connection within {} ms: {error}", timeout.as_millis()))?;
        connection.batch_execute("SELECT 1").map_err(|error| format!("SELECT 1 failed: {error}"))
    })
    .await;
    match outcome {
        Ok(Ok(())) => CheckState::Ready,
        Ok(Err(reason)) => CheckState::NotReady(reason),
        Err(error) => CheckState::NotReady(format!("check failed: {error}")),
    }
}

/// Sets the check `name` of `readiness` from [`check`] now and every
/// `interval` until `shutdown` resolves; logs when the database goes away
/// and when it comes back.
pub fn watch(
    db: Db,
    readiness: Readiness,
    name: String,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    tokio::spawn(async move {
        tokio::pin!(shutdown);
        let timeout = check_timeout(interval);
        let mut was_ready = true;
        loop {
            let state = tokio::select! {
                () = &mut shutdown => return,
                state = check(&db, timeout) => state,
            };
            match (&state, was_ready) {
                (CheckState::NotReady(reason), true) => {
                    tracing::warn!(check = %name, %reason, "not ready: the database does not answer");
                }
                (CheckState::Ready, false) => {
                    tracing::info!(check = %name, "ready: the database answers again")
                }
                _ => {}
            }
            was_ready = state.is_ready();
            readiness.set(&name, state);
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_database_that_gives_no_connection_is_not_ready_until_it_does() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&dir.path().join("catalog.db").display().to_string(), 1).unwrap();
        assert_eq!(check(&db, Duration::from_millis(200)).await, CheckState::Ready);

        // Every connection busy (or none to be had): the server could not
        // serve a call either.
        let held = db.connection().unwrap();
        match check(&db, Duration::from_millis(200)).await {
            CheckState::NotReady(reason) => {
                assert!(reason.starts_with("no connection within 200 ms"), "{reason}")
            }
            CheckState::Ready => panic!("ready without a connection to be had"),
        }
        drop(held);
        assert_eq!(check(&db, Duration::from_millis(200)).await, CheckState::Ready);
    }
}
