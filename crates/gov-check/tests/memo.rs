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

/// Checks `texts` one after another through one memo, each equal to a check from scratch.
fn assert_each_as_fresh(texts: &[&str]) {
    let mut memo = ItemMemo::default();
    for text in texts {
        assert_eq!(gov_check::check_with(&package(text), &mut memo), gov_check::check(&package(text)), "{text}");
    }
}

/// A body left unparsable while it is typed salvages a relation of the name before its `(`,
/// which renumbers the relations declared after it: no walk kept under the old numbering is
/// replayed under the new one, nor after the repair.
#[test]
fn a_body_broken_and_repaired_renumbers_no_kept_walk() {
    let whole = "package p\ninput q(x: Int)\nr(x) :- q(x), x > 1.\ns(x) :- r(x), q(x).\ndeny d :- s(x), x < 9.\n";
    let broken = whole.replace("r(x) :- q(x), x > 1.", "r(x) :- q(x), zz(x > 1.");
    assert_each_as_fresh(&[whole, &broken, whole, &broken, whole]);
}

/// A mismatch found while replaying a kept walk labels where the other side's type comes
/// from, in another rule: that rule moved, or edited, the label follows it.
#[test]
fn a_replayed_mismatch_labels_the_other_rule_where_it_stands() {
    let before = "package p\ninput q(x: Int, s: Str)\nr(x) :- q(x, _).\ndeny d :- r(y), q(_, y).\n";
    let after = "package p\ninput q(x: Int, s: Str)\ndeny d :- r(y), q(_, y).\nr(x) :- q(x, _).\n";
    for text in [before, after] {
        let moved = text.replace("r(x) :- q(x, _).", "r(x)  :-  q(x, _).");
        let edited = text.replace("r(x) :- q(x, _).", "r(x) :- q(_, x).");
        assert_each_as_fresh(&[text, &moved, text, &edited, &moved]);
    }
}

/// A head's arity changed in the first rule that derives a relation changes its columns:
/// the rules reading it are walked again, and report the arity where a check from scratch does.
#[test]
fn a_head_arity_edit_re_walks_its_readers() {
    let text = "package p\ninput q(x: Int)\nr(x) :- q(x).\nr(x) :- q(x), x > 2.\ndeny d :- r(y), y < 5.\n";
    let wider = text.replacen("r(x) :- q(x).", "r(x, x) :- q(x).", 1);
    assert_each_as_fresh(&[text, &wider, text, &wider]);
}
