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
    /// The SIP2 edge for self-check machines.
    pub sip2: Sip2Config,
    /// WeChat mini-program sign-in.
    pub wechat: WechatConfig,
    /// The district service key with which the gateway signs in to the
    /// reader service for its own calls (WeChat sign-in) (`LECTERN_SERVICE_KEY`;
    /// without it, WeChat sign-in answers WECHAT_NOT_CONFIGURED).
    pub service_key: Option<Secret>,
    /// The time source.
    pub clock: SharedClock,
    /// The process's readiness (`lectern up` shares one among its servers).
    pub readiness: lectern_core::readiness::Readiness,
    /// How often each upstream service is checked
    /// (`LECTERN_READINESS_INTERVAL_MS`, default 5000).
    pub readiness_interval: Duration,
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
    /// A reader who leaves a kiosk untouched this long is signed out
    /// (`LECTERN_KIOSK_IDLE_SECS`, default 30, 3 to 3600): long enough to
    /// find the next book in a bag, short enough that the next child does
    /// not find them still signed in.
    pub kiosk_idle: Duration,
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
            kiosk_idle: Duration::from_secs(30),
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
        let tls = tls_files("LECTERN_TLS_CERT_FILE", "LECTERN_TLS_KEY_FILE")?;
        let defaults = Self::default();
        Ok(Self {
            listen,
            secure_cookies: config::parsed("LECTERN_HTTP_SECURE_COOKIES", tls.is_some())?,
            tls,
            renew_margin: config::seconds("LECTERN_SESSION_RENEW_MARGIN_SECS", defaults.renew_margin)?,
            body_limit: config::parsed("LECTERN_HTTP_BODY_LIMIT_BYTES", defaults.body_limit)?,
            upload_limit: config::parsed("LECTERN_HTTP_UPLOAD_LIMIT_BYTES", defaults.upload_limit)?,
            time_zone: config::time_zone("LECTERN_TIME_ZONE", defaults.time_zone)?,
            kiosk_idle: kiosk_idle()?,
        })
    }
}

/// The SIP2 edge's settings: where self-check machines connect, over
/// plain TCP and over TLS, and how long and how many connections may stay.
#[derive(Debug, Clone)]
pub struct Sip2Config {
    /// Plain TCP, for machines that cannot speak TLS
    /// (`LECTERN_SIP2_LISTEN`, e.g. `0.0.0.0:6001`; off unless set).
    pub listen: Option<SocketAddr>,
    /// TLS (`LECTERN_SIP2_TLS_LISTEN`, e.g. `0.0.0.0:6002`; off unless set),
    /// with `tls` as its certificate.
    pub tls_listen: Option<SocketAddr>,
    /// The certificate chain and key of the TLS port
    /// (`LECTERN_SIP2_TLS_CERT_FILE` and `LECTERN_SIP2_TLS_KEY_FILE`;
    /// without them, the HTTP edge's `LECTERN_TLS_CERT_FILE` and
    /// `LECTERN_TLS_KEY_FILE`).
    pub tls: Option<TlsFiles>,
    /// A connection that sends nothing for this long is closed
    /// (`LECTERN_SIP2_IDLE_TIMEOUT_SECS`, default 3600). Machines send a
    /// status message as a keep-alive every few minutes for hours on end.
    pub idle_timeout: Duration,
    /// A connection that has not logged in (93) by then is closed
    /// (`LECTERN_SIP2_LOGIN_TIMEOUT_SECS`, default 60).
    pub login_timeout: Duration,
    /// Connections one device may hold at once; a further login is
    /// refused (`LECTERN_SIP2_MAX_CONNECTIONS_PER_DEVICE`, default 4).
    pub max_connections_per_device: usize,
    /// Connections the edge holds at once, logged in or not; further ones
    /// are closed at once (`LECTERN_SIP2_MAX_CONNECTIONS`, default 1024).
    pub max_connections: usize,
    /// The machines' local time zone, in which SIP2 dates are written
    /// (`LECTERN_TIME_ZONE`, default `Asia/Shanghai`).
    pub time_zone: chrono_tz::Tz,
}

