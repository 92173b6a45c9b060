#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc diff` over the pairs of versions in `tests/diff/` (see its README): the human
//! output and exit code of each case as a snapshot, and every change's witness, in `--format
//! json`, replayed through `govc eval` on both versions, which must decide as reported.

mod common;
use common::{govc, root};

/// Every case directory under `tests/diff/`.
fn cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(root().join("tests/diff"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    cases
}

#[test]
fn each_case_matches_its_snapshot() {
    let cases = cases();
    assert!(cases.len() >= 6, "{cases:?}");
    for case in cases {
        let (old, new) = (format!("tests/diff/{case}/old"), format!("tests/diff/{case}/new"));
        let run = govc(&["diff", "--exit-code", &old, &new]);
        assert_eq!(run.stderr, "", "{case}");
        insta::assert_snapshot!(case.clone(), format!("exit code {}\n{}", run.code, run.stdout));
    }
}

/// Writes the witness's documents and decides them on `package`: the decision and the
/// rules that fired.
fn eval(package: &str, witness: &serde_json::Value, dir: &std::path::Path) -> (String, Vec<String>) {
    let (input, data) = (dir.join("input.json"), dir.join("data.json"));
    std::fs::write(&input, witness["input"].to_string()).unwrap();
    std::fs::write(&data, witness["data"].to_string()).unwrap();
    let run = govc(&["eval", package, "--input", input.to_str().unwrap(), "--data", data.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let decision: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut rules: Vec<String> =
        decision["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap().to_owned()).collect();
    rules.dedup();
    (decision["decision"].as_str().unwrap().to_owned(), rules)
}

#[test]
fn every_witness_replays_in_govc_eval_on_both_versions() {
    let dir = std::env::temp_dir().join(format!("govc-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut replayed = 0;
    for case in cases() {
        let (old, new) = (format!("tests/diff/{case}/old"), format!("tests/diff/{case}/new"));
        let run = govc(&["diff", "--exit-code", "--format", "json", &old, &new]);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let changes = report["changes"].as_array().unwrap();
        assert_eq!(run.code, if report["verdict"] == "same" { 0 } else { 1 }, "{case}");
        for change in changes {
            for (package, side) in [(&old, &change["old"]), (&new, &change["new"])] {
                let (decision, rules) = eval(package, &change["witness"], &dir);
                assert_eq!(decision, side["decision"], "{case}: {change}");
                let reported: Vec<&str> =
                    side["rules"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
                assert_eq!(rules, reported, "{case}: {change}");
            }
            assert_ne!(change["old"]["decision"], change["new"]["decision"], "{case}");
            replayed += 1;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(replayed >= 3, "{replayed}");
}

#[test]
fn a_package_against_itself_has_no_change() {
    for example in ["customer-ops", "cybersecurity", "deployment", "finance", "healthcare", "multi-agent", "payments"] {
        let path = format!("examples/{example}");
        let run = govc(&["diff", "--exit-code", "--format", "json", &path, &path]);
        assert_eq!(run.code, 0, "{example}: {}{}", run.stdout, run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["verdict"], "same", "{example}");
    }
}

#[test]
fn a_missing_version_is_a_usage_error() {
    let run = govc(&["diff", "tests/diff/nowhere", "tests/diff/tightened/new"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("tests/diff/nowhere"), "{}", run.stderr);
}

#[test]
fn markdown_is_a_table_for_a_pull_request() {
    let run = govc(&["diff", "--format", "markdown", "tests/diff/tightened/old", "tests/diff/tightened/new"]);
    assert_eq!(run.code, 0, "without --exit-code a change found is not a failure");
    insta::assert_snapshot!("markdown_tightened", run.stdout);
}
