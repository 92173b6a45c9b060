#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Deciding into a warm session allocates nothing (issue 14): `examples/payments`, built as
//! `govc build` builds it, decides each of its requests through `Engine::decide_in` with
//! no heap allocation once the session has decided it once. The count is exact (this test
//! binary links `allocation_counter`'s global allocator, which counts per thread), so this
//! is a deterministic assertion, not a timing.

mod common;

use common::example;
use gov_vm::{Engine, Outcome, Request};
use std::path::Path;

/// The payments example's engine, compiled with its data.
fn payments() -> Engine {
    example("payments")
}

/// Each request of `examples/payments/requests`, by name, and a few more that make other
/// rules fire (an escalation, a risk score, a manager to notify, the aggregate of the day's
/// transfers), so every kind of firing and the risk stratum are on the path measured.
fn requests(engine: &Engine) -> Vec<(String, Request)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/payments/requests");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut requests: Vec<(String, Request)> = files
        .iter()
        .map(|f| {
            (
                f.file_name().unwrap().to_string_lossy().into_owned(),
                engine.request_from_json(&std::fs::read_to_string(f).unwrap()).unwrap(),
            )
        })
        .collect();
    for (agent, amount, to) in [("bot-2", 18_000, "acct-7"), ("bot-1", 1_500, "acct-9"), ("bot-3", 600_000, "acct-1")] {
        let text = format!(
            r#"{{"transfer": [{{"agent": "{agent}", "amount": {amount}, "to": "{to}"}}],
                 "request_time": [{{"at": "2026-03-03T15:10:00Z"}}], "requested_by": [{{"requester": "{agent}"}}]}}"#
        );
        requests.push((format!("{agent} moves {amount} to {to}"), engine.request_from_json(&text).unwrap()));
    }
    requests
}

#[test]
fn deciding_payments_in_a_warm_session_allocates_nothing() {
    let engine = payments();
    let requests = requests(&engine);
    let mut outcomes = Vec::new();
    let mut session = engine.session();
    // Warm-up: each request once, so every buffer of the session has grown to fit it.
    for (_, request) in &requests {
        let decided = engine.decide_in(&mut session, request).unwrap();
        outcomes.push(decided.outcome);
    }
    assert!(outcomes.contains(&Outcome::Deny) && outcomes.contains(&Outcome::Escalate), "{outcomes:?}");
    for (name, request) in &requests {
        let mut fired = 0;
        let counted = allocation_counter::measure(|| {
            for _ in 0..10 {
                fired = engine.decide_in(&mut session, request).unwrap().fired().len();
            }
        });
        assert_eq!(counted.count_total, 0, "{name}: {} allocations in 10 decisions", counted.count_total);
        assert!(fired > 0, "{name}: no rule fired");
    }
    // What the warm session decided is what a fresh one decides.
    for (name, request) in &requests {
        let warm = engine.decide_in(&mut session, request).unwrap().to_decision();
        assert_eq!(warm, engine.decide_in(&mut engine.session(), request).unwrap().to_decision(), "{name}");
    }
}

/// Built-ins allocate nothing either once the session is warm, but to parse a URL or to
/// write a path anew: the coding-agent example's requests (paths normalised and split,
/// commands split by a regex and matched, calendar days and hours in Paris, each a string
/// new to the program) decide with no allocation, an HTTP request with only those of
/// parsing its URL, once (the URL is parsed for `url.host` and remembered for
/// `url.scheme`), and a path that normalisation changes (`/repo/../etc/passwd`) with one,
/// its new text (a path already normal is its own normal form, a slice of the request's).
#[test]
fn built_ins_in_a_warm_session_allocate_nothing_but_a_url_parse() {
    let engine = example("coding-agent");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/coding-agent/requests");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut session = engine.session();
    let (mut urls, mut others) = (0, 0);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let request = engine.request_from_json(&text).unwrap();
        // Warm: the second decision keeps the first's made strings' buffers for the third.
        for _ in 0..2 {
            engine.decide_in(&mut session, &request).unwrap();
        }
        let counted = allocation_counter::measure(|| {
            for _ in 0..10 {
                engine.decide_in(&mut session, &request).unwrap();
            }
        });
        let name = file.file_name().unwrap().to_string_lossy();
        if text.contains("/..") {
            assert!(counted.count_total <= 10, "{name}: {} allocations in 10 decisions", counted.count_total);
        } else if text.contains("http_request") {
            urls += 1;
            // The url crate's parse of these plain ASCII URLs allocates three times (the
            // host's ASCII form, the host, the URL's serialisation): once per decision.
            assert!(counted.count_total <= 30, "{name}: {} allocations in 10 decisions", counted.count_total);
        } else {
            others += 1;
            assert_eq!(counted.count_total, 0, "{name}: {} allocations in 10 decisions", counted.count_total);
        }
    }
    assert!(urls >= 3 && others >= 10, "{urls} HTTP requests, {others} others");
}
