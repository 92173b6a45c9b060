#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Rule indexing (issue 14): rules that test constants on an input relation's columns run
//! only for the facts that hold those constants, so a decision's work does not grow with
//! the rules a request cannot match. The work is counted exactly: every instruction is a
//! step against `Limits::max_steps`, so a budget far below the number of rules decides
//! only if the rules the request cannot match never run (a deterministic assertion, not a
//! timing). Without indexing, each of the 1 000 rules runs its scan and the budget is spent.

use gov_driver::{Package, fs::Disk, read_data};
use gov_vm::{Engine, Limits, Outcome};
use std::fmt::Write;

const RULES: usize = 1_000;

/// A package of `RULES` deny rules, rule `i` on action `act_{i % 40}` and resource type
/// `type_{i / 40}` above amount `1000 + i`, one allow rule for every request, and a rule
/// whose constant sits behind an aggregate (never indexed: a count of nothing still fires).
fn engine() -> Engine {
    let mut gov = String::from(
        "package indexed\n\ninput request(action: Str, resource_type: Str, amount: Int)\n\nallow otherwise :- request(_, _, _).\n\n\
         deny no_reads :- n = count(a : request(\"read\", _, a)), n = 0, request(\"audit\", _, _).\n\n",
    );
    for i in 0..RULES {
        let (action, ty) = (i % 40, i / 40);
        writeln!(gov, "deny rule_{i} :- request(\"act_{action}\", \"type_{ty}\", amount), amount > {}.", 1000 + i)
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("indexed.gov"), gov).unwrap();
    let package = Package::load(&Disk, dir.path()).unwrap();
    assert!(package.errors().is_none(), "the generated package does not check");
    let data = read_data(&Disk, package.data_files()).unwrap();
    let program = package.compile(&data).unwrap();
    let limits = Limits { max_steps: 60, ..Limits::REQUEST };
    Engine::load(&gov_vm::bundle::write(&program).unwrap()).unwrap().with_limits(limits)
}

/// The outcome of `facts` (action, resource type, amount) and the names of the rules fired.
fn decide(engine: &Engine, facts: &[(&str, &str, i64)]) -> (Outcome, Vec<String>) {
    let facts: Vec<String> = facts
        .iter()
        .map(|(a, t, n)| format!(r#"{{"action": "{a}", "resource_type": "{t}", "amount": {n}}}"#))
        .collect();
    let request = engine.request_from_json(&format!(r#"{{"request": [{}]}}"#, facts.join(", "))).unwrap();
    let decision = engine.decide(&request).unwrap();
    let program = engine.program();
    let names = decision.fired.iter().map(|f| program.string(program.decisions[f.decision as usize].name).to_owned());
    (decision.outcome, names.collect())
}

#[test]
fn a_request_runs_only_the_rules_its_facts_can_match() {
    let engine = engine();
    // Rule 125 is act_5 on type_3 above 1125.
    assert_eq!(
        decide(&engine, &[("act_5", "type_3", 1_126)]),
        (Outcome::Deny, vec!["otherwise".into(), "rule_125".into()])
    );
    assert_eq!(decide(&engine, &[("act_5", "type_3", 1_125)]), (Outcome::Allow, vec!["otherwise".into()]));
    assert_eq!(decide(&engine, &[("act_99", "type_3", 9_999)]), (Outcome::Allow, vec!["otherwise".into()]));
}

#[test]
fn every_fact_of_a_relation_that_is_not_one_selects_its_rules() {
    let engine = engine();
    let facts = [("act_1", "type_0", 5_000), ("act_2", "type_1", 5_000), ("act_1", "type_0", 6_000)];
    assert_eq!(decide(&engine, &facts), (Outcome::Deny, vec!["otherwise".into(), "rule_1".into(), "rule_42".into()]));
}

#[test]
fn a_constant_under_an_aggregate_does_not_index_its_rule() {
    let engine = engine();
    let fired = decide(&engine, &[("audit", "type_0", 1)]);
    assert_eq!(fired, (Outcome::Deny, vec!["otherwise".into(), "no_reads".into()]));
}
