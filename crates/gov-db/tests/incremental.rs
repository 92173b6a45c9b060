//! A keystroke re-checks through the last parse (only the items around the edit are lexed,
//! split and parsed again; the others are kept or moved): whatever the edit, what the
//! check returns, every diagnostic and symbol, must be what a fresh workspace returns for
//! the same text. Random edits (characters that open or close strings, comments, brackets
//! and items, names and literals of other types, deletions across items) are applied one
//! after another to real policies in one workspace, and each check is compared with a
//! fresh workspace's.
//!
//! The case count is fixed so the test runs in seconds; raise it locally with
//! `PROPTEST_CASES=2000 cargo test -p gov-db --test incremental`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use gov_db::Workspace;
use proptest::prelude::*;
use proptest::sample::Index;

/// Real policies; the coding agent's has list and object fields, whose rewrite the rule
/// pass's per-item memo must see through.
const TEXTS: [&str; 3] = [
    include_str!("../../../examples/payments/payments.gov"),
    include_str!("../../../examples/finance/finance.gov"),
    include_str!("../../../examples/coding-agent/coding_agent.gov"),
];

/// What an edit inserts.
const PIECES: [&str; 21] = [
    "1",
    "x",
    "amt",
    "\"s\"",
    ".",
    ",",
    "(",
    ")",
    "\"",
    "//",
    "\n",
    "_",
    "not ",
    " > 2",
    "1.5",
    "agent",
    "\nallow extra :- transfer(a, b, c), b > \"x\".\n",
    "\nextra(a) :- extra(a).\n",
    "deny",
    "@overrides(x)\n",
    "[Str]",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, usize),
    Delete(Index, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<Index>(), 0..PIECES.len()).prop_map(|(at, piece)| Edit::Insert(at, piece)),
        1 => (any::<Index>(), 1usize..30).prop_map(|(at, len)| Edit::Delete(at, len)),
    ]
}

/// The char boundary at or before `at`.
fn boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut out = text.to_owned();
    match edit {
        Edit::Insert(at, piece) => out.insert_str(boundary(text, at.index(text.len() + 1)), PIECES[*piece]),
        Edit::Delete(at, len) => {
            let start = boundary(text, at.index(text.len() + 1));
            out.replace_range(start..boundary(text, start + len), "");
        }
    }
    out
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(96);
    ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases) }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_check_after_edits_is_a_fresh_workspaces_check(
        which in 0..TEXTS.len(),
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let mut text = TEXTS[which].to_owned();
        let mut workspace = Workspace::new();
        let package = workspace.add_package(vec![("p.gov".to_owned(), text.clone())]);
        workspace.check(package).unwrap();
        for edit in &edits {
            text = apply(&text, edit);
            workspace.set_text("p.gov", text.clone());
            let checked = workspace.check(package).unwrap();
            let mut fresh = Workspace::new();
            let fresh_package = fresh.add_package(vec![("p.gov".to_owned(), text.clone())]);
            prop_assert_eq!(&*checked, &*fresh.check(fresh_package).unwrap(), "after {:?}:\n{}", edit, text);
        }
    }
}

/// Checks `text` in `workspace` (as `p.gov`) and compares with a fresh workspace's check.
fn assert_checks_as_fresh(workspace: &mut Workspace, package: gov_db::PackageId, text: &str) {
    workspace.set_text("p.gov", text.to_owned());
    let checked = workspace.check(package).unwrap();
    let mut fresh = Workspace::new();
    let fresh_package = fresh.add_package(vec![("p.gov".to_owned(), text.to_owned())]);
    assert_eq!(*checked, *fresh.check(fresh_package).unwrap(), "{text}");
}

#[test]
fn a_declarations_edit_re_checks_the_rules_its_rewrite_changes() {
    // Whether `x in xs` is rewritten into an atom depends on the declared type of `args`,
    // in another item: the rule's safety must follow the declaration, not the memo.
    let list = "package p\ninput call(args: [Str])\nallow a :- call(args: xs), x in xs, x != \"rm\".\nallow b :- call(args: _), y > 1.\n";
    let mut workspace = Workspace::new();
    let package = workspace.add_package(vec![("p.gov".to_owned(), list.to_owned())]);
    workspace.check(package).unwrap();
    let named = list.replace("[Str]", "Str  ");
    assert_checks_as_fresh(&mut workspace, package, &named);
    assert_checks_as_fresh(&mut workspace, package, list);
    assert_checks_as_fresh(&mut workspace, package, &named);
}
