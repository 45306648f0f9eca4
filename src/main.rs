//! `lectern`: run the whole suite on this computer (`lectern up`), or work
//! the library desk from the command line (`lectern login`, `lectern
//! checkout`, ...).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use lectern::demo::{DemoDevice, DemoSignIn, DemoStaff};
use lectern::postgres::ServerUrl;
use lectern::suite::{Databases, NotificationOptions, SERVICES, Suite, SuiteConfig};

/// Lectern, the library lending system of a school district.
#[derive(Debug, Parser)]
#[command(name = "lectern", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole suite (catalog, circulation, reader, notification and
    /// the gateway) in this process, with SQLite files in the data directory
    /// or, with --database-url, databases on a PostgreSQL server.
    Up(UpArgs),
    /// Benchmarks: search latency, MARC import speed, check-out/check-in throughput.
    #[command(subcommand)]
    Bench(lectern::bench::BenchCommand),
    /// Run one server as a process of its own (for containers and
    /// Kubernetes), configured by `LECTERN_…` variables, as the
    /// `lectern-<server>` binaries do; runs pending migrations first.
    Serve {
        /// Which server.
        #[arg(value_enum)]
        server: Server,
    },
    /// Run one service's pending database migrations (`LECTERN_DATABASE_URL`)
    /// and exit, e.g. from a Kubernetes Job before an upgrade.
    Migrate {
        /// Which service.
        #[arg(value_enum)]
        service: Service,
    },
    #[command(flatten)]
    Desk(lectern::cli::DeskCommand),
}

/// A server `lectern serve` runs.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Server {
    Catalog,
    Circulation,
    Reader,
    Notification,
    Gateway,
}

/// A service with a database, for `lectern migrate`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Service {
    Catalog,
    Circulation,
    Reader,
    Notification,
}

#[derive(Debug, clap::Args)]
struct UpArgs {
    /// Where the service key lives, and the SQLite files unless
    /// --database-url names a PostgreSQL server.
    #[arg(long, env = "LECTERN_DATA_DIR", default_value = "./lectern-data")]
    data_dir: PathBuf,
    /// Keep the data on a PostgreSQL server instead of SQLite files, e.g.
    /// postgres://lectern@db.example:5432/lectern. The database name is a
    /// prefix: each service gets its own database (lectern_reader,
    /// lectern_catalog, lectern_circulation, lectern_notification), created
    /// if missing; parameters such as ?sslmode=require apply to all four.
    /// The service key stays in the data directory.
    #[arg(long, env = "LECTERN_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Listen on the school network too, not only on this computer: kiosks,
    /// self-check machines, phones and other desks can then reach Lectern.
    /// The banner lists the addresses they open.
    #[arg(long)]
    school_network: bool,
    /// Where the gateway listens for gRPC clients [default: 127.0.0.1:50051,
    /// or 0.0.0.0:50051 with --school-network].
    #[arg(long, env = "LECTERN_GATEWAY_ADDR", value_name = "ADDRESS")]
    listen: Option<SocketAddr>,
    /// Where browsers open the desk and where phones call the JSON API
    /// [default: 127.0.0.1:8080, or 0.0.0.0:8080 with --school-network].
    #[arg(long, env = "LECTERN_HTTP_LISTEN", value_name = "ADDRESS")]
    http_listen: Option<SocketAddr>,
    /// Speak HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "LECTERN_TLS_CERT_FILE", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "LECTERN_TLS_KEY_FILE", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Where self-check machines speak SIP2 over plain TCP, or `off`
    /// [default: 127.0.0.1:6001, or 0.0.0.0:6001 with --school-network].
    #[arg(long, env = "LECTERN_SIP2_LISTEN", value_name = "ADDRESS|off", value_parser = listen_or_off)]
    sip2_listen: Option<Listen>,
    /// Where self-check machines speak SIP2 over TLS (off unless given),
    /// with --sip2-tls-cert, else --tls-cert.
    #[arg(long, env = "LECTERN_SIP2_TLS_LISTEN", value_name = "ADDRESS|off", value_parser = listen_or_off)]
    sip2_tls_listen: Option<Listen>,
    /// The certificate chain (PEM) of the SIP2 TLS port, when it is not
    /// --tls-cert's; needs --sip2-tls-key.
    #[arg(long, env = "LECTERN_SIP2_TLS_CERT_FILE", value_name = "FILE", requires = "sip2_tls_key")]
    sip2_tls_cert: Option<PathBuf>,
    /// The private key of --sip2-tls-cert (PEM).
    #[arg(long, env = "LECTERN_SIP2_TLS_KEY_FILE", value_name = "FILE", requires = "sip2_tls_cert")]
    sip2_tls_key: Option<PathBuf>,
    /// Where Prometheus scrapes /metrics, and /livez and /readyz answer
    /// (never on the public HTTP port), or `off` [default: off].
    #[arg(long, env = "LECTERN_METRICS_LISTEN", value_name = "ADDRESS|off", value_parser = listen_or_off)]
    metrics_listen: Option<Listen>,
    /// Load a demo district (2 schools, 100 readers, ~240 titles, some loans)
    /// when the databases are empty (a new data directory, or new
    /// PostgreSQL databases).
    #[arg(long)]
    demo: bool,
}

