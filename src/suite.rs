//! The whole Lectern suite in one process: catalog, circulation, reader,
//! notification and the gateway, each a real gRPC server on its own loopback
//! port, talking to each other exactly as they do on Kubernetes. `lectern up`
//! runs it for one school on one PC; the suite tests run it on `127.0.0.1:0`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use lectern_common::outbox::RelayConfig;
use lectern_common::settings::ServiceSettings;
use lectern_core::clock::SharedClock;
use lectern_core::readiness::Readiness;
use lectern_core::server::ServeError;
use lectern_core::shutdown::Shutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The four services, in start order (identity first).
pub const SERVICES: [&str; 4] = ["reader", "catalog", "circulation", "notification"];

/// Where each service keeps its data.
#[derive(Debug, Clone)]
pub struct Databases {
    /// The reader service's database URL or SQLite path.
    pub reader: String,
    /// The catalog service's.
    pub catalog: String,
    /// The circulation service's.
    pub circulation: String,
    /// The notification service's.
    pub notification: String,
}

impl Databases {
    /// One SQLite file per service in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        let file = |name: &str| dir.join(format!("{name}.db")).display().to_string();
        Self {
            reader: file("reader"),
            catalog: file("catalog"),
            circulation: file("circulation"),
            notification: file("notification"),
        }
    }
}

/// How to run the suite.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// The services' databases.
    pub databases: Databases,
    /// Where the gateway listens.
    pub gateway_listen: SocketAddr,
    /// The district service key the services present to the reader service.
    pub service_key: String,
    /// The time source of every service.
    pub clock: SharedClock,
    /// Pacing of the event relays (circulation's and the reader service's).
    pub relay: RelayConfig,
    /// How often circulation anonymizes returned loans whose time has come.
    pub anonymize_interval: Duration,
    /// How often servers refetch the signed-out sessions.
    pub revocation_refresh: Duration,
    /// The gateway's HTTP edge (pages and the JSON API); its `listen` is
    /// where it listens, `None` for no HTTP.
    pub http: lectern_gateway::HttpConfig,
    /// The gateway's SIP2 edge; its `listen` and `tls_listen` are where it
    /// listens, `None` for none.
    pub sip2: lectern_gateway::Sip2Config,
    /// Deadlines of calls between the servers (the gateway's to the
    /// services, and the services' to each other).
    pub client: lectern_core::client::ClientConfig,
    /// How long an access token lasts.
    pub token_ttl: chrono::Duration,
    /// The notification service's channels, links and pacing.
    pub notification: NotificationOptions,
    /// The gateway's WeChat mini-program sign-in; not set up by default.
    pub wechat: lectern_gateway::WechatConfig,
    /// How often readiness checks run (each service's database, the
    /// gateway's upstreams).
    pub readiness_interval: Duration,
    /// Where the ops port (`/metrics`, `/livez`, `/readyz`) listens; `None`
    /// for none.
    pub metrics_listen: Option<SocketAddr>,
}

/// How the notification service sends reminders in the suite.
#[derive(Debug, Clone)]
pub struct NotificationOptions {
    /// The district's SMTP relay and webhook; nothing configured by default.
    pub channels: lectern_notification::ChannelConfig,
    /// Where readers' browsers reach Lectern (the unsubscribe link);
    /// `None`: the gateway's HTTP address.
    pub public_url: Option<String>,
    /// How often the planner and the sender run when nothing wakes them.
    pub reminder_interval: Duration,
    pub sender_interval: Duration,
}

impl Default for NotificationOptions {
    fn default() -> Self {
        Self {
            channels: lectern_notification::ChannelConfig::default(),
            public_url: None,
            reminder_interval: Duration::from_secs(300),
            sender_interval: Duration::from_secs(30),
        }
    }
}

