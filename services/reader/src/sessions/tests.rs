//! Refresh tokens, their successors and the grace, against a throw-away
//! database (SQLite, or PostgreSQL when `LECTERN_TEST_DATABASE_URL` is set).

use lectern_common::db::{Db, write_transaction};
use lectern_common::testing::TestDatabase;

use super::*;

/// The district key of these tests.
const SERVICE_KEY: &str = "test-district-service-key";

#[test]
fn refresh_tokens_are_random_and_stored_only_hashed() {
    let first = new_refresh_token();
    let second = new_refresh_token();
    assert_ne!(first, second);
    assert_eq!(first.len(), 43, "32 bytes in base64url without padding");
    let hash = hash_refresh_token(&first);
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains(&first));
    assert_eq!(hash, hash_refresh_token(&first), "the same token always hashes alike");
    assert_ne!(hash, hash_refresh_token(&second));
    // The SHA-256 test vector of "abc".
    assert_eq!(hash_refresh_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

#[test]
fn a_new_session_stores_the_hash_and_its_lifetime() {
    let now = chrono::Utc::now().naive_utc();
    let (row, token) = new_session("acc-1", SubjectKind::Staff, None, now, chrono::Duration::hours(12));
    assert_eq!(row.refresh_hash, hash_refresh_token(&token));
    assert_eq!(row.expires_at - now, chrono::Duration::hours(12));
    assert_eq!(row.subject_kind, "staff");
    assert!(row.revoked_at.is_none());
}

#[test]
fn readers_at_a_kiosk_get_short_sessions() {
    let lifetimes = Lifetimes::default();
    let ttl = chrono::Duration::minutes(15);
    assert_eq!(lifetimes.of(SubjectKind::Reader, true, ttl), ttl);
    assert_eq!(lifetimes.of(SubjectKind::Reader, false, ttl), chrono::Duration::days(30));
    assert_eq!(lifetimes.of(SubjectKind::Staff, false, ttl), chrono::Duration::hours(12));
    assert_eq!(lifetimes.of(SubjectKind::Device, false, ttl), chrono::Duration::days(30));
}

#[tokio::test]
async fn sessions_long_expired_are_purged_with_their_spent_tokens() {
    let database = lectern_common::testing::TestDatabase::create("readerpurge");
    let db = lectern_common::db::Db::connect(database.url(), 2).unwrap();
    db.migrate(crate::MIGRATIONS).unwrap();
    let clock = lectern_core::clock::ManualClock::starting_at(chrono::Utc::now());
    let shared: lectern_core::clock::SharedClock = std::sync::Arc::new(clock.clone());
    let now = shared.now().naive_utc();
    let hour = chrono::Duration::hours(1);
    let (old, old_token) =
        new_session("acc-1", SubjectKind::Staff, None, now - chrono::Duration::days(3), hour);
    let (fresh, fresh_token) = new_session("acc-1", SubjectKind::Staff, None, now, hour);
    let (old_id, fresh_id) = (old.id.clone(), fresh.id.clone());
    db.write(move |connection| -> Result<_, Error> {
        db::sessions::insert(connection, &old)?;
        db::sessions::insert(connection, &fresh)?;
        for (session, token) in [(&old, &old_token), (&fresh, &fresh_token)] {
            let spent = hash_refresh_token(token);
            db::sessions::rotate(connection, &session.id, &session.refresh_hash, &spent, session.created_at)?;
        }
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(purge_expired(&db, &shared, hour).await.unwrap(), 1);
    let (old_left, fresh_left) = db
        .run(move |connection| -> Result<_, Error> {
            Ok((db::sessions::find(connection, &old_id)?, db::sessions::find(connection, &fresh_id)?))
        })
        .await
        .unwrap();
    assert!(old_left.is_none());
    assert!(fresh_left.is_some());
    assert_eq!(purge_expired(&db, &shared, hour).await.unwrap(), 0);
}

#[test]
fn successors_are_derived_from_the_token_with_the_district_key() {
    let key = SuccessorKey::from_service_key(Some(SERVICE_KEY));
    // Computed apart from this code, as
    // base64url(HMAC(HMAC(service key, "lectern refresh successor key"),
    //                "lectern refresh successor" || token)):
    // replicas of every version must agree on it.
    assert_eq!(key.successor("first-refresh-token"), "UQuuD618vl4Z8T7Np5rEnD0AjH9vhy4TlbSJ9CeBbXc");
    let token = new_refresh_token();
    let successor = key.successor(&token);
    assert_eq!(successor.len(), 43, "as long as a first token");
    assert_ne!(successor, token);
    assert_eq!(SuccessorKey::from_service_key(Some(SERVICE_KEY)).successor(&token), successor, "any replica");
    assert_ne!(key.successor(&successor), successor);
    assert_ne!(SuccessorKey::from_service_key(Some("another-district-key")).successor(&token), successor);
    // Without a service key every process has a key of its own.
    let (one, other) = (SuccessorKey::from_service_key(None), SuccessorKey::from_service_key(None));
    assert_ne!(one.successor(&token), other.successor(&token));
    assert_eq!(one.successor(&token), one.successor(&token));
    assert_eq!(format!("{key:?}"), "SuccessorKey { .. }", "the key stays out of logs");
}

/// A migrated database with one open session of `reader-1` since `now`,
/// and the session's first refresh token.
fn with_session(now: NaiveDateTime) -> (TestDatabase, Db, SessionRow, String) {
    let database = TestDatabase::migrated("reader", crate::MIGRATIONS);
    let db = Db::connect(database.url(), 3).unwrap();
    let (session, first) =
        new_session("reader-1", SubjectKind::Reader, None, now, chrono::Duration::days(30));
    db::sessions::insert(&mut db.connection().unwrap(), &session).unwrap();
    (database, db, session, first)
}

#[tokio::test]
async fn a_refresh_token_works_once_and_its_reuse_after_the_grace_ends_the_session() {
    let now = lectern_common::testing::start().naive_utc();
    let (_database, db, session, first) = with_session(now);
    let session_id = session.id.clone();
    let key = SuccessorKey::from_service_key(Some(SERVICE_KEY));
    let outcome = db
        .write(move |connection| -> Result<_, Error> {
            let Exchange::Rotated { session: rotated, new_token: second } =
                exchange(connection, &first, &key, now)?
            else {
                panic!("the current refresh token rotates");
            };
            assert_eq!(second, key.successor(&first));
            assert_eq!(rotated.refresh_hash, hash_refresh_token(&second));
            let later = now + GRACE;
            let reused = exchange(connection, &first, &key, later)?;
            let after_reuse = exchange(connection, &second, &key, later)?;
            let unknown = exchange(connection, &new_refresh_token(), &key, later)?;
            let stored = db::sessions::find(connection, &rotated.id)?;
            Ok((reused, after_reuse, unknown, stored))
        })
        .await
        .unwrap();
    let (reused, after_reuse, unknown, stored) = outcome;
    assert!(
        matches!(reused, Exchange::Reused { session_id: ref id, ref subject_id } if *id == session_id && subject_id == "reader-1")
    );
    assert!(matches!(after_reuse, Exchange::Ended), "the whole session ended");
    assert!(matches!(unknown, Exchange::Ended));
    let stored = stored.unwrap();
    assert!(stored.revoked_at.is_some());
    assert_eq!(stored.revoked_reason.as_deref(), Some(reason::REFRESH_REUSED));
}

#[tokio::test]
async fn within_the_grace_only_the_newest_spent_token_repeats_its_successor() {
    let now = lectern_common::testing::start().naive_utc();
    let (_database, db, session, first) = with_session(now);
    let key = SuccessorKey::from_service_key(Some(SERVICE_KEY));
    let almost = now + GRACE - chrono::Duration::seconds(1);
    let (grandparent, stored) = db
        .write(move |connection| -> Result<_, Error> {
            let Exchange::Rotated { new_token: second, .. } = exchange(connection, &first, &key, now)? else {
                panic!("the current refresh token rotates");
            };
            let Exchange::Repeated { session: repeated, new_token } =
                exchange(connection, &first, &key, almost)?
            else {
                panic!("within the grace a spent token gets its successor again");
            };
            assert_eq!(new_token, second);
            assert_eq!(repeated.refresh_hash, hash_refresh_token(&second), "not rotated again");
            assert_eq!(repeated.last_used_at, now);
            let Exchange::Rotated { new_token: third, .. } = exchange(connection, &second, &key, almost)?
            else {
                panic!("the successor is the current token");
            };
            // `first` is two rotations back now: a copy, even this soon.
            let grandparent = exchange(connection, &first, &key, almost)?;
            assert!(matches!(exchange(connection, &third, &key, almost)?, Exchange::Ended));
            Ok((grandparent, db::sessions::find(connection, &session.id)?))
        })
        .await
        .unwrap();
    assert!(matches!(grandparent, Exchange::Reused { .. }), "{grandparent:?}");
    assert_eq!(stored.unwrap().revoked_reason.as_deref(), Some(reason::REFRESH_REUSED));
}

#[tokio::test]
async fn a_refresh_that_lost_the_race_gets_the_winners_successor() {
    let now = lectern_common::testing::start().naive_utc();
    let (_database, db, session, first) = with_session(now);
    let key = SuccessorKey::from_service_key(Some(SERVICE_KEY));
    let (winner, loser) = db
        .write(move |connection| -> Result<_, Error> {
            // Both read the session while `first` was current; the winner
            // rotated it before the loser's update ran.
            let winner = exchange(connection, &first, &key, now)?;
            let loser = exchange_current(connection, session, &first, &key, now)?;
            Ok((winner, loser))
        })
        .await
        .unwrap();
    let (Exchange::Rotated { new_token: won, .. }, Exchange::Repeated { new_token: lost, .. }) =
        (winner, loser)
    else {
        panic!("one rotates, the other repeats");
    };
    assert_eq!(won, lost);
}

#[test]
fn two_transactions_exchanging_one_token_at_once_both_succeed() {
    let now = lectern_common::testing::start().naive_utc();
    let (_database, db, _session, first) = with_session(now);
    let key = SuccessorKey::from_service_key(Some(SERVICE_KEY));
    let (rotated_tx, rotated_rx) = std::sync::mpsc::channel();
    let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
    let in_thread = |commit_when: Option<std::sync::mpsc::Receiver<()>>| {
        let (db, key, first, rotated_tx) = (db.clone(), key.clone(), first.clone(), rotated_tx.clone());
        std::thread::spawn(move || {
            write_transaction(&mut db.connection().unwrap(), |connection| -> Result<_, Error> {
                let exchanged = exchange(connection, &first, &key, now)?;
                if let Some(commit) = commit_when {
                    rotated_tx.send(()).unwrap();
                    commit.recv().unwrap();
                }
                Ok(exchanged)
            })
            .unwrap()
        })
    };
    // The first transaction rotates and holds on to its write; the second
    // starts meanwhile and must wait for it (SQLite: at `BEGIN IMMEDIATE`;
    // PostgreSQL: at the update of the session's row, after it read the
    // token as current).
    let first_exchange = in_thread(Some(commit_rx));
    rotated_rx.recv().unwrap();
    let second_exchange = in_thread(None);
    if let DbConnection::Pg(pg) = &mut *db.connection().unwrap() {
        wait_for_a_lock_wait(pg);
    }
    commit_tx.send(()).unwrap();
    let (first_exchange, second_exchange) = (first_exchange.join().unwrap(), second_exchange.join().unwrap());
    let (Exchange::Rotated { new_token: won, .. }, Exchange::Repeated { new_token: lost, .. }) =
        (first_exchange, &second_exchange)
    else {
        panic!("one rotates, the other repeats: {second_exchange:?}");
    };
    assert_eq!(&won, lost);
}

/// Waits, with a deadline, until a transaction of this database waits for
/// a lock another holds.
fn wait_for_a_lock_wait(pg: &mut diesel::PgConnection) {
    use diesel::prelude::*;
    const WAITING: &str = "(SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock')";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiting: i64 =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(WAITING)).get_result(pg).unwrap();
        if waiting > 0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the second exchange never waited for the first");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