/// An address to listen on, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listen {
    Off,
    At(SocketAddr),
}

impl Listen {
    fn address(self) -> Option<SocketAddr> {
        match self {
            Self::Off => None,
            Self::At(address) => Some(address),
        }
    }
}

/// `ADDRESS` or `off`, as `--sip2-listen` takes them.
fn listen_or_off(value: &str) -> Result<Listen, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("off") {
        return Ok(Listen::Off);
    }
    value
        .parse()
        .map(Listen::At)
        .map_err(|_| format!("{value:?} is neither an address such as 0.0.0.0:6001 nor `off`"))
}

fn main() -> ExitCode {
    end_quietly_when_stdout_is_closed();
    let cli = Cli::parse();
    // Benchmarks time blocking work on this thread and start a runtime
    // only where they need one (`bench checkout`).
    let cli = match cli.command {
        Command::Bench(command) => {
            return match lectern::bench::run(command) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("lectern: {error:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Serve { server } => return serve_one(server, lectern_core::process::Command::Serve),
        Command::Migrate { service } => {
            let server = match service {
                Service::Catalog => Server::Catalog,
                Service::Circulation => Server::Circulation,
                Service::Reader => Server::Reader,
                Service::Notification => Server::Notification,
            };
            return serve_one(server, lectern_core::process::Command::Migrate);
        }
        command => Cli { command },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("lectern: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => up(args).await,
            Command::Desk(command) => lectern::cli::run(command).await,
            Command::Bench(_) | Command::Serve { .. } | Command::Migrate { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lectern: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `lectern serve|migrate <server>`: one server in this process, exactly as
/// its `lectern-<server>` binary runs it (its own runtime, telemetry named
/// `lectern-<server>`, SIGTERM handling), so one image serves them all.
fn serve_one(server: Server, command: lectern_core::process::Command) -> ExitCode {
    use lectern_core::process::run;
    match server {
        Server::Catalog => {
            run("lectern", "catalog", command, lectern_catalog::serve, Some(lectern_catalog::migrate))
        }
        Server::Circulation => run(
            "lectern",
            "circulation",
            command,
            lectern_circulation::serve,
            Some(lectern_circulation::migrate),
        ),
        Server::Reader => {
            run("lectern", "reader", command, lectern_reader::serve, Some(lectern_reader::migrate))
        }
        Server::Notification => run(
            "lectern",
            "notification",
            command,
            lectern_notification::serve,
            Some(lectern_notification::migrate),
        ),
        Server::Gateway => run("lectern", "gateway", command, lectern_gateway::serve, None),
    }
}

/// Ends the process quietly, with success, when standard output is a pipe
/// whose reader has gone (`lectern rules list | head -1`).
///
/// Rust ignores SIGPIPE, so writing to such a pipe fails with EPIPE and
/// `println!` panics ("failed printing to stdout: Broken pipe"). A reader
/// who stopped reading is not an error: a panic hook ends the process at
/// that point, as SIGPIPE ends a C program, and hands every other panic to
/// the default hook. Restoring SIGPIPE's default action instead would take
/// `unsafe` (forbidden in the workspace) and would put `lectern up` at risk:
/// std sends on sockets with MSG_NOSIGNAL, but vectored writes (which hyper
/// and h2 use) go through writev, which raises SIGPIPE, so a client hanging
/// up could kill the servers. With the hook the signal stays ignored and a
/// closed socket stays an error its connection handles.
fn end_quietly_when_stdout_is_closed() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        if message.is_some_and(is_closed_stdout) {
            std::process::exit(0);
        }
        report(info);
    }));
}

/// Whether a panic message is `println!`'s for a pipe with no reader (not,
/// say, a full disk, which must still fail loudly).
fn is_closed_stdout(message: &str) -> bool {
    let Some(error) = message.strip_prefix("failed printing to stdout: ") else {
        return false;
    };
    // The error as `io::Error` shows an OS error: "Broken pipe (os error 32)".
    error
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once("(os error "))
        .and_then(|(_, code)| code.parse().ok())
        .is_some_and(|code| std::io::Error::from_raw_os_error(code).kind() == std::io::ErrorKind::BrokenPipe)
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let telemetry = lectern_core::telemetry::init("lectern", "warn").map_err(anyhow::Error::msg)?;
    lectern_core::metrics::install();
    // The SIP2 settings are checked before anything is written.
    let everywhere = if args.school_network { [0, 0, 0, 0] } else { [127, 0, 0, 1] };
    let sip2_tls = match (&args.sip2_tls_cert, &args.sip2_tls_key, &args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key), _, _) | (None, None, Some(cert), Some(key)) => {
            Some(lectern_gateway::TlsFiles { cert: cert.clone(), key: key.clone() })
        }
        _ => None,
    };
    let sip2 = sip2_config(args.sip2_listen, args.sip2_tls_listen, sip2_tls, everywhere)?;
    // The server is checked, and its databases made, before anything is
    // written: a mistyped URL leaves no data directory behind.
    let server = args.database_url.as_deref().filter(|url| !url.trim().is_empty()).map(ServerUrl::parse);
    let server = server.transpose()?;
    let created = match &server {
        Some(server) => {
            let server = server.clone();
            tokio::task::spawn_blocking(move || server.ensure_databases())
                .await
                .context("checking the PostgreSQL databases")??
        }
        None => Vec::new(),
    };
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create the data directory {}", args.data_dir.display()))?;
    let service_key = service_key(&args.data_dir)?;
    let databases = match &server {
        Some(server) => server.databases(),
        None => Databases::in_dir(&args.data_dir),
    };
    let grpc_listen = args.listen.unwrap_or(SocketAddr::from((everywhere, 50051)));
    let mut config = SuiteConfig::new(databases, grpc_listen, service_key);
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(lectern_gateway::TlsFiles { cert, key }),
        _ => None,
    };
    config.sip2 = sip2;
    config.metrics_listen = args.metrics_listen.and_then(Listen::address);
    config.http = lectern_gateway::HttpConfig {
        listen: Some(args.http_listen.unwrap_or(SocketAddr::from((everywhere, 8080)))),
        secure_cookies: tls.is_some(),
        tls,
        ..lectern_gateway::HttpConfig::from_env().context("reading the LECTERN_HTTP_… settings")?
    };
    config.token_ttl = chrono::Duration::seconds(
        lectern_core::config::parsed("LECTERN_TOKEN_TTL_SECS", 3600)
            .context("reading LECTERN_TOKEN_TTL_SECS")?,
    );
    let https = config.http.tls.is_some();
    config.notification = notification_options(config.http.listen, https)?;
    // WeChat sign-in as a container's gateway reads it (`LECTERN_WECHAT_…`).
    config.wechat =
        lectern_gateway::WechatConfig::from_env().context("reading the LECTERN_WECHAT_… settings")?;
    let suite = Suite::start(config).await.context("starting the suite")?;
    let ready_in = started.elapsed();

    let mut lines = vec![format!("Lectern is up (ready in {:.1} s).", ready_in.as_secs_f64())];
    lines.extend(addresses(&suite, https));
    lines.extend(where_the_data_is(server.as_ref(), &created, &args.data_dir));
    match (&suite.first_admin, args.demo) {
        (Some(admin), true) => {
            let loading = Instant::now();
            let (demo_admin, summary) =
                lectern::demo::load(&suite.gateway_url(), &admin.username, &admin.password).await?;
            lines.push(format!(
                "  demo district:   {} schools, {} classes, {} readers, {} titles, {} copies, \
                 {} circulation rules, {} open loans ({} overdue), loaded in {:.1} s",
                summary.schools,
                summary.classes,
                summary.readers,
                summary.titles,
                summary.copies,
                summary.rules,
                summary.open_loans,
                summary.overdue_loans,
                loading.elapsed().as_secs_f64()
            ));
            lines.extend(demo_sign_ins(&demo_admin, &summary.staff));
            lines.extend(demo_devices(&summary.devices));
        }
        (Some(admin), false) => {
            lines.push(format!("  first admin:     {} / {}", admin.username, admin.password));
            lines.push("                   (a one-time password, shown only this once: you choose".into());
            lines.push("                    a new one at first sign-in)".into());
        }
        // The reader database had a staff account already: this district
        // has been started before, demo or not.
        (None, true) if server.is_some() => {
            lines.push("  demo district:   not loaded: these databases are already in use".into());
            lines.push("                   (name new ones in --database-url to load the demo)".into());
        }
        (None, true) => {
            lines.push("  demo district:   not loaded: this data directory is already in use".into());
            lines.push("                   (start with an empty --data-dir to load the demo)".into());
        }
        (None, false) => {}
    }
    lines.push(String::new());
    if let Some(desk) = suite.http_url(https) {
        lines.push(format!("Open {desk}/ in a browser and sign in."));
    }
    lines.push("Try:  lectern login --username admin".into());
    lines.push(format!("      grpcurl -plaintext {} list", suite.gateway_addr()));
    lines.push("Press Ctrl-C to stop.".into());
    let stop = lectern_core::shutdown::listen();
    println!("\n{}", lines.join("\n"));

    stop.await;
    let stopped = suite.shutdown().await;
    telemetry.shutdown().await;
    stopped.context("stopping the suite")?;
    println!("Lectern stopped.");
    Ok(())
}

