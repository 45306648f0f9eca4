//! The standalone `lectern-reader` binary as Kubernetes runs it: configured
//! only by environment variables, `migrate` as a job, `serve` printing the
//! first admin's one-time password once, answering health checks, and
//! stopping cleanly on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lectern_common::testing::TestDatabase;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const BINARY: &str = env!("CARGO_BIN_EXE_lectern-reader");

/// The loopback address in a log line such as `… "address":"Some(127.0.0.1:40431)" …`.
fn loopback_address(line: &str) -> Option<String> {
    let start = line.find("127.0.0.1:")?;
    let port: String = line[start + "127.0.0.1:".len()..].chars().take_while(char::is_ascii_digit).collect();
    (!port.is_empty()).then(|| format!("127.0.0.1:{port}"))
}

/// Kills the server if the test fails half-way, so no process outlives it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary listening on a port the kernel picks: nothing else can have
/// taken it between choosing and binding. The log says which.
fn command(database: &TestDatabase) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("LECTERN_DATABASE_URL", database.url())
        .env("LECTERN_LISTEN_ADDR", "127.0.0.1:0")
        .env("LECTERN_SERVICE_KEY", "binary-test-service-key")
        .env("LECTERN_LOG_FORMAT", "json")
        .env("LECTERN_SHUTDOWN_GRACE_MS", "1500");
    command
}

#[test]
fn migrate_then_serve_then_stop_on_sigterm() {
    // Empty: `migrate` is what this tests.
    let database = TestDatabase::create("binary");

    let migrate = command(&database).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "migrate failed: {}", String::from_utf8_lossy(&migrate.stderr));
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("migrations applied"));

    let mut server =
        KillOnDrop(command(&database).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap());
    let stdout = server.0.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    // The log line that says where it serves.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut output = Vec::new();
    let address = loop {
        let line = lines_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("lectern-reader never said where it serves: {output:?}"));
        let address = line.contains("serving gRPC").then(|| loopback_address(&line)).flatten();
        output.push(line);
        if let Some(address) = address {
            break address;
        }
    };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let serving = runtime.block_on(async {
        let channel =
            tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap().connect_lazy();
        let mut every = tokio::time::interval(Duration::from_millis(50));
        loop {
            every.tick().await;
            if let Ok(answer) =
                HealthClient::new(channel.clone()).check(HealthCheckRequest { service: String::new() }).await
            {
                break answer.into_inner().status;
            }
            assert!(Instant::now() < deadline, "lectern-reader never answered health checks");
        }
    });
    assert_eq!(serving, 1, "SERVING");

    while let Ok(line) = lines_rx.recv_timeout(Duration::from_millis(500)) {
        output.push(line);
        if output.iter().any(|line| line.contains("one-time password:")) {
            break;
        }
    }
    let announcements: Vec<&String> =
        output.iter().filter(|line| line.contains("one-time password:")).collect();
    assert_eq!(announcements.len(), 1, "the first admin's password is printed once: {output:?}");

    // The health client's connection stays open and its runtime is no longer
    // driven: a client that never answers the HTTP/2 goodbye. The server
    // must stop anyway, after its shutdown grace.
    let terminated = Command::new("kill").arg("-TERM").arg(server.0.id().to_string()).status().unwrap();
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "lectern-reader did not stop after SIGTERM");
        std::thread::park_timeout(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    let rest: Vec<String> = lines_rx.iter().collect();
    assert!(rest.iter().any(|line| line.contains("stopped")), "a clean stop is logged: {rest:?}");
}
