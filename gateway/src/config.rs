//! The gateway's configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use lectern_core::client::ClientConfig;
use lectern_core::clock::SharedClock;
use lectern_core::config::{self, ConfigError, ports};
use lectern_core::process::ServerConfig;

/// How the gateway runs and where the services are.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where clients connect (`LECTERN_LISTEN_ADDR`, default `0.0.0.0:50051`).
    pub listen: SocketAddr,
    /// The reader service (`LECTERN_READER_URL`, default `http://127.0.0.1:50063`).
    pub reader_url: String,
    /// The catalog service (`LECTERN_CATALOG_URL`, default `http://127.0.0.1:50061`).
    pub catalog_url: String,
    /// The circulation service (`LECTERN_CIRCULATION_URL`, default `http://127.0.0.1:50062`).
    pub circulation_url: String,
    /// The notification service (`LECTERN_NOTIFICATION_URL`, default `http://127.0.0.1:50064`).
    pub notification_url: String,
    /// Timeouts of calls to the services (`LECTERN_CONNECT_TIMEOUT_MS`, `LECTERN_CALL_TIMEOUT_MS`).
    pub client: ClientConfig,
    /// Pause between turning not-ready and closing on shutdown (`LECTERN_DRAIN_DELAY_MS`).
    pub drain_delay: Duration,
    /// How long draining may take before open calls are cut (`LECTERN_SHUTDOWN_GRACE_MS`).
    pub shutdown_grace: Duration,
    /// How old the list of signed-out sessions may get before it is
    /// fetched again (`LECTERN_REVOCATION_REFRESH_MS`, default 5000).
    pub revocation_refresh: Duration,
    /// The HTTP edge: pages and the JSON API.
    pub http: HttpConfig,
    /// The time source.
    pub clock: SharedClock,
}

/// The HTTP edge's settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Where browsers, kiosks and phones connect (`LECTERN_HTTP_LISTEN`,
    /// default `0.0.0.0:8080`; `off` serves no HTTP).
    pub listen: Option<SocketAddr>,
    /// HTTPS with this certificate chain and key (PEM files,
    /// `LECTERN_TLS_CERT_FILE` and `LECTERN_TLS_KEY_FILE`, both or neither).
    /// Without them the edge speaks plain HTTP: right on loopback and
    /// behind a district's ingress that ends TLS.
    pub tls: Option<TlsFiles>,
    /// Whether browsers reach Lectern over HTTPS, so cookies are marked
    /// `Secure` (`LECTERN_HTTP_SECURE_COOKIES`, default: true when `tls`
    /// is set; set it to true behind an ingress that ends TLS).
    pub secure_cookies: bool,
    /// A signed-in browser's token is renewed when it has less than this
    /// left (`LECTERN_SESSION_RENEW_MARGIN_SECS`, default 300).
    pub renew_margin: Duration,
    /// The largest JSON request body (`LECTERN_HTTP_BODY_LIMIT_BYTES`,
    /// default 1 MiB).
    pub body_limit: usize,
    /// The largest uploaded file, a MARC file or a roster
    /// (`LECTERN_HTTP_UPLOAD_LIMIT_BYTES`, default 512 MiB).
    pub upload_limit: usize,
    /// The time zone pages show times in (`LECTERN_TIME_ZONE`, default
    /// `Asia/Shanghai`).
    pub time_zone: chrono_tz::Tz,
}

/// A certificate chain and its private key, PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], ports::GATEWAY_HTTP))),
            tls: None,
            secure_cookies: false,
            renew_margin: Duration::from_secs(300),
            body_limit: 1 << 20,
            upload_limit: 512 << 20,
            time_zone: chrono_tz::Asia::Shanghai,
        }
    }
}

impl HttpConfig {
    /// Reads the `LECTERN_HTTP_…` and `LECTERN_TLS_…` variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        let listen = match config::optional_string("LECTERN_HTTP_LISTEN")? {
            Some(value) if value.eq_ignore_ascii_case("off") => None,
            _ => {
                Some(config::socket_addr("LECTERN_HTTP_LISTEN", &format!("0.0.0.0:{}", ports::GATEWAY_HTTP))?)
            }
        };
        let cert = config::optional_string("LECTERN_TLS_CERT_FILE")?;
        let key = config::optional_string("LECTERN_TLS_KEY_FILE")?;
        let tls = match (cert, key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert: cert.into(), key: key.into() }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError {
                    variable: "LECTERN_TLS_KEY_FILE".to_owned(),
                    problem: "is needed with LECTERN_TLS_CERT_FILE".to_owned(),
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError {
                    variable: "LECTERN_TLS_CERT_FILE".to_owned(),
                    problem: "is needed with LECTERN_TLS_KEY_FILE".to_owned(),
                });
            }
        };
        let defaults = Self::default();
        Ok(Self {
            listen,
            secure_cookies: config::parsed("LECTERN_HTTP_SECURE_COOKIES", tls.is_some())?,
            tls,
            renew_margin: config::seconds("LECTERN_SESSION_RENEW_MARGIN_SECS", defaults.renew_margin)?,
            body_limit: config::parsed("LECTERN_HTTP_BODY_LIMIT_BYTES", defaults.body_limit)?,
            upload_limit: config::parsed("LECTERN_HTTP_UPLOAD_LIMIT_BYTES", defaults.upload_limit)?,
            time_zone: config::time_zone("LECTERN_TIME_ZONE", defaults.time_zone)?,
        })
    }
}

fn local(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

impl ServerConfig for Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            listen: config::socket_addr("LECTERN_LISTEN_ADDR", &format!("0.0.0.0:{}", ports::GATEWAY))?,
            reader_url: config::string("LECTERN_READER_URL", &local(ports::READER))?,
            catalog_url: config::string("LECTERN_CATALOG_URL", &local(ports::CATALOG))?,
            circulation_url: config::string("LECTERN_CIRCULATION_URL", &local(ports::CIRCULATION))?,
            notification_url: config::string("LECTERN_NOTIFICATION_URL", &local(ports::NOTIFICATION))?,
            client: ClientConfig::from_env()?,
            drain_delay: config::millis("LECTERN_DRAIN_DELAY_MS", Duration::ZERO)?,
            shutdown_grace: config::millis("LECTERN_SHUTDOWN_GRACE_MS", Duration::from_secs(10))?,
            revocation_refresh: config::millis(
                "LECTERN_REVOCATION_REFRESH_MS",
                config::DEFAULT_REVOCATION_REFRESH,
            )?,
            http: HttpConfig::from_env()?,
            clock: lectern_core::clock::system(),
        })
    }

    fn listen_addr(&self) -> SocketAddr {
        self.listen
    }
}
