#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The checker's fixtures, checked in-process: every case in `tests/check/` is loaded
//! through the driver (as `govc check` loads it), checked and analysed for conflicts, rendered as human text and as
//! JSON by gov-diag's renderers, and compared with the snapshots in
//! `tests/check/snapshots/<case>.<format>.snap`, the same files `govc check` is held to
//! end to end by a few cases in `crates/govc/tests/check_fixtures.rs`.
//!
//! A case is `tests/check/<case>.gov` (a one-file package) or `tests/check/<case>/` (a
//! directory package), starting with a `// <what it shows>` comment. Accept new or changed
//! snapshots with `INSTA_UPDATE=always cargo test -p gov-check --test fixtures` (or
//! `cargo insta review`), then read every one of them.

use gov_diag::{Diagnostic, Severity};
use gov_driver::Package;
use gov_driver::fs::Disk;
use gov_driver::load::{self, Problem};
use std::path::{Path, PathBuf};

#[path = "support/snapshots.rs"]
mod snapshots;
use snapshots::{header, trim_lines};

/// The repository root: cases are loaded from there, so paths show as `tests/check/x.gov`.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// What `govc check --color never` and `--format json` print for a case, and its exit code.
struct Checked {
    human: String,
    json: String,
    code: i32,
}

/// Loads and checks the case at `relative` (relative to the current directory, the root).
fn check(relative: &str) -> Checked {
    let loaded = load::package(&Disk, Path::new(relative)).unwrap();
    let no_sources = loaded.rejected.iter().any(|r| r.problem == Problem::NoSources);
    let (mut diagnostics, mut sources): (Vec<Diagnostic>, _) = if loaded.files.is_empty() {
        (Vec::new(), gov_diag::Sources::default())
    } else {
        let package = Package::from_sources(loaded.files).unwrap();
        let mut diagnostics = package.checked().diagnostics.clone();
        // The conflict analysis, as `govc check` runs it after the checker.
        let sources = package.sources();
        diagnostics.extend(gov_driver::analysis::check(
            &Disk,
            package.workspace(),
            package.id(),
            &sources,
            &loaded.data,
        ));
        (diagnostics, sources)
    };
    diagnostics.extend(loaded.rejected.iter().map(|r| r.diagnostic(&mut sources)));
    let errors = diagnostics.iter().any(|d| d.severity() == Severity::Error);
    let code = if no_sources { 2 } else { i32::from(errors) };
    let mut human = gov_diag::render_human(&diagnostics, &sources, false);
    human.push_str(&gov_diag::summary(&diagnostics));
    Checked { human, json: gov_diag::render_json(&diagnostics, &sources) + "\n", code }
}

#[test]
fn check_fixtures() {
    // The only test of this binary, so changing the directory races with nothing.
    std::env::set_current_dir(root()).unwrap();
    insta::glob!("../../../tests/check", "*", |path| {
        // `*` also matches the empty path, that is the directory itself.
        let name = path.file_name().unwrap().to_str().unwrap();
        if name == "snapshots" || path == root().join("tests/check") {
            return;
        }
        let case = name.strip_suffix(".gov").unwrap_or(name);
        assert!(path.is_dir() || name.ends_with(".gov"), "tests/check/{name} is neither a `.gov` file nor a directory");
        let checked = check(&format!("tests/check/{name}"));
        serde_json::from_str::<serde_json::Value>(&checked.json).unwrap();
        insta::with_settings!({
            snapshot_path => "../../../tests/check/snapshots",
            prepend_module_to_snapshot => false,
            snapshot_suffix => "",
            omit_expression => true,
            description => header(path),
        }, {
            insta::assert_snapshot!(format!("{case}.human"), format!("exit code: {}\n\n{}", checked.code, trim_lines(&checked.human)));
            insta::assert_snapshot!(format!("{case}.json"), checked.json);
        });
    });
}
