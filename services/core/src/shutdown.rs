//! Shutdown signals: a server stops on SIGTERM (Kubernetes) or Ctrl-C (a
//! desk PC), after turning not-ready and draining calls in flight.

/// Listens for SIGTERM and Ctrl-C from the moment it is called; the future
/// resolves on the first of them. Call it before telling anyone the process
/// is up: a signal that arrives between the two would otherwise end the
/// process the default way, without draining.
pub fn listen() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // `signal` registers at once, unlike `tokio::signal::ctrl_c`, whose
        // registration waits for the first poll.
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let interrupt = async {
                match interrupt {
                    Ok(mut stream) => stream.recv().await,
                    Err(error) => {
                        tracing::error!(%error, "cannot listen for Ctrl-C");
                        std::future::pending().await
                    }
                }
            };
            let terminate = async {
                match terminate {
                    Ok(mut stream) => stream.recv().await,
                    Err(error) => {
                        tracing::error!(%error, "cannot listen for SIGTERM");
                        std::future::pending().await
                    }
                }
            };
            tokio::select! {
                _ = interrupt => tracing::info!("Ctrl-C received, shutting down"),
                _ = terminate => tracing::info!("SIGTERM received, shutting down"),
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("Ctrl-C received, shutting down");
    }
}

/// A shutdown trigger shared by the servers and background tasks of one
/// process: `trigger` once, every `wait` resolves.
#[derive(Debug, Clone)]
pub struct Shutdown {
    sender: tokio::sync::watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    /// A trigger that has not fired.
    pub fn new() -> Self {
        let (sender, _receiver) = tokio::sync::watch::channel(false);
        Self { sender }
    }

    /// Fires the trigger.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// Whether the trigger has fired.
    pub fn is_triggered(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once the trigger has fired (at once if it already has).
    pub fn wait(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            // An error means the sender is gone, which also means "stop".
            let _ = receiver.wait_for(|fired| *fired).await;
        }
    }
}