impl Default for Sip2Config {
    fn default() -> Self {
        Self {
            listen: None,
            tls_listen: None,
            tls: None,
            idle_timeout: Duration::from_secs(3600),
            login_timeout: Duration::from_secs(60),
            max_connections_per_device: 4,
            max_connections: 1024,
            time_zone: chrono_tz::Asia::Shanghai,
        }
    }
}

impl Sip2Config {
    /// Reads the `LECTERN_SIP2_…` variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let address = |variable: &str| -> Result<Option<SocketAddr>, ConfigError> {
            match config::optional_string(variable)? {
                None => Ok(None),
                Some(value) if value.eq_ignore_ascii_case("off") => Ok(None),
                Some(_) => config::socket_addr(variable, "").map(Some),
            }
        };
        let listen = address("LECTERN_SIP2_LISTEN")?;
        let tls_listen = address("LECTERN_SIP2_TLS_LISTEN")?;
        let tls = match tls_files("LECTERN_SIP2_TLS_CERT_FILE", "LECTERN_SIP2_TLS_KEY_FILE")? {
            Some(files) => Some(files),
            None => tls_files("LECTERN_TLS_CERT_FILE", "LECTERN_TLS_KEY_FILE")?,
        };
        if tls_listen.is_some() && tls.is_none() {
            return Err(ConfigError {
                variable: "LECTERN_SIP2_TLS_CERT_FILE".to_owned(),
                problem: "is needed with LECTERN_SIP2_TLS_LISTEN".to_owned(),
            });
        }
        Ok(Self {
            listen,
            tls_listen,
            tls,
            idle_timeout: config::seconds("LECTERN_SIP2_IDLE_TIMEOUT_SECS", defaults.idle_timeout)?,
            login_timeout: config::seconds("LECTERN_SIP2_LOGIN_TIMEOUT_SECS", defaults.login_timeout)?,
            max_connections_per_device: config::parsed(
                "LECTERN_SIP2_MAX_CONNECTIONS_PER_DEVICE",
                defaults.max_connections_per_device,
            )?,
            max_connections: config::parsed("LECTERN_SIP2_MAX_CONNECTIONS", defaults.max_connections)?,
            time_zone: config::time_zone("LECTERN_TIME_ZONE", defaults.time_zone)?,
        })
    }
}

/// A key or secret: shown as `<set>` in debug output, so a logged
/// configuration never carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("<set>")
    }
}

/// WeChat mini-program sign-in (`code2Session`, see `docs/mini-program.md`).
/// Sign-in works when both the app id and its secret are set.
#[derive(Debug, Clone)]
pub struct WechatConfig {
    /// WeChat's server API (`LECTERN_WECHAT_API_BASE`, default
    /// `https://api.weixin.qq.com`); tests point it at a stand-in.
    pub api_base: String,
    /// The mini-program's app id (`LECTERN_WECHAT_APP_ID`).
    pub app_id: Option<String>,
    /// The mini-program's app secret (`LECTERN_WECHAT_APP_SECRET`, or the
    /// first line of the file `LECTERN_WECHAT_APP_SECRET_FILE` names, e.g. a
    /// mounted Kubernetes secret).
    pub app_secret: Option<Secret>,
    /// How long WeChat may take to answer (`LECTERN_WECHAT_TIMEOUT_MS`,
    /// default 5000): the phone waits that long at most.
    pub timeout: Duration,
    /// A folder of WeChat's domain-verification files (`MP_verify_….txt`),
    /// served at the root of the HTTP edge for a `web-view`'s business
    /// domain (`LECTERN_WECHAT_VERIFY_FILES`; none served unless set).
    pub verification_files: Option<PathBuf>,
}

/// The default of `LECTERN_WECHAT_API_BASE`.
pub const WECHAT_API_BASE: &str = "https://api.weixin.qq.com";

impl Default for WechatConfig {
    fn default() -> Self {
        Self {
            api_base: WECHAT_API_BASE.to_owned(),
            app_id: None,
            app_secret: None,
            timeout: Duration::from_secs(5),
            verification_files: None,
        }
    }
}

