#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc test` as a command: the fixture packages under `tests/test/`, exit codes,
//! `--filter`, coverage and its threshold, and the human, JSON and JUnit outputs.
//!
//! - `tests/test/passing`: every kind of expectation (deny/allow/escalate with rules and
//!   approvers, obligation, risk, error), a `with data` fixture, given facts of every type,
//!   a recursive rule; every rule exercised. Its `payments.data.json` would break three
//!   tests if it were read: tests bring their own data.
//! - `tests/test/failing`: one test passes, one fails two expectations, one has no
//!   `expect`, one names a missing fixture; one rule is never exercised.
//! - `tests/test/broken`: does not check.

mod common;
use common::{Run, govc, root};
use serde_json::Value;
use std::path::PathBuf;

fn test(args: &[&str]) -> Run {
    let mut all = vec!["test", "--color", "never"];
    all.extend_from_slice(args);
    govc(&all)
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout))
}

/// The output with the run's duration blanked.
fn stable(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("finished in ") {
            Some(at) => format!("{}finished in [time]", &line[..at]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govc-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---- human output and exit codes ----------------------------------------------------

#[test]
fn passing_package_exits_0_and_lists_every_test() {
    let run = test(&["tests/test/passing"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("running 6 tests in payments (tests/test/passing)\n"), "{}", run.stdout);
    for name in [
        "an over-limit transfer is denied",
        "a routine transfer is allowed",
        "a big transfer waits for finance and notifies the chain",
        "a scaled amount is denied",
        "overflowing arithmetic is an error",
        "context values of every type",
    ] {
        assert!(run.stdout.contains(&format!("test payments: \"{name}\" ... ok\n")), "{name}:\n{}", run.stdout);
    }
    assert!(
        run.stdout.contains("test result: ok. 6 passed; 0 failed; 0 errors; 0 filtered out; finished in "),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("coverage"), "coverage only when asked:\n{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn failing_package_shows_expected_actual_derivation_and_location() {
    let run = test(&["tests/test/failing"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("test limits: \"a small transfer is allowed\" ... ok\n"));
    assert!(out.contains("test limits: \"an over-limit transfer is allowed\" ... FAILED\n"));
    assert!(out.contains("test limits: \"asserts nothing\" ... ERROR\n"));
    assert!(out.contains("at tests/test/failing/policy.gov:22:1\n"));
    assert!(out.contains("expect allow within (tests/test/failing/policy.gov:25:5)\n  expected: allow, with within fired\n  actual:   deny, with too_large fired\n"));
    assert!(out.contains(
        "expect risk 10 (tests/test/failing/policy.gov:26:5)\n  expected: risk score 10\n  actual:   risk score 0\n"
    ));
    assert!(out.contains("    ← over_limit(\"bot-1\", 6000, 5000) [rule at tests/test/failing/policy.gov:8:1]\n      ← transfer(\"bot-1\", 6000) [input]\n"));
    assert!(out.contains("error: the test has no `expect`, so it asserts nothing\n"));
    assert!(out.contains("test result: FAILED. 1 passed; 1 failed; 2 errors; 0 filtered out;"));
    insta::assert_snapshot!("failing_human", stable(out));
}

#[test]
fn a_package_that_does_not_check_fails_with_its_diagnostics() {
    let run = test(&["tests/test/broken"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("[E0202] Error: type mismatch"), "{}", run.stderr);
    assert!(run.stderr.contains("tests/test/broken/broken.gov:6:43"), "{}", run.stderr);
    assert!(
        run.stdout.contains("error: package broken (tests/test/broken) has 1 error; its tests were not run\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("test result: FAILED. 0 passed; 0 failed; 0 errors; 0 filtered out; 1 package with errors;"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_directory_is_searched_for_packages() {
    let run = test(&["tests/test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("running 4 tests in limits (tests/test/failing)\n"), "{}", run.stdout);
    assert!(run.stdout.contains("running 6 tests in payments (tests/test/passing)\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("test result: FAILED. 7 passed; 1 failed; 2 errors; 0 filtered out; 1 package with errors;"),
        "{}",
        run.stdout
    );

    let run = test(&["examples/"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("test payments: \"an over-limit transfer is denied\" ... ok\n"), "{}", run.stdout);
}

#[test]
fn a_single_file_is_a_package() {
    let run = test(&["tests/test/failing/policy.gov", "--filter", "small"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("running 1 test in limits (tests/test/failing/policy.gov)\n"), "{}", run.stdout);
}

#[test]
fn filter_runs_only_matching_tests() {
    let run = test(&["tests/test/passing", "--filter", "over-limit"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("test payments: \"an over-limit transfer is denied\" ... ok\n"));
    assert!(!run.stdout.contains("routine"), "{}", run.stdout);
    assert!(run.stdout.contains("1 passed; 0 failed; 0 errors; 5 filtered out;"), "{}", run.stdout);

    // Leaving the failing tests out makes the run pass.
    let run = test(&["tests/test/failing", "--filter", "small"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("1 passed; 0 failed; 0 errors; 3 filtered out;"), "{}", run.stdout);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let run = test(&["tests/test/no-such-package"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read `tests/test/no-such-package`"), "{}", run.stderr);

    let empty = scratch("empty");
    std::fs::create_dir_all(empty.join("sub")).unwrap();
    let run = test(&[empty.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("contains no `.gov` files"), "{}", run.stderr);

    let run = test(&["tests/test/passing", "--coverage-threshold", "150"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--coverage-threshold"), "{}", run.stderr);

    let run = test(&["tests/test/passing", "--format", "tap"]);
    assert_eq!(run.code, 2);
}

#[test]
fn tests_do_not_read_the_package_data_files() {
    // With `payments.data.json` read, acct-1 would be a known payee (risk 0, not 30) and
    // bot-1 an admin with a high limit (no deny).
    assert!(root().join("tests/test/passing/payments.data.json").exists());
    let run = test(&["tests/test/passing", "--filter", "denied"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("2 passed; 0 failed"), "{}", run.stdout);
}

#[test]
fn unmet_expectations_fail_and_bad_fixtures_are_errors() {
    let dir = scratch("mutations");
    std::fs::write(
        dir.join("p.gov"),
        "package p

input transfer(agent: Str, amount: Int)
data limit(agent: Str, max: Int)

deny too_large :- transfer(a, amt), limit(a, max), amt > max.
escalate big to \"finance\" :- transfer(_, amt), amt > 10000.
escalate enormous to \"fraud-desk\" :- transfer(_, amt), amt > 1000000.
obligation audit :- transfer(_, amt), amt > 100.

test \"wrong approver\" {
    given transfer(\"bot-1\", 20000).
    expect escalate big to \"fraud-desk\"
}

test \"missing obligation\" {
    given transfer(\"bot-1\", 5).
    expect obligation audit
}

test \"fixture with an input relation\" {
    with data \"bad.json\"
    given transfer(\"bot-1\", 5).
    expect deny
}

test \"no error\" {
    given transfer(\"bot-1\", 5).
    expect error
}
",
    )
    .unwrap();
    std::fs::write(dir.join("bad.json"), r#"{"transfer": [{"agent": "x", "amount": 1}]}"#).unwrap();
    let run = test(&[dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = json(&run);
    let tests = doc["packages"][0]["tests"].as_array().unwrap();
    let by_name = |name: &str| tests.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name}"));

    let t = by_name("wrong approver");
    assert_eq!(t["status"], "failed");
    assert_eq!(t["failures"][0]["expected"], "escalate, with big fired, approvers including \"fraud-desk\"");
    assert_eq!(t["failures"][0]["actual"], "escalate, with big, audit fired, approvers \"finance\"");
    assert_eq!(t["approvers"], serde_json::json!(["finance"]));

    let t = by_name("missing obligation");
    assert_eq!(t["status"], "failed");
    assert_eq!(t["failures"][0]["expected"], "obligations including audit");
    assert_eq!(t["failures"][0]["actual"], "no obligations");

    let t = by_name("fixture with an input relation");
    assert_eq!(t["status"], "error");
    assert!(t["error"].as_str().unwrap().contains("unknown data relation `transfer`"), "{t}");

    let t = by_name("no error");
    assert_eq!(t["status"], "failed");
    assert_eq!(t["failures"][0]["expected"], "an evaluation error");
    assert_eq!(t["failures"][0]["actual"], "deny, with no rule fired");
}

// ---- coverage -----------------------------------------------------------------------

#[test]
fn coverage_lists_rules_no_test_exercised() {
    let run = test(&["tests/test/passing", "--coverage"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Two `manages` rules (one recursive, whose semi-naive variants count once), two more
    // rules and seven decision rules.
    assert!(
        run.stdout.contains("coverage of payments (tests/test/passing): 11 of 11 rules exercised (100.0%)\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("not exercised"), "{}", run.stdout);

    let run = test(&["tests/test/failing", "--coverage"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains(
            "coverage of limits (tests/test/failing): 3 of 4 rules exercised (75.0%)\nnot exercised by any test:\n  tests/test/failing/policy.gov:14:1  escalate enormous\n"
        ),
        "{}",
        run.stdout
    );

    // Only the tests that run count.
    let run = test(&["tests/test/passing", "--coverage", "--filter", "routine"]);
    assert_eq!(run.code, 0);
    // `routine` fired; the fixture's reporting chain exercised both `manages` rules.
    assert!(run.stdout.contains("3 of 11 rules exercised (27.3%)"), "{}", run.stdout);
    assert!(run.stdout.contains("  tests/test/passing/payments.gov:18:1  rule over_limit\n"), "{}", run.stdout);
    assert!(run.stdout.contains("  tests/test/passing/payments.gov:22:1  deny too_large\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("allow routine\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("rule manages\n"), "{}", run.stdout);
}

#[test]
fn coverage_threshold_fails_below_it() {
    let run = test(&["tests/test/passing", "--coverage-threshold", "100"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("coverage 100.0% meets the threshold of 100%"), "{}", run.stdout);

    // All tests pass, but too few rules are exercised.
    let run = test(&["tests/test/passing", "--filter", "routine", "--coverage-threshold", "50"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("test result: ok."), "{}", run.stdout);
    assert!(run.stdout.contains("coverage 27.3% is below the threshold of 50%"), "{}", run.stdout);
    assert!(run.stdout.contains("not exercised by any test:"), "the threshold implies --coverage:\n{}", run.stdout);

    let run = test(&["tests/test/passing", "--filter", "routine", "--coverage-threshold", "15"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

// ---- JSON ---------------------------------------------------------------------------

#[test]
fn json_output_has_every_result_and_the_coverage() {
    let run = test(&["tests/test", "--format", "json"]);
    assert_eq!(run.code, 1);
    let doc = json(&run);
    let packages = doc["packages"].as_array().unwrap();
    assert_eq!(
        packages.iter().map(|p| p["package"].as_str().unwrap()).collect::<Vec<_>>(),
        ["broken", "limits", "payments"]
    );

    let broken = &packages[0];
    assert_eq!(broken["errors"][0]["code"], "E0202", "{broken}");
    assert_eq!(broken["tests"], serde_json::json!([]));

    let limits = &packages[1];
    let statuses: Vec<&str> =
        limits["tests"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["passed", "failed", "error", "error"]);
    let failed = &limits["tests"][1];
    assert_eq!(failed["at"], "tests/test/failing/policy.gov:22:1");
    assert_eq!(failed["line"], 22);
    assert_eq!(failed["decision"], "deny");
    assert_eq!(failed["fired"][0]["rule"], "too_large");
    assert_eq!(failed["failures"][0]["expectation"], "expect allow within");
    assert_eq!(failed["failures"][0]["expected"], "allow, with within fired");
    assert_eq!(failed["failures"][0]["actual"], "deny, with too_large fired");
    assert_eq!(failed["failures"][1]["expected"], "risk score 10");
    assert_eq!(failed["explanation"][0]["because"][0]["relation"], "over_limit");
    assert!(failed["duration_ms"].is_number());
    assert_eq!(limits["coverage"]["covered"], 3);
    assert_eq!(
        limits["coverage"]["uncovered"][0],
        serde_json::json!({"kind": "decision", "effect": "escalate", "name": "enormous", "at": "tests/test/failing/policy.gov:14:1"})
    );

    let payments = &packages[2];
    let big = payments["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "a big transfer waits for finance and notifies the chain")
        .unwrap();
    assert_eq!(big["status"], "passed");
    assert_eq!(big["approvers"], serde_json::json!(["finance"]));
    assert_eq!(big["obligations"], serde_json::json!(["notify"]));
    let error = payments["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "overflowing arithmetic is an error")
        .unwrap();
    assert!(error["evaluation_error"].as_str().unwrap().contains("overflow"), "{error}");
    assert_eq!(payments["coverage"]["total"], 11);

    assert_eq!(doc["summary"]["passed"], 7);
    assert_eq!(doc["summary"]["failed"], 1);
    assert_eq!(doc["summary"]["errors"], 2);
    assert_eq!(doc["summary"]["packages_with_errors"], 1);
    assert_eq!(doc["summary"]["ok"], false);
    assert_eq!(doc["coverage"]["covered"], 14);
    assert_eq!(doc["coverage"]["total"], 15);
}

// ---- JUnit --------------------------------------------------------------------------

#[test]
fn junit_output_is_xml_with_suites_cases_and_failures() {
    let run = test(&["tests/test", "--format", "junit"]);
    assert_eq!(run.code, 1);
    let doc = roxmltree::Document::parse(&run.stdout).unwrap_or_else(|e| panic!("not XML ({e}):\n{}", run.stdout));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("11"));
    assert_eq!(root.attribute("failures"), Some("1"));
    assert_eq!(root.attribute("errors"), Some("3"));

    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(
        suites.iter().map(|s| s.attribute("name").unwrap()).collect::<Vec<_>>(),
        ["broken", "limits", "payments"]
    );
    for suite in &suites {
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        let count = |tag: &str| cases.iter().filter(|c| c.children().any(|n| n.has_tag_name(tag))).count().to_string();
        assert_eq!(suite.attribute("tests"), Some(cases.len().to_string().as_str()));
        assert_eq!(suite.attribute("failures"), Some(count("failure").as_str()));
        assert_eq!(suite.attribute("errors"), Some(count("error").as_str()));
        assert!(suite.attribute("time").unwrap().parse::<f64>().is_ok());
    }

    let broken = suites[0].children().find(|n| n.has_tag_name("testcase")).unwrap();
    let error = broken.children().find(|n| n.has_tag_name("error")).unwrap();
    assert!(error.text().unwrap().contains("type mismatch"), "{:?}", error.text());

    let limits: Vec<_> = suites[1].children().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(limits.len(), 4);
    let failed = limits.iter().find(|c| c.attribute("name") == Some("an over-limit transfer is allowed")).unwrap();
    assert_eq!(failed.attribute("classname"), Some("limits"));
    assert_eq!(failed.attribute("file"), Some("tests/test/failing/policy.gov"));
    assert_eq!(failed.attribute("line"), Some("22"));
    let failure = failed.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some(
            "expect allow within: expected allow, with within fired; actual deny, with too_large fired\nexpect risk 10: expected risk score 10; actual risk score 0"
        )
    );
    let details = failure.text().unwrap();
    assert!(details.contains("at tests/test/failing/policy.gov:22:1"), "{details}");
    assert!(details.contains("← over_limit(\"bot-1\", 6000, 5000)"), "{details}");
    let nothing = limits.iter().find(|c| c.attribute("name") == Some("asserts nothing")).unwrap();
    assert!(nothing.children().any(|n| n.has_tag_name("error")));
    let ok = limits.iter().find(|c| c.attribute("name") == Some("a small transfer is allowed")).unwrap();
    assert_eq!(ok.children().filter(|n| n.is_element()).count(), 0);

    let payments: Vec<_> = suites[2].children().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(payments.len(), 6);
    assert!(payments.iter().all(|c| c.children().all(|n| !n.is_element())));
}

#[test]
fn junit_escapes_names() {
    let dir = scratch("escape");
    std::fs::write(
        dir.join("p.gov"),
        "package p\n\ninput go(x: Int)\n\ndeny no :- go(_).\n\ntest \"<a & \\\"b\\\" 'c'>\" {\n    given go(1).\n    expect allow\n}\n",
    )
    .unwrap();
    let run = test(&[dir.to_str().unwrap(), "--format", "junit"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc = roxmltree::Document::parse(&run.stdout).unwrap_or_else(|e| panic!("not XML ({e}):\n{}", run.stdout));
    let case = doc.descendants().find(|n| n.has_tag_name("testcase")).unwrap();
    assert_eq!(case.attribute("name"), Some("<a & \"b\" 'c'>"));
    assert!(case.children().any(|n| n.has_tag_name("failure")));
}

/// The shipped tests pass with full coverage, the standard library's two-row attacks
/// (`expect error` with two `request_time` or two `requested_by` facts) included.
#[test]
fn examples_and_stdlib_tests_pass_with_full_coverage() {
    let run = test(&["examples", "stdlib/tests", "--coverage-threshold", "100"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for attack in [
        "test time_test: \"a request with two times, one outside business hours, is refused, not decided\" ... ok",
        "test approvals_test: \"a request with two requesters is refused, not decided\" ... ok",
    ] {
        assert!(run.stdout.contains(attack), "no `{attack}` in\n{}", run.stdout);
    }
}

#[test]
fn limit_flags_bound_each_test_request() {
    let run = test(&["tests/test/passing", "--format", "json", "--max-steps", "1"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report = json(&run);
    let errors: Vec<&str> = report["packages"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["evaluation_error"].as_str())
        .collect();
    assert!(errors.contains(&"evaluation limit exceeded: more than 1 steps"), "{errors:?}");
    assert_eq!(test(&["tests/test/passing", "--max-steps", "100000"]).code, 0);
}