/// The banner's lines on where people and machines reach Lectern: the desk
/// in a browser (on every address of this computer when it listens on the
/// school network), the JSON API, gRPC, SIP2 and the ops port.
fn addresses(suite: &Suite, https: bool) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(http) = suite.http_addr() {
        let scheme = if https { "https" } else { "http" };
        let urls: Vec<String> =
            reachable(http).into_iter().map(|address| format!("{scheme}://{address}/")).collect();
        for (index, url) in urls.iter().enumerate() {
            let label = if index == 0 { "  desk (browser):  " } else { "                   " };
            lines.push(format!("{label}{url}"));
        }
        if urls.len() > 1 {
            lines.push("                   (kiosks, phones and other desks open one of these)".into());
        }
        lines.push(format!("  JSON API:        {}api/  (described at /api/openapi.json)", urls[0]));
    }
    let grpc: Vec<String> = reachable(suite.gateway_addr()).iter().map(ToString::to_string).collect();
    lines.push(format!("  gateway (gRPC):  {}", grpc.join(", ")));
    // Self-check machines are set up with a host and a port, not a URL.
    let sip2 = [("SIP2 (self-check):", suite.sip2_addr()), ("SIP2 over TLS:", suite.sip2_tls_addr())];
    for (label, address) in sip2 {
        if let Some(address) = address {
            let addresses: Vec<String> = reachable(address).iter().map(ToString::to_string).collect();
            lines.push(format!("  {label:<18} {}", addresses.join(", ")));
        }
    }
    if let Some(metrics) = suite.metrics_addr() {
        lines.push(format!("  metrics:         http://{metrics}/metrics"));
    }
    lines
}

