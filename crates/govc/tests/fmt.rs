#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc fmt` as a command: `--check` reports without writing, formatting writes the
//! canonical layout once (a second run changes nothing), files with syntax errors are left
//! alone, and the shipped examples and standard library are already formatted.

mod common;
use common::govc;
use std::path::PathBuf;

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govc-fmt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.gov");
    std::fs::write(&file, text).unwrap();
    file
}

const MESSY: &str = "package p\ninput  t( x:Int )\n// keep me\nderived(x):-t(x),x>1 .\ndeny d \"{x}\" :- derived(x).\n";

#[test]
fn check_reports_without_writing_then_fmt_writes_once() {
    let file = scratch("messy", MESSY);
    let path = file.to_str().unwrap();
    let check = govc(&["fmt", "--check", path]);
    assert_eq!(check.code, 1);
    assert!(check.stdout.contains("not formatted"), "{}", check.stdout);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), MESSY);

    assert_eq!(govc(&["fmt", path]).code, 0);
    let formatted = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        formatted,
        "package p\n\ninput t(x: Int)\n\n// keep me\nderived(x) :- t(x), x > 1.\n\ndeny d \"{x}\" :- derived(x).\n"
    );
    assert_eq!(govc(&["fmt", "--check", path]).code, 0);
    assert_eq!(govc(&["fmt", path]).code, 0);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), formatted);
}

#[test]
fn files_with_syntax_errors_are_left_unchanged() {
    let broken = "package p\nderived(x) :- t(x) u(x).\n";
    let file = scratch("broken", broken);
    let run = govc(&["fmt", file.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("E0001") && run.stdout.contains("left unchanged"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
}

#[test]
fn shipped_policies_are_formatted() {
    let run = govc(&["fmt", "--check", "examples", "stdlib"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_missing_path_is_a_usage_error() {
    assert_eq!(govc(&["fmt", "no/such/dir"]).code, 2);
}
