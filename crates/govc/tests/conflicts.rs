#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc check` reports conflicts with a witness that `govc eval` reproduces: the request
//! and data of each W0701 in `--format json`, given to `govc eval PKG --input --data`, fire
//! both rules the diagnostic names.

mod common;
use common::govc;

/// A fresh scratch directory.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("govc-conflicts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Checks `package` and replays every W0701's witness through `govc eval`.
fn replay(package: &str, name: &str) -> usize {
    let check = govc(&["check", "--format", "json", package]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let dir = scratch(name);
    let mut replayed = 0;
    for diagnostic in report["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == "W0701") {
        let witness = &diagnostic["witness"];
        let input = dir.join(format!("{replayed}.input.json"));
        let data = dir.join(format!("{replayed}.data.json"));
        std::fs::write(&input, witness["input"].to_string()).unwrap();
        std::fs::write(&data, witness["data"].to_string()).unwrap();
        let eval = govc(&["eval", package, "--input", input.to_str().unwrap(), "--data", data.to_str().unwrap()]);
        assert_eq!(eval.code, 0, "{}{}", eval.stdout, eval.stderr);
        let decision: serde_json::Value = serde_json::from_str(&eval.stdout).unwrap();
        let fired: Vec<&str> =
            decision["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap()).collect();
        let message = diagnostic["message"].as_str().unwrap();
        let named: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
        assert_eq!(named.len(), 2, "{message}");
        for rule in named {
            assert!(
                fired.contains(&rule),
                "{package}: `{rule}` did not fire on the witness of `{message}`: {decision}"
            );
        }
        replayed += 1;
    }
    std::fs::remove_dir_all(&dir).unwrap();
    replayed
}

#[test]
fn the_witness_of_a_conflict_replays_in_govc_eval() {
    assert_eq!(replay("tests/check/conflict.gov", "fixture"), 1);
    // A conflict of the package's own data: the witness has no data of its own.
    assert_eq!(replay("tests/check/conflict_with_data", "with-data"), 1);
}

#[test]
fn every_conflict_found_in_the_examples_replays_with_their_data() {
    let mut total = 0;
    for example in ["customer-ops", "cybersecurity", "deployment", "finance", "healthcare", "multi-agent", "payments"] {
        total += replay(&format!("examples/{example}"), example);
    }
    assert!(total > 0, "the examples hold conflicts today; if they are all resolved, keep this test on a fixture");
}