/// The SIP2 edge of `lectern up`: plain SIP2 on port 6001 of the chosen
/// network unless `--sip2-listen off`, TLS only where asked (with its own
/// certificate or the HTTP edge's); timeouts, caps and the rest from the
/// `LECTERN_SIP2_…` variables as a container reads them.
fn sip2_config(
    listen: Option<Listen>,
    tls_listen: Option<Listen>,
    tls: Option<lectern_gateway::TlsFiles>,
    everywhere: [u8; 4],
) -> anyhow::Result<lectern_gateway::Sip2Config> {
    let listen = listen.unwrap_or(Listen::At(SocketAddr::from((everywhere, 6001)))).address();
    let tls_listen = tls_listen.and_then(Listen::address);
    if tls_listen.is_some() && tls.is_none() {
        anyhow::bail!(
            "SIP2 over TLS (--sip2-tls-listen) needs a certificate: --tls-cert and --tls-key, \
             or --sip2-tls-cert and --sip2-tls-key"
        );
    }
    let from_env = lectern_gateway::Sip2Config::from_env().context("reading the LECTERN_SIP2_… settings")?;
    Ok(lectern_gateway::Sip2Config { listen, tls_listen, tls, ..from_env })
}

/// The banner's lines on the demo's sign-ins, one account a line as
/// `label:  username / password  (who)`; browser tests find a line by its
/// label. The accounts line up among themselves, as "district librarian:"
/// is wider than the banner's other labels.
fn demo_sign_ins(admin: &DemoSignIn, staff: &[DemoStaff]) -> Vec<String> {
    let account = |sign_in: &DemoSignIn| format!("{} / {}", sign_in.username, sign_in.password);
    let rows: Vec<(String, String, String)> =
        std::iter::once(("admin sign-in:".to_owned(), account(admin), String::new()))
            .chain(staff.iter().map(|member| {
                let who = format!("({}, {})", member.display_name, member.school_names.join("、"));
                (format!("{}:", member.label), account(&member.sign_in), who)
            }))
            .collect();
    let label_width = rows.iter().map(|(label, ..)| label.len()).max().unwrap_or_default();
    let account_width = rows.iter().map(|(_, account, _)| account.len()).max().unwrap_or_default();
    rows.into_iter()
        .map(|(label, account, who)| {
            format!("  {label:<label_width$}  {account:<account_width$}  {who}").trim_end().to_owned()
        })
        .collect()
}

