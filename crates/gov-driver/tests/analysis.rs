#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The conflict analysis on small packages: what the search answers for a pair of rules
//! (candidate, disjoint or unknown), and that only the engine's confirmation makes a
//! finding.

use gov_analysis::{Outcome, PairKind, Witness};
use gov_driver::Package;
use gov_driver::analysis::{self, Finding};

/// A one-file package, checked clean.
fn package(body: &str) -> Package {
    let source = format!("package p\n{body}\n");
    let package = Package::from_sources(vec![("p.gov".to_owned(), source)]).unwrap();
    assert!(package.errors().is_none(), "{:?}", package.errors().map(|e| e.diagnostics));
    package
}

/// The analysis's answer for the package's only allow and its only deny or escalate.
fn outcome(body: &str) -> Outcome {
    let package = package(body);
    let pairs = gov_analysis::pairs(&package.ir().unwrap(), gov_analysis::Data::Any);
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    pairs.into_iter().next().unwrap().outcome
}

/// The findings with no data files.
fn findings(body: &str) -> Vec<Finding> {
    let package = package(body);
    analysis::findings(&package.ir().unwrap(), &package.sources(), &[])
}

/// The one finding of the package, which must be a confirmed overlap: its witness.
fn confirmed(body: &str) -> gov_diag::Witness {
    match findings(body).as_slice() {
        [Finding::Overlap(_, confirmed)] => confirmed.witness().clone(),
        other => panic!("expected one confirmed overlap, found {other:?}"),
    }
}

fn disjoint(body: &str) {
    assert_eq!(outcome(body), Outcome::Disjoint, "{body}");
}

fn unknown(body: &str, reason: &str) {
    match outcome(body) {
        Outcome::Unknown(why) => assert!(why.contains(reason), "{why}"),
        other => panic!("expected unknown ({reason}), found {other:?}"),
    }
}

#[test]
fn overlapping_intervals_conflict_and_the_engine_confirms_the_witness() {
    let witness = confirmed("input one t(x: Int)\nallow a :- t(x), x < 100.\ndeny d :- t(x), x > 10.");
    let x = witness.input["t"][0]["x"].as_i64().unwrap();
    assert!(x > 10 && x < 100, "{witness:?}");
    assert_eq!(witness.data, serde_json::json!({}));
}

#[test]
fn disjoint_intervals_and_integer_gaps_do_not_conflict() {
    disjoint("input one t(x: Int)\nallow a :- t(x), x < 10.\ndeny d :- t(x), x >= 10.");
    // No Int lies strictly between 1 and 2.
    disjoint("input one t(x: Int)\nallow a :- t(x), x > 1.\ndeny d :- t(x), x < 2.");
    // Orders through several variables: x < y < z < x is a cycle.
    disjoint("input one t(x: Int, y: Int, z: Int)\nallow a :- t(x, y, z), x < y, y < z.\ndeny d :- t(x, y, z), z < x.");
}

#[test]
fn a_decimal_fits_between_two_close_bounds() {
    let witness = confirmed("input one p(x: Decimal)\nallow a :- p(x), x < 1.5.\ndeny d :- p(x), x > 1.4.");
    let x: f64 = witness.input["p"][0]["x"].as_str().unwrap().parse().unwrap();
    assert!(x > 1.4 && x < 1.5, "{witness:?}");
}

