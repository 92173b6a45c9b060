//! A service on a loopback port for the tests, with a clock they move by hand, and a
//! blocking HTTP client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test helpers

use gov_serve::{Config, ManualClock, Reloader, Service, Source};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// 2026-03-03T16:00:00Z in nanoseconds: the finance example's request time.
pub const START: i64 = 1_772_553_600_000_000_000;

/// One hour in nanoseconds.
pub const HOUR: i64 = 3_600_000_000_000;

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gov-serve").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running service.
pub struct Server {
    pub addr: SocketAddr,
    pub clock: Arc<ManualClock>,
    pub reloader: Reloader,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::sync::oneshot::Receiver<Result<(), String>>>,
}

/// The configuration for the finance example on a free loopback port.
pub fn finance() -> Config {
    config(root().join("examples/finance"))
}

/// The configuration for the policy at `path` on a free loopback port.
pub fn config(path: PathBuf) -> Config {
    let source = Source { path, data: Vec::new(), public_key: None, limits: gov_vm::Limits::default() };
    let mut config = Config::new(source, "127.0.0.1:0".parse().unwrap());
    config.watch = None;
    config
}

impl Server {
    /// Starts a service with `config`.
    pub fn start(config: Config) -> Server {
        Server::try_start(config).unwrap()
    }

    /// Starts a service with `config`, or the error binding it.
    pub fn try_start(config: Config) -> Result<Server, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let clock = Arc::new(ManualClock::new(START));
        let service = runtime.block_on(Service::bind(config, clock.clone()))?;
        let addr = service.local_addr().unwrap();
        let reloader = service.reloader();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (finished, done) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            let result = service
                .run(async move {
                    let _ = stopped.await;
                })
                .await;
            let _ = finished.send(result);
        });
        Ok(Server { addr, clock, reloader, runtime: Some(runtime), stop: Some(stop), done: Some(done) })
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits (at most 20 s) until `n` long polls wait, by `gov_long_polls` (the local
    /// administrator reads metrics).
    pub fn wait_for_polls(&self, n: usize) {
        let line = format!("gov_long_polls {n}");
        for _ in 0..200 {
            if Client::new().get(&self.url("/metrics")).text.lines().any(|l| l == line) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("{n} long polls never waited");
    }

    /// Reloads the policy.
    pub fn reload(&self) -> Result<String, String> {
        self.runtime.as_ref().unwrap().block_on(self.reloader.reload())
    }

    /// Stops the service gracefully and waits for it.
    pub fn stop(mut self) -> Result<(), String> {
        self.stop.take().unwrap().send(()).unwrap();
        let done = self.done.take().unwrap();
        self.runtime.as_ref().unwrap().block_on(done).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        }
    }
}

/// An HTTP answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub text: String,
    /// The `Location` header of a redirect.
    pub location: String,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The error code of a JSON error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// A client, optionally with a bearer token.
pub struct Client {
    agent: ureq::Agent,
    token: Option<String>,
    /// Extra headers sent with every request.
    headers: Vec<(String, String)>,
}

impl Client {
    /// A client without a token.
    pub fn new() -> Client {
        Client::with(None)
    }

    /// A client sending `token`.
    pub fn token(token: &str) -> Client {
        Client::with(Some(token.to_owned()))
    }

    fn with(token: Option<String>) -> Client {
        let agent: ureq::Agent =
            ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
        Client { agent, token, headers: Vec::new() }
    }

    /// The same client, sending `name: value` too.
    pub fn header(mut self, name: &str, value: &str) -> Client {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// POST a form.
    pub fn form(&self, url: &str, body: &str) -> Answer {
        let mut request = self.agent.post(url).header("Content-Type", "application/x-www-form-urlencoded");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        Self::answer(request.send(body.as_bytes()))
    }

    /// GET.
    pub fn get(&self, url: &str) -> Answer {
        let mut request = self.agent.get(url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        Self::answer(request.call())
    }

    /// POST a body.
    pub fn post(&self, url: &str, body: impl AsRef<[u8]>) -> Answer {
        let mut request = self.agent.post(url).header("Content-Type", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        Self::answer(request.send(body.as_ref()))
    }

    fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
        let mut response = response.unwrap();
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let text = response.body_mut().read_to_string().unwrap();
        Answer { status, text, location }
    }
}

/// The finance example's large payment, without the approvals its file states: it
/// escalates to treasury (two approvals, not from the requester's owner tom) and to the
/// fraud desk (risk 70).
pub fn large_payment() -> String {
    let mut request: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/finance/requests/large_payment.json")).unwrap(),
    )
    .unwrap();
    request.as_object_mut().unwrap().remove("approval_at");
    request.to_string()
}

/// The finance example's routine payment (allowed).
pub fn routine_payment() -> String {
    std::fs::read_to_string(root().join("examples/finance/requests/routine_payment.json")).unwrap()
}