/// The banner's lines on the demo's kiosk and SIP2 machine, one a line as
/// `label:  device id / key  (where, school)`, and how readers sign in at
/// them.
fn demo_devices(devices: &[DemoDevice]) -> Vec<String> {
    let mut lines: Vec<String> = devices
        .iter()
        .map(|device| {
            let label = format!("{}:", device.label);
            format!("  {label:<17}{} / {}  ({}, {})", device.id, device.key, device.place, device.school_name)
        })
        .collect();
    if !devices.is_empty() {
        lines.push("  readers' PINs:   the last four digits of the card (R100005 → 0005)".into());
    }
    lines
}

/// The notification service's channels and pacing from the environment
/// (`LECTERN_SMTP_…`, `LECTERN_WEBHOOK_…`, `LECTERN_REMINDER_INTERVAL_MS`,
/// `LECTERN_SENDER_INTERVAL_MS`), and the address in its links:
/// `LECTERN_PUBLIC_URL`, or the desk's address as other computers reach it.
fn notification_options(http: Option<SocketAddr>, https: bool) -> anyhow::Result<NotificationOptions> {
    let defaults = NotificationOptions::default();
    let public_url = match lectern_core::config::optional_string("LECTERN_PUBLIC_URL")? {
        Some(url) => Some(url),
        None => http.map(|bound| {
            let addresses = reachable(bound);
            let address = addresses
                .iter()
                .find(|address| !address.ip().is_loopback())
                .or(addresses.first())
                .copied()
                .unwrap_or(bound);
            format!("{}://{address}", if https { "https" } else { "http" })
        }),
    };
    Ok(NotificationOptions {
        channels: lectern_notification::ChannelConfig::from_env()?,
        public_url,
        reminder_interval: lectern_core::config::millis(
            "LECTERN_REMINDER_INTERVAL_MS",
            defaults.reminder_interval,
        )?,
        sender_interval: lectern_core::config::millis(
            "LECTERN_SENDER_INTERVAL_MS",
            defaults.sender_interval,
        )?,
    })
}

/// The addresses another computer can use for `bound`: itself when it is
/// one address, this computer's addresses (loopback first) when it is
/// every address (0.0.0.0 or ::).
fn reachable(bound: SocketAddr) -> Vec<SocketAddr> {
    if !bound.ip().is_unspecified() {
        return vec![bound];
    }
    let mut found: Vec<SocketAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|interface| interface.ip())
        .filter(|ip| ip.is_ipv4() == bound.is_ipv4() && !ip.is_loopback())
        .filter(|ip| match ip {
            std::net::IpAddr::V6(v6) => !v6.is_unicast_link_local(),
            std::net::IpAddr::V4(v4) => !v4.is_link_local(),
        })
        .map(|ip| SocketAddr::new(ip, bound.port()))
        .collect();
    let loopback = if bound.is_ipv4() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
    };
    found.insert(0, SocketAddr::new(loopback, bound.port()));
    found
}