impl SuiteConfig {
    /// Defaults for `databases`, with the gateway on `gateway_listen`.
    pub fn new(databases: Databases, gateway_listen: SocketAddr, service_key: String) -> Self {
        Self {
            databases,
            gateway_listen,
            service_key,
            clock: lectern_core::clock::system(),
            relay: RelayConfig::default(),
            anonymize_interval: Duration::from_secs(3600),
            revocation_refresh: lectern_core::config::DEFAULT_REVOCATION_REFRESH,
            http: lectern_gateway::HttpConfig {
                listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
                ..lectern_gateway::HttpConfig::default()
            },
            sip2: lectern_gateway::Sip2Config {
                listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
                ..lectern_gateway::Sip2Config::default()
            },
            client: lectern_core::client::ClientConfig::default(),
            token_ttl: chrono::Duration::seconds(3600),
            notification: NotificationOptions::default(),
            wechat: lectern_gateway::WechatConfig::default(),
            readiness_interval: lectern_core::readiness::DEFAULT_INTERVAL,
            metrics_listen: None,
        }
    }
}

type Starter = Arc<dyn Fn(TcpListener, Shutdown) -> BoxFuture<'static, Result<(), ServeError>> + Send + Sync>;

struct Running {
    /// The server's socket, bound for the life of the suite (see
    /// [`Suite::restart`]); each run of the server listens on a clone.
    listener: std::net::TcpListener,
    address: SocketAddr,
    starter: Starter,
    shutdown: Shutdown,
    handle: Option<JoinHandle<Result<(), ServeError>>>,
    /// While the server is stopped: what turns its callers away.
    door: Option<ClosedDoor>,
}

/// A running suite.
pub struct Suite {
    servers: BTreeMap<&'static str, Running>,
    /// Where the gateway's HTTP edge listens, if it does.
    http_address: Option<SocketAddr>,
    /// Where the gateway's SIP2 edge listens, plain and TLS, if it does.
    sip2_address: Option<SocketAddr>,
    sip2_tls_address: Option<SocketAddr>,
    /// The first district admin, if this start created it.
    pub first_admin: Option<lectern_reader::FirstAdmin>,
    /// The readiness every server in the suite shares.
    readiness: Readiness,
    /// Where the ops port listens, and its task, if there is one.
    metrics_address: Option<SocketAddr>,
    ops: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Suite")
            .field("servers", &self.servers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn url(address: SocketAddr) -> String {
    format!("http://{address}")
}

/// Binds `address` (as tokio binds: address reuse, a queue of 1024) and
/// keeps the socket as a std listener, from which each run of a server
/// gets a clone.
async fn bind(address: SocketAddr) -> Result<std::net::TcpListener, ServeError> {
    TcpListener::bind(address)
        .await
        .and_then(TcpListener::into_std)
        .map_err(|error| ServeError::Startup(format!("cannot listen on {address}: {error}")))
}

/// Binds an edge's address, if it has one, and keeps the socket for the
/// life of the suite (a restarted gateway listens on a clone).
async fn kept(address: Option<SocketAddr>) -> Result<Option<Arc<std::net::TcpListener>>, ServeError> {
    match address {
        Some(address) => Ok(Some(Arc::new(bind(address).await?))),
        None => Ok(None),
    }
}

/// The address a kept listener is bound to.
fn local_addr(listener: &Option<Arc<std::net::TcpListener>>) -> Result<Option<SocketAddr>, ServeError> {
    listener
        .as_deref()
        .map(std::net::TcpListener::local_addr)
        .transpose()
        .map_err(|error| ServeError::Startup(error.to_string()))
}

/// A listener on the kept socket for one run of a server.
fn clone_of(listener: &std::net::TcpListener) -> Result<TcpListener, ServeError> {
    // `into_std` left the socket non-blocking, and a clone shares that.
    listener
        .try_clone()
        .and_then(TcpListener::from_std)
        .map_err(|error| ServeError::Startup(format!("cannot listen again: {error}")))
}

/// Turns callers away at once while a server is stopped, on the socket the
/// suite keeps. A bound socket nobody accepts on would still complete
/// their TCP handshakes into its queue, and each call would wait for its
/// deadline (5 s) instead of failing as calls to a pod that has gone do;
/// so this accepts each connection and closes it straight away, which
/// callers see as UNAVAILABLE at once. Connections that come while it is
/// being replaced wait in the queue for the restarted server.
struct ClosedDoor {
    open: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl ClosedDoor {
    fn close(listener: &std::net::TcpListener) -> Result<Self, ServeError> {
        let listener = clone_of(listener)?;
        let (open, mut opened) = oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut opened => return,
                    accepted = listener.accept() => drop(accepted),
                }
            }
        });
        Ok(Self { open, task })
    }

    /// Stops turning callers away, once no connection can reach it any more.
    async fn open(self) {
        let _ = self.open.send(());
        let _ = self.task.await;
    }
}

