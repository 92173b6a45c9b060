//! `govc serve` as a process: flags refused at start, and the crash test — under load, the
//! server is killed with SIGKILL and restarted; every decision acknowledged to a client is
//! in the audit log, and the chain verifies.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // the helpers outside #[test] functions

mod common;

use common::{govc, root};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[test]
fn without_tokens_a_public_address_is_refused() {
    let run = govc(&["serve", "examples/finance", "--addr", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("without --tokens"), "{}", run.stderr);
}

#[test]
fn a_policy_that_does_not_load_is_refused_at_start() {
    let run = govc(&["serve", "examples/nothing-here", "--addr", "127.0.0.1:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("examples/nothing-here"), "{}", run.stderr);
}

/// A running `govc serve` and the address it printed.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start(log: &std::path::Path) -> Serve {
        let log = log.to_str().unwrap();
        Serve::with(&["examples/finance", "--fsync", "interval", "--log", log])
    }

    fn with(args: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_govc"))
            .current_dir(root())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first.split("listening on ").nth(1).unwrap().split(' ').next().unwrap().to_owned();
        // Keep draining what it prints.
        std::thread::spawn(move || for _ in lines {});
        Serve { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The finance example's routine payment.
fn request() -> String {
    std::fs::read_to_string(root().join("examples/finance/requests/routine_payment.json")).unwrap()
}

#[test]
fn every_acknowledged_decision_survives_a_sigkill_and_the_chain_verifies() {
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-crash-log");
    let _ = std::fs::remove_dir_all(&log);
    let mut serve = Serve::start(&log);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (url, acknowledged, stop) = (format!("{}/v1/decide", serve.url), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let body = request();
                while !stop.load(Ordering::SeqCst) {
                    // After the kill, requests fail: only answered ones count.
                    let Ok(mut response) = ureq::post(&url).send(body.as_bytes()) else { continue };
                    let text = response.body_mut().read_to_string().unwrap_or_default();
                    if let Ok(answer) = serde_json::from_str::<serde_json::Value>(&text)
                        && let Some(id) = answer["id"].as_str()
                    {
                        assert_eq!(answer["decision"], "allow");
                        acknowledged.lock().unwrap().push(id.to_owned());
                    }
                }
            })
        })
        .collect();
    // Bounded load: kill once 300 decisions were acknowledged, with requests in flight.
    while acknowledged.lock().unwrap().len() < 300 {
        std::thread::yield_now();
    }
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }

    // It restarts on the same log, resuming the chain, and stops cleanly on SIGTERM.
    let serve = Serve::start(&log);
    let after: serde_json::Value = serde_json::from_str(
        &ureq::post(&format!("{}/v1/decide", serve.url))
            .send(request().as_bytes())
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    let term = Command::new("kill").args(["-TERM", &serve.child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let mut serve = serve;
    assert!(serve.child.wait().unwrap().success());

    let verified = gov_audit::verify(&log, None).unwrap();
    assert!(verified.problem.is_none(), "{:?}", verified.problem);
    let decisions = gov_audit::search(
        &log,
        &gov_audit::Query { kind: Some("decision".to_owned()), ..gov_audit::Query::default() },
        None,
    )
    .unwrap();
    let logged: std::collections::HashSet<String> =
        decisions.found.iter().filter_map(|f| f.record["id"].as_str().map(str::to_owned)).collect();
    let acknowledged = acknowledged.lock().unwrap();
    assert!(acknowledged.len() >= 300);
    let missing: Vec<&String> = acknowledged.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(missing.is_empty(), "acknowledged but not logged: {missing:?}");
    assert!(logged.contains(after["id"].as_str().unwrap()));
}

/// The bundle hash `/health` reports.
fn health_bundle(serve: &Serve) -> String {
    let text = ureq::get(&format!("{}/health", serve.url)).call().unwrap().body_mut().read_to_string().unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()["bundle"].as_str().unwrap().to_owned()
}

/// Waits (at most 20 s) until `/health` reports a bundle other than `old`.
fn wait_for_new_bundle(serve: &Serve, old: &str) -> String {
    for _ in 0..200 {
        let now = health_bundle(serve);
        if now != old {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the bundle was not reloaded");
}

#[test]
fn sighup_and_a_changed_file_reload_the_policy() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-reload");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("p.gov");
    let policy = |rule: &str| format!("package p\n\ninput act(name: Str)\n\nallow {rule} :- act(_).\n");
    std::fs::write(&source, policy("first")).unwrap();

    let path = dir.to_str().unwrap();
    let mut hup = Serve::with(&[path, "--watch", "0s"]);
    let first = health_bundle(&hup);
    std::fs::write(&source, policy("second")).unwrap();
    let kill = Command::new("kill").args(["-HUP", &hup.child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let second = wait_for_new_bundle(&hup, &first);
    hup.child.kill().unwrap();
    hup.child.wait().unwrap();

    let watching = Serve::with(&[path, "--watch", "50ms"]);
    assert_eq!(health_bundle(&watching), second);
    std::fs::write(&source, policy("third")).unwrap();
    let third = wait_for_new_bundle(&watching, &second);
    assert_ne!(third, first);
}