/// The banner's lines on the backend and where it keeps the data. A
/// password in the server's URL is not shown.
fn where_the_data_is(server: Option<&ServerUrl>, created: &[String], data_dir: &Path) -> Vec<String> {
    let Some(server) = server else {
        return vec![
            "  databases:       SQLite, one file per service in the data directory".into(),
            format!("  data directory:  {}", data_dir.display()),
        ];
    };
    let names: Vec<String> = SERVICES.iter().map(|service| server.database_name(service)).collect();
    let mut lines = vec![
        format!("  databases:       PostgreSQL {}", server.redacted()),
        format!("                   {}", names.join(", ")),
    ];
    if created.len() == names.len() {
        lines.push("                   (created just now)".into());
    } else if !created.is_empty() {
        lines.push(format!("                   (created just now: {})", created.join(", ")));
    }
    lines.push(format!("  data directory:  {} (the service key only)", data_dir.display()));
    lines
}

/// The district service key the services present to each other: kept in
/// the data directory (readable by its owner only), made on first start.
fn service_key(data_dir: &Path) -> anyhow::Result<String> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt as _;

    let path = data_dir.join("service.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim().to_owned();
        if !key.is_empty() {
            return Ok(key);
        }
    }
    let key: String = (0..2).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&path).with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(key.as_bytes())?;
    Ok(key)
}

// Messages as std words them on Unix (EPIPE is 32, ENOSPC 28).
#[cfg(all(test, unix))]
mod tests {
    use super::is_closed_stdout;

    #[test]
    fn only_a_pipe_without_reader_counts_as_a_closed_stdout() {
        assert!(is_closed_stdout("failed printing to stdout: Broken pipe (os error 32)"));
        assert!(!is_closed_stdout("failed printing to stdout: No space left on device (os error 28)"));
        assert!(!is_closed_stdout("failed printing to stderr: Broken pipe (os error 32)"));
        assert!(!is_closed_stdout("failed printing to stdout: formatter error"));
        assert!(!is_closed_stdout("called `Option::unwrap()` on a `None` value"));
    }
}

#[cfg(test)]
mod sip2_tests {
    use super::{Listen, listen_or_off, sip2_config};

    #[test]
    fn sip2_listens_on_6001_unless_told_otherwise() {
        assert_eq!(listen_or_off("OFF"), Ok(Listen::Off));
        assert_eq!(listen_or_off("0.0.0.0:6002"), Ok(Listen::At(([0, 0, 0, 0], 6002).into())));
        assert!(listen_or_off("6001").is_err());
        let config = sip2_config(None, None, None, [127, 0, 0, 1]).unwrap();
        assert_eq!(config.listen, Some(([127, 0, 0, 1], 6001).into()));
        assert_eq!(config.tls_listen, None);
        let config = sip2_config(Some(Listen::Off), None, None, [0, 0, 0, 0]).unwrap();
        assert_eq!(config.listen, None);
        let no_certificate = sip2_config(None, Some(Listen::At(([127, 0, 0, 1], 6002).into())), None, [0; 4]);
        assert!(no_certificate.unwrap_err().to_string().contains("--sip2-tls-cert"));
    }
}

#[cfg(test)]
mod demo_sign_in_tests {
    use lectern::demo::{DemoSignIn, DemoStaff};
    use lectern_proto::reader::v1::StaffRole;

    use super::demo_sign_ins;

    fn sign_in(username: &str, password: &str) -> DemoSignIn {
        DemoSignIn { username: username.into(), password: password.into(), token: String::new() }
    }

    #[test]
    fn each_demo_account_has_an_aligned_line_of_its_own() {
        let staff = [
            ("librarian", "xh-librarian", vec!["实验小学"]),
            ("district librarian", "district-librarian", vec!["实验小学", "第二中学"]),
        ]
        .map(|(label, username, schools)| DemoStaff {
            label,
            display_name: "王老师",
            role: StaffRole::Librarian,
            school_names: schools.into_iter().map(String::from).collect(),
            sign_in: sign_in(username, "Pw2345678"),
        });
        let lines = demo_sign_ins(&sign_in("admin", "Admin23456"), &staff);
        assert_eq!(
            lines,
            [
                "  admin sign-in:       admin / Admin23456",
                "  librarian:           xh-librarian / Pw2345678        (王老师, 实验小学)",
                "  district librarian:  district-librarian / Pw2345678  (王老师, 实验小学、第二中学)",
            ]
        );
    }
}