impl Suite {
    /// Migrates every database, creates the first admin if there is none,
    /// and starts every server. Returns once all of them answer health checks.
    pub async fn start(config: SuiteConfig) -> Result<Self, ServeError> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let mut listeners = BTreeMap::new();
        for name in SERVICES {
            listeners.insert(name, bind(loopback).await?);
        }
        let gateway_listener = bind(config.gateway_listen).await?;
        // Kept, like the others, for the life of the suite: a restarted
        // gateway listens on a clone.
        let http_listener = match config.http.listen {
            Some(address) => Some(Arc::new(bind(address).await?)),
            None => None,
        };
        let http_address = match &http_listener {
            Some(listener) => {
                Some(listener.local_addr().map_err(|error| ServeError::Startup(error.to_string()))?)
            }
            None => None,
        };
        let sip2_listener = kept(config.sip2.listen).await?;
        let sip2_tls_listener = kept(config.sip2.tls_listen).await?;
        let (sip2_address, sip2_tls_address) = (local_addr(&sip2_listener)?, local_addr(&sip2_tls_listener)?);
        let address_of = |name: &str| -> Result<SocketAddr, ServeError> {
            listeners
                .get(name)
                .and_then(|listener| listener.local_addr().ok())
                .ok_or_else(|| ServeError::Startup(format!("no listener for {name}")))
        };
        let reader_url = url(address_of("reader")?);
        let catalog_url = url(address_of("catalog")?);
        let circulation_url = url(address_of("circulation")?);
        let notification_url = url(address_of("notification")?);
        // One process, one readiness: `/readyz` lists every server's checks,
        // and each server's health follows its own.
        let readiness = Readiness::default();
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(lectern_core::ops::bind(address).await?),
            None => None,
        };
        let settings = |database: &str| {
            let mut settings = ServiceSettings::local(database, &reader_url, config.clock.clone());
            settings.revocation_refresh = config.revocation_refresh;
            settings.client = config.client.clone();
            settings.readiness = readiness.clone();
            settings.readiness_interval = config.readiness_interval;
            settings
        };

        let mut reader =
            lectern_reader::Config::local(settings(&config.databases.reader), &config.service_key);
        reader.circulation_url = circulation_url.clone();
        reader.notification_url = notification_url.clone();
        reader.relay = config.relay.clone();
        reader.token_ttl = config.token_ttl;
        let first_admin = lectern_reader::bootstrap_first_admin(&reader).await?;
        let catalog = lectern_catalog::Config::local(settings(&config.databases.catalog));
        let mut circulation = lectern_circulation::Config::local(
            settings(&config.databases.circulation),
            &catalog_url,
            &notification_url,
            &config.service_key,
        );
        circulation.relay = config.relay.clone();
        circulation.anonymize_interval = config.anonymize_interval;
        let mut notification = lectern_notification::Config::local(
            settings(&config.databases.notification),
            &circulation_url,
            &config.service_key,
        );
        notification.channels = config.notification.channels.clone();
        notification.reminder_interval = config.notification.reminder_interval;
        notification.sender_interval = config.notification.sender_interval;
        match (&config.notification.public_url, http_address) {
            (Some(public_url), _) => notification.public_url = public_url.trim_end_matches('/').to_owned(),
            (None, Some(address)) => notification.public_url = url(address),
            (None, None) => {}
        }
        let gateway = lectern_gateway::Config {
            listen: config.gateway_listen,
            reader_url: reader_url.clone(),
            catalog_url,
            circulation_url,
            notification_url,
            client: config.client.clone(),
            drain_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(10),
            revocation_refresh: config.revocation_refresh,
            http: config.http.clone(),
            sip2: config.sip2.clone(),
            wechat: config.wechat.clone(),
            service_key: Some(lectern_gateway::Secret::new(config.service_key.clone())),
            clock: config.clock.clone(),
            readiness: readiness.clone(),
            readiness_interval: config.readiness_interval,
        };

        let mut starters: BTreeMap<&'static str, Starter> = BTreeMap::new();
        starters.insert(
            "reader",
            Arc::new(move |listener, shutdown| {
                Box::pin(lectern_reader::serve(reader.clone(), listener, shutdown))
            }),
        );
        starters.insert(
            "catalog",
            Arc::new(move |listener, shutdown| {
                Box::pin(lectern_catalog::serve(catalog.clone(), listener, shutdown))
            }),
        );
        starters.insert(
            "circulation",
            Arc::new(move |listener, shutdown| {
                Box::pin(lectern_circulation::serve(circulation.clone(), listener, shutdown))
            }),
        );
        starters.insert(
            "notification",
            Arc::new(move |listener, shutdown| {
                Box::pin(lectern_notification::serve(notification.clone(), listener, shutdown))
            }),
        );
        starters.insert(
            "gateway",
            Arc::new(move |listener, shutdown| {
                let gateway = gateway.clone();
                let http = http_listener.as_deref().map(clone_of).transpose();
                let sip2 = sip2_listener.as_deref().map(clone_of).transpose();
                let sip2_tls = sip2_tls_listener.as_deref().map(clone_of).transpose();
                Box::pin(async move {
                    let listeners = lectern_gateway::Listeners {
                        grpc: listener,
                        http: http?,
                        sip2: sip2?,
                        sip2_tls: sip2_tls?,
                    };
                    lectern_gateway::serve_with(gateway, listeners, shutdown).await
                })
            }),
        );
        listeners.insert("gateway", gateway_listener);

        let metrics_address = match &metrics_listener {
            Some(listener) => {
                Some(listener.local_addr().map_err(|error| ServeError::Startup(error.to_string()))?)
            }
            None => None,
        };
        let ops = metrics_listener.map(|listener| {
            let readiness = readiness.clone();
            tokio::spawn(async move {
                if let Err(error) =
                    lectern_core::ops::serve(listener, readiness, std::future::pending()).await
                {
                    tracing::error!(%error, "the ops port failed");
                }
            })
        });
        let mut suite = Self {
            servers: BTreeMap::new(),
            http_address,
            sip2_address,
            sip2_tls_address,
            first_admin,
            readiness,
            metrics_address,
            ops,
        };
        for (name, listener) in listeners {
            let starter = starters
                .remove(name)
                .ok_or_else(|| ServeError::Startup(format!("no server named {name}")))?;
            let address = listener.local_addr().map_err(|error| ServeError::Startup(error.to_string()))?;
            let shutdown = Shutdown::new();
            let handle = tokio::spawn(starter(clone_of(&listener)?, shutdown.clone()));
            let running = Running { listener, address, starter, shutdown, handle: Some(handle), door: None };
            suite.servers.insert(name, running);
        }
        suite.wait_ready(Duration::from_secs(60)).await?;
        Ok(suite)
    }

    /// The gateway's address.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.address("gateway").unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The gateway's URL, e.g. `http://127.0.0.1:50051`.
    pub fn gateway_url(&self) -> String {
        url(self.gateway_addr())
    }

    /// Where the gateway's HTTP edge listens, if it does.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_address
    }

    /// The HTTP edge's URL, e.g. `http://127.0.0.1:8080` (`https` when it
    /// has a certificate), if it listens.
    pub fn http_url(&self, https: bool) -> Option<String> {
        let scheme = if https { "https" } else { "http" };
        self.http_address.map(|address| format!("{scheme}://{address}"))
    }

    /// Where the gateway's SIP2 edge listens for plain TCP, if it does.
    pub fn sip2_addr(&self) -> Option<SocketAddr> {
        self.sip2_address
    }

    /// Where the gateway's SIP2 edge listens for TLS, if it does.
    pub fn sip2_tls_addr(&self) -> Option<SocketAddr> {
        self.sip2_tls_address
    }

    /// Where the ops port (`/metrics`, `/livez`, `/readyz`) listens, if it does.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_address
    }

    /// The readiness every server in the suite shares.
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// The address of one server ("reader", ..., "gateway").
    pub fn address(&self, name: &str) -> Option<SocketAddr> {
        self.servers.get(name).map(|running| running.address)
    }

    /// Waits until every server answers its health check with SERVING.
    pub async fn wait_ready(&self, within: Duration) -> Result<(), ServeError> {
        let deadline = Instant::now() + within;
        for (name, running) in &self.servers {
            if running.handle.is_none() {
                continue;
            }
            wait_serving(name, running.address, deadline).await?;
        }
        Ok(())
    }

    /// Stops one server (as if its pod went away) and waits for it to end.
    /// Its callers are turned away at once until it is restarted.
    pub async fn stop(&mut self, name: &str) -> Result<(), ServeError> {
        let running = self
            .servers
            .get_mut(name)
            .ok_or_else(|| ServeError::Startup(format!("no server named {name}")))?;
        running.shutdown.trigger();
        if let Some(handle) = running.handle.take() {
            join(name, handle).await?;
            running.door = Some(ClosedDoor::close(&running.listener)?);
        }
        Ok(())
    }

    /// Starts a stopped server again on its old address. The suite kept
    /// the socket bound meanwhile, so nothing else can have taken the port
    /// (binding the address again after the stop could find it taken).
    pub async fn restart(&mut self, name: &str) -> Result<(), ServeError> {
        let running = self
            .servers
            .get_mut(name)
            .ok_or_else(|| ServeError::Startup(format!("no server named {name}")))?;
        if running.handle.is_some() {
            return Ok(());
        }
        if let Some(door) = running.door.take() {
            door.open().await;
        }
        running.shutdown = Shutdown::new();
        let listener = clone_of(&running.listener)?;
        running.handle = Some(tokio::spawn((running.starter)(listener, running.shutdown.clone())));
        let deadline = Instant::now() + Duration::from_secs(30);
        wait_serving(name, running.address, deadline).await
    }

    /// Stops everything: the gateway first, then the services, each draining
    /// its calls in flight.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        let mut order = vec!["gateway"];
        order.extend(SERVICES.iter().rev());
        let mut first_error = None;
        for name in order {
            if let Err(error) = self.stop(name).await {
                first_error.get_or_insert(error);
            }
        }
        // Last: the ops port shows the servers draining.
        if let Some(ops) = self.ops.take() {
            ops.abort();
        }
        first_error.map_or(Ok(()), Err)
    }
}

async fn join(name: &str, handle: JoinHandle<Result<(), ServeError>>) -> Result<(), ServeError> {
    match handle.await {
        Ok(result) => result,
        Err(error) => Err(ServeError::Startup(format!("{name} server task failed: {error}"))),
    }
}

/// Polls a server's `grpc.health.v1` check until it says SERVING.
async fn wait_serving(name: &str, address: SocketAddr, deadline: Instant) -> Result<(), ServeError> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let endpoint = tonic::transport::Endpoint::from_shared(url(address))
        .map_err(|error| ServeError::Startup(error.to_string()))?
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(2));
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        if let Ok(channel) = endpoint.connect().await {
            let mut client = HealthClient::new(channel);
            match client.check(HealthCheckRequest { service: String::new() }).await {
                Ok(response) if response.get_ref().status == ServingStatus::Serving as i32 => return Ok(()),
                Ok(response) => last = format!("status {}", response.get_ref().status),
                Err(status) => last = status.message().to_owned(),
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(ServeError::Startup(format!("{name} did not become ready at {address}: {last}")))
}
