#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Disassembly snapshots of the planner, one feature per case.
//!
//! A case is `tests/plans/<case>.gov`, a one-file package starting with a `// <what it
//! shows>` comment. It is checked through gov-db's `Workspace`, compiled, and the program's
//! disassembly (`gov_vm::disassemble`, as `govc inspect` shows it) is snapshotted in
//! `tests/plans/snapshots/<case>.snap`. Accept new or changed snapshots with
//! `INSTA_UPDATE=always cargo test -p gov-compile --test plans` (or `cargo insta review`),
//! then read every one of them: does the plan make sense?

use std::path::Path;

/// Checks and compiles the one-file package at `path`, and returns its disassembly.
fn disassembly(path: &Path) -> String {
    let source = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    let mut workspace = gov_db::Workspace::new();
    let package = workspace.add_package(vec![(name, source)]);
    let checked = workspace.check(package).unwrap();
    assert!(!checked.has_errors(), "{}: {:?}", path.display(), checked.diagnostics);
    let sources = workspace.sources();
    let ir = workspace.ir(package).unwrap().unwrap();
    let input = gov_compile::Input { ir: &ir, sources: &sources, data: &[] };
    let compiled = gov_compile::compile(&input).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    gov_vm::disassemble(&compiled)
}

/// The `// <what it shows>` header of a case, for the snapshot's description.
fn header(path: &Path) -> String {
    let source = std::fs::read_to_string(path).unwrap();
    let header = source.lines().next().and_then(|l| l.strip_prefix("// "));
    header.unwrap_or_else(|| panic!("{} does not start with a `// <what it shows>` comment", path.display())).to_owned()
}

#[test]
fn plans() {
    insta::glob!("plans/*.gov", |path| {
        insta::with_settings!({
            snapshot_path => "plans/snapshots",
            prepend_module_to_snapshot => false,
            snapshot_suffix => "",
            omit_expression => true,
            description => header(path),
        }, {
            insta::assert_snapshot!(path.file_stem().unwrap().to_str().unwrap(), disassembly(path));
        });
    });
}
