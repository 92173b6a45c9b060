#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc check` reports conflicts with a witness that `govc eval` reproduces: the request
//! and data of each W0701 in `--format json`, given to `govc eval PKG --input --data`, fire
//! both rules the diagnostic names.

mod common;
use common::{govc, root};

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

/// The shipped examples.
const EXAMPLES: [&str; 7] =
    ["customer-ops", "cybersecurity", "deployment", "finance", "healthcare", "multi-agent", "payments"];

/// Whether a line of Gov source is an `@overrides` annotation.
fn is_override(line: &str) -> bool {
    line.trim_start().starts_with("@overrides(")
}

/// A copy of the example's own files with its `@overrides` lines removed, so that every
/// overlap they accept is reported again, and the number of rules those lines name.
fn without_overrides(example: &str) -> (std::path::PathBuf, usize) {
    let dir = scratch(&format!("{example}-bare"));
    let mut named = 0;
    for entry in std::fs::read_dir(root().join("examples").join(example)).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut kept = String::new();
        for line in text.lines() {
            if is_override(line) {
                named += line.split(',').filter(|name| !name.trim().trim_end_matches(')').is_empty()).count();
            } else {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        std::fs::write(dir.join(path.file_name().unwrap()), kept).unwrap();
    }
    (dir, named)
}

#[test]
fn the_examples_check_without_conflicts() {
    for example in EXAMPLES {
        let check = govc(&["check", "--format", "json", &format!("examples/{example}")]);
        assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
        let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
        assert_eq!(report["diagnostics"], serde_json::json!([]), "examples/{example}");
    }
}

#[test]
fn every_override_in_the_examples_covers_a_conflict_that_replays_with_their_data() {
    let mut total = 0;
    for example in EXAMPLES {
        let (bare, named) = without_overrides(example);
        let replayed = replay(bare.to_str().unwrap(), example);
        assert_eq!(replayed, named, "examples/{example}: one conflict per rule named in `@overrides`");
        std::fs::remove_dir_all(&bare).unwrap();
        total += replayed;
    }
    assert!(total > 0, "the examples' `@overrides` accept conflicts; without them this test checks nothing");
}

/// `--analysis-report` lists what the analysis could not decide, on standard error, with the
/// place and the reason; without it, and for a package it decides in full, nothing is listed.
#[test]
fn the_analysis_report_lists_the_undecided_pairs_and_rules() {
    let package = "tests/analysis/risk_unknown_points.gov";
    let report = govc(&["check", "--analysis-report", "--format", "json", package]);
    assert_eq!(report.code, 0, "{}{}", report.stdout, report.stderr);
    // The JSON document is unchanged.
    let _: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    let expected = "tests/analysis/risk_unknown_points.gov:6:7: undecided: `small` and `risky` (conflict): outside the \
                    analysis: `risk_score`: the points of the risk rule `weighted` are not a constant\n\
                    tests/analysis/risk_unknown_points.gov:7:1: undecided: `risky`: `risk_score`: the points of the \
                    risk rule `weighted` are not a constant\n\
                    analysis: 2 undecided\n";
    assert_eq!(report.stderr, expected);
    let silent = govc(&["check", "--format", "json", package]);
    assert_eq!(silent.stderr, "");
    let decided = govc(&["check", "--analysis-report", "tests/analysis/risk_threshold.gov"]);
    assert_eq!(decided.stderr, "analysis: 0 undecided\n");
}
