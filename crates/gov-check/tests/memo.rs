#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! What a check keeps for the next one (`ItemMemo`) changes how fast the next check runs,
//! never what it returns: each check through one memo equals a check from scratch.

use gov_check::{ItemMemo, Origin, PackageFile, ParsedPackage};
use gov_diag::FileId;
use std::sync::Arc;

fn package(text: &str) -> ParsedPackage {
    let files = vec![PackageFile {
        id: FileId(0),
        parsed: Arc::new(gov_syntax::parse(FileId(0), text)),
        origin: Origin::Package,
    }];
    ParsedPackage { files, available_modules: Vec::new() }
}

/// Turning a recursion's positive atom into a negated one keeps the dependency graph's
/// edges (only their kind changes), so the recursive components are reused; the negation
/// cycle is still reported (E0401), and dropped again when the edit is undone.
#[test]
fn an_edit_that_keeps_the_graph_still_reports_what_its_kinds_make_a_cycle() {
    let positive = "package p\ninput q(x: Int)\nr(x) :- q(x), s(x).\ns(x) :- q(x), r(x).\ndeny d :- r(1).\n";
    let negative = positive.replace("s(x) :- q(x), r(x).", "s(x) :- q(x), not r(x).");
    let mut memo = ItemMemo::default();
    for text in [positive, negative.as_str(), positive, negative.as_str()] {
        let checked = gov_check::check_with(&package(text), &mut memo);
        assert_eq!(checked, gov_check::check(&package(text)));
        let cycle = checked.diagnostics.iter().any(|d| d.code == gov_diag::codes::NEGATION_CYCLE);
        assert_eq!(cycle, text.contains("not r"), "{:?}", checked.diagnostics);
    }
}

/// A new rule that closes a cycle changes the graph: the components are found again.
#[test]
fn an_edit_that_changes_the_graph_finds_the_components_again() {
    let open = "package p\ninput q(x: Int)\nr(x) :- q(x).\ns(x) :- q(x), not r(x).\ndeny d :- s(1).\n";
    let closed = open.replace("r(x) :- q(x).", "r(x) :- q(x), s(x).");
    let mut memo = ItemMemo::default();
    for text in [open, closed.as_str(), open] {
        let checked = gov_check::check_with(&package(text), &mut memo);
        assert_eq!(checked, gov_check::check(&package(text)));
        let cycle = checked.diagnostics.iter().any(|d| d.code == gov_diag::codes::NEGATION_CYCLE);
        assert_eq!(cycle, text.contains("q(x), s(x)"), "{:?}", checked.diagnostics);
    }
}
