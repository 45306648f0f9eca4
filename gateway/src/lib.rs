//! The gateway: the one address desks, kiosks, phones and other school
//! systems talk to. It holds no data. It verifies the bearer token of every
//! call, checks that the caller's role may call the method at all
//! ([`authz`]), and forwards the call to the service that owns it
//! ([`forward`]); calls that only make sense at the edge (sign-in, "who am
//! I") are its own ([`grpc`]). Each service checks the caller again, on its
//! own data.

pub mod authz;
mod config;
pub mod forward;
mod grpc;
pub mod http;
pub mod pages;
pub mod ready;
pub mod sip2;
pub mod wechat;

use lectern_core::client::channel;
use lectern_core::identity::{AuthLayer, PublicMethods, ServiceTokens, TokenSource, remote_verifier};
use lectern_core::server::{ServeError, ServeOptions};
use lectern_core::shutdown::Shutdown;
use lectern_proto::gateway::v1::gateway_service_server::GatewayServiceServer;
use lectern_proto::reader::v1::family_service_client::FamilyServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use tokio::net::TcpListener;
use tonic::service::Routes;

pub use config::{Config, HttpConfig, Secret, Sip2Config, TlsFiles, WECHAT_API_BASE, WechatConfig};

/// Where the gateway listens.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC.
    pub grpc: TcpListener,
    /// The HTTP edge (pages, JSON API); `None` serves none.
    pub http: Option<TcpListener>,
    /// SIP2 for self-check machines over plain TCP; `None` serves none.
    pub sip2: Option<TcpListener>,
    /// SIP2 over TLS (with `Sip2Config::tls`); `None` serves none.
    pub sip2_tls: Option<TcpListener>,
}

/// Binds `address` for the edge called `what`, if there is one.
async fn bind_edge(
    address: Option<std::net::SocketAddr>,
    what: &str,
) -> Result<Option<TcpListener>, ServeError> {
    match address {
        Some(address) => TcpListener::bind(address)
            .await
            .map(Some)
            .map_err(|error| ServeError::Startup(format!("cannot listen on {address} ({what}): {error}"))),
        None => Ok(None),
    }
}

/// Serves the gateway on `listener` (gRPC) and on the configured HTTP
/// address until `shutdown` fires.
pub async fn serve(config: Config, listener: TcpListener, shutdown: Shutdown) -> Result<(), ServeError> {
    let http = bind_edge(config.http.listen, "HTTP").await?;
    let sip2 = bind_edge(config.sip2.listen, "SIP2").await?;
    let sip2_tls = bind_edge(config.sip2.tls_listen, "SIP2 over TLS").await?;
    serve_with(config, Listeners { grpc: listener, http, sip2, sip2_tls }, shutdown).await
}

