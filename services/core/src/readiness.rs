//! Whether this process can do its work right now, check by check: a
//! service's database, the gateway's upstream services, a server draining
//! for shutdown. Readiness feeds the `grpc.health.v1` answers Kubernetes
//! probes ask for and the `/readyz` page on the metrics port, which names
//! what is missing. Liveness is not here: a process that answers at all is
//! alive, so a slow database never restarts pods in a loop.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

/// How often checks run unless told otherwise (`LECTERN_READINESS_INTERVAL_MS`).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// How often this process's checks run (`LECTERN_READINESS_INTERVAL_MS`,
/// default 5000).
pub fn interval_from_env() -> Result<Duration, crate::config::ConfigError> {
    crate::config::millis("LECTERN_READINESS_INTERVAL_MS", DEFAULT_INTERVAL)
}

/// How long one check may take (a connection from the pool, a health call
/// to an upstream): never longer than the pause between checks, and at
/// most 2 s, so a check that hangs reads as not ready in good time.
pub fn check_timeout(interval: Duration) -> Duration {
    interval.clamp(Duration::from_millis(200), Duration::from_secs(2))
}

/// The state of one named check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckState {
    /// What the check guards works.
    Ready,
    /// It does not, and why (for operators: no personal data).
    NotReady(String),
}

impl CheckState {
    /// Whether this check lets the process take work.
    pub fn is_ready(&self) -> bool {
        matches!(self, Self::Ready)
    }
}

/// The named checks of one process, shared by every server in it (`lectern
/// up` runs several). Cheap to clone; all clones see the same checks.
#[derive(Debug, Clone)]
pub struct Readiness {
    checks: Arc<Mutex<BTreeMap<String, CheckState>>>,
    changed: watch::Sender<u64>,
}

impl Default for Readiness {
    fn default() -> Self {
        Self { checks: Arc::default(), changed: watch::channel(0).0 }
    }
}

impl Readiness {
    /// Sets the state of the check `name` (for example `catalog.database`,
    /// `gateway.upstream.circulation`); a new name adds a check.
    pub fn set(&self, name: &str, state: CheckState) {
        let mut checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        if checks.get(name) == Some(&state) {
            return;
        }
        publish(name, &state);
        checks.insert(name.to_owned(), state);
        drop(checks);
        self.changed.send_modify(|version| *version += 1);
    }

    /// The lines of `/readyz`, one per check whose name starts with
    /// `prefix`: `name: ready` or `name: not ready (reason)`.
    pub fn report(&self, prefix: &str) -> String {
        let mut report = String::new();
        for (name, state) in self.snapshot() {
            if !name.starts_with(prefix) {
                continue;
            }
            match state {
                CheckState::Ready => report.push_str(&format!("{name}: ready\n")),
                CheckState::NotReady(reason) => report.push_str(&format!("{name}: not ready ({reason})\n")),
            }
        }
        report
    }

    /// Every check and its state, by name.
    pub fn snapshot(&self) -> Vec<(String, CheckState)> {
        let checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        checks.iter().map(|(name, state)| (name.clone(), state.clone())).collect()
    }

    /// Whether every check whose name starts with `prefix` is ready (`""`:
    /// every check in the process).
    pub fn is_ready(&self, prefix: &str) -> bool {
        let checks = self.checks.lock().unwrap_or_else(PoisonError::into_inner);
        checks.iter().filter(|(name, _)| name.starts_with(prefix)).all(|(_, state)| state.is_ready())
    }

    /// Resolves on the next change of any check.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// Sets the `lectern_ready{check}` gauge (1 ready, 0 not).
fn publish(name: &str, state: &CheckState) {
    let value = if state.is_ready() { 1.0 } else { 0.0 };
    ::metrics::gauge!("lectern_ready", "check" => name.to_owned()).set(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_ready_only_when_every_check_is() {
        let readiness = Readiness::default();
        assert!(readiness.is_ready(""), "no checks yet: nothing is missing");
        readiness.set("gateway.upstream.catalog", CheckState::Ready);
        readiness.set("gateway.upstream.circulation", CheckState::NotReady("connection refused".into()));
        readiness.set("catalog.database", CheckState::Ready);
        assert!(!readiness.is_ready(""));
        assert!(!readiness.is_ready("gateway."));
        assert!(readiness.is_ready("catalog."));
        assert_eq!(readiness.snapshot().len(), 3);
        assert_eq!(
            readiness.report("gateway."),
            "gateway.upstream.catalog: ready\ngateway.upstream.circulation: not ready (connection refused)\n"
        );
    }

    #[test]
    fn a_change_wakes_subscribers_and_a_repeat_does_not() {
        let readiness = Readiness::default();
        let mut changes = readiness.subscribe();
        readiness.set("catalog.database", CheckState::Ready);
        assert!(changes.has_changed().unwrap_or(false));
        changes.mark_unchanged();
        readiness.set("catalog.database", CheckState::Ready);
        assert!(!changes.has_changed().unwrap_or(true));
    }
}
