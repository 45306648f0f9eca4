//! The outbox relay delivering circulation's events to real `EventSink`
//! servers on loopback: every event reaches every subscriber once its
//! transaction has committed, and a subscriber that is down only delays its
//! events. The sinks here are stand-ins for the consuming services.

// Test helpers outside `#[test]` functions panic on failure, like the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use futures::future::BoxFuture;
use lectern_circulation::events::{self, LOAN_SUBSCRIBERS};
use lectern_common::db::schema::outbox_deliveries;
use lectern_common::db::{Db, DbError};
use lectern_common::outbox::{self, Relay, RelayConfig, RelayWaker, Subscriber};
use lectern_common::testing::{ReservedPort, TestServer};
use lectern_core::client::{self, ClientConfig};
use lectern_core::identity::TokenSource;
use lectern_core::ids;
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use lectern_proto::events::subscribers::{CATALOG, NOTIFICATION};
use lectern_proto::events::v1::event_sink_server::{EventSink, EventSinkServer};
use lectern_proto::events::v1::{DeliverRequest, DeliverResponse, Event};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

use support::{loan, now, open_db, pending};

/// How long a test waits for something before it fails.
const DEADLINE: Duration = Duration::from_secs(20);

/// An event sink that keeps what it receives and counts distinct events.
#[derive(Clone)]
struct CountingSink {
    received: Arc<Mutex<Vec<Event>>>,
    distinct: Arc<watch::Sender<usize>>,
}

impl CountingSink {
    fn new() -> (Self, watch::Receiver<usize>) {
        let (sender, receiver) = watch::channel(0);
        let sink = Self { received: Arc::new(Mutex::new(Vec::new())), distinct: Arc::new(sender) };
        (sink, receiver)
    }

    fn received(&self) -> Vec<Event> {
        self.received.lock().unwrap().clone()
    }
}

#[tonic::async_trait]
impl EventSink for CountingSink {
    async fn deliver(&self, request: Request<DeliverRequest>) -> Result<Response<DeliverResponse>, Status> {
        let mut received = self.received.lock().unwrap();
        let mut accepted = 0;
        for event in request.into_inner().events {
            if !received.iter().any(|seen| seen.id == event.id) {
                accepted += 1;
            }
            received.push(event);
        }
        let mut ids: Vec<&str> = received.iter().map(|event| event.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        self.distinct.send_replace(ids.len());
        Ok(Response::new(DeliverResponse { accepted }))
    }
}

/// A fixed bearer token instead of a sign-in at the reader service.
#[derive(Debug)]
struct StaticToken;

impl TokenSource for StaticToken {
    fn bearer(&self) -> BoxFuture<'_, Result<String, Status>> {
        Box::pin(async { Ok("test-service-token".to_owned()) })
    }
}

/// Serves `sink` on `listener` until `shutdown`.
async fn serve_sink(listener: TcpListener, sink: CountingSink, shutdown: Shutdown) -> Result<(), ServeError> {
    tonic::transport::Server::builder()
        .add_service(EventSinkServer::new(sink))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move { shutdown.wait().await })
        .await?;
    Ok(())
}

fn subscriber(name: &'static str, address: std::net::SocketAddr) -> Subscriber {
    let config =
        ClientConfig { connect_timeout: Duration::from_millis(500), call_timeout: Duration::from_secs(2) };
    Subscriber {
        name,
        channel: client::channel("TEST_SINK_URL", &format!("http://{address}"), &config).unwrap(),
    }
}

fn relay(db: &Db, subscribers: Vec<Subscriber>, waker: &RelayWaker) -> Relay {
    Relay {
        db: db.clone(),
        subscribers,
        tokens: Arc::new(StaticToken),
        config: RelayConfig {
            poll_interval: Duration::from_millis(200),
            retry_min: Duration::from_millis(20),
            retry_max: Duration::from_millis(100),
            call_timeout: Duration::from_secs(2),
            ..RelayConfig::default()
        },
        waker: waker.clone(),
        clock: Arc::new(lectern_common::testing::clock()),
    }
}

/// Waits until `receiver` counts at least `count` distinct events.
/// Enqueues `event` about `subject` for circulation's loan subscribers, as
/// a check-out or check-in does in its transaction.
async fn publish(db: &Db, event: Event, subject: &str) {
    let subject = subject.to_owned();
    db.write(move |connection| -> Result<(), DbError> {
        outbox::enqueue(connection, &event, &subject, &LOAN_SUBSCRIBERS, now().naive_utc())?;
        Ok(())
    })
    .await
    .unwrap();
}

async fn wait_for_events(receiver: &mut watch::Receiver<usize>, count: usize) {
    tokio::time::timeout(DEADLINE, receiver.wait_for(|seen| *seen >= count))
        .await
        .expect("events did not arrive in time")
        .expect("sink dropped");
}

