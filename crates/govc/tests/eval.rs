#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc eval` and `govc build` against the contracts of DESIGN §5: the decision JSON, exit
//! codes, `--exit-code`, `--explain`, and path-named request errors. Requests are under
//! `tests/eval/` (plus the payments example's own).

mod common;
use common::{Run, govc};
use serde_json::Value;

const PAYMENTS: &str = "examples/payments";
const OVER_LIMIT: &str = "examples/payments/requests/over_limit.json";
const FINANCE: &str = "examples/finance";

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
        // A duplicate key is never resolved to one of its values (issue 9), not even when
        // escapes make the two spellings differ.
        ("duplicate_field", "transfer[0].amount: duplicate key"),
        ("duplicate_relation", "transfer: duplicate key"),
        // A key that is not a plain name is quoted in the path, so the path is never empty.
        ("duplicate_empty_key", r#"transfer[0][""]: duplicate key"#),
        ("unknown_field_not_a_name", r#"transfer[0]["memo.text"]: unknown field `memo.text`"#),
        // Numbers are read from their text: an `Int` has no fraction or exponent.
        ("int_with_fraction", "transfer[0].amount: expected Int: `1.5` is not a valid integer"),
        ("int_with_exponent", "transfer[0].amount: expected Int: `1e400` is not a valid integer"),
    ] {
        let run = govc(&["eval", PAYMENTS, "--input", &format!("tests/eval/{file}.json")]);
        assert_eq!(run.code, 2, "{file}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{file}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{file}");
    }
}