#[test]
fn times_durations_strings_and_booleans() {
    disjoint(
        "input one e(at: Time)\nallow a :- e(t), t < 2026-01-01T00:00:00Z.\ndeny d :- e(t), t >= 2026-01-01T00:00:00Z.",
    );
    let witness = confirmed(
        "input one e(at: Time)\nallow a :- e(t), t <= 2026-01-01T00:00:00Z.\ndeny d :- e(t), t >= 2026-01-01T00:00:00Z.",
    );
    assert_eq!(witness.input["e"][0]["at"], "2026-01-01T00:00:00Z");
    disjoint("input one w(d: Duration)\nallow a :- w(d), d < 15m.\ndeny d :- w(d), d > 1h.");
    confirmed("input one w(d: Duration)\nallow a :- w(d), d < 15m.\ndeny d :- w(d), d != 0s.");
    disjoint("input one c(who: Str)\nallow a :- c(\"alice\").\ndeny d :- c(\"bob\").");
    disjoint("input one c(who: Str)\nallow a :- c(w), w = \"alice\".\ndeny d :- c(w), w != \"alice\".");
    disjoint("input one b(on: Bool)\nallow a :- b(true).\ndeny d :- b(false).");
    confirmed("input one b(on: Bool)\nallow a :- b(x).\ndeny d :- b(true).");
}

#[test]
fn a_negation_rules_a_conflict_out_only_when_the_input_is_one_fact() {
    let rules = "data blocked(who: Str)\nallow a :- t(x), not blocked(x).\ndeny d :- t(x), blocked(x).";
    disjoint(&format!("input one t(who: Str)\n{rules}"));
    // With several facts of `t`, one can be blocked and another not: a real conflict.
    let witness = confirmed(&format!("input t(who: Str)\n{rules}"));
    assert_eq!(witness.input["t"].as_array().unwrap().len(), 2, "{witness:?}");
    assert_eq!(witness.data["blocked"].as_array().unwrap().len(), 1, "{witness:?}");
}

#[test]
fn derived_relations_are_unfolded_into_each_of_their_rules() {
    let derived = "input one t(x: Int)\nok(x) :- t(x), x < 5.\nok(x) :- t(x), x > 100.\nallow a :- t(x), ok(x).";
    disjoint(&format!("{derived}\ndeny d :- t(x), x >= 10, x <= 50."));
    let witness = confirmed(&format!("{derived}\ndeny d :- t(x), x = 200."));
    assert_eq!(witness.input["t"][0]["x"], 200);
    // A constant in a derived relation's head meets the atom's argument.
    disjoint("input one t(x: Int)\nlevel(\"low\") :- t(x), x < 5.\nallow a :- level(\"high\").\ndeny d :- t(x).");
}

#[test]
fn a_conflict_through_data_names_the_facts_it_needs() {
    let witness = confirmed(
        "input one t(agent: Str)\ndata role(agent: Str, role: Str)\n\
         allow a :- t(x), role(x, \"admin\").\ndeny d :- t(x), role(x, \"intern\").",
    );
    let roles = witness.data["role"].as_array().unwrap();
    assert_eq!(roles.len(), 2, "{witness:?}");
    assert_eq!(roles[0]["agent"], roles[1]["agent"]);
}

#[test]
fn outside_the_fragment_the_answer_is_unknown_with_the_reason() {
    unknown(
        "input one t(x: Int)\ndata v(x: Int)\nallow a :- t(x), n = count(y : v(y)), n > x.\ndeny d :- t(_).",
        "aggregate",
    );
    unknown("input one t(x: Int)\nallow a :- t(x), x + 1 > 5.\ndeny d :- t(_).", "arithmetic");
    unknown(
        "input one t(x: Str)\ndata e(a: Str, b: Str)\nreach(a, b) :- e(a, b).\nreach(a, c) :- e(a, b), reach(b, c).\n\
         allow a :- t(x), reach(x, \"root\").\ndeny d :- t(_).",
        "recursive",
    );
    unknown(
        "input one t(x: Str, y: Str, z: Str)\nallow a :- t(x, y, z), x >= \"a\", x <= \"a\\u{0}\", y >= \"a\", \
         y <= \"a\\u{0}\", z >= \"a\", z <= \"a\\u{0}\", x != y, y != z, x != z.\ndeny d :- t(_, _, _).",
        "string orders",
    );
    unknown(
        "input one t(x: Int)\ndata e(a: Int, b: Int)\nbig(x) :- e(x, y), e(y, _).\nallow a :- t(x), not big(x).\n\
         deny d :- t(_).",
        "the negation of `big` cannot be written",
    );
}

