//! Reloading the policy (when its files change, on SIGHUP, or when asked) and the
//! background sweep that expires escalations. A policy that fails to load or verify is
//! refused and the old one kept; requests in flight finish on the policy they took.

use crate::metrics::ResultLabel;
use crate::policy::Policy;
use crate::state::State;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Reloads the service's policy.
#[derive(Clone)]
pub struct Reloader {
    state: Arc<State>,
}

/// The watched files' modification times and sizes (`None`: unreadable).
type Fingerprint = Vec<(PathBuf, Option<(SystemTime, u64)>)>;

impl Reloader {
    /// A reloader of `state`'s policy.
    pub(crate) fn new(state: Arc<State>) -> Reloader {
        Reloader { state }
    }

    /// Loads the policy again; on success it replaces the current one and its hash is
    /// returned, else the current one is kept and the error returned. Both are logged.
    pub async fn reload(&self) -> Result<String, String> {
        let state = self.state.clone();
        let source = state.config.source.clone();
        let now = state.clock.now();
        let loaded = tokio::task::spawn_blocking(move || Policy::load(&source, now))
            .await
            .map_err(|e| format!("the reload failed: {e}"))
            .and_then(|r| r);
        let result = match loaded {
            Ok(policy) => {
                let hash = policy.hash().to_owned();
                state.set_policy(policy);
                eprintln!("govc serve: loaded bundle {hash}");
                state.log_bundle(Ok(&hash)).await;
                Ok(hash)
            }
            Err(error) => {
                eprintln!("govc serve: reload refused, keeping bundle {}: {error}", state.policy().hash());
                state.log_bundle(Err(&error)).await;
                Err(error)
            }
        };
        let label = if result.is_ok() { "ok" } else { "refused" };
        state.metrics.reloads.get_or_create(&ResultLabel { result: label.to_owned() }).inc();
        result
    }

    /// The watched files' fingerprint.
    fn fingerprint(&self) -> Fingerprint {
        self.state
            .config
            .source
            .watched_files()
            .into_iter()
            .map(|path| {
                let meta = std::fs::metadata(&path).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
                (path, meta)
            })
            .collect()
    }
}

/// Starts the background work: the file watch, SIGHUP, and the expiry sweep.
pub fn spawn(state: Arc<State>) -> tokio::task::JoinHandle<()> {
    let reloader = Reloader::new(state.clone());
    // Taken now, before the service answers anyone, not when the task first runs: a file
    // changed after the first answer but before that would otherwise be taken as the
    // loaded one and never reloaded (the reload test drew it on an idle machine).
    let mut last = reloader.fingerprint();
    tokio::spawn(async move {
        let watch_every = state.config.watch;
        let mut watch = tokio::time::interval(watch_every.unwrap_or(Duration::from_secs(3600)));
        let mut sweep = tokio::time::interval(Duration::from_secs(1));
        let mut hangup = hangup();
        loop {
            tokio::select! {
                _ = watch.tick(), if watch_every.is_some() => {
                    let now = reloader.fingerprint();
                    if now != last {
                        last = now;
                        let _ = reloader.reload().await;
                    }
                }
                () = next_hangup(&mut hangup) => {
                    last = reloader.fingerprint();
                    let _ = reloader.reload().await;
                }
                _ = sweep.tick() => state.expire().await,
            }
        }
    })
}

/// The SIGHUP stream, where there is one.
#[cfg(unix)]
fn hangup() -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

/// Completes at the next SIGHUP (never without a stream).
#[cfg(unix)]
async fn next_hangup(signal: &mut Option<tokio::signal::unix::Signal>) {
    let received = match signal {
        Some(signal) => signal.recv().await.is_some(),
        None => false,
    };
    if !received {
        std::future::pending::<()>().await;
    }
}

/// No SIGHUP here.
#[cfg(not(unix))]
fn hangup() -> Option<()> {
    None
}

/// Never completes.
#[cfg(not(unix))]
async fn next_hangup(_: &mut Option<()>) {
    std::future::pending().await
}
