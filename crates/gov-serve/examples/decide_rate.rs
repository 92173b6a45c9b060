//! The in-process baseline of the service's load benchmark (`bench/run.sh`): how many
//! times a second one thread turns the request's JSON into a decision JSON with the same
//! engine `govc serve` loads, and how many bare `Engine::decide` calls of the parsed request.
//!
//! `cargo run --release -p gov-serve --example decide_rate -- POLICY REQUEST.json [SECONDS]`
//!
//! With `xN` instead of SECONDS it makes N JSON-to-JSON decisions untimed and exits, for
//! `valgrind --tool=callgrind` (docs/performance.md: instructions per request byte).

use gov_serve::Source;
use gov_serve::policy::Policy;
use std::time::{Duration, Instant};

/// Runs `work` for `seconds` and returns the calls per second.
fn rate(seconds: f64, mut work: impl FnMut()) -> f64 {
    let deadline = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < deadline {
        for _ in 0..256 {
            work();
        }
        calls += 256;
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [policy, request, rest @ ..] = args.as_slice() else {
        return Err("usage: decide_rate POLICY REQUEST.json [SECONDS]".to_owned());
    };
    let calls = rest.first().and_then(|s| s.strip_prefix('x')).map(str::parse::<u64>).transpose();
    let calls = calls.map_err(|e| format!("xN: {e}"))?;
    let seconds: f64 = match calls {
        Some(_) => 0.0,
        None => rest.first().map_or(Ok(3.0), |s| s.parse()).map_err(|e| format!("SECONDS: {e}"))?,
    };
    let source = Source { path: policy.into(), data: Vec::new(), public_key: None, limits: gov_vm::Limits::default() };
    let policy = Policy::load(&source, 0)?;
    let text = std::fs::read_to_string(request).map_err(|e| format!("{request}: {e}"))?;
    let engine = &policy.engine;
    let parsed = engine.request_from_json(&text).map_err(|e| e.to_string())?;
    let json_to_json = || {
        let request = engine.request_from_json(std::hint::black_box(&text)).ok();
        let decision = request.as_ref().and_then(|r| engine.decide(r).ok());
        if let (Some(request), Some(decision)) = (request, decision) {
            std::hint::black_box(engine.decision_text(&request, &decision).ok());
        }
    };
    if let Some(calls) = calls {
        (0..calls).for_each(|_| json_to_json());
        println!("{calls} JSON-to-JSON decisions of {} bytes", text.len());
        return Ok(());
    }
    let full = rate(seconds, json_to_json);
    let bare = rate(seconds, || {
        std::hint::black_box(engine.decide(&parsed).ok());
    });
    println!("in-process, one thread: JSON in → decision JSON out: {full:.0}/s; Engine::decide alone: {bare:.0}/s");
    Ok(())
}
