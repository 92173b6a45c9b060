#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc check` as a command: exit codes, formats and arguments.

mod common;
use common::{Run, govc};
use serde_json::Value;
use std::path::PathBuf;

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout))
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govc-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One error (E0202, line 6) and one warning (W0101, line 5).
const ERROR_AND_WARNING: &str = "package shop

input order(customer: Str, total: Int)

data vip(customer: Str)
deny big_order :- order(_, total), total > \"1000\".
";

#[test]
fn clean_package_exits_0() {
    let run = govc(&["check", "tests/check/clean.gov", "--color", "never"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "no problems found\n");
    assert!(run.stderr.is_empty());
}

#[test]
fn errors_exit_1() {
    let run = govc(&["check", "tests/check/unknown_relation.gov", "--color", "never"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("[E0101] Error: unknown relation `ordr`"), "{}", run.stdout);
    assert!(run.stdout.ends_with("1 error found\n"), "{}", run.stdout);
}

#[test]
fn warnings_exit_0_unless_denied() {
    let run = govc(&["check", "tests/check/unused_import.gov", "--color", "never"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("[W0103] Warning"), "{}", run.stdout);
    let denied = govc(&["check", "tests/check/unused_import.gov", "--color", "never", "--deny-warnings"]);
    assert_eq!(denied.code, 1);
    assert_eq!(denied.stdout, run.stdout, "--deny-warnings changes the exit code, not the report");
    // With nothing to warn about, --deny-warnings still passes.
    assert_eq!(govc(&["check", "tests/check/clean.gov", "--deny-warnings"]).code, 0);
}

#[test]
fn missing_path_exits_2() {
    let run = govc(&["check", "tests/check/does_not_exist.gov"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("cannot read `tests/check/does_not_exist.gov`"), "{}", run.stderr);
}

#[test]
fn directory_without_sources_exits_2_with_e0007() {
    let run = govc(&["check", "tests/check/no_sources", "--color", "never"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("[E0007] Error: `tests/check/no_sources` contains no `.gov` files"), "{}", run.stdout);
    // Also when it is not the only path.
    let run = govc(&["check", "tests/check/clean.gov", "tests/check/no_sources", "--format", "json"]);
    assert_eq!(run.code, 2);
    assert_eq!(json(&run)["diagnostics"][0]["code"], "E0007");
}

#[test]
fn json_has_counts_and_locations() {
    let dir = scratch("json");
    let file = dir.join("shop.gov");
    std::fs::write(&file, ERROR_AND_WARNING).unwrap();
    let run = govc(&["check", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 1);
    let doc = json(&run);
    assert_eq!(doc["errors"], 1);
    assert_eq!(doc["warnings"], 1);
    let diagnostics = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 2);
    let warning = &diagnostics[0];
    assert_eq!(warning["code"], "W0101");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["file"], file.to_str().unwrap());
    assert_eq!(warning["start"]["line"], 5);
    assert_eq!(warning["start"]["column"], 6);
    let error = &diagnostics[1];
    assert_eq!(error["code"], "E0202");
    assert_eq!(error["severity"], "error");
    assert_eq!(error["start"]["line"], 6);
    assert_eq!(error["start"]["column"], 44);
    assert_eq!(error["end"]["column"], 50);
    assert_eq!(error["docs"], "docs/diagnostics.md#e0202");
    assert!(error["labels"].as_array().unwrap().len() >= 2);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sarif_is_2_1_0_with_every_rule() {
    let run = govc(&["check", "tests/check/type_mismatch.gov", "tests/check/unused_import.gov", "--format", "sarif"]);
    assert_eq!(run.code, 1);
    let log = json(&run);
    assert_eq!(log["version"], "2.1.0");
    let run0 = &log["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "govc");
    let rules: Vec<&str> =
        run0["tool"]["driver"]["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let codes: Vec<&str> = gov_diag::codes::ALL.iter().map(|c| c.id).collect();
    assert_eq!(rules, codes);
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let result =
        |rule: &str| results.iter().find(|r| r["ruleId"] == rule).unwrap_or_else(|| panic!("no {rule} result"));
    let mismatch = &result("E0202")["locations"][0]["physicalLocation"];
    assert_eq!(mismatch["artifactLocation"]["uri"], "tests/check/type_mismatch.gov");
    assert_eq!(mismatch["region"]["startLine"], 6);
    assert_eq!(mismatch["region"]["startColumn"], 44);
    assert_eq!(result("E0202")["level"], "error");
    let unused = &result("W0103");
    assert_eq!(unused["level"], "warning");
    assert_eq!(unused["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
    // ruleIndex points into the rules array.
    let index = unused["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index], "W0103");
}

#[test]
fn two_paths_report_both() {
    let run = govc(&["check", "tests/check/unknown_relation.gov", "tests/check/unknown_type.gov", "--format", "json"]);
    assert_eq!(run.code, 1);
    let doc = json(&run);
    assert_eq!(doc["errors"], 2);
    let files: Vec<&str> = doc["diagnostics"].as_array().unwrap().iter().map(|d| d["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["tests/check/unknown_relation.gov", "tests/check/unknown_type.gov"]);
    let human =
        govc(&["check", "tests/check/unknown_relation.gov", "tests/check/unknown_type.gov", "--color", "never"]);
    assert!(human.stdout.contains("[E0101]") && human.stdout.contains("[E0102]"), "{}", human.stdout);
    assert!(human.stdout.ends_with("2 errors found\n"));
}

#[test]
fn directory_package_checks_every_file() {
    let run = govc(&["check", "tests/check/package_name", "--format", "json"]);
    assert_eq!(run.code, 1);
    let doc = json(&run);
    assert_eq!(doc["diagnostics"][0]["code"], "E0008");
    assert_eq!(doc["diagnostics"][0]["file"], "tests/check/package_name/b.gov");
    assert_eq!(doc["diagnostics"][0]["labels"][1]["file"], "tests/check/package_name/a.gov");
}

#[test]
fn color_is_opt_in_off_a_terminal() {
    let always = govc(&["check", "tests/check/unknown_relation.gov", "--color", "always"]);
    assert!(always.stdout.contains('\u{1b}'), "--color always has no escapes");
    let never = govc(&["check", "tests/check/unknown_relation.gov", "--color", "never"]);
    assert!(!never.stdout.contains('\u{1b}'));
    // Output captured by a pipe is not a terminal.
    let auto = govc(&["check", "tests/check/unknown_relation.gov"]);
    assert_eq!(auto.stdout, never.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let run = govc(&["check", "--no-such-flag", "tests/check/clean.gov"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--no-such-flag"), "{}", run.stderr);
    assert_eq!(govc(&["check", "--format", "xml", "tests/check/clean.gov"]).code, 2);
    assert_eq!(govc(&["no-such-command"]).code, 2);
}
