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
use gov_syntax::edits::{apply, config, edit};
use proptest::prelude::*;

/// Real policies; the coding agent's has list and object fields, whose rewrite the rule
/// pass's per-item memo must see through, and with its tests after it (their given facts
/// are typed beside the rules' clusters), less their `package` line.
const TEXTS: [&str; 4] = [
    include_str!("../../../examples/payments/payments.gov"),
    include_str!("../../../examples/finance/finance.gov"),
    include_str!("../../../examples/coding-agent/coding_agent.gov"),
    concat!(
        include_str!("../../../examples/coding-agent/coding_agent.gov"),
        "\n//",
        include_str!("../../../examples/coding-agent/coding_agent_test.gov")
    ),
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

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn a_check_after_edits_is_a_fresh_workspaces_check(
        which in 0..TEXTS.len(),
        edits in proptest::collection::vec(edit(PIECES.len(), 30), 1..6),
    ) {
        let mut text = TEXTS[which].to_owned();
        let mut workspace = Workspace::new();
        let package = workspace.add_package(vec![("p.gov".to_owned(), text.clone())]);
        workspace.check(package).unwrap();
        for edit in &edits {
            text = apply(&text, edit, &PIECES);
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

#[test]
fn items_moved_by_an_edit_keep_their_safety_results_moved() {
    // Safety's diagnostics (an unbound variable, a variable used once) and the arithmetic
    // that invents a head's values, in items after the edit: found in the per-item memo by
    // the moved trees' origin, they must stand where a fresh check puts them.
    let text = "package p\ninput order(total: Int)\nallow a :- order(t), t > 1.\nallow b :- order(t), u > 1.\nallow c :- order(t), order(v).\nnext(y) :- order(x), y = x + 1.\n";
    let mut workspace = Workspace::new();
    let package = workspace.add_package(vec![("p.gov".to_owned(), text.to_owned())]);
    workspace.check(package).unwrap();
    let longer = text.replace("t > 1.", "t > 100.");
    let shorter = text.replace("t > 1.", "t > .");
    for text in [&longer, text, &shorter, &longer, &shorter] {
        assert_checks_as_fresh(&mut workspace, package, text);
    }
}

#[test]
fn a_rule_deriving_a_modules_relation_is_typed_again_at_every_check() {
    // The module's rules type `has_permission` first, in a solve of their own; a package
    // rule deriving it (E0109) must not have its types kept from one check to the next.
    let text = "package p\nuse std.agents\n\ninput call(agent: Str, tool: Str)\n\nhas_permission(a, t) :- call(a, t), t = \"read\".\nallow ok :- call(a, t), has_permission(a, t).\nallow other :- call(a, _), a != \"x\".\n";
    let mut workspace = Workspace::new();
    let package = workspace.add_package(vec![("p.gov".to_owned(), text.to_owned())]);
    workspace.check(package).unwrap();
    for edited in [text.replace("\"x\"", "\"xy\""), text.replace("\"read\"", "1"), text.to_owned()] {
        assert_checks_as_fresh(&mut workspace, package, &edited);
    }
}
