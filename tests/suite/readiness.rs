//! Readiness as district IT sees it: Kubernetes' gRPC probes and the ops
//! port's `/readyz` follow what each server cannot work without (the
//! gateway's upstream services, a service's database) and name what is
//! missing; liveness stays up meanwhile, so nothing restarts in a loop.

use std::net::SocketAddr;
use std::time::Duration;

use lectern::suite::{Databases, Suite, SuiteConfig};
use lectern_common::testing::{TestDatabase, eventually, lazy_channel};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::SERVICE_KEY;

const UPSTREAMS: [&str; 4] = ["catalog", "circulation", "notification", "reader"];

/// A suite with the ops port on a loopback port and checks every 50 ms,
/// and the test databases it runs on.
async fn start() -> (Suite, Vec<TestDatabase>) {
    let databases = vec![
        TestDatabase::migrated("reader", lectern_reader::MIGRATIONS),
        TestDatabase::migrated("catalog", lectern_catalog::MIGRATIONS),
        TestDatabase::migrated("circulation", lectern_circulation::MIGRATIONS),
        TestDatabase::migrated("notification", lectern_notification::MIGRATIONS),
    ];
    let urls = Databases {
        reader: databases[0].url().to_owned(),
        catalog: databases[1].url().to_owned(),
        circulation: databases[2].url().to_owned(),
        notification: databases[3].url().to_owned(),
    };
    let mut config = SuiteConfig::new(urls, SocketAddr::from(([127, 0, 0, 1], 0)), SERVICE_KEY.into());
    config.http.listen = None;
    config.sip2.listen = None;
    config.readiness_interval = Duration::from_millis(50);
    config.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    (Suite::start(config).await.expect("suite starts"), databases)
}

/// What a probe gets from `server` for health service `service`.
async fn health(suite: &Suite, server: &str, service: &str) -> Option<ServingStatus> {
    let mut client = HealthClient::new(lazy_channel(suite.address(server)?));
    let mut request = tonic::Request::new(HealthCheckRequest { service: service.into() });
    request.set_timeout(Duration::from_secs(2));
    let status = client.check(request).await.ok()?.into_inner().status;
    ServingStatus::try_from(status).ok()
}

/// `GET path` on the ops port: the status code, the content type and the body.
async fn ops(suite: &Suite, path: &str) -> (u16, String, String) {
    let address = suite.metrics_addr().expect("the ops port listens");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("the ops port answers");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("a status line");
    let content_type = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_owned))
        .unwrap_or_default();
    (status, content_type, body.to_owned())
}

fn line_of<'a>(body: &'a str, check: &str) -> Option<&'a str> {
    body.lines().find(|line| line.starts_with(&format!("{check}: ")))
}

#[tokio::test]
async fn the_gateway_turns_not_ready_and_says_which_upstream_is_gone_until_it_is_back() {
    let (mut suite, _databases) = start().await;

    // All up: the readiness probe (service "") says SERVING, /readyz lists
    // each upstream as ready.
    assert_eq!(health(&suite, "gateway", "").await, Some(ServingStatus::Serving));
    let (status, _, body) = ops(&suite, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    for upstream in UPSTREAMS {
        let check = format!("gateway.upstream.{upstream}");
        assert_eq!(line_of(&body, &check), Some(format!("{check}: ready").as_str()), "{body}");
    }
    assert_eq!(line_of(&body, "catalog.database"), Some("catalog.database: ready"), "{body}");
    let (status, _, body) = ops(&suite, "/livez").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, content_type, _) = ops(&suite, "/metrics").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");

    // Circulation's pod goes away.
    suite.stop("circulation").await.unwrap();
    eventually(Duration::from_secs(10), "the gateway turning NOT_SERVING", || async {
        (health(&suite, "gateway", "").await == Some(ServingStatus::NotServing)).then_some(())
    })
    .await;
    let (status, _, body) = ops(&suite, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let missing = line_of(&body, "gateway.upstream.circulation").expect("circulation's line");
    assert!(missing.starts_with("gateway.upstream.circulation: not ready (unreachable: "), "{missing}");
    for upstream in ["catalog", "notification", "reader"] {
        let check = format!("gateway.upstream.{upstream}");
        assert_eq!(line_of(&body, &check), Some(format!("{check}: ready").as_str()), "{body}");
    }
    // Alive all the same: the liveness probe must not restart the gateway,
    // and the other services stay ready.
    assert_eq!(health(&suite, "gateway", "liveness").await, Some(ServingStatus::Serving));
    assert_eq!(health(&suite, "catalog", "").await, Some(ServingStatus::Serving));

    // Back: ready again, without restarting the gateway.
    suite.restart("circulation").await.unwrap();
    eventually(Duration::from_secs(10), "the gateway SERVING again", || async {
        (health(&suite, "gateway", "").await == Some(ServingStatus::Serving)).then_some(())
    })
    .await;
    let body = eventually(Duration::from_secs(10), "/readyz 200 again", || async {
        let (status, _, body) = ops(&suite, "/readyz").await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(
        line_of(&body, "gateway.upstream.circulation"),
        Some("gateway.upstream.circulation: ready"),
        "{body}"
    );
    suite.shutdown().await.unwrap();
}

/// The catalog's PostgreSQL database stops taking connections (and drops
/// the ones it had): the catalog turns not ready and says why, then ready
/// again once the database is back. (SQLite: the check's unit test in
/// `lectern_common::db::ready`.)
#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "PostgreSQL only: set LECTERN_TEST_DATABASE_URL")]
async fn a_service_whose_database_goes_away_turns_not_ready_until_it_is_back() {
    use diesel::Connection as _;
    use diesel::connection::SimpleConnection as _;

    let (suite, databases) = start().await;
    let server = lectern_common::testing::postgres_server_url().expect("LECTERN_TEST_DATABASE_URL");
    let catalog_db = databases[1].url().rsplit('/').next().expect("a database name").to_owned();
    let admin = move |sql: String| {
        let server = server.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut connection = diesel::PgConnection::establish(&server).expect("the test server");
                connection.batch_execute(&sql).expect("an admin statement");
            })
            .await
            .unwrap();
        }
    };
    assert_eq!(health(&suite, "catalog", "").await, Some(ServingStatus::Serving));

    admin(format!(
        "ALTER DATABASE {catalog_db} ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{catalog_db}'"
    ))
    .await;
    eventually(Duration::from_secs(10), "the catalog turning NOT_SERVING", || async {
        (health(&suite, "catalog", "").await == Some(ServingStatus::NotServing)).then_some(())
    })
    .await;
    let (status, _, body) = ops(&suite, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let line = line_of(&body, "catalog.database").expect("the catalog's database line");
    assert!(line.starts_with("catalog.database: not ready ("), "{line}");
    assert_eq!(health(&suite, "catalog", "liveness").await, Some(ServingStatus::Serving));
    assert_eq!(health(&suite, "circulation", "").await, Some(ServingStatus::Serving));

    admin(format!("ALTER DATABASE {catalog_db} ALLOW_CONNECTIONS true")).await;
    eventually(Duration::from_secs(10), "the catalog SERVING again", || async {
        (health(&suite, "catalog", "").await == Some(ServingStatus::Serving)).then_some(())
    })
    .await;
    let (status, _, body) = ops(&suite, "/readyz").await;
    assert_eq!(line_of(&body, "catalog.database"), Some("catalog.database: ready"), "{status} {body}");
    suite.shutdown().await.unwrap();
}