#[test]
fn an_override_silences_its_conflict_and_a_stale_one_is_reported() {
    let used = "input one t(x: Int)\nallow a :- t(x), x < 100.\n@overrides(a)\ndeny d :- t(x), x > 10.";
    assert!(matches!(findings(used).as_slice(), [Finding::Overlap(PairKind::Override, _)]));
    let used = package(used);
    let ir = used.ir().unwrap();
    let ir = &*ir;
    assert!(analysis::diagnostics(ir, &used.sources(), &[]).is_empty());
    let stale = "input one t(x: Int)\nallow a :- t(x), x < 10.\n@overrides(a)\ndeny d :- t(x), x > 10.";
    let stale = package(stale);
    let ir = stale.ir().unwrap();
    let ir = &*ir;
    let diagnostics = analysis::diagnostics(ir, &stale.sources(), &[]);
    assert_eq!(diagnostics.iter().map(|d| d.code.id).collect::<Vec<_>>(), ["W0702"]);
}

#[test]
fn a_candidate_the_engine_does_not_fire_is_never_a_finding() {
    let package = package("input one t(x: Int)\nallow a :- t(x), x < 100.\ndeny d :- t(x), x > 10.");
    let ir = package.ir().unwrap();
    let ir = &*ir;
    let pair = gov_analysis::pairs(ir, gov_analysis::Data::Any).into_iter().next().unwrap();
    let Outcome::Candidate(good) = pair.outcome else { panic!("expected a candidate") };
    assert!(analysis::confirm(ir, &package.sources(), &[], pair.allow, pair.other, &good).is_ok());
    // The same witness with x = 5: only the allow fires, so no `Confirmed` can be made.
    let mut bad: Witness = good.clone();
    bad.input[0].values[0] = gov_analysis::Value::Int(5);
    let refused = analysis::confirm(ir, &package.sources(), &[], pair.allow, pair.other, &bad);
    assert!(refused.unwrap_err().contains("did not fire both"));
}

