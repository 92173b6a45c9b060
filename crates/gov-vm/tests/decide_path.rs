#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! What a decision leaves out of its work without changing what it decides: the risk
//! score's row is stored only when a rule reads `risk_score` (and its sum is checked only
//! when the policy has `risk` rules).

use gov_driver::{Package, fs::Disk, read_data};
use gov_vm::{Engine, EvalError, Outcome};

/// The engine of a one-file package `source` (no data).
fn engine(source: &str) -> Engine {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("policy.gov"), source).unwrap();
    let package = Package::load(&Disk, dir.path()).unwrap();
    assert!(package.errors().is_none(), "the package does not check: {source}");
    let data = read_data(&Disk, package.data_files()).unwrap();
    let program = package.compile(&data).unwrap();
    Engine::load(&gov_vm::bundle::write(&program).unwrap()).unwrap()
}

/// The outcome of `points` and the rows of `risk_score` the session holds after it.
fn decide(engine: &Engine, points: i64) -> (Result<Outcome, EvalError>, usize) {
    let request = engine.request_from_json(&format!(r#"{{"request": [{{"points": {points}}}]}}"#)).unwrap();
    let mut session = engine.session();
    let outcome = engine.decide_in(&mut session, &request).map(|d| d.outcome);
    let rel = engine.relation_id("risk_score").unwrap();
    (outcome, engine.facts(&session, rel).len())
}

const HEAD: &str = "package p\n\ninput one request(points: Int)\n\n";

/// A policy that never reads `risk_score` does not store it; one that does, does, and
/// decides by it.
#[test]
fn the_risk_score_is_stored_only_for_a_rule_that_reads_it() {
    let unread = engine(&format!("{HEAD}allow a :- request(p), p > 0.\n"));
    assert_eq!(decide(&unread, 5), (Ok(Outcome::Allow), 0));
    let unread_with_risk = engine(&format!("{HEAD}risk r p :- request(p).\nallow a :- request(_).\n"));
    assert_eq!(decide(&unread_with_risk, 5), (Ok(Outcome::Allow), 0));
    let read = engine(&format!("{HEAD}risk r p :- request(p).\nallow a :- risk_score(s), s < 10.\n"));
    assert_eq!(decide(&read, 5), (Ok(Outcome::Allow), 1));
    assert_eq!(decide(&read, 50), (Ok(Outcome::Deny), 1));
}

/// Without a reader, a risk score that overflows still fails the decision, as it did when
/// the score was always stored.
#[test]
fn an_unread_risk_score_that_overflows_still_fails_the_decision() {
    let engine =
        engine(&format!("{HEAD}risk big p :- request(p).\nrisk one 1 :- request(_).\nallow a :- request(_).\n"));
    let overflow = EvalError::Arithmetic(gov_value::ArithError::Overflow);
    assert_eq!(decide(&engine, i64::MAX).0, Err(overflow));
    assert_eq!(decide(&engine, 1).0, Ok(Outcome::Allow));
}
