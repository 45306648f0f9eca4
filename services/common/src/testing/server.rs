//! Servers under test, as tonic's own tests run them: bound to
//! `127.0.0.1:0` before they start, so the port is the test's from the
//! first moment and no two tests ever race for one; handed the bound
//! listener; reached through channels that connect on first use, so
//! nothing depends on which server started first; stopped with their
//! shutdown signal. A test that needs a server to come up later takes a
//! [`ReservedPort`] first.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

/// How long a server under test may take to answer its health check.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// A channel to the server at `address` that connects on first use (and
/// again after the connection was lost).
pub fn lazy_channel(address: SocketAddr) -> Channel {
    match Endpoint::from_shared(format!("http://{address}")) {
        Ok(endpoint) => endpoint.connect_lazy(),
        Err(error) => panic!("{address} makes no URL: {error}"),
    }
}

/// A loopback port that is the test's before anything listens on it:
/// calls to it are refused, as calls to a server that is down are, and
/// nobody can take it meanwhile (the socket is bound, without address
/// reuse) — unlike a port picked, let go and bound again later.
#[derive(Debug)]
pub struct ReservedPort {
    socket: TcpSocket,
    address: SocketAddr,
}

impl ReservedPort {
    /// A port the kernel picks.
    pub fn new() -> Self {
        let socket = TcpSocket::new_v4().unwrap_or_else(|error| panic!("no socket: {error}"));
        socket
            .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .unwrap_or_else(|error| panic!("cannot bind a loopback port: {error}"));
        let address = socket.local_addr().unwrap_or_else(|error| panic!("no local address: {error}"));
        Self { socket, address }
    }

    /// Where a server will listen.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Starts listening: from now on connections wait for the server.
    pub fn listen(self) -> TcpListener {
        self.socket.listen(1024).unwrap_or_else(|error| panic!("cannot listen on {}: {error}", self.address))
    }
}

impl Default for ReservedPort {
    fn default() -> Self {
        Self::new()
    }
}

/// A server running on a loopback port of its own for one test.
pub struct TestServer {
    address: SocketAddr,
    channel: Channel,
    shutdown: Shutdown,
    task: JoinHandle<Result<(), ServeError>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("TestServer").field("address", &self.address).finish_non_exhaustive()
    }
}

impl TestServer {
    /// Binds a loopback port and runs `serve` with the listener and the
    /// shutdown signal (a service crate's `serve(config, listener,
    /// shutdown)`) on the current runtime. Returns at once: calls made
    /// before the server accepts wait for it in the listener's queue.
    pub fn start<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: Future<Output = Result<(), ServeError>> + Send + 'static,
    {
        Self::start_on(ReservedPort::new().listen(), serve)
    }

    /// [`TestServer::start`] on a listener the test has already (that of a
    /// [`ReservedPort`]).
    pub fn start_on<F, Fut>(listener: TcpListener, serve: F) -> Self
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: Future<Output = Result<(), ServeError>> + Send + 'static,
    {
        let address = listener.local_addr().unwrap_or_else(|error| panic!("no local address: {error}"));
        let shutdown = Shutdown::new();
        let task = tokio::spawn(serve(listener, shutdown.clone()));
        Self { address, channel: lazy_channel(address), shutdown, task }
    }

    /// Where the server listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A channel to the server (they share one connection).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Waits, with a deadline, until the server's `grpc.health.v1` check
    /// answers SERVING; fails the test if the server stopped instead.
    pub async fn wait_serving(&self) {
        use tonic_health::pb::HealthCheckRequest;
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::health_client::HealthClient;

        let deadline = Instant::now() + READY_WITHIN;
        let mut every = tokio::time::interval(Duration::from_millis(20));
        loop {
            every.tick().await;
            let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
            request.set_timeout(Duration::from_secs(2));
            let answer = HealthClient::new(self.channel()).check(request).await;
            if answer.is_ok_and(|answer| answer.get_ref().status == ServingStatus::Serving as i32) {
                return;
            }
            assert!(!self.task.is_finished(), "the server at {} stopped before it served", self.address);
            assert!(Instant::now() < deadline, "the server at {} never answered", self.address);
        }
    }

    /// Stops the server and fails the test unless it ends cleanly.
    pub async fn stop(self) {
        self.shutdown.trigger();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => panic!("the server at {} failed: {error}", self.address),
            Err(error) => panic!("the server task at {} failed: {error}", self.address),
        }
    }
}