#[test]
fn package_data_that_breaks_a_candidate_leaves_the_pair_unknown() {
    // The search ignores the package's data; the engine runs with it, and a blocked list
    // that holds every value the witness could use makes the candidate fail there.
    let package = package(
        "input one t(x: Bool)\ndata blocked(x: Bool)\nallow a :- t(x), not blocked(x).\ndeny d :- t(x), x = x.",
    );
    let ir = package.ir().unwrap();
    let ir = &*ir;
    let data =
        [("d.json".to_owned(), gov_vm::json::parse_document(r#"{"blocked": [{"x": true}, {"x": false}]}"#).unwrap())];
    let found = analysis::findings(ir, &package.sources(), &data);
    assert!(matches!(found.as_slice(), [Finding::Unknown(..)]), "{found:?}");
}

/// Cases the brute-force property test found (tests/analysis_brute_force.rs), kept here.
#[test]
fn orders_force_equalities_and_negations_force_disequalities() {
    let t = "input one t(x: Int, y: Int)\ndata dd(v: Int)\n";
    // `x <= y` and `x >= y` force `x = y`, against `x != y`.
    disjoint(&format!("{t}allow a :- t(x, y), x != y, x <= y.\ndeny d :- t(x, y), x >= y."));
    // Picking `x` first must leave `y` room above it.
    confirmed(&format!("{t}allow a :- t(x, y), x != y, y > 0.\ndeny d :- t(x, y), x >= y."));
    // `not dd(x)` against the needed fact `dd(y)` requires `x != y`.
    confirmed(&format!("{t}allow a :- t(x, y), x <= y.\ndeny d :- t(x, y), y < 0, not dd(x), dd(y)."));
    // In a range of two values, avoiding a constant's value must not crowd out a disequality.
    confirmed(&format!("{t}allow a :- t(x, y), y < 3, x != y.\ndeny d :- t(x, y), x >= 1, x <= y."));
}

#[test]
fn with_the_package_s_data_a_witness_needs_no_data_of_its_own() {
    let package = package(
        "input one t(agent: Str)\ndata role(agent: Str, role: Str)\n\
         allow a :- t(x), role(x, \"admin\").\ndeny d :- t(x), role(x, \"intern\").",
    );
    let ir = package.ir().unwrap();
    let ir = &*ir;
    let data = |json: &str| [("p.data.json".to_owned(), gov_vm::json::parse_document(json).unwrap())];
    let witness = |json: &str| match analysis::findings(ir, &package.sources(), &data(json)).as_slice() {
        [Finding::Overlap(_, confirmed)] => confirmed.witness().clone(),
        other => panic!("expected one confirmed overlap, found {other:?}"),
    };
    // Today carol is both: the request is hers, and the data files are enough.
    let today = witness(
        r#"{"role": [{"agent": "alice", "role": "admin"}, {"agent": "carol", "role": "admin"}, {"agent": "carol", "role": "intern"}]}"#,
    );
    assert_eq!(today.input, serde_json::json!({"t": [{"agent": "carol"}]}));
    assert_eq!(today.data, serde_json::json!({}));
    // Today nobody is both: the conflict needs data facts of its own, added to today's.
    let tomorrow = witness(r#"{"role": [{"agent": "alice", "role": "admin"}, {"agent": "bob", "role": "intern"}]}"#);
    assert_eq!(tomorrow.data["role"].as_array().unwrap().len(), 2, "{tomorrow:?}");
    // Fixed to today's data, the search proves the pair apart.
    let role = ir.relations.iter().position(|r| r.name == "role").unwrap();
    let fact = |agent: &str, role_name: &str| gov_analysis::Fact {
        relation: gov_ir::RelationId(u32::try_from(role).unwrap()),
        values: vec![gov_analysis::Value::Str(agent.into()), gov_analysis::Value::Str(role_name.into())],
    };
    let facts = [fact("alice", "admin"), fact("bob", "intern")];
    let pairs = gov_analysis::pairs(ir, gov_analysis::Data::Fixed(&facts));
    assert_eq!(pairs[0].outcome, Outcome::Disjoint);
}

/// The allow is shadowed with any data (proved by containment), but the example the analysis
/// proposes needs `6` not to be blocked: with a data file that blocks it, the engine does not
/// fire the allow on the example, and no W0704 is made, though the proof stands.
#[test]
fn a_shadowed_allow_is_reported_only_when_the_engine_fires_both_rules() {
    let package = package(
        "input one t(x: Int)\ndata blocked(x: Int)\nallow a :- t(x), x > 5, not blocked(x).\ndeny d :- t(x), x > 0.",
    );
    let ir = package.ir().unwrap();
    let proved = gov_analysis::redundant::redundancies(&ir).proved;
    assert!(
        matches!(proved.as_slice(), [p] if matches!(p.what(), gov_analysis::redundant::Redundant::Shadowed { .. })),
        "{proved:?}"
    );
    assert_eq!(analysis::redundancies(&ir, &package.sources(), &[]).len(), 1);
    let blocks_the_example =
        [("p.data.json".to_owned(), gov_vm::json::parse_document(r#"{"blocked": [{"x": 6}]}"#).unwrap())];
    assert_eq!(analysis::redundancies(&ir, &package.sources(), &blocks_the_example), Vec::new());
}

/// A rule that is dead but outside the fragment (an aggregate) is undecided, never dead.
#[test]
fn a_dead_rule_outside_the_fragment_is_undecided_not_reported() {
    let package = package(
        "input one t(x: Int)\ndata u(x: Int)\ndeny d :- t(x), n = count(y : u(y)), n > 3, n < 2.\nallow a :- t(_).",
    );
    let report = gov_analysis::redundant::redundancies(&package.ir().unwrap());
    assert!(report.proved.is_empty(), "{:?}", report.proved);
    assert_eq!(report.undecided.len(), 1);
    assert!(report.undecided[0].reason.contains("aggregate"), "{:?}", report.undecided);
}
