//! The Gov decision service behind `govc serve`.
//!
//! It answers `POST /v1/decide` with the decision JSON of the contract plus an id, keeps
//! each decision (`GET /v1/decisions/{id}`, with a long poll), lets approvers answer
//! escalations (`POST /v1/decisions/{id}/approvals`: the service adds the `approval` and
//! `approval_at` facts of `std.approvals` and decides again with the same bundle, so
//! separation of duties, quorums and expiry are the policy's), lists each approver's queue
//! (`GET /v1/approvals`), serves the approver's inbox page (`GET /`), health and Prometheus
//! metrics, and reloads the policy when its files change or on SIGHUP. docs/serve.md is
//! the user's guide; like gov-lsp, this crate is an IO layer over gov-driver and gov-vm.

mod api;
pub mod auth;
pub mod clock;
mod decide;
pub mod error;
mod inbox;
mod metrics;
pub mod policy;
mod reload;
mod state;
mod store;
pub mod tls;

pub use clock::{Clock, ManualClock, SystemClock};
pub use policy::Source;
pub use reload::Reloader;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use state::State;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the service runs (`govc serve`'s flags).
#[derive(Debug, Clone)]
pub struct Config {
    /// The policy.
    pub source: Source,
    /// Where to listen.
    pub addr: SocketAddr,
    /// The token file; without one, only loopback callers are served, as administrators.
    pub tokens: Option<PathBuf>,
    /// How long an escalation waits for approvers before it expires (deny).
    pub approval_timeout: Duration,
    /// How long a decision or an approval may take, logging included.
    pub timeout: Duration,
    /// How often the policy's files are checked for changes (`None`: only on SIGHUP).
    pub watch: Option<Duration>,
    /// How many decisions are kept in memory (pending escalations are always kept).
    pub history: usize,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// The longest long poll.
    pub max_wait: Duration,
    /// The audit log: its directory and how it is written (`None`: no log).
    pub log: Option<(PathBuf, gov_audit::LogOptions)>,
    /// Serve HTTPS with this PEM certificate chain and private key (`None`: plain HTTP).
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl Config {
    /// The defaults for `source` on `addr`.
    pub fn new(source: Source, addr: SocketAddr) -> Config {
        Config {
            max_body: source.limits.max_request_bytes,
            source,
            addr,
            tokens: None,
            approval_timeout: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(10),
            watch: Some(Duration::from_secs(1)),
            history: 100_000,
            max_wait: Duration::from_secs(60),
            log: None,
            tls: None,
        }
    }
}

/// A bound service, ready to run.
pub struct Service {
    state: Arc<State>,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Service {
    /// Loads the policy and the token file and binds the address. Without a token file,
    /// an address other than loopback is refused.
    pub async fn bind(config: Config, clock: Arc<dyn Clock>) -> Result<Service, String> {
        let auth = match &config.tokens {
            Some(path) => auth::Auth::from_file(path)?,
            None if config.addr.ip().is_loopback() => auth::Auth::LoopbackOnly,
            None => {
                return Err(format!(
                    "refusing to listen on {} without --tokens: without tokens the service is open to anyone who \
                     reaches it, so it listens on loopback only (127.0.0.1 or [::1])",
                    config.addr
                ));
            }
        };
        let tls = config.tls.as_ref().map(|(cert, key)| tls::acceptor(cert, key)).transpose()?;
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let state = State::new(config, auth, clock)?;
        Ok(Service { state: Arc::new(state), listener, tls })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, String> {
        self.listener.local_addr().map_err(|e| e.to_string())
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// A handle that reloads the policy.
    pub fn reloader(&self) -> Reloader {
        Reloader::new(self.state.clone())
    }

    /// Serves until `shutdown` completes, then stops accepting, lets requests in flight
    /// finish (long polls answer at once), closes the audit log and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), String> {
        let state = self.state;
        let background = reload::spawn(state.clone());
        let router = router(state.clone());
        let stopping = state.clone();
        let graceful = async move {
            shutdown.await;
            stopping.stop();
        };
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let result = match self.tls {
            Some(acceptor) => {
                let listener = tls::TlsListener::new(self.listener, acceptor).map_err(|e| format!("TLS: {e}"))?;
                axum::serve(listener.tap_io(|_| {}), service).with_graceful_shutdown(graceful).await
            }
            None => axum::serve(self.listener, service).with_graceful_shutdown(graceful).await,
        }
        .map_err(|e| format!("the server failed: {e}"));
        background.abort();
        let _ = background.await;
        let closed = tokio::task::spawn_blocking(move || state.close_log())
            .await
            .map_err(|e| format!("closing the audit log failed: {e}"))
            .and_then(|r| r);
        result.and(closed)
    }
}

/// The routes.
fn router(state: Arc<State>) -> Router {
    let max_body = state.config.max_body;
    Router::new()
        .route("/v1/decide", post(api::decide))
        .route("/v1/decisions/{id}", get(api::decision))
        .route("/v1/decisions/{id}/approvals", post(api::approve))
        .route("/v1/approvals", get(api::queue))
        .route("/health", get(api::health))
        .route("/metrics", get(api::metrics))
        .route("/", get(inbox::page))
        .route("/login", post(inbox::login))
        .route("/logout", post(inbox::logout))
        .route("/inbox/decisions/{id}", post(inbox::answer))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Reads a duration as Gov writes them (`30s`, `4h`, `1h30m`); negative ones are errors.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let nanos = gov_value::parse_duration(text)?;
    u64::try_from(nanos).map(Duration::from_nanos).map_err(|_| format!("`{text}` is negative"))
}

/// Runs `govc serve`: binds, prints where it listens, serves until Ctrl-C or SIGTERM.
pub fn run(config: Config) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let service = Service::bind(config, Arc::new(SystemClock)).await?;
        let addr = service.local_addr()?;
        let scheme = if service.is_tls() { "https" } else { "http" };
        eprintln!("govc serve: listening on {scheme}://{addr} (bundle {})", service.state.policy().hash());
        service.run(stop_signal()).await?;
        eprintln!("govc serve: stopped");
        Ok(())
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
