//! The `main` of every standalone Lectern binary (one per service and the
//! gateway, for Kubernetes): `serve` (the default) or `migrate`, telemetry
//! started first and flushed last, SIGTERM and Ctrl-C handled.

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
    match command.as_str() {
        "serve" | "migrate" => {}
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
    }
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
        let config = match C::from_env() {
            Ok(config) => config,
            Err(error) => {
                tracing::error!(%error, "invalid configuration");
                telemetry.shutdown().await;
                return ExitCode::FAILURE;
            }
        };
        let result = if command == "migrate" {
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
    let trigger = shutdown.clone();
    let stop = crate::shutdown::listen();
    tokio::spawn(async move {
        stop.await;
        trigger.trigger();
    });
    serve(config, listener, shutdown).await
}
