//! The server ends a pooled connection (a restart, a failover, an
//! administrator): the pool replaces it, and work goes on. SQLite files are
//! never closed from outside.

use diesel::prelude::*;
use diesel::sql_types::Integer;
use lectern_common::db::{Db, DbError};
use lectern_common::testing::TestDatabase;

use crate::server;

#[derive(QueryableByName)]
struct Backend {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

/// The server process behind the connection a piece of work gets.
fn backend_pid(db: &Db) -> Result<i32, DbError> {
    let mut connection = db.connection()?;
    Ok(diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result::<Backend>(&mut *connection)?.pid)
}

#[test]
#[cfg_attr(not(postgres_tests), ignore = "PostgreSQL only: set LECTERN_TEST_DATABASE_URL")]
fn a_connection_the_server_ended_is_replaced() {
    let server = server();
    let database = TestDatabase::create("poolwatch");
    let db = Db::connect(database.url(), 1).expect("pool");
    let first = backend_pid(&db).expect("a first answer");

    let mut admin = PgConnection::establish(&server).expect("server");
    // Waits (up to 5 s) until the server process has ended.
    diesel::sql_query(format!("SELECT pg_terminate_backend({first}, 5000)"))
        .execute(&mut admin)
        .expect("ended");

    // The connection answered a moment ago, so it leaves the pool
    // unchecked and the next piece of work fails, as work in flight would
    // have; the pool then drops it, and the work after runs on a new
    // connection.
    assert!(backend_pid(&db).is_err(), "the ended connection was used once");
    let after = backend_pid(&db).expect("work goes on");
    assert_ne!(after, first, "a new connection");
}