#[test]
fn a_byte_order_mark_before_a_request_or_data_file_is_skipped() {
    let run = govc(&["eval", PAYMENTS, "--input", "tests/eval/byte_order_mark.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(decision(&run)["decision"], "allow");
    let data =
        scratch_file("bom.data.json", "\u{feff}{\"payment_limit\": [{\"agent\": \"x-bot\", \"max_usd\": \"1.00\"}]}");
    let input = "examples/finance/requests/routine_payment.json";
    let run = govc(&["eval", FINANCE, "--data", data.to_str().unwrap(), "--input", input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(decision(&run)["decision"], "allow");
}

/// A `Decimal` written as a JSON number is read from its text, not through `f64`, which
/// rounds 20000.0000000000001 to the 20000.00 limit and allowed the payment.
#[test]
fn a_decimal_number_is_compared_exactly() {
    let over = decision(&govc(&["eval", FINANCE, "--input", "tests/eval/decimal_number_over_limit.json"]));
    assert_eq!(over["decision"], "deny", "{over}");
    let reasons: Vec<&str> = over["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["over_payment_limit"]);
    let at = decision(&govc(&["eval", FINANCE, "--input", "tests/eval/decimal_number_at_limit.json"]));
    assert_eq!(at["decision"], "allow", "{at}");
}

#[test]
fn a_number_is_quoted_as_written() {
    let run = govc(&["eval", FINANCE, "--input", "tests/eval/decimal_with_exponent.json"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("payment[0].amount: expected Money: `1e-30` is not a valid decimal"), "{}", run.stderr);
}

/// `--input` is read up to the size limit and no further, so an endless stream is refused
/// rather than exhausting memory.
#[cfg(unix)]
#[test]
fn an_endless_input_is_refused_at_the_size_limit() {
    let run = govc(&["eval", PAYMENTS, "--input", "/dev/zero"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("the request is longer than the limit of 4194304 bytes"), "{}", run.stderr);
}

#[test]
fn the_request_size_limit_is_configurable() {
    let size = std::fs::metadata(common::root().join("tests/eval/allow.json")).unwrap().len().to_string();
    let at_limit = govc(&["eval", PAYMENTS, "--input", "tests/eval/allow.json", "--max-request-bytes", &size]);
    assert_eq!(at_limit.code, 0, "{}", at_limit.stderr);
    let smaller = (size.parse::<u64>().unwrap() - 1).to_string();
    let over = govc(&["eval", PAYMENTS, "--input", "tests/eval/allow.json", "--max-request-bytes", &smaller]);
    assert_eq!(over.code, 2, "{}", over.stdout);
    assert!(over.stderr.contains(&format!("longer than the limit of {smaller} bytes")), "{}", over.stderr);
}

/// A data relation without fields (`data enabled()`, data `{"enabled": [{}]}`) holds its one
/// fact in `eval`, in a built bundle and in `govc test` (`given enabled().`).
#[test]
fn a_data_fact_without_fields_holds() {
    const ZERO: &str = "tests/eval/zero_arity";
    const REQUEST: &str = "tests/eval/zero_arity_request.json";
    let from_package = govc(&["eval", ZERO, "--input", REQUEST]);
    assert_eq!(from_package.code, 0, "{}", from_package.stderr);
    assert_eq!(decision(&from_package)["decision"], "allow");
    assert_eq!(decision(&from_package)["reasons"][0]["rule"], "on");
    let out = std::env::temp_dir().join(format!("govc-eval-zero-{}.govb", std::process::id()));
    let built = govc(&["build", ZERO, "-o", out.to_str().unwrap()]);
    assert_eq!(built.code, 0, "{}", built.stderr);
    let from_bundle = govc(&["eval", out.to_str().unwrap(), "--input", REQUEST]);
    assert_eq!(decision(&from_bundle), decision(&from_package));
    std::fs::remove_file(out).ok();
    let tested = govc(&["test", ZERO]);
    assert_eq!(tested.code, 0, "{}", tested.stdout);
    assert!(tested.stdout.contains("1 passed"), "{}", tested.stdout);
}

/// Any JSON key is a name (issue 11 item 3): a field named after every keyword and keys that
/// are no identifier (`tool-call`, `my key`) are read from a request and decide, in `eval`
/// and in `govc test`.
#[test]
fn fields_named_by_any_json_key_decide() {
    const KEYS: &str = "tests/eval/any_key";
    let run = govc(&["eval", KEYS, "--input", "tests/eval/any_key_request.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let d = decision(&run);
    assert_eq!(d["decision"], "allow");
    assert_eq!(d["reasons"][0]["rule"], "plain");
    assert_eq!(d["reasons"][0]["message"], "read of text/plain");
    let tested = govc(&["test", KEYS]);
    assert_eq!(tested.code, 0, "{}", tested.stdout);
    assert!(tested.stdout.contains("1 passed"), "{}", tested.stdout);
}

/// A scratch file for one test, under the system's temporary directory.
fn scratch_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("govc-eval-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Requests and data files accept exactly the literal syntax of source (docs/reference.md,
/// Literals): each form that loose parsers accept is an error naming its path.
#[test]
fn requests_and_data_accept_exactly_the_literal_syntax() {
    let request =
        std::fs::read_to_string(common::root().join("examples/finance/requests/routine_payment.json")).unwrap();
    for amount in ["1_200", "+1200", ".5", "5.", "1._5", "1__", "00", "1e3", " 1200", "0.00000000000000000000000000001"]
    {
        let text = request.replace("\"amount\": \"1200.00\"", &format!("\"amount\": \"{amount}\""));
        assert_ne!(text, request);
        let file = scratch_file("loose-decimal.json", &text);
        let run = govc(&["eval", FINANCE, "--input", file.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{amount}: {}", run.stdout);
        assert!(run.stderr.contains("payment[0].amount: expected Money: "), "{amount}: {}", run.stderr);
    }
    for at in ["2026-03-03 15:10:00Z", "2026-03-03T23:59:60Z", "2026-03-03T15:10Z", "2026-03-03T15:10:00"] {
        let text = request.replace("2026-03-03T15:10:00Z", at);
        let file = scratch_file("loose-time.json", &text);
        let run = govc(&["eval", FINANCE, "--input", file.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{at}: {}", run.stdout);
        assert!(run.stderr.contains("request_time[0].at: expected Time: "), "{at}: {}", run.stderr);
    }
    // The documented forms are accepted, as numbers or strings.
    for amount in ["\"1200\"", "1200", "1200.00", "\"0.5\"", "0.5"] {
        let text = request.replace("\"amount\": \"1200.00\"", &format!("\"amount\": {amount}"));
        let file = scratch_file("documented-decimal.json", &text);
        let run = govc(&["eval", FINANCE, "--input", file.to_str().unwrap()]);
        assert_eq!(decision(&run)["decision"], "allow", "{amount}: {}", run.stderr);
    }
    for at in ["2026-03-03t15:10:00z", "2026-03-03T16:10:00+01:00", "2026-03-03T15:10:00.5Z"] {
        let file = scratch_file("documented-time.json", &request.replace("2026-03-03T15:10:00Z", at));
        let run = govc(&["eval", FINANCE, "--input", file.to_str().unwrap()]);
        assert_eq!(decision(&run)["decision"], "allow", "{at}: {}", run.stderr);
    }
    let input = "examples/finance/requests/routine_payment.json";
    for (data, expected) in [
        (
            r#"{"payment_limit": [{"agent": "x-bot", "max_usd": "1_200"}]}"#,
            "payment_limit[0].max_usd: expected Money: ",
        ),
        (
            r#"{"payment_limit": [{"agent": "x-bot", "agent": "pay-bot", "max_usd": 1}]}"#,
            "payment_limit[0].agent: duplicate key",
        ),
    ] {
        let file = scratch_file("loose.data.json", data);
        let run = govc(&["eval", FINANCE, "--data", file.to_str().unwrap(), "--input", input]);
        assert_eq!(run.code, 2, "{data}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{data}: {}", run.stderr);
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

/// Decides every request of `requests` (a directory, sorted by name) with `package`, and
/// returns one summary line per request (its tool call and decision) with the rules that
/// fired and their messages (some interpolate strings the built-ins made).
fn decide_each(package: &str, requests: &str) -> String {
    let mut files: Vec<_> =
        std::fs::read_dir(common::root().join(requests)).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut summary = String::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let input = format!("{requests}/{name}");
        let run = govc(&["eval", package, "--input", &input]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let d = decision(&run);
        let request: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let call = &request["tool_call"][0];
        summary.push_str(&format!("{name}: {} {} → {}\n", call["tool"], call["target"], d["decision"]));
        if let Some(args) = request["tool_args"].as_array() {
            for args in args {
                summary.push_str(&format!("    with argv {} and arguments {}\n", args["argv"], args["arguments"]));
            }
        }
        for reason in d["reasons"].as_array().unwrap().iter().chain(d["obligations"].as_array().unwrap()) {
            summary.push_str(&format!("    {} {}: {}\n", reason["effect"], reason["rule"], reason["message"]));
        }
    }
    summary
}

/// A coding agent's shell commands and file writes judged with the string built-ins
/// (`tests/eval/coding_shell`): each bypass attempt of `tests/eval/coding_shell_requests/`
/// (upper case, split or long flags, odd spacing, a download piped into a shell without
/// spaces, `..` in a path) and a few plain requests.
#[test]
fn coding_agent_bypasses_are_denied() {
    insta::assert_snapshot!("coding_shell", decide_each("tests/eval/coding_shell", "tests/eval/coding_shell_requests"));
}

/// The coding-agent example (issue 11 item 10) fed the bypass attempts of its
/// `requests/` as an agent would send them: paths that climb with `..` or hide a `.git`
/// or `.env`, every spelling of a forced recursive delete, downloads piped into a shell,
/// a URL whose userinfo looks like an allowed host, hours judged in Paris, the daily budget.
#[test]
fn coding_agent_example_denies_the_bypasses() {
    insta::assert_snapshot!(
        "coding_agent_example",
        decide_each("examples/coding-agent", "examples/coding-agent/requests")
    );
}

/// A string a built-in makes while the bundle loads (`str.upper` of a data word, in a
/// relation computed once) is the engine's: a request's own strings, numbered after the
/// table, never take its symbol, so `zzz` does not match `ABC`.
#[test]
fn strings_made_at_load_keep_their_meaning_in_requests() {
    let run = govc(&["eval", "tests/eval/builtin_static", "--input", "tests/eval/builtin_static_request.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let d = decision(&run);
    let messages: Vec<&str> = d["reasons"].as_array().unwrap().iter().map(|r| r["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["ABC is shouted"]);
}

/// `--explain --format human` prints the decision for people and the derivation as an
/// indented tree down to input and data facts (issue 11 item 7).
#[test]
fn explain_human_prints_the_derivation_as_a_tree() {
    let run = govc(&[
        "eval",
        "examples/deployment",
        "--input",
        "examples/deployment/requests/canary_in_window.json",
        "--explain",
        "--format",
        "human",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("explain_human_deployment", run.stdout);
}

/// `--explain` shows the negated conditions that held, with the values they were checked
/// for (`null` / `_` for a column left open), on firings and on derived facts, in JSON (an
/// additive `absent` key) and in the human tree; an approver group comes from the data.
#[test]
fn explain_shows_the_absent_facts_behind_negations() {
    const WHY: &str = "tests/eval/why_not";
    let run = govc(&["eval", WHY, "--input", "tests/eval/why_not_request.json", "--explain"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let d = decision(&run);
    assert_eq!(d["approvers"], serde_json::json!(["api-team", "platform"]));
    let explanation = d["explanation"].as_array().unwrap();
    assert_eq!(explanation[0]["absent"], serde_json::json!([{"relation": "frozen", "values": ["api"]}]));
    assert_eq!(
        explanation[1]["because"][0]["absent"],
        serde_json::json!([{"relation": "owner", "values": ["cli", null]}])
    );
    let human = govc(&["eval", WHY, "--input", "tests/eval/why_not_request.json", "--explain", "--format", "human"]);
    assert_eq!(human.code, 0, "{}", human.stderr);
    insta::assert_snapshot!("explain_human_why_not", human.stdout);
}

/// The coding-agent example's requests whose `tool_args` do not have the declared shape
/// (`examples/coding-agent/bad_requests/`): a missing or unknown member of the `arguments`
/// object, a string where the `argv` list goes, a list inside it. Each is an error naming
/// its JSON path, exit 2, never a decision.
#[test]
fn coding_agent_example_refuses_malformed_arguments() {
    for (file, expected) in [
        ("arguments_missing_key", "tool_args[0].arguments.recursive: missing field `recursive`"),
        ("arguments_extra_key", "tool_args[0].arguments.force: unknown field `force`"),
        ("argv_not_a_list", r#"tool_args[0].argv: expected [Str], found "rm -rf /""#),
        ("argv_nested_list", "tool_args[0].argv[1]: expected Str, found an array"),
    ] {
        let run = govc(&[
            "eval",
            "examples/coding-agent",
            "--input",
            &format!("examples/coding-agent/bad_requests/{file}.json"),
        ]);
        assert_eq!(run.code, 2, "{file}: {}", run.stdout);
        assert!(run.stderr.contains(expected), "{file}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{file}: no decision: {}", run.stdout);
    }
}
