#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc check --fix`: a copy of a `tests/check` case is fixed in a scratch directory; the
//! snapshot shows what `--fix` reported, the fixed text and what a plain `govc check` says
//! about it afterwards. Only safe fixes are applied: a did-you-mean is left for review.

mod common;
use common::{govc, root};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A scratch directory holding a copy of `tests/check/<case>.gov`.
fn copy_case(case: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govc-fix-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(root().join(format!("tests/check/{case}.gov")), dir.join(format!("{case}.gov"))).unwrap();
    dir
}

/// Runs `govc check <args>` in `dir`: (stdout, stderr, exit code).
fn check_in(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let output = Command::new(env!("CARGO_BIN_EXE_govc"))
        .current_dir(dir)
        .arg("check")
        .args(args)
        .args(["--color", "never"])
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (text(output.stdout), text(output.stderr), output.status.code().unwrap())
}

/// Fixes a copy of `case`; returns the report to snapshot and the exit code of the recheck.
fn fix(case: &str) -> (String, i32) {
    let dir = copy_case(case);
    let file = format!("{case}.gov");
    let (_, stderr, code) = check_in(&dir, &["--fix", &file]);
    let fixed = std::fs::read_to_string(dir.join(&file)).unwrap();
    let (after, after_err, after_code) = check_in(&dir, &[&file]);
    assert!(after_err.is_empty(), "{after_err}");
    std::fs::remove_dir_all(&dir).unwrap();
    let lines: String = after.lines().map(str::trim_end).map(|l| format!("{l}\n")).collect();
    let report = format!(
        "exit code of --fix: {code}\n--- reported on stderr\n{stderr}--- fixed text\n{fixed}--- govc check afterwards (exit code {after_code})\n{lines}"
    );
    (report, after_code)
}

#[test]
fn an_unused_use_is_removed() {
    let (report, code) = fix("unused_import");
    assert_eq!(code, 0);
    insta::assert_snapshot!(report);
}

#[test]
fn a_variable_used_once_is_renamed() {
    let (report, code) = fix("singleton_variable");
    assert_eq!(code, 0);
    insta::assert_snapshot!(report);
}

#[test]
fn a_repeated_package_line_and_use_are_removed() {
    let (report, code) = fix("duplicate_package_and_use");
    assert_eq!(code, 0);
    insta::assert_snapshot!(report);
}

#[test]
fn a_missing_dot_is_added() {
    let (report, code) = fix("missing_terminator");
    assert_eq!(code, 0);
    insta::assert_snapshot!(report);
}

#[test]
fn approver_groups_on_a_deny_expectation_are_removed() {
    let (report, code) = fix("expect_approver_group");
    // The misspelt group of the escalate expectation is a guess: it stays.
    assert_eq!(code, 1);
    insta::assert_snapshot!(report);
}

#[test]
fn a_did_you_mean_is_only_reported() {
    let original = std::fs::read_to_string(root().join("tests/check/unknown_relation.gov")).unwrap();
    let (report, code) = fix("unknown_relation");
    assert_eq!(code, 1);
    assert!(report.contains(&format!("--- fixed text\n{original}---")), "the file changed:\n{report}");
    insta::assert_snapshot!(report);
}

#[test]
fn a_clean_package_is_left_alone() {
    let (report, code) = fix("clean");
    assert_eq!(code, 0);
    assert!(report.starts_with("exit code of --fix: 0\n--- reported on stderr\n--- fixed text\n"), "{report}");
}

#[test]
fn sarif_carries_fixes_as_artifact_changes() {
    let run = govc(&["check", "tests/check/unknown_relation.gov", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let fix = &log["runs"][0]["results"][0]["fixes"][0];
    assert_eq!(fix["description"]["text"], "Change to `order`");
    let change = &fix["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "tests/check/unknown_relation.gov");
    let replacement = &change["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "order");
    assert_eq!(replacement["deletedRegion"]["startLine"], 6);
    assert_eq!(replacement["deletedRegion"]["startColumn"], 19);
    assert_eq!(replacement["deletedRegion"]["charLength"], 4);
}
