#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Deciding skips the rules whose facts no rule that runs can read (`gov_vm`'s dispatch,
//! `demanded`): on the planner's own case (`gov-compile/tests/plans/demand.gov`, whose
//! snapshot shows which rules are skipped when), a session that skips decides every request
//! as a full session does, and leaves the skipped rules' relations empty.

use gov_driver::Package;
use gov_vm::{Engine, Session};

const SOURCE: &str = include_str!("../../gov-compile/tests/plans/demand.gov");

fn engine() -> Engine {
    let package = Package::from_sources(vec![("demand.gov".to_owned(), SOURCE.to_owned())]).unwrap();
    assert!(package.errors().is_none());
    package.engine(&[]).unwrap()
}

/// The outcome, the rules fired and the facts of `relations`, deciding `request` in
/// `session`.
fn decide(engine: &Engine, session: &mut Session, request: &str, relations: &[&str]) -> (String, Vec<u32>, Vec<usize>) {
    let request = engine.request_from_json(request).unwrap();
    let decision = engine.decide_in(session, &request).unwrap().to_decision();
    let fired = decision.fired.iter().map(|f| f.decision).collect();
    let facts = relations.iter().map(|r| engine.facts(session, engine.relation_id(r).unwrap()).len()).collect();
    (decision.outcome.name().to_owned(), fired, facts)
}

#[test]
fn skipping_changes_what_is_derived_never_what_is_decided() {
    let engine = engine();
    let (mut skipping, mut full) = (engine.session(), engine.full_session());
    let relations = ["office_hours", "late", "doubled", "audit_day"];
    let request = |tool: &str, at: &str| {
        format!(r#"{{"call": [{{"tool": "{tool}", "target": "t", "cost": 100}}], "clock": [{{"at": "{at}"}}]}}"#)
    };
    // (tool, time, what a skipping session derives of `relations`, of a full one)
    let cases = [
        // Not a deploy: `office_hours` is skipped (only deploy rules read it), `audit_day`
        // always (nothing reads it); `late` runs (an unkeyed rule reads it), and `doubled`
        // too (its arithmetic could fail).
        ("read", "2026-03-03T10:00:00Z", [0, 0, 1, 0], [1, 0, 1, 1]),
        ("read", "2026-03-03T23:00:00Z", [0, 1, 1, 0], [0, 1, 1, 1]),
        // A deploy: `office_hours` runs.
        ("deploy", "2026-03-03T10:00:00Z", [1, 0, 1, 0], [1, 0, 1, 1]),
        ("deploy", "2026-03-03T23:00:00Z", [0, 1, 1, 0], [0, 1, 1, 1]),
    ];
    for (tool, at, skipped, every) in cases {
        let request = request(tool, at);
        let (outcome, fired, facts) = decide(&engine, &mut skipping, &request, &relations);
        let (full_outcome, full_fired, full_facts) = decide(&engine, &mut full, &request, &relations);
        assert_eq!((&outcome, &fired), (&full_outcome, &full_fired), "{tool} at {at}");
        assert_eq!(facts, skipped, "{tool} at {at}: the skipping session's facts");
        assert_eq!(full_facts, every, "{tool} at {at}: the full session's facts");
        let parsed = engine.request_from_json(&request).unwrap();
        assert_eq!(engine.decide(&parsed).unwrap().outcome.name(), outcome);
    }
    // The deploy in office hours escalates, the one at night is denied twice.
    let names = |fired: Vec<u32>| -> Vec<String> {
        fired.iter().map(|&d| engine.program().string(engine.program().decisions[d as usize].name).to_owned()).collect()
    };
    let (outcome, fired, _) = decide(&engine, &mut skipping, &request("deploy", "2026-03-03T10:00:00Z"), &[]);
    assert_eq!((outcome.as_str(), names(fired)), ("escalate", vec!["release".to_owned(), "fine".to_owned()]));
    let (outcome, fired, _) = decide(&engine, &mut skipping, &request("deploy", "2026-03-03T23:00:00Z"), &[]);
    assert_eq!(outcome, "deny");
    assert_eq!(names(fired), ["after_hours", "late_call", "fine"]);
}