/// Polls until nothing waits for `subscriber` (the relay marks events
/// delivered just after the sink has answered).
async fn wait_until_delivered(db: &Db, subscriber: &'static str) {
    tokio::time::timeout(DEADLINE, async {
        let mut every = tokio::time::interval(Duration::from_millis(10));
        while pending(db, subscriber).await > 0 {
            every.tick().await;
        }
    })
    .await
    .expect("events stayed pending");
}

/// Delivery attempts recorded for `subscriber`'s events.
async fn attempts(db: &Db, subscriber: &'static str) -> i32 {
    db.run(move |connection| -> Result<i32, DbError> {
        let attempts: Vec<i32> = outbox_deliveries::table
            .filter(outbox_deliveries::subscriber.eq(subscriber))
            .select(outbox_deliveries::attempts)
            .load(connection)?;
        Ok(attempts.into_iter().sum())
    })
    .await
    .unwrap()
}

async fn stop(shutdown: &Shutdown, tasks: Vec<tokio::task::JoinHandle<()>>) {
    shutdown.trigger();
    for task in tasks {
        tokio::time::timeout(DEADLINE, task).await.expect("relay did not stop").unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_event_reaches_every_subscriber_in_order() {
    let (_database, db) = open_db();
    let (notification_sink, mut notification_seen) = CountingSink::new();
    let (catalog_sink, mut catalog_seen) = CountingSink::new();
    let notification = TestServer::start({
        let sink = notification_sink.clone();
        |listener, shutdown| serve_sink(listener, sink, shutdown)
    });
    let catalog = TestServer::start({
        let sink = catalog_sink.clone();
        |listener, shutdown| serve_sink(listener, sink, shutdown)
    });
    let subscribers =
        vec![subscriber(NOTIFICATION, notification.address()), subscriber(CATALOG, catalog.address())];

    let waker = RelayWaker::default();
    let shutdown = Shutdown::new();
    let tasks = relay(&db, subscribers, &waker).spawn(shutdown.clone());

    let at = now();
    let first = loan("C0001", "reader-1", at);
    for lent in [first.clone(), loan("C0002", "reader-1", at)] {
        publish(&db, events::loan_checked_out(ids::new_id(), &lent), &lent.copy_id).await;
        waker.wake();
    }
    let returned = events::loan_returned(ids::new_id(), &first, false, None, &first.school_id);
    publish(&db, returned, &first.copy_id).await;
    waker.wake();

    wait_for_events(&mut notification_seen, 3).await;
    wait_for_events(&mut catalog_seen, 3).await;
    wait_until_delivered(&db, NOTIFICATION).await;
    wait_until_delivered(&db, CATALOG).await;

    for sink in [&notification_sink, &catalog_sink] {
        let types: Vec<String> = sink.received().into_iter().map(|event| event.r#type).collect();
        assert_eq!(types, ["loan.checked_out", "loan.checked_out", "loan.returned"]);
    }
    let ids =
        |sink: &CountingSink| -> Vec<String> { sink.received().into_iter().map(|event| event.id).collect() };
    assert_eq!(ids(&notification_sink), ids(&catalog_sink), "one event, one id");
    stop(&shutdown, tasks).await;
    notification.stop().await;
    catalog.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_wait_while_a_subscriber_is_down() {
    let (_database, db) = open_db();
    // The subscriber's port is the test's, but nothing listens there until the sink starts.
    let port = ReservedPort::new();
    let address = port.address();

    let waker = RelayWaker::default();
    let shutdown = Shutdown::new();
    let tasks = relay(&db, vec![subscriber(NOTIFICATION, address)], &waker).spawn(shutdown.clone());

    let lent = loan("C0001", "reader-1", now());
    publish(&db, events::loan_checked_out(ids::new_id(), &lent), &lent.copy_id).await;
    waker.wake();

    // The relay tries, fails, and keeps the event.
    tokio::time::timeout(DEADLINE, async {
        let mut every = tokio::time::interval(Duration::from_millis(10));
        while attempts(&db, NOTIFICATION).await < 2 {
            every.tick().await;
        }
    })
    .await
    .expect("the relay never tried to deliver");
    assert_eq!(pending(&db, NOTIFICATION).await, 1);

    // The subscriber comes up: the waiting event arrives without any new change.
    let (sink, mut seen) = CountingSink::new();
    let server = TestServer::start_on(port.listen(), {
        let sink = sink.clone();
        |listener, shutdown| serve_sink(listener, sink, shutdown)
    });
    wait_for_events(&mut seen, 1).await;
    wait_until_delivered(&db, NOTIFICATION).await;
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].r#type, "loan.checked_out");
    stop(&shutdown, tasks).await;
    server.stop().await;
}
