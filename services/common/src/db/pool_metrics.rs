//! The connection pool's metrics: how long work waits for a connection
//! (`lectern_db_pool_wait_seconds`), how often it waits in vain
//! (`lectern_db_pool_timeouts_total`), and the pool's size
//! (`lectern_db_pool_connections{state=idle|in_use}`,
//! `lectern_db_pool_max_connections`), all labelled with the server whose
//! database it is. The gauges are set whenever a connection is taken or
//! given back by [`super::Db::run`], which is cheap (one lock of r2d2's
//! state) and current as long as the server does any work.

use std::time::Instant;

use super::{ConnectionManager, DbError, PooledConnection};

/// The `server` label of a pool nobody named (tools and tests).
pub(super) const UNNAMED: &str = "unnamed";

/// Takes a connection from `pool`, timing the wait.
pub(super) fn get(
    pool: &r2d2::Pool<ConnectionManager>,
    server: &'static str,
) -> Result<PooledConnection, DbError> {
    let started = Instant::now();
    let result = pool.get();
    metrics::histogram!("lectern_db_pool_wait_seconds", "server" => server)
        .record(started.elapsed().as_secs_f64());
    if result.is_err() {
        // r2d2 gives up only when its connection timeout has passed.
        metrics::counter!("lectern_db_pool_timeouts_total", "server" => server).increment(1);
    }
    sample(pool, server);
    result.map_err(|error| DbError::Unavailable(error.to_string()))
}

/// Sets the pool's gauges from its current state.
pub(super) fn sample(pool: &r2d2::Pool<ConnectionManager>, server: &'static str) {
    let state = pool.state();
    let in_use = state.connections.saturating_sub(state.idle_connections);
    metrics::gauge!("lectern_db_pool_connections", "server" => server, "state" => "idle")
        .set(f64::from(state.idle_connections));
    metrics::gauge!("lectern_db_pool_connections", "server" => server, "state" => "in_use")
        .set(f64::from(in_use));
    metrics::gauge!("lectern_db_pool_max_connections", "server" => server).set(f64::from(pool.max_size()));
}
