#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc eval` and `govc build` against the contracts of DESIGN §5: the decision JSON, exit
//! codes, `--exit-code`, `--explain`, and path-named request errors. Requests are under
//! `tests/eval/` (plus the payments example's own).

mod common;
use common::{Run, govc};
use serde_json::Value;

const PAYMENTS: &str = "examples/payments";
const OVER_LIMIT: &str = "examples/payments/requests/over_limit.json";

fn decision(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

#[test]
fn decision_json_has_the_contract_fields() {
    let run = govc(&["eval", PAYMENTS, "--input", OVER_LIMIT]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let d = decision(&run);
    let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["decision", "reasons", "approvers", "obligations", "risk", "bundle"]);
    assert_eq!(d["decision"], "deny");
    let too_large = d["reasons"].as_array().unwrap().iter().find(|r| r["rule"] == "too_large").unwrap();
    assert_eq!(too_large["effect"], "deny");
    assert_eq!(too_large["message"], "transfer of 6000 exceeds the 5000 limit");
    assert!(too_large["at"].as_str().unwrap().starts_with("examples/payments/payments.gov:"));
    assert!(d["obligations"].as_array().unwrap().iter().any(|o| o["rule"] == "notify_manager"));
    assert!(d["risk"]["score"].is_i64() && d["risk"]["contributions"].is_array());
    assert!(d["bundle"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn exit_code_flag_fails_anything_but_allow() {
    assert_eq!(govc(&["eval", PAYMENTS, "--input", OVER_LIMIT, "--exit-code"]).code, 1);
    let allow = govc(&["eval", PAYMENTS, "--input", "tests/eval/allow.json", "--exit-code"]);
    assert_eq!(allow.code, 0, "{}", allow.stdout);
    assert_eq!(decision(&allow)["decision"], "allow");
    // Without the flag a deny is still a successful evaluation.
    assert_eq!(govc(&["eval", PAYMENTS, "--input", OVER_LIMIT]).code, 0);
}

#[test]
fn explain_adds_the_derivation_down_to_input_and_data() {
    let d = decision(&govc(&["eval", PAYMENTS, "--input", OVER_LIMIT, "--explain"]));
    let explanation = d["explanation"].as_array().unwrap();
    let too_large = explanation.iter().find(|e| e["rule"] == "too_large").unwrap();
    let over_limit = &too_large["because"][0];
    assert_eq!(over_limit["relation"], "over_limit");
    assert_eq!(over_limit["values"], serde_json::json!(["bot-1", 6000, 5000]));
    let sources: Vec<&str> =
        over_limit["because"].as_array().unwrap().iter().map(|f| f["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["input", "data", "data"]);
}

#[test]
fn bad_requests_name_the_json_path_and_exit_2() {
    for (file, expected) in [
        ("bad_amount", "transfer[0].amount: expected Int, found \"6k\""),
        ("unknown_field", "transfer[0].memo: unknown field `memo`"),
        ("missing_field", "transfer[0].to: missing field `to`"),
        ("unknown_relation", "transfers: unknown input relation `transfers`"),
        ("invalid", "invalid JSON at line 2, column"),
    ] {
        let run = govc(&["eval", PAYMENTS, "--input", &format!("tests/eval/{file}.json")]);
        assert_eq!(run.code, 2, "{file}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{file}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{file}");
    }
}

#[test]
fn a_built_bundle_decides_like_its_package() {
    let out = std::env::temp_dir().join(format!("govc-eval-{}.govb", std::process::id()));
    let built = govc(&["build", PAYMENTS, "-o", out.to_str().unwrap()]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    assert!(built.stdout.contains("sha256:"));
    let from_bundle = decision(&govc(&["eval", out.to_str().unwrap(), "--input", OVER_LIMIT]));
    let from_package = decision(&govc(&["eval", PAYMENTS, "--input", OVER_LIMIT]));
    assert_eq!(from_bundle, from_package);
    std::fs::remove_file(out).ok();
}

#[test]
fn a_package_with_errors_is_not_evaluated() {
    let run = govc(&["eval", "tests/check/unknown_relation.gov", "--input", OVER_LIMIT]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("E0101"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

/// Issue 9, item 4: `request_time` and `requested_by` are `input one`. A second time in
/// business hours once turned the after-hours deny of `examples/finance` into allow; a
/// second requester, or none, must not be a decision either; and a lone unrelated
/// requester, which once made the agent owner's approval count, is refused by the policy.
#[test]
fn one_fact_inputs_given_twice_or_not_at_all_are_request_errors() {
    const FINANCE: &str = "examples/finance";
    let one = govc(&["eval", FINANCE, "--input", "tests/eval/after_hours_one_time.json"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(decision(&one)["decision"], "deny");
    for (file, expected) in [
        (
            "after_hours_two_times",
            "request_time[1]: expected exactly one fact of `request_time`, found 2 (it is declared `input one`)",
        ),
        ("after_hours_no_time", "request_time: expected exactly one fact, found none"),
        (
            "owner_approval_two_requesters",
            "requested_by[1]: expected exactly one fact of `requested_by`, found 2 (it is declared `input one`)",
        ),
    ] {
        let path = format!("tests/eval/{file}.json");
        let run = govc(&["eval", FINANCE, "--input", &path]);
        assert_eq!(run.code, 2, "{file}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{file}: a decision was printed: {}", run.stdout);
        assert!(run.stderr.contains(&format!("error: {path}: {expected}")), "{file}: {}", run.stderr);
    }
    let unrelated = govc(&["eval", FINANCE, "--input", "tests/eval/owner_approval_unrelated_requester.json"]);
    let d = decision(&unrelated);
    assert_eq!(d["decision"], "deny", "{d}");
    assert_eq!(d["reasons"][0]["rule"], "requester_mismatch", "{d}");
    assert_eq!(d["reasons"][0]["message"], "the request must name treasury-bot as its requester, not zed");
}
