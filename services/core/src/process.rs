//! The `main` of every standalone Lectern binary (one per service and the
//! gateway, for Kubernetes): `serve` (the default) or `migrate`, telemetry
//! started first and flushed last, SIGTERM and Ctrl-C handled, and the ops
//! port (`LECTERN_METRICS_LISTEN`) beside the server.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use tokio::net::TcpListener;

use crate::config::ConfigError;
use crate::server::ServeError;
use crate::shutdown::Shutdown;

/// Runs a server's pending migrations and returns their versions.
pub type Migrate<C> = fn(&C) -> Result<Vec<String>, ServeError>;

/// What `main` needs to know about a server's configuration.
pub trait ServerConfig: Sized {
    /// Reads the configuration from `LECTERN_…` variables.
    fn from_env() -> Result<Self, ConfigError>;
    /// Where to listen.
    fn listen_addr(&self) -> SocketAddr;
    /// The process's readiness, which the server's checks set and the ops
    /// port's `/readyz` reads.
    fn readiness(&self) -> crate::readiness::Readiness;
}

/// Runs a standalone server binary named `binary`, for the server `name`.
/// `migrate` is `None` for servers without a database (the gateway).
pub fn main<C, S, F>(
    binary: &'static str,
    name: &'static str,
    serve: S,
    migrate: Option<Migrate<C>>,
) -> ExitCode
where
    C: ServerConfig + Send + 'static,
    S: FnOnce(C, TcpListener, Shutdown) -> F + Send + 'static,
    F: Future<Output = Result<(), ServeError>> + Send + 'static,
{
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".to_owned());
    let command = match command.as_str() {
        "serve" => Command::Serve,
        "migrate" => Command::Migrate,
        "-h" | "--help" | "help" => {
            println!(
                "{binary}: the Lectern {name} server\n\nUsage: {binary} [serve|migrate]\n\n  serve    run the server (default); runs pending migrations first\n  migrate  run pending database migrations and exit\n\nConfigured by LECTERN_… environment variables; see the README."
            );
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("{binary}: unknown command {other:?} (expected serve or migrate)");
            return ExitCode::from(2);
        }
    };
    run(binary, name, command, serve, migrate)
}

/// What a server process is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Run the server (after its pending migrations).
    Serve,
    /// Run pending migrations and exit.
    Migrate,
}

/// Runs `command` for the server `name` in a process of its own: a
/// multi-thread runtime, telemetry started first and flushed last. Both the
/// `lectern-<name>` binaries and `lectern serve|migrate <name>` end here.
pub fn run<C, S, F>(
    binary: &'static str,
    name: &'static str,
    command: Command,
    serve: S,
    migrate: Option<Migrate<C>>,
) -> ExitCode
where
    C: ServerConfig + Send + 'static,
    S: FnOnce(C, TcpListener, Shutdown) -> F + Send + 'static,
    F: Future<Output = Result<(), ServeError>> + Send + 'static,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("{binary}: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let telemetry = match crate::telemetry::init(name, "info") {
            Ok(telemetry) => telemetry,
            Err(error) => {
                eprintln!("{binary}: {error}");
                return ExitCode::FAILURE;
            }
        };
        crate::metrics::install();
        let config = match C::from_env() {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(%error, "invalid configuration");
                telemetry.shutdown().await;
                return ExitCode::FAILURE;
            }
        };
        let result = if command == Command::Migrate {
            match migrate {
                Some(migrate) => match tokio::task::spawn_blocking(move || migrate(&config)).await {
                    Ok(Ok(applied)) => {
                        tracing::info!(count = applied.len(), versions = ?applied, "migrations applied");
                        Ok(())
                    }
                    Ok(Err(error)) => Err(error),
                    Err(error) => Err(ServeError::Startup(error.to_string())),
                },
                None => {
                    tracing::info!("{name} has no database; nothing to migrate");
                    Ok(())
                }
            }
        } else {
            run_server(config, serve).await
        };
        let code = match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(%error, "{name} stopped with an error");
                ExitCode::FAILURE
            }
        };
        telemetry.shutdown().await;
        code
    })
}

async fn run_server<C, S, F>(config: C, serve: S) -> Result<(), ServeError>
where
    C: ServerConfig,
    S: FnOnce(C, TcpListener, Shutdown) -> F,
    F: Future<Output = Result<(), ServeError>>,
{
    let address = config.listen_addr();
    let listener = TcpListener::bind(address)
        .await
        .map_err(|error| ServeError::Startup(format!("cannot listen on {address}: {error}")))?;
    let shutdown = Shutdown::new();
    let ops = serve_ops(ops_listen_from_env()?, config.readiness()).await?;
    let trigger = shutdown.clone();
    let stop = crate::shutdown::listen();
    tokio::spawn(async move {
        stop.await;
        trigger.trigger();
    });
    let result = serve(config, listener, shutdown).await;
    // The ops port outlives the server's draining (it shows it), not the server.
    if let Some(ops) = ops {
        ops.abort();
    }
    result
}

/// Where the ops port listens (`LECTERN_METRICS_LISTEN`; unset, empty or
/// `off`: no ops port).
pub fn ops_listen_from_env() -> Result<Option<SocketAddr>, ConfigError> {
    match crate::config::optional_string("LECTERN_METRICS_LISTEN")? {
        Some(value) if value.trim().is_empty() || value.trim().eq_ignore_ascii_case("off") => Ok(None),
        Some(_) => crate::config::socket_addr("LECTERN_METRICS_LISTEN", "").map(Some),
        None => Ok(None),
    }
}

/// Binds the ops port at `address`, if there is one, and serves `/metrics`,
/// `/livez` and `/readyz` on it until the task is aborted.
pub async fn serve_ops(
    address: Option<SocketAddr>,
    readiness: crate::readiness::Readiness,
) -> Result<Option<tokio::task::JoinHandle<()>>, ServeError> {
    let Some(address) = address else { return Ok(None) };
    let listener = crate::ops::bind(address).await?;
    Ok(Some(tokio::spawn(async move {
        if let Err(error) = crate::ops::serve(listener, readiness, std::future::pending()).await {
            tracing::error!(%error, "the ops port failed");
        }
    })))
}
