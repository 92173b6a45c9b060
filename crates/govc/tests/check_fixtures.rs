#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! End-to-end snapshot tests of `govc check` over a few of the cases in `tests/check/`.
//!
//! Every case is checked in-process by gov-check's `fixtures` test, against the snapshots
//! in `tests/check/snapshots/<case>.<format>.snap`. The cases in [`END_TO_END`] are also run
//! through the real binary from the repository root, once as human text and once as JSON,
//! and held to the same snapshots, so the command's own parts (reading paths, the summary
//! line, the exit code, the formats' flags) stay what the in-process test assumes. SARIF is
//! checked end to end by `cli.rs`. Accept new or changed snapshots with
//! `INSTA_UPDATE=always cargo test -p gov-check --test fixtures`, then read every one.

mod common;
use common::root;
#[path = "../../gov-check/tests/support/snapshots.rs"]
mod snapshots;
use snapshots::{header, trim_lines};
use std::process::Command;

/// Runs `govc check <case> <args>` from the root: (stdout, stderr, exit code).
fn govc_check(case: &str, args: &[&str]) -> (String, String, i32) {
    let output = Command::new(env!("CARGO_BIN_EXE_govc"))
        .current_dir(root())
        .env_remove("NO_COLOR")
        .arg("check")
        .arg(case)
        .args(args)
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (text(output.stdout), text(output.stderr), output.status.code().unwrap())
}

/// The cases run end to end, each for one path through `govc check`.
const END_TO_END: [&str; 5] = [
    // No problems: exit code 0 and `no problems found`.
    "clean.gov",
    // Errors with labels in two places: exit code 1.
    "arity.gov",
    // Warnings only: still exit code 0.
    "unused_import.gov",
    // A directory package of two files.
    "package_name",
    // A directory without sources: the loader's diagnostic and exit code 2.
    "no_sources",
];

#[test]
fn check_fixtures() {
    for name in END_TO_END {
        let path = root().join("tests/check").join(name);
        assert!(path.exists(), "tests/check/{name} is gone: pick another case for END_TO_END");
        let case = name.strip_suffix(".gov").unwrap_or(name);
        let relative = format!("tests/check/{name}");
        let (human, human_err, human_code) = govc_check(&relative, &["--color", "never"]);
        let (json, json_err, json_code) = govc_check(&relative, &["--format", "json"]);
        assert_eq!(human_code, json_code, "{relative}: the exit code depends on the format");
        assert!(human_err.is_empty() && json_err.is_empty(), "{relative}: unexpected stderr:\n{human_err}{json_err}");
        serde_json::from_str::<serde_json::Value>(&json).unwrap();
        insta::with_settings!({
            snapshot_path => "../../../tests/check/snapshots",
            prepend_module_to_snapshot => false,
            snapshot_suffix => "",
            omit_expression => true,
            description => header(&path),
            input_file => &path,
        }, {
            insta::assert_snapshot!(format!("{case}.human"), format!("exit code: {human_code}\n\n{}", trim_lines(&human)));
            insta::assert_snapshot!(format!("{case}.json"), json);
        });
    }
}