impl WechatConfig {
    /// Reads the `LECTERN_WECHAT_…` variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let api_base = config::string("LECTERN_WECHAT_API_BASE", WECHAT_API_BASE)?;
        if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
            return Err(ConfigError {
                variable: "LECTERN_WECHAT_API_BASE".to_owned(),
                problem: format!("{api_base:?} is not an http:// or https:// address"),
            });
        }
        let secret = config::optional_string("LECTERN_WECHAT_APP_SECRET")?;
        let secret_file = config::optional_string("LECTERN_WECHAT_APP_SECRET_FILE")?;
        let app_secret = match (secret, secret_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError {
                    variable: "LECTERN_WECHAT_APP_SECRET_FILE".to_owned(),
                    problem: "set it or LECTERN_WECHAT_APP_SECRET, not both".to_owned(),
                });
            }
            (Some(secret), None) => Some(Secret::new(secret)),
            (None, Some(file)) => {
                Some(Secret::new(secret_from_file("LECTERN_WECHAT_APP_SECRET_FILE", &file)?))
            }
            (None, None) => None,
        };
        let timeout = config::millis("LECTERN_WECHAT_TIMEOUT_MS", defaults.timeout)?;
        if timeout.is_zero() {
            return Err(ConfigError {
                variable: "LECTERN_WECHAT_TIMEOUT_MS".to_owned(),
                problem: "must be more than 0".to_owned(),
            });
        }
        let verification_files = match config::optional_string("LECTERN_WECHAT_VERIFY_FILES")? {
            Some(folder) => {
                let folder = PathBuf::from(folder);
                if !folder.is_dir() {
                    return Err(ConfigError {
                        variable: "LECTERN_WECHAT_VERIFY_FILES".to_owned(),
                        problem: format!("{} is not a folder", folder.display()),
                    });
                }
                Some(folder)
            }
            None => None,
        };
        Ok(Self {
            api_base: api_base.trim_end_matches('/').to_owned(),
            app_id: config::optional_string("LECTERN_WECHAT_APP_ID")?,
            app_secret,
            timeout,
            verification_files,
        })
    }

    /// The app id and secret, when sign-in is set up.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match (self.app_id.as_deref(), self.app_secret.as_ref().map(Secret::expose)) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
            _ => None,
        }
    }
}

/// The first line of a secret file, trimmed.
fn secret_from_file(variable: &str, file: &str) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|error| ConfigError {
        variable: variable.to_owned(),
        problem: format!("cannot read {file}: {error}"),
    })?;
    let secret = text.lines().next().unwrap_or_default().trim().to_owned();
    if secret.is_empty() {
        return Err(ConfigError { variable: variable.to_owned(), problem: format!("{file} is empty") });
    }
    Ok(secret)
}

/// `LECTERN_KIOSK_IDLE_SECS`: 3 to 3600 seconds, 30 when unset.
fn kiosk_idle() -> Result<Duration, ConfigError> {
    let seconds: u64 = config::parsed("LECTERN_KIOSK_IDLE_SECS", 30)?;
    if !(3..=3600).contains(&seconds) {
        return Err(ConfigError {
            variable: "LECTERN_KIOSK_IDLE_SECS".to_owned(),
            problem: format!("{seconds} is not between 3 and 3600 seconds"),
        });
    }
    Ok(Duration::from_secs(seconds))
}

/// A certificate and key from two variables: both or neither.
fn tls_files(cert_variable: &str, key_variable: &str) -> Result<Option<TlsFiles>, ConfigError> {
    let cert = config::optional_string(cert_variable)?;
    let key = config::optional_string(key_variable)?;
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert: cert.into(), key: key.into() })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError {
            variable: key_variable.to_owned(),
            problem: format!("is needed with {cert_variable}"),
        }),
        (None, Some(_)) => Err(ConfigError {
            variable: cert_variable.to_owned(),
            problem: format!("is needed with {key_variable}"),
        }),
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
            sip2: Sip2Config::from_env()?,
            wechat: WechatConfig::from_env()?,
            service_key: config::optional_string("LECTERN_SERVICE_KEY")?.map(Secret::new),
            clock: lectern_core::clock::system(),
            readiness: lectern_core::readiness::Readiness::default(),
            readiness_interval: lectern_core::readiness::interval_from_env()?,
        })
    }

    fn listen_addr(&self) -> SocketAddr {
        self.listen
    }

    fn readiness(&self) -> lectern_core::readiness::Readiness {
        self.readiness.clone()
    }
}