/// Serves the gateway on already-bound `listeners` until `shutdown` fires.
pub async fn serve_with(config: Config, listeners: Listeners, shutdown: Shutdown) -> Result<(), ServeError> {
    let reader = channel("LECTERN_READER_URL", &config.reader_url, &config.client)?;
    let catalog = channel("LECTERN_CATALOG_URL", &config.catalog_url, &config.client)?;
    let circulation = channel("LECTERN_CIRCULATION_URL", &config.circulation_url, &config.client)?;
    let notification = channel("LECTERN_NOTIFICATION_URL", &config.notification_url, &config.client)?;
    let upstreams = [
        ("catalog", &catalog),
        ("circulation", &circulation),
        ("reader", &reader),
        ("notification", &notification),
    ];
    for (upstream, channel) in upstreams {
        let (readiness, interval) = (config.readiness.clone(), config.readiness_interval);
        ready::watch(upstream, channel.clone(), readiness, interval, shutdown.wait());
    }

    let forwarder = forward::Forwarder::new()
        .route("lectern.reader.v1.ReaderService", "reader", reader.clone())
        .route("lectern.reader.v1.IdentityService", "reader", reader.clone())
        .route("lectern.reader.v1.AuditService", "reader", reader.clone())
        .route("lectern.reader.v1.ReaderProfileService", "reader", reader.clone())
        .route("lectern.reader.v1.SchoolYearService", "reader", reader.clone())
        .route("lectern.reader.v1.RosterService", "reader", reader.clone())
        .route("lectern.reader.v1.FamilyService", "reader", reader.clone())
        .route("lectern.catalog.v1.CatalogService", "catalog", catalog.clone())
        .route("lectern.catalog.v1.CollectionService", "catalog", catalog.clone())
        .route("lectern.catalog.v1.StocktakeService", "catalog", catalog.clone())
        .route("lectern.catalog.v1.MarcService", "catalog", catalog.clone())
        .route("lectern.catalog.v1.DiscoveryService", "catalog", catalog)
        .route("lectern.circulation.v1.LoanService", "circulation", circulation.clone())
        .route("lectern.circulation.v1.HoldService", "circulation", circulation.clone())
        .route("lectern.circulation.v1.FeeService", "circulation", circulation.clone())
        .route("lectern.circulation.v1.CirculationRuleService", "circulation", circulation.clone())
        .route("lectern.circulation.v1.SchoolCalendarService", "circulation", circulation)
        .route("lectern.notification.v1.NotificationService", "notification", notification.clone())
        .route("lectern.notification.v1.ReminderService", "notification", notification);
    let mut services = vec!["lectern.gateway.v1.GatewayService"];
    services.extend(forwarder.services());
    let public = PublicMethods::new(authz::public_methods());

    let verifier = remote_verifier(reader.clone(), config.revocation_refresh, config.clock.clone());
    let code2session = wechat::Code2Session::new(&config.wechat)
        .map_err(|error| ServeError::Startup(format!("cannot set up the WeChat client: {error}")))?;
    // The gateway signs in as a service only for what it vouches for
    // itself: the openid of a WeChat sign-in.
    let tokens = config.service_key.as_ref().map(|key| -> std::sync::Arc<dyn TokenSource> {
        ServiceTokens::new(reader.clone(), "gateway", key.expose(), config.clock.clone())
    });
    let gateway = grpc::Gateway {
        identity: IdentityServiceClient::new(reader.clone()),
        call_timeout: config.client.call_timeout,
        clock: config.clock.clone(),
        wechat: wechat::WechatSignIn {
            code2session,
            tokens,
            family: FamilyServiceClient::new(reader.clone()),
            call_timeout: config.client.call_timeout,
        },
    };
    // Calls to the gateway's own service are routed first; anything else
    // falls through to the forwarder.
    let mut routes = Routes::new(GatewayServiceServer::new(gateway));
    let forwarder =
        tower::ServiceExt::map_request(forwarder, |request: ::http::Request<axum::body::Body>| {
            request.map(tonic::body::Body::new)
        });
    let router = std::mem::take(routes.axum_router_mut()).fallback_service(forwarder);
    let routes = Routes::from(router);

    // The HTTP and SIP2 edges call the same routes behind the same
    // authentication as gRPC clients, in process.
    let calls = http::call::Calls::new(
        tower::ServiceBuilder::new()
            .layer(AuthLayer::new(verifier.clone(), public.clone()))
            .service(routes.clone()),
    );
    let mut sip2_edges = Vec::new();
    if let Some(listener) = listeners.sip2 {
        let edge = sip2::Edge::new(calls.clone(), config.sip2.clone(), config.clock.clone());
        sip2_edges.push(tokio::spawn(edge.serve(listener, None, shutdown.clone())));
    }
    if let Some(listener) = listeners.sip2_tls {
        let files = config.sip2.tls.as_ref().ok_or_else(|| {
            ServeError::Startup("SIP2 over TLS needs a certificate (LECTERN_SIP2_TLS_CERT_FILE)".to_owned())
        })?;
        let tls = http::server::tls_config(files)?;
        let edge = sip2::Edge::new(calls.clone(), config.sip2.clone(), config.clock.clone());
        sip2_edges.push(tokio::spawn(edge.serve(listener, Some(tls), shutdown.clone())));
    }
    let http = match listeners.http {
        Some(listener) => {
            let calls = calls.clone();
            let tls = config.http.tls.as_ref().map(http::server::tls_config).transpose()?;
            let edge = http::Edge::new(
                calls,
                &services,
                verifier.clone(),
                config.http.clone(),
                config.client.call_timeout,
                config.clock.clone(),
            );
            let mut pages = pages::router();
            if let Some(folder) = &config.wechat.verification_files {
                let files = wechat::verification::VerificationFiles::new(folder.clone());
                pages = pages.layer(axum::middleware::from_fn_with_state(files, wechat::verification::serve));
            }
            let app = http::router(edge, pages);
            let shutdown = shutdown.clone();
            let grace = config.drain_delay + config.shutdown_grace;
            Some(tokio::spawn(async move {
                http::server::serve(listener, app, tls, shutdown.wait(), grace).await
            }))
        }
        None => None,
    };

    let options = ServeOptions {
        name: "gateway",
        services,
        verifier,
        public,
        drain_delay: config.drain_delay,
        shutdown_grace: config.shutdown_grace,
        readiness: config.readiness.clone(),
    };
    let grpc = lectern_core::server::serve(listeners.grpc, routes, options, shutdown.wait()).await;
    if let Some(http) = http {
        match http.await {
            Ok(result) => result?,
            Err(error) => return Err(ServeError::Startup(format!("the HTTP edge failed: {error}"))),
        }
    }
    for edge in sip2_edges {
        match edge.await {
            Ok(result) => result?,
            Err(error) => return Err(ServeError::Startup(format!("the SIP2 edge failed: {error}"))),
        }
    }
    grpc
}
